import Calibration
import Distributions
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import XCTest

/// A scenario's `calibration:` section for the portfolio-margin tests: target p, 4 hours to liquidate
/// against `depth`, impact 0.5, one tier.
func portfolioMarginCalibration(p: Double = 0.01, depth: String = "{BTC: 50000000}") -> String {
    """

    calibration:
      breach_probability: \(p)
      liquidation: {horizon_hours: 4, depth: \(depth), impact: 0.5}
      tiers: [1000000]
    """
}

/// A `policy:` section with one ladder (for `ladder`: an asset or '*') and `portfolio_margin: margin`.
func portfolioMarginPolicy(_ margin: String, ladder: String = "BTC") -> String {
    """

    policy:
      ladder:
        \(ladder):
          - {up_to: 1000000, maintenance: 0.05, initial: 0.1}
      portfolio_margin: \(margin)
    """
}

/// Black–Scholes at rate 0, written out here (not the engine's) for the hand computations.
func handBlackScholes(call: Bool, spot: Double, strike: Double, years: Double, vol: Double) -> Double {
    let d1 = (log(spot / strike) + 0.5 * vol * vol * years) / (vol * years.squareRoot()), d2 = d1 - vol * years.squareRoot()
    return call ? spot * StandardNormal.cdf(d1) - strike * StandardNormal.cdf(d2) : strike * StandardNormal.cdf(-d2) - spot * StandardNormal.cdf(-d1)
}

