import Calibration
import Distributions
import Foundation
import MonteCarlo
import ScenarioSpec
import Shocks
import TailStats
import XCTest

/// Importance sampling of the Student-t mixing variable (`calibration.importance_sampling`): the
/// weighted estimators are unbiased against closed forms over seeds, narrower than plain Monte Carlo
/// at the same paths, and as reproducible as the plain ones.
final class ImportanceSamplingTests: XCTestCase {
    let importance = ImportanceSampling(varianceScale: 8, plainShare: 0.25)

    /// One asset's standardized Student-t(4) shocks ε of `paths` paths and their likelihood ratios.
    func weightedShocks(seed: Int, paths: Int, importance: ImportanceSampling?) throws -> (epsilon: [Double], weights: [Double]) {
        let scenario = try loadScenario(scenarioText(paths: paths, seed: seed, tails: "{model: student-t, dof: 4}"))
        let model = try MarketModel(scenario: scenario, importance: importance)
        let chunk = 4096, buffers = ShockBuffers(assetCount: 1, capacity: chunk)
        var epsilon: [Double] = [], weights: [Double] = []
        for first in stride(from: 0, to: paths, by: chunk) {
            let count = min(chunk, paths - first)
            model.generateStandardized(firstPath: first, count: count, into: buffers)
            XCTAssertEqual(buffers.isWeighted, importance != nil)
            epsilon += UnsafeBufferPointer(start: buffers.epsilon, count: count)
            weights += importance == nil ? Array(repeating: 1, count: count) : Array(UnsafeBufferPointer(start: buffers.importanceWeights, count: count))
        }
        return (epsilon, weights)
    }

    /// P(ε < q) with P = 10⁻⁴ under the standardized Student-t(4), q = −T₄⁻¹(1 − P)·√(1/2): over 20
    /// seeds of 50,000 paths the importance-sampled estimate p̂ = Σ w·1{ε < q}/N lies within 1.96 of
    /// its own standard errors √((Σ w²·1{ε < q}/N − p̂²)/N) of the closed form on at least 15 seeds
    /// (a 95 % interval misses more than 5 of 20 with probability 0.3 %), the seeds' mean lies within
    /// 4 standard errors of it, and the standard error is at least 3× below plain Monte Carlo's
    /// binomial √(P(1 − P)/N) (a variance ≥ 9× smaller) on every seed.
    func testTailProbabilityIsUnbiasedAndNarrowerThanPlain() throws {
        let target = 1e-4, scale = 0.5.squareRoot(), paths = 50_000
        let bound = -StudentT(dof: 4).upperQuantile(target) * scale
        var covered = 0, estimates: [Double] = [], errors: [Double] = []
        for seed in 1...20 {
            let (epsilon, weights) = try weightedShocks(seed: seed, paths: paths, importance: importance)
            var sum = 0.0, squares = 0.0
            for (e, w) in zip(epsilon, weights) where e < bound { sum += w; squares += w * w }
            let n = Double(paths), estimate = sum / n
            let error = (max(0, squares / n - estimate * estimate) / n).squareRoot()
            if abs(estimate - target) <= 1.96 * error { covered += 1 }
            estimates.append(estimate)
            errors.append(error)
            XCTAssertLessThan(error, (target * (1 - target) / n).squareRoot() / 3, "seed \(seed)")
            XCTAssertTrue(weights.allSatisfy { $0 > 0 && $0 <= 1 / importance.plainShare }, "weights outside (0, 1/p₀]")
        }
        XCTAssertGreaterThanOrEqual(covered, 15)
        let meanError = (errors.map { $0 * $0 }.reduce(0, +)).squareRoot() / Double(errors.count)
        XCTAssertEqual(mean(estimates), target, accuracy: 4 * meanError)
    }

