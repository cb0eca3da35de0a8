/// `policy:` — the margin policy a venue runs today: per asset a ladder of tiers with maintenance
/// (and optionally initial) margin rates, the liquidation penalty rate and the insurance-fund
/// balance. `stress` uses it to say who is liquidated; `calibrate --policy-out` writes one.
public struct MarginPolicy: Sendable {
    public var schedule: MarginSchedule
    /// Liquidation penalty rate π, a fraction of the liquidated notional, if given.
    public var liquidationPenalty: Double?
    /// Insurance-fund balance, USD, if given.
    public var insuranceFund: Double?
    /// The risk array of a portfolio-margined venue (`portfolio_margin`), if given.
    public var portfolioMargin: PortfolioMarginSpec?

    public init(schedule: MarginSchedule, liquidationPenalty: Double? = nil, insuranceFund: Double? = nil, portfolioMargin: PortfolioMarginSpec? = nil) {
        self.schedule = schedule
        self.liquidationPenalty = liquidationPenalty
        self.insuranceFund = insuranceFund
        self.portfolioMargin = portfolioMargin
    }
}

/// One tier of an asset's ladder: positions of notional up to `upTo` USD pay these rates.
public struct MarginTier: Sendable, Equatable {
    /// Upper bound of the tier's position notional, USD.
    public var upTo: Double
    /// Maintenance-margin rates of a long and a short position, fractions of notional.
    public var maintenanceLong: Double
    public var maintenanceShort: Double
    /// Initial-margin rate (≥ both maintenance rates), if given.
    public var initial: Double?

    public init(upTo: Double, maintenanceLong: Double, maintenanceShort: Double, initial: Double? = nil) {
        self.upTo = upTo
        self.maintenanceLong = maintenanceLong
        self.maintenanceShort = maintenanceShort
        self.initial = initial
    }

    public func maintenance(_ side: Side) -> Double { side == .long ? maintenanceLong : maintenanceShort }
    /// The largest leverage the tier allows, 1 / initial rate.
    public var maxLeverage: Double? { initial.map { 1 / $0 } }
}

/// Margin rates by asset and position notional. A position of notional x pays the rates of the
/// first tier with upTo ≥ x, or of the last tier when x exceeds them all (the convention of the
/// calibrated ladder too).
public struct MarginSchedule: Sendable {
    /// tiers[asset index], in market order; empty for an asset without a ladder.
    public let tiers: [[MarginTier]]

    public init(tiers: [[MarginTier]]) { self.tiers = tiers }

    /// The tier of a position of notional `notional` in asset `asset`.
    public func tier(asset: Int, notional: Double) -> MarginTier {
        let ladder = tiers[asset]
        return ladder.first { $0.upTo >= notional } ?? ladder[ladder.count - 1]
    }

    /// Σ notional(S')·rate over an account's positions: the maintenance requirement (USD) and the
    /// initial requirement (nil if a tier involved has no initial rate) at the spots `spot(asset)`.
    public func requirement(of positions: [Position], market: Market, spot: (Int) -> Double) -> (maintenance: Double, initial: Double?) {
        var maintenance = 0.0
        var initial: Double? = 0
        for position in positions {
            let i = market.assetIndex(position.asset)!
            let exposure = position.instrument.margin
            let notional = exposure.notional(spot: spot(i))
            let tier = tier(asset: i, notional: notional)
            maintenance += notional * tier.maintenance(exposure.side)
            initial = tier.initial.flatMap { rate in initial.map { $0 + notional * rate } }
        }
        return (maintenance, initial)
    }
}

