import Engine
import Foundation
import MonteCarlo
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

/// Runs the three passes of the calibration over the same paths (common random numbers):
/// A. quantiles of each asset's standardized shock → the margin ladder;
/// B. the waterfall → liquidation counts, deficits and penalty income on a grid of rates → π*;
/// C. the waterfall again at π* → the per-path net deficit → insurance-fund VaR/ES and ADL.
public struct Calibrator {
    public let scenario: Scenario
    public let spec: CalibrationSpec
    /// Points of the penalty-rate grid over [0, max_rate].
    public static let penaltyGridPoints = 4000

    /// - Parameter file: the scenario file as the user named it (for the error; default the
    ///   scenario's name).
    /// - Throws: `ScenarioError` when the scenario has no `calibration:` section.
    public init(scenario: Scenario, file: String? = nil) throws {
        spec = try scenario.requiredCalibration(file: file ?? scenario.name, why: "thresher calibrate needs a 'calibration' section")
        self.scenario = scenario
    }

    /// Passes over the paths (A, B, C): a progress total is `passes` × paths.
    public static let passes = 3

    /// - Parameters:
    ///   - range: the paths to calibrate on (default all, 0..<N; a section for confidence
    ///     intervals); bounds must be multiples of 64 except the last.
    ///   - memoryLimit: bytes the accounts' loss tails may take (pass B goes in groups of accounts
    ///     beyond it; the numbers are the same).
    public func run(settings: RunSettings, paths range: Range<Int>? = nil, memoryLimit: Int = AccountGroups.defaultMemoryLimit,
                    cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> CalibrationResult {
        try run(settings: settings, ranges: [range ?? 0..<scenario.simulation.paths], memoryLimit: memoryLimit, cancellation: cancellation,
                progress: progress)[0]
    }

    /// The calibrations on several path ranges (all paths and the sections of `runSectioned`), each
    /// pass one stage for all ranges, so a run spread over processes has three stages in all.
    public func run(settings: RunSettings, ranges: [Range<Int>], memoryLimit: Int = AccountGroups.defaultMemoryLimit, cancellation: Cancellation? = nil,
                    progress: RunProgress? = nil) throws -> [CalibrationResult] {
        try Self.run(ranges.map { (self, $0) }, evaluating: [], settings: settings, memoryLimit: memoryLimit, cancellation: cancellation,
                     progress: progress).calibrations
    }

    /// Passes over the paths of `run(settings:ranges:)` on `threads` workers (a progress total is
    /// this × the ranges' paths, rounded up): pass B's once per group of accounts, in each batch of
    /// ranges (`WaterfallBatches`).
    public func passes(ranges: [Range<Int>], threads: Int, memoryLimit: Int) -> Int {
        let units = ranges.map { (self, $0) }, settings = RunSettings(threads: threads), all = ranges.reduce(0) { $0 + $1.count }
        let work = Self.batches(units, evaluating: [], settings: settings, memoryLimit: memoryLimit).reduce(0) { work, batch in
            let groups = Self.accountGroups(Array(units[batch.units]), accountThresholds: true, settings: settings, memoryLimit: memoryLimit).ranges.count
            return work + Self.passes(accountGroups: groups) * ranges[batch.units].reduce(0) { $0 + $1.count }
        }
        return (work + all - 1) / max(all, 1)
    }

    /// Calibrations of several scenarios (the bumps and models of `thresher robustness`) or path
    /// ranges, sharing their draws: pass A is one job per distinct set of standardized shocks and
    /// breach level, passes B and C one job per market and range — one draw and one revaluation of
    /// each chunk, then one waterfall per calibration (`WaterfallCells`). Each result is the one the
    /// calibration run alone gives, bit for bit. Three stages per batch of units whose waterfalls fit
    /// within the memory limit (`WaterfallBatches`; one batch for a run spread over processes).
    public static func run(_ units: [(calibrator: Calibrator, paths: Range<Int>)], settings: RunSettings, cancellation: Cancellation? = nil,
                           progress: RunProgress? = nil) throws -> [CalibrationResult] {
        try run(units, evaluating: [], settings: settings, cancellation: cancellation, progress: progress).calibrations
    }

    /// The calibrations of `run(_:settings:)`, and policy evaluations riding in pass C's stage: each
    /// evaluation's cell joins the job of its market (`PolicyEvaluator.run` alone gives the same
    /// figures, bit for bit), so a policy evaluated under the calibrations' markets costs no pass of
    /// its own. `accountThresholds: false` skips the account loss tails (`accounts` comes back
    /// empty), for callers that read only the ladder, the penalty and the fund. Pass B goes over
    /// the paths once per group of accounts (`accountGroups`: the accounts' tails within
    /// `memoryLimit` bytes); its sums are exact, so the numbers are those of one pass. The
    /// calibrations, then the evaluations, go in batches whose waterfalls fit within `memoryLimit`
    /// (`WaterfallBatches`), each batch its three stages; the numbers are the same in any batch.
    static func run(_ units: [(calibrator: Calibrator, paths: Range<Int>)], accountThresholds: Bool = true, evaluating evaluators: [PolicyEvaluator],
                    settings: RunSettings, memoryLimit: Int = AccountGroups.defaultMemoryLimit, cancellation: Cancellation?,
                    progress: RunProgress?) throws -> (calibrations: [CalibrationResult], evaluations: [PolicyEvaluation]) {
        let start = DispatchTime.now()
        var calibrations: [CalibrationResult] = [], evaluations: [PolicyEvaluation] = []
        for batch in batches(units, evaluating: evaluators, settings: settings, memoryLimit: memoryLimit) {
            let results = try runTogether(Array(units[batch.units]), accountThresholds: accountThresholds, evaluating: Array(evaluators[batch.evaluations]),
                                          settings: settings, memoryLimit: memoryLimit, start: start, cancellation: cancellation, progress: progress)
            calibrations += results.calibrations
            evaluations += results.evaluations
        }
        return (calibrations, evaluations)
    }

    /// The batches of `run`: consecutive units, then consecutive evaluations (`WaterfallBatches`).
    static func batches(_ units: [(calibrator: Calibrator, paths: Range<Int>)], evaluating evaluators: [PolicyEvaluator], settings: RunSettings,
                        memoryLimit: Int) -> [(units: Range<Int>, evaluations: Range<Int>)] {
        let cells = WaterfallBatches.ranges(units.map(\.calibrator.scenario) + evaluators.map(\.scenario), settings: settings, memoryLimit: memoryLimit)
        guard !cells.isEmpty else { return [(0..<0, 0..<0)] }
        return cells.map { cells in
            (cells.clamped(to: units.indices), (max(cells.lowerBound, units.count) - units.count)..<(max(cells.upperBound, units.count) - units.count))
        }
    }

    /// One batch of `run`, its elapsed time counted from `start`.
    private static func runTogether(_ units: [(calibrator: Calibrator, paths: Range<Int>)], accountThresholds: Bool, evaluating evaluators: [PolicyEvaluator],
                                    settings: RunSettings, memoryLimit: Int, start: DispatchTime, cancellation: Cancellation?,
                                    progress: RunProgress?) throws -> (calibrations: [CalibrationResult], evaluations: [PolicyEvaluation]) {
        let ladders = try estimateLadders(units, settings: settings, cancellation: cancellation, progress: progress)
        let waterfalls = try units.indices.map { k in
            try Waterfall(scenario: units[k].calibrator.scenario, spec: units[k].calibrator.spec, schedule: ladders[k].schedule)
        }
        let keys = units.indices.map { k in MarketKey(market: units[k].calibrator.scenario.market, paths: units[k].paths, draws: waterfalls[k].process.draws,
                                                          importance: waterfalls[k].model.importance) }
        let paths = units.map(\.paths)

        // Pass B, group of accounts by group.
        var searches = [PenaltySearchOutcome](repeating: PenaltySearchOutcome(), count: units.count)
        for group in units.isEmpty ? [] : accountGroups(units, accountThresholds: accountThresholds, settings: settings, memoryLimit: memoryLimit).ranges {
            let totals = try WaterfallCells.accumulate(groups: WaterfallCells.groups(keys), paths: paths, accounts: group, settings: settings,
                                                       cancellation: cancellation, progress: progress) { k in
                let spec = units[k].calibrator.spec
                return WaterfallCell(waterfall: waterfalls[k],
                                     plan: .penaltySearch(accountLosses: accountThresholds ? TailPlan(totalPaths: paths[k].count, levels: accountLossLevels) : nil,
                                                          grid: PenaltyGrid(maxRate: spec.penaltyMaxRate, points: penaltyGridPoints)))
            }
            for k in units.indices { searches[k].add(totals[k].penaltySearch, threads: settings.threads) }
        }
        let rates = units.indices.map { k in
            searches[k].grid!.smallestRate(reaching: units[k].calibrator.spec.penaltyCoverage * searches[k].deficitTotal.value)
        }

        // Pass C, with the evaluations after the calibrations' cells.
        let riders = try evaluators.map { try $0.cell() }
        let passC = try WaterfallCells.accumulate(groups: WaterfallCells.groups(keys + riders.map(\.key)), paths: paths + riders.map(\.key.paths),
                                                  settings: settings, cancellation: cancellation, progress: progress) { k in
            guard k < units.count else { return riders[k - units.count].cell }
            let spec = units[k].calibrator.spec
            return WaterfallCell(waterfall: waterfalls[k],
                                 plan: .fund(FundPlan(rate: rates[k].rate, balance: spec.insuranceBalance,
                                                      plan: TailPlan(totalPaths: paths[k].count, levels: [spec.insuranceConfidence]))))
        }

        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let evaluations = evaluators.indices.map { e in
            evaluators[e].result(elapsed: elapsed, cell: riders[e], totals: passC[units.count + e])
        }
        let calibrations = units.indices.map { k in
            units[k].calibrator.result(paths: paths[k].count, threads: settings.threads, elapsed: elapsed, ladder: ladders[k], waterfall: waterfalls[k],
                                       search: searches[k], rate: rates[k], fund: passC[k].fund)
        }
        return (calibrations, evaluations)
    }

    /// The thresholds from the three passes' totals over `paths` paths.
    func result(paths: Int, threads: Int, elapsed: Double, ladder: MarginLadder, waterfall: Waterfall, search: PenaltySearchOutcome,
                rate: (rate: Double, reached: Bool), fund: FundTotals) -> CalibrationResult {
        let n = Double(paths)
        let fundSummary = fund.netDeficitSummary.levels[0]
        let grid = search.grid!, deficitTotal = search.deficitTotal.value
        let accountResults = search.lossQuantiles.indices.map { a -> CalibrationResult.AccountThresholds in
            let requirement = waterfall.requirement(account: a) { waterfall.model.spots[$0] }
            let equity = waterfall.book.equityNow[a]
            let liquidate = equity - requirement
            let (var95, var99) = search.lossQuantiles[a]
            let reduceOnly = min(var99, liquidate), warn = min(var95, reduceOnly)
            let inBreach = equity < requirement
            return .init(id: waterfall.book.accountIDs[a], equity: equity, maintenanceRequirement: requirement,
                         liquidationProbability: inBreach ? 1 : search.liquidations[a] / n, expectedDeficit: search.deficits[a] / n,
                         warn: warn, reduceOnly: reduceOnly, liquidate: liquidate, capped: reduceOnly < var99 || warn < var95, inBreach: inBreach)
        }
        return CalibrationResult(
            scenario: scenario, paths: paths, threads: threads, elapsedSeconds: elapsed, ladder: ladder,
            penalty: .init(rate: rate.rate, coverage: spec.penaltyCoverage, maxRate: spec.penaltyMaxRate, reached: rate.reached,
                           expectedIncome: fund.income.value / n, expectedDeficit: deficitTotal / n,
                           expectedIncomeStandardError: Self.meanStandardError(sum: fund.income.value, squares: fund.incomeSquares.value, count: n),
                           expectedDeficitStandardError: Self.meanStandardError(sum: fund.deficit.value, squares: fund.deficitSquares.value, count: n),
                           resolution: grid.step),
            insuranceFund: .init(confidence: spec.insuranceConfidence, valueAtRisk: fundSummary.valueAtRisk,
                                 expectedShortfall: fundSummary.expectedShortfall,
                                 valueAtRiskStandardError: fundSummary.valueAtRiskStandardError,
                                 expectedShortfallStandardError: fundSummary.expectedShortfallStandardError,
                                 balance: spec.insuranceBalance, adlProbability: spec.insuranceBalance.map { _ in fund.adlMass / n }),
            accounts: accountResults, breachTimes: search.breachTimes!.summary)
    }

    /// s/√N of a per-path mean from its exact sum and sum of squares.
    static func meanStandardError(sum: Double, squares: Double, count n: Double) -> Double {
        guard n > 1 else { return 0 }
        let mean = sum / n
        return (max(0, (squares - n * mean * mean) / (n - 1)) / n).squareRoot()
    }

    /// Pass A: ε_p and ε_{1−p} of every asset with depth, each with its order-statistic standard error.
    public func estimateLadder(settings: RunSettings, paths range: Range<Int>? = nil, cancellation: Cancellation? = nil,
                               progress: RunProgress? = nil) throws -> MarginLadder {
        try estimateLadders(settings: settings, ranges: [range ?? 0..<scenario.simulation.paths], cancellation: cancellation, progress: progress)[0]
    }

    /// Pass A on several path ranges, as one stage.
    func estimateLadders(settings: RunSettings, ranges: [Range<Int>], cancellation: Cancellation?, progress: RunProgress?) throws -> [MarginLadder] {
        try Self.estimateLadders(ranges.map { (self, $0) }, settings: settings, cancellation: cancellation, progress: progress)
    }

    /// Pass A of several calibrations as one stage: one job per distinct (standardized shocks,
    /// breach level, range); the ladders of calibrations that differ only in vols, depth, impact or
    /// liquidation hours come from the same tails.
    static func estimateLadders(_ units: [(calibrator: Calibrator, paths: Range<Int>)], settings: RunSettings, cancellation: Cancellation?,
                                progress: RunProgress?) throws -> [MarginLadder] {
        let keys = units.map { StandardizedKey(market: $0.calibrator.scenario.market, level: 1 - $0.calibrator.spec.breachProbability, paths: $0.paths) }
        let families = WaterfallCells.groups(keys)
        let familyTails = try accumulate(try families.map { family in
            let key = keys[family[0]]
            let model = try MarketModel(scenario: units[family[0]].calibrator.scenario)
            let tailPlan = TailPlan(totalPaths: key.paths.count, levels: [key.level])
            return MonteCarloModel(generator: StandardizedShocks(model: model), pricer: ShockTailPricer())
                .job(paths: key.paths, settings: settings, makeAccumulator: { ShockTails(assetCount: model.assetCount, plan: tailPlan) },
                     cancellation: cancellation, progress: progress)
        }, settings: settings)
        var ladders = [MarginLadder?](repeating: nil, count: units.count)
        for (family, totals) in zip(families, familyTails) {
            for k in family { ladders[k] = units[k].calibrator.ladder(from: totals.tails) }
        }
        return ladders.map { $0! }
    }

    /// The ladder from pass A's tails (entry 2i: −ε_i, 2i + 1: ε_i) at the breach level.
    func ladder(from tails: [TailAccumulator]) -> MarginLadder {
        var lower: [(value: Double, standardError: Double?)?] = []
        var upper: [(value: Double, standardError: Double?)?] = []
        for (i, asset) in scenario.market.assets.enumerated() {
            guard spec.depth[asset.id] != nil else { lower.append(nil); upper.append(nil); continue }
            let low = tails[2 * i].summary().levels[0], high = tails[2 * i + 1].summary().levels[0]
            lower.append((-low.valueAtRisk, low.valueAtRiskStandardError))
            upper.append((high.valueAtRisk, high.valueAtRiskStandardError))
        }
        return MarginLadder(scenario: scenario, spec: spec, lowerQuantiles: lower, upperQuantiles: upper)
    }
}
