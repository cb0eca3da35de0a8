/// `policy.portfolio_margin` — a risk array, as options venues margin a portfolio (Deribit, Paradex,
/// OKX; README, "Portfolio margin"). Per underlying asset, each account's positions on it (and its
/// coins of it) are revalued in full on a grid of spot moves × implied-vol shifts and on extended
/// scenarios; the initial requirement is the worst loss, at least the minimum charges, and
/// maintenance a fraction of it:
///
///     portfolio_margin:
///       spot_range: {BTC: 0.12, "*": 0.16}   # ±range of the grid per asset (or one number)
///       spot_steps: 9                        # odd: −range … +range, 0 included
///       vol_shift: {up: 0.3, down: 0.2}      # relative implied-vol shifts (iv·(1 ± shift))
///       dte_power: 0.3                       # shifts × (30/DTE)^power per option (0: flat)
///       extended: [{spot: -0.66, weight: 0.24}, {spot: 0.5, vol: up, weight: 0.24}]
///       minimum: {net_delta: 0.02, short_option: 0.001}
///       maintenance_fraction: 0.5
public struct PortfolioMarginSpec: Sendable, Equatable {
    /// The grid's half-range per asset index, a fraction of spot (> 0; nil for assets not margined).
    public var spotRange: [Double?]
    /// Grid points from −range to +range, odd (so 0 is one).
    public var spotSteps: Int
    /// Relative implied-vol shifts of the grid's "up" and "down" rows (iv·(1 + up), iv·(1 − down)).
    public var volUp: Double
    public var volDown: Double
    /// Each option's vol shifts are scaled by (30/DTE)^power (DTE its days to expiry, at least 1).
    public var dtePower: Double
    public var extended: [ExtendedScenario]
    /// Minimum charges: a fraction of the absolute net delta's notional, and of each short option's notional.
    public var netDeltaCharge: Double
    public var shortOptionCharge: Double
    /// Maintenance = this fraction of the initial requirement, in (0, 1].
    public var maintenanceFraction: Double

    /// A move beyond the grid, counted at `weight` × its loss (a dampener).
    public struct ExtendedScenario: Sendable, Equatable {
        public var spotMove: Double
        /// Which vol row it takes: +1 up, 0 flat, −1 down.
        public var vol: Int
        public var weight: Double

        public init(spotMove: Double, vol: Int, weight: Double) {
            self.spotMove = spotMove
            self.vol = vol
            self.weight = weight
        }
    }

    public init(spotRange: [Double?], spotSteps: Int = 9, volUp: Double = 0, volDown: Double = 0, dtePower: Double = 0,
                extended: [ExtendedScenario] = [], netDeltaCharge: Double = 0, shortOptionCharge: Double = 0, maintenanceFraction: Double = 1) {
        self.spotRange = spotRange
        self.spotSteps = spotSteps
        self.volUp = volUp
        self.volDown = volDown
        self.dtePower = dtePower
        self.extended = extended
        self.netDeltaCharge = netDeltaCharge
        self.shortOptionCharge = shortOptionCharge
        self.maintenanceFraction = maintenanceFraction
    }

    static let keys = ["spot_range", "spot_steps", "vol_shift", "dte_power", "extended", "minimum", "maintenance_fraction"]

    /// The array with every spot range × `spotRange` (capped just below ±100 %, 1 − 10⁻⁹) and both
    /// vol shifts × `volShift` (the down shift capped just below 1, so iv·(1 − shift) stays > 0): a
    /// `robustness` bump (`robustness.portfolio_margin`).
    public func bumped(spotRange: Double, volShift: Double) -> PortfolioMarginSpec {
        var bumped = self
        bumped.spotRange = self.spotRange.map { $0.map { min($0 * spotRange, 1 - 1e-9) } }
        bumped.volUp = volUp * volShift
        bumped.volDown = min(volDown * volShift, 1 - 1e-9)
        return bumped
    }
}

