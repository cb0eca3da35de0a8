import Calibration
import Distributions
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import XCTest

/// `policy.portfolio_margin`: the risk array against hand computation, its breach probability and
/// calibrated range against closed forms, its input errors and its `--policy-out` round trip.
final class PortfolioMarginTests: XCTestCase {
    func calibration(p: Double = 0.01) -> String {
        """

        calibration:
          breach_probability: \(p)
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000}, impact: 0.5}
          tiers: [1000000]
        """
    }

    func policy(_ margin: String) -> String {
        """

        policy:
          ladder:
            BTC:
              - {up_to: 1000000, maintenance: 0.05, initial: 0.1}
          portfolio_margin: \(margin)
        """
    }

    /// Black–Scholes, written out here (not the engine's) for the hand computation.
    func blackScholes(call: Bool, spot: Double, strike: Double, years: Double, vol: Double) -> Double {
        let d1 = (log(spot / strike) + 0.5 * vol * vol * years) / (vol * years.squareRoot()), d2 = d1 - vol * years.squareRoot()
        return call ? spot * StandardNormal.cdf(d1) - strike * StandardNormal.cdf(d2) : strike * StandardNormal.cdf(-d2) - spot * StandardNormal.cdf(-d1)
    }

    /// A perp, a short call and a long put on one asset (rate 0): the array's worst loss, its binding
    /// point and the minimum charges equal the hand computation over the 5 × 3 grid and one extended
    /// move, to 1e-9 relative.
    func testRiskArrayMatchesTheHandComputation() throws {
        let positions = """
                - {type: perp, asset: BTC, quantity: 2}
                - {type: option, asset: BTC, right: call, strike: 55000, expiry_days: 30, quantity: -5, iv: 0.6}
                - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 10, quantity: 3, iv: 0.7}
        """
        let margin = "{spot_range: 0.2, spot_steps: 5, vol_shift: {up: 0.4, down: 0.25}, dte_power: 0.5, extended: [{spot: 1.0, vol: up, weight: 0.3}], minimum: {net_delta: 0.05, short_option: 0.01}, maintenance_fraction: 0.5}"
        let scenario = try loadScenario(scenarioText(paths: 1000, assets: "    - {id: BTC, spot: 50000, vol: 0.8}", positions: positions) + calibration() + policy(margin))
        let array = RiskArray(spec: scenario.policy!.portfolioMargin!, scenario: scenario)
        let charge = array.charges(account: 0)[0]

        let spot = 50000.0
        let legs: [(call: Bool, strike: Double, days: Double, q: Double, iv: Double)] = [(true, 55000, 30, -5, 0.6), (false, 45000, 10, 3, 0.7)]
        func loss(move: Double, row: Int, weight: Double) -> Double {
            var profit = 2 * spot * move
            for leg in legs {
                let years = leg.days / 365   // time to expiry now (the engine's τ' + h is the same)
                let shift = row == 0 ? 0 : (row > 0 ? 0.4 : -0.25) * (30 / leg.days).squareRoot()
                let after = blackScholes(call: leg.call, spot: spot * (1 + move), strike: leg.strike, years: years, vol: leg.iv * (1 + shift))
                profit += leg.q * (after - blackScholes(call: leg.call, spot: spot, strike: leg.strike, years: years, vol: leg.iv))
            }
            return -weight * profit
        }
        var worst = -Double.infinity, binding = (move: 0.0, row: 0, extended: false)
        for move in [-0.2, -0.1, 0, 0.1, 0.2] {
            for row in [1, 0, -1] where loss(move: move, row: row, weight: 1) > worst { worst = loss(move: move, row: row, weight: 1); binding = (move, row, false) }
        }
        if loss(move: 1.0, row: 1, weight: 0.3) > worst { worst = loss(move: 1.0, row: 1, weight: 0.3); binding = (1.0, 1, true) }
        XCTAssertEqual(charge.worstLoss, worst, accuracy: 1e-9 * abs(worst))
        XCTAssertEqual(charge.binding.spotMove, binding.move, accuracy: 1e-12)
        XCTAssertEqual(charge.binding.vol, binding.row)
        XCTAssertEqual(charge.binding.extended, binding.extended)
        // Net delta: 2 coins plus the options' Black–Scholes deltas, by central differences here.
        var delta = 2.0
        for leg in legs {
            let e = 1e-3
            delta += leg.q * (blackScholes(call: leg.call, spot: spot + e, strike: leg.strike, years: leg.days / 365, vol: leg.iv)
                              - blackScholes(call: leg.call, spot: spot - e, strike: leg.strike, years: leg.days / 365, vol: leg.iv)) / (2 * e)
        }
        XCTAssertEqual(charge.netDeltaCharge, 0.05 * abs(delta) * spot, accuracy: 1e-6 * abs(delta) * spot)
        XCTAssertEqual(charge.shortOptionCharge, 0.01 * 5 * spot, accuracy: 1e-9)
        XCTAssertEqual(charge.initial, max(worst, 0.05 * abs(delta) * spot) + 0.01 * 5 * spot, accuracy: 1e-6 * charge.initial)
    }

