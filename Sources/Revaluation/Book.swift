import CKernels
import Distributions
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
    public private(set) var options: [OptionLeg]
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
                        let leg = OptionLeg(account: a, asset: i, contract: contract, horizonYears: h, spot: context.spot, rate: r,
                                            smile: contract.followsSmile ? market.smile(of: position.asset) : nil)
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

    /// The same book with every option leg replaced by `transform(leg)` (a stress's smile twists).
    public func mappingOptions(_ transform: (OptionLeg) -> OptionLeg) -> Book {
        var book = self
        book.options = options.map(transform)
        return book
    }
}

/// One option position with everything that does not depend on the path precomputed.
public struct OptionLeg: Sendable {
    public let account: Int
    public let asset: Int
    public let isCall: Bool
    public let strike: Double
    public let quantity: Double
    /// iv now, annualised: under sticky-moneyness the iv at the spot now, moving with the spot (`smile`).
    public private(set) var impliedVol: Double
    /// T, the years to expiry now.
    public let expiryYears: Double
    /// τ' = T − h, the time left after the horizon (years); ≤ 0 means expired: intrinsic value.
    public let remainingYears: Double
    /// V(S, iv, T): the price now.
    public let valueNow: Double
    /// Everything the per-path kernel needs, hoisted out of the loop over paths: ½·iv·√τ',
    /// 1/(iv·√τ'), r·τ' − ln K, K·e^{−rτ'}, q, V₀ (`thresher_subtract_option_profit`).
    package private(set) var terms: ThresherOptionTerms
    /// The option's smile when its iv moves with the spot (sticky-moneyness on a slice that is not
    /// flat); nil: its iv is constant under spot moves.
    public private(set) var smile: SmileDynamics?
    /// `smile` in the kernel's units (variance over τ'), when τ' > 0 and the smile is SVI
    /// (`thresher_subtract_smile_option_profit`); a grid smile's iv(S') is read per path in Swift.
    package private(set) var smileTerms: ThresherSmileTerms?

    /// - Parameter smile: the smile of the option's asset when the option reads its iv from it (nil:
    ///   its own flat iv); only sticky-moneyness at an expiry whose slices are not flat moves the iv.
    public init(account: Int, asset: Int, contract: OptionContract, horizonYears: Double, spot: Double, rate: Double, smile: VolSmile? = nil) {
        self.init(account: account, asset: asset, isCall: contract.isCall, strike: contract.strike, years: contract.expiryYears,
                  horizonYears: horizonYears, quantity: contract.quantity, impliedVol: contract.impliedVol, spot: spot, rate: rate)
        if let smile, smile.dynamics == .stickyMoneyness, !smile.isFlat(years: expiryYears) {
            let dynamics = SmileDynamics(smile: smile, strike: strike, years: expiryYears, spot: spot, rate: rate, impliedVol: impliedVol)
            self.smile = dynamics
            if remainingYears > 0 { smileTerms = dynamics.kernelTerms(remainingYears: remainingYears) }   // nil for a grid
        }
    }

    public init(account: Int, asset: Int, isCall: Bool, strike: Double, years: Double, horizonYears: Double,
                quantity: Double, impliedVol: Double, spot: Double, rate: Double) {
        self.account = account
        self.asset = asset
        self.isCall = isCall
        self.strike = strike
        self.quantity = quantity
        self.impliedVol = impliedVol
        expiryYears = years
        remainingYears = years - horizonYears
        valueNow = BlackScholes.price(isCall: isCall, spot: spot, strike: strike, years: years, rate: rate, vol: impliedVol)
        terms = ThresherOptionTerms()
        setConstantVol(impliedVol, rate: rate)
    }

    /// Prices the option at the constant implied vol `vol` from now on (V₀ unchanged).
    private mutating func setConstantVol(_ vol: Double, rate: Double) {
        impliedVol = vol
        smile = nil
        smileTerms = nil
        terms = kernelTerms(years: max(remainingYears, 0), rate: rate, volScale: 1, valueNow: valueNow)
    }

