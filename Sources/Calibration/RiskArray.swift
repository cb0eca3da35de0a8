import Foundation
import Revaluation
import ScenarioSpec

/// The risk array of `policy.portfolio_margin` on a scenario's book (README, "Portfolio margin"), at
/// today's market. Per account a and underlying asset b, the positions on b — its linear weight w_ab
/// (perps, futures, inverse perps, spot and coins of b: USD P&L w_ab·ΔS_b) and its options on b — are
/// revalued in full on every point of the array:
///
/// - the grid: spot moves m_k = R_b·(2k/(K − 1) − 1), k = 0 … K − 1 (K = `spot_steps`), each with the
///   implied vol flat, up (iv·(1 + u_b·d)) and down (iv·(1 − v_b·d)) where b's shifts (u_b, v_b) are given, d = (30/DTE)^power
///   per option (DTE its days to expiry, at least 1);
/// - the extended moves, each counted at its weight × its loss.
///
/// loss_ab(m, shift) = −(w_ab·S_b·m + Σ_legs q·(V(S_b(1 + m), iv·(1 + shift·d), τ) − V(S_b, iv, τ))), USD,
/// τ the option's time to expiry now. The initial requirement on b is
/// IM_ab = max(worst point's loss, c_Δ·|Δ_ab|·S_b) + c_short·Σ_{short legs} |q|·S_b (Δ_ab = w_ab/S_b-units:
/// coins of b, options by the delta of their price under the smile's dynamics, `OptionLeg.delta`: the
/// Black–Scholes delta at iv(K) for a flat iv or sticky-strike, plus vega·∂iv/∂S under sticky-moneyness); the account's IM_a = Σ_b IM_ab and its maintenance
/// MM_a = f·IM_a (f = `maintenance_fraction`). No offsets between underlyings.
///
/// The same array applies around any market (`AssetMarket`): at a path's horizon (the waterfall's
/// requirement, `Waterfall(scenario:spec:schedule:riskArray:)`) S_b is the moved spot, iv the implied
/// vol there × the path's vol factor, τ the time to expiry left then (and the DTE scaling with it), and
/// the positions' value V(S_b, iv, τ) is repriced there instead of V₀.
public struct RiskArray: Sendable {
    public let spec: PortfolioMarginSpec
    let book: Book
    let spots: [Double]
    /// The options' time to expiry now is their `remainingYears` + this (the horizon).
    let horizonYears: Double
    /// Per account, ascending, the assets it has a linear weight or an option on.
    public let assetsOf: [[Int]]
    /// Per asset, the points at the policy's range (nil: the asset is not margined).
    let policyPoints: [[Point]?]

    /// One point of the array: a spot move (a fraction of spot), a vol row (+1 up, 0 flat, −1 down)
    /// and the weight its loss counts at (1 on the grid).
    public struct Point: Sendable, Equatable {
        public let spotMove: Double
        public let vol: Int
        public let weight: Double
        public let extended: Bool

        /// e.g. "spot −16 % vol up", "extended spot −66 % vol up ×0.24".
        public var label: String {
            let rows = ["vol down", "vol flat", "vol up"]
            let move = String(format: "%+g %%", (spotMove * 1e6).rounded() / 1e4).replacingOccurrences(of: "-", with: "−")
            return (extended ? "extended " : "") + "spot \(move) \(rows[vol + 1])" + (extended && weight != 1 ? String(format: " ×%g", weight) : "")
        }
    }

    /// Account a's requirement on one asset.
    public struct AssetCharge: Sendable {
        public let asset: Int
        /// The worst weighted loss over the array's points (≥ the flat-grid point at 0, i.e. ≥ 0 for a book with no P&L at no move).
        public let worstLoss: Double
        /// The point that gives `worstLoss`.
        public let binding: Point
        public let netDeltaCharge: Double
        public let shortOptionCharge: Double
        /// IM_ab = max(worstLoss, netDeltaCharge) + shortOptionCharge.
        public var initial: Double { max(worstLoss, netDeltaCharge) + shortOptionCharge }
        /// What binds: the point, or the net-delta minimum where it exceeds every point's loss.
        public var bindingLabel: String { netDeltaCharge > worstLoss ? "net-delta minimum" : binding.label }
    }