/// `policy.portfolio_margin`: the risk array against hand computation, its breach probability and
/// calibrated range against closed forms, its input errors and its `--policy-out` round trip.
final class PortfolioMarginTests: XCTestCase {
    func calibration(p: Double = 0.01) -> String { portfolioMarginCalibration(p: p) }
    func policy(_ margin: String) -> String { portfolioMarginPolicy(margin) }
    func blackScholes(call: Bool, spot: Double, strike: Double, years: Double, vol: Double) -> Double {
        handBlackScholes(call: call, spot: spot, strike: strike, years: years, vol: vol)
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

    /// The array applied around a moved market (spot S', implied vols × f, options' time to expiry
    /// less the horizon) equals the array of the same book struck today at S', with ivs × f and
    /// expiries shortened by the horizon, which `testRiskArrayMatchesTheHandComputation` checks by hand
    /// (grid, vol shifts scaled by the moved DTE, extended move, net-delta and short-option charges).
    func testArrayAroundAMovedMarketIsTheArrayStruckThere() throws {
        func book(ivFactor: Double, daysLess: Double) -> String {
            """
                    - {type: perp, asset: BTC, quantity: 2}
                    - {type: option, asset: BTC, right: call, strike: 55000, expiry_days: \(30 - daysLess), quantity: -5, iv: \(0.6 * ivFactor)}
                    - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: \(10 - daysLess), quantity: 3, iv: \(0.7 * ivFactor)}
            """
        }
        let margin = "{spot_range: 0.2, spot_steps: 5, vol_shift: {up: 0.4, down: 0.25}, dte_power: 0.5, extended: [{spot: 1.0, vol: up, weight: 0.3}], minimum: {net_delta: 0.05, short_option: 0.01}, maintenance_fraction: 0.5}"
        let moved = 43_000.0, factor = 1.3, horizon = 2.0
        let now = try loadScenario(scenarioText(paths: 1000, horizonDays: horizon, assets: "    - {id: BTC, spot: 50000, vol: 0.8}",
                                                positions: book(ivFactor: 1, daysLess: 0)) + calibration() + policy(margin))
        let there = try loadScenario(scenarioText(paths: 1000, horizonDays: horizon, assets: "    - {id: BTC, spot: \(moved), vol: 0.8}",
                                                  positions: book(ivFactor: factor, daysLess: horizon)) + calibration() + policy(margin))
        let arrayNow = RiskArray(spec: now.policy!.portfolioMargin!, scenario: now), arrayThere = RiskArray(spec: there.policy!.portfolioMargin!, scenario: there)
        let aroundMoved = arrayNow.maintenance(account: 0) { _ in RiskArray.AssetMarket(spot: moved, volFactor: factor, yearsAfterHorizon: 0) }
        let struckThere = arrayThere.maintenance(account: 0, around: arrayThere.marketNow(asset:))
        XCTAssertEqual(aroundMoved, struckThere, accuracy: 1e-9 * struckThere)
        XCTAssertNotEqual(aroundMoved, arrayNow.maintenance(account: 0, around: arrayNow.marketNow(asset:)), accuracy: 0.01 * struckThere)
    }

    /// One long perp of q coins on collateral C under gaussian shocks, the array ±R at fraction f (no
    /// vol shifts, no minimums: MM(S') = f·q·S'·R at the horizon spot S' = S·e^{s₁ε}, s₁ = σ√T). The
    /// account is liquidated at the horizon iff C + q(S' − S) < f·q·R·S' ⟺ ε < ln((qS − C)/(qS(1 − fR)))/s₁,
    /// then closed over h_liq(n) (n = qS') with slippage I(n)·n: its deficit is
    /// qS'·max(0, K − e^{s₂Z}), K = 1 + (I(n)·n − E1)/(qS'), s₂ = σ√h_liq, whose mean given S' is
    /// qS'·(K·Φ(ln K/s₂) − e^{s₂²/2}·Φ(ln K/s₂ − s₂)). `evaluate`'s P(liquidated) matches Φ of the bound
    /// within 4 binomial standard errors and its expected deficit the integral over ε (Simpson, 20,000
    /// steps) within 4 standard errors; the result is the same bits for other threads and chunk sizes.
    func testRiskArrayWaterfallOfOneLongPerpAgainstTheClosedForm() throws {
        let q = 10.0, spot = 50_000.0, vol = 0.8, collateral = 30_000.0, range = 0.04, f = 0.5, depth = 50_000_000.0, paths = 200_000
        let text = scenarioText(paths: paths, collateral: "{USD: \(collateral)}", positions: "        - {type: perp, asset: BTC, quantity: \(q)}")
            + calibration() + policy("{spot_range: \(range), maintenance_fraction: \(f)}")
        let scenario = try loadScenario(text)
        let evaluator = try PolicyEvaluator(scenario: scenario, file: "test")
        let result = try evaluator.run(settings: RunSettings(threads: 2))
        let waterfall = try XCTUnwrap(result.underRiskArray)
        let account = waterfall.accounts[0]
        XCTAssertEqual(account.maintenance, f * q * spot * range, accuracy: 1e-6)

        let s1 = vol * (1.0 / 365).squareRoot()
        let bound = log((q * spot - collateral) / (q * spot * (1 - f * range))) / s1
        let p = StandardNormal.cdf(bound)
        XCTAssertEqual(account.liquidationProbability, p, accuracy: 4 * (p * (1 - p) / Double(paths)).squareRoot())

        func deficitGiven(_ eps: Double) -> Double {
            let moved = spot * exp(s1 * eps), n = q * moved
            let s2 = vol * (4.0 / (24 * 365) * (1 + n / depth)).squareRoot()
            let slippage = 0.5 * vol * (1.0 / 365).squareRoot() * (n / depth).squareRoot() * n
            let k = 1 + (slippage - (collateral + q * (moved - spot))) / n
            guard k > 0 else { return 0 }
            let d = log(k) / s2
            return n * (k * StandardNormal.cdf(d) - exp(0.5 * s2 * s2) * StandardNormal.cdf(d - s2))
        }
        let steps = 20_000, low = -12.0, width = (bound - low) / Double(steps)
        var integral = 0.0
        for i in 0...steps {
            let eps = low + Double(i) * width
            let simpson: Double = i == 0 || i == steps ? 1 : (i % 2 == 1 ? 4 : 2)
            integral += simpson * StandardNormal.density(eps) * deficitGiven(eps)
        }
        integral *= width / 3
        XCTAssertGreaterThan(integral, 100, "deficits on a good share of the paths")
        XCTAssertEqual(account.expectedDeficit, integral, accuracy: 4 * waterfall.expectedDeficitStandardError)
        XCTAssertEqual(waterfall.expectedDeficit, account.expectedDeficit, accuracy: 1e-9 * integral)

        let other = try evaluator.run(settings: RunSettings(threads: 1, chunkSize: 2_944)).underRiskArray!
        XCTAssertEqual(other.expectedDeficit.bitPattern, waterfall.expectedDeficit.bitPattern)
        XCTAssertEqual(other.fund.expectedShortfall.bitPattern, waterfall.fund.expectedShortfall.bitPattern)
        XCTAssertEqual(other.accounts[0].liquidationProbability.bitPattern, account.liquidationProbability.bitPattern)
    }

    /// Importance sampling of the pass: one long perp under Student-t(4) shocks (ε = t·√((ν − 2)/ν))
    /// breaches when ε < b = ln(1 + I − f·R)/s, so P(breach) = T₄(b·√2). With
    /// `importance_sampling: on` the weighted estimate matches it within 4 of its standard errors,
    /// and that error is below 3/4 of the plain binomial √(P(1 − P)/N) (measured: 0.60, a variance
    /// 2.8× smaller at P ≈ 1.3·10⁻³); other threads and chunk sizes give the same bits.
    func testImportanceSampledBreachProbabilityAgainstTheClosedForm() throws {
        let f = 0.5, range = 0.16, q = 10.0, spot = 50000.0, vol = 0.8, paths = 100_000
        let text = scenarioText(paths: paths, assets: "    - {id: BTC, spot: \(spot), vol: \(vol)}", tails: "{model: student-t, dof: 4}",
                                positions: "        - {type: perp, asset: BTC, quantity: \(q)}")
            + calibration() + "\n  importance_sampling: on" + policy("{spot_range: \(range), maintenance_fraction: \(f)}")
        let scenario = try loadScenario(text)
        let notional = q * spot
        let s = vol * (4.0 / (24 * 365) * (1 + notional / 50_000_000)).squareRoot()
        let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (notional / 50_000_000).squareRoot()
        let expected = StudentT(dof: 4).cdf(log(1 + impact - f * range) / s * 2.0.squareRoot())
        let study = try PortfolioMarginStudy(scenario: scenario)
        let weighted = try study.run(settings: RunSettings(threads: 2), ranges: [0..<paths])[0].accounts[0]
        XCTAssertEqual(weighted.breachProbability, expected, accuracy: 4 * weighted.standardError)
        let binomial = (expected * (1 - expected) / Double(paths)).squareRoot()
        XCTAssertLessThan(weighted.standardError, 0.75 * binomial, "P = \(expected), se \(weighted.standardError) against the binomial \(binomial)")
        let again = try study.run(settings: RunSettings(threads: 1, chunkSize: 2_944), ranges: [0..<paths])[0].accounts[0]
        XCTAssertEqual(again.breachProbability.bitPattern, weighted.breachProbability.bitPattern)
        XCTAssertEqual(again.standardError.bitPattern, weighted.standardError.bitPattern)
    }

    /// `robustness` of the array: on the same paths a wider spot range never breaches more often
    /// (a perp and short options, whose worst loss grows with the range), so each account's P(loss >
    /// MM) under ×1.25 ≤ as given ≤ under ×0.75, section by section too; the report lists every bump
    /// (terminal rows, JSON `portfolio_margin_bumps`), and `robustness.portfolio_margin` is read with
    /// its errors named.
    func testArrayBumpsOrderTheBreachProbabilities() throws {
        let positions = """
                - {type: perp, asset: BTC, quantity: 10}
                - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -20, iv: 0.7}
                - {type: option, asset: BTC, right: call, strike: 60000, expiry_days: 30, quantity: -10, iv: 0.6}
        """
        let text = scenarioText(paths: 40_960, positions: positions) + calibration(p: 0.01)
            + policy("{spot_range: 0.1, vol_shift: {up: 0.3, down: 0.2}, maintenance_fraction: 0.5}")
            + "\nrobustness: {portfolio_margin: {spot_range: [0.75, 1.25], vol_shift: 1.5}}"
        let scenario = try loadScenario(text)
        XCTAssertEqual(scenario.robustness?.arraySpotRange, [0.75, 1.25])
        XCTAssertEqual(scenario.robustness?.arrayVolShift, [1.5])
        let study = try PortfolioMarginRobustness(scenario: scenario, spec: scenario.robustness!, file: "test", sections: 4, settings: RunSettings(threads: 2))
        XCTAssertEqual(study.bumps.map(\.label), ["spot range ×0.75", "spot range ×1.25", "vol shift ×1.5"])
        let (narrow, wide) = (study.bumps[0].result, study.bumps[1].result)
        for (n, (b, w)) in zip([narrow.full] + narrow.sections, zip([study.base.full] + study.base.sections, [wide.full] + wide.sections)) {
            XCTAssertGreaterThan(n.accounts[0].breachProbability, w.accounts[0].breachProbability)
            XCTAssertLessThanOrEqual(b.accounts[0].breachProbability, n.accounts[0].breachProbability)
            XCTAssertLessThanOrEqual(w.accounts[0].breachProbability, b.accounts[0].breachProbability)
        }
        let report = PortfolioMarginRobustnessReport(study: study)
        let rows = report.reportSection.blocks.compactMap { block -> [String]? in
            if case .table(let table) = block { return table.rows.map { $0[0].text } }
            return nil
        }.flatMap { $0 }
        XCTAssertEqual(rows, ["as given", "spot range ×0.75", "spot range ×1.25", "vol shift ×1.5"])
        guard case .object(let fields) = report.json, case .array(let bumps)? = fields.first(where: { $0.0 == "bumps" })?.1 else { return XCTFail("no bumps in the JSON") }
        XCTAssertEqual(bumps.count, 3)

        let base = scenarioText(paths: 1000) + calibration() + policy("{spot_range: 0.1}")
        assertRejected(base + "\nrobustness: {portfolio_margin: {spot_range: [0.8, 0.8]}}", path: "robustness.portfolio_margin.spot_range[1]", mentioning: "twice")
        assertRejected(base + "\nrobustness: {portfolio_margin: {vol_shift: 0}}", path: "robustness.portfolio_margin.vol_shift")
        assertRejected(base + "\nrobustness: {portfolio_margin: {range: 1.2}}", path: "robustness.portfolio_margin.range")
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
