import Calibration
import Distributions
import Foundation
import LinearAlgebra
import MonteCarlo
import ScenarioSpec
import XCTest

/// Monitoring inside the horizon (issue 29) against closed forms. A one-asset perp account under a
/// one-tier ladder (maintenance r) has the liquidation price L = (q·S − C)/(q·(1 − r)) (long q > 0,
/// collateral C USD) or U = (C + |q|·S)/(|q|·(1 + r)) (short). With the standardized level
/// β = ln(L/S)/(σ√T), the reflection principle gives, for any normal variance mixture,
/// P(liquidation) = 2·P(ε ≤ β) (long; 2·P(ε ≥ β) short), and BGK's discrete version
/// P ≈ 2·Φ(β − 0.5826·√(Δt/T)) (gaussian). Tolerances: 4 binomial standard errors √(p(1−p)/N).
final class MonitoringTests: XCTestCase {
    let spot = 50_000.0, vol = 0.8, q = 10.0, paths = 200_000
    var horizonScale: Double { vol * (1.0 / 365).squareRoot() }

    /// A one-BTC-perp account whose liquidation price sits at the standardized level `level`, under
    /// a one-tier ladder of maintenance rate `maintenance`.
    func scenario(tails: String = "{model: gaussian}", long: Bool = true, level: Double = -1.6, monitoring: String?,
                  paths: Int? = nil, maintenance: Double = 0.01, penalty: Double = 0.005, fund: Double = 1000, depth: Double = 50_000_000,
                  impact: Double = 0.5) -> String {
        let price = spot * exp(horizonScale * level)
        let collateral = long ? q * spot - price * q * (1 - maintenance) : price * q * (1 + maintenance) - q * spot
        return scenarioText(paths: paths ?? self.paths, tails: tails, collateral: "{USD: \(collateral)}",
                            positions: "        - {type: perp, asset: BTC, quantity: \(long ? q : -q)}")
            + calibrationText(monitoring: monitoring, depth: depth, impact: impact)
            + "\npolicy:\n  ladder:\n    BTC:\n      - {up_to: 1000000000, maintenance: \(maintenance), initial: 0.5}\n"
            + "  liquidation_penalty: \(penalty)\n  insurance_fund: \(fund)\n"
    }

    func calibrationText(monitoring: String?, depth: Double = 50_000_000, impact: Double = 0.5) -> String {
        """

        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: \(depth)}, impact: \(impact)\(monitoring.map { ", monitoring: \($0)" } ?? "")}
          tiers: [100000, 1000000]
          insurance_fund: {confidence: 0.99, balance: 100000}
        """
    }

    func evaluate(_ text: String, threads: Int = 2, chunkSize: Int = 1024) throws -> PolicyEvaluation {
        try PolicyEvaluator(scenario: loadScenario(text), file: "test").run(settings: RunSettings(threads: threads, chunkSize: chunkSize))
    }

    func binomialError(_ p: Double, _ n: Int) -> Double { (p * (1 - p) / Double(n)).squareRoot() }

    /// Continuous monitoring: P(liquidation) = 2·P(S_T ≤ L) (long), 2·P(S_T ≥ U) (short), gaussian
    /// and Student-t(4) (standardized: P(ε ≤ β) = T₄(β/√(1/2))), within 4 SE; under `horizon` the
    /// once-a-day check finds P(S_T ≤ L) itself, within 4 SE, every breach at the horizon's end.
    func testContinuousMonitoringDoublesTheEndProbability() throws {
        let level = -1.6
        for (tails, end) in [("{model: gaussian}", StandardNormal.cdf(level)), ("{model: student-t, dof: 4}", StudentT(dof: 4).cdf(level / 0.5.squareRoot()))] {
            for long in [true, false] {
                let continuous = try evaluate(scenario(tails: tails, long: long, level: long ? level : -level, monitoring: "continuous"))
                let p = continuous.accounts[0].liquidationProbability, expected = 2 * end
                XCTAssertEqual(p, expected, accuracy: 4 * binomialError(expected, paths), "\(tails) long \(long)")
                let horizon = try evaluate(scenario(tails: tails, long: long, level: long ? level : -level, monitoring: "horizon"))
                XCTAssertEqual(horizon.accounts[0].liquidationProbability, end, accuracy: 4 * binomialError(end, paths), "\(tails) long \(long) horizon")
                // Breach times: inside the horizon, all at its end under `horizon`.
                XCTAssertEqual(horizon.breachTimes.atHorizon, horizon.breachTimes.total)
                XCTAssertEqual(horizon.breachTimes.quantiles.map(\.hours), [24, 24, 24])
                XCTAssertLessThan(continuous.breachTimes.meanHours!, 24)
            }
        }
    }

