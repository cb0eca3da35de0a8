extension MarginPolicy {
    /// The policy as a scenario `policy:` section (YAML) in the form `PolicySpec` reads back: the
    /// ladder of every asset that has one (`assets[i]` names `schedule.tiers[i]`), each tier's
    /// maintenance long/short (and initial, where given), the penalty rate and the fund, where given.
    /// Numbers are written with Swift's shortest round-trip form, so loading the section gives back
    /// the same doubles.
    /// - Parameters:
    ///   - comment: a first line `# comment`, or nil for none.
    ///   - notes: comments at the end of the lines they describe (e.g. each value's interval).
    public func yaml(assets: [String], comment: String?, notes: PolicyNotes = PolicyNotes()) -> String {
        var lines = (comment.map { ["# \($0)"] } ?? []) + ["policy:", "  ladder:"]
        func noted(_ line: String, _ note: String?) -> String { note.map { "\(line)  # \($0)" } ?? line }
        for (i, (asset, tiers)) in zip(assets, schedule.tiers).enumerated() where !tiers.isEmpty {
            lines.append("    \(asset):")
            for (t, tier) in tiers.enumerated() {
                let initial = tier.initial.map { ", initial: \($0)" } ?? ""
                lines.append(noted("      - {up_to: \(tier.upTo), maintenance: {long: \(tier.maintenanceLong), short: \(tier.maintenanceShort)}\(initial)}",
                                   notes.tiers[i]?[t]))
            }
        }
        if let liquidationPenalty { lines.append(noted("  liquidation_penalty: \(liquidationPenalty)", notes.liquidationPenalty)) }
        if let insuranceFund { lines.append(noted("  insurance_fund: \(insuranceFund)", notes.insuranceFund)) }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Comments that `MarginPolicy.yaml` writes at the end of the lines they describe.
public struct PolicyNotes: Sendable {
    /// By asset index, then tier index.
    public var tiers: [Int: [Int: String]]
    public var liquidationPenalty: String?
    public var insuranceFund: String?

    public init(tiers: [Int: [Int: String]] = [:], liquidationPenalty: String? = nil, insuranceFund: String? = nil) {
        self.tiers = tiers
        self.liquidationPenalty = liquidationPenalty
        self.insuranceFund = insuranceFund
    }
}
