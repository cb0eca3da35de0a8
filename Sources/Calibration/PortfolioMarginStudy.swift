import Engine
import Foundation
import MonteCarlo
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

/// `policy.portfolio_margin` under the Monte Carlo (README, "Portfolio margin"): how often closing an
/// account over its liquidation period loses more than the risk array's maintenance requirement, and
/// the smallest spot range per asset at which no account's loss on that asset exceeds its
/// requirement with probability above the target p (`calibration.breach_probability`).
///
/// Per path (the tail model's standardized shocks ε, as the ladder's pass reads them) and account a,
/// each asset b it holds moves over the account's liquidation period h_ab = h_liq(n_ab) (n_ab its
/// gross notional on b): S''_b = S_b·e^{σ_b√h_ab·ε_b}; loss_ab = −(w_ab·ΔS_b + Σ_legs q·(V(S''_b, iv, τ − h_ab) − V₀))
/// + Σ_positions I(n)·n (the ladder's impact), and loss_a = Σ_b loss_ab. Breach: loss_a > MM_a.
/// Calibration, per asset b: each holder's own smallest range R_ab with f·IM_ab(R) ≥ VaR_{1−p}(loss_ab)
/// (bisection, assuming the worst loss grows with the range, as it does for books whose loss grows
/// with the move on each side; each VaR the order statistic of its paths), R*_b = max_a R_ab, and the
/// share of holders the policy's range covers; holders no range below ±100 % covers are counted apart.
/// Under `calibration.importance_sampling` (Student-t and t-copula tails) the paths are drawn from the
/// widened mixture and every estimate is weighted by their likelihood ratios w: P(breach) = Σ w·1{breach}/N
/// with standard error √((Σ w²·1{breach}/N − P²)/N), and each pair's VaR the weighted order statistic.
public struct PortfolioMarginStudy: Sendable {
    public let array: RiskArray
    let scenario: Scenario
    let spec: CalibrationSpec
    let model: MarketModel
    /// Per account, per held asset (`array.assetsOf` order): h_ab (years) and the slippage Σ I(n)·n (USD).
    let liquidationYears: [[Double]]
    let slippages: [[Double]]
    /// Per account, its charges at the policy's ranges (`RiskArray.charges`) and MM_a = f·Σ IM_ab.
    let charges: [[RiskArray.AssetCharge]]
    let maintenance: [Double]

    /// - Throws: `ScenarioError` when the scenario has no `calibration:` section (the liquidation
    ///   period and the target come from it) or its policy no `portfolio_margin`.
    public init(scenario: Scenario, file: String? = nil) throws {
        let file = file ?? scenario.name
        let spec = try scenario.requiredCalibration(file: file, why: "the portfolio margin's Monte Carlo needs a 'calibration' section (liquidation period, target)")
        self.spec = spec
        guard let margin = scenario.policy?.portfolioMargin else {
            throw ScenarioError(file: file, path: "policy.portfolio_margin", line: nil, message: "no portfolio_margin in the policy")
        }
        self.scenario = scenario
        let array = RiskArray(spec: margin, scenario: scenario)
        self.array = array
        model = try MarketModel(scenario: scenario, importance: scenario.activeImportanceSampling)
        let market = scenario.market
        let costs = market.assets.map { asset in spec.depth[asset.id].map { LiquidationCost(spec: spec, vol: asset.vol, depth: $0) } }
        var years: [[Double]] = [], slips: [[Double]] = []
        for (a, account) in scenario.portfolio.accounts.enumerated() {
            var accountYears: [Double] = [], accountSlips: [Double] = []
            for b in array.assetsOf[a] {
                var gross = 0.0, slippage = 0.0
                for position in account.positions where market.assetIndex(position.asset) == b {
                    let notional = position.instrument.margin.notional(spot: market.assets[b].spot)
                    gross += notional
                    slippage += (costs[b]?.rate(notional: notional) ?? 0) * notional
                }
                accountYears.append(costs[b]?.horizonYears(notional: gross) ?? 0)
                accountSlips.append(slippage)
            }
            years.append(accountYears)
            slips.append(accountSlips)
        }
        liquidationYears = years
        slippages = slips
        let charges = (0..<array.assetsOf.count).map { array.charges(account: $0) }
        self.charges = charges
        maintenance = charges.map { margin.maintenanceFraction * $0.reduce(0) { $0 + $1.initial } }
    }