    public init(spec: PortfolioMarginSpec, scenario: Scenario) {
        self.spec = spec
        let book = Book(scenario: scenario)
        self.book = book
        spots = scenario.market.assets.map(\.spot)
        horizonYears = scenario.simulation.horizonYears
        let n = book.assetCount
        assetsOf = (0..<book.accountCount).map { a in
            var held = Set((0..<n).filter { book.linearWeights[a * n + $0] != 0 })
            for leg in book.options(ofAccount: a) { held.insert(leg.asset) }
            return held.sorted()
        }
        policyPoints = spec.spotRange.indices.map { b in spec.spotRange[b].map { Self.points(spec, range: $0, shift: spec.volShifts[b]) } }
    }

    /// Asset b's grid points at half-range `range` with its vol shifts × `volScale`, then the extended ones.
    public func points(asset b: Int, range: Double, volScale: Double = 1) -> [Point] { Self.points(spec, range: range, shift: spec.volShifts[b].scaled(volScale)) }

    /// The grid's points at half-range `range` (a vol row up or down only where `shift` has it), then the extended ones.
    static func points(_ spec: PortfolioMarginSpec, range: Double, shift: PortfolioMarginSpec.VolShift) -> [Point] {
        let rows = [1, 0, -1].filter { $0 == 0 || ($0 > 0 ? shift.up : shift.down) > 0 }
        let k = spec.spotSteps
        var points: [Point] = []
        for step in 0..<k {
            let move = range * (2 * Double(step) / Double(k - 1) - 1)
            for row in rows { points.append(Point(spotMove: move, vol: row, weight: 1, extended: false)) }
        }
        return points + spec.extended.map { Point(spotMove: $0.spotMove, vol: $0.vol, weight: $0.weight, extended: true) }
    }

    /// An option's time to expiry now, years.
    func yearsNow(_ leg: OptionLeg) -> Double { leg.remainingYears + horizonYears }

    /// The market one asset's array is applied around: its spot S (USD), its implied-vol multiplier
    /// f (iv·f before the array's shifts) and t, the years elapsed after the horizon (an option's
    /// time to expiry is τ = τ' − t, τ' its `remainingYears`: t = −h now, 0 at the horizon's end,
    /// h_liq once an account is closed after it).
    public struct AssetMarket: Sendable {
        public let spot: Double
        public let volFactor: Double
        public let yearsAfterHorizon: Double
        /// Whether this is the market now: the positions' value there is the book's V₀.
        let isNow: Bool

        public init(spot: Double, volFactor: Double, yearsAfterHorizon: Double) {
            self.init(spot: spot, volFactor: volFactor, yearsAfterHorizon: yearsAfterHorizon, isNow: false)
        }

        init(spot: Double, volFactor: Double, yearsAfterHorizon: Double, isNow: Bool) {
            (self.spot, self.volFactor, self.yearsAfterHorizon, self.isNow) = (spot, volFactor, yearsAfterHorizon, isNow)
        }
    }

    /// Asset b's market now.
    public func marketNow(asset b: Int) -> AssetMarket { AssetMarket(spot: spots[b], volFactor: 1, yearsAfterHorizon: -horizonYears, isNow: true) }

    /// The relative vol shift of an option with `years` to expiry on the up (or down) row of an asset
    /// with shifts `shift`: +up·(30/DTE)^power (or −down·(30/DTE)^power), DTE = 365·years, at least 1 day.
    func volShift(up: Bool, years: Double, shift: PortfolioMarginSpec.VolShift) -> Double {
        let days = max(1, years * 365)
        let scale = spec.dtePower == 0 ? 1 : pow(30 / days, spec.dtePower)
        return up ? shift.up * scale : -shift.down * scale
    }

    /// Account a's requirement on asset b with the grid at half-range `range` and b's vol shifts ×
    /// `volScale` (`VolShift.scaled`: the down shift capped just below 1), applied now.
    /// - Complexity: O(points × a's options on b).
    public func charge(account a: Int, asset b: Int, range: Double, volScale: Double = 1) -> AssetCharge {
        let shift = spec.volShifts[b].scaled(volScale)
        return charge(account: a, asset: b, points: Self.points(spec, range: range, shift: shift), around: marketNow(asset: b), shift: shift)
    }