extension PortfolioMarginSpec {
    /// Parses `policy.portfolio_margin` at `path`.
    /// - Throws: `ScenarioError` naming the field: an unknown key or asset, a range outside (0, 1), an
    ///   even or too small step count, a negative shift or charge, a vol shift ≥ 1 down, an extended
    ///   move ≤ −100 %, a weight outside (0, 1], a fraction outside (0, 1], and an asset held by an
    ///   account without a range.
    init(node: ConfigNode, path: String, market: Market, portfolio: Portfolio, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: Self.keys)
        let rangeOf: [String: Double] = try r.required("spot_range") { node, path in
            if case .scalar = node { return ["*": try Self.range(node, path, p)] }
            var ranges: [String: Double] = [:]
            for entry in try p.mapping(node, path) {
                let entryPath = "\(path).\(entry.key)"
                guard entry.key == "*" || market.assetIndex(entry.key) != nil else {
                    throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(market.assets.map(\.id).joined(separator: ", ")) (or * for every asset not named)")
                }
                ranges[entry.key] = try Self.range(entry.value, entryPath, p)
            }
            return ranges
        }
        spotRange = market.assets.map { rangeOf[$0.id] ?? rangeOf["*"] }
        for account in portfolio.accounts {
            for position in account.positions where spotRange[market.assetIndex(position.asset)!] == nil {
                throw ScenarioError(file: p.file, path: "\(r.childPath("spot_range")).\(position.asset)", line: r.node("spot_range")?.line,
                                    message: "no spot range for '\(position.asset)', held by account '\(account.id)' (add one, or a '*' range for every asset)")
            }
        }
        spotSteps = try r.optional("spot_steps") { node, path in
            let steps = try p.integer(node, path)
            guard steps >= 3, steps <= 101, steps % 2 == 1 else { throw p.fail(node, path, "must be odd, in [3, 101] (so that the grid holds 0), got \(steps)") }
            return steps
        } ?? 9
        (volUp, volDown) = try r.optional("vol_shift") { node, path in
            let shifts = try FieldReader(node, file: p.file, path: path, known: ["up", "down"])
            let up = try shifts.optional("up", p.within(0, 10)) ?? 0
            let down = try shifts.optional("down") { node, path in
                let value = try p.nonNegative(node, path)
                guard value < 1 else { throw p.fail(node, path, "a downward vol shift must be below 1 (iv·(1 − shift) > 0), got \(value)") }
                return value
            } ?? 0
            return (up, down)
        } ?? (0, 0)
        dtePower = try r.optional("dte_power", p.within(0, 2)) ?? 0
        extended = try r.optional("extended") { node, path in
            try p.nonEmptyList(node, path, of: "extended scenario").map { item, itemPath in
                let e = try FieldReader(item, file: p.file, path: itemPath, known: ["spot", "vol", "weight"])
                let move = try e.required("spot") { node, path in
                    let value = try p.number(node, path)
                    guard value > -1, value <= 100 else { throw p.fail(node, path, "a spot move must be in (−1, 100] (−100 % … +10,000 %), got \(value)") }
                    return value
                }
                let vol = try e.optional("vol") { node, path -> Int in
                    switch try p.text(node, path) {
                    case "up": return 1
                    case "flat": return 0
                    case "down": return -1
                    case let other: throw p.fail(node, path, "unknown vol row '\(other)'; one of up, flat, down")
                    }
                } ?? 1
                let weight = try e.optional("weight", p.within(0, 1, openLow: true)) ?? 1
                return ExtendedScenario(spotMove: move, vol: vol, weight: weight)
            }
        } ?? []
        let minimum = try r.optional("minimum") { node, path in try FieldReader(node, file: p.file, path: path, known: ["net_delta", "short_option"]) }
        netDeltaCharge = try minimum?.optional("net_delta", p.within(0, 1)) ?? 0
        shortOptionCharge = try minimum?.optional("short_option", p.within(0, 1)) ?? 0
        maintenanceFraction = try r.optional("maintenance_fraction", p.within(0, 1, openLow: true)) ?? 1
    }

    static func range(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> Double {
        let value = try p.number(node, path)
        guard value > 0, value < 1 else { throw p.fail(node, path, "a spot range is a fraction of spot in (0, 1) (0.16 for ±16 %), got \(value)") }
        return value
    }
}
