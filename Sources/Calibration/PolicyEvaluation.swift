import Engine
import Foundation
import MonteCarlo
import ScenarioSpec
import TailStats
import WorkerPool

/// A given margin policy (`policy:`) evaluated under the scenario's model (`thresher evaluate`):
/// how often each tier's margin is breached, who is liquidated, whether the penalty pays for the
/// deficits and whether the fund holds. Expectations are per path, USD.
public struct PolicyEvaluation: Sendable {
    /// One asset, tier and side of the ladder. A liquidation of a position of the tier's notional n
    /// over h_liq(n) breaches its margin m when its loss rate exceeds m:
    /// long: 1 − e^{σ√h_liq·ε} + I(n) > m ⟺ ε < ln(1 + I − m)/(σ√h_liq);
    /// short: e^{σ√h_liq·ε} − 1 + I(n) > m ⟺ ε > ln(1 + m − I)/(σ√h_liq).
    public struct TierBreach: Sendable {
        public let asset: String
        public let upTo: Double
        public let side: Side
        public let maintenance: Double
        public let initial: Double?
        public let liquidationHours: Double
        public let impact: Double
        /// P(breach), the fraction of paths whose standardized shock crosses the threshold.
        public let probability: Double
        /// √(p(1−p)/N).
        public let standardError: Double
    }

    public struct AccountRisk: Sendable {
        public let id: String
        public let equity: Double
        public let requirement: Double
        /// Equity now below the requirement now.
        public let inBreach: Bool
        public let liquidationProbability: Double
        /// P(liquidated at the horizon, and equity left alone over the liquidation period would have
        /// come back above maintenance at S''): the cost of intervening too early.
        public let unnecessaryLiquidationProbability: Double
        public let expectedDeficit: Double
        /// Under cascades (nil without): P(deleveraged by the spec's ADL rule) and E[haircut], USD per path.
        public let deleveragedProbability: Double?
        public let expectedHaircut: Double?
    }

    public let scenario: Scenario
    public let paths: Int
    public let elapsedSeconds: Double
    /// The target of `calibration.breach_probability`, for comparison.
    public let targetBreachProbability: Double
    public let tiers: [TierBreach]
    public let accounts: [AccountRisk]
    public let penaltyRate: Double
    public let expectedIncome: Double
    public let expectedIncomeStandardError: Double
    public let expectedDeficit: Double
    public let expectedDeficitStandardError: Double
    /// E[penalty income] / E[deficit] (∞ shown as nil when there is no deficit).
    public var coverageRatio: Double? { expectedDeficit > 0 ? expectedIncome / expectedDeficit : nil }
    public let fundConfidence: Double
    /// VaR and ES of the per-path net deficit Σ deficits − Σ penalties.
    public let fund: TailSummary.Level
    public let fundBalance: Double?
    /// P(net deficit > balance).
    public let fundShortfallProbability: Double?
    /// When the liquidations happened (`calibration.liquidation.monitoring`).
    public let breachTimes: BreachTimeSummary
    /// What cascades did (`calibration.liquidation.cascade`; nil without).
    public let cascade: CascadeSummary?
    /// Under cascades: the same policy on the same paths with each account liquidated as if alone.
    public var withoutCascade: Comparison?
    /// Under `policy.portfolio_margin`: the same paths through the waterfall with the risk array's
    /// maintenance as the requirement (`RiskArrayWaterfall`).
    public var underRiskArray: RiskArrayWaterfall?

    /// The figures cascades change, for a side-by-side (`withoutCascade`).
    public struct Comparison: Sendable {
        public let expectedLiquidations: Double
        public let expectedDeficit: Double
        public let expectedIncome: Double
        public let fund: TailSummary.Level
        public let fundShortfallProbability: Double?

        init(_ e: PolicyEvaluation) {
            expectedLiquidations = e.accounts.map(\.liquidationProbability).reduce(0, +)
            (expectedDeficit, expectedIncome, fund, fundShortfallProbability) = (e.expectedDeficit, e.expectedIncome, e.fund, e.fundShortfallProbability)
        }
    }
    /// Its binomial standard error.
    public var fundShortfallStandardError: Double? { fundShortfallProbability.map { Self.binomialStandardError($0, paths: paths) } }

    /// √(p(1 − p)/n) of a proportion p estimated from n paths.
    static func binomialStandardError(_ p: Double, paths: Int) -> Double { (p * (1 - p) / Double(paths)).squareRoot() }
}

/// Evaluates the scenario's `policy:` with the liquidation model of its `calibration:` section
/// (horizon, depth, impact, fund confidence), over the same paths as `calibrate`, in one pass: each
/// chunk's draws give the breach counts per tier and side (from the standardized shocks, the draws
/// of calibrate's pass A), and the waterfall with the policy's ladder and penalty gives the
/// liquidation probability and deficit per account, the income, the net deficit's VaR/ES and
/// P(deficit > fund).
public struct PolicyEvaluator {
    public private(set) var scenario: Scenario
    public let policy: MarginPolicy
    public private(set) var spec: CalibrationSpec
    /// The paths evaluated (nil: all of the scenario's), e.g. one section of `thresher robustness`.
    public var paths: Range<Int>?
    /// Whether the waterfall's requirement is the risk array of `policy.portfolio_margin`
    /// (`Waterfall(scenario:spec:schedule:riskArray:)`; no tier breach counts) instead of the ladder.
    var requirementIsRiskArray = false
    /// Passes over the paths: a progress total is `passes` × paths.
    public static let passes = 1