    /// The weighted VaR and ES of the loss −ε at 99.99 % against the Student-t closed forms
    /// VaR = √(1/2)·t, ES = √(1/2)·(ν + t²)/(ν − 1)·f₄(t)/(1 − α), t = T₄⁻¹(α): within 4 of the
    /// accumulator's own standard errors on 200,000 paths, fed chunk by chunk and merged.
    func testWeightedTailMatchesTheStudentTClosedForm() throws {
        let alpha = 0.9999, paths = 200_000, t = StudentT(dof: 4).quantile(alpha), scale = 0.5.squareRoot()
        let valueAtRisk = scale * t
        let expectedShortfall = scale * (4 + t * t) / 3 * StudentT(dof: 4).density(t) / (1 - alpha)
        let (epsilon, weights) = try weightedShocks(seed: 11, paths: paths, importance: importance)
        let losses = epsilon.map { -$0 }
        let plan = TailPlan(totalPaths: paths, levels: [alpha])
        var total = WeightedTailAccumulator(plan: plan)
        for first in stride(from: 0, to: paths, by: 8192) {
            var part = WeightedTailAccumulator(plan: plan)
            let count = min(8192, paths - first)
            losses.withUnsafeBufferPointer { l in weights.withUnsafeBufferPointer { w in part.add(l.baseAddress! + first, weights: w.baseAddress! + first, count: count) } }
            total.merge(part)
        }
        let level = total.summary().levels[0]
        XCTAssertEqual(level.valueAtRisk, valueAtRisk, accuracy: 4 * level.valueAtRiskStandardError!)
        XCTAssertEqual(level.expectedShortfall, expectedShortfall, accuracy: 4 * level.expectedShortfallStandardError!)
        // Plain Monte Carlo holds (1 − α)·N = 20 losses beyond VaR here: too few for an ES error.
        XCTAssertGreaterThan(level.rank, 200)
    }

    /// With every weight 1 the weighted tail reads the unweighted accumulator's VaR exactly and its
    /// ES to rounding, in any split of the paths.
    func testUnitWeightsGiveThePlainTail() throws {
        let (epsilon, _) = try weightedShocks(seed: 3, paths: 60_000, importance: nil)
        let plan = TailPlan(totalPaths: epsilon.count, levels: [0.99, 0.999])
        var plain = TailAccumulator(plan: plan), weighted = WeightedTailAccumulator(plan: plan)
        let ones = [Double](repeating: 1, count: epsilon.count)
        for first in stride(from: 0, to: epsilon.count, by: 6400).reversed() {
            var part = WeightedTailAccumulator(plan: plan)
            let count = min(6400, epsilon.count - first)
            epsilon.withUnsafeBufferPointer { e in ones.withUnsafeBufferPointer { w in part.add(e.baseAddress! + first, weights: w.baseAddress! + first, count: count) } }
            weighted.merge(part)
        }
        plain.add(epsilon)
        for (a, b) in zip(plain.summary().levels, weighted.summary().levels) {
            XCTAssertEqual(a.valueAtRisk, b.valueAtRisk)
            XCTAssertEqual(a.expectedShortfall, b.expectedShortfall, accuracy: 1e-12 * abs(a.expectedShortfall))
            XCTAssertEqual(a.expectedShortfallStandardError!, b.expectedShortfallStandardError!, accuracy: 0.05 * a.expectedShortfallStandardError!)
        }
    }

