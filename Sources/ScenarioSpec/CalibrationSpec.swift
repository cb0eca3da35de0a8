/// `calibration:` — the inputs of `thresher calibrate` (see README, "Calibration model").
public struct CalibrationSpec: Sendable {
    /// p: target probability that a liquidation loses more than the maintenance margin, in (0, 1).
    public var breachProbability: Double
    /// Base time to close a position, hours (> 0).
    public var liquidationHorizonHours: Double
    /// USD market depth per asset id (> 0); required for every asset a position is held in. The
    /// file's `"*"` entry is expanded here to every asset it does not name.
    public var depth: [String: Double]
    /// Square-root impact coefficient k (≥ 0).
    public var impact: Double
    /// Position notionals of the margin ladder, USD, strictly increasing, > 0.
    public var tiers: [Double]
    /// Penalty income must cover `penaltyCoverage` × expected deficit (> 0).
    public var penaltyCoverage: Double
    /// Largest liquidation penalty rate searched, in [0, 1].
    public var penaltyMaxRate: Double
    /// Confidence of the insurance-fund VaR/ES, in (0, 1).
    public var insuranceConfidence: Double
    /// Current insurance-fund balance, USD (≥ 0), if known.
    public var insuranceBalance: Double?
    /// When the liquidation engine checks margin inside the horizon (`liquidation.monitoring`).
    public var monitoring: LiquidationMonitoring
    /// Liquidations that move the market (`liquidation.cascade`); nil: each account is liquidated as if alone.
    public var cascade: CascadeSpec?
    /// Rare-event sampling of the tail model's mixing variable (`importance_sampling`); nil: plain
    /// Monte Carlo.
    public var importanceSampling: ImportanceSampling?
}

extension CalibrationSpec {
    init(node: ConfigNode, path: String, market: Market, portfolio: Portfolio, horizonDays: Double, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["breach_probability", "liquidation", "tiers", "penalty", "insurance_fund", "importance_sampling"])
        breachProbability = try r.required("breach_probability", p.openUnitInterval)
        let liquidation = try r.required("liquidation") { node, path in
            try FieldReader(node, file: p.file, path: path, known: ["horizon_hours", "depth", "impact", "monitoring", "cascade"])
        }
        liquidationHorizonHours = try liquidation.required("horizon_hours", p.within(0, 24 * Limits.horizonDays, openLow: true, "hours"))
        impact = try liquidation.optional("impact", p.within(0, 100)) ?? 0
        monitoring = try liquidation.optional("monitoring") { try LiquidationMonitoring(node: $0, path: $1, horizonDays: horizonDays, p) } ?? .default
        cascade = try liquidation.optional("cascade") { try CascadeSpec(node: $0, path: $1, p) }
        if cascade != nil, monitoring.checksOnlyAtHorizon(horizonDays: horizonDays) {
            throw liquidation.error("cascade", "cascades need monitoring inside the horizon; monitoring '\(monitoring.name)' checks only at its end", node: liquidation.node("cascade"))
        }
        depth = try liquidation.required("depth") { node, path in
            var depth: [String: Double] = [:]
            for entry in try p.mapping(node, path) {
                let entryPath = "\(path).\(entry.key)"
                guard entry.key == "*" || market.assetIndex(entry.key) != nil else {
                    throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(market.assets.map(\.id).joined(separator: ", ")) (or * for every asset not named)")
                }
                depth[entry.key] = try p.within(1, Limits.amount, "USD")(entry.value, entryPath)
            }
            // "*": the depth of every asset not named, as the policy ladder's "*".
            if let others = depth.removeValue(forKey: "*") {
                for asset in market.assets where depth[asset.id] == nil { depth[asset.id] = others }
            }
            return depth
        }
        let depthPath = liquidation.childPath("depth")
        for account in portfolio.accounts {
            for position in account.positions where depth[position.asset] == nil {
                throw ScenarioError(file: p.file, path: "\(depthPath).\(position.asset)", line: liquidation.node("depth")?.line,
                                    message: "missing market depth for '\(position.asset)', held by account '\(account.id)'")
            }
        }
        tiers = try r.required("tiers") { node, path in
            let items = try p.nonEmptyList(node, path, of: "tier notional")
            var tiers: [Double] = []
            for (item, itemPath) in items {
                let value = try p.within(0, Limits.amount, openLow: true, "USD")(item, itemPath)
                if let last = tiers.last, value <= last {
                    throw p.fail(item, itemPath, "tiers must be strictly increasing: \(value) follows \(last)")
                }
                tiers.append(value)
            }
            return tiers
        }
        let penalty = try r.optional("penalty") { node, path in
            try FieldReader(node, file: p.file, path: path, known: ["coverage", "max_rate"])
        }
        penaltyCoverage = try penalty?.optional("coverage", p.within(0, 1000, openLow: true)) ?? 1
        penaltyMaxRate = try penalty?.optional("max_rate") { node, path in
            let value = try p.number(node, path)
            guard value >= 0, value <= 1 else { throw p.fail(node, path, "must be in [0, 1], got \(value)") }
            return value
        } ?? 0.05
        let fund = try r.optional("insurance_fund") { node, path in
            try FieldReader(node, file: p.file, path: path, known: ["confidence", "balance"])
        }
        insuranceConfidence = try fund?.optional("confidence", p.openUnitInterval) ?? 0.999
        insuranceBalance = try fund?.optional("balance", p.within(0, Limits.amount, "USD"))
        importanceSampling = try r.optional("importance_sampling") { try ImportanceSampling(node: $0, path: $1, p) }
        if importanceSampling != nil {
            guard market.tails.dof != nil else {
                throw r.error("importance_sampling", "importance sampling widens the mixing variable of the student-t and t-copula tail models; tails '\(market.tails.name)' have none",
                              node: r.node("importance_sampling"))
            }
            guard cascade == nil else {
                throw r.error("importance_sampling", "importance sampling does not yet weight cascades (liquidation.cascade); remove one of the two",
                              node: r.node("importance_sampling"))
            }
        }
    }
}
