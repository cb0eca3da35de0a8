import Calibration
import Foundation
import MonteCarlo
import ScenarioSpec
import Shocks
import XCTest
@testable import Calibration

/// `thresher robustness` beyond the matrix and frontier of `CalibrationTests`: each bump against
/// its closed form on common random numbers, elasticities against analytic derivatives, every cell
/// against its own calibrate or evaluate run, and bad `robustness:`/`policy:` input.
final class RobustnessTests: XCTestCase {
    static let calibration = """

        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000}, impact: 0.5}
          tiers: [100000, 1000000, 5000000]
          penalty: {coverage: 1.0, max_rate: 0.05}
          insurance_fund: {confidence: 0.99, balance: 100000}
        """
    static let policy = """

        policy:
          ladder:
            BTC:
              - {up_to: 100000, maintenance: 0.04, initial: 0.1}
              - {up_to: 1000000, maintenance: {long: 0.05, short: 0.06}, initial: 0.1}
              - {up_to: 5000000, maintenance: 0.08, initial: 0.2}
          liquidation_penalty: 0.01
          insurance_fund: 50000
        """

    /// With e^{s·ε} = 1 + I − MMR_long (s = σ√h_liq(n)) read off the base ladder, each bump moves
    /// every rung exactly as the closed form says, because pass A's ε are the same draws:
    /// liquidation hours ×k: s → s√k, I unchanged; depth ×k: s → s·√((1 + n/(kd))/(1 + n/d)),
    /// I → I/√k; impact ×k: I → kI; vol ×k: s → ks, I → kI (short side alike with ε_{1−p}).
    /// The central elasticity of the mean MMR under vol ×0.99 and ×1.01 matches the analytic
    /// d ln m̄/d ln σ = Σ_r (−s ε e^{sε} + I)_r / Σ_r m_r (long side; short: s ε e^{sε} + I) to 1e-4.
    func testBumpsMoveEveryRungAsTheClosedFormSays() throws {
        let scenario = try loadScenario(scenarioText(paths: 40_000, tails: "{model: student-t, dof: 4}") + Self.calibration)
        let bumps: [RobustnessSpec.Bump] = [.init(kind: .vol, value: 0.99), .init(kind: .vol, value: 1.01), .init(kind: .liquidationHours, value: 2),
                                            .init(kind: .depth, value: 0.5), .init(kind: .impact, value: 2)]
        let result = try RobustnessAnalyzer(scenario: scenario, spec: RobustnessSpec(models: [], multipliers: [1], bumps: bumps), file: "test")
            .run(settings: RunSettings(threads: 2))
        let base = result.baseThresholds.rungs
        XCTAssertEqual(base.count, 3)
        let depth = 50_000_000.0
        for bumped in result.sensitivity {
            let k = bumped.bump.value
            for (r, rung) in bumped.thresholds.rungs.enumerated() {
                let b = base[r], n = b.tier
                let (sRatio, impact): (Double, Double) = switch bumped.bump.kind {
                case .vol: (k, k * b.impact)
                case .liquidationHours: (k.squareRoot(), b.impact)
                case .depth: (((1 + n / (k * depth)) / (1 + n / depth)).squareRoot(), b.impact / k.squareRoot())
                case .impact: (1, k * b.impact)
                default: (1, b.impact)
                }
                let long = 1 - pow(1 + b.impact - b.long, sRatio) + impact
                let short = pow(1 + b.short - b.impact, sRatio) - 1 + impact
                XCTAssertEqual(rung.long, long, accuracy: 1e-12, "\(bumped.bump.label) tier \(n)")
                XCTAssertEqual(rung.short, short, accuracy: 1e-12, "\(bumped.bump.label) tier \(n)")
                let e = bumped.rungElasticities[r]
                XCTAssertEqual(try XCTUnwrap(e.long?.value), (long / b.long - 1) / (k - 1), accuracy: 1e-8)
                XCTAssertEqual(try XCTUnwrap(e.short?.value), (short / b.short - 1) / (k - 1), accuracy: 1e-8)
            }
        }
        let central = try XCTUnwrap(result.centralElasticities.first { $0.kind == .vol })
        XCTAssertEqual([central.low, central.high], [0.99, 1.01])
        let derivative = base.map { b -> Double in
            if b.long >= b.short {
                let se = log(1 + b.impact - b.long)
                return -se * exp(se) + b.impact
            }
            let se = log(1 + b.short - b.impact)
            return se * exp(se) + b.impact
        }.reduce(0, +) / base.map(\.rate).reduce(0, +)
        XCTAssertEqual(try XCTUnwrap(central.elasticities[0]?.value), derivative, accuracy: 1e-4 * derivative)
        XCTAssertGreaterThan(derivative, 0.9)   // a rate that grows about like σ
        XCTAssertEqual(result.centralElasticities.count, 1)   // one-sided bumps give none
    }

