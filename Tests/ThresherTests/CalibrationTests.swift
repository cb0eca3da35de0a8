import Calibration
import Distributions
import Foundation
import MonteCarlo
import ScenarioSpec
import XCTest

final class CalibrationTests: XCTestCase {
    func calibrationText(p: Double = 0.01, tiers: String = "[100000, 1000000, 5000000]", depth: String = "{BTC: 50000000}",
                         maxRate: Double = 0.05, balance: String = ", balance: 100000", monitoring: String? = nil) -> String {
        """

        calibration:
          breach_probability: \(p)
          liquidation: {horizon_hours: 4, depth: \(depth), impact: 0.5\(monitoring.map { ", monitoring: \($0)" } ?? "")}
          tiers: \(tiers)
          penalty: {coverage: 1.0, max_rate: \(maxRate)}
          insurance_fund: {confidence: 0.99\(balance)}
        """
    }

    /// `evaluate` on a given policy: a ladder calibrated in closed form under gaussian shocks
    /// (MMR_long = 1 − exp(s·Φ⁻¹(p)) + I, MMR_short = exp(s·Φ⁻¹(1−p)) − 1 + I) breaches under
    /// Student-t(4) shocks with probability T₄(Φ⁻¹(p)/√(1/2)) on both sides (the standardized t has
    /// variance 1), within 4 standard errors; under gaussian shocks it gives back p.
    func testEvaluateAGaussianLadderUnderStudentT() throws {
        let p = 0.01, vol = 0.8, depth = 50_000_000.0
        let tiers = [100_000.0, 1_000_000.0, 5_000_000.0]
        let rows = tiers.map { tier -> String in
            let s = vol * (4.0 / (24 * 365) * (1 + tier / depth)).squareRoot()
            let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (tier / depth).squareRoot()
            let long = 1 - exp(s * StandardNormal.quantile(p)) + impact, short = exp(s * StandardNormal.quantile(1 - p)) - 1 + impact
            return "      - {up_to: \(tier), maintenance: {long: \(long), short: \(short)}, initial: 0.2}"
        }
        let policy = "\npolicy:\n  ladder:\n    BTC:\n" + rows.joined(separator: "\n") + "\n  liquidation_penalty: 0.005\n  insurance_fund: 1000\n"
        for (tails, expected) in [("{model: student-t, dof: 4}", StudentT(dof: 4).cdf(StandardNormal.quantile(p) / 0.5.squareRoot())),
                                  ("{model: gaussian}", p)] {
            let scenario = try loadScenario(scenarioText(paths: 200_000, tails: tails) + calibrationText(p: p) + policy)
            let evaluation = try PolicyEvaluator(scenario: scenario, file: "test").run(settings: RunSettings(threads: 2))
            XCTAssertEqual(evaluation.tiers.count, 6)
            for tier in evaluation.tiers {
                XCTAssertEqual(tier.probability, expected, accuracy: 4 * (expected * (1 - expected) / 200_000).squareRoot(), "\(tails) \(tier.upTo) \(tier.side)")
                XCTAssertEqual(tier.initial, 0.2)
            }
            XCTAssertEqual(evaluation.penaltyRate, 0.005)
            XCTAssertNotNil(evaluation.fundShortfallProbability)
            XCTAssertEqual(evaluation.accounts.count, 1)
        }
        XCTAssertGreaterThan(StudentT(dof: 4).cdf(StandardNormal.quantile(p) / 0.5.squareRoot()), 0.012)  // the model risk is visible
    }

    /// The ladder `calibrate` writes with --policy-out, evaluated on the same paths, gives back its
    /// target breach probability on every tier and side within its standard error.
    func testEvaluatingTheCalibratedLadderGivesBackTheTarget() throws {
        let text = scenarioText(paths: 100_000, tails: "{model: student-t, dof: 4}") + calibrationText(p: 0.005)
        let calibrated = try Calibrator(scenario: loadScenario(text)).run(settings: RunSettings(threads: 2))
        let scenario = try loadScenario(text + "\n" + calibrated.policyYAML)
        let evaluation = try PolicyEvaluator(scenario: scenario, file: "test").run(settings: RunSettings(threads: 2))
        for tier in evaluation.tiers {
            XCTAssertEqual(tier.probability, 0.005, accuracy: tier.standardError, "\(tier.upTo) \(tier.side)")
        }
        XCTAssertEqual(evaluation.penaltyRate, calibrated.penalty.rate)
        XCTAssertEqual(evaluation.expectedDeficit, calibrated.penalty.expectedDeficit, accuracy: 1e-9 * max(1, calibrated.penalty.expectedDeficit))
        XCTAssertThrowsError(try PolicyEvaluator(scenario: loadScenario(text), file: "x"))
    }

