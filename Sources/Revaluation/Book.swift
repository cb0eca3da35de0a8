import CKernels
import Foundation
import ScenarioSpec

/// The book of a scenario compiled for revaluation over the horizon h.
///
/// Every instrument but the option is linear in the shocked spots, so an account's linear P&L is
/// Σ_a W[account, a]·S'_a + c[account]:
/// - spot, perp: q·(S' − S)
/// - future (expiry T): q·(S'·e^{r·max(T−h,0)} − S·e^{rT}) (mark F = S·e^{rT})
/// - inverse perp: C·V·(1/S − 1/S') coins, worth C·V·(S'/S − 1) USD at S'
/// - collateral: USD constant; q coins change by q·(S' − S)
/// Options are repriced one by one: q·(V(S', iv', T−h) − V(S, iv, T)), intrinsic if T ≤ h.
/// Account loss = −P&L, USD; the book loss is the sum over accounts.
public struct Book: Sendable {
    public let accountIDs: [String]
    public var accountCount: Int { accountIDs.count }
    public let assetCount: Int
    /// W, accounts × assets, row-major: the USD P&L per unit of shocked spot.
    public let linearWeights: [Double]
    /// c, per account: the constant of the linear P&L.
    public let linearConstants: [Double]
    /// Options, grouped by account.
    public let options: [OptionLeg]
    /// Equity now per account, USD: collateral + spot holdings + option values (perps, futures
    /// and inverse perps are worth zero at their mark).
    public let equityNow: [Double]
    /// The book's linear P&L: W's column sums and c's total.
    public let bookWeights: [Double]
    public let bookConstant: Double
    /// `options[optionStart[a] ..< optionStart[a + 1]]` are account a's options.
    public let optionStart: [Int]

    public init(scenario: Scenario) {
        let market = scenario.market
        let n = market.assets.count
        let h = scenario.simulation.horizonYears
        let r = market.rate
        accountIDs = scenario.portfolio.accounts.map(\.id)
        assetCount = n
        var weights = [Double](repeating: 0, count: accountIDs.count * n)
        var constants = [Double](repeating: 0, count: accountIDs.count)
        var equity = [Double](repeating: 0, count: accountIDs.count)
        var options: [OptionLeg] = []
        for (a, account) in scenario.portfolio.accounts.enumerated() {
            for (currency, amount) in account.collateral {
                guard let i = market.assetIndex(currency) else { equity[a] += amount; continue }
                weights[a * n + i] += amount
                constants[a] -= amount * market.assets[i].spot
                equity[a] += amount * market.assets[i].spot
            }
            for position in account.positions {
                let i = market.assetIndex(position.asset)!
                let spot = market.assets[i].spot
                switch position {
                case .spot(_, let q):
                    weights[a * n + i] += q; constants[a] -= q * spot
                    equity[a] += q * spot
                case .perp(_, let q):
                    weights[a * n + i] += q; constants[a] -= q * spot
                case .future(_, let q, let expiryDays):
                    let t = expiryDays / 365
                    weights[a * n + i] += q * exp(r * max(t - h, 0)); constants[a] -= q * spot * exp(r * t)
                case .inversePerp(_, let contracts, let value):
                    weights[a * n + i] += contracts * value / spot; constants[a] -= contracts * value
                case .option(_, let right, let strike, let expiryDays, let q, let iv):
                    let leg = OptionLeg(account: a, asset: i, isCall: right == .call, strike: strike,
                                        years: expiryDays / 365, horizonYears: h, quantity: q, impliedVol: iv,
                                        spot: spot, rate: r)
                    options.append(leg)
                    equity[a] += q * leg.valueNow
                }
            }
        }
        linearWeights = weights
        linearConstants = constants
        var bookRow = [Double](repeating: 0, count: n)
        for a in 0..<accountIDs.count { for i in 0..<n { bookRow[i] += weights[a * n + i] } }
        bookWeights = bookRow
        bookConstant = constants.reduce(0, +)
        optionStart = (0...accountIDs.count).map { a in options.firstIndex { $0.account >= a } ?? options.count }
        self.options = options
        equityNow = equity
    }
}

/// One option position with everything that does not depend on the path precomputed.
public struct OptionLeg: Sendable {
    public let account: Int
    public let asset: Int
    public let isCall: Bool
    public let strike: Double
    public let quantity: Double
    public let impliedVol: Double
    /// τ' = T − h, the time left after the horizon (years); ≤ 0 means expired: intrinsic value.
    public let remainingYears: Double
    /// V(S, iv, T): the price now.
    public let valueNow: Double
    /// Everything the per-path kernel needs, hoisted out of the loop over paths: ½·iv·√τ',
    /// 1/(iv·√τ'), r·τ' − ln K, K·e^{−rτ'}, q, V₀ (`thresher_subtract_option_profit`).
    package let terms: ThresherOptionTerms

    public init(account: Int, asset: Int, isCall: Bool, strike: Double, years: Double, horizonYears: Double,
                quantity: Double, impliedVol: Double, spot: Double, rate: Double) {
        self.account = account
        self.asset = asset
        self.isCall = isCall
        self.strike = strike
        self.quantity = quantity
        self.impliedVol = impliedVol
        remainingYears = years - horizonYears
        valueNow = BlackScholes.price(isCall: isCall, spot: spot, strike: strike, years: years, rate: rate, vol: impliedVol)
        let tau = max(remainingYears, 0), stdDev = impliedVol * tau.squareRoot()
        terms = ThresherOptionTerms(isCall: isCall ? 1 : 0, halfStdDev: 0.5 * stdDev, inverseStdDev: 1 / stdDev,
                                    drift: rate * tau - log(strike), discountedStrike: strike * exp(-rate * tau),
                                    quantity: quantity, valueNow: valueNow)
    }
}