    /// Every cell equals the calibrate or evaluate run of its own scenario, bit for bit, whether the
    /// base policy is the scenario's (evaluated in the calibrations' pass B) or the base calibration's
    /// (evaluated after it): the shared draws change no number.
    func testEveryCellIsItsOwnRun() throws {
        let settings = RunSettings(threads: 2)
        let spec = RobustnessSpec(models: [.studentT(dof: 4), .gaussian], multipliers: [0.5, 2],
                                  bumps: [.init(kind: .vol, value: 1.2), .init(kind: .depth, value: 0.5), .init(kind: .dof, value: 0),
                                          .init(kind: .breachProbability, value: 2)])
        func bits(_ o: Sectioned<RobustnessResult.Outcome>) -> [UInt64] { bits(o.full) }
        func bits(_ t: Sectioned<RobustnessResult.Thresholds>) -> [UInt64] { bits(t.full) }
        func bits(_ o: RobustnessResult.Outcome) -> [UInt64] {
            [o.meanBreach, o.maxBreach, o.meanLiquidation, o.meanUnnecessaryLiquidation, o.expectedDeficit, o.expectedIncome,
             o.fundShortfallProbability ?? -1].map(\.bitPattern)
        }
        func bits(_ t: RobustnessResult.Thresholds) -> [UInt64] {
            (t.named.map(\.value) + t.rungs.flatMap { [$0.long, $0.short] }).map(\.bitPattern)
        }
        func evaluated(_ policy: MarginPolicy, under scenario: Scenario) throws -> [UInt64] {
            var s = scenario
            s.policy = policy
            return bits(RobustnessResult.Outcome(try PolicyEvaluator(scenario: s, file: "test").run(settings: settings)))
        }
        let text = scenarioText(paths: 12_800, tails: "{model: student-t, dof: 4}", collateral: "{USD: 150000}",
                                positions: "        - {type: perp, asset: BTC, quantity: 30}") + Self.calibration
        for policy in ["", Self.policy] {
            let scenario = try loadScenario(text + policy)
            let result = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test").run(settings: settings)
            let baseCalibration = try Calibrator(scenario: scenario).run(settings: settings)
            XCTAssertEqual(bits(result.baseThresholds), bits(RobustnessResult.Thresholds(baseCalibration)))
            let basePolicy = scenario.policy ?? baseCalibration.policy
            XCTAssertEqual(result.basePolicySource, policy.isEmpty ? "calibrated" : "policy")
            XCTAssertEqual(bits(result.base), try evaluated(basePolicy, under: scenario))
            for (m, point) in zip(spec.multipliers, result.frontier) {
                XCTAssertEqual(bits(point.outcome), try evaluated(basePolicy.scaled(by: m), under: scenario), "frontier ×\(m)")
            }
            let models = spec.models.map { model -> Scenario in var s = scenario; s.market.tails = model; return s }
            for (i, calibratedUnder) in models.enumerated() {
                let ladder = try Calibrator(scenario: calibratedUnder).run(settings: settings).policy
                for (j, evaluatedUnder) in models.enumerated() {
                    XCTAssertEqual(bits(result.matrix[i][j]), try evaluated(ladder, under: evaluatedUnder), "matrix \(i) \(j)")
                }
            }
            XCTAssertEqual(result.sensitivity.count, 4)
            for bumped in result.sensitivity {
                let bumpedScenario = try XCTUnwrap(bumped.bump.apply(to: scenario))
                XCTAssertEqual(bits(bumped.thresholds), bits(RobustnessResult.Thresholds(try Calibrator(scenario: bumpedScenario).run(settings: settings))),
                               bumped.bump.label)
                XCTAssertEqual(bits(bumped.basePolicy), try evaluated(basePolicy, under: bumpedScenario), bumped.bump.label)
            }
            XCTAssertGreaterThan(result.base.meanLiquidation, 0, "the book must be liquidated on some paths for the comparison to mean something")
        }
    }