    /// Breach times under continuous monitoring: the first passage of a Brownian motion to the level
    /// β (unconditionally over the horizon's shock), P(τ ≤ t) = 2Φ(β/√(t/T)), so given τ ≤ T,
    /// G(t) = Φ(β/√(t/T))/Φ(β). The histogram's empirical CDF at its bin edges stays within the
    /// Kolmogorov–Smirnov 1 % critical value 1.6276/√N of G (binning only makes the test conservative).
    func testBreachTimesFollowTheFirstPassageLaw() throws {
        let level = -1.6
        let times = try evaluate(scenario(level: level, monitoring: "continuous")).breachTimes
        let total = times.total
        var below = 0, largest = 0.0
        for (b, count) in times.counts.enumerated() {
            below += count
            let t = Double(b + 1) * times.binHours / times.horizonHours
            largest = max(largest, abs(Double(below) / Double(total) - StandardNormal.cdf(level / t.squareRoot()) / StandardNormal.cdf(level)))
        }
        XCTAssertLessThan(largest, kolmogorovSmirnovCritical1Percent(total), "KS distance over \(total) breaches")
    }

    /// With a ladder set at breach probability p for the liquidation period (one tier, rate
    /// r = 1 − exp(σ√h_liq·Φ⁻¹(p)); no impact, unlimited depth), a continuously monitored account is
    /// closed at its maintenance level, so P(deficit | liquidated) = p (gaussian), within 4 SE
    /// √(p(1−p)/N_liquidated); a deficit is P(net deficit > a fund of 0) at no penalty. The check at
    /// the horizon's end finds it far more often: the overshoot.
    func testDeficitGivenLiquidationIsTheLaddersBreachProbability() throws {
        let p = 0.05, hours = 4.0
        let rate = 1 - exp(vol * (hours / (24 * 365)).squareRoot() * StandardNormal.quantile(p))
        func conditional(_ monitoring: String) throws -> (probability: Double, liquidations: Double) {
            let e = try evaluate(scenario(monitoring: monitoring, maintenance: rate, penalty: 0, fund: 0, depth: 1e15, impact: 0))
            let liquidated = e.accounts[0].liquidationProbability
            return (e.fundShortfallProbability! / liquidated, liquidated * Double(paths))
        }
        let continuous = try conditional("continuous")
        XCTAssertEqual(continuous.probability, p, accuracy: 4 * binomialError(p, Int(continuous.liquidations)))
        XCTAssertGreaterThan(try conditional("horizon").probability, 3 * p)
    }

    /// An account with a second asset that barely moves (ETH at vol 10⁻⁴, a 1-coin holding) is
    /// monitored through its surplus bridge (`SurplusBridge`), a first-order approximation of the
    /// one-asset barrier: P(liquidation) within 10 % of 2·Φ(β) (the linearisation's error at
    /// β = −1.6 is about 5 %; 4 SE ≈ 2.5 %), and about twice the horizon check's.
    func testSurplusBridgeOfATwoAssetAccountIsNearTheBarrier() throws {
        let level = -1.6
        let price = spot * exp(horizonScale * level), collateral = q * spot - price * q * 0.99
        let policy = "\npolicy:\n  ladder:\n    \"*\":\n      - {up_to: 1000000000, maintenance: 0.01, initial: 0.5}\n  liquidation_penalty: 0\n  insurance_fund: 0\n"
        func text(_ monitoring: String) -> String {
            scenarioText(paths: paths, assets: "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 0.01, vol: 0.0001}",
                         correlation: "{uniform: 0}", collateral: "{USD: \(collateral)}",
                         positions: "        - {type: perp, asset: BTC, quantity: \(q)}\n        - {type: spot, asset: ETH, quantity: 1}")
                + calibrationText(monitoring: monitoring).replacingOccurrences(of: "depth: {BTC: ", with: "depth: {ETH: 1000000, BTC: ") + policy
        }
        let continuous = try evaluate(text("continuous")).accounts[0].liquidationProbability
        let horizon = try evaluate(text("horizon")).accounts[0].liquidationProbability
        XCTAssertEqual(continuous, 2 * StandardNormal.cdf(level), accuracy: 0.1 * 2 * StandardNormal.cdf(level))
        XCTAssertEqual(continuous / horizon, 2, accuracy: 0.25)
    }