    /// One pass over the paths (one stage for all `ranges`: all paths and the sections).
    public static let passes = 1

    /// The widest range searched, just below ±100 %.
    static let widestRange = 1 - 1e-9

    /// The study on each path range, as one stage.
    public func run(settings: RunSettings, ranges: [Range<Int>], cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> [PortfolioMarginResult] {
        let start = DispatchTime.now()
        let level = 1 - spec.breachProbability
        let pairs = array.assetsOf.reduce(0) { $0 + $1.count }
        let pricer = PortfolioMarginPricer(study: self)
        let jobs = ranges.map { range in
            MonteCarloModel(generator: StandardizedShocks(model: model), pricer: pricer)
                .job(paths: range, settings: settings,
                     makeAccumulator: { PortfolioMarginTotals(accounts: array.assetsOf.count, pairs: pairs, plan: TailPlan(totalPaths: range.count, levels: [level]),
                                                              weighted: model.importance != nil) },
                     cancellation: cancellation, progress: progress)
        }
        let totals = try MonteCarlo.accumulate(jobs, settings: settings)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return zip(ranges, totals).map { result(paths: $0.count, totals: $1, elapsed: elapsed) }
    }

    /// The result of one range's totals.
    func result(paths: Int, totals: PortfolioMarginTotals, elapsed: Double) -> PortfolioMarginResult {
        let n = Double(paths), ids = scenario.portfolio.accounts.map(\.id), assets = scenario.market.assets.map(\.id)
        // The pairs' VaRs, in the pricer's order: account by account, its held assets in order.
        let pairStart = array.assetsOf.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        func valueAtRisk(account a: Int, held k: Int) -> Double { totals.valueAtRisk(pair: pairStart[a] + k) }
        let accounts = array.assetsOf.indices.map { a -> PortfolioMarginResult.Account in
            let charges = self.charges[a]
            return .init(id: ids[a], initial: charges.reduce(0) { $0 + $1.initial }, maintenance: maintenance[a],
                         breachProbability: totals.breaches.mass(a) / n, standardError: totals.breaches.standardError(a, paths: paths),
                         charges: charges.map { .init(asset: assets[$0.asset], initial: $0.initial, worstLoss: $0.worstLoss, binding: $0.bindingLabel,
                                                         netDeltaCharge: $0.netDeltaCharge, shortOptionCharge: $0.shortOptionCharge) })
        }
        let ranges = scenario.market.assets.indices.compactMap { b -> PortfolioMarginResult.AssetRange? in
            guard let current = array.spec.spotRange[b] else { return nil }
            let holders = array.assetsOf.indices.compactMap { a in array.assetsOf[a].firstIndex(of: b).map { (a, valueAtRisk(account: a, held: $0)) } }
            guard !holders.isEmpty else { return nil }
            // Each account's own smallest range; the asset's is the largest. Accounts no range covers
            // (nil: their loss is bounded below the tail, e.g. long options under maintenance_fraction
            // < 1) are left to the fraction and the minimums, and counted.
            let needed = holders.map { smallestRange(account: $0.0, asset: b, valueAtRisk: $0.1) }
            let coverable = needed.compactMap { $0 }
            let covered = coverable.filter { $0 <= current }.count
            return .init(asset: assets[b], current: current, calibrated: coverable.max() ?? .nan, reached: !coverable.isEmpty, accounts: holders.count,
                         uncoverable: holders.count - coverable.count, coveredByPolicy: Double(covered) / Double(holders.count))
        }
        return PortfolioMarginResult(paths: paths, elapsedSeconds: elapsed, targetBreachProbability: spec.breachProbability,
                                     maintenanceFraction: array.spec.maintenanceFraction, accounts: accounts, ranges: ranges)
    }

    /// The smallest range R in [0, 1) with f·IM_ab(R) ≥ VaR_ab, by bisection to 10⁻⁹; 0 when the
    /// extended moves and the minimum charges alone suffice; nil when even R → 1 falls short.
    func smallestRange(account a: Int, asset b: Int, valueAtRisk: Double) -> Double? {
        let f = array.spec.maintenanceFraction
        func covers(_ range: Double) -> Bool { f * array.charge(account: a, asset: b, range: range).initial >= valueAtRisk }
        var low = 0.0, high = Self.widestRange
        guard covers(high) else { return nil }
        if covers(0) { return 0 }
        while high - low > 1e-9 {
            let mid = 0.5 * (low + high)
            if covers(mid) { high = mid } else { low = mid }
        }
        return high
    }
}

/// What the portfolio-margin pass accumulates: per account the paths whose liquidation-period loss
/// exceeded its maintenance requirement (weighted under importance sampling), and per (account, held
/// asset) the loss's upper tail (`weightedPairLosses` instead of `pairLosses` under importance sampling).
struct PortfolioMarginTotals: PathAccumulator {
    var breaches: BreachCounts
    var pairLosses: [TailAccumulator]
    var weightedPairLosses: [WeightedTailAccumulator]

