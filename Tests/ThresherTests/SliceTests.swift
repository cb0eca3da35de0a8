import Calibration
import Engine
import Foundation
import MonteCarlo
import ScenarioSpec
import TailStats
import XCTest

/// Runs spread over processes: the stages of a command computed slice by slice and merged give the
/// single-process numbers to the bit, and bad parts are refused with a clear message.
final class SliceTests: XCTestCase {
    /// Runs `body` as `slices` slices, stage after stage (each slice's part, then the merge, as
    /// separate processes would), and returns the merged result.
    func sliced<T>(_ slices: Int, threads: Int = 2, chunkSize: Int = 1024, _ body: (RunSettings) throws -> T) throws -> (result: T, stages: Int) {
        var known: [Data] = []
        while true {
            let parts = try (0..<slices).map { i -> Data in
                let slice = ReplayCoordinator(known: known, next: .slice(index: i, count: slices))
                do {
                    _ = try body(RunSettings(threads: threads, chunkSize: chunkSize, coordinator: slice))
                    throw CoordinationError("slice \(i) finished without computing a stage")
                } catch is StageStop {
                    guard case .computed(let stage, let payload)? = slice.outcome else { throw CoordinationError("slice \(i) stopped without a part") }
                    XCTAssertEqual(stage, known.count)
                    return payload
                }
            }
            let merger = ReplayCoordinator(known: known, next: .merge(parts: parts))
            do {
                return (try body(RunSettings(threads: threads, coordinator: merger)), known.count + 1)
            } catch is StageStop {
                XCTAssertEqual(merger.outcome, .needed(stage: known.count + 1))
                known = merger.known
            }
        }
    }

    /// `Scenarios/default.yaml` at `paths`, its calibration importance-sampled where given.
    func defaultScenario(paths: Int, importance: ImportanceSampling? = nil) throws -> Scenario {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = paths
        scenario.calibration!.importanceSampling = importance
        return scenario
    }

    func bits(_ values: [Double]) -> [UInt64] { values.map(\.bitPattern) }

    func bits(_ s: TailSummary) -> [UInt64] {
        bits([s.mean, s.standardDeviation] + s.levels.flatMap { [$0.valueAtRisk, $0.expectedShortfall, $0.valueAtRiskStandardError ?? -1, $0.expectedShortfallStandardError ?? -1] })
    }

    /// `run` as 5 uneven slices of 20,037 paths (not a multiple of 64) equals one process, bit for bit.
    func testRunSlicesMergeToTheSingleProcessNumbers() throws {
        let scenario = try defaultScenario(paths: 20_037)
        let run = try PortfolioRun(scenario: scenario)
        let single = try run.run(settings: RunSettings(threads: 2))
        let (merged, stages) = try sliced(5, threads: 1, chunkSize: 320) { try run.run(settings: $0) }
        XCTAssertEqual(stages, 1)
        XCTAssertEqual(merged.paths, single.paths)
        XCTAssertEqual(bits(merged.book), bits(single.book))
        XCTAssertEqual(merged.accounts.map(bits), single.accounts.map(bits))
        XCTAssertEqual(merged.bookHistogram, single.bookHistogram)
    }

    /// `calibrate` with sectioning intervals is three stages; merged slice by slice it sets the same
    /// ladder, penalty, fund, account thresholds and intervals as one process, with and without
    /// importance sampling (whose weighted sums and tails travel in the parts).
    func testCalibrationStagesMergeToTheSingleProcessThresholds() throws {
        for importance in [nil, ImportanceSampling()] { try checkCalibrationStages(importance: importance) }
    }

    func checkCalibrationStages(importance: ImportanceSampling?) throws {
        let scenario = try defaultScenario(paths: 20_480, importance: importance)
        let calibrator = try Calibrator(scenario: scenario)
        let single = try calibrator.runSectioned(sections: 4, settings: RunSettings(threads: 2))
        let (merged, stages) = try sliced(3) { try calibrator.runSectioned(sections: 4, settings: $0) }
        XCTAssertEqual(stages, Calibrator.passes)
        func numbers(_ r: CalibrationResult) -> [UInt64] {
            bits(r.ladder.rungs.flatMap { $0.flatMap { [$0.long, $0.short] } }
                 + [r.penalty.rate, r.penalty.expectedIncome, r.penalty.expectedDeficit, r.insuranceFund.valueAtRisk, r.insuranceFund.expectedShortfall]
                 + r.accounts.flatMap { [$0.warn, $0.reduceOnly, $0.liquidate, $0.liquidationProbability, $0.expectedDeficit] })
        }
        XCTAssertEqual(numbers(merged.result), numbers(single.result))
        XCTAssertEqual(merged.sectioned?.sections.map(numbers), single.sectioned?.sections.map(numbers))
        XCTAssertNotNil(single.sectioned)
    }

    func testPolicyEvaluationStagesMergeToTheSingleProcessFigures() throws {
        for importance in [nil, ImportanceSampling()] { try checkPolicyEvaluationStages(importance: importance) }
    }