    /// Checks every Δt: the BGK-shifted closed form 2·Φ(β − 0.5826·√(Δt/T)) within 4 SE, rising
    /// towards the continuous 2·Φ(β) as the step shrinks (4 h, 1 h, 15 min).
    func testDiscreteMonitoringFollowsTheShiftedBarrierAndConverges() throws {
        let level = -1.6
        var previous = 0.0
        for (step, fraction) in [("4h", 4.0 / 24), ("1h", 1.0 / 24), ("15m", 0.25 / 24)] {
            let p = try evaluate(scenario(level: level, monitoring: "{every: \(step)}")).accounts[0].liquidationProbability
            let expected = 2 * StandardNormal.cdf(level - 0.5826 * fraction.squareRoot())
            XCTAssertEqual(p, expected, accuracy: 4 * binomialError(expected, paths), step)
            XCTAssertGreaterThan(p, previous, step)
            previous = p
        }
        XCTAssertLessThan(previous, 2 * StandardNormal.cdf(level))
    }

    /// An independent simulation of the discretely checked account (24 hourly Gaussian steps,
    /// SplitMix64): BGK's continuity correction holds within 4 combined SE plus its own O(Δt) error
    /// (0.5 % of p: Broadie, Glasserman & Kou's table shows errors below that for β₁√Δt ≈ 0.12).
    func testHourlyChecksAgainstAnIndependentDiscreteSimulation() throws {
        let level = -1.6, steps = 24
        let p = try evaluate(scenario(level: level, monitoring: "{every: 1h}")).accounts[0].liquidationProbability
        var rng = SplitMix64(seed: 29)
        var hits = 0
        for _ in 0..<paths {
            var x = 0.0
            for _ in 0..<steps {
                x += rng.nextNormal() / Double(steps).squareRoot()
                if x <= level { hits += 1; break }
            }
        }
        let direct = Double(hits) / Double(paths)
        XCTAssertEqual(p, direct, accuracy: 4 * 2.0.squareRoot() * binomialError(direct, paths) + 0.005 * direct)
    }

    /// Oracle limits: deviation 0 is continuous and a heartbeat of the horizon without a deviation
    /// trigger is `horizon`, bit for bit; a tiny heartbeat or deviation is continuous within 4 SE.
    func testOracleLimits() throws {
        let continuous = try evaluate(scenario(monitoring: "continuous"))
        let horizon = try evaluate(scenario(monitoring: "horizon"))
        func same(_ a: PolicyEvaluation, _ b: PolicyEvaluation, _ name: String) {
            XCTAssertEqual(a.accounts[0].liquidationProbability, b.accounts[0].liquidationProbability, name)
            XCTAssertEqual(a.expectedDeficit, b.expectedDeficit, name)
            XCTAssertEqual(a.fund.expectedShortfall, b.fund.expectedShortfall, name)
            XCTAssertEqual(a.breachTimes.counts + [a.breachTimes.atHorizon], b.breachTimes.counts + [b.breachTimes.atHorizon], name)
        }
        same(try evaluate(scenario(monitoring: "{oracle: {deviation: 0%}}")), continuous, "deviation 0")
        same(try evaluate(scenario(monitoring: "{oracle: {deviation: 0, heartbeat: 1h}}")), continuous, "deviation 0 with a heartbeat")
        same(try evaluate(scenario(monitoring: "{oracle: {heartbeat: 24h}}")), horizon, "heartbeat = horizon")
        same(try evaluate(scenario(monitoring: "{every: 24h}")), horizon, "every = horizon")
        let p = continuous.accounts[0].liquidationProbability
        for oracle in ["{oracle: {heartbeat: 0.001m}}", "{oracle: {deviation: 0.0001%}}"] {
            XCTAssertEqual(try evaluate(scenario(monitoring: oracle)).accounts[0].liquidationProbability, p, accuracy: 4 * binomialError(p, paths), oracle)
        }
        // A 0.5 % deviation lags: fewer liquidations than continuous, more than the daily check.
        let lagged = try evaluate(scenario(monitoring: "{oracle: {deviation: 0.5%, heartbeat: 1h}}")).accounts[0].liquidationProbability
        XCTAssertLessThan(lagged, p)
        XCTAssertGreaterThan(lagged, horizon.accounts[0].liquidationProbability)
    }