    /// `robustness`: the model matrix's diagonal gives back the target breach probability; the
    /// frontier trades breaches for liquidations monotonically; a vol bump re-calibrates exactly as
    /// the closed form says on common random numbers: with e^{sε_p} = 1 + I − MMR_long of the base
    /// ladder, σ → 1.2σ gives MMR_long' = 1 − (1 + I − MMR_long)^{1.2} + 1.2·I (and likewise short).
    func testRobustnessMatrixFrontierAndVolSensitivity() throws {
        let scenario = try loadScenario(scenarioText(paths: 60_032, tails: "{model: student-t, dof: 4}") + calibrationText(p: 0.01))
        let spec = RobustnessSpec(models: [.studentT(dof: 4), .gaussian], multipliers: [0.5, 1, 2],
                                  bumps: [.init(kind: .vol, value: 1.2)])
        let result = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test").run(settings: RunSettings(threads: 2))
        let se = (0.01 * 0.99 / 60_032).squareRoot()
        for i in 0..<2 { XCTAssertEqual(result.matrix[i][i].meanBreach, 0.01, accuracy: 2 * se, "diagonal \(i)") }
        XCTAssertGreaterThan(result.matrix[1][0].meanBreach, 0.01 + 4 * se)   // a gaussian ladder under fat tails
        XCTAssertLessThan(result.matrix[0][1].meanBreach, 0.01 - 4 * se)
        let breaches = result.frontier.map(\.outcome.maxBreach)
        XCTAssertTrue(breaches[0] > breaches[1] && breaches[1] > breaches[2], "\(breaches)")
        let liquidations = result.frontier.map(\.outcome.meanLiquidation)
        XCTAssertTrue(liquidations[0] <= liquidations[1] && liquidations[1] <= liquidations[2], "\(liquidations)")
        for point in result.frontier { XCTAssertLessThanOrEqual(point.outcome.meanUnnecessaryLiquidation, point.outcome.meanLiquidation) }
        // The vol bump against the closed form, rung by rung, through the mean rate.
        let base = try Calibrator(scenario: scenario).estimateLadder(settings: RunSettings(threads: 2))
        let bumpedRates = base.rungs[0].map { rung -> Double in
            let long = 1 - pow(1 + rung.impact - rung.long, 1.2) + 1.2 * rung.impact
            let short = pow(1 + rung.short - rung.impact, 1.2) - 1 + 1.2 * rung.impact
            return max(long, short)
        }
        let expected = bumpedRates.reduce(0, +) / Double(bumpedRates.count)
        let bumped = try XCTUnwrap(result.sensitivity.first)
        XCTAssertEqual(bumped.thresholds.meanMaintenance, expected, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(bumped.maintenanceElasticity?.value), (expected / result.baseThresholds.meanMaintenance - 1) / 0.2, accuracy: 1e-9)
    }

    /// Sectioning intervals cover: over 100 seeds the 95 % interval of a gaussian-calibrated
    /// maintenance rate (one asset, 20,480 paths, p = 1 %, K = 10 sections of 2,048 paths) holds the
    /// closed form 1 − exp(σ√h_liq·Φ⁻¹(p)) + I(n) in at least 86 of 100 runs (95 % nominal; 86 is
    /// about 4 binomial standard errors below 95, so a failing interval method is caught while
    /// sampling noise is not).
    func testSectioningIntervalsCoverTheClosedForm() throws {
        let vol = 0.8, depth = 50_000_000.0, tier = 1_000_000.0
        let years = 4.0 / (24 * 365) * (1 + tier / depth)
        let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (tier / depth).squareRoot()
        let exact = 1 - exp(vol * years.squareRoot() * StandardNormal.quantile(0.01)) + impact
        var covered = 0
        let seeds = 100
        for seed in 0..<seeds {
            let scenario = try loadScenario(scenarioText(paths: 20_480, seed: 1000 + seed) + calibrationText(p: 0.01))
            let calibrator = try Calibrator(scenario: scenario)
            let settings = RunSettings(threads: 2)
            let full = try calibrator.estimateLadder(settings: settings).rungs[0][1].long
            let ranges = try XCTUnwrap(Sectioning.ranges(paths: 20_480, sections: 10))
            XCTAssertEqual(ranges.map(\.count).reduce(0, +), 20_480)
            let sections = try ranges.map { try calibrator.estimateLadder(settings: settings, paths: $0).rungs[0][1].long }
            let interval = Sectioning.interval(full: full, sections: sections)
            if interval.low <= exact && exact <= interval.high { covered += 1 }
        }
        XCTAssertGreaterThanOrEqual(covered, 86, "coverage \(covered)/\(seeds)")
    }

