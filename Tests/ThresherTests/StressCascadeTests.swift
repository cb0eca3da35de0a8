@testable import Calibration
import Foundation
import Reports
import ScenarioSpec
import Shocks
import XCTest

/// `thresher stress --cascade` (issue 30, item 4): a deterministic move, then the cascade round by
/// round at one instant (`StressCascade`).
final class StressCascadeTests: XCTestCase {
    /// One asset, BTC at 100, vol 0.8, impact k = 0.5: the square-root law's scale is
    /// s = k·σ·√(1/365) = 0.020937. Slippage at the liquidation depth 10⁸: I(n)·n = s·√(n/10⁸)·n. The
    /// cascade's depth is 10⁸ × 0.000025 = 2,500 with a flat depth curve, so after a cumulative flow
    /// Q (USD sold) the log-price impact is −c·√Q, c = s/√2500 = 4.1874e-4, whatever the rounds.
    /// Ladder: 5 % maintenance on either side, one tier; penalty 1 %, fund 2,000.
    ///
    /// Longs (E = C + q·(S − 100), M = 0.05·q·S, liquidated below (100q − C)/(0.95q)):
    ///   A: q 1000, C 12,600 → below 92;   B: q 2000, C 34,700 → below 87;
    ///   C: q 4000, C 111,200 → below 76;  E: q 100, C 9,000 → below 10.5 (never here).
    /// Shorts (winners as BTC falls): D1 q −3000, C 20,000 (high leverage); D2 q −1000, C 200,000.
    ///
    /// BTC −10 %: S = 90.
    /// Round 1 at 90: A only (E 2,600 < M 4,500); N 90,000, slippage 56.53, E2 2,543.47 → penalty
    ///   900, fund 2,900. Q = 90,000: S1 = 90·exp(−300c) = 79.3754.
    /// Round 2 at 79.3754: B (E −6,549.29 < M 7,937.54; C: E 28,701 ≥ M 15,875). N 158,750.71,
    ///   slippage 132.43, E2 −6,681.72: the fund pays its 2,900 and runs out, 3,781.72 short.
    ///   Q = 248,750.71: S2 = 90·exp(−c·498.749) = 73.0368. ADL at 73.0368, the BTC longs' shortfall
    ///   from the shorts: D1 profit 80,889.50, rank 80,889.50 × 219,110.50 / 100,889.50 = 175,675;
    ///   D2 profit 26,963.17, rank 8,677: the queue takes all 3,781.72 from D1; pro-rata (notional
    ///   3 : 1) and socialized (profit 3 : 1) take ¾ from D1 and ¼ from D2.
    /// Round 3 at 73.0368: C (E 3,347.33 < M 14,607.37); N 292,147.33, slippage 330.61, E2 3,016.72
    ///   → penalty 2,921.47 into the empty fund. Q = 540,898.04: S3 = 90·exp(−c·735.458) = 66.1447.
    /// Round 4 at 66.1447: nobody (E: 5,614 ≥ 331; the shorts gain) — 3 rounds: −10 % became −33.9 %.
    static let chain = """
    name: chain
    simulation: {paths: 1000, seed: 1, horizon_days: 1}
    market:
      rate: 0
      assets:
        - {id: BTC, spot: 100, vol: 0.8}
      tails: {model: gaussian}
    portfolio:
      accounts:
        - {id: A, collateral: {USD: 12600}, positions: [{type: perp, asset: BTC, quantity: 1000}]}
        - {id: B, collateral: {USD: 34700}, positions: [{type: perp, asset: BTC, quantity: 2000}]}
        - {id: C, collateral: {USD: 111200}, positions: [{type: perp, asset: BTC, quantity: 4000}]}
        - {id: D1, collateral: {USD: 20000}, positions: [{type: perp, asset: BTC, quantity: -3000}]}
        - {id: D2, collateral: {USD: 200000}, positions: [{type: perp, asset: BTC, quantity: -1000}]}
        - {id: E, collateral: {USD: 9000}, positions: [{type: perp, asset: BTC, quantity: 100}]}
    risk: {confidence: [0.99]}
    calibration:
      breach_probability: 0.001
      liquidation:
        horizon_hours: 4
        depth: {BTC: 100000000}
        impact: 0.5
        monitoring: continuous
        cascade: {depth: 0.000025, depth_curve: [{drawdown: 0, depth: 1}], permanent: 0.5, adl: queue}
      tiers: [1000000000]
    policy:
      ladder:
        BTC:
          - {up_to: 1000000000, maintenance: 0.05}
      liquidation_penalty: 0.01
      insurance_fund: 2000
    stress:
      - {name: drop, spot: {BTC: -0.10}}
    """