    public init(scenario: Scenario, file: String) throws {
        guard let policy = scenario.policy else {
            throw Scenario.missingSection("policy", file: file, why: "thresher evaluate needs the ladder, penalty and fund to evaluate")
        }
        spec = try scenario.requiredCalibration(
            file: file, why: "thresher evaluate reads the liquidation model (liquidation.horizon_hours, depth, impact) and the fund confidence from it")
        self.scenario = scenario
        self.policy = policy
    }

    /// Under cascades, the evaluation with each account liquidated as if alone runs beside it on the
    /// same paths (one pass: the same draws) and fills `withoutCascade`; under
    /// `policy.portfolio_margin`, the waterfall with the risk array as the requirement runs beside it
    /// in the same stage (sharing its chunks where the ladder's monitoring is also at the horizon's
    /// end) and fills `underRiskArray`.
    public func run(settings: RunSettings, cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> PolicyEvaluation {
        var evaluators = [self]
        if spec.cascade != nil {
            var alone = self
            alone.scenario.calibration?.cascade = nil
            alone.spec.cascade = nil
            evaluators.append(alone)
        }
        if policy.portfolioMargin != nil {
            var array = self
            array.requirementIsRiskArray = true
            evaluators.append(array)
        }
        let results = try Self.run(evaluators, settings: settings, cancellation: cancellation, progress: progress)
        var result = results[0]
        if spec.cascade != nil { result.withoutCascade = PolicyEvaluation.Comparison(results[1]) }
        if policy.portfolioMargin != nil { result.underRiskArray = RiskArrayWaterfall(results[results.count - 1]) }
        return result
    }

    /// Passes over the paths of `run` beyond `passes`: one where the risk array's waterfall (checked
    /// at the horizon's end) cannot share the ladder's draws (monitoring inside the horizon).
    public static func riskArrayPasses(_ scenario: Scenario) -> Int {
        guard scenario.policy?.portfolioMargin != nil, let spec = scenario.calibration else { return 0 }
        return LiquidationProcesses.draws(spec.monitoring, scenario: scenario) == .independentMove ? 0 : 1
    }

    /// Breach thresholds on ε per (asset, tier, side) of the policy's ladder.
    private var breachThresholds: [(asset: Int, tier: MarginTier, side: Side, cost: LiquidationCost, bound: Double)] {
        var thresholds: [(asset: Int, tier: MarginTier, side: Side, cost: LiquidationCost, bound: Double)] = []
        for (i, asset) in scenario.market.assets.enumerated() {
            guard let depth = spec.depth[asset.id] else { continue }
            let cost = LiquidationCost(spec: spec, vol: asset.vol, depth: depth)
            for tier in policy.schedule.tiers[i] {
                let scale = asset.vol * cost.horizonYears(notional: tier.upTo).squareRoot()
                let impact = cost.rate(notional: tier.upTo)
                let longGap = 1 + impact - tier.maintenanceLong, shortGap = 1 + tier.maintenanceShort - impact
                thresholds.append((i, tier, .long, cost, longGap > 0 ? log(longGap) / scale : -.infinity))
                thresholds.append((i, tier, .short, cost, shortGap > 0 ? log(shortGap) / scale : -.infinity))
            }
        }
        return thresholds
    }

    /// Several evaluations (the cells of `thresher robustness`) in one stage per batch of them whose
    /// waterfalls fit within `memoryLimit` (`WaterfallBatches`; one batch for a run spread over
    /// processes): one job per market,
    /// each chunk drawn and the book revalued once, then the breach counts, the waterfall under each
    /// policy's ladder and its net deficit at the policy's penalty (`WaterfallCells`). Each result is
    /// the one the evaluation run alone gives, bit for bit.
    public static func run(_ evaluators: [PolicyEvaluator], settings: RunSettings, memoryLimit: Int = AccountGroups.defaultMemoryLimit,
                           cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> [PolicyEvaluation] {
        let start = DispatchTime.now()
        return try WaterfallBatches.ranges(evaluators.map(\.scenario), settings: settings, memoryLimit: memoryLimit).flatMap { batch in
            let cells = try evaluators[batch].map { try $0.cell() }
            let groups = WaterfallCells.groups(cells.map(\.key))
            let totals = try WaterfallCells.accumulate(groups: groups, paths: cells.map(\.key.paths), settings: settings, cancellation: cancellation,
                                                       progress: progress) { cells[$0].cell }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
            return cells.indices.map { evaluators[batch.lowerBound + $0].result(elapsed: elapsed, cell: cells[$0], totals: totals[$0]) }
        }
    }

    /// One evaluation as a cell of a shared pass: its market and paths (cells with equal keys share
    /// a job), what it settles and counts, and the thresholds its breach counts are read against.
    struct Cell {
        let key: MarketKey
        let cell: WaterfallCell
        let thresholds: [(asset: Int, tier: MarginTier, side: Side, cost: LiquidationCost, bound: Double)]
    }

    func cell() throws -> Cell {
        let thresholds = requirementIsRiskArray ? [] : breachThresholds
        let paths = self.paths ?? 0..<scenario.simulation.paths
        let waterfall = try requirementIsRiskArray
            ? Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule, riskArray: RiskArray(spec: policy.portfolioMargin!, scenario: scenario))
            : Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule)
        let fund = FundPlan(rate: policy.liquidationPenalty ?? 0, balance: policy.insuranceFund,
                            plan: TailPlan(totalPaths: paths.count, levels: [spec.insuranceConfidence]))
        return Cell(key: MarketKey(market: scenario.market, paths: paths, draws: waterfall.process.draws, importance: waterfall.model.importance),
                    cell: WaterfallCell(waterfall: waterfall,
                                        plan: .evaluation(breaches: thresholds.map { BreachThreshold(asset: $0.asset, side: $0.side, bound: $0.bound) },
                                                          fund: fund)),
                    thresholds: thresholds)
    }