    /// Under a memory limit the cells run in batches (`WaterfallBatches`: here one cell per batch,
    /// then about three): every number of the study — each calibration, each evaluation, full sample
    /// and sections — is the one batch's, bit for bit, with the scenario's policy (its evaluations
    /// ride in the calibrations' batches) and without (evaluated after them). The progress total
    /// counts the batches' extra draws.
    func testBatchedCellsGiveTheSameStudy() throws {
        let settings = RunSettings(threads: 2)
        let spec = RobustnessSpec(models: [.studentT(dof: 4), .gaussian], multipliers: [0.5, 2],
                                  bumps: [.init(kind: .vol, value: 1.2), .init(kind: .depth, value: 0.5)])
        func bits(_ o: RobustnessResult.Outcome) -> [UInt64] {
            [o.meanBreach, o.maxBreach, o.meanLiquidation, o.meanUnnecessaryLiquidation, o.expectedDeficit, o.expectedIncome,
             o.fundShortfallProbability ?? -1].map(\.bitPattern)
        }
        func bits(_ t: RobustnessResult.Thresholds) -> [UInt64] {
            (t.named.map(\.value) + t.rungs.flatMap { [$0.long, $0.short] }).map(\.bitPattern)
        }
        func bits(_ o: Sectioned<RobustnessResult.Outcome>) -> [UInt64] { ([o.full] + o.sections).flatMap(bits) }
        func bits(_ t: Sectioned<RobustnessResult.Thresholds>) -> [UInt64] { ([t.full] + t.sections).flatMap(bits) }
        func fingerprint(_ r: RobustnessResult) -> [UInt64] {
            bits(r.baseThresholds) + bits(r.base) + r.frontier.flatMap { bits($0.outcome) } + r.matrix.flatMap { $0.flatMap(bits) }
                + r.sensitivity.flatMap { bits($0.thresholds) + bits($0.basePolicy) }
        }
        let text = scenarioText(paths: 4_096, tails: "{model: student-t, dof: 4}", collateral: "{USD: 150000}",
                                positions: "        - {type: perp, asset: BTC, quantity: 30}") + Self.calibration
        for policy in ["", Self.policy] {
            let scenario = try loadScenario(text + policy)
            let analyzer = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test")
            let whole = try analyzer.run(settings: settings, sections: 2, memoryLimit: .max)
            XCTAssertEqual(whole.base.sections.count, 2)
            XCTAssertGreaterThan(whole.base.full.meanLiquidation, 0, "the book must be liquidated on some paths for the comparison to mean something")
            let cell = WaterfallBatches.bytes(scenario)
            for limit in [1, 3 * cell] {
                XCTAssertEqual(fingerprint(try analyzer.run(settings: settings, sections: 2, memoryLimit: limit)), fingerprint(whole), "limit \(limit)")
            }
            XCTAssertGreaterThan(analyzer.passes(sections: 2, threads: 2, memoryLimit: 1), analyzer.passes(sections: 2, threads: 2, memoryLimit: .max))
        }
        XCTAssertEqual(WaterfallBatches.ranges(Array(repeating: try loadScenario(text), count: 7), settings: settings, memoryLimit: 3 * WaterfallBatches.bytes(try loadScenario(text))),
                       [0..<3, 3..<6, 6..<7])
        XCTAssertEqual(WaterfallBatches.ranges(Array(repeating: try loadScenario(text), count: 7), settings: RunSettings(threads: 2, pathRange: 0..<64), memoryLimit: 1),
                       [0..<7], "a slice is one batch")
    }

