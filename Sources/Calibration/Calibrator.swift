import Engine
import WorkerPool
import Foundation
import Revaluation
import ScenarioSpec
import Shocks
import TailStats

/// The thresholds of `thresher calibrate` (README, "Calibration model"). All expectations are per
/// path (means over paths), USD.
public struct CalibrationResult: Sendable {
    public struct Penalty: Sendable {
        /// π*, the smallest rate in [0, max_rate] whose expected income covers coverage × E[deficit].
        public let rate: Double
        public let coverage: Double
        public let maxRate: Double
        public let reached: Bool
        /// E[penalty income] at π* (at max_rate when not reached).
        public let expectedIncome: Double
        public let expectedDeficit: Double
        /// Monte Carlo standard errors of the two per-path means, s/√N.
        public let expectedIncomeStandardError: Double
        public let expectedDeficitStandardError: Double
        /// Grid step of the search; π* is within one step above the exact smallest rate.
        public let resolution: Double
    }

    public struct InsuranceFund: Sendable {
        public let confidence: Double
        /// VaR and ES of the per-path net deficit Σ deficits − Σ penalties at π*.
        public let valueAtRisk: Double
        public let expectedShortfall: Double
        /// nil when the fund's tail rank is below `TailPlan.minimumRankFor…Error`.
        public let valueAtRiskStandardError: Double?
        public let expectedShortfallStandardError: Double?
        public let balance: Double?
        /// P(net deficit > balance): the probability of auto-deleveraging.
        public let adlProbability: Double?
    }

    public struct AccountThresholds: Sendable {
        public let id: String
        public let equity: Double
        public let maintenanceRequirement: Double
        public let liquidationProbability: Double
        public let expectedDeficit: Double
        /// Loss thresholds, USD, always warn ≤ reduce-only ≤ liquidate: liquidate = equity − requirement,
        /// reduce-only = min(VaR 99 %, liquidate), warn = min(VaR 95 %, reduce-only).
        public let warn: Double
        public let reduceOnly: Double
        public let liquidate: Double
        /// A VaR was above the next action's threshold and was lowered to it (the action would
        /// otherwise fire after the one it should precede).
        public let capped: Bool
        /// Equity now is already below the requirement now: liquidated at once (probability 1).
        public let inBreach: Bool
    }

    public let scenario: Scenario
    public let paths: Int
    public let threads: Int
    public let elapsedSeconds: Double
    public let ladder: MarginLadder
    public let penalty: Penalty
    public let insuranceFund: InsuranceFund
    /// Per account, in book order (empty from a calibration run without account thresholds, e.g.
    /// the cells of `thresher robustness`).
    public let accounts: [AccountThresholds]
}

public enum CalibrationError: Error, CustomStringConvertible {
    case missingSection(file: String)
    public var description: String {
        switch self {
        case .missingSection(let file): return "\(file): calibration: the scenario has no 'calibration' section (see Scenarios/README.md)"
        }
    }
}

/// Runs the three passes of the calibration over the same paths (common random numbers):
/// A. quantiles of each asset's standardized shock → the margin ladder;
/// B. the waterfall → liquidation counts, deficits and penalty income on a grid of rates → π*;
/// C. the waterfall again at π* → the per-path net deficit → insurance-fund VaR/ES and ADL.
public struct Calibrator {
    public let scenario: Scenario
    public let spec: CalibrationSpec
    /// Points of the penalty-rate grid over [0, max_rate].
    public static let penaltyGridPoints = 4000

    public init(scenario: Scenario) throws {
        guard let spec = scenario.calibration else { throw CalibrationError.missingSection(file: scenario.name) }
        self.scenario = scenario
        self.spec = spec
    }

    /// Passes over the paths (A, B, C): a progress total is `passes` × paths.
    public static let passes = 3