    /// The default scenario calibrated with importance sampling gives the same bits for any thread
    /// count and chunk size, and — with its shocks capped at 10, so that the deficit has a mean
    /// (README, "Heavy tails and moments") — agrees with plain Monte Carlo on the expected deficit
    /// and the fund's ES within 4 combined standard errors (200,000 paths each), with an error at
    /// least 2× smaller.
    func testCalibrationIsReproducibleAndAgreesWithPlain() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml", overrides: [try Override("market.tails.cap=10")])
        scenario.simulation.paths = 20_000
        scenario.calibration!.importanceSampling = importance
        let a = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 1, chunkSize: 1024))
        let b = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 3, chunkSize: 320))
        XCTAssertEqual(a.penalty.rate, b.penalty.rate)
        XCTAssertEqual(a.penalty.expectedDeficit, b.penalty.expectedDeficit)
        XCTAssertEqual(a.insuranceFund.expectedShortfall, b.insuranceFund.expectedShortfall)
        XCTAssertEqual(a.accounts.map(\.liquidationProbability), b.accounts.map(\.liquidationProbability))
        XCTAssertEqual(a.accounts.map(\.warn), b.accounts.map(\.warn))

        scenario.simulation.paths = 200_000
        let weighted = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2))
        scenario.calibration!.importanceSampling = nil
        let plain = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2))
        func combined(_ x: Double, _ y: Double) -> Double { (x * x + y * y).squareRoot() }
        XCTAssertEqual(weighted.penalty.expectedDeficit, plain.penalty.expectedDeficit,
                       accuracy: 4 * combined(weighted.penalty.expectedDeficitStandardError, plain.penalty.expectedDeficitStandardError))
        XCTAssertEqual(weighted.insuranceFund.expectedShortfall, plain.insuranceFund.expectedShortfall,
                       accuracy: 4 * combined(weighted.insuranceFund.expectedShortfallStandardError ?? .infinity, plain.insuranceFund.expectedShortfallStandardError ?? .infinity))
        XCTAssertLessThan(weighted.penalty.expectedDeficitStandardError, plain.penalty.expectedDeficitStandardError / 2)
        // Var(w·1{liquidated}) ≤ E_g[w²·1] = E_f[w·1] ≤ p/p₀: the weighted estimate's error is at most √(p/(p₀N)).
        for (x, y) in zip(weighted.accounts, plain.accounts) where !y.inBreach {
            let se = combined((x.liquidationProbability / (importance.plainShare * 200_000)).squareRoot(),
                              (y.liquidationProbability * (1 - y.liquidationProbability) / 200_000).squareRoot())
            XCTAssertEqual(x.liquidationProbability, y.liquidationProbability, accuracy: 4 * max(se, 1e-6), x.id)
        }
    }

    /// Tier breach probabilities of `evaluate` under importance sampling: unbiased against the
    /// closed form T₄(Φ⁻¹(p)/√(1/2)) of a gaussian ladder under Student-t(4) shocks within 4 of their
    /// weighted standard errors, which are below the binomial ones.
    func testEvaluationTierBreachesAreWeighted() throws {
        let p = 0.001
        let calibration = """

        calibration:
          breach_probability: \(p)
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000}, impact: 0.5}
          tiers: [100000]
          insurance_fund: {confidence: 0.99}
          importance_sampling: {variance_scale: 8, plain_share: 0.25}
        policy:
          ladder:
            BTC:
              - {up_to: 100000, maintenance: 0.1, initial: 0.2}
          liquidation_penalty: 0.005
        """
        let scenario = try loadScenario(scenarioText(paths: 100_000, tails: "{model: student-t, dof: 4}") + calibration)
        let evaluation = try PolicyEvaluator(scenario: scenario, file: "test").run(settings: RunSettings(threads: 2))
        for tier in evaluation.tiers {
            // The tier's breach bound on ε: the move over its liquidation period that loses the margin net of impact.
            let s = 0.8 * (4.0 / (24 * 365) * (1 + tier.upTo / 50_000_000)).squareRoot()
            let bound = tier.side == .long ? log(1 - (tier.maintenance - tier.impact)) / s : log(1 + tier.maintenance - tier.impact) / s
            let expected = tier.side == .long ? StudentT(dof: 4).cdf(bound / 0.5.squareRoot()) : StudentT(dof: 4).survival(bound / 0.5.squareRoot())
            XCTAssertEqual(tier.probability, expected, accuracy: 4 * tier.standardError, "\(tier.side)")
            XCTAssertLessThan(tier.standardError, (expected * (1 - expected) / 100_000).squareRoot(), "\(tier.side)")
        }
    }

    func testImportanceSamplingInputIsValidated() {
        let calibration = """

        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000}}
          tiers: [100000]

        """
        let t = scenarioText(paths: 1000, tails: "{model: student-t, dof: 4}") + calibration
        assertRejected(scenarioText(paths: 1000) + calibration + "  importance_sampling: on\n", path: "calibration.importance_sampling", mentioning: "gaussian")
        assertRejected(t + "  importance_sampling: {variance_scale: 0.5}\n", path: "calibration.importance_sampling.variance_scale", mentioning: "(1, 1000]")
        assertRejected(t + "  importance_sampling: {plain_share: 1}\n", path: "calibration.importance_sampling.plain_share", mentioning: "(0, 1)")
        assertRejected(t + "  importance_sampling: {scale: 2}\n", path: "calibration.importance_sampling.scale")
        assertRejected(t + "  importance_sampling: yes\n", path: "calibration.importance_sampling", mentioning: "'on'")
        assertRejected(t.replacingOccurrences(of: "depth: {BTC: 50000000}}", with: "depth: {BTC: 50000000}, cascade: on}") + "  importance_sampling: on\n",
                       path: "calibration.importance_sampling", mentioning: "cascade")
    }
}