    /// The flat-iv kernel's terms (`thresher_subtract_option_profit`) of this option with `years` τ > 0
    /// to expiry at its implied vol × `volScale` u (a risk array's vol row, 1 + shift·d): ½·iv·u·√τ,
    /// 1/(iv·u·√τ), r·τ − ln K, K·e^{−rτ}, q and the value `valueNow` its P&L is taken against (USD per
    /// coin; 0: the kernel subtracts q·V). At τ = τ', u = 1 and V₀ they are `terms`, bit for bit.
    package func kernelTerms(years tau: Double, rate: Double, volScale: Double, valueNow: Double) -> ThresherOptionTerms {
        let stdDev = impliedVol * volScale * tau.squareRoot()
        return ThresherOptionTerms(isCall: isCall ? 1 : 0, halfStdDev: 0.5 * stdDev, inverseStdDev: 1 / stdDev,
                                   drift: rate * tau - log(strike), discountedStrike: strike * exp(-rate * tau),
                                   quantity: quantity, valueNow: valueNow)
    }

    /// The smile kernel's terms (`thresher_subtract_smile_option_profit`) with `years` τ > 0 to expiry
    /// and the whole smile scaled by `volScale` u (variance terms × τ·u², so σ'√τ = u·iv(S')·√τ); nil
    /// unless the option reads an SVI smile under sticky-moneyness (a grid's iv(S') is read in Swift).
    /// At τ = τ' and u = 1 they are `smileTerms`.
    package func smileKernelTerms(years tau: Double, volScale: Double) -> ThresherSmileTerms? {
        smile?.kernelTerms(remainingYears: tau * volScale * volScale)
    }

    /// The implied vol at spot S' before any vol factor: the smile's at k' = ln(K/(S'·e^{rT})) under
    /// sticky-moneyness, else `impliedVol`.
    @inline(__always)
    public func impliedVol(atSpot spot: Double) -> Double {
        smile?.impliedVol(logSpot: log(spot)) ?? impliedVol
    }

    /// The scalar twin of the kernels: one option's value V(S, iv(S)·f, τ) (USD per coin, scalar
    /// Black–Scholes with glibc's erfc; intrinsic at τ ≤ 0) at spot S, implied-vol multiplier f and
    /// `years` τ to expiry, for revaluations outside the chunk kernels (the liquidation step, risk
    /// arrays); iv(S) moves with S under sticky-moneyness. With a smile `twist` (a path's smile
    /// factors, `ShockBuffers.smileTwist`, or a stress's), iv(S) is replaced by `twistedVol` at S.
    public func value(spot: Double, volFactor: Double, twist: (skew: Double, term: Double)? = nil, years: Double, rate: Double) -> Double {
        let vol = twist.map { twistedVol(spot: spot, skew: $0.skew, term: $0.term, rate: rate) } ?? impliedVol(atSpot: spot)
        return BlackScholes.price(isCall: isCall, spot: spot, strike: strike, years: years, rate: rate, vol: vol * volFactor)
    }