    /// - Parameter range: the paths to calibrate on (default all, 0..<N; a section for confidence
    ///   intervals); bounds must be multiples of 64 except the last.
    public func run(settings: RunSettings, paths range: Range<Int>? = nil, cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> CalibrationResult {
        try run(settings: settings, ranges: [range ?? 0..<scenario.simulation.paths], cancellation: cancellation, progress: progress)[0]
    }

    /// The calibrations on several path ranges (all paths and the sections of `runSectioned`), each
    /// pass one stage for all ranges, so a run spread over processes has three stages in all.
    public func run(settings: RunSettings, ranges: [Range<Int>], cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> [CalibrationResult] {
        try Self.run(ranges.map { (self, $0) }, settings: settings, cancellation: cancellation, progress: progress)
    }

    /// Calibrations of several scenarios (the bumps and models of `thresher robustness`) or path
    /// ranges, sharing their draws: pass A is one job per distinct set of standardized shocks and
    /// breach level, passes B and C one job per market and range — one draw and one revaluation of
    /// each chunk, then one waterfall per calibration (`WaterfallCells`). Each result is the one the
    /// calibration run alone gives, bit for bit. Three stages in all, whatever the number of units.
    public static func run(_ units: [(calibrator: Calibrator, paths: Range<Int>)], settings: RunSettings, cancellation: Cancellation? = nil,
                           progress: RunProgress? = nil) throws -> [CalibrationResult] {
        try run(units, evaluating: [], settings: settings, cancellation: cancellation, progress: progress).calibrations
    }

    /// The calibrations of `run(_:settings:)`, and policy evaluations riding in pass B's stage: each
    /// evaluation's cell joins the job of its market (`PolicyEvaluator.run` alone gives the same
    /// figures, bit for bit), so a policy evaluated under the calibrations' markets costs no pass of
    /// its own. `accountThresholds: false` skips the account loss tails (`accounts` comes back
    /// empty), for callers that read only the ladder, the penalty and the fund.
    static func run(_ units: [(calibrator: Calibrator, paths: Range<Int>)], accountThresholds: Bool = true, evaluating evaluators: [PolicyEvaluator],
                    settings: RunSettings, cancellation: Cancellation?, progress: RunProgress?) throws
        -> (calibrations: [CalibrationResult], evaluations: [PolicyEvaluation]) {
        let start = DispatchTime.now()
        let ladders = try estimateLadders(units, settings: settings, cancellation: cancellation, progress: progress)
        let waterfalls = try units.indices.map { k in
            try Waterfall(scenario: units[k].calibrator.scenario, spec: units[k].calibrator.spec, schedule: ladders[k].schedule)
        }
        let keys = units.map { MarketKey(market: $0.calibrator.scenario.market, paths: $0.paths) }
        let paths = units.map(\.paths)

        // Pass B, with the evaluations after the calibrations' cells.
        let riders = try evaluators.map { try $0.cell() }
        let passB = try WaterfallCells.accumulate(groups: WaterfallCells.groups(keys + riders.map(\.key)), paths: paths + riders.map(\.key.paths),
                                                  settings: settings, cancellation: cancellation, progress: progress) { k in
            guard k < units.count else { return riders[k - units.count].cell }
            let spec = units[k].calibrator.spec
            return WaterfallCell(waterfall: waterfalls[k],
                                 accountLossPlan: accountThresholds ? TailPlan(totalPaths: paths[k].count, levels: [0.95, 0.99]) : nil,
                                 penaltyGrid: PenaltyGrid(maxRate: spec.penaltyMaxRate, points: penaltyGridPoints))
        }
        let evaluationElapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let evaluations = evaluators.indices.map { e in
            evaluators[e].result(elapsed: evaluationElapsed, cell: riders[e], totals: passB[units.count + e])
        }
        let totals = passB.prefix(units.count).map { $0.waterfall! }
        let deficitTotals = totals.map { $0.deficits.reduce(into: ExactSum()) { $0.merge($1) }.value }
        let rates = units.indices.map { k in totals[k].grid!.smallestRate(reaching: units[k].calibrator.spec.penaltyCoverage * deficitTotals[k]) }

        // Pass C.
        let funds = try WaterfallCells.accumulate(groups: WaterfallCells.groups(keys), paths: paths, settings: settings, cancellation: cancellation,
                                                  progress: progress) { k in
            let spec = units[k].calibrator.spec
            return WaterfallCell(waterfall: waterfalls[k],
                                 fund: .init(rate: rates[k].rate, balance: spec.insuranceBalance,
                                             plan: TailPlan(totalPaths: paths[k].count, levels: [spec.insuranceConfidence])))
        }.map { $0.fund! }

        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let calibrations = units.indices.map { k in
            units[k].calibrator.result(paths: paths[k].count, threads: settings.threads, elapsed: elapsed, ladder: ladders[k], waterfall: waterfalls[k],
                                       totals: totals[k], deficitTotal: deficitTotals[k], rate: rates[k], grid: totals[k].grid!, fund: funds[k])
        }
        return (calibrations, evaluations)
    }

    /// The thresholds from the three passes' totals over `paths` paths.
    func result(paths: Int, threads: Int, elapsed: Double, ladder: MarginLadder, waterfall: Waterfall, totals: WaterfallTotals,
                        deficitTotal: Double, rate: (rate: Double, reached: Bool), grid: PenaltyGrid, fund: FundTotals) -> CalibrationResult {
        let n = Double(paths)
        let fundSummary = fund.netDeficit.summary().levels[0]
        let thresholds = totals.accountLosses.map { $0.summary() }
        let accountResults = thresholds.indices.map { a -> CalibrationResult.AccountThresholds in
            let requirement = waterfall.requirement(account: a) { waterfall.model.spots[$0] }
            let equity = waterfall.book.equityNow[a]
            let liquidate = equity - requirement
            let var95 = thresholds[a].levels[0].valueAtRisk, var99 = thresholds[a].levels[1].valueAtRisk
            let reduceOnly = min(var99, liquidate), warn = min(var95, reduceOnly)
            let inBreach = equity < requirement
            return .init(id: waterfall.book.accountIDs[a], equity: equity, maintenanceRequirement: requirement,
                         liquidationProbability: inBreach ? 1 : Double(totals.liquidations[a]) / n, expectedDeficit: totals.deficits[a].value / n,
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
                                 balance: spec.insuranceBalance, adlProbability: spec.insuranceBalance.map { _ in Double(fund.adlCount) / n }),
            accounts: accountResults)
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
/// Expected penalty income as a function of the rate π, accumulated on a grid in one pass.
///
/// An event (a liquidation with notional N and final equity E2) yields min(π·N, E2⁺): π·N below
/// its breakpoint b = E2⁺/N and E2⁺ above. Each event adds N to the slope of every grid point
/// below b and E2⁺ to the constant of every point from b on (difference arrays, O(1) per event),
/// so income(π_g) = π_g·slope_g + constant_g. Sums are exact, hence thread-invariant.
struct PenaltyGrid: Sendable {
    let step: Double
    let points: Int
    var slopeChanges: [ExactSum]
    var constantChanges: [ExactSum]

    init(maxRate: Double, points: Int) {
        self.points = points
        step = maxRate / Double(points)
        slopeChanges = Array(repeating: ExactSum(), count: points + 2)
        constantChanges = Array(repeating: ExactSum(), count: points + 2)
    }

    /// Grid point g is the rate g·step, g = 0…points.
    mutating func add(notional: Double, equity: Double) {
        let positive = max(equity, 0)
        guard notional > 0 else { return }
        let breakpoint = positive / notional
        let first = step > 0 ? min(points + 1, Int((breakpoint / step).rounded(.up))) : (breakpoint > 0 ? points + 1 : 0)
        slopeChanges[0].add(notional)
        slopeChanges[first].add(-notional)
        constantChanges[first].add(positive)
    }

    mutating func merge(_ other: PenaltyGrid) {
        for g in slopeChanges.indices {
            slopeChanges[g].merge(other.slopeChanges[g])
            constantChanges[g].merge(other.constantChanges[g])
        }
    }

    /// The smallest rate with income ≥ target, interpolated linearly inside the grid cell where it
    /// is crossed (income is concave in π, so the interpolated rate still meets the target);
    /// `reached` is false when even the largest rate falls short.
    func smallestRate(reaching target: Double) -> (rate: Double, reached: Bool) {
        if target <= 0 { return (0, true) }
        var slope = ExactSum(), constant = ExactSum()
        var previous = 0.0
        for g in 0...points {
            slope.merge(slopeChanges[g])
            constant.merge(constantChanges[g])
            let rate = Double(g) * step
            let income = rate * slope.value + constant.value
            if income >= target {
                if g == 0 { return (0, true) }
                let fraction = (target - previous) / (income - previous)
                return (Double(g - 1) * step + fraction * step, true)
            }
            previous = income
        }
        return (Double(points) * step, false)
    }
}

/// Pass A: both tails of every asset's standardized shock.
struct ShockTails: PathAccumulator {
    /// Entry 2i holds the upper tail of −ε_i, entry 2i + 1 that of ε_i.
    var tails: [TailAccumulator]

    init(assetCount: Int, plan: TailPlan) { tails = Array(repeating: TailAccumulator(plan: plan), count: 2 * assetCount) }

    mutating func merge(_ other: ShockTails) {
        for k in tails.indices { tails[k].merge(other.tails[k]) }
    }
}

/// Pass A's pricer: the shocks themselves are the values.
struct ShockTailPricer: PathPricer {
    func makeWorkspace(capacity: Int) -> NegatedRow { NegatedRow(capacity: capacity) }

    func price(_ shocks: ShockBuffers, count: Int, workspace: NegatedRow, into accumulator: inout ShockTails) {
        for i in 0..<shocks.assetCount {
            let row = shocks.row(shocks.epsilon, asset: i)
            accumulator.tails[2 * i + 1].add(row, count: count)           // upper tail of ε
            for j in 0..<count { workspace.values[j] = -row[j] }
            accumulator.tails[2 * i].add(workspace.values, count: count)  // upper tail of −ε
        }
    }
}

/// One worker's row of negated shocks.
final class NegatedRow {
    let values: UnsafeMutablePointer<Double>
    init(capacity: Int) { values = .allocate(capacity: capacity) }
    deinit { values.deallocate() }
}

/// Pass B aggregates of one worker.
struct WaterfallTotals: PathAccumulator {
    var liquidations: [Int]
    /// Liquidations after which the account would have recovered above maintenance unaided.
    var unnecessaryLiquidations: [Int]
    var deficits: [ExactSum]
    /// Each account's horizon-loss tail (empty when not asked for: an evaluation needs none).
    var accountLosses: [TailAccumulator]
    /// The penalty income on a grid of rates (calibration only).
    var grid: PenaltyGrid?

    init(accounts: Int, plan: TailPlan?, grid: PenaltyGrid?) {
        liquidations = Array(repeating: 0, count: accounts)
        unnecessaryLiquidations = Array(repeating: 0, count: accounts)
        deficits = Array(repeating: ExactSum(), count: accounts)
        accountLosses = plan.map { Array(repeating: TailAccumulator(plan: $0), count: accounts) } ?? []
        self.grid = grid
    }

    mutating func add(_ buffers: WaterfallBuffers, count m: Int) {
        let ld = buffers.capacity
        for a in accountLosses.indices { accountLosses[a].add(buffers.loss + a * ld, count: m) }
        for a in liquidations.indices {
            // Deficits are summed per aligned block of paths, then exactly: chunk-size invariant.
            for block in stride(from: 0, to: m, by: TailAccumulator.blockSize) {
                var blockDeficit = 0.0
                for j in block..<min(block + TailAccumulator.blockSize, m) where buffers.liquidated[a * ld + j] {
                    let k = a * ld + j
                    liquidations[a] += 1
                    if buffers.recovered[k] { unnecessaryLiquidations[a] += 1 }
                    blockDeficit += max(-buffers.finalEquity[k], 0)
                    grid?.add(notional: buffers.notional[k], equity: buffers.finalEquity[k])
                }
                deficits[a].add(blockDeficit)
            }
        }
    }

    mutating func merge(_ other: WaterfallTotals) {
        for a in liquidations.indices {
            liquidations[a] += other.liquidations[a]
            unnecessaryLiquidations[a] += other.unnecessaryLiquidations[a]
            deficits[a].merge(other.deficits[a])
        }
        for a in accountLosses.indices { accountLosses[a].merge(other.accountLosses[a]) }
        if let otherGrid = other.grid { grid?.merge(otherGrid) }
    }
}

/// Pass C aggregates of one worker: net deficit tail, income at π*, ADL count.
struct FundTotals: PathAccumulator {
    var netDeficit: TailAccumulator
    var income = ExactSum()
    /// Σ over paths of the path's income², deficit and deficit² (for the standard errors of the
    /// per-path means).
    var incomeSquares = ExactSum()
    var deficit = ExactSum()
    var deficitSquares = ExactSum()
    var adlCount = 0

    init(plan: TailPlan) { netDeficit = TailAccumulator(plan: plan) }

    mutating func add(_ buffers: WaterfallBuffers, accounts: Int, count m: Int, rate: Double, balance: Double?) {
        let ld = buffers.capacity
        var blockIncome = 0.0, blockIncomeSquares = 0.0, blockDeficit = 0.0, blockDeficitSquares = 0.0
        func flush() {
            income.add(blockIncome); incomeSquares.add(blockIncomeSquares)
            deficit.add(blockDeficit); deficitSquares.add(blockDeficitSquares)
            blockIncome = 0; blockIncomeSquares = 0; blockDeficit = 0; blockDeficitSquares = 0
        }
        for j in 0..<m {
            if j % TailAccumulator.blockSize == 0 { flush() }
            var pathIncome = 0.0, pathDeficit = 0.0
            for a in 0..<accounts where buffers.liquidated[a * ld + j] {
                let k = a * ld + j
                let e2 = buffers.finalEquity[k]
                pathDeficit += max(-e2, 0)
                pathIncome += min(rate * buffers.notional[k], max(e2, 0))
            }
            let net = pathDeficit - pathIncome
            blockIncome += pathIncome; blockIncomeSquares += pathIncome * pathIncome
            blockDeficit += pathDeficit; blockDeficitSquares += pathDeficit * pathDeficit
            buffers.netDeficit[j] = net
            if let balance, net > balance { adlCount += 1 }
        }
        flush()
        netDeficit.add(buffers.netDeficit, count: m)
    }

    mutating func merge(_ other: FundTotals) {
        netDeficit.merge(other.netDeficit)
        income.merge(other.income)
        incomeSquares.merge(other.incomeSquares)
        deficit.merge(other.deficit)
        deficitSquares.merge(other.deficitSquares)
        adlCount += other.adlCount
    }
}

extension ShockTails: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(each: tails) }
    mutating func decode(from reader: inout StateReader) throws { try reader.read(each: &tails, of: "shock tails") }
}

extension PenaltyGrid: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(each: slopeChanges)
        writer.write(each: constantChanges)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try reader.read(each: &slopeChanges, of: "penalty-grid points")
        try reader.read(each: &constantChanges, of: "penalty-grid points")
    }
}

