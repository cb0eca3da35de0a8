import Foundation

/// Writes a `market:` section in the form the scenario loader reads back (`thresher fit --out`).
public enum MarketWriter {
    /// One asset of the section: spot (USD), annual vol, and the marginal ν of a t-copula (nil: none).
    public struct Asset {
        public let id: String
        public let spot: Double
        public let vol: Double
        public let dof: Double?
        public init(id: String, spot: Double, vol: Double, dof: Double?) {
            self.id = id
            self.spot = spot
            self.vol = vol
            self.dof = dof
        }
    }

    /// The section: the assets (numbers in Swift's shortest round-trip form), the correlation matrix
    /// (entries to 6 decimals, with `repair: nearest`, since rounding may cost definiteness by a hair;
    /// omitted for one asset) and the tail model (gaussian, student-t or t-copula).
    /// - Parameter comment: a first line `# comment`, or nil for none.
    public static func yaml(comment: String?, assets: [Asset], correlation: [[Double]], tails: TailModel) -> String {
        var lines = (comment.map { ["# \($0)"] } ?? []) + ["market:", "  assets:"]
        for asset in assets {
            lines.append("    - {id: \(asset.id), spot: \(asset.spot), vol: \(asset.vol)\(asset.dof.map { ", dof: \($0)" } ?? "")}")
        }
        if assets.count > 1 {
            let rows = correlation.map { "[" + $0.map { String(format: "%.6f", $0) }.joined(separator: ", ") + "]" }
            lines.append("  correlation: {matrix: [" + rows.joined(separator: ", ") + "], repair: nearest}")
        }
        lines.append("  tails: \(tails.yaml)")
        return lines.joined(separator: "\n") + "\n"
    }
}
