/// `robustness:` — what `thresher robustness` varies (defaults when absent).
public struct RobustnessSpec: Sendable, Equatable {
    /// One bumped input: its name in the file and the factor (or value) applied.
    public struct Bump: Sendable, Equatable {
        public enum Kind: String, Sendable, CaseIterable {
            case vol, dof, correlation, depth, impact, liquidationHours = "liquidation_hours", volOfVol = "vol_of_vol", breachProbability = "breach_probability"
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
    public var multipliers: [Double]
    public var bumps: [Bump]

    public init(models: [TailModel], multipliers: [Double], bumps: [Bump]) {
        self.models = models
        self.multipliers = multipliers
        self.bumps = bumps
    }

    public static let defaultMultipliers = [0.5, 0.75, 1, 1.5, 2, 3]

    /// The defaults: the scenario's model, gaussian and Student-t at ν = 3 and 6; the ladder scaled
    /// 0.5–3×; vol ×1.2, ν = 3, correlation 25 % toward 1, depth ×0.5, impact ×2, liquidation
    /// hours ×2, vol-of-vol ×1.5, breach probability ×0.5.
    public static func defaults(tails: TailModel) -> RobustnessSpec {
        var models = [tails]
        for model in [TailModel.gaussian, .studentT(dof: 3), .studentT(dof: 6)] where !models.contains(model) { models.append(model) }
        return RobustnessSpec(models: models, multipliers: defaultMultipliers, bumps: [
            .init(kind: .vol, value: 1.2), .init(kind: .dof, value: 3), .init(kind: .correlation, value: 0.25), .init(kind: .depth, value: 0.5),
            .init(kind: .impact, value: 2), .init(kind: .liquidationHours, value: 2), .init(kind: .volOfVol, value: 1.5),
            .init(kind: .breachProbability, value: 0.5),
        ])
    }
}

extension RobustnessSpec {
    /// `robustness: {models: [gaussian, {model: student-t, dof: 3}], multipliers: [0.5, 1, 2],
    /// bumps: {vol: 1.2, dof: 3, …}}`; each field left out takes its default.
    init(node: ConfigNode, path: String, scenarioTails: TailModel, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["models", "multipliers", "bumps"])
        var defaults = RobustnessSpec.defaults(tails: scenarioTails)
        defaults.models = try r.optional("models") { node, path in
            try p.nonEmptyList(node, path, of: "model").map { item, itemPath in
                if case .scalar = item { return try TailModel(node: .mapping([ConfigEntry(key: "model", value: item, line: item.line)], line: item.line), path: itemPath, p) }
                return try TailModel(node: item, path: itemPath, p)
            }
        } ?? defaults.models
        defaults.multipliers = try r.optional("multipliers") { node, path in
            try p.nonEmptyList(node, path, of: "multiplier").map { try p.within(0, 100, openLow: true)($0.0, $0.1) }
        } ?? defaults.multipliers
        defaults.bumps = try r.optional("bumps") { node, path in
            try p.mapping(node, path).map { entry in
                let entryPath = "\(path).\(entry.key)"
                guard let kind = Bump.Kind(rawValue: entry.key) else {
                    throw p.fail(entry.value, entryPath, "unknown bump '\(entry.key)'; bumps: \(Bump.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let value: Double
                switch kind {
                case .dof:
                    value = try p.number(entry.value, entryPath)
                    guard value == 0 || value > 2 else { throw p.fail(entry.value, entryPath, "a tail dof must be > 2 (or 0 for gaussian), got \(value)") }
                case .correlation: value = try p.within(0, 1, openLow: true)(entry.value, entryPath)
                default: value = try p.within(0, 100, openLow: true)(entry.value, entryPath)
                }
                return Bump(kind: kind, value: value)
            }
        } ?? defaults.bumps
        self = defaults
    }
}