    /// One long perp of q coins under gaussian shocks, maintenance f × the array's ±R (the worst
    /// point is −R: IM = q·S·R): a liquidation over h_liq(n) with impact I(n) breaches when
    /// 1 − e^{sε} + I > f·R, s = σ√h_liq. `evaluate`'s P(breach) matches Φ(ln(1 + I − fR)/s) within 4
    /// standard errors, and `calibrate`'s range matches the closed form R* = (1 − e^{s·Φ⁻¹(p)} + I)/f
    /// within twice its sectioning half-width.
    func testSingleLongPerpAgainstTheClosedForms() throws {
        let p = 0.01, f = 0.5, range = 0.12, q = 10.0, spot = 50000.0, vol = 0.8
        let text = scenarioText(paths: 200_000, assets: "    - {id: BTC, spot: \(spot), vol: \(vol)}", positions: "        - {type: perp, asset: BTC, quantity: \(q)}")
            + calibration(p: p) + policy("{spot_range: \(range), maintenance_fraction: \(f)}")
        let scenario = try loadScenario(text)
        let notional = q * spot
        let s = vol * (4.0 / (24 * 365) * (1 + notional / 50_000_000)).squareRoot()
        let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (notional / 50_000_000).squareRoot()
        let study = try PortfolioMarginStudy(scenario: scenario)
        let results = try study.run(settings: RunSettings(threads: 2), ranges: [0..<200_000] + Sectioning.ranges(paths: 200_000, sections: 10)!)
        let account = results[0].accounts[0]
        XCTAssertEqual(account.initial, q * spot * range, accuracy: 1e-6)
        XCTAssertEqual(account.maintenance, f * q * spot * range, accuracy: 1e-6)
        let expected = StandardNormal.cdf(log(1 + impact - f * range) / s)
        XCTAssertEqual(account.breachProbability, expected, accuracy: 4 * (expected * (1 - expected) / 200_000).squareRoot())

        let closedForm = (1 - exp(s * StandardNormal.quantile(p)) + impact) / f
        let calibrated = results[0].ranges[0].calibrated
        let interval = Sectioning.interval(full: calibrated, sections: results.dropFirst().map { $0.ranges[0].calibrated })
        XCTAssertEqual(calibrated, closedForm, accuracy: interval.high - interval.low)
        XCTAssertLessThan(interval.high - interval.low, 0.1 * closedForm)
    }

    /// `calibrate --policy-out` writes the array with the calibrated ranges; the file loads back as
    /// the same array.
    func testPolicyOutRoundTrips() throws {
        let text = scenarioText(paths: 20_480, positions: "        - {type: perp, asset: BTC, quantity: 10}") + calibration()
            + policy("{spot_range: 0.12, spot_steps: 7, vol_shift: {up: 0.3}, extended: [{spot: -0.5, weight: 0.02}], maintenance_fraction: 0.5}")
        let scenario = try loadScenario(text)
        let results = try PortfolioMarginStudy(scenario: scenario).run(settings: RunSettings(threads: 2), ranges: [0..<20_480] + Sectioning.ranges(paths: 20_480, sections: 4)!)
        let report = PortfolioMarginReport(result: results[0], sections: Array(results.dropFirst()))
        let array = report.calibratedArray(scenario.policy!.portfolioMargin!, assets: ["BTC"])
        var written = scenario.policy!
        written.portfolioMargin = array.spec
        let yaml = written.yaml(assets: ["BTC"], comment: "test", notes: PolicyNotes(spotRanges: array.notes))
        XCTAssertTrue(yaml.contains("# calibrated at p = 0.01"), yaml)
        let reloaded = try loadScenario(scenarioText(paths: 1000, positions: "        - {type: perp, asset: BTC, quantity: 10}") + calibration() + "\n" + yaml)
        XCTAssertEqual(reloaded.policy!.portfolioMargin, array.spec)
        XCTAssertEqual(array.spec.spotRange[0]!, results[0].ranges[0].calibrated)
    }

    func testBadPortfolioMarginInputIsRejectedNamingTheField() {
        let base = scenarioText(paths: 1000) + calibration()
        assertRejected(base + policy("{spot_range: 1.5}"), path: "policy.portfolio_margin.spot_range", mentioning: "(0, 1)")
        assertRejected(base + policy("{spot_range: {ETH: 0.1}}"), path: "policy.portfolio_margin.spot_range.ETH", mentioning: "unknown asset")
        assertRejected(base + policy("{spot_range: 0.1, spot_steps: 8}"), path: "policy.portfolio_margin.spot_steps", mentioning: "odd")
        assertRejected(base + policy("{spot_range: 0.1, vol_shift: {down: 1.2}}"), path: "policy.portfolio_margin.vol_shift.down", mentioning: "below 1")
        assertRejected(base + policy("{spot_range: 0.1, extended: [{spot: -1.5}]}"), path: "policy.portfolio_margin.extended[0].spot", mentioning: "(−1, 100]")
        assertRejected(base + policy("{spot_range: 0.1, extended: [{spot: 0.5, vol: sideways}]}"), path: "policy.portfolio_margin.extended[0].vol", mentioning: "up, flat, down")
        assertRejected(base + policy("{spot_range: 0.1, maintenance_fraction: 0}"), path: "policy.portfolio_margin.maintenance_fraction")
        assertRejected(base + policy("{spot_range: 0.1, margin: 2}"), path: "policy.portfolio_margin.margin")
    }
}