    func assertClose(_ x: Double, _ y: Double, _ what: String, relative: Double = 1e-9, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(x - y), relative * max(abs(y), 1), "\(what): \(x) vs \(y)", file: file, line: line)
    }

    /// The chain's hand computation (constants of `chain`): A closed at `priceA` (N_A = 1,000·S_A),
    /// then rounds at S_r = 90·exp(−c·√(cumulative notional)) with c = k·σ·√(1/365)/√depth; B closed
    /// at S1 and C at S2, E2 = equity now + q·(S − 100) − k·σ·√(1/365)·√(N/10⁸)·N.
    struct ChainByHand {
        static let impact = 0.5 * 0.8 * (1.0 / 365).squareRoot(), c = impact / 2500.0.squareRoot()
        static func slippage(_ n: Double) -> Double { impact * (n / 1e8).squareRoot() * n }
        let nA: Double, s1: Double, nB: Double, e2B: Double, s2: Double, nC: Double, e2C: Double, s3: Double

        init(priceA: Double) {
            nA = 1000 * priceA
            s1 = 90 * exp(-Self.c * nA.squareRoot())
            nB = 2000 * s1
            e2B = 34700 + 2000 * (s1 - 100) - Self.slippage(nB)
            s2 = 90 * exp(-Self.c * (nA + nB).squareRoot())
            nC = 4000 * s2
            e2C = 111200 + 4000 * (s2 - 100) - Self.slippage(nC)
            s3 = 90 * exp(-Self.c * (nA + nB + nC).squareRoot())
        }
    }

    func testThreeAccountChainByHand() throws {
        let c = try XCTUnwrap(StressCascade.run(try loadScenario(Self.chain), file: "chain.yaml").first)
        XCTAssertFalse(c.isDefaultSpec)
        // The hand computation, written out independently of the engine.
        let hand = ChainByHand(priceA: 90)
        let (nA, s1, e2B, s2, nC, e2C, s3) = (hand.nA, hand.s1, hand.e2B, hand.s2, hand.nC, hand.e2C, hand.s3)
        let e2A = 12600 + 1000 * (90 - 100) - ChainByHand.slippage(nA)
        XCTAssertGreaterThan(e2A, 900)
        XCTAssertLessThan(e2B, 0)
        XCTAssertGreaterThan(e2C, 0.01 * nC)
        let fund1 = 2000 + 0.01 * nA, short2 = -e2B - fund1, fund3 = 0.01 * nC

        XCTAssertEqual(c.rounds.count, 3)
        XCTAssertEqual(c.rounds.map { $0.liquidations.map(\.account) }, [[0], [1], [2]])
        for (r, price) in [s1, s2, s3].enumerated() { assertClose(c.rounds[r].prices[0], price, "price after round \(r + 1)") }
        assertClose(c.finalMove[0], s3 / 100 - 1, "final move")
        XCTAssertEqual(c.exogenousMove, [-0.1])
        assertClose(c.rounds[0].liquidations[0].finalEquity, e2A, "A's E2")
        assertClose(c.rounds[1].liquidations[0].finalEquity, e2B, "B's E2")
        assertClose(c.rounds[2].liquidations[0].finalEquity, e2C, "C's E2")
        for (r, balance) in [fund1, 0, fund3].enumerated() { assertClose(c.rounds[r].fundBalance, balance, "fund after round \(r + 1)") }
        assertClose(c.fundPaid, fund1, "fund paid")
        assertClose(c.deficit, -e2B, "deficit")
        XCTAssertEqual(c.fundRanOutRound, 2)
        assertClose(c.rounds[1].shortfall, short2, "round 2's shortfall")
        XCTAssertEqual(c.rounds.map(\.adlAccounts), [[0, 0, 0], [1, 2, 2], [0, 0, 0]])

        // queue: the high-leverage short D1 (account 3) first, and it covers it all.
        let queue = c.deleveraging[0], proRata = c.deleveraging[1], socialized = c.deleveraging[2]
        XCTAssertEqual(queue.rule, .queue)
        XCTAssertEqual(queue.haircuts.map(\.account), [3])
        assertClose(queue.taken, short2, "queue's taking")
        XCTAssertEqual(c.venue.rule, .queue)
        // pro-rata by notional, socialized by profit: 3 : 1 between D1 and D2 either way.
        for d in [proRata, socialized] {
            XCTAssertEqual(d.haircuts.map(\.account), [3, 4], "\(d.rule)")
            assertClose(d.haircuts[0].amount, 0.75 * short2, "\(d.rule) D1")
            assertClose(d.haircuts[1].amount, 0.25 * short2, "\(d.rule) D2")
            XCTAssertLessThan(d.unfunded, 1e-9)
        }
        for error in c.conservationError { XCTAssertLessThan(abs(error), 1e-9) }
        // The hand figures of the comment above.
        assertClose(c.rounds[2].prices[0], 66.1447, "S3", relative: 1e-6)
        assertClose(c.rounds[1].shortfall, 3781.72, "shortfall", relative: 1e-6)

        let report = StressCascadeReport(scenario: try loadScenario(Self.chain), cascades: [c])
        XCTAssertTrue(report.sentence(c).hasPrefix("drop: BTC −10 % became −33.9 % after 3 rounds; 3 accounts liquidated"), report.sentence(c))
        XCTAssertTrue(report.sentence(c).contains("ran out in round 2; 1 account deleveraged (queue"), report.sentence(c))
        XCTAssertTrue(report.html.contains("price by round"))
        XCTAssertEqual(Set(report.csvFiles.map(\.name)).isSuperset(of: ["cascades.csv", "cascade_rounds.csv", "cascade_adl.csv", "cascade_liquidations.csv"]), true)
    }

    /// One Monte Carlo path of `StressCascadeTests.chain` (`cascade` run as `evaluate` runs it, over
    /// one path), with the path's draws fixed by hand: ε puts BTC at 90 at the horizon (−10 %, the
    /// stress's move), the path's minimum is that end (uniform 1: no dip below it, so only A's
    /// liquidation price, 92, is crossed by the path), its maximum today's spot, and the move after
    /// a close is its mean (normal 0). One instant (`steps: 1`) and a permanent impact (share 1), so
    /// that a close at the instant is at the instant's price, as in the stress.
    ///
    /// By hand: the path-wise process closes A at its liquidation price, S_A = (100q − C)/(0.95q) = 92,
    /// N_A = 92,000 (penalty 920: the fund holds 2,920). At t = 1, at the exogenous price 90:
    /// round 1 executes A's flow, S1 = 90·exp(−c·√92,000) = 79.26: B is below (E < M below 87) and not
    /// at 90: closed at S1, E2_B = 34,700 + 2,000·(S1 − 100) − slippage < 0: the fund pays 2,920 and
    /// runs dry; round 2, S2 = 90·exp(−c·√(N_A + N_B)): C below 76, closed at S2 with E2_C > 0;
    /// round 3, S3 = 90·exp(−c·√(N_A + N_B + N_C)): nobody. The shortfall −E2_B − 2,920 is taken at S3
    /// from the shorts: the queue from D1 alone, pro-rata and socialized 3 : 1 from D1 and D2.
    func testThreeAccountChainOnOneMonteCarloPath() throws {
        let text = StressCascadeTests.chain
            .replacingOccurrences(of: "paths: 1000", with: "paths: 1")
            .replacingOccurrences(of: "permanent: 0.5", with: "permanent: 1, steps: 1")
        let scenario = try loadScenario(text)
        let spec = try XCTUnwrap(scenario.calibration), policy = try XCTUnwrap(scenario.policy)
        let w = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule)
        XCTAssertTrue(w.process is CascadeLiquidation)
        let shocks = WaterfallShocks(waterfall: w), paths = shocks.makePaths(capacity: 1)
        shocks.generate(0..<1, into: paths)
        let horizon = paths.horizon, bridge = try XCTUnwrap(paths.bridge), scale = w.model.returnScales[0]
        horizon.epsilon[0] = log(0.9) / scale
        horizon.logSpot[0] = log(100) + scale * horizon.epsilon[0]
        horizon.spot[0] = exp(horizon.logSpot[0])
        bridge.scale[0] = 1
        bridge.uniforms[0] = 1   // the path's minimum: its end
        bridge.uniforms[1] = 1   // its maximum: today's spot
        bridge.normals[0] = 0    // the move after a close: its mean
        let buffers = WaterfallBuffers(waterfall: w, capacity: 1, cells: 1)
        buffers.revaluer.beginChunk(horizon)
        buffers.revalue(horizon, accounts: 0..<w.book.accountCount)
        w.settle(paths, count: 1, buffers)
        let chunk = try XCTUnwrap(buffers.cascades.values.first), outcome = chunk.outcomes[0]

        // The hand computation, A closed at its liquidation price.
        let hand = ChainByHand(priceA: 92)
        let (nA, s1, nB, e2B, s2, nC, e2C, s3) = (hand.nA, hand.s1, hand.nB, hand.e2B, hand.s2, hand.nC, hand.e2C, hand.s3)
        XCTAssertLessThan(s1, 87)
        XCTAssertLessThan(s2, 76)
        XCTAssertGreaterThan(s3, 10.5)
        XCTAssertLessThan(e2B, 0)
        XCTAssertGreaterThan(e2C, 0)
        let fund1 = 2000 + 0.01 * nA, short = -e2B - fund1

        XCTAssertEqual(outcome.rounds, 3)
        XCTAssertEqual(outcome.liquidations, 3)
        XCTAssertEqual(outcome.endogenous, 2)
        XCTAssertEqual(chunk.liquidationStart, [0, 1, 2, 3, 3, 3, 3], "A, B and C liquidated, once each")
        let (a, b, cc) = (chunk.liquidations[0], chunk.liquidations[1], chunk.liquidations[2])
        assertClose(a.notional, nA, "A's notional at its liquidation price")
        XCTAssertLessThan(a.breachHours, 24)
        assertClose(b.notional, nB, "B's notional at S1")
        assertClose(b.finalEquity, e2B, "B's E2")
        assertClose(cc.notional, nC, "C's notional at S2")
        assertClose(cc.finalEquity, e2C, "C's E2")
        assertClose(b.breachHours, 24, "B at the instant t = 1")
        assertClose(cc.breachHours, 24, "C at the instant t = 1")
        assertClose(outcome.liquidatedNotional, nA + nB + nC, "notional closed")
        // The price after the last round: the exogenous −10 % became S3.
        assertClose(chunk.exogenousFall[0], -log(0.9), "exogenous fall")
        assertClose(chunk.cascadedFall[0], -log(s3 / 100), "cascaded fall")
        // The fund: 2,920 after A, all of it paid for B, 0 at its lowest.
        assertClose(outcome.deficit, -e2B, "deficit")
        assertClose(outcome.fundPaid, fund1, "fund paid")
        assertClose(outcome.fundDrawdown, 2000, "fund drawdown")
        XCTAssertTrue(outcome.fundExhausted)
        // ADL of the shortfall: every rule takes all of it, the queue from D1 (account 3) alone,
        // pro-rata and socialized from D1 and D2.
        for r in 0..<3 {
            assertClose(outcome.deleveraged[r], short, "rule \(r)'s taking")
            XCTAssertLessThan(outcome.unfunded[r], 1e-9)
        }
        XCTAssertEqual(outcome.deleveragedAccounts, [1, 2, 2])
        XCTAssertEqual(chunk.haircuts.map { $0.0 }, [3])
        assertClose(chunk.haircuts[0].1, short, "the queue's haircut of D1")
    }

    /// `depth: infinite`: the liquidations move nothing, so the round of the accounts the stress
    /// breaches is the only one.
    func testInfiniteDepthGivesOneRound() throws {
        let yaml = Self.chain.replacingOccurrences(of: "depth: 0.000025, ", with: "depth: infinite, ")
        let c = try XCTUnwrap(StressCascade.run(try loadScenario(yaml), file: "chain.yaml").first)
        XCTAssertEqual(c.rounds.count, 1)
        XCTAssertEqual(c.rounds[0].liquidations.map(\.account), [0])
        XCTAssertEqual(c.rounds[0].prices, [90])
        XCTAssertEqual(c.finalPrices, c.shockedPrices)
    }

    /// Without `liquidation.cascade` the defaults are used, and said so.
    func testDefaultModelWithoutCascadeSection() throws {
        let yaml = Self.chain.replacingOccurrences(of: "    cascade: {depth: 0.000025, depth_curve: [{drawdown: 0, depth: 1}], permanent: 0.5, adl: queue}\n", with: "")
        let scenario = try loadScenario(yaml)
        XCTAssertNil(scenario.calibration?.cascade)
        let c = try XCTUnwrap(StressCascade.run(scenario, file: "chain.yaml").first)
        XCTAssertTrue(c.isDefaultSpec)
        XCTAssertEqual(c.spec, CascadeSpec())
        XCTAssertTrue(StressCascadeReport(scenario: scenario, cascades: [c]).table.contains("defaults"))
    }

    /// A random book of 50 accounts on two assets under a large fall, through thin depth and a small
    /// fund: under every rule, Σ deficits = fund paid + taken from winners + unfunded, to 1e-6 USD,
    /// and the rounds add up to the totals.
    func testConservationOnARandomBook() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var accounts = ""
        for a in 0..<50 {
            let btc = (uniform() * 200 - 100).rounded(), eth = (uniform() * 2000 - 1000).rounded()
            let collateral = (3000 + uniform() * 30_000).rounded()
            var positions = ["{type: perp, asset: BTC, quantity: \(btc == 0 ? 1 : btc)}"]
            if a % 3 != 0 { positions.append("{type: perp, asset: ETH, quantity: \(eth == 0 ? -1 : eth)}") }
            if a % 7 == 0 { positions.append("{type: option, asset: BTC, right: put, strike: 900, expiry_days: 10, quantity: \(a % 2 == 0 ? -20 : 20), iv: 0.7}") }
            accounts += "    - {id: acct\(a), collateral: {USD: \(collateral)}, positions: [\(positions.joined(separator: ", "))]}\n"
        }
        let yaml = """
        name: random
        simulation: {paths: 1000, seed: 1, horizon_days: 1}
        market:
          rate: 0.03
          assets:
            - {id: BTC, spot: 1000, vol: 0.6}
            - {id: ETH, spot: 100, vol: 0.8}
          correlation: {uniform: 0.8}
          tails: {model: gaussian}
        portfolio:
          accounts:
        \(accounts)
        risk: {confidence: [0.99]}
        calibration:
          breach_probability: 0.001
          liquidation:
            horizon_hours: 4
            depth: {BTC: 2000000, ETH: 1000000}
            impact: 1
            monitoring: continuous
            cascade: {depth: 0.05}
          tiers: [100000, 1000000]
        policy:
          ladder:
            "*":
              - {up_to: 20000, maintenance: 0.02}
              - {up_to: 1000000000, maintenance: {long: 0.05, short: 0.06}}
          liquidation_penalty: 0.005
          insurance_fund: 5000
        stress:
          - {name: crash, spot: {BTC: -0.25, ETH: -0.3}, vol: {"*": 0.5}}
          - {name: squeeze, spot: {"*": 0.3}}
        """
        let cascades = try StressCascade.run(try loadScenario(yaml), file: "random.yaml")
        XCTAssertEqual(cascades.count, 2)
        for c in cascades {
            XCTAssertGreaterThan(c.rounds.count, 1, "\(c.stress.name): a cascade of several rounds")
            XCTAssertGreaterThan(c.deficit, c.fundPaid, "\(c.stress.name): the fund runs out")
            for (d, error) in zip(c.deleveraging, c.conservationError) {
                XCTAssertLessThan(abs(error), 1e-6, "\(c.stress.name) \(d.rule): deficits \(c.deficit), paid \(c.fundPaid), taken \(d.taken), unfunded \(d.unfunded)")
                let byRound = c.rounds.reduce(0) { $0 + $1.adlTaken[CascadeSpec.DeleveragingRule.allCases.firstIndex(of: d.rule)!] }
                XCTAssertLessThan(abs(byRound - d.taken), 1e-6)
                XCTAssertTrue(d.haircuts.allSatisfy { $0.amount > 0 })
            }
            let liquidated = c.rounds.flatMap { $0.liquidations.map(\.account) }
            XCTAssertEqual(Set(liquidated).count, liquidated.count, "nobody is liquidated twice")
            XCTAssertLessThan(abs(c.rounds.reduce(0) { $0 + $1.deficit } - c.rounds.reduce(0) { $0 + $1.fundPaid + $1.shortfall }), 1e-6)
            // Each round's liquidations were below maintenance at the round's prices.
            XCTAssertTrue(c.rounds.allSatisfy { $0.liquidations.allSatisfy { $0.equity < $0.maintenance } })
        }
    }
}

