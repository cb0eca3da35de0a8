import Calibration
import Distributions
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import XCTest
@testable import Calibration

/// The intervals of `thresher robustness` and `calibrate --policy-out` (issue 31): paired
/// (common-random-number) intervals of changes cover their closed forms over seeds, are as wide as
/// the estimator's spread over seeds and much narrower than unpaired ones; rounding, paths needed
/// and "within noise" follow their definitions.
final class RobustnessIntervalTests: XCTestCase {
    static let vol = 0.8, depth = 50_000_000.0, hours = 4.0, p = 0.01
    static let tiers = [100_000.0, 1_000_000.0, 5_000_000.0]
    /// The scenario's policy: maintenance (long = short) per tier.
    static let maintenance = [0.04, 0.05, 0.08]

    static func scenario(seed: Int, paths: Int) throws -> Scenario {
        try loadScenario(scenarioText(paths: paths, seed: seed, collateral: "{USD: 150000}", positions: "        - {type: perp, asset: BTC, quantity: 30}")
                         + RobustnessTests.calibration + """

            policy:
              ladder:
                BTC:
                  - {up_to: 100000, maintenance: 0.04}
                  - {up_to: 1000000, maintenance: 0.05}
                  - {up_to: 5000000, maintenance: 0.08}
              liquidation_penalty: 0.01
              insurance_fund: 50000
            """)
    }

    /// s(n) = kσ√(h_liq(n)) and I(n) = k·0.5·σ√(1/365)·√(n/d) under vol ×k.
    static func scaleAndImpact(_ n: Double, k: Double) -> (s: Double, impact: Double) {
        (k * vol * (hours / (24 * 365) * (1 + n / depth)).squareRoot(), k * 0.5 * vol * (1.0 / 365).squareRoot() * (n / depth).squareRoot())
    }

    /// The calibrated mean MMR under gaussian shocks and vol ×k: the mean over tiers of
    /// max(1 − e^{s·z_p} + I, e^{s·z_{1−p}} − 1 + I), the short side (z_{1−p} = −z_p).
    static func meanMaintenance(k: Double) -> Double {
        let z = StandardNormal.quantile(p)
        return tiers.map { n in
            let (s, impact) = scaleAndImpact(n, k: k)
            return max(1 - exp(s * z) + impact, exp(-s * z) - 1 + impact)
        }.reduce(0, +) / Double(tiers.count)
    }

    /// The policy's mean breach probability under gaussian shocks and vol ×k: per tier,
    /// long Φ(ln(1 + I − m)/s) and short 1 − Φ(ln(1 + m − I)/s), averaged over tiers and sides.
    static func meanBreach(k: Double) -> Double {
        zip(tiers, maintenance).map { n, m in
            let (s, impact) = scaleAndImpact(n, k: k)
            return StandardNormal.cdf(log(1 + impact - m) / s) + (1 - StandardNormal.cdf(log(1 + m - impact) / s))
        }.reduce(0, +) / Double(2 * tiers.count)
    }