    func checkPolicyEvaluationStages(importance: ImportanceSampling?) throws {
        let scenario = try defaultScenario(paths: 12_800, importance: importance)
        let evaluator = try PolicyEvaluator(scenario: scenario, file: "Scenarios/default.yaml")
        let single = try evaluator.run(settings: RunSettings(threads: 2))
        let (merged, stages) = try sliced(4) { try evaluator.run(settings: $0) }
        XCTAssertEqual(stages, 1)
        XCTAssertEqual(bits(merged.tiers.map(\.probability)), bits(single.tiers.map(\.probability)))
        XCTAssertEqual(bits(merged.accounts.flatMap { [$0.liquidationProbability, $0.expectedDeficit, $0.unnecessaryLiquidationProbability] }),
                       bits(single.accounts.flatMap { [$0.liquidationProbability, $0.expectedDeficit, $0.unnecessaryLiquidationProbability] }))
        XCTAssertEqual(bits([merged.expectedIncome, merged.fund.valueAtRisk, merged.fund.expectedShortfall]),
                       bits([single.expectedIncome, single.fund.valueAtRisk, single.fund.expectedShortfall]))
    }

    /// `evaluate` under `policy.portfolio_margin` on options that read an SVI smile under
    /// sticky-moneyness (`riskArrayScenario`: the array's waterfall and its pass priced by the vector
    /// kernels across each chunk) as 3 slices equals one process, bit for bit.
    func testRiskArrayWaterfallSlicesMergeToTheSingleProcessFigures() throws {
        let scenario = try loadScenario(riskArrayScenario(smile: riskArraySmiles[0].1, dynamics: "sticky-moneyness", paths: 3_000, accounts: 3))
        let evaluator = try PolicyEvaluator(scenario: scenario, file: "test")
        let single = try XCTUnwrap(evaluator.run(settings: RunSettings(threads: 2)).underRiskArray)
        let merged = try XCTUnwrap(sliced(3) { try evaluator.run(settings: $0) }.result.underRiskArray)
        XCTAssertEqual(bits(merged.accounts.flatMap { [$0.liquidationProbability, $0.expectedDeficit, $0.maintenance] }),
                       bits(single.accounts.flatMap { [$0.liquidationProbability, $0.expectedDeficit, $0.maintenance] }))
        XCTAssertEqual(bits([merged.expectedDeficit, merged.expectedIncome, merged.fund.valueAtRisk, merged.fund.expectedShortfall]),
                       bits([single.expectedDeficit, single.expectedIncome, single.fund.valueAtRisk, single.fund.expectedShortfall]))
        let study = try PortfolioMarginStudy(scenario: scenario)
        let alone = try study.run(settings: RunSettings(threads: 2), ranges: [0..<3_000])[0]
        let parts = try sliced(3) { try study.run(settings: $0, ranges: [0..<3_000]) }.result[0]
        XCTAssertEqual(bits(parts.accounts.map(\.breachProbability)), bits(alone.accounts.map(\.breachProbability)))
        XCTAssertEqual(bits(parts.ranges.map(\.calibrated)), bits(alone.ranges.map(\.calibrated)))
    }

    /// Slices cover the range once, on 64-path bounds; states round-trip and refuse foreign shapes
    /// and truncation.
    func testSlicesAndStatesAreExact() throws {
        for (range, n) in [(0..<20_037, 5), (64..<1000, 7), (0..<100, 4)] {
            let slices = (0..<n).map { PathSlicing.slice(range, index: $0, of: n) }
            XCTAssertEqual(slices.first?.lowerBound, range.lowerBound)
            XCTAssertEqual(slices.last?.upperBound, range.upperBound)
            for (a, b) in zip(slices, slices.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
            XCTAssertTrue(slices.allSatisfy { $0.lowerBound % 64 == 0 })
        }
        var tail = TailAccumulator(plan: TailPlan(totalPaths: 1000, levels: [0.99]))
        tail.add((0..<1000).map { sin(Double($0)) * 1e6 })
        var w = StateWriter()
        tail.encode(to: &w)
        var copy = TailAccumulator(plan: TailPlan(totalPaths: 1000, levels: [0.99]))
        var r = StateReader(w.data)
        try copy.decode(from: &r)
        XCTAssertEqual(bits(copy.summary()), bits(tail.summary()))
        XCTAssertEqual(copy.summary().largestLosses, tail.summary().largestLosses)
        var other = TailAccumulator(plan: TailPlan(totalPaths: 2000, levels: [0.99]))
        var r2 = StateReader(w.data)
        XCTAssertThrowsError(try other.decode(from: &r2)) { XCTAssertTrue("\($0)".contains("2000 paths"), "\($0)") }
        var r3 = StateReader(w.data.prefix(w.data.count - 9))
        XCTAssertThrowsError(try copy.decode(from: &r3))
    }
}