/// `thresher stress --cascade` as a user runs it.
final class StressCascadeCommandTests: BinaryTestCase {
    func testCascadeFromTheCommandLine() throws {
        let file = temporaryFile(StressCascadeTests.chain)
        let result = try run(["stress", file, "--cascade", "--json", "-"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let stress = try XCTUnwrap((json["stresses"] as? [[String: Any]])?.first)
        XCTAssertEqual(stress["rounds_count"] as? Int, 3)
        XCTAssertEqual(stress["accounts_liquidated"] as? Int, 3)
        XCTAssertEqual(stress["fund_ran_out_round"] as? Int, 2)
        let table = try run(["stress", file, "--cascade"])
        XCTAssertTrue(table.stdout.contains("drop: BTC −10 % became −33.9 % after 3 rounds"), table.stdout)
    }

    /// No `calibration:` section: exit 65 naming the file, the section and what needs it; no
    /// `policy:` likewise.
    func testMissingSectionsAreNamed() throws {
        let noCalibration = StressCascadeTests.chain.components(separatedBy: "calibration:")[0]
            + "policy:" + StressCascadeTests.chain.components(separatedBy: "policy:")[1]
        let file = temporaryFile(noCalibration)
        let result = try run(["stress", file, "--cascade"])
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("\(file): calibration: missing section: thresher stress --cascade"), result.stderr)
        // Without --cascade the same scenario is a plain stress.
        XCTAssertEqual(try run(["stress", file, "--quiet"]).status, 0)

        let noPolicy = StressCascadeTests.chain.components(separatedBy: "policy:")[0]
            + "stress:" + StressCascadeTests.chain.components(separatedBy: "stress:")[1]
        let second = temporaryFile(noPolicy)
        let missing = try run(["stress", second, "--cascade"])
        XCTAssertEqual(missing.status, 65, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("\(second): policy: missing section"), missing.stderr)
    }
}