    /// One asset under student-t ν = 4: MMR_long(n) = 1 − exp(σ√h_liq·√((ν−2)/ν)·t_ν⁻¹(p)) + I(n) and
    /// MMR_short(n) = exp(σ√h_liq·√((ν−2)/ν)·t_ν⁻¹(1−p)) − 1 + I(n), within 4 standard errors.
    func testLadderMatchesTheStudentTClosedForm() throws {
        let text = scenarioText(paths: 400_000, tails: "{model: student-t, dof: 4}") + calibrationText(p: 0.001)
        let scenario = try loadScenario(text)
        let ladder = try Calibrator(scenario: scenario).estimateLadder(settings: RunSettings(threads: 2))
        let t = StudentT(dof: 4), scale = 0.5.squareRoot(), vol = 0.8, depth = 50_000_000.0
        for rung in ladder.rungs[0] {
            let years = 4.0 / (24 * 365) * (1 + rung.tier / depth)
            let s = vol * years.squareRoot()
            let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (rung.tier / depth).squareRoot()
            let long = 1 - exp(s * scale * t.quantile(0.001)) + impact
            let short = exp(s * scale * t.quantile(0.999)) - 1 + impact
            let error = try XCTUnwrap(rung.standardError)
            XCTAssertEqual(rung.long, long, accuracy: 4 * error, "tier \(rung.tier)")
            XCTAssertEqual(rung.short, short, accuracy: 4 * error, "tier \(rung.tier)")
            XCTAssertEqual(rung.liquidationHours, years * 24 * 365, accuracy: 1e-9)
            XCTAssertEqual(rung.impact, impact, accuracy: 1e-15)
        }
        // Monotone in tier: bigger positions take longer to close and move the market more.
        for asset in ladder.rungs where !asset.isEmpty {
            for k in 1..<asset.count { XCTAssertGreaterThan(asset[k].rate, asset[k - 1].rate) }
        }
        // A position uses the first tier ≥ its notional, the last beyond them all.
        let schedule = ladder.schedule
        XCTAssertEqual(schedule.tier(asset: 0, notional: 50_000).upTo, 100_000)
        XCTAssertEqual(schedule.tier(asset: 0, notional: 100_000).upTo, 100_000)
        XCTAssertEqual(schedule.tier(asset: 0, notional: 2_000_000).upTo, 5_000_000)
        XCTAssertEqual(schedule.tier(asset: 0, notional: 9e9).upTo, 5_000_000)
        XCTAssertEqual(schedule.tier(asset: 0, notional: 2_000_000).maintenanceLong, ladder.rungs[0][2].long)
    }