    /// The same figures for any thread count and chunk size, on the default scenario's multi-asset
    /// and option accounts (the grid; vols tripled so that they are liquidated) and on a one-asset
    /// account.
    func testPathwiseIsThreadAndChunkInvariant() throws {
        var base = try Scenario.load(path: "Scenarios/default.yaml")
        base.simulation.paths = 6_000
        for i in base.market.assets.indices { base.market.assets[i].vol *= 3 }   // liquidations on most paths
        for monitoring in [LiquidationMonitoring.continuous, .every(hours: 0.25), .oracle(deviation: 0.005, heartbeatHours: 1)] {
            var scenario = base
            scenario.calibration!.monitoring = monitoring
            let a = try PolicyEvaluator(scenario: scenario, file: "x").run(settings: RunSettings(threads: 1, chunkSize: 1024))
            let b = try PolicyEvaluator(scenario: scenario, file: "x").run(settings: RunSettings(threads: 2, chunkSize: 320))
            XCTAssertEqual(a.accounts.map(\.liquidationProbability), b.accounts.map(\.liquidationProbability), "\(monitoring)")
            XCTAssertEqual(a.accounts.map(\.expectedDeficit), b.accounts.map(\.expectedDeficit), "\(monitoring)")
            XCTAssertEqual(a.fund.expectedShortfall, b.fund.expectedShortfall, "\(monitoring)")
            XCTAssertEqual(a.breachTimes.counts + [a.breachTimes.atHorizon], b.breachTimes.counts + [b.breachTimes.atHorizon], "\(monitoring)")
            XCTAssertGreaterThan(a.breachTimes.total, 20, "\(monitoring)")
        }
        let text = scenario(tails: "{model: student-t, dof: 4}", monitoring: "continuous", paths: 20_000)
        let a = try evaluate(text, threads: 1, chunkSize: 1024), b = try evaluate(text, threads: 2, chunkSize: 192)
        XCTAssertEqual(a.accounts[0].expectedDeficit, b.accounts[0].expectedDeficit)
        XCTAssertEqual(a.breachTimes.counts, b.breachTimes.counts)
    }

    /// `monitoring: horizon` reproduces the figures of the release before monitoring (commit ad82d2e,
    /// `thresher calibrate|evaluate Scenarios/default.yaml --paths 20000` with every vol tripled by
    /// `--set`), bit for bit where OpenBLAS runs the kernels they were recorded with (Sandybridge's;
    /// Nehalem's and Prescott's give the same bits, Core2's not). OpenBLAS picks its kernels by the CPU when it loads, and its
    /// FMA kernels (Haswell, Zen, SkylakeX, Cooperlake) round the correlated shocks' products
    /// differently: there the money figures agree to the last few bits (measured on an AMD Zen 4 under
    /// Cooperlake's and Haswell's kernels: ≤ 7e-16 relative) and are compared to 1e-12 relative; the
    /// probabilities, counts over the paths, exactly.
    func testHorizonMonitoringReproducesTheEarlierRelease() throws {
        let vols = ["BTC": "1.65", "ETH": "2.1", "SOL": "2.55", "BNB": "1.8", "XRP": "2.7", "DOGE": "3.15"]
        var scenario = try Scenario.load(path: "Scenarios/default.yaml",
                                         overrides: vols.sorted { $0.key < $1.key }.map { try Override("market.assets.\($0.key).vol=\($0.value)") })
        scenario.simulation.paths = 20_000
        scenario.calibration!.monitoring = .horizon
        let settings = RunSettings(threads: 2)
        let exact = ["Sandybridge", "Nehalem", "Prescott"].contains(blasCore)
        func assertRecorded(_ values: [Double], _ recorded: [Double], _ what: String, line: UInt = #line) {
            XCTAssertEqual(values.count, recorded.count, what, line: line)
            for (value, expected) in zip(values, recorded) {
                if exact { XCTAssertEqual(value, expected, "\(what) under OpenBLAS \(blasCore)", line: line) }
                else { XCTAssertEqual(value, expected, accuracy: 1e-12 * abs(expected), "\(what) under OpenBLAS \(blasCore)", line: line) }
            }
        }
        let calibration = try Calibrator(scenario: scenario).run(settings: settings)
        assertRecorded([calibration.penalty.rate, calibration.penalty.expectedDeficit, calibration.insuranceFund.valueAtRisk, calibration.insuranceFund.expectedShortfall],
                       [0.0003816757391238824, 6284.350611196378, 1386043.1017450716, 2306867.266025858], "calibration: rate, E[deficit], fund VaR, ES")
        XCTAssertEqual(calibration.accounts.map(\.liquidationProbability), [0.0001, 0.0094, 0.00435, 1, 0.0001])
        assertRecorded(calibration.accounts.map(\.expectedDeficit), [0, 21.014014824796618, 362.9776379820602, 5832.8603850436175, 67.49857334590389],
                       "calibration: E[deficit] by account")
        let evaluation = try PolicyEvaluator(scenario: scenario, file: "x").run(settings: settings)
        assertRecorded([evaluation.expectedDeficit, evaluation.expectedIncome, evaluation.fund.expectedShortfall],
                       [4617.284726130853, 183.4863565752002, 2243763.1398007725], "evaluation: E[deficit], E[income], fund ES")
        XCTAssertEqual(evaluation.accounts.map(\.liquidationProbability), [0, 0.0001, 0.00055, 0.0068, 0.0001])
        assertRecorded(evaluation.accounts.map(\.expectedDeficit), [0, 21.014014824796618, 347.70861319379077, 4181.063524766362, 67.49857334590389],
                       "evaluation: E[deficit] by account")
    }

