import CKernels
import Foundation
import ScenarioSpec

/// The book of a scenario compiled for revaluation over the horizon h, from the pricing components
/// of its instruments (`Instrument.pricing(in:)`).
///
/// The linear components of an account sum to a P&L Σ_a W[account, a]·S'_a + c[account]
/// (collateral too: USD is constant, q coins change by q·(S' − S)); option components are repriced
/// one by one: q·(V(S', iv', T−h) − V(S, iv, T)), intrinsic if T ≤ h.
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
    /// Annual continuously compounded rate of the pricing.
    public let rate: Double
    /// Account a's non-zero linear weights, in asset order: assets
    /// `exposureAssets[exposureStart[a] ..< exposureStart[a + 1]]` with weights `exposureWeights[…]`.
    public let exposureStart: [Int]
    package let exposureAssets: [Int32]
    package let exposureWeights: [Double]

    /// Whether account a's linear loss is taken from its few exposures (`thresher_linear_losses`,
    /// one fused multiply-subtract per exposure and path) rather than from its dense row of W in a
    /// `cblas_dgemm` with its neighbours: when it has at most half as many exposures as there are
    /// assets (measured on W3/W4 and W2, Benchmarks/README.md, session 9).
    public func hasSparseExposures(_ a: Int) -> Bool {
        2 * (exposureStart[a + 1] - exposureStart[a]) <= assetCount
    }

    /// Whether account a's loss is linear with sparse exposures (no options): then its losses can go
    /// straight into its tail (`thresher_linear_tail`) without a row of losses in between.
    public func hasSparseLinearLoss(_ a: Int) -> Bool {
        optionStart[a] == optionStart[a + 1] && hasSparseExposures(a)
    }

    /// Account a's options.
    public func options(ofAccount a: Int) -> ArraySlice<OptionLeg> { options[optionStart[a]..<optionStart[a + 1]] }

    public init(scenario: Scenario) {
        let market = scenario.market
        let n = market.assets.count
        let h = scenario.simulation.horizonYears
        let r = market.rate
        rate = r
        accountIDs = scenario.portfolio.accounts.map(\.id)
        assetCount = n
        var weights = [Double](repeating: 0, count: accountIDs.count * n)
        var constants = [Double](repeating: 0, count: accountIDs.count)
        var equity = [Double](repeating: 0, count: accountIDs.count)
        var options: [OptionLeg] = []
        for (a, account) in scenario.portfolio.accounts.enumerated() {
            for (currency, amount) in account.collateral {
                guard let i = market.assetIndex(currency) else {
                    equity[a] += market.stablecoinIndex(currency).map { market.stablecoins[$0].collateralValue(amount) } ?? amount
                    continue
                }
                weights[a * n + i] += amount
                constants[a] -= amount * market.assets[i].spot
                equity[a] += amount * market.assets[i].spot
            }
            for position in account.positions {
                let i = market.assetIndex(position.asset)!
                let context = PricingContext(spot: market.assets[i].spot, rate: r, horizonYears: h)
                for component in position.instrument.pricing(in: context) {
                    switch component {
                    case .linear(let weight, let constant, let valueNow):
                        weights[a * n + i] += weight; constants[a] += constant
                        equity[a] += valueNow
                    case .option(let contract):
                        let leg = OptionLeg(account: a, asset: i, contract: contract, horizonYears: h, spot: context.spot, rate: r)
                        options.append(leg)
                        equity[a] += contract.quantity * leg.valueNow
                    }
                }
            }
        }
        linearWeights = weights
        linearConstants = constants
        var bookRow = [Double](repeating: 0, count: n)
        for a in 0..<accountIDs.count { for i in 0..<n { bookRow[i] += weights[a * n + i] } }
        bookWeights = bookRow
        bookConstant = constants.reduce(0, +)
        var start = [0], assets: [Int32] = [], exposures: [Double] = []
        for a in 0..<accountIDs.count {
            for i in 0..<n where weights[a * n + i] != 0 {
                assets.append(Int32(i))
                exposures.append(weights[a * n + i])
            }
            start.append(assets.count)
        }
        exposureStart = start
        exposureAssets = assets
        exposureWeights = exposures
        var optionCounts = [Int](repeating: 0, count: accountIDs.count + 1)
        for leg in options { optionCounts[leg.account + 1] += 1 }
        for a in 0..<accountIDs.count { optionCounts[a + 1] += optionCounts[a] }
        optionStart = optionCounts
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

    public init(account: Int, asset: Int, contract: OptionContract, horizonYears: Double, spot: Double, rate: Double) {
        self.init(account: account, asset: asset, isCall: contract.isCall, strike: contract.strike, years: contract.expiryYears,
                  horizonYears: horizonYears, quantity: contract.quantity, impliedVol: contract.impliedVol, spot: spot, rate: rate)
    }

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

    /// The scalar twin of the kernels: one option's value V(S, iv·f, τ) (USD per coin, scalar
    /// Black–Scholes with glibc's erfc; intrinsic at τ ≤ 0) at spot S, implied-vol multiplier f and
    /// `years` τ to expiry, for revaluations outside the chunk kernels (the liquidation step).
    public func value(spot: Double, volFactor: Double, years: Double, rate: Double) -> Double {
        BlackScholes.price(isCall: isCall, spot: spot, strike: strike, years: years, rate: rate, vol: impliedVol * volFactor)
    }
}
