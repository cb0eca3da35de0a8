/// `policy.portfolio_margin` — a risk array, as options venues margin a portfolio (Deribit, Paradex,
/// OKX; README, "Portfolio margin"). Per underlying asset, each account's positions on it (and its
/// coins of it) are revalued in full on a grid of spot moves × implied-vol shifts and on extended
/// scenarios; the initial requirement is the worst loss, at least the minimum charges, and
/// maintenance a fraction of it:
///
///     portfolio_margin:
///       spot_range: {BTC: 0.12, "*": 0.16}   # ±range of the grid per asset (or one number)
///       spot_steps: 9                        # odd: −range … +range, 0 included
///       vol_shift: {up: 0.3, down: 0.2}      # relative implied-vol shifts (iv·(1 ± shift)), or per asset
///                                            # or group: {majors: {up: 0.3}, "*": {up: 0.5, down: 0.3}}
///       groups: {majors: [BTC, ETH]}         # assets calibrated as one (keys of spot_range, vol_shift)
///       dte_power: 0.3                       # shifts × (30/DTE)^power per option (0: flat)
///       extended: [{spot: -0.66, weight: 0.24}, {spot: 0.5, vol: up, weight: 0.24}]
///       minimum: {net_delta: 0.02, short_option: 0.001}
///       maintenance_fraction: 0.5
///
/// Keys of `spot_range` and of a per-key `vol_shift` name an asset, a group or "*": an asset's own key
/// wins over its group's, which wins over "*". A group only names assets together: each asset is still
/// revalued alone (no offsets between underlyings, as Deribit and OKX margin per underlying);
/// `calibrate` gives a group one spot range and one vol-shift scale.
public struct PortfolioMarginSpec: Sendable, Equatable {
    /// The grid's half-range per asset index, a fraction of spot (> 0; nil for assets not margined).
    public var spotRange: [Double?]
    /// Grid points from −range to +range, odd (so 0 is one).
    public var spotSteps: Int
    /// Per asset index, the relative implied-vol shifts of the grid's "up" and "down" rows
    /// (iv·(1 + up), iv·(1 − down)); (0, 0) for an asset no key names.
    public var volShifts: [VolShift]
    /// The named groups of assets (`groups:`), in the file's order.
    public var groups: [AssetGroup]
    /// Each option's vol shifts are scaled by (30/DTE)^power (DTE its days to expiry, at least 1).
    public var dtePower: Double
    public var extended: [ExtendedScenario]
    /// Minimum charges: a fraction of the absolute net delta's notional, and of each short option's notional.
    public var netDeltaCharge: Double
    public var shortOptionCharge: Double
    /// Maintenance = this fraction of the initial requirement, in (0, 1].
    public var maintenanceFraction: Double

    /// The "up" and "down" relative vol shifts of one asset's array: up ≥ 0, 0 ≤ down < 1.
    public struct VolShift: Sendable, Equatable {
        public var up: Double
        public var down: Double

        public init(up: Double = 0, down: Double = 0) {
            self.up = up
            self.down = down
        }

        /// Both shifts × `scale` ≥ 0, the down shift capped just below 1 (1 − 10⁻⁹) so that iv·(1 − down) stays > 0.
        public func scaled(_ scale: Double) -> VolShift { VolShift(up: up * scale, down: min(down * scale, 1 - 1e-9)) }

        /// Whether either shift is > 0 (the array has a vol row beside the flat one).
        public var isShifted: Bool { up > 0 || down > 0 }
    }

    /// Assets named together under `groups:` (asset indices, in the file's order, at least one).
    public struct AssetGroup: Sendable, Equatable {
        public var name: String
        public var members: [Int]

        public init(name: String, members: [Int]) {
            self.name = name
            self.members = members
        }
    }

    /// The group asset b belongs to, if any (an asset is in at most one).
    public func group(of b: Int) -> AssetGroup? { groups.first { $0.members.contains(b) } }

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

    /// - Parameter volShifts: per asset index; nil: `volShift` for every asset.
    public init(spotRange: [Double?], spotSteps: Int = 9, volShift: VolShift = VolShift(), volShifts: [VolShift]? = nil, groups: [AssetGroup] = [],
                dtePower: Double = 0, extended: [ExtendedScenario] = [], netDeltaCharge: Double = 0, shortOptionCharge: Double = 0,
                maintenanceFraction: Double = 1) {
        self.spotRange = spotRange
        self.spotSteps = spotSteps
        self.volShifts = volShifts ?? Array(repeating: volShift, count: spotRange.count)
        self.groups = groups
        self.dtePower = dtePower
        self.extended = extended
        self.netDeltaCharge = netDeltaCharge
        self.shortOptionCharge = shortOptionCharge
        self.maintenanceFraction = maintenanceFraction
    }

    static let keys = ["spot_range", "spot_steps", "vol_shift", "groups", "dte_power", "extended", "minimum", "maintenance_fraction"]

    /// The array with every spot range × `spotRange` (capped just below ±100 %, 1 − 10⁻⁹) and both
    /// vol shifts × `volShift` (the down shift capped just below 1, so iv·(1 − shift) stays > 0): a
    /// `robustness` bump (`robustness.portfolio_margin`).
    public func bumped(spotRange: Double, volShift: Double) -> PortfolioMarginSpec {
        var bumped = self
        bumped.spotRange = self.spotRange.map { $0.map { min($0 * spotRange, 1 - 1e-9) } }
        bumped.volShifts = volShifts.map { $0.scaled(volShift) }
        return bumped
    }
}