    /// Monitoring as a model dimension of `robustness`: a ladder and fund sized under `horizon`,
    /// evaluated under `continuous`. Pass A does not depend on the monitoring, so every cell's ladder
    /// breaches alike; the continuous column liquidates about twice as often (reflection principle,
    /// within 4 SE of the ratio's binomial errors) and each cell is its own evaluate run, bit for bit.
    func testRobustnessTakesMonitoringAsAModel() throws {
        let scenario = try loadScenario(scenario(level: -1.6, monitoring: nil, paths: 50_000))
        let spec = RobustnessSpec(models: [.gaussian], monitoring: [.horizon, .continuous], multipliers: [1], bumps: [])
        let result = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test").run(settings: RunSettings(threads: 2))
        XCTAssertEqual(result.models, ["gaussian · horizon", "gaussian · continuous"])
        for row in result.matrix {
            XCTAssertEqual(row[0].meanBreach, row[1].meanBreach)
            let ratio = row[1].meanLiquidation / row[0].meanLiquidation
            let relative = ((1 - row[0].meanLiquidation) / (row[0].meanLiquidation * 50_000)).squareRoot() * 2.0.squareRoot()
            XCTAssertGreaterThan(ratio, 1.5, "\(ratio)")
            XCTAssertLessThan(ratio, 2 + 4 * 2 * relative, "\(ratio)")
        }
        var horizon = scenario
        horizon.calibration!.monitoring = .horizon
        let policy = try Calibrator(scenario: horizon).run(settings: RunSettings(threads: 2)).policy
        var continuous = scenario
        continuous.calibration!.monitoring = .continuous
        continuous.policy = policy
        let alone = try PolicyEvaluator(scenario: continuous, file: "x").run(settings: RunSettings(threads: 2))
        XCTAssertEqual(result.matrix[0][1].expectedDeficit, alone.expectedDeficit)
        XCTAssertEqual(result.matrix[0][1].meanLiquidation, alone.accounts[0].liquidationProbability)
        assertRejected(scenarioText(paths: 1000) + calibrationText(monitoring: nil) + "\nrobustness: {monitoring: [horizon, {every: 2d}]}",
                       path: "robustness.monitoring[1].every", mentioning: "longer than the horizon")
    }

    func testBadMonitoringInputIsRejectedNamingTheField() {
        let base = scenarioText(paths: 1000)
        let path = "calibration.liquidation.monitoring"
        assertRejected(base + calibrationText(monitoring: "{every: 25h}"), path: path + ".every", mentioning: "longer than the horizon")
        assertRejected(base + calibrationText(monitoring: "{every: 0m}"), path: path + ".every", mentioning: "> 0")
        assertRejected(base + calibrationText(monitoring: "{every: soon}"), path: path + ".every", mentioning: "duration")
        assertRejected(base + calibrationText(monitoring: "{oracle: {deviation: -0.5%}}"), path: path + ".oracle.deviation", mentioning: "≥ 0")
        assertRejected(base + calibrationText(monitoring: "{oracle: {}}"), path: path + ".oracle", mentioning: "deviation, a heartbeat")
        assertRejected(base + calibrationText(monitoring: "{oracle: {heartbeat: 1h, delay: 2}}"), path: path + ".oracle.delay", mentioning: "unknown field")
        assertRejected(base + calibrationText(monitoring: "continous"), path: path, mentioning: "did you mean 'continuous'")
        assertRejected(base + calibrationText(monitoring: "{hourly: 1}"), path: path + ".hourly", mentioning: "unknown field")
    }
}
