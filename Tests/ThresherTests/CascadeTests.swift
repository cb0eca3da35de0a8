import Foundation
import MonteCarlo
import ScenarioSpec
import TailStats
import XCTest
@testable import Calibration

/// Cascades (issue 30): liquidation flow moves prices, the fund's path and auto-deleveraging.
/// The books are drawn from a fixed linear congruential generator: 40 accounts on BTC and ETH with
/// 1–2 perps each, 2–20× leverage, thin depth, so that cascades, an exhausted fund and ADL all occur.
final class CascadeTests: XCTestCase {
    /// A book of `accounts` accounts; `longOnly`: every position long.
    func book(accounts: Int = 40, longOnly: Bool = false) -> String {
        var state: UInt64 = 20_261_207
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var lines = ["portfolio:", "  accounts:"]
        for a in 0..<accounts {
            var positions: [String] = [], gross = 0.0
            for (asset, spot) in [("BTC", 50_000.0), ("ETH", 2_500.0)] where a % 3 != 2 || asset == "BTC" {
                if a % 3 == 1, asset == "BTC" { continue }
                let usd = 100_000 + 900_000 * uniform(), long = longOnly || uniform() < 0.6
                gross += usd
                positions.append("        - {type: perp, asset: \(asset), quantity: \((long ? 1 : -1) * usd / spot)}")
            }
            lines += ["    - id: a\(a)", "      collateral: {USD: \(gross * (0.05 + 0.45 * uniform()))}", "      positions:"] + positions
        }
        return lines.joined(separator: "\n")
    }

    /// The scenario: gaussian two-asset market, continuous monitoring, `cascade` as given (nil: none).
    func scenario(cascade: String?, paths: Int = 2_000, seed: Int = 7, longOnly: Bool = false, fund: Double = 200_000) -> String {
        """
        name: cascade-test
        simulation: {paths: \(paths), seed: \(seed), horizon_days: 1}
        market:
          rate: 0
          assets:
            - {id: BTC, spot: 50000, vol: 0.9}
            - {id: ETH, spot: 2500, vol: 1.1}
          correlation: {uniform: 0.8}
          tails: {model: gaussian}
        \(book(longOnly: longOnly))
        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: 5000000, ETH: 2000000}, impact: 0.5, monitoring: continuous\(cascade.map { ", cascade: \($0)" } ?? "")}
          tiers: [100000, 1000000]
          insurance_fund: {confidence: 0.99, balance: \(fund)}
        policy:
          ladder:
            "*":
              - {up_to: 300000, maintenance: 0.02, initial: 0.04}
              - {up_to: 100000000, maintenance: 0.04, initial: 0.08}
          liquidation_penalty: 0.005
          insurance_fund: \(fund)

        """
    }

    func evaluate(_ text: String, threads: Int = 2, chunkSize: Int = 1024) throws -> PolicyEvaluation {
        try PolicyEvaluator(scenario: loadScenario(text), file: "test").run(settings: RunSettings(threads: threads, chunkSize: chunkSize))
    }

    /// With infinite depth no flow moves a price: every liquidation, deficit, breach time and the
    /// fund are the path-wise process's, bit for bit.
    func testInfiniteDepthIsThePathwiseProcessBitForBit() throws {
        let alone = try evaluate(scenario(cascade: nil)), infinite = try evaluate(scenario(cascade: "{depth: infinite}"))
        XCTAssertGreaterThan(alone.accounts.map(\.liquidationProbability).reduce(0, +), 1, "liquidations on many paths")
        XCTAssertEqual(alone.accounts.map(\.liquidationProbability), infinite.accounts.map(\.liquidationProbability))
        XCTAssertEqual(alone.accounts.map(\.expectedDeficit), infinite.accounts.map(\.expectedDeficit))
        XCTAssertEqual(alone.accounts.map(\.unnecessaryLiquidationProbability), infinite.accounts.map(\.unnecessaryLiquidationProbability))
        XCTAssertEqual(alone.fund.expectedShortfall.bitPattern, infinite.fund.expectedShortfall.bitPattern)
        XCTAssertEqual(alone.breachTimes.counts, infinite.breachTimes.counts)
        let cascade = try XCTUnwrap(infinite.cascade)
        XCTAssertEqual(cascade.expectedEndogenous, 0)
        XCTAssertEqual(cascade.amplification.map(\.ratio), cascade.amplification.map { _ in 1 })
    }