    /// dV/dS, the option's delta at spot S with `years` τ to expiry (coins per coin of the underlying)
    /// under its smile dynamics, before any vol factor. With iv = iv(S) (`impliedVol(atSpot:)`) and
    /// d1 = (ln(S/K) + (r + iv²/2)·τ)/(iv·√τ), the Black–Scholes delta is Δ = Φ(d1) for a call and
    /// Φ(d1) − 1 for a put. A flat iv or a sticky-strike smile keeps iv(K) as S moves: dV/dS = Δ.
    /// Under sticky-moneyness iv moves with S through k = ln K − rT − ln S, so
    ///   dV/dS = Δ + vega·∂iv/∂S,  vega = S·φ(d1)·√τ,  ∂iv/∂S = −(∂(iv²)/∂k)/(2·iv·S),
    ///   i.e. dV/dS = Δ − φ(d1)·√τ·(∂(iv²)/∂k)/(2·iv),
    /// with ∂(iv²)/∂k = κ·∂w/∂k = κ·Σ λ_s·b_s·(ρ_s + x_s/√(x_s² + σ_s²)), x_s = k − m_s (`SmileDynamics.varianceSlope`).
    /// With a vol multiplier f (a path's vol factor) the option is priced at f·iv(S): d1 takes f·iv,
    /// and the sticky-moneyness term is f times the above, −φ(d1)·√τ·f·(∂(iv²)/∂k)/(2·iv).
    /// At τ ≤ 0 the intrinsic's: 1 or 0 for a call (in or out of the money), −1 or 0 for a put.
    public func delta(spot: Double, years: Double, rate: Double, volFactor: Double = 1) -> Double {
        let smileVol = impliedVol(atSpot: spot), vol = smileVol * volFactor
        guard years > 0, vol > 0 else {
            if isCall { return spot > strike ? 1 : 0 }
            return spot < strike ? -1 : 0
        }
        let root = years.squareRoot(), d1 = (log(spot / strike) + (rate + 0.5 * vol * vol) * years) / (vol * root)
        let delta = isCall ? StandardNormal.cdf(d1) : StandardNormal.cdf(d1) - 1
        guard let smile else { return delta }
        return delta - StandardNormal.density(d1) * root * volFactor * smile.varianceSlope(logSpot: log(spot)) / (2 * smileVol)
    }

    /// The implied vol at spot S' under a smile twist, before any vol factor, annualised:
    /// iv' = max(iv(S') + skew·k' + term·√(30/T_days), 0.01), k' = ln(K/(S'·e^{rT})) the log-moneyness
    /// after the move and T_days = 365·T the days to expiry now.
    /// - Parameters: skew: vol per unit of log-moneyness; term: vol at 30 days to expiry.
    public func twistedVol(spot: Double, skew: Double, term: Double, rate: Double) -> Double {
        let k = log(strike / spot) - rate * expiryYears
        return max(impliedVol(atSpot: spot) + skew * k + term * termScale, Self.twistedVolFloor)
    }

    /// √(30/T_days), the weight of a term move on this option (1 at 30 days to expiry).
    public var termScale: Double { (30 / (365 * expiryYears)).squareRoot() }

    /// The leg under a stress's smile twist at the stressed spot S' (a stress's spot is known, so its
    /// iv is a constant): iv' = `twistedVol`; the stress's relative vol move then scales iv' like any
    /// iv. V₀ is unchanged.
    public func twisted(spot: Double, skew: Double, term: Double, rate: Double) -> OptionLeg {
        var leg = self
        leg.setConstantVol(twistedVol(spot: spot, skew: skew, term: term, rate: rate), rate: rate)
        return leg
    }

    /// The least implied vol a stress twist leaves, annualised (1 %).
    public static let twistedVolFloor = 0.01
}

/// One option's smile under sticky-moneyness, in units of squared implied vol: at spot S',
/// k' = ln K − rT − ln S' and iv(S')² = κ·w(k', T) = variance + Σ_s (slope_s·x_s + wing_s·√(x_s² + curvature_s)),
/// x_s = k' − m_s, over the one or two SVI slices of the option's expiry T (`VolSmile.interpolation`)
/// with their weights λ_s and T folded in (one term when the two share m and σ); κ = iv²/w(k₀, T) makes iv(S) = iv at the spot now (1/T for
/// an iv from the smile; an iv scaled by a what-if scales the whole smile). A grid smile keeps the
/// grid and its rows' weights instead (`grid`): iv(S')² = κ·Σ λ_s·w_s(k') with w_s `VolGrid.row`.
public struct SmileDynamics: Sendable {
    /// ln K − r·T.
    public let moneynessOffset: Double
    let variance: Double
    let slope: [Double], wing: [Double], center: [Double], curvature: [Double]
    /// A grid smile's rows of the option's expiry (index, weight λ_s) and κ; nil for SVI (whose terms
    /// are above; they are empty for a grid).
    let grid: (surface: VolGrid, rows: [(index: Int, weight: Double)], kappa: Double)?

