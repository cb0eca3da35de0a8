/// `robustness:` — what `thresher robustness` varies (defaults when absent).
public struct RobustnessSpec: Sendable, Equatable {
    /// One bumped input: its name in the file and the factor (or value) applied.
    public struct Bump: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case vol, dof, correlation, depth, impact, liquidationHours = "liquidation_hours", volOfVol = "vol_of_vol", breachProbability = "breach_probability"
            /// The cascade's depth curve stretched along the drawdown axis: each point's drawdown × the
            /// value (×0.5: the book thins at half the fall). Applies only under `liquidation.cascade`.
            case depthCurve = "depth_curve"
        }
        public let kind: Kind
        /// A multiplier, except `dof` (the new ν; 0 = gaussian) and `correlation` (the fraction of
        /// the way from each ρ to 1).
        public let value: Double
        public init(kind: Kind, value: Double) {
            self.kind = kind
            self.value = value
        }
    }

    public var models: [TailModel]
    /// The monitorings of the model matrix (`robustness.monitoring`): with any, the matrix's models
    /// are every tail model under every monitoring (tails outer), so a ladder and fund sized under
    /// `horizon` are evaluated under `continuous`; empty: the scenario's monitoring alone.
    public var monitoring: [LiquidationMonitoring]
    /// The cascade models of the matrix (`robustness.cascade`; nil: accounts liquidated as if alone):
    /// with any, every model above is taken under each (innermost), so a ladder and fund sized without
    /// cascades are evaluated with them; empty: the scenario's own.
    public var cascades: [CascadeSpec?] = []
    public var multipliers: [Double]
    public var bumps: [Bump]
    /// Under `policy.portfolio_margin` (`robustness.portfolio_margin`): the multipliers of the array's
    /// spot ranges and of its vol shifts, each a bumped array evaluated beside the given one.
    public var arraySpotRange: [Double]
    public var arrayVolShift: [Double]

    public init(models: [TailModel], monitoring: [LiquidationMonitoring] = [], multipliers: [Double], bumps: [Bump],
                arraySpotRange: [Double] = RobustnessSpec.defaultArrayMultipliers, arrayVolShift: [Double] = RobustnessSpec.defaultArrayMultipliers) {
        self.models = models
        self.monitoring = monitoring
        self.multipliers = multipliers
        self.bumps = bumps
        self.arraySpotRange = arraySpotRange
        self.arrayVolShift = arrayVolShift
    }

    /// The risk array's bumps by default: ×0.8 and ×1.2 of its spot ranges and of its vol shifts.
    public static let defaultArrayMultipliers = [0.8, 1.2]

    public static let defaultMultipliers = [0.5, 0.75, 1, 1.5, 2, 3]

    /// The defaults: the scenario's model, gaussian and Student-t at ν = 3 and 6; the ladder scaled
    /// 0.5–3×; vol ×0.8 and ×1.2, tail dof ν = 3 and gaussian, correlation 25 % toward 1, depth,
    /// impact and liquidation hours ×0.5 and ×2, vol-of-vol ×1.5, breach probability ×0.5 and ×2, and
    /// under cascades the depth curve ×0.5 and ×2.
    /// Multipliers on both sides of 1 give central elasticities at the base (`RobustnessResult`).
    public static func defaults(tails: TailModel) -> RobustnessSpec {
        var models = [tails]
        for model in [TailModel.gaussian, .studentT(dof: 3), .studentT(dof: 6)] where !models.contains(model) { models.append(model) }
        return RobustnessSpec(models: models, multipliers: defaultMultipliers, bumps: [
            .init(kind: .vol, value: 0.8), .init(kind: .vol, value: 1.2), .init(kind: .dof, value: 3), .init(kind: .dof, value: 0),
            .init(kind: .correlation, value: 0.25), .init(kind: .depth, value: 0.5), .init(kind: .depth, value: 2),
            .init(kind: .impact, value: 0.5), .init(kind: .impact, value: 2), .init(kind: .liquidationHours, value: 0.5),
            .init(kind: .liquidationHours, value: 2), .init(kind: .volOfVol, value: 1.5), .init(kind: .breachProbability, value: 0.5),
            .init(kind: .breachProbability, value: 2), .init(kind: .depthCurve, value: 0.5), .init(kind: .depthCurve, value: 2),
        ])
    }
}

