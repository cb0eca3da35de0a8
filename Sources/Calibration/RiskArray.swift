import Foundation
import Revaluation
import ScenarioSpec

/// The risk array of `policy.portfolio_margin` on a scenario's book (README, "Portfolio margin"), at
/// today's market. Per account a and underlying asset b, the positions on b — its linear weight w_ab
/// (perps, futures, inverse perps, spot and coins of b: USD P&L w_ab·ΔS_b) and its options on b — are
/// revalued in full on every point of the array:
///
/// - the grid: spot moves m_k = R_b·(2k/(K − 1) − 1), k = 0 … K − 1 (K = `spot_steps`), each with the
///   implied vol flat, up (iv·(1 + u·d)) and down (iv·(1 − v·d)) where shifts are given, d = (30/DTE)^power
///   per option (DTE its days to expiry, at least 1);
/// - the extended moves, each counted at its weight × its loss.
///
/// loss_ab(m, shift) = −(w_ab·S_b·m + Σ_legs q·(V(S_b(1 + m), iv·(1 + shift·d), τ) − V(S_b, iv, τ))), USD,
/// τ the option's time to expiry now. The initial requirement on b is
/// IM_ab = max(worst point's loss, c_Δ·|Δ_ab|·S_b) + c_short·Σ_{short legs} |q|·S_b (Δ_ab = w_ab/S_b-units:
/// coins of b, options by the delta of their price under the smile's dynamics, `OptionLeg.delta`: the
/// Black–Scholes delta at iv(K) for a flat iv or sticky-strike, plus vega·∂iv/∂S under sticky-moneyness); the account's IM_a = Σ_b IM_ab and its maintenance
/// MM_a = f·IM_a (f = `maintenance_fraction`). No offsets between underlyings.
public struct RiskArray: Sendable {
    public let spec: PortfolioMarginSpec
    let book: Book
    let spots: [Double]
    /// The options' time to expiry now is their `remainingYears` + this (the horizon).
    let horizonYears: Double
    /// Per account, ascending, the assets it has a linear weight or an option on.
    public let assetsOf: [[Int]]

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
    }

    /// The grid's points at half-range `range`, then the extended ones.
    public func points(range: Double) -> [Point] {
        let rows = [1, 0, -1].filter { $0 == 0 || ($0 > 0 ? spec.volUp : spec.volDown) > 0 }
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

    /// The relative vol shift of `leg` on vol row `vol`: ±shift·(30/DTE)^power.
    func volShift(_ leg: OptionLeg, row vol: Int) -> Double {
        guard vol != 0 else { return 0 }
        let days = max(1, yearsNow(leg) * 365)
        let scale = spec.dtePower == 0 ? 1 : pow(30 / days, spec.dtePower)
        return vol > 0 ? spec.volUp * scale : -spec.volDown * scale
    }

    /// loss_ab at one point, weighted, USD.
    public func loss(account a: Int, asset b: Int, at point: Point) -> Double {
        let spot = spots[b], moved = spot * (1 + point.spotMove)
        var profit = book.linearWeights[a * book.assetCount + b] * (moved - spot)
        for leg in book.options(ofAccount: a) where leg.asset == b {
            let value = leg.value(spot: moved, volFactor: 1 + volShift(leg, row: point.vol), years: yearsNow(leg), rate: book.rate)
            profit += leg.quantity * (value - leg.valueNow)
        }
        return -point.weight * profit
    }

    /// Account a's requirement on asset b with the grid at half-range `range`.
    /// - Complexity: O(points × a's options on b).
    public func charge(account a: Int, asset b: Int, range: Double) -> AssetCharge {
        var worst = -Double.infinity, binding = Point(spotMove: 0, vol: 0, weight: 1, extended: false)
        for point in points(range: range) {
            let loss = loss(account: a, asset: b, at: point)
            if loss > worst { worst = loss; binding = point }
        }
        let spot = spots[b]
        var delta = book.linearWeights[a * book.assetCount + b]   // coins of b: the USD P&L per unit of S_b
        var shortNotional = 0.0
        for leg in book.options(ofAccount: a) where leg.asset == b {
            delta += leg.quantity * leg.delta(spot: spot, years: yearsNow(leg), rate: book.rate)
            if leg.quantity < 0 { shortNotional += -leg.quantity * spot }
        }
        return AssetCharge(asset: b, worstLoss: worst, binding: binding, netDeltaCharge: spec.netDeltaCharge * abs(delta) * spot,
                           shortOptionCharge: spec.shortOptionCharge * shortNotional)
    }

    /// Account a's charges on every asset it holds, at the spec's ranges (or `ranges`).
    public func charges(account a: Int, ranges: [Double?]? = nil) -> [AssetCharge] {
        let ranges = ranges ?? spec.spotRange
        return assetsOf[a].compactMap { b in ranges[b].map { charge(account: a, asset: b, range: $0) } }
    }

}