    /// Every deficit is paid by the fund, by ADL or is unfunded, on every path and under every rule
    /// (`CascadeTotals.largestImbalance`, to the cent); the book cascades, exhausts the fund and
    /// deleverages; the queue deleverages fewer accounts than pro-rata for the same shortfall.
    func testConservationOnEveryPathUnderEveryRule() throws {
        let result = try evaluate(scenario(cascade: "{depth: 0.5}", fund: 50_000))
        let cascade = try XCTUnwrap(result.cascade)
        XCTAssertLessThan(cascade.largestImbalance, 0.01)
        XCTAssertGreaterThan(cascade.cascadeProbability, 0.01, "impact liquidated accounts")
        XCTAssertGreaterThan(cascade.fundExhaustedProbability, 0, "the fund ran out on some path")
        for rule in cascade.deleveraging { XCTAssertGreaterThan(rule.probability, 0, "\(rule.rule)") }
        let expected = cascade.deleveraging.map { $0.expectedVolume + $0.expectedUnfunded }
        for total in expected { XCTAssertEqual(total, cascade.expectedDeficit - cascade.expectedFundPaid, accuracy: 1e-6 * max(1, cascade.expectedDeficit)) }
        XCTAssertLessThan(cascade.deleveraging[0].expectedAccounts, cascade.deleveraging[1].expectedAccounts)
        XCTAssertEqual(result.accounts.compactMap(\.deleveragedProbability).count, result.accounts.count)
    }

    /// On a long-only book every flow sells, so thinner depth (the same paths, one path per seed)
    /// never gives fewer liquidations, a smaller deficit or a smaller fund draw.
    func testThinnerDepthNeverLiquidatesLessOnTheSamePaths() throws {
        var endogenous = 0.0
        for seed in 1...10 {
            var previous: (liquidations: Double, deficit: Double, drawdown: Double)?
            for depth in [4.0, 1, 0.25] {
                let c = try XCTUnwrap(evaluate(scenario(cascade: "{depth: \(depth)}", paths: 1, seed: seed, longOnly: true), threads: 1).cascade)
                let now = (c.expectedLiquidations, c.expectedDeficit, c.fundDrawdown.valueAtRisk)
                endogenous += c.expectedEndogenous
                if let previous {
                    XCTAssertGreaterThanOrEqual(now.0, previous.liquidations, "seed \(seed), depth ×\(depth)")
                    XCTAssertGreaterThanOrEqual(now.1, previous.deficit - 1e-9 * max(1, previous.deficit), "seed \(seed), depth ×\(depth)")
                    XCTAssertGreaterThanOrEqual(now.2, previous.drawdown - 1e-9 * max(1, previous.drawdown), "seed \(seed), depth ×\(depth)")
                }
                previous = now
            }
        }
        XCTAssertGreaterThan(endogenous, 0, "the impact liquidated accounts on some of the paths")
    }