    /// Over 100 seeds (20,480 paths, K = 10 sections, gaussian shocks), the paired 95 % intervals of
    /// two changes under vol ×1.2 hold their closed forms: the re-calibrated mean MMR's change and the
    /// base policy's mean breach probability's change, each in at least 86 of 100 runs (86 is about
    /// 4 binomial standard errors below 95: a broken interval is caught, sampling noise is not).
    /// Their half-widths match the spread of the full-sample change over the seeds (mean half-width
    /// within 0.7–1.4 of t₉·SD), so they are not merely wide; and they are narrower than the unpaired
    /// width √(h₁² + h₂²) of the two cells' own intervals — the common random numbers at work: under a
    /// third for the MMR (measured 0.16), under 3/4 for the breach probability (measured 0.58: a
    /// path breaches under both vols more often than under one).
    func testPairedIntervalsCoverTheClosedFormsOverSeeds() throws {
        let exactMMR = Self.meanMaintenance(k: 1.2) - Self.meanMaintenance(k: 1)
        let exactBreach = Self.meanBreach(k: 1.2) - Self.meanBreach(k: 1)
        let spec = RobustnessSpec(models: [], multipliers: [1], bumps: [.init(kind: .vol, value: 1.2)])
        var covered = (mmr: 0, breach: 0)
        var changes: (mmr: [Double], breach: [Double]) = ([], [])
        var halves: (mmr: [Double], breach: [Double]) = ([], [])
        var unpaired: (mmr: [Double], breach: [Double]) = ([], [])
        let seeds = 100
        for seed in 0..<seeds {
            let result = try RobustnessAnalyzer(scenario: Self.scenario(seed: 500 + seed, paths: 20_480), spec: spec, file: "test")
                .run(settings: RunSettings(threads: 2), sections: 10)
            let bumped = result.sensitivity[0]
            let mmr = bumped.changes[0]
            let breach = bumped.basePolicy.change(from: result.base) { $0.meanBreach }
            let mmrInterval = try XCTUnwrap(mmr.interval), breachInterval = try XCTUnwrap(breach.interval)
            if mmrInterval.low <= exactMMR && exactMMR <= mmrInterval.high { covered.mmr += 1 }
            if breachInterval.low <= exactBreach && exactBreach <= breachInterval.high { covered.breach += 1 }
            changes.mmr.append(mmr.value)
            changes.breach.append(breach.value)
            halves.mmr.append(try XCTUnwrap(mmr.halfWidth))
            halves.breach.append(try XCTUnwrap(breach.halfWidth))
            func own(_ e: Estimate) throws -> Double { try XCTUnwrap(e.halfWidth) }
            unpaired.mmr.append(hypot(try own(result.baseThresholds.estimate { $0.meanMaintenance }),
                                      try own(bumped.thresholds.estimate { $0.meanMaintenance })))
            unpaired.breach.append(hypot(try own(result.base.estimate { $0.meanBreach }), try own(bumped.basePolicy.estimate { $0.meanBreach })))
        }
        XCTAssertGreaterThanOrEqual(covered.mmr, 86, "mean MMR change coverage \(covered.mmr)/\(seeds)")
        XCTAssertGreaterThanOrEqual(covered.breach, 86, "mean breach change coverage \(covered.breach)/\(seeds)")
        let t = StudentT(dof: 9).quantile(0.975)
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }
        func sd(_ x: [Double]) -> Double { let m = mean(x); return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot() }
        for (name, h, c, u, narrower) in [("MMR", halves.mmr, changes.mmr, unpaired.mmr, 1.0 / 3), ("breach", halves.breach, changes.breach, unpaired.breach, 0.75)] {
            let ratio = mean(h) / (t * sd(c))
            XCTAssertGreaterThan(ratio, 0.7, "\(name): paired half-width \(mean(h)) against t·SD \(t * sd(c))")
            XCTAssertLessThan(ratio, 1.4, "\(name): paired half-width \(mean(h)) against t·SD \(t * sd(c))")
            XCTAssertLessThan(mean(h), narrower * mean(u), "\(name): paired \(mean(h)) against unpaired \(mean(u))")
        }
    }

    /// At one seed and 200,000 paths the full-sample changes sit on their closed forms within 4 of
    /// their paired standard errors (half-width / t₉), checking the closed forms the coverage test uses.
    func testFullSampleChangesMatchTheClosedForms() throws {
        let spec = RobustnessSpec(models: [], multipliers: [1], bumps: [.init(kind: .vol, value: 1.2)])
        let result = try RobustnessAnalyzer(scenario: Self.scenario(seed: 11, paths: 204_800), spec: spec, file: "test")
            .run(settings: RunSettings(threads: 2), sections: 10)
        let t = StudentT(dof: 9).quantile(0.975)
        let mmr = result.sensitivity[0].changes[0]
        let breach = result.sensitivity[0].basePolicy.change(from: result.base) { $0.meanBreach }
        XCTAssertEqual(mmr.value, Self.meanMaintenance(k: 1.2) - Self.meanMaintenance(k: 1), accuracy: 4 * mmr.halfWidth! / t)
        XCTAssertEqual(breach.value, Self.meanBreach(k: 1.2) - Self.meanBreach(k: 1), accuracy: 4 * breach.halfWidth! / t)
        XCTAssertEqual(result.base.meanBreach, Self.meanBreach(k: 1), accuracy: 4 * result.base.estimate { $0.meanBreach }.halfWidth! / t)
        // The relative change's interval is the paired difference's over the base value: the same verdict.
        let relative = try XCTUnwrap(result.sensitivity[0].relativeChanges[0])
        XCTAssertEqual(relative.value * result.baseThresholds.meanMaintenance, mmr.value, accuracy: 1e-15)
        XCTAssertEqual(relative.withinNoise, mmr.withinNoise)
    }

    /// Rounding to the interval, the paths a precision needs, "within noise" and "no change", by
    /// their definitions on hand-made estimates.
    func testEstimateRoundingPathsAndVerdicts() throws {
        func estimate(_ value: Double, _ low: Double, _ high: Double, paths: Int = 200_000) -> Estimate {
            Estimate(value: value, interval: (low, high), paths: paths)
        }
        // The issue's penalty rate: 0.0039009529301546712 with 0.15 %–0.63 % → h = 0.0024, step 0.0001.
        let penalty = estimate(0.0039009529301546712, 0.0015, 0.0063)
        XCTAssertEqual(penalty.roundedToInterval, 0.0039)
        XCTAssertEqual("\(penalty.roundedToInterval)", "0.0039")
        XCTAssertEqual(estimate(59_642, 39_642, 79_642).roundedToInterval, 60_000)   // h = 20,000: step 1,000
        XCTAssertEqual(estimate(0.13507057675749928, 0.1281864, 0.1419547).roundedToInterval, 0.1351)   // h ≈ 0.0069: step 0.0001
        // N·(h/(r·|θ|))²: 200,000·(0.0024/0.00039009…)².
        let needed = 200_000 * pow(0.0024 / (0.1 * 0.0039009529301546712), 2)
        XCTAssertEqual(try XCTUnwrap(penalty.pathsNeeded(relativePrecision: 0.1)), Int(needed.rounded(.up)))
        XCTAssertTrue(estimate(-0.1, -0.3, 0.1).withinNoise)
        XCTAssertFalse(estimate(-0.1, -0.3, -0.01).withinNoise)
        let zero = estimate(0, 0, 0)
        XCTAssertTrue(zero.isExactlyZero)
        XCTAssertFalse(zero.withinNoise)
        XCTAssertEqual(estimate(0.0005, -0.0006, 0.0018).nonNegative.interval?.low, 0)
    }

    /// `calibrate --policy-out` with sections: every value rounded to the second significant digit of
    /// its interval's half-width (within 5 % of the half-width of the full-precision value), its
    /// interval written beside it, the tiers non-decreasing, and the file loads back as the policy.
    func testPolicyOutRoundsToTheInterval() throws {
        let scenario = try Self.scenario(seed: 3, paths: 20_480)
        let (_, sectioned) = try Calibrator(scenario: scenario).runSectioned(sections: 10, settings: RunSettings(threads: 2))
        let intervals = try XCTUnwrap(sectioned)
        let yaml = intervals.policyYAML
        let policy = try XCTUnwrap(loadScenario(scenarioText(paths: 1_000) + RobustnessTests.calibration + "\n" + yaml).policy)
        func check(_ written: Double?, _ e: Estimate, _ what: String) throws {
            let h = try XCTUnwrap(e.halfWidth)
            XCTAssertEqual(try XCTUnwrap(written), e.value, accuracy: 0.05 * h * (1 + 1e-9), what)
            XCTAssertEqual(try XCTUnwrap(written), e.roundedToInterval, what)
        }
        try check(policy.liquidationPenalty, intervals.estimate { $0.penalty.rate }, "penalty")
        try check(policy.insuranceFund, intervals.estimate { $0.insuranceFund.expectedShortfall }, "fund")
        for t in Self.tiers.indices {
            try check(policy.schedule.tiers[0][t].maintenanceShort, intervals.estimate { $0.ladder.rungs[0][t].short }, "tier \(t) short")
            if t > 0 { XCTAssertGreaterThanOrEqual(policy.schedule.tiers[0][t].maintenanceLong, policy.schedule.tiers[0][t - 1].maintenanceLong) }
        }
        let noted = yaml.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("  # ") && $0.contains("95 % interval") }
        XCTAssertEqual(noted.count, Self.tiers.count + 2, yaml)
    }

    /// The report marks changes within noise: "within noise" in the terminal, `within_noise` true in
    /// the CSV and a greyed cell in HTML exactly where the paired interval contains 0; a bump that
    /// cannot move a number (correlation on a one-asset book) says "no change".
    func testReportMarksChangesWithinNoise() throws {
        let spec = RobustnessSpec(models: [], multipliers: [1, 2], bumps: [.init(kind: .vol, value: 1.2), .init(kind: .correlation, value: 0.5)])
        let result = try RobustnessAnalyzer(scenario: Self.scenario(seed: 5, paths: 20_480), spec: spec, file: "test")
            .run(settings: RunSettings(threads: 2), sections: 10)
        let document = RobustnessReport(result: result).document
        let terminal = TerminalRenderer.render(document)
        let correlation = result.sensitivity[1]
        XCTAssertTrue(correlation.changes[0].isExactlyZero)
        XCTAssertTrue(terminal.split(separator: "\n").contains { $0.contains("correlation") && $0.contains("mean MMR") && $0.contains("no change") })
        let csv = try XCTUnwrap(CSVRenderer.render(document).first { $0.name == "sensitivity.csv" }?.contents)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        let noise = try XCTUnwrap(header.firstIndex(of: "within_noise")), low = try XCTUnwrap(header.firstIndex(of: "change_ci_low")),
            high = try XCTUnwrap(header.firstIndex(of: "change_ci_high")), value = try XCTUnwrap(header.firstIndex(of: "change"))
        XCTAssertEqual(rows.count - 1, 2 * 4)
        var sawNoise = false
        for row in rows.dropFirst() {
            let l = try XCTUnwrap(Double(row[low])), h = try XCTUnwrap(Double(row[high])), v = try XCTUnwrap(Double(row[value]))
            let expected = l <= 0 && 0 <= h && !(v == 0 && l == 0 && h == 0)
            XCTAssertEqual(row[noise], expected ? "true" : "false", row.joined(separator: ","))
            sawNoise = sawNoise || expected
        }
        let html = HTMLRenderer.render(document)
        XCTAssertEqual(sawNoise, html.contains("class=\"num muted\""))
        XCTAssertTrue(terminal.contains("Thresholds at the base and their precision"))
    }

    /// Reports open with their answer: calibrate places the scenario's policy against the calibrated
    /// intervals (a ladder at 0.1 % is below every tier's interval: a breach; one at 50 % covers it),
    /// and evaluate counts the tiers over their target beyond noise and colours their cells.
    func testHeadlinesGiveTheVerdicts() throws {
        func scenario(maintenance: Double) throws -> Scenario {
            try loadScenario(scenarioText(paths: 20_480, seed: 9, collateral: "{USD: 150000}", positions: "        - {type: perp, asset: BTC, quantity: 30}")
                                    + RobustnessTests.calibration + """

                policy:
                  ladder:
                    BTC:
                      - {up_to: 100000, maintenance: \(maintenance)}
                      - {up_to: 1000000, maintenance: \(maintenance)}
                      - {up_to: 5000000, maintenance: \(maintenance)}
                  liquidation_penalty: 0.01
                  insurance_fund: 50000
                """)
        }
        let settings = RunSettings(threads: 2)
        for (maintenance, verdict) in [(0.001, Headline.Verdict.bad), (0.5, .good)] {
            let s = try scenario(maintenance: maintenance)
            let (result, sectioned) = try Calibrator(scenario: s).runSectioned(sections: 10, settings: settings)
            let calibrate = CalibrationReport(result: result, sectioned: sectioned).document.headline
            let ladder = try XCTUnwrap(calibrate.first { $0.text.hasPrefix("The policy's ladder") })
            XCTAssertEqual(ladder.verdict, verdict, ladder.text)
            XCTAssertTrue(ladder.text.contains(verdict == .bad ? "below the calibrated interval on 3 of 3 tiers" : "3 above it"), ladder.text)
            let evaluation = try PolicyEvaluator(scenario: s, file: "test").run(settings: settings)
            let tiers = try XCTUnwrap(EvaluationReport(result: evaluation).document.headline.first)
            XCTAssertEqual(tiers.verdict, verdict, tiers.text)
            let over = evaluation.tiers.filter { $0.probability - 1.96 * $0.standardError > evaluation.targetBreachProbability }.count
            XCTAssertEqual(over, verdict == .bad ? 6 : 0)
            XCTAssertTrue(tiers.text.hasPrefix(verdict == .bad ? "6 of 6 tiers" : "No tier breaches"), tiers.text)
            XCTAssertTrue(TerminalRenderer.render(EvaluationReport(result: evaluation).document).contains(verdict == .bad ? "BREACH 6 of 6" : "OK     No tier"))
            // The breaching tiers' cells are coloured in the HTML table too (6 tiers × sides).
            let html = HTMLRenderer.render(EvaluationReport(result: evaluation).document)
            XCTAssertEqual(html.components(separatedBy: "<td class=\"num bad\">").count - 1, verdict == .bad ? 6 : 0)
        }
    }
}