extension PortfolioMarginSpec {
    /// Parses `policy.portfolio_margin` at `path`.
    /// - Throws: `ScenarioError` naming the field: an unknown key, asset or group, a bad group (`groups`), a range outside (0, 1), an
    ///   even or too small step count, a negative shift or charge, a vol shift ≥ 1 down, an extended
    ///   move ≤ −100 %, a weight outside (0, 1], a fraction outside (0, 1], and an asset held by an
    ///   account without a range.
    init(node: ConfigNode, path: String, market: Market, portfolio: Portfolio, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: Self.keys)
        let groups = try r.optional("groups") { try Self.groups($0, $1, market: market, p) } ?? []
        self.groups = groups
        spotRange = try r.required("spot_range") { node, path -> [Double?] in
            if case .scalar = node {
                let range = try Self.range(node, path, p)
                return market.assets.map { _ in range }
            }
            return try Self.perAsset(node, path, market: market, groups: groups, p) { try Self.range($0, $1, p) }
        }
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
        volShifts = try r.optional("vol_shift") { node, path -> [VolShift] in
            // {up, down}: every asset's; otherwise a mapping asset | group | "*" → {up, down}.
            if case .mapping(let entries, _) = node, entries.allSatisfy({ ["up", "down"].contains($0.key) }) {
                let shift = try Self.volShift(node, path, p)
                return market.assets.map { _ in shift }
            }
            return try Self.perAsset(node, path, market: market, groups: groups, p) { try Self.volShift($0, $1, p) }.map { $0 ?? VolShift() }
        } ?? market.assets.map { _ in VolShift() }
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

    /// `groups:`, a mapping name → non-empty list of assets.
    /// - Throws: `ScenarioError` naming the field: a group named like an asset or "*", an empty group,
    ///   an unknown asset, an asset in two groups (or twice in one).
    static func groups(_ node: ConfigNode, _ path: String, market: Market, _ p: ScalarParsers) throws -> [AssetGroup] {
        var groups: [AssetGroup] = [], groupOf: [Int: String] = [:]
        for entry in try p.mapping(node, path) {
            let groupPath = "\(path).\(entry.key)"
            guard entry.key != "*", market.assetIndex(entry.key) == nil else {
                throw p.fail(entry.value, groupPath, "a group may not be named like an asset or '*' ('\(entry.key)' is one): keys of spot_range and vol_shift name both; rename the group")
            }
            var members: [Int] = []
            for (item, itemPath) in try p.nonEmptyList(entry.value, groupPath, of: "asset (an empty group names nothing)") {
                let id = try p.identifier(item, itemPath)
                guard let b = market.assetIndex(id) else {
                    throw p.fail(item, itemPath, "unknown asset '\(id)'; known assets: \(market.assets.map(\.id).joined(separator: ", "))")
                }
                if let other = groupOf[b] { throw p.fail(item, itemPath, "'\(id)' is already in group '\(other)'; an asset belongs to one group at most") }
                groupOf[b] = entry.key
                members.append(b)
            }
            groups.append(AssetGroup(name: entry.key, members: members))
        }
        return groups
    }

    /// A mapping keyed by asset, group or "*", resolved per asset index: an asset's own key wins over
    /// its group's, which wins over "*"; nil for an asset none names.
    /// - Throws: `ScenarioError` naming a key that is none of these, or what `parse` throws.
    static func perAsset<T>(_ node: ConfigNode, _ path: String, market: Market, groups: [AssetGroup], _ p: ScalarParsers,
                            parse: (ConfigNode, String) throws -> T) throws -> [T?] {
        var byKey: [String: T] = [:]
        for entry in try p.mapping(node, path) {
            let entryPath = "\(path).\(entry.key)"
            guard entry.key == "*" || market.assetIndex(entry.key) != nil || groups.contains(where: { $0.name == entry.key }) else {
                let names = groups.isEmpty ? "" : "; groups: " + groups.map(\.name).joined(separator: ", ")
                throw p.fail(entry.value, entryPath, "unknown asset or group '\(entry.key)'; known assets: \(market.assets.map(\.id).joined(separator: ", "))\(names) (or * for every asset not named)")
            }
            byKey[entry.key] = try parse(entry.value, entryPath)
        }
        return market.assets.indices.map { b in
            byKey[market.assets[b].id] ?? groups.first { $0.members.contains(b) }.flatMap { byKey[$0.name] } ?? byKey["*"]
        }
    }

    /// `{up, down}`: up in [0, 10], down in [0, 1), each 0 when absent.
    static func volShift(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> VolShift {
        let shifts = try FieldReader(node, file: p.file, path: path, known: ["up", "down"])
        let up = try shifts.optional("up", p.within(0, 10)) ?? 0
        let down = try shifts.optional("down") { node, path in
            let value = try p.nonNegative(node, path)
            guard value < 1 else { throw p.fail(node, path, "a downward vol shift must be below 1 (iv·(1 − shift) > 0), got \(value)") }
            return value
        } ?? 0
        return VolShift(up: up, down: down)
    }

    static func range(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> Double {
        let value = try p.number(node, path)
        guard value > 0, value < 1 else { throw p.fail(node, path, "a spot range is a fraction of spot in (0, 1) (0.16 for ±16 %), got \(value)") }
        return value
    }
}