    init(smile: VolSmile, strike: Double, years: Double, spot: Double, rate: Double, impliedVol: Double) {
        moneynessOffset = log(strike) - rate * years
        let kappa = impliedVol * impliedVol / smile.totalVariance(logMoneyness: moneynessOffset - log(spot), years: years)
        if let surface = smile.grid {
            grid = (surface, smile.expiryWeights(years: years), kappa)
            variance = 0
            slope = []
            wing = []
            center = []
            curvature = []
            return
        }
        grid = nil
        let parts = smile.interpolation(years: years)
        variance = kappa * parts.reduce(0) { $0 + $1.weight * $1.slice.a }
        // Two slices with the same vertex m and curvature σ share their root √((k − m)² + σ²): one term.
        let shared = parts.count == 2 && parts[0].slice.m == parts[1].slice.m && parts[0].slice.sigma == parts[1].slice.sigma
        let terms = shared ? [parts[0].slice] : parts.map(\.slice)
        slope = shared ? [kappa * parts.reduce(0) { $0 + $1.weight * $1.slice.b * $1.slice.rho }] : parts.map { kappa * $0.weight * $0.slice.b * $0.slice.rho }
        wing = shared ? [kappa * parts.reduce(0) { $0 + $1.weight * $1.slice.b }] : parts.map { kappa * $0.weight * $0.slice.b }
        center = terms.map(\.m)
        curvature = terms.map { $0.sigma * $0.sigma }
    }

    /// iv(S') at ln S' = `logSpot`, annualised.
    public func impliedVol(logSpot: Double) -> Double {
        let k = moneynessOffset - logSpot
        if let grid {
            var w = 0.0
            for row in grid.rows { w += row.weight * grid.surface.row(row.index, k).variance }
            return (grid.kappa * w).squareRoot()
        }
        var v = variance
        for s in slope.indices {
            let x = k - center[s]
            v += slope[s] * x + wing[s] * (x * x + curvature[s]).squareRoot()
        }
        return v.squareRoot()
    }

    /// ∂(iv²)/∂k at ln S' = `logSpot` (k = ln K − rT − ln S'), per unit of log-moneyness:
    /// Σ_s (slope_s + wing_s·x_s/√(x_s² + curvature_s)), x_s = k − m_s; for a grid κ·Σ λ_s·∂w_s/∂k.
    public func varianceSlope(logSpot: Double) -> Double {
        let k = moneynessOffset - logSpot
        if let grid { return grid.kappa * grid.rows.reduce(0) { $0 + $1.weight * grid.surface.row($1.index, k).slope } }
        var slopeSum = 0.0
        for s in slope.indices {
            let x = k - center[s]
            slopeSum += slope[s] + wing[s] * x / (x * x + curvature[s]).squareRoot()
        }
        return slopeSum
    }

    /// The kernel's terms: variance, slopes and wings × τ' (variance over the years left after the
    /// horizon); nil for a grid smile.
    func kernelTerms(remainingYears tau: Double) -> ThresherSmileTerms? {
        guard grid == nil else { return nil }
        func pair(_ x: [Double], _ unused: Double) -> (Double, Double) { (x[0], x.count > 1 ? x[1] : unused) }
        return ThresherSmileTerms(slices: Int32(slope.count), moneynessOffset: moneynessOffset, variance: variance * tau,
                                  slope: pair(slope.map { $0 * tau }, 0), wing: pair(wing.map { $0 * tau }, 0),
                                  center: pair(center, 0), curvature: pair(curvature, 1))
    }
}