    /// Filtered historical simulation joins the model-risk matrix (`robustness.models` names it with
    /// its history, as `market.tails` does): the diagonal gives back the target on every model —
    /// within 3 binomial standard errors for Student-t, and for the bootstrap, whose liquidation move
    /// is one historical day's residual (an atom of mass 1/D), within 1/D more — and the history's
    /// columns are checked against the market's assets.
    func testFilteredHistoricalJoinsTheModelMatrix() throws {
        let history = FileManager.default.currentDirectoryPath + "/Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"
        let fhs = "{model: filtered-historical, history: '\(history)', columns: {BTC: 'BTC:close'}}"
        let paths = 40_000
        let text = scenarioText(paths: paths, tails: "{model: student-t, dof: 4}") + Self.calibration
            + "\nrobustness: {models: [{model: student-t, dof: 4}, \(fhs)], multipliers: [1], bumps: {vol: 1.2}}"
        let scenario = try loadScenario(text)
        let models = try XCTUnwrap(scenario.robustness?.models)
        guard case .filteredHistorical(let history) = models[1] else { return XCTFail("robustness.models[1] is not filtered-historical") }
        let h = try FilteredHistoricalFit.of(history)
        let result = try RobustnessAnalyzer(scenario: scenario, file: "test").run(settings: RunSettings(threads: 2))
        let p = 0.01, se = (p * (1 - p) / Double(paths)).squareRoot()
        XCTAssertEqual(result.models, ["student-t ν=4.0", "filtered historical"])
        XCTAssertEqual(result.matrix[0][0].meanBreach, p, accuracy: 3 * se)
        // Each cell's SE bound is the mean of its tiers' binomial SEs: ≈ √(p(1 − p)/n) on the diagonal.
        XCTAssertEqual(result.matrix[0][0].meanBreachStandardErrorBound, se, accuracy: 0.05 * se)
        XCTAssertEqual(result.matrix[0][0].maxBreachStandardError, se, accuracy: 0.05 * se)
        XCTAssertEqual(result.matrix[1][1].meanBreach, p, accuracy: 3 * se + 1 / Double(h.days))
        for i in 0..<2 { XCTAssertLessThanOrEqual(result.matrix[i][i].maxBreach, p + 3 * se + 1 / Double(h.days), "diagonal \(i)") }
        assertRejected(scenarioText(paths: 1000) + Self.calibration
                       + "\nrobustness: {models: [{model: filtered-historical, history: '\(history)', columns: {ETH: 'ETH:close'}}]}",
                       path: "robustness.models[0].columns", mentioning: "not an asset")
    }

    /// Bad `robustness:` and `policy:` input names the file, the field path and what is wrong.
    func testBadRobustnessAndPolicyInputNamesTheField() throws {
        let base = scenarioText(paths: 1000) + Self.calibration
        let good = try loadScenario(base + "\nrobustness: {models: [gaussian], multipliers: [1], bumps: {vol: [0.8, 1.2], dof: [3, 0], impact: 2}}")
        XCTAssertEqual(good.robustness?.bumps.map(\.value), [0.8, 1.2, 3, 0, 2])
        XCTAssertEqual(RobustnessSpec.defaults(tails: .gaussian).bumps.count, 16)   // with depth_curve ×0.5 and ×2, which apply only under a cascade
        assertRejected(base + "\nrobustness: {bumps: {volume: 1.2}}", path: "robustness.bumps.volume", mentioning: "unknown bump")
        assertRejected(base + "\nrobustness: {bumps: {vol: [0.8, 0.8]}}", path: "robustness.bumps.vol[1]", mentioning: "listed twice")
        assertRejected(base + "\nrobustness: {bumps: {vol: []}}", path: "robustness.bumps.vol", mentioning: "at least one")
        assertRejected(base + "\nrobustness: {bumps: {dof: [3, 1.5]}}", path: "robustness.bumps.dof[1]", mentioning: "> 2")
        assertRejected(base + "\nrobustness: {bumps: {correlation: 1.5}}", path: "robustness.bumps.correlation")
        assertRejected(base + "\nrobustness: {bumps: {vol: -1}}", path: "robustness.bumps.vol")
        assertRejected(base + "\nrobustness: {multipliers: [0]}", path: "robustness.multipliers[0]")
        assertRejected(base + "\nrobustness: {models: [{model: student-t, dof: 1}]}", path: "robustness.models[0].dof")
        assertRejected(base + "\nrobustness: {bump: {vol: 1.2}}", path: "robustness.bump", mentioning: "bumps")
        let ladder = "\npolicy:\n  ladder:\n    BTC:\n"
        assertRejected(base + ladder + "      - {up_to: 100000, maintenance: 1.5}", path: "policy.ladder.BTC[0].maintenance", mentioning: "[0, 1]")
        assertRejected(base + ladder + "      - {up_to: 100000, maintenance: 0.05}\n      - {up_to: 100000, maintenance: 0.06}",
                       path: "policy.ladder.BTC[1].up_to", mentioning: "strictly increasing")
        assertRejected(base + ladder + "      - {up_to: 100000, maintenance: 0.05, initial: 0.01}", path: "policy.ladder.BTC[0].initial", mentioning: "below")
        assertRejected(base + ladder + "      - {up_to: 100000, maintenance: {long: 0.05}}", path: "policy.ladder.BTC[0].maintenance.short")
        assertRejected(base + "\npolicy:\n  ladder:\n    ETH: [{up_to: 1, maintenance: 0.1}]", path: "policy.ladder.ETH", mentioning: "unknown asset")
        assertRejected(base + "\npolicy: {ladder: {'*': [{up_to: 1, maintenance: 0.1}]}, liquidation_penalty: 2}", path: "policy.liquidation_penalty")
    }
}