extension MarginPolicy {
    init(node: ConfigNode, path: String, market: Market, portfolio: Portfolio, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["ladder", "liquidation_penalty", "insurance_fund", "portfolio_margin"])
        let ladderPath = r.childPath("ladder")
        let ladders: [String: [MarginTier]] = try r.required("ladder") { node, path in
            var ladders: [String: [MarginTier]] = [:]
            for entry in try p.mapping(node, path) {
                let entryPath = "\(path).\(entry.key)"
                if entry.key != "*", market.assetIndex(entry.key) == nil {
                    throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(market.assets.map(\.id).joined(separator: ", ")) (or * for every asset not named)")
                }
                ladders[entry.key] = try Self.ladder(entry.value, entryPath, p)
            }
            return ladders
        }
        for account in portfolio.accounts {
            for position in account.positions where ladders[position.asset] == nil && ladders["*"] == nil {
                throw ScenarioError(file: p.file, path: "\(ladderPath).\(position.asset)", line: r.node("ladder")?.line,
                                    message: "no margin ladder for '\(position.asset)', held by account '\(account.id)' (add one, or a '*' ladder for every asset)")
            }
        }
        schedule = MarginSchedule(tiers: market.assets.map { ladders[$0.id] ?? ladders["*"] ?? [] })
        liquidationPenalty = try r.optional("liquidation_penalty") { node, path in
            let value = try p.nonNegative(node, path)
            guard value <= 1 else { throw p.fail(node, path, "a penalty rate must be in [0, 1], got \(value)") }
            if value > Self.plausiblePenalty {
                p.warn(node, path, "a penalty of \(shortNumber(value * 100)) % of the liquidated notional; rates are fractions (0.01 for 1 %); above \(shortNumber(Self.plausiblePenalty * 100)) % is almost surely a mistake")
            }
            return value
        }
        insuranceFund = try r.optional("insurance_fund", p.within(0, Limits.amount, "USD"))
        portfolioMargin = try r.optional("portfolio_margin") { try PortfolioMarginSpec(node: $0, path: $1, market: market, portfolio: portfolio, p) }
    }

    /// Liquidation penalty rates above this (20 %) warn: almost surely a percentage written for a fraction.
    static let plausiblePenalty = 0.2

    /// A list of tiers `{up_to, maintenance: rate | {long, short}, initial}` with increasing `up_to`;
    /// a tier whose rates are below the smaller tier's before it warns.
    static func ladder(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> [MarginTier] {
        var tiers: [MarginTier] = []
        for (item, itemPath) in try p.nonEmptyList(node, path, of: "tier") {
            let r = try FieldReader(item, file: p.file, path: itemPath, known: ["up_to", "maintenance", "initial"])
            let upTo = try r.required("up_to", p.within(0, Limits.amount, openLow: true, "USD"))
            if let last = tiers.last, upTo <= last.upTo {
                throw r.error("up_to", "tiers must have strictly increasing up_to: \(upTo) follows \(last.upTo)")
            }
            func rate(_ node: ConfigNode, _ path: String) throws -> Double {
                let value = try p.nonNegative(node, path)
                guard value <= 1 else { throw p.fail(node, path, "a margin rate is a fraction of notional in [0, 1], got \(value)") }
                return value
            }
            let (long, short): (Double, Double) = try r.required("maintenance") { node, path in
                if case .mapping = node {
                    let sides = try FieldReader(node, file: p.file, path: path, known: ["long", "short"])
                    return (try sides.required("long", rate), try sides.required("short", rate))
                }
                let value = try rate(node, path)
                return (value, value)
            }
            let initial = try r.optional("initial", rate)
            if let initial, initial < max(long, short) {
                throw r.error("initial", "the initial rate \(initial) is below the maintenance rate \(max(long, short)); initial ≥ maintenance")
            }
            if let initial, initial == 0 { throw r.error("initial", "an initial rate of 0 allows infinite leverage; give a rate > 0") }
            if let last = tiers.last, long < last.maintenanceLong || short < last.maintenanceShort, let node = r.node("maintenance") {
                p.warn(node, r.childPath("maintenance"), "this tier (up to \(String(format: "%.0f", upTo)) USD) has a lower maintenance rate (long \(long), short \(short)) than the smaller tier before it (long \(last.maintenanceLong), short \(last.maintenanceShort)): a larger position almost surely pays a higher rate; check the order of the rates")
            }
            if let last = tiers.last, let initial, let previous = last.initial, initial < previous, let node = r.node("initial") {
                p.warn(node, r.childPath("initial"), "this tier (up to \(String(format: "%.0f", upTo)) USD) has a lower initial rate (\(initial)) than the smaller tier before it (\(previous)): a larger position almost surely allows less leverage")
            }
            tiers.append(MarginTier(upTo: upTo, maintenanceLong: long, maintenanceShort: short, initial: initial))
        }
        return tiers
    }
}