    func result(elapsed: Double, cell: Cell, totals: CellTotals) -> PolicyEvaluation {
        let evaluation = totals.evaluation
        return result(elapsed: elapsed, thresholds: cell.thresholds, breaches: evaluation.breaches, waterfall: cell.cell.waterfall,
                      totals: evaluation.waterfall, fund: evaluation.fund)
    }

    private func result(elapsed: Double, thresholds: [(asset: Int, tier: MarginTier, side: Side, cost: LiquidationCost, bound: Double)], breaches: BreachCounts,
                        waterfall: Waterfall, totals: WaterfallTotals, fund: FundTotals) -> PolicyEvaluation {
        let paths = self.paths?.count ?? scenario.simulation.paths
        let n = Double(paths)
        let market = scenario.market
        let rate = policy.liquidationPenalty ?? 0
        let tiers = thresholds.enumerated().map { k, threshold -> PolicyEvaluation.TierBreach in
            let p = breaches.mass(k) / n
            return .init(asset: market.assets[threshold.asset].id, upTo: threshold.tier.upTo, side: threshold.side,
                         maintenance: threshold.tier.maintenance(threshold.side), initial: threshold.tier.initial,
                         liquidationHours: threshold.cost.horizonYears(notional: threshold.tier.upTo) * 24 * 365,
                         impact: threshold.cost.rate(notional: threshold.tier.upTo), probability: p, standardError: breaches.standardError(k, paths: paths))
        }
        let accounts = (0..<waterfall.book.accountCount).map { a -> PolicyEvaluation.AccountRisk in
            let equity = waterfall.book.equityNow[a]
            // Under the risk array: MM_a now, and the horizon's check decides even for accounts in breach now.
            let requirement = waterfall.riskArray.map { $0.maintenance(account: a, around: $0.marketNow(asset:)) }
                ?? waterfall.requirement(account: a) { waterfall.model.spots[$0] }
            let liquidatedNow = waterfall.riskArray == nil && equity < requirement
            return .init(id: waterfall.book.accountIDs[a], equity: equity, requirement: requirement, inBreach: equity < requirement,
                         liquidationProbability: liquidatedNow ? 1 : totals.liquidationMass(a) / n,
                         unnecessaryLiquidationProbability: totals.unnecessaryMass(a) / n,
                         expectedDeficit: totals.deficits[a].value / n,
                         deleveragedProbability: totals.cascade.map { Double($0.accountDeleveraged[a]) / n },
                         expectedHaircut: totals.cascade.map { $0.accountHaircut[a].value / n })
        }
        return PolicyEvaluation(
            scenario: scenario, paths: paths, elapsedSeconds: elapsed, targetBreachProbability: spec.breachProbability, tiers: tiers,
            accounts: accounts, penaltyRate: rate,
            expectedIncome: fund.income.value / n,
            expectedIncomeStandardError: Calibrator.meanStandardError(sum: fund.income.value, squares: fund.incomeSquares.value, count: n),
            expectedDeficit: fund.deficit.value / n,
            expectedDeficitStandardError: Calibrator.meanStandardError(sum: fund.deficit.value, squares: fund.deficitSquares.value, count: n),
            fundConfidence: spec.insuranceConfidence, fund: fund.netDeficitSummary.levels[0], fundBalance: policy.insuranceFund,
            fundShortfallProbability: policy.insuranceFund.map { _ in fund.adlMass / n }, breachTimes: totals.breachTimes.summary,
            cascade: totals.cascade.flatMap { cascade in
                (waterfall.process as? CascadeLiquidation).map {
                    cascade.summary(spec: $0.spec, paths: paths, confidence: spec.insuranceConfidence, fundOpening: $0.fund.balance, assets: market.assets.map(\.id))
                }
            })
    }
}