    /// The queues of distances to breach (`CascadePath`) are an exact shortcut: any reach finds the same liquidations.
    func testAnyNearReachFindsTheSameLiquidations() throws {
        let scenario = try loadScenario(scenario(cascade: "{depth: 0.5}", paths: 400, fund: 50_000))
        let spec = try XCTUnwrap(scenario.calibration), policy = try XCTUnwrap(scenario.policy), paths = 0..<scenario.simulation.paths
        func totals(reach: Double) throws -> CellTotals {
            let plain = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule)
            var process = try XCTUnwrap(plain.process as? CascadeLiquidation)
            process.nearShare = reach
            let waterfall = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule, process: process)
            let fund = FundPlan(rate: 0.005, balance: 50_000, plan: TailPlan(totalPaths: paths.count, levels: [0.99]))
            let cell = WaterfallCell(waterfall: waterfall, plan: .evaluation(breaches: [], fund: fund))
            return try WaterfallCells.accumulate(groups: [[0]], paths: [paths], settings: RunSettings(threads: 2), cancellation: nil, progress: nil) { _ in cell }[0]
        }
        let wide = try totals(reach: 1).evaluation, narrow = try totals(reach: 0.001).evaluation
        XCTAssertGreaterThan(try XCTUnwrap(wide.waterfall.cascade).endogenous, 0)
        XCTAssertEqual(wide.waterfall.liquidations, narrow.waterfall.liquidations)
        XCTAssertEqual(wide.waterfall.deficits.map(\.value), narrow.waterfall.deficits.map(\.value))
        XCTAssertEqual(wide.waterfall.cascade?.endogenous, narrow.waterfall.cascade?.endogenous)
        XCTAssertEqual(wide.waterfall.cascade?.deleveraged.map(\.value), narrow.waterfall.cascade?.deleveraged.map(\.value))
    }

    /// Same seed, any threads and chunk size: the same cascade report.
    func testCascadesAreThreadAndChunkInvariant() throws {
        let text = scenario(cascade: "{depth: 0.5, adl: pro-rata}", paths: 1_500, fund: 50_000)
        let a = try evaluate(text, threads: 1, chunkSize: 1024), b = try evaluate(text, threads: 2, chunkSize: 192)
        let x = try XCTUnwrap(a.cascade), y = try XCTUnwrap(b.cascade)
        XCTAssertGreaterThan(x.expectedEndogenous, 0)
        XCTAssertEqual(x.rounds, y.rounds)
        XCTAssertEqual(x.expectedLiquidations, y.expectedLiquidations)
        XCTAssertEqual(x.expectedDeficit.bitPattern, y.expectedDeficit.bitPattern)
        XCTAssertEqual(x.fundDrawdown.expectedShortfall.bitPattern, y.fundDrawdown.expectedShortfall.bitPattern)
        XCTAssertEqual(x.deleveraging.map(\.expectedVolume), y.deleveraging.map(\.expectedVolume))
        XCTAssertEqual(x.amplification.map(\.cascadedFall), y.amplification.map(\.cascadedFall))
        XCTAssertEqual(a.accounts.map(\.expectedHaircut), b.accounts.map(\.expectedHaircut))
        XCTAssertEqual(a.accounts.map(\.expectedDeficit), b.accounts.map(\.expectedDeficit))
    }

    /// ADL rules on a hand example. Three winners with profits 100, 50, 80 and ranks (profit ×
    /// leverage) 200, 500, 80; a shortfall of 120. Queue: 50 from the rank-500 account, then 70 from
    /// the rank-200 one. Pro-rata by notional 1, 1, 2: shares 30, 30, 60, all within the profits.
    /// Socialized by profit 100, 50, 80 (230): 52.17…, 26.08…, 41.73…. A shortfall of 300 exceeds
    /// the 230 of profit: 70 unfunded under every rule.
    func testDeleveragingRulesOnAHandExample() {
        var ledger = FundLedger(fund: CascadeFund(rate: 0, balance: 0), accounts: 3)
        let profit = [100.0, 50, 80], rank = [200.0, 500, 80]
        let ranked = [0, 1, 2].sorted { rank[$0] > rank[$1] }
        ledger.queue(120, ranked: ranked, profit: profit)
        ledger.share(rule: 1, 120, among: [0, 1, 2], weights: [1, 1, 2], profit: profit)
        ledger.share(rule: 2, 120, among: [0, 1, 2], weights: profit, profit: profit)
        XCTAssertEqual(ledger.taken[0], [70, 50, 0])
        XCTAssertEqual(ledger.taken[1], [30, 30, 60])
        let socialized: [Double] = profit.map { 120 * $0 / 230 }
        for (x, y) in zip(ledger.taken[2], socialized) { XCTAssertEqual(x, y, accuracy: 1e-9) }
        XCTAssertEqual(ledger.unfunded, [0, 0, 0])
        ledger.reset()
        ledger.queue(300, ranked: ranked, profit: profit)
        ledger.share(rule: 1, 300, among: [0, 1, 2], weights: [1, 1, 2], profit: profit)
        ledger.share(rule: 2, 300, among: [0, 1, 2], weights: profit, profit: profit)
        for r in 0..<3 {
            XCTAssertEqual(ledger.taken[r], profit, "rule \(r) takes every profit")
            XCTAssertEqual(ledger.unfunded[r], 70, accuracy: 1e-9)
        }
        // The fund pays first: 40 in the fund, a deficit of 100 leaves 60 short.
        var fund = FundLedger(fund: CascadeFund(rate: 0.01, balance: 30), accounts: 1)
        XCTAssertEqual(fund.book(notional: 1000, equity: 5), 0)            // penalty min(10, 5) = 5: 35
        XCTAssertEqual(fund.book(notional: 500, equity: -100), 65)        // penalty 0, 35 paid, 65 short
        XCTAssertEqual(fund.balance, 0)
        XCTAssertTrue(fund.exhausted)
    }

    /// The impact of one instant's flow is the square-root law at its cumulative size, however
    /// many rounds execute it: J(Q) = k·σ·√(1/365)·√(Q/(D·f(d))).
    func testImpactIsTheSquareRootLawOfTheInstantsFlow() {
        let spec = CascadeSpec(depthCurve: [.init(drawdown: 0, fraction: 1)], permanentShare: 1)
        var once = CascadeMarket(depth: [1e7], impactScale: [0.02], spots: [100], spec: spec)
        once.flow[0] = -4e6
        XCTAssertTrue(once.execute { _ in 0 })
        XCTAssertEqual(once.impact(0), -0.02 * (0.4).squareRoot(), accuracy: 1e-15)
        var twice = CascadeMarket(depth: [1e7], impactScale: [0.02], spots: [100], spec: spec)
        twice.flow[0] = -1e6
        _ = twice.execute { _ in 0 }
        twice.flow[0] = -3e6
        _ = twice.execute { _ in 0 }
        XCTAssertEqual(twice.impact(0), once.impact(0), accuracy: 1e-15)
        // The default curve: half the depth at a 5 % drawdown, 10 % beyond 15 %.
        let curve = CascadeSpec()
        XCTAssertEqual(curve.depthFraction(drawdown: 0.05), 0.5)
        XCTAssertEqual(curve.depthFraction(drawdown: 0.075), 0.35, accuracy: 1e-12)
        XCTAssertEqual(curve.depthFraction(drawdown: 0.4), 0.1)
    }

    /// `robustness.cascade`: the same ladder evaluated with and without cascades; each cell is the
    /// evaluation run alone, and the cascade raises the deficit on this book.
    func testRobustnessTakesCascadesAsAModel() throws {
        let text = scenario(cascade: nil, paths: 2_000, fund: 50_000) + "robustness: {models: [gaussian], cascade: [off, {depth: 0.5}], multipliers: [1], bumps: {vol: [1.2]}}\n"
        let scenario = try loadScenario(text)
        let spec = try XCTUnwrap(scenario.robustness)
        let result = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test").run(settings: RunSettings(threads: 2))
        XCTAssertEqual(result.models, ["gaussian · alone", "gaussian · cascade depth×0.5"])
        for row in result.matrix { XCTAssertGreaterThan(row[1].expectedDeficit, row[0].expectedDeficit) }
        var cascaded = scenario
        cascaded.calibration!.cascade = CascadeSpec(depthMultiplier: 0.5)
        cascaded.policy = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2)).policy
        let alone = try PolicyEvaluator(scenario: cascaded, file: "x").run(settings: RunSettings(threads: 2))
        XCTAssertEqual(result.matrix[0][1].expectedDeficit, alone.expectedDeficit)
        assertRejected(text.replacingOccurrences(of: "cascade: [off, {depth: 0.5}]", with: "cascade: [off, off]"), path: "robustness.cascade[1]", mentioning: "twice")
    }

    /// `robustness.bumps.depth_curve`: the cascade's depth curve stretched along the drawdown axis.
    /// Each bumped cell is the calibrate and evaluate run of the bumped scenario; a curve that thins
    /// at half the fall (×0.5) never lowers the base policy's liquidations or deficit on the same
    /// paths, nor does ×2 raise them; without a cascade the bump does not apply.
    func testRobustnessBumpsTheDepthCurve() throws {
        let text = scenario(cascade: "on", paths: 2_000, fund: 50_000)
        let scenario = try loadScenario(text)
        let spec = RobustnessSpec(models: [], multipliers: [1], bumps: [.init(kind: .depthCurve, value: 0.5), .init(kind: .depthCurve, value: 2)])
        let settings = RunSettings(threads: 2)
        let result = try RobustnessAnalyzer(scenario: scenario, spec: spec, file: "test").run(settings: settings)
        XCTAssertEqual(result.sensitivity.map(\.bump.value), [0.5, 2])
        for bumped in result.sensitivity {
            var expected = scenario
            expected.calibration!.cascade!.depthCurve = CascadeSpec.defaultCurve.map { .init(drawdown: $0.drawdown * bumped.bump.value, fraction: $0.fraction) }
            XCTAssertEqual(bumped.bump.apply(to: scenario)?.calibration?.cascade, expected.calibration?.cascade)
            XCTAssertEqual(bumped.thresholds.fundES, RobustnessResult.Thresholds(try Calibrator(scenario: expected).run(settings: settings)).fundES)
            let evaluation = try PolicyEvaluator(scenario: expected, file: "test").run(settings: settings)
            XCTAssertEqual(bumped.basePolicy.expectedDeficit, evaluation.expectedDeficit)
        }
        let (thinner, thicker) = (result.sensitivity[0].basePolicy, result.sensitivity[1].basePolicy)
        XCTAssertGreaterThan(thinner.expectedDeficit, result.base.expectedDeficit, "the book must cascade for the comparison to mean something")
        XCTAssertGreaterThanOrEqual(thinner.meanLiquidation, result.base.meanLiquidation)
        XCTAssertLessThanOrEqual(thicker.expectedDeficit, result.base.expectedDeficit)
        XCTAssertLessThanOrEqual(thicker.meanLiquidation, result.base.meanLiquidation)
        XCTAssertNil(RobustnessSpec.Bump(kind: .depthCurve, value: 0.5).apply(to: try loadScenario(self.scenario(cascade: nil))))
    }

    func testBadCascadeInputIsRejectedNamingTheField() {
        let path = "calibration.liquidation.cascade"
        assertRejected(scenario(cascade: "{adl: lottery}"), path: path + ".adl", mentioning: "queue, pro-rata, socialized")
        assertRejected(scenario(cascade: "{depth: 0}"), path: path + ".depth", mentioning: "")
        assertRejected(scenario(cascade: "{depth_curve: [{drawdown: 5%, depth: 0.5}]}"), path: path + ".depth_curve[0].drawdown", mentioning: "starts at drawdown 0")
        assertRejected(scenario(cascade: "{depth_curve: [{drawdown: 0, depth: 1}, {drawdown: 0, depth: 0.5}]}"), path: path + ".depth_curve[1].drawdown",
                       mentioning: "must increase")
        assertRejected(scenario(cascade: "{depth_curve: [{drawdown: 0, depth: 0}]}"), path: path + ".depth_curve[0].depth", mentioning: "> 0")
        assertRejected(scenario(cascade: "{permanent: 1.5}"), path: path + ".permanent", mentioning: "[0, 1]")
        assertRejected(scenario(cascade: "{steps: 0}"), path: path + ".steps", mentioning: "")
        assertRejected(scenario(cascade: "{decay: never}"), path: path + ".decay", mentioning: "duration")
        assertRejected(scenario(cascade: "{speed: 2}"), path: path + ".speed", mentioning: "unknown field")
        let horizon = scenario(cascade: "on").replacingOccurrences(of: "monitoring: continuous", with: "monitoring: horizon")
        assertRejected(horizon, path: path, mentioning: "inside the horizon")
    }
}