    init(accounts: Int, pairs: Int, plan: TailPlan, weighted: Bool) {
        breaches = BreachCounts(count: accounts, weighted: weighted)
        pairLosses = weighted ? [] : Array(repeating: TailAccumulator(plan: plan), count: pairs)
        weightedPairLosses = weighted ? Array(repeating: WeightedTailAccumulator(plan: plan), count: pairs) : []
    }

    /// Pair k's loss VaR at the plan's level (weighted under importance sampling), USD.
    func valueAtRisk(pair k: Int) -> Double {
        weightedPairLosses.isEmpty ? pairLosses[k].summary(retainingLosses: false).levels[0].valueAtRisk : weightedPairLosses[k].summary().levels[0].valueAtRisk
    }

    /// - Complexity: O(accounts + pairs × the tails' kept sizes).
    mutating func merge(_ other: PortfolioMarginTotals) {
        breaches.merge(other.breaches)
        for k in pairLosses.indices { pairLosses[k].merge(other.pairLosses[k]) }
        for k in weightedPairLosses.indices { weightedPairLosses[k].merge(other.weightedPairLosses[k]) }
    }

    func encode(to writer: inout StateWriter) {
        breaches.encode(to: &writer)
        writer.write(each: pairLosses)
        writer.write(each: weightedPairLosses)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try breaches.decode(from: &reader)
        try reader.read(each: &pairLosses, of: "account assets")
        try reader.read(each: &weightedPairLosses, of: "account assets")
    }
}

/// Revalues each account's positions asset by asset over its liquidation period on a chunk of ε: per
/// account a and asset b, S''_j = S·e^{σ_b√h_ab·ε_j} (ln S''_j = ln S + σ_b√h_ab·ε_j) and each option on b
/// repriced at τ − h_ab by the Black–Scholes vector kernel over the chunk's paths (`ChunkLeg`; the
/// scalar `OptionLeg.value` to the last bits).
struct PortfolioMarginPricer: PathPricer {
    let study: PortfolioMarginStudy

    final class Rows {
        /// One row per asset (the pair's losses), then the account's total.
        let values: UnsafeMutablePointer<Double>
        let capacity: Int
        let count: Int
        /// The moved spots, their logs and the kernels' scratch.
        let kernel: RiskArrayRows
        init(assets: Int, capacity: Int) {
            self.capacity = capacity
            count = assets + 1
            values = .allocate(capacity: count * capacity)
            kernel = RiskArrayRows(capacity: capacity)
        }
        deinit { values.deallocate() }
    }