extension WaterfallTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(liquidations)
        writer.write(unnecessaryLiquidations)
        writer.write(each: deficits)
        writer.write(each: accountLosses)
        grid?.encode(to: &writer)
    }

    mutating func decode(from reader: inout StateReader) throws {
        liquidations = try reader.readInts(expected: liquidations.count, of: "accounts")
        unnecessaryLiquidations = try reader.readInts(expected: unnecessaryLiquidations.count, of: "accounts")
        try reader.read(each: &deficits, of: "accounts")
        try reader.read(each: &accountLosses, of: "accounts")
        try grid?.decode(from: &reader)
    }
}

extension FundTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        netDeficit.encode(to: &writer)
        for sum in [income, incomeSquares, deficit, deficitSquares] { sum.encode(to: &writer) }
        writer.write(adlCount)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try netDeficit.decode(from: &reader)
        try income.decode(from: &reader)
        try incomeSquares.decode(from: &reader)
        try deficit.decode(from: &reader)
        try deficitSquares.decode(from: &reader)
        adlCount = try reader.readInt()
    }
}

extension CalibrationResult {
    /// The calibrated thresholds as a scenario `policy:` section (YAML): the ladder of every asset
    /// with depth (maintenance long/short per tier), the penalty rate π*, and the fund at its ES.
    public var policyYAML: String {
        var lines = ["# Calibrated by thresher calibrate: \(scenario.name), \(paths) paths, seed \(scenario.simulation.seed)",
                     "policy:", "  ladder:"]
        for rungs in ladder.rungs where !rungs.isEmpty {
            lines.append("    \(rungs[0].asset):")
            for rung in rungs {
                lines.append("      - {up_to: \(rung.tier), maintenance: {long: \(rung.long), short: \(rung.short)}}")
            }
        }
        lines.append("  liquidation_penalty: \(penalty.rate)")
        lines.append("  insurance_fund: \(insuranceFund.expectedShortfall)")
        return lines.joined(separator: "\n") + "\n"
    }
}
