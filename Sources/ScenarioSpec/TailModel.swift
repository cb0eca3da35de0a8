import Foundation

/// `market.tails` — the joint distribution of the standardized shocks ε (unit variance), with every
/// fact about a model in this one file: its spelling in the file and in reports, its parsing, its
/// ν, how a robustness bump of ν applies, whether its ε depends on the vols, whether the moments of
/// S' exist, and its `market:` section. Its sampler is one file in `Shocks` and one line of
/// `makeShockDistribution`; nothing else switches on the model.
public enum TailModel: Sendable, Equatable {
    /// ε = L z.
    case gaussian
    /// ε = √((ν−2)/ν) · L z / √(W/ν), one W ~ χ²(ν) per path.
    case studentT(dof: Double)
    /// Student-t copula with dof ν_c; marginals from each asset's `dof` (t) or normal.
    case tCopula(dof: Double)
    /// Filtered historical simulation: bootstrapped days of GARCH-filtered residuals.
    case filteredHistorical(FilteredHistory)

    /// The models' names as the scenario file spells them (`model:`).
    public static let names = ["gaussian", "student-t", "t-copula", "filtered-historical"]

    /// The name in the file, JSON reports and `validate`.
    public var name: String {
        switch self {
        case .gaussian: return "gaussian"
        case .studentT: return "student-t"
        case .tCopula: return "t-copula"
        case .filteredHistorical: return "filtered-historical"
        }
    }

    /// The model with its parameter, as the robustness matrix names it ("student-t ν=4").
    public var shortLabel: String {
        switch self {
        case .gaussian: return "gaussian"
        case .studentT(let dof): return "student-t ν=\(dof)"
        case .tCopula(let dof): return "t-copula ν=\(dof)"
        case .filteredHistorical: return "filtered historical"
        }
    }

    /// A sentence for reports' context lines ("student-t shocks (ν = 4.0)").
    /// - Parameter historyDays: the days a filtered-historical model bootstraps, once fitted.
    public func description(historyDays: Int?) -> String {
        switch self {
        case .gaussian: return "gaussian shocks"
        case .studentT(let dof): return "student-t shocks (ν = \(dof))"
        case .tCopula(let dof): return "t-copula (ν = \(dof))"
        case .filteredHistorical(let h):
            let days = historyDays.map { "\($0) days of " } ?? ""
            return "filtered historical simulation (\(days)GARCH-t residuals from \((h.file as NSString).lastPathComponent))"
        }
    }

    /// The model's ν (the copula's ν_c), if it has one.
    public var dof: Double? {
        switch self {
        case .studentT(let dof), .tCopula(let dof): return dof
        case .gaussian, .filteredHistorical: return nil
        }
    }

    /// The model under a robustness bump of the tails to ν = `dof` (0: gaussian): a copula keeps its
    /// marginals; the other models become Student-t.
    public func bumped(dof: Double) -> TailModel {
        if dof == 0 { return .gaussian }
        if case .tCopula = self { return .tCopula(dof: dof) }
        return .studentT(dof: dof)
    }

    /// Whether ε depends on the assets' vols (filtered historical: ε = R/(σ√h) divides by them), so
    /// that markets differing only in vols do not share standardized draws.
    public var shocksDependOnVols: Bool {
        if case .filteredHistorical = self { return true }
        return false
    }

    /// Whether the mean and variance of S' = S·e^{σ√h·ε} exist (without a cap): gaussian shocks,
    /// t-copula assets without their own dof (normal marginals), finitely many historical days.
    public func momentsExist(assetDofs: [Double?]) -> Bool {
        switch self {
        case .gaussian, .filteredHistorical: return true
        case .studentT: return false
        case .tCopula: return assetDofs.allSatisfy { $0 == nil }
        }
    }

    /// The `tails:` line of a `market:` section (`MarketWriter`).
    var yaml: String {
        switch self {
        case .gaussian: return "{model: gaussian}"
        case .studentT(let dof): return "{model: student-t, dof: \(dof)}"
        case .tCopula(let dof): return "{model: t-copula, dof: \(dof)}"
        case .filteredHistorical(let history):
            let columns = zip(history.assets, history.columns).map { "\($0): '\($1)'" }.joined(separator: ", ")
            return "{model: filtered-historical, history: '\(history.file)', columns: {\(columns)}}"
        }
    }

    /// Parses `market.tails`.
    /// - Parameter assets: the market's asset ids (the history columns of `filtered-historical`).
    init(node: ConfigNode, path: String, assets: [String] = [], _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["model", "dof", "cap", "history", "columns"])
        let model = try r.required("model") { try p.oneOf($0, $1, Self.names) }
        let dof = try r.optional("dof", p.degreesOfFreedom)
        if model != "filtered-historical" {
            for field in ["history", "columns"] where r.node(field) != nil { throw r.error(field, "only the filtered-historical model reads a history") }
        }
        switch model {
        case "filtered-historical":
            if dof != nil { throw r.error("dof", "filtered-historical takes no dof (the GARCH-t fits set the tails)") }
            let file = try r.required("history") { node, path in CSVBook.resolve(try p.text(node, path), p.file) }
            let named = try r.optional("columns") { node, path -> [String: String] in
                try Dictionary(p.mapping(node, path).map { ($0.key, try p.text($0.value, path + "." + $0.key)) }, uniquingKeysWith: { a, _ in a })
            } ?? [:]
            for key in named.keys where !assets.contains(key) { throw r.error("columns", "'\(key)' is not an asset of the market") }
            self = .filteredHistorical(try FilteredHistory(file: file, columns: assets.map { named[$0] ?? $0 }, assets: assets,
                                                           path: r.childPath("history"), scenarioFile: p.file))
        case "gaussian":
            if dof != nil { throw r.error("dof", "the gaussian model takes no dof") }
            self = .gaussian
        case "student-t":
            guard let dof else { throw r.error("dof", "missing required field 'dof' (> 2) for model student-t") }
            self = .studentT(dof: dof)
        default:
            guard let dof else { throw r.error("dof", "missing required field 'dof' (> 2, the copula's dof) for model t-copula") }
            self = .tCopula(dof: dof)
        }
    }
}
