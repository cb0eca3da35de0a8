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
/// A group of assets (`policy.portfolio_margin.groups`) is calibrated as one: R*_g = max over its members
/// b and their holders a of R_ab (one parameter for the group; each asset is still revalued alone, no
/// offsets between underlyings). Per asset or group also the smallest scale s* of the vol shifts at the
/// policy's range (`smallestVolScale`), and, on the first path range (the full run), the sensitivity of
/// R* to the target (p/2, 2p) and to the vol shifts (× 0, 0.5, 2).
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

    /// The vol-shift scales of the sensitivity table.
    public static let sensitivityScales = [0.0, 0.5, 2.0]

    /// The sensitivity's other targets: p/2 and 2p (2p only where < 1), p = `calibration.breach_probability`.
    var otherTargets: [Double] {
        let p = spec.breachProbability
        return [p / 2] + (2 * p < 1 ? [2 * p] : [])
    }

    /// The VaR levels the pass keeps per (account, asset): 1 − p, then 1 − q for each of `otherTargets`.
    var levels: [Double] { [1 - spec.breachProbability] + otherTargets.map { 1 - $0 } }

    /// The units calibrated: per margined asset that some account holds, alone or as its group (at the
    /// place of the group's first member), with the held margined members.
    var units: [(name: String, isGroup: Bool, members: [Int])] {
        let spec = array.spec
        let held = Set(array.assetsOf.joined()).filter { spec.spotRange[$0] != nil }
        var units: [(name: String, isGroup: Bool, members: [Int])] = [], seen = Set<String>()
        for b in spec.spotRange.indices where held.contains(b) {
            if let group = spec.group(of: b) {
                guard seen.insert(group.name).inserted else { continue }
                units.append((group.name, true, group.members.filter(held.contains)))
            } else {
                units.append((scenario.market.assets[b].id, false, [b]))
            }
        }
        return units
    }

    /// The study on each path range, as one stage; with `volShifts`, each asset's (or group's)
    /// vol-shift scale too, and on the first range the sensitivity of the calibrated ranges.
    public func run(settings: RunSettings, ranges: [Range<Int>], volShifts: Bool = true, cancellation: Cancellation? = nil,
                    progress: RunProgress? = nil) throws -> [PortfolioMarginResult] {
        let start = DispatchTime.now()
        let pairs = array.assetsOf.reduce(0) { $0 + $1.count }
        let pricer = PortfolioMarginPricer(study: self)
        let jobs = ranges.map { range in
            MonteCarloModel(generator: StandardizedShocks(model: model), pricer: pricer)
                .job(paths: range, settings: settings,
                     makeAccumulator: { PortfolioMarginTotals(accounts: array.assetsOf.count, pairs: pairs, plan: TailPlan(totalPaths: range.count, levels: levels),
                                                              weighted: model.importance != nil) },
                     cancellation: cancellation, progress: progress)
        }
        let totals = try MonteCarlo.accumulate(jobs, settings: settings)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return zip(ranges, totals).enumerated().map { result(paths: $1.0.count, totals: $1.1, elapsed: elapsed, volShifts: volShifts, sensitivity: volShifts && $0 == 0, threads: settings.threads) }
    }

    /// The result of one range's totals; the vol-shift scales where `volShifts`, the sensitivity of the calibrated ranges where `sensitivity`;
    /// the searches per holder on `threads` workers.
    func result(paths: Int, totals: PortfolioMarginTotals, elapsed: Double, volShifts: Bool, sensitivity: Bool, threads: Int = 1) -> PortfolioMarginResult {
        let n = Double(paths), ids = scenario.portfolio.accounts.map(\.id), assets = scenario.market.assets.map(\.id)
        // The pairs' VaRs at the plan's levels, in the pricer's order: account by account, its held assets in order.
        let pairStart = array.assetsOf.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        let accounts = array.assetsOf.indices.map { a -> PortfolioMarginResult.Account in
            let charges = self.charges[a]
            return .init(id: ids[a], initial: charges.reduce(0) { $0 + $1.initial }, maintenance: maintenance[a],
                         breachProbability: totals.breaches.mass(a) / n, standardError: totals.breaches.standardError(a, paths: paths),
                         charges: charges.map { .init(asset: assets[$0.asset], initial: $0.initial, worstLoss: $0.worstLoss, binding: $0.bindingLabel,
                                                         netDeltaCharge: $0.netDeltaCharge, shortOptionCharge: $0.shortOptionCharge) })
        }
        let ranges = units.map { unit -> PortfolioMarginResult.AssetRange in
            // The holders: (account, asset) pairs of the unit's members, with their VaRs.
            let holders = unit.members.flatMap { b in
                array.assetsOf.indices.compactMap { a in array.assetsOf[a].firstIndex(of: b).map { (a: a, b: b, pair: pairStart[a] + $0) } }
            }
            let valuesAtRisk = holders.map { totals.valuesAtRisk(pair: $0.pair) }
            let study = UnitStudy(study: self, holders: holders.map { ($0.a, $0.b) }, valuesAtRisk: valuesAtRisk, threads: threads)
            let needed = study.smallestRanges(level: 0, volScale: 1)
            let coverable = needed.compactMap { $0 }
            let covered = zip(holders, needed).filter { holder, range in range.map { $0 <= array.spec.spotRange[holder.b]! } ?? false }.count
            let scale = volShifts ? study.volShiftScale() : nil
            return .init(asset: unit.name, members: unit.isGroup ? unit.members.map { assets[$0] } : [],
                         current: unit.members.map { array.spec.spotRange[$0]! }.max()!, calibrated: coverable.max() ?? .nan, reached: !coverable.isEmpty,
                         accounts: holders.count, uncoverable: holders.count - coverable.count, coveredByPolicy: Double(covered) / Double(holders.count),
                         volShiftScale: scale?.scale, volShiftUncoverable: scale?.uncoverable,
                         sensitivity: sensitivity ? study.sensitivity(targets: otherTargets) : nil)
        }
        return PortfolioMarginResult(paths: paths, elapsedSeconds: elapsed, targetBreachProbability: spec.breachProbability,
                                     maintenanceFraction: array.spec.maintenanceFraction, accounts: accounts, ranges: ranges)
    }

    /// The searches of one asset or group over its holders (account, asset), each with its VaRs at the
    /// pass's levels (`levels` order), run for the holders in parallel.
    struct UnitStudy: Sendable {
        let study: PortfolioMarginStudy
        let holders: [(a: Int, b: Int)]
        let valuesAtRisk: [[Double]]
        let threads: Int

        /// `search(holder k)` for every holder, on `threads` workers (each a pure function of k: the
        /// result does not depend on `threads`).
        func each<T: Sendable>(_ search: @escaping @Sendable (Int) -> T) -> [T] {
            parallelMap(holders.count, threads: threads) { $0.map(search) }
        }

        /// Each holder's smallest range at the VaR of `levels[level]`, its asset's vol shifts × `volScale` (nil: none below ±100 %).
        func smallestRanges(level: Int, volScale: Double) -> [Double?] {
            each { k in study.smallestRange(account: holders[k].a, asset: holders[k].b, valueAtRisk: valuesAtRisk[k][level], volScale: volScale) }
        }

        /// s* and the holders no vol shift covers. A holder is coverable by the shifts when
        /// f·IM(R_b, s_max) ≥ its VaR at its asset's policy range R_b (`smallestVolScale` not nil; a
        /// holder covered at s = 0 is); s* is the largest of the coverable holders' smallest scales,
        /// the smallest s at which all of them are covered, and the others (a perp's shortfall, say,
        /// that no vol move reaches) are counted apart, as the range calibration counts the holders no
        /// range covers. `.reached(0)` when every coverable holder is covered at s = 0; `.notReached`
        /// when no holder is coverable (then every holder is short at s = 0 and the count is all of
        /// them); `.noOptions` (count nil) when no holder has an option on the asset.
        func volShiftScale() -> (scale: PortfolioMarginResult.VolShiftScale, uncoverable: Int?) {
            guard holders.contains(where: { study.array.holdsOptions(account: $0.a, asset: $0.b) }) else { return (.noOptions, nil) }
            // Per holder: its smallest scale, nil where none up to s_max covers it.
            let scales = each { k in study.smallestVolScale(account: holders[k].a, asset: holders[k].b, valueAtRisk: valuesAtRisk[k][0]) }
            let coverable = scales.compactMap { $0 }
            let uncoverable = scales.count - coverable.count
            guard let largest = coverable.max() else { return (.notReached, uncoverable) }
            return (.reached(largest), uncoverable)
        }

        /// R* (the largest coverable holder's smallest range; nil where none is coverable) at each of
        /// `targets` (the pass's levels after the first) and at each vol-shift scale of `sensitivityScales`.
        func sensitivity(targets: [Double]) -> PortfolioMarginResult.Sensitivity {
            func point(_ value: Double, _ needed: [Double?]) -> PortfolioMarginResult.Sensitivity.Point {
                let coverable = needed.compactMap { $0 }
                return .init(value: value, calibrated: coverable.max(), uncoverable: needed.count - coverable.count)
            }
            return .init(targets: targets.enumerated().map { point($1, smallestRanges(level: $0 + 1, volScale: 1)) },
                         volScales: PortfolioMarginStudy.sensitivityScales.map { point($0, smallestRanges(level: 0, volScale: $0)) })
        }
    }

    /// The smallest range R in [0, 1) with f·IM_ab(R) ≥ VaR_ab (b's vol shifts × `volScale`), by
    /// bisection to 10⁻⁹; 0 when the extended moves and the minimum charges alone suffice; nil when
    /// even R → 1 falls short.
    func smallestRange(account a: Int, asset b: Int, valueAtRisk: Double, volScale: Double = 1) -> Double? {
        let f = array.spec.maintenanceFraction
        func covers(_ range: Double) -> Bool { f * array.charge(account: a, asset: b, range: range, volScale: volScale).initial >= valueAtRisk }
        var low = 0.0, high = Self.widestRange
        guard covers(high) else { return nil }
        if covers(0) { return 0 }
        while high - low > 1e-9 {
            let mid = 0.5 * (low + high)
            if covers(mid) { high = mid } else { low = mid }
        }
        return high
    }

    /// The largest vol-shift scale searched for asset b: where up·s = 10 (the largest up shift the
    /// policy accepts), or, with no up shift, where down·s = 1 (beyond it the down shift stays capped
    /// just below 1); 0 for an asset with no vol shift.
    func largestVolScale(asset b: Int) -> Double {
        let shift = array.spec.volShifts[b]
        return shift.up > 0 ? 10 / shift.up : (shift.down > 0 ? 1 / shift.down : 0)
    }

    /// The smallest scale s in [0, s_max] (`largestVolScale`) of b's vol shifts (up·s, down·s capped
    /// just below 1, `VolShift.scaled`) with f·IM_ab(R_b, s) ≥ VaR_ab at b's policy range R_b, by
    /// bisection to 10⁻⁹·max(1, s_max); 0 when the range alone suffices; nil when even s_max falls short.
    /// Assumes IM_ab grows with s, as it does when a's options on b lose on one side of a common vol
    /// move (all long or all short vega, or spreads whose vega keeps its sign over the shifts): the
    /// worst of the up and down rows then only widens; for other books the bisection finds a scale
    /// where coverage begins, not necessarily the smallest.
    func smallestVolScale(account a: Int, asset b: Int, valueAtRisk: Double) -> Double? {
        let f = array.spec.maintenanceFraction, range = array.spec.spotRange[b]!, largest = largestVolScale(asset: b)
        func covers(_ scale: Double) -> Bool { f * array.charge(account: a, asset: b, range: range, volScale: scale).initial >= valueAtRisk }
        if covers(0) { return 0 }
        guard largest > 0, covers(largest) else { return nil }
        var low = 0.0, high = largest
        let tolerance = 1e-9 * max(1, largest)
        while high - low > tolerance {
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

    /// Pair k's loss VaRs at the plan's levels (weighted under importance sampling), USD.
    func valuesAtRisk(pair k: Int) -> [Double] {
        (weightedPairLosses.isEmpty ? pairLosses[k].summary(retainingLosses: false) : weightedPairLosses[k].summary()).levels.map(\.valueAtRisk)
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
    /// Per margined asset that some account holds, or per group of them: the policy's range and the calibrated one.
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
        /// The asset, or the group's name.
        public let asset: String
        /// A group's held margined members (empty for an asset alone).
        public let members: [String]
        public var isGroup: Bool { !members.isEmpty }
        /// The policy's half-range (a group's: the widest of its members', which differ only where an
        /// asset's own key overrides the group's) and the smallest that meets the target (NaN when not reached).
        public let current: Double
        public let calibrated: Double
        public let reached: Bool
        /// Accounts holding the asset, and those among them whose loss tail no range below ±100 %
        /// covers (left out of the search: the maintenance fraction and the minimums must).
        public let accounts: Int
        public let uncoverable: Int
        /// The share of the holders whose own smallest range is within the policy's.
        public let coveredByPolicy: Double
        /// The smallest scale of the vol shifts that, at the policy's range, covers every holder that
        /// the largest scale searched covers (nil: not searched, as under `robustness`).
        public let volShiftScale: VolShiftScale?
        /// Holders that even the largest scale searched leaves short at the policy's range (left out
        /// of the scale, as `uncoverable` is of the range; nil: not searched, or no options).
        public let volShiftUncoverable: Int?
        /// R* against the target and the vol shifts (the first path range only; nil on sections).
        public let sensitivity: Sensitivity?
    }

    /// The calibrated vol-shift scale s* of an asset or group.
    public enum VolShiftScale: Sendable, Equatable {
        /// No holder has an option on the asset (its charge does not depend on the shifts).
        case noOptions
        /// No holder is covered even at the largest scale searched (each is short at every scale).
        case notReached
        case reached(Double)

        public var value: Double? {
            if case .reached(let s) = self { return s }
            return nil
        }
    }

    /// The calibrated range R* of an asset or group at other targets and other vol-shift scales.
    public struct Sensitivity: Sendable {
        public struct Point: Sendable {
            /// The target breach probability, or the vol-shift scale.
            public let value: Double
            /// R* there (nil: no holder coverable).
            public let calibrated: Double?
            /// Holders no range below ±100 % covers there (left out of R*, as in the calibration).
            public let uncoverable: Int
        }

        /// At p/2 and 2p (2p only where < 1), the policy's vol shifts.
        public let targets: [Point]
        /// At target p, the vol shifts × each of `PortfolioMarginStudy.sensitivityScales`.
        public let volScales: [Point]
    }
}