    /// Whether account a holds an option on asset b (its charge on b then depends on b's vol shifts).
    public func holdsOptions(account a: Int, asset b: Int) -> Bool { book.options(ofAccount: a).contains { $0.asset == b } }

    /// Account a's requirement on asset b over `points`, applied around `market`: the worst point's
    /// loss_ab(m, row) = −weight·(w_ab·S·m + Σ_legs q·(V(S(1 + m), iv(S(1 + m))·f·(1 + shift_row·d), τ) − V(S, iv(S)·f, τ)))
    /// (USD; V(S, iv(S)·f, τ) the book's V₀ now, else repriced), the net-delta minimum c_Δ·|Δ_ab|·S
    /// (options' deltas under the smile's dynamics at iv(S)·f and τ, `OptionLeg.delta`) and the short-option charge c_short·Σ_{short legs} |q|·S.
    /// The vol rows shift by `shift` (nil: b's, `spec.volShifts[b]`).
    /// - Complexity: O(points × a's options on b).
    func charge(account a: Int, asset b: Int, points: [Point], around market: AssetMarket, shift: PortfolioMarginSpec.VolShift? = nil) -> AssetCharge {
        let shift = shift ?? spec.volShifts[b]
        let legs = book.options(ofAccount: a), count = legs.count, spot = market.spot, rate = book.rate
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 4 * count) { scratch in
            // Per option on b, out of the loop over points: τ, its value at the market, and the
            // implied-vol multipliers of the flat, up and down rows (f·(1 + shift·d)).
            let years = scratch.baseAddress!, base = years + count, up = base + count, down = up + count
            var delta = book.linearWeights[a * book.assetCount + b]   // coins of b: the USD P&L per unit of S_b
            var shortNotional = 0.0
            for (i, leg) in legs.enumerated() where leg.asset == b {
                years[i] = leg.remainingYears - market.yearsAfterHorizon
                base[i] = market.isNow ? leg.valueNow : leg.value(spot: spot, volFactor: market.volFactor, years: years[i], rate: rate)
                up[i] = market.volFactor * (1 + volShift(up: true, years: years[i], shift: shift))
                down[i] = market.volFactor * (1 + volShift(up: false, years: years[i], shift: shift))
                delta += leg.quantity * leg.delta(spot: spot, years: years[i], rate: rate, volFactor: market.volFactor)
                if leg.quantity < 0 { shortNotional += -leg.quantity * spot }
            }
            let weight = book.linearWeights[a * book.assetCount + b]
            var worst = -Double.infinity, binding = Point(spotMove: 0, vol: 0, weight: 1, extended: false)
            for point in points {
                let moved = spot * (1 + point.spotMove)
                var profit = weight * (moved - spot)
                for (i, leg) in legs.enumerated() where leg.asset == b {
                    let factor = point.vol > 0 ? up[i] : (point.vol < 0 ? down[i] : market.volFactor)
                    profit += leg.quantity * (leg.value(spot: moved, volFactor: factor, years: years[i], rate: rate) - base[i])
                }
                let loss = -point.weight * profit
                if loss > worst { worst = loss; binding = point }
            }
            return AssetCharge(asset: b, worstLoss: worst, binding: binding, netDeltaCharge: spec.netDeltaCharge * abs(delta) * spot,
                               shortOptionCharge: spec.shortOptionCharge * shortNotional)
        }
    }

    /// MM_a = f·Σ_b IM_ab with the policy's array applied around the market `market(b)` of each asset
    /// b the account holds (in `assetsOf` order, as `PortfolioMarginStudy` sums it), USD.
    /// - Complexity: O(points × a's options).
    public func maintenance(account a: Int, around market: (Int) -> AssetMarket) -> Double {
        var initial = 0.0
        for b in assetsOf[a] {
            guard let points = policyPoints[b] else { continue }
            initial += charge(account: a, asset: b, points: points, around: market(b)).initial
        }
        return spec.maintenanceFraction * initial
    }

    /// Account a's charges on every asset it holds, at the spec's ranges (or `ranges`).
    public func charges(account a: Int, ranges: [Double?]? = nil) -> [AssetCharge] {
        let ranges = ranges ?? spec.spotRange
        return assetsOf[a].compactMap { b in ranges[b].map { charge(account: a, asset: b, range: $0) } }
    }

}