    /// The waterfall of a one-account book (long 10 BTC perp on 40,000 USD, gaussian) re-simulated
    /// here with an independent generator (SplitMix64 + Box–Muller) and Thresher's own ladder and
    /// penalty rate: liquidation probability, expected deficit and expected penalty income must agree
    /// within 4 combined standard errors. The re-simulation checks once, at the horizon's end:
    /// `monitoring: horizon`.
    func testWaterfallAgainstAnIndependentResimulation() throws {
        let paths = 200_000
        let text = scenarioText(paths: paths, tails: "{model: gaussian}", collateral: "{USD: 40000}",
                                positions: "        - {type: perp, asset: BTC, quantity: 10}") + calibrationText(p: 0.02, monitoring: "horizon")
        let scenario = try loadScenario(text)
        let result = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2))
        let account = result.accounts[0]
        let pi = result.penalty.rate
        XCTAssertTrue(result.penalty.reached)
        XCTAssertGreaterThan(account.liquidationProbability, 0.05)
        XCTAssertGreaterThan(result.penalty.expectedDeficit, 0)

        // Independent re-simulation of the same model.
        let spot = 50_000.0, vol = 0.8, q = 10.0, collateral = 40_000.0, depth = 50_000_000.0
        let s = vol * (1.0 / 365).squareRoot()
        var rng = SplitMix64(seed: 2024)
        var liquidated = [Double](), deficit = [Double](), income = [Double]()
        for _ in 0..<paths {
            let moved = spot * exp(s * rng.nextNormal())
            let notional = q * moved
            let e1 = collateral + q * (moved - spot)
            let m1 = notional * result.ladder.schedule.tier(asset: 0, notional: notional).maintenance(.long)
            guard e1 < m1 else { liquidated.append(0); deficit.append(0); income.append(0); continue }
            let years = 4.0 / (24 * 365) * (1 + notional / depth)
            let final = moved * exp(vol * years.squareRoot() * rng.nextNormal())
            let slippage = 0.5 * vol * (1.0 / 365).squareRoot() * (notional / depth).squareRoot() * notional
            let e2 = e1 + q * (final - moved) - slippage
            liquidated.append(1)
            deficit.append(max(-e2, 0))
            income.append(min(pi * notional, max(e2, 0)))
        }
        func check(_ sample: [Double], _ thresher: Double, _ name: String) {
            let se = (variance(sample) / Double(paths)).squareRoot() * 2.0.squareRoot()  // two independent estimates
            XCTAssertEqual(thresher, mean(sample), accuracy: 4 * se, name)
        }
        check(liquidated, account.liquidationProbability, "liquidation probability")
        check(deficit, account.expectedDeficit, "expected deficit")
        check(income, result.penalty.expectedIncome, "expected income")
    }

    /// π* meets the coverage constraint with the income computed exactly at π*, and is the smallest
    /// such rate up to the grid resolution.
    func testPenaltySearchMeetsCoverage() throws {
        let text = scenarioText(paths: 100_000, tails: "{model: student-t, dof: 4}", collateral: "{USD: 45000}",
                                positions: "        - {type: perp, asset: BTC, quantity: -10}") + calibrationText(p: 0.02, maxRate: 0.5)
        let scenario = try loadScenario(text)
        let calibrator = try Calibrator(scenario: scenario)
        let result = try calibrator.run(settings: RunSettings(threads: 2))
        let penalty = result.penalty
        XCTAssertTrue(penalty.reached)
        XCTAssertGreaterThan(penalty.rate, 0)
        XCTAssertGreaterThanOrEqual(penalty.expectedIncome, penalty.coverage * penalty.expectedDeficit * (1 - 1e-12))
        // A rate two grid steps lower falls short: rerun with max_rate just below π*.
        var lower = scenario
        lower.calibration?.penaltyMaxRate = penalty.rate - 2 * penalty.resolution
        let short = try Calibrator(scenario: lower).run(settings: RunSettings(threads: 2)).penalty
        XCTAssertFalse(short.reached)
        XCTAssertLessThan(short.expectedIncome, short.expectedDeficit)
        XCTAssertEqual(short.expectedDeficit, penalty.expectedDeficit)
    }

    func testMaxRateTooSmallIsAFindingNotAnError() throws {
        let text = scenarioText(paths: 50_000, tails: "{model: student-t, dof: 3}", collateral: "{USD: 25000}",
                                positions: "        - {type: perp, asset: BTC, quantity: 10}") + calibrationText(p: 0.1, maxRate: 0.00001)
        let result = try Calibrator(scenario: loadScenario(text)).run(settings: RunSettings(threads: 1))
        XCTAssertFalse(result.penalty.reached)
        XCTAssertEqual(result.penalty.rate, 0.00001, accuracy: 1e-15)
    }

    func testCalibrationIsThreadAndChunkInvariant() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = 20_000
        let a = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 1, chunkSize: 1024))
        let b = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2, chunkSize: 320))
        XCTAssertEqual(a.penalty.rate, b.penalty.rate)
        XCTAssertEqual(a.penalty.expectedIncome, b.penalty.expectedIncome)
        XCTAssertEqual(a.insuranceFund.expectedShortfall, b.insuranceFund.expectedShortfall)
        XCTAssertEqual(a.ladder.rungs.flatMap { $0.map(\.rate) }, b.ladder.rungs.flatMap { $0.map(\.rate) })
        XCTAssertEqual(a.accounts.map(\.expectedDeficit), b.accounts.map(\.expectedDeficit))
    }

    func testBadCalibrationInputIsRejectedNamingTheField() {
        let base = scenarioText(paths: 1000)
        assertRejected(base + calibrationText(tiers: "[1000000, 100000]"), path: "calibration.tiers[1]", mentioning: "increasing")
        assertRejected(base + calibrationText(tiers: "[0, 100000]"), path: "calibration.tiers[0]", mentioning: "> 0")
        assertRejected(base + calibrationText(tiers: "[-5]"), path: "calibration.tiers[0]", mentioning: "> 0")
        assertRejected(base + calibrationText(depth: "{}"), path: "calibration.liquidation.depth.BTC", mentioning: "depth")
        assertRejected(base + calibrationText(depth: "{BTC: 1, ETH: 2}"), path: "calibration.liquidation.depth.ETH", mentioning: "unknown asset")
        assertRejected(base + calibrationText(p: 0), path: "calibration.breach_probability", mentioning: "(0, 1)")
        assertRejected(base + calibrationText(p: 1.5), path: "calibration.breach_probability", mentioning: "(0, 1)")
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014) with Box–Muller normals: the test's own generator, unrelated
/// to Thresher's Philox streams.
struct SplitMix64 {
    var state: UInt64
    var spare: Double?
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func nextUniform() -> Double { (Double(next() >> 11) + 0.5) * 0x1p-53 }
    mutating func nextNormal() -> Double {
        if let z = spare { spare = nil; return z }
        let r = (-2 * log(nextUniform())).squareRoot(), theta = 2 * Double.pi * nextUniform()
        spare = r * sin(theta)
        return r * cos(theta)
    }
}