    func makeWorkspace(capacity: Int) -> Rows { Rows(assets: study.model.assetCount, capacity: capacity) }

    func price(_ shocks: ShockBuffers, count m: Int, workspace: Rows, into totals: inout PortfolioMarginTotals) {
        let array = study.array, book = array.book, n = book.assetCount, ld = workspace.capacity, rows = workspace.kernel
        let total = workspace.values + n * ld
        let weights: UnsafePointer<Double>? = shocks.isWeighted ? UnsafePointer(shocks.importanceWeights) : nil
        var pair = 0
        for (a, held) in array.assetsOf.enumerated() {
            total.update(repeating: 0, count: m)
            for (k, b) in held.enumerated() {
                let row = workspace.values + k * ld, eps = shocks.row(shocks.epsilon, asset: b)
                let spot = array.spots[b], logSpot = log(spot), weight = book.linearWeights[a * n + b], slippage = study.slippages[a][k]
                let years = study.liquidationYears[a][k], scale = study.scenario.market.assets[b].vol * years.squareRoot()
                for j in 0..<m {
                    let x = scale * eps[j], moved = spot * exp(x)
                    rows.moved[j] = moved
                    rows.logMoved[j] = logSpot + x
                    row[j] = slippage - weight * (moved - spot)
                }
                // Each option on b at its time to expiry after h_ab: row −= q·(V(S'', iv(S''), τ − h_ab) − V₀).
                for leg in book.options(ofAccount: a) where leg.asset == b {
                    ChunkLeg(leg, years: array.yearsNow(leg) - years, rate: book.rate, valueNow: leg.valueNow)
                        .subtract(scale: 0, count: m, spot: rows.moved, logSpot: rows.logMoved, factor: rows.ones, inverse: rows.ones, into: row, rows: rows)
                }
                for j in 0..<m { total[j] += row[j] }
                if let weights {
                    totals.weightedPairLosses[pair].add(row, weights: weights, count: m)
                } else {
                    totals.pairLosses[pair].add(row, count: m)
                }
                pair += 1
            }
            totals.breaches.add(a, values: total, above: study.maintenance[a], count: m, weights: weights)
        }
    }
}

/// `evaluate` and `calibrate` of a portfolio-margined policy (README, "Portfolio margin").
public struct PortfolioMarginResult: Sendable {
    public let paths: Int
    public let elapsedSeconds: Double
    public let targetBreachProbability: Double
    public let maintenanceFraction: Double
    public let accounts: [Account]
    /// Per margined asset that some account holds: the policy's range and the calibrated one.
    public let ranges: [AssetRange]

    public struct Account: Sendable {
        public let id: String
        /// IM_a and MM_a = f·IM_a, USD.
        public let initial: Double
        public let maintenance: Double
        /// P(loss over the liquidation period > MM_a), and its binomial standard error.
        public let breachProbability: Double
        public let standardError: Double
        public let charges: [Charge]
    }

    public struct Charge: Sendable {
        public let asset: String
        public let initial: Double
        public let worstLoss: Double
        /// The array point (or minimum) that sets the charge.
        public let binding: String
        public let netDeltaCharge: Double
        public let shortOptionCharge: Double
    }

    public struct AssetRange: Sendable {
        public let asset: String
        /// The policy's half-range and the smallest that meets the target (NaN when not reached).
        public let current: Double
        public let calibrated: Double
        public let reached: Bool
        /// Accounts holding the asset, and those among them whose loss tail no range below ±100 %
        /// covers (left out of the search: the maintenance fraction and the minimums must).
        public let accounts: Int
        public let uncoverable: Int
        /// The share of the holders whose own smallest range is within the policy's.
        public let coveredByPolicy: Double
    }
}