extension RobustnessSpec {
    /// `robustness: {models: [gaussian, {model: student-t, dof: 3}], monitoring: [horizon, continuous], cascade: [off, on],
    /// multipliers: [0.5, 1, 2], bumps: {vol: [0.8, 1.2], dof: [3, 0], …}}`; each field left out takes its default, each bump
    /// one value or a list of distinct values.
    /// - Parameter assets: the market's asset ids (for a `filtered-historical` model's history columns).
    /// - Parameter horizonDays: the simulation horizon (bounds a monitoring's check step).
    init(node: ConfigNode, path: String, scenarioTails: TailModel, assets: [String], horizonDays: Double, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["models", "monitoring", "cascade", "multipliers", "bumps", "portfolio_margin"])
        var defaults = RobustnessSpec.defaults(tails: scenarioTails)
        defaults.models = try r.optional("models") { node, path in
            try p.nonEmptyList(node, path, of: "model").map { item, itemPath in
                if case .scalar = item { return try TailModel(node: .mapping([ConfigEntry(key: "model", value: item, line: item.line)], line: item.line), path: itemPath, assets: assets, p) }
                return try TailModel(node: item, path: itemPath, assets: assets, p)
            }
        } ?? defaults.models
        defaults.monitoring = try r.optional("monitoring") { node, path in
            var list: [LiquidationMonitoring] = []
            for (item, itemPath) in try p.nonEmptyList(node, path, of: "monitoring") {
                let monitoring = try LiquidationMonitoring(node: item, path: itemPath, horizonDays: horizonDays, p)
                guard !list.contains(monitoring) else { throw p.fail(item, itemPath, "this monitoring is listed twice") }
                list.append(monitoring)
            }
            return list
        } ?? []
        defaults.cascades = try r.optional("cascade") { node, path in
            var list: [CascadeSpec?] = []
            for (item, itemPath) in try p.nonEmptyList(node, path, of: "cascade model") {
                let cascade: CascadeSpec? = try {
                    if case .scalar = item, try p.text(item, itemPath) == "off" { return nil }
                    return try CascadeSpec(node: item, path: itemPath, p)
                }()
                guard !list.contains(cascade) else { throw p.fail(item, itemPath, "this cascade model is listed twice") }
                list.append(cascade)
            }
            return list
        } ?? []
        defaults.multipliers = try r.optional("multipliers") { node, path in
            try p.nonEmptyList(node, path, of: "multiplier").map { try p.within(0, 100, openLow: true)($0.0, $0.1) }
        } ?? defaults.multipliers
        defaults.bumps = try r.optional("bumps") { node, path in
            try p.mapping(node, path).flatMap { entry -> [Bump] in
                let entryPath = "\(path).\(entry.key)"
                guard let kind = Bump.Kind(rawValue: entry.key) else {
                    throw p.fail(entry.value, entryPath, "unknown bump '\(entry.key)'; bumps: \(Bump.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                // One value, or a list of them (e.g. both sides of a multiplier: [0.8, 1.2]).
                let items: [(ConfigNode, String)]
                if case .sequence = entry.value { items = try p.nonEmptyList(entry.value, entryPath, of: "value") } else { items = [(entry.value, entryPath)] }
                var values: [Double] = []
                for (item, itemPath) in items {
                    let value: Double
                    switch kind {
                    case .dof:
                        value = try p.number(item, itemPath)
                        guard value == 0 || value > 2 else { throw p.fail(item, itemPath, "a tail dof must be > 2 (or 0 for gaussian), got \(value)") }
                    case .correlation: value = try p.within(0, 1, openLow: true)(item, itemPath)
                    default: value = try p.within(0, 100, openLow: true)(item, itemPath)
                    }
                    guard !values.contains(value) else { throw p.fail(item, itemPath, "\(entry.key) \(value) is listed twice") }
                    values.append(value)
                }
                return values.map { Bump(kind: kind, value: $0) }
            }
        } ?? defaults.bumps
        if let array = try r.optional("portfolio_margin", { node, path in try FieldReader(node, file: p.file, path: path, known: ["spot_range", "vol_shift"]) }) {
            // One multiplier in (0, 100], or a list of distinct ones.
            func multipliers(_ key: String) throws -> [Double]? {
                try array.optional(key) { node, path in
                    let items: [(ConfigNode, String)]
                    if case .sequence = node { items = try p.nonEmptyList(node, path, of: "multiplier") } else { items = [(node, path)] }
                    var values: [Double] = []
                    for (item, itemPath) in items {
                        let value = try p.within(0, 100, openLow: true)(item, itemPath)
                        guard !values.contains(value) else { throw p.fail(item, itemPath, "\(key) ×\(value) is listed twice") }
                        values.append(value)
                    }
                    return values
                }
            }
            defaults.arraySpotRange = try multipliers("spot_range") ?? defaults.arraySpotRange
            defaults.arrayVolShift = try multipliers("vol_shift") ?? defaults.arrayVolShift
        }
        self = defaults
    }
}
