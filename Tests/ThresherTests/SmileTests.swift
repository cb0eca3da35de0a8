import Calibration
import Distributions
import Engine
import Foundation
import MonteCarlo
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import XCTest

/// `market.smiles` (issue 34 item 4): a flat smile against today's flat iv (bit for bit), one
/// option's P&L under sticky-strike and sticky-moneyness against closed forms, the arbitrage checks,
/// input errors with their fields, a stress's skew and term twists against a hand computation (plain
/// and `--cascade`), the Monte Carlo's skew and term factors (`market.smile_factors`), the smile's delta,
/// and grid smiles (`market.smiles.<asset>.grid`) against hand interpolation and their arbitrage checks.
final class SmileTests: XCTestCase {
    /// Black–Scholes at rate 0, written out here (not the engine's).
    func blackScholes(call: Bool, spot: Double, strike: Double, years: Double, vol: Double) -> Double {
        let d1 = (log(spot / strike) + 0.5 * vol * vol * years) / (vol * years.squareRoot()), d2 = d1 - vol * years.squareRoot()
        return call ? spot * StandardNormal.cdf(d1) - strike * StandardNormal.cdf(d2) : strike * StandardNormal.cdf(-d2) - spot * StandardNormal.cdf(-d1)
    }

    /// Raw SVI total variance, written out here.
    func svi(_ k: Double, a: Double, b: Double, rho: Double, m: Double, sigma: Double) -> Double {
        a + b * (rho * (k - m) + ((k - m) * (k - m) + sigma * sigma).squareRoot())
    }

    /// A one-asset scenario (BTC at 50,000, rate 0) with an optional smile, smile factors and stresses.
    func scenario(smile: String = "", factors: String = "", positions: String, stress: String = "", paths: Int = 20_000, volShocks: Bool = true,
                  vol: Double = 0.8) -> String {
        """
        name: smile
        simulation: {paths: \(paths), seed: 5, horizon_days: 1}
        market:
          rate: 0
          assets:
            - {id: BTC, spot: 50000, vol: \(vol)}
          tails: {model: student-t, dof: 4}
        \(volShocks ? "  vol_shocks: {vol_of_vol: 1.0, spot_correlation: -0.5}" : "")
        \(smile.isEmpty ? "" : "  smiles:\n" + smile)
        \(factors.isEmpty ? "" : "  smile_factors:\n" + factors)
        portfolio:
          accounts:
            - id: acct
              collateral: {USD: 1000000}
              positions:
        \(positions)
        risk: {confidence: [0.99, 0.999]}
        \(stress.isEmpty ? "" : "stress:\n" + stress)
        """
    }

    /// Two slices, 30 and 90 days, with a put skew; they do not cross and have no butterfly arbitrage.
    let skewedSmile = """
        BTC:
          dynamics: DYNAMICS
          svi:
            - {expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}
            - {expiry_days: 90, a: 0.06, b: 0.2, rho: -0.35, m: 0.03, sigma: 0.25}
    """
    let slices = [(days: 30.0, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2), (days: 90.0, a: 0.06, b: 0.2, rho: -0.35, m: 0.03, sigma: 0.25)]

    /// w(k, T) of `skewedSmile` at T = 60 days, interpolated here: linear in T between the slices.
    func skewedTotalVariance(_ k: Double, days: Double) -> Double {
        let (s1, s2) = (slices[0], slices[1])
        let w1 = svi(k, a: s1.a, b: s1.b, rho: s1.rho, m: s1.m, sigma: s1.sigma), w2 = svi(k, a: s2.a, b: s2.b, rho: s2.rho, m: s2.m, sigma: s2.sigma)
        let lambda = (days - s1.days) / (s2.days - s1.days)
        return (1 - lambda) * w1 + lambda * w2
    }

    /// A flat smile (b = 0, a = iv²·T at T = 1 year, so that √(a/T) is iv exactly) gives the same
    /// Monte Carlo and stress numbers as the flat iv, bit for bit, under both dynamics.
    func testFlatSmileReproducesFlatIVBitForBit() throws {
        let iv = 0.36.squareRoot()
        let flat = """
                - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 365, quantity: -20, iv: \(iv)}
                - {type: option, asset: BTC, right: call, strike: 56000, expiry_days: 365, quantity: 10, iv: \(iv)}
                - {type: perp, asset: BTC, quantity: 3}
        """
        let fromSmile = """
                - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 365, quantity: -20}
                - {type: option, asset: BTC, right: call, strike: 56000, expiry_days: 365, quantity: 10}
                - {type: perp, asset: BTC, quantity: 3}
        """
        let stress = "  - {name: crash, spot: {BTC: -0.3}, vol: {BTC: 0.5}}\n"
        let reference = try loadScenario(scenario(positions: flat, stress: stress))
        let expected = try PortfolioRun(scenario: reference).run(settings: RunSettings(threads: 2)).book
        let expectedStress = StressTest.evaluate(reference)[0].bookLoss
        for dynamics in ["sticky-strike", "sticky-moneyness"] {
            let smile = "    BTC: {dynamics: \(dynamics), svi: [{expiry_days: 365, a: 0.36, b: 0, rho: 0, m: 0, sigma: 0.1}]}\n"
            let smiled = try loadScenario(scenario(smile: smile, positions: fromSmile, stress: stress))
            let summary = try PortfolioRun(scenario: smiled).run(settings: RunSettings(threads: 2)).book
            XCTAssertEqual(summary.mean.bitPattern, expected.mean.bitPattern, dynamics)
            XCTAssertEqual(summary.standardDeviation.bitPattern, expected.standardDeviation.bitPattern, dynamics)
            for (level, reference) in zip(summary.levels, expected.levels) {
                XCTAssertEqual(level.valueAtRisk.bitPattern, reference.valueAtRisk.bitPattern, dynamics)
                XCTAssertEqual(level.expectedShortfall.bitPattern, reference.expectedShortfall.bitPattern, dynamics)
            }
            XCTAssertEqual(StressTest.evaluate(smiled)[0].bookLoss.bitPattern, expectedStress.bitPattern, dynamics)
        }
    }

    /// One short put of 60 days (between the slices) under an instant spot move of −20 %: its iv now
    /// is √(w(k₀, T)/T), k₀ = ln(K/S); sticky-strike keeps it, sticky-moneyness reads
    /// √(w(k₀ − ln(S'/S), T)/T) (`assertPutUnderSpotMove`).
    func testStickyStrikeAndStickyMoneynessAgainstClosedForms() throws {
        let strike = 45000.0, days = 60.0, k0 = log(strike / 50000)
        try assertPutUnderSpotMove(smile: skewedSmile, strike: strike, ivNow: (skewedTotalVariance(k0, days: days) / (days / 365)).squareRoot(),
                                   ivMoved: (skewedTotalVariance(k0 - log(0.8), days: days) / (days / 365)).squareRoot())
    }

    /// Short 10 puts of strike K and 60 days on BTC at 50,000 read ivNow from `smile` (DYNAMICS replaced)
    /// (to 1e-14); a stress of −20 % with no time passing loses −q·(BS(S', iv, T) − BS(S, ivNow, T)), iv =
    /// ivNow under sticky-strike and ivMoved under sticky-moneyness, to 1e-9 relative (the engine's Φ is
    /// accurate to 2e-15·(S' + K)); the two must differ by more than 2 vol points.
    func assertPutUnderSpotMove(smile: String, strike: Double, ivNow: Double, ivMoved: Double, file: StaticString = #filePath, line: UInt = #line) throws {
        let q = -10.0, years = 60.0 / 365, spot = 50000.0, moved = 40000.0
        XCTAssertGreaterThan(abs(ivMoved - ivNow), 0.02, "the test should move the iv noticeably", file: file, line: line)
        let valueNow = blackScholes(call: false, spot: spot, strike: strike, years: years, vol: ivNow)
        let position = "        - {type: option, asset: BTC, right: put, strike: \(strike), expiry_days: 60, quantity: \(q)}"
        let stress = "  - {name: down, spot: {BTC: -0.2}, horizon_days: 0}\n"
        for (dynamics, iv) in [("sticky-strike", ivNow), ("sticky-moneyness", ivMoved)] {
            let loaded = try loadScenario(scenario(smile: smile.replacingOccurrences(of: "DYNAMICS", with: dynamics), positions: position, stress: stress))
            guard case .option(let contract) = loaded.portfolio.accounts[0].positions[0].instrument.pricing(in: PricingContext(spot: spot, rate: 0, horizonYears: 0))[0] else {
                return XCTFail("not an option", file: file, line: line)
            }
            XCTAssertEqual(contract.impliedVol, ivNow, accuracy: 1e-14, file: file, line: line)
            let exact = -q * (blackScholes(call: false, spot: moved, strike: strike, years: years, vol: iv) - valueNow)
            XCTAssertEqual(StressTest.evaluate(loaded)[0].bookLoss, exact, accuracy: 1e-9 * abs(exact), dynamics, file: file, line: line)
        }
    }

    /// The Monte Carlo kernel under sticky-moneyness on seven paths (a partial vector) at spots and
    /// vol factors set by hand, 1 day of horizon: each path's loss is the closed form at
    /// iv(k') · f, to 1e-9 relative; and the scalar twin (`OptionLeg.value`) agrees.
    func testStickyMoneynessKernelPathByPath() throws {
        let strike = 52000.0, q = 4.0, days = 45.0, years = days / 365, h = 1.0 / 365
        let position = "        - {type: option, asset: BTC, right: call, strike: \(strike), expiry_days: \(days), quantity: \(q)}"
        let loaded = try loadScenario(scenario(smile: skewedSmile.replacingOccurrences(of: "DYNAMICS", with: "sticky-moneyness"), positions: position))
        let book = Book(scenario: loaded)
        let spots = [50000.0, 30000, 41000, 49000, 55000, 70000, 90000], factors = [1.0, 1.4, 0.8, 1.1, 0.95, 1.2, 0.7]
        let state = ShockBuffers(assetCount: 1, capacity: spots.count)
        for j in spots.indices { state.setDeterministicState(column: j, spots: [spots[j]], volFactors: [factors[j]]) }
        let revaluer = Revaluer(book: book, capacity: spots.count)
        revaluer.revalue(state)
        let ivNow = (skewedTotalVariance(log(strike / 50000), days: days) / years).squareRoot()
        let valueNow = blackScholes(call: true, spot: 50000, strike: strike, years: years, vol: ivNow)
        for j in spots.indices {
            let iv = (skewedTotalVariance(log(strike / spots[j]), days: days) / years).squareRoot() * factors[j]
            let exact = -q * (blackScholes(call: true, spot: spots[j], strike: strike, years: years - h, vol: iv) - valueNow)
            XCTAssertEqual(revaluer.bookLosses[j], exact, accuracy: 1e-9 * max(abs(exact), 1), "path \(j)")
            let scalar = book.options[0].value(spot: spots[j], volFactor: factors[j], years: years - h, rate: 0)
            XCTAssertEqual(-q * (scalar - book.options[0].valueNow), exact, accuracy: 1e-9 * max(abs(exact), 1), "scalar twin, path \(j)")
        }
    }

    /// A stress with a skew twist and a term move (and a vol move) on one put: iv' = (iv + skew·k' +
    /// term·√(30/T_days))·(1 + vol), k' = ln(K/S') at rate 0, against the hand computation to 1e-9
    /// relative. The put has its own flat iv: twists apply to every option of the asset.
    func testStressSkewAndTermTwistsAgainstHandComputation() throws {
        let strike = 46000.0, q = -8.0, days = 20.0, iv = 0.55, spot = 50000.0, moved = 46500.0, h = 2.0 / 365
        let position = "        - {type: option, asset: BTC, right: put, strike: \(strike), expiry_days: \(days), quantity: \(q), iv: \(iv)}"
        let stress = "  - {name: twist, spot: {BTC: -0.07}, vol: {BTC: 0.1}, skew: {BTC: -0.3}, term: {'*': 0.04}, horizon_days: 2}\n"
        let loaded = try loadScenario(scenario(positions: position, stress: stress))
        let k = log(strike / moved)
        let twisted = (iv - 0.3 * k + 0.04 * (30 / days).squareRoot()) * 1.1
        let exact = -q * (blackScholes(call: false, spot: moved, strike: strike, years: days / 365 - h, vol: twisted)
                          - blackScholes(call: false, spot: spot, strike: strike, years: days / 365, vol: iv))
        let outcome = StressTest.evaluate(loaded)[0]
        XCTAssertEqual(outcome.bookLoss, exact, accuracy: 1e-9 * abs(exact))
        // Without the twists the same stress is the plain spot and vol move.
        let plain = -q * (blackScholes(call: false, spot: moved, strike: strike, years: days / 365 - h, vol: iv * 1.1)
                          - blackScholes(call: false, spot: spot, strike: strike, years: days / 365, vol: iv))
        XCTAssertGreaterThan(abs(exact - plain), 1e-3 * abs(plain), "the twist should matter")
    }

    /// Butterfly arbitrage (Vogt's slice, Gatheral & Jacquier 2014: g(k) < 0 near k = 0.65) and
    /// calendar arbitrage (a later slice below an earlier one) are refused, naming the slice.
    func testArbitrageableSlicesAreRefused() {
        let position = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -1}"
        let butterfly = "    BTC: {dynamics: sticky-strike, svi: [{expiry_days: 365, a: -0.0410, b: 0.1331, rho: 0.3060, m: 0.3586, sigma: 0.4153}]}\n"
        assertRejected(scenario(smile: butterfly, positions: position), path: "market.smiles.BTC.svi[0]", mentioning: "butterfly arbitrage")
        let calendar = """
            BTC:
              dynamics: sticky-moneyness
              svi:
                - {expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}
                - {expiry_days: 60, a: 0.01, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}

        """
        assertRejected(scenario(smile: calendar, positions: position), path: "market.smiles.BTC.svi[1]", mentioning: "calendar arbitrage")
    }

    /// Bad smile and twist inputs name their field.
    func testBadSmileInputsAreNamed() {
        let position = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -1}"
        func smile(_ slice: String, dynamics: String = "sticky-strike", asset: String = "BTC") -> String {
            "    \(asset): {dynamics: \(dynamics), svi: [\(slice)]}\n"
        }
        let good = "{expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}"
        assertRejected(scenario(smile: smile(good, dynamics: "sticky-delta"), positions: position), path: "market.smiles.BTC.dynamics", mentioning: "sticky-moneyness")
        assertRejected(scenario(smile: smile(good, asset: "ETH"), positions: position), path: "market.smiles.ETH", mentioning: "unknown asset")
        assertRejected(scenario(smile: smile("{expiry_days: 30, a: 0.02, b: 0.15, rho: 1, m: 0.02, sigma: 0.2}"), positions: position),
                       path: "market.smiles.BTC.svi[0].rho", mentioning: "(−1, 1)")
        assertRejected(scenario(smile: smile("{expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0}"), positions: position),
                       path: "market.smiles.BTC.svi[0].sigma")
        assertRejected(scenario(smile: smile("{expiry_days: 30, a: -0.05, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}"), positions: position),
                       path: "market.smiles.BTC.svi[0].a", mentioning: "a + b·σ·√(1 − ρ²)")
        assertRejected(scenario(smile: smile("{expiry_days: 30, a: 0.02, b: 1.5, rho: -0.4, m: 0.02, sigma: 0.2}"), positions: position),
                       path: "market.smiles.BTC.svi[0].b", mentioning: "Lee")
        assertRejected(scenario(smile: smile("\(good), {expiry_days: 30, a: 0.03, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}"), positions: position),
                       path: "market.smiles.BTC.svi[1].expiry_days", mentioning: "increasing")
        assertRejected(scenario(smile: smile("{expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2, nu: 1}"), positions: position),
                       path: "market.smiles.BTC.svi[0].nu", mentioning: "unknown field")
        assertRejected(scenario(smile: "    BTC: {dynamics: sticky-strike, svi: []}\n", positions: position), path: "market.smiles.BTC.svi")
        // Without a smile an option still needs its iv.
        assertRejected(scenario(positions: position), path: "portfolio.accounts[0].positions[0].iv", mentioning: "missing required field")
        // Twists: a number within ±5 on a market asset.
        let quoted = position.replacingOccurrences(of: "quantity: -1}", with: "quantity: -1, iv: 0.6}")
        assertRejected(scenario(positions: quoted, stress: "  - {name: s, skew: {BTC: 7}}\n"), path: "stress[0].skew.BTC", mentioning: "±5")
        assertRejected(scenario(positions: quoted, stress: "  - {name: s, term: {ETH: 0.1}}\n"), path: "stress[0].term.ETH", mentioning: "unknown asset")
    }

    /// The Monte Carlo kernel under smile factors on seven paths set by hand (spots, vol factors, skew
    /// twists and term moves), 1 day of horizon: a sticky-moneyness call from the smile and a put at its
    /// own flat iv each lose −q·(BS(S'_j, iv'_j·f_j, τ') − V₀) with
    /// iv'_j = max(iv(S'_j) + skew_j·ln(K/S'_j) + term_j·√(30/T_days), 0.01) (the last path floors both
    /// at 1 %), to 1e-9 relative; the scalar twin (`OptionLeg.value` with the twist) agrees.
    func testSmileFactorsKernelPathByPath() throws {
        let h = 1.0 / 365
        let positions = """
                - {type: option, asset: BTC, right: call, strike: 52000, expiry_days: 45, quantity: 4}
                - {type: option, asset: BTC, right: put, strike: 47000, expiry_days: 20, quantity: -3, iv: 0.7}
        """
        let loaded = try loadScenario(scenario(smile: skewedSmile.replacingOccurrences(of: "DYNAMICS", with: "sticky-moneyness"),
                                               factors: "    BTC: {skew_vol: 1.5, term_vol: 0.8}\n", positions: positions))
        let book = Book(scenario: loaded)
        let spots = [50000.0, 30000, 41000, 49000, 55000, 70000, 90000], factors = [1.0, 1.4, 0.8, 1.1, 0.95, 1.2, 0.7]
        let skews = [0.2, -0.5, 0.3, -0.1, 0, 0.4, 3], terms = [0.05, -0.1, 0.02, 0, 0.1, -0.05, -1.5]
        let state = ShockBuffers(assetCount: 1, capacity: spots.count)
        for j in spots.indices {
            state.setDeterministicState(column: j, spots: [spots[j]], volFactors: [factors[j]], twists: [0: (skews[j], terms[j])])
        }
        let revaluer = Revaluer(book: book, capacity: spots.count)
        revaluer.revalue(state)
        let callNow = (skewedTotalVariance(log(52000.0 / 50000), days: 45) / (45.0 / 365)).squareRoot()
        let options = [(call: true, strike: 52000.0, q: 4.0, days: 45.0, ivNow: callNow, smile: true),
                       (call: false, strike: 47000.0, q: -3.0, days: 20.0, ivNow: 0.7, smile: false)]
        for j in spots.indices {
            var total = 0.0
            for (index, o) in options.enumerated() {
                let years = o.days / 365, k = log(o.strike / spots[j])
                let base = o.smile ? (skewedTotalVariance(k, days: o.days) / years).squareRoot() : o.ivNow
                let twisted = max(base + skews[j] * k + terms[j] * (30 / o.days).squareRoot(), 0.01)
                if j == 6 { XCTAssertEqual(twisted, 0.01, "path 6 should floor option \(index)") }
                let valueNow = blackScholes(call: o.call, spot: 50000, strike: o.strike, years: years, vol: o.ivNow)
                let exact = -o.q * (blackScholes(call: o.call, spot: spots[j], strike: o.strike, years: years - h, vol: twisted * factors[j]) - valueNow)
                total += exact
                let leg = book.options[index]
                let scalar = -o.q * (leg.value(spot: spots[j], volFactor: factors[j], twist: (skews[j], terms[j]), years: years - h, rate: 0) - leg.valueNow)
                XCTAssertEqual(scalar, exact, accuracy: 1e-9 * max(abs(exact), 1), "scalar twin, option \(index), path \(j)")
            }
            XCTAssertEqual(revaluer.bookLosses[j], total, accuracy: 1e-9 * max(abs(total), 1), "path \(j)")
        }
    }

    /// One long call (K = 55,000, 60 days, iv 0.6) under a skew factor alone (skew_vol 2, no vol
    /// shocks, spot vol 1e-8 so that S' = S to 1e-9): skew = 2·√h·ζ, ζ ~ N(0, 1), and the loss
    /// L(ζ) = −q·(BS(S, 0.6 + 2·√h·ζ·k, τ') − V₀), k = ln(K/S) > 0, falls as ζ rises, so VaR_α is L at
    /// ζ's (1 − α)-quantile −z_α. The engine's VaR (an order statistic of N = 20,000 losses) must lie in
    /// [L(−z_α + 4·se), L(−z_α − 4·se)], se = √(α(1−α)/N)/φ(z_α) the standard deviation of the sample
    /// quantile of ζ (0.027 at α = 0.99, 0.066 at 0.999): a factor without √h, or of the wrong sign,
    /// lands far outside.
    func testSkewFactorQuantilesAgainstClosedForm() throws {
        let strike = 55000.0, q = 5.0, days = 60.0, iv = 0.6, h = 1.0 / 365, paths = 20_000
        let position = "        - {type: option, asset: BTC, right: call, strike: \(strike), expiry_days: \(days), quantity: \(q), iv: \(iv)}"
        let loaded = try loadScenario(scenario(factors: "    BTC: {skew_vol: 2}\n", positions: position, paths: paths, volShocks: false, vol: 1e-8))
        let run = try PortfolioRun(scenario: loaded).run(settings: RunSettings(threads: 2))
        let k = log(strike / 50000), valueNow = blackScholes(call: true, spot: 50000, strike: strike, years: days / 365, vol: iv)
        func loss(_ z: Double) -> Double {
            -q * (blackScholes(call: true, spot: 50000, strike: strike, years: days / 365 - h, vol: iv + 2 * h.squareRoot() * z * k) - valueNow)
        }
        XCTAssertEqual(run.book.levels.count, 2)
        for level in run.book.levels {
            let alpha = level.alpha, z = StandardNormal.quantile(alpha)
            let se = (alpha * (1 - alpha) / Double(paths)).squareRoot() / StandardNormal.density(z)
            let low = loss(-z + 4 * se), high = loss(-z - 4 * se)
            XCTAssertLessThan(low, high)
            XCTAssertGreaterThanOrEqual(level.valueAtRisk, low, "α = \(alpha)")
            XCTAssertLessThanOrEqual(level.valueAtRisk, high, "α = \(alpha)")
        }
    }

    /// The drawn skew twists and term moves over 100,000 gaussian paths (h = 1 day): standard
    /// deviations skew_vol·√h and term_vol·√h (relative standard error 1/√(2N) = 0.0022; checked to
    /// 0.011) and correlations with the spot shock ε of ρ_s = −0.6 and ρ_t = 0.3 (standard error
    /// (1 − ρ²)/√N ≤ 0.0029; checked to 0.015).
    func testSmileFactorMovesHaveTheirVolsAndCorrelations() throws {
        let paths = 100_000
        let factors = "{BTC: {skew_vol: 1.2, skew_spot_correlation: -0.6, term_vol: 0.5, term_spot_correlation: 0.3}}"
        let model = try MarketModel(scenario: try loadScenario(scenarioText(paths: paths, seed: 11, smileFactors: factors)))
        let buffers = ShockBuffers(assetCount: 1, capacity: paths)
        model.generate(firstPath: 0, count: paths, into: buffers)
        let epsilon = (0..<paths).map { buffers.standardizedShock(asset: 0, path: $0) }
        for (index, (vol, rho)) in [(1.2, -0.6), (0.5, 0.3)].enumerated() {
            let moves = (0..<paths).map { j -> Double in
                let twist = buffers.smileTwist(asset: 0, path: j)!
                return index == 0 ? twist.skew : twist.term
            }
            let n = Double(paths), mean = moves.reduce(0, +) / n, meanE = epsilon.reduce(0, +) / n
            let sd = (moves.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            let sdE = (epsilon.reduce(0) { $0 + ($1 - meanE) * ($1 - meanE) } / (n - 1)).squareRoot()
            let covariance = zip(moves, epsilon).reduce(0) { $0 + ($1.0 - mean) * ($1.1 - meanE) } / (n - 1)
            XCTAssertEqual(sd / (vol * (1.0 / 365).squareRoot()), 1, accuracy: 0.011, "sd of factor \(index)")
            XCTAssertEqual(covariance / (sd * sdE), rho, accuracy: 0.015, "correlation of factor \(index)")
        }
    }

    /// Path p's draws depend on (seed, p) alone and the factors have their own stream: with two assets
    /// and vol shocks, smile factors on ETH leave a BTC put's mean, sd, VaR and ES bit for bit as
    /// without them, and move an ETH put's.
    func testSmileFactorsLeaveOtherAssetsBitForBit() throws {
        func summary(_ position: String, factors: String) throws -> TailSummary {
            let text = scenarioText(paths: 5000, seed: 3, horizonDays: 2, rate: 0.01,
                                    assets: "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 3000, vol: 0.9}",
                                    correlation: "{uniform: 0.7}", tails: "{model: student-t, dof: 5}",
                                    volShocks: "{vol_of_vol: 1.2, spot_correlation: -0.4}", smileFactors: factors, positions: position)
            return try PortfolioRun(scenario: try loadScenario(text)).run(settings: RunSettings(threads: 2)).book
        }
        let ethFactors = "{ETH: {skew_vol: 1.5, term_vol: 0.6, term_spot_correlation: -0.5}}"
        let btc = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -10, iv: 0.6}"
        let (a, b) = (try summary(btc, factors: ""), try summary(btc, factors: ethFactors))
        XCTAssertEqual(a.mean.bitPattern, b.mean.bitPattern)
        XCTAssertEqual(a.standardDeviation.bitPattern, b.standardDeviation.bitPattern)
        for (x, y) in zip(a.levels, b.levels) {
            XCTAssertEqual(x.valueAtRisk.bitPattern, y.valueAtRisk.bitPattern)
            XCTAssertEqual(x.expectedShortfall.bitPattern, y.expectedShortfall.bitPattern)
        }
        let eth = "        - {type: option, asset: ETH, right: put, strike: 2700, expiry_days: 30, quantity: -100, iv: 0.7}"
        let (c, d) = (try summary(eth, factors: ""), try summary(eth, factors: ethFactors))
        XCTAssertGreaterThan(abs(d.levels[0].valueAtRisk - c.levels[0].valueAtRisk), 1e-3 * c.levels[0].valueAtRisk, "the ETH factors should move the ETH put")
    }

    /// Bad `market.smile_factors` entries name their field.
    func testBadSmileFactorsAreNamed() {
        let position = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -1, iv: 0.6}"
        assertRejected(scenario(factors: "    ETH: {skew_vol: 1}\n", positions: position), path: "market.smile_factors.ETH", mentioning: "unknown asset")
        assertRejected(scenario(factors: "    BTC: {skew_spot_correlation: 0.2}\n", positions: position), path: "market.smile_factors.BTC",
                       mentioning: "skew_vol, term_vol or both")
        assertRejected(scenario(factors: "    BTC: {skew_vol: 1, skew_spot_correlation: 1.5}\n", positions: position),
                       path: "market.smile_factors.BTC.skew_spot_correlation", mentioning: "[−1, 1]")
        assertRejected(scenario(factors: "    BTC: {term_vol: -0.1}\n", positions: position), path: "market.smile_factors.BTC.term_vol")
        assertRejected(scenario(factors: "    BTC: {skew_vol: 1, skew: 2}\n", positions: position), path: "market.smile_factors.BTC.skew", mentioning: "unknown field")
    }

    /// `stress --cascade` applies a stress's skew and term twists as plain `stress` does. One account,
    /// long 1,000 BTC perps and short 10 puts (K 95, 30 days, iv 0.6) on BTC at 100 with 12,000 USD, in
    /// the market and policy of `StressCascadeTests.chain` (5 % maintenance);
    /// the stress: BTC −10 %, vol +20 %, skew −0.3, term 0.05. At round 0's price S = 90 the puts'
    /// iv' = (0.6 − 0.3·ln(95/90) + 0.05·√(30/30))·1.2 and the account's equity is
    /// E = 12,000 + 1,000·(90 − 100) − 10·BS(90, 95, 30 days, iv') below its maintenance 0.05·1,000·90:
    /// round 1 liquidates it with that E (to 1e-9 relative), and plain `stress` (no time passing) loses
    /// 1,000·10 + 10·(BS(90, iv') − BS(100, 0.6)), the same option loss.
    func testStressCascadeAppliesSkewAndTermTwists() throws {
        // The chain's market, liquidation model and policy (`StressCascadeTests.chain`) with this account and stress.
        let chain = StressCascadeTests.chain
        let portfolio = """
        portfolio:
          accounts:
            - id: A
              collateral: {USD: 12000}
              positions:
                - {type: perp, asset: BTC, quantity: 1000}
                - {type: option, asset: BTC, right: put, strike: 95, expiry_days: 30, quantity: -10, iv: 0.6}

        """
        let text = chain.replacingCharacters(in: chain.range(of: "portfolio:")!.lowerBound..<chain.range(of: "risk:")!.lowerBound, with: portfolio)
            .replacingOccurrences(of: "  - {name: drop, spot: {BTC: -0.10}}",
                                  with: "  - {name: twist, spot: {BTC: -0.10}, vol: {BTC: 0.2}, skew: {BTC: -0.3}, term: {BTC: 0.05}, horizon_days: 0}")
        XCTAssertTrue(text.contains("name: twist"))
        let loaded = try loadScenario(text)
        let years = 30.0 / 365, twisted = (0.6 - 0.3 * log(95.0 / 90) + 0.05) * 1.2
        let moved = blackScholes(call: false, spot: 90, strike: 95, years: years, vol: twisted)
        let now = blackScholes(call: false, spot: 100, strike: 95, years: years, vol: 0.6)
        let equity = 12000 - 10000 - 10 * moved
        XCTAssertLessThan(equity, 0.05 * 1000 * 90, "the account should be liquidated in round 1")
        let cascade = try StressCascade.run(loaded, file: "cascade-twist.yaml")[0]
        let first = try XCTUnwrap(cascade.rounds.first?.liquidations.first)
        XCTAssertEqual(first.account, 0)
        XCTAssertEqual(first.equity, equity, accuracy: 1e-9 * abs(equity))
        let plainLoss = 10000 + 10 * (moved - now)
        XCTAssertEqual(StressTest.evaluate(loaded)[0].bookLoss, plainLoss, accuracy: 1e-9 * plainLoss)
        // Without the twists the round-1 equity differs: the twist is applied, not ignored.
        let untwisted = 12000 - 10000 - 10 * blackScholes(call: false, spot: 90, strike: 95, years: years, vol: 0.6 * 1.2)
        XCTAssertGreaterThan(abs(first.equity - untwisted), 1e-3 * abs(untwisted))
    }
    /// The risk array's net delta with a smile (`OptionLeg.delta`): a call and a put of 45 days (between
    /// the slices of the SVI smile, and of the rows of the grid smile) and a perp; each option's delta equals the central difference (V(S + h) − V(S − h))/(2h)
    /// of the smile pricer (`OptionLeg.value`: iv moving with S under sticky-moneyness), h = 0.5 USD on
    /// S = 50,000, to 1e-8 (the difference's error h²·V‴/6 is below 1e-10, its rounding about 1e-12);
    /// under sticky-moneyness it differs from the Black–Scholes delta at the iv of now by more than 0.01,
    /// under sticky-strike it is that delta. The net-delta minimum is 0.05·|2 + Σ q·Δ|·S with these deltas
    /// (1e-9 relative).
    func testSmileDeltaAgainstFiniteDifference() throws {
        let positions = """
                - {type: perp, asset: BTC, quantity: 2}
                - {type: option, asset: BTC, right: call, strike: 54000, expiry_days: 45, quantity: -5}
                - {type: option, asset: BTC, right: put, strike: 44000, expiry_days: 45, quantity: 3}
        """
        let margin = """

        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000}, impact: 0.5}
          tiers: [1000000]
        policy:
          ladder:
            BTC:
              - {up_to: 1000000, maintenance: 0.05, initial: 0.1}
          portfolio_margin: {spot_range: 0.1, spot_steps: 3, minimum: {net_delta: 0.05}}
        """
        let spot = 50000.0, h = 0.5, years = 45.0 / 365
        for (smile, dynamics) in [(skewedSmile, "sticky-moneyness"), (skewedSmile, "sticky-strike"), (gridSmile, "sticky-moneyness")] {
            let loaded = try loadScenario(scenario(smile: smile.replacingOccurrences(of: "DYNAMICS", with: dynamics), positions: positions) + margin)
            let book = Book(scenario: loaded)
            var net = 2.0
            for leg in book.options {
                let difference = (leg.value(spot: spot + h, volFactor: 1, years: years, rate: 0) - leg.value(spot: spot - h, volFactor: 1, years: years, rate: 0)) / (2 * h)
                let delta = leg.delta(spot: spot, years: years, rate: 0)
                XCTAssertEqual(delta, difference, accuracy: 1e-8, "\(dynamics), strike \(leg.strike)")
                let d1 = (log(spot / leg.strike) + 0.5 * leg.impliedVol * leg.impliedVol * years) / (leg.impliedVol * years.squareRoot())
                let plain = leg.isCall ? StandardNormal.cdf(d1) : StandardNormal.cdf(d1) - 1
                if dynamics == "sticky-strike" {
                    XCTAssertEqual(delta, plain, accuracy: 1e-12, "strike \(leg.strike)")
                } else {
                    XCTAssertGreaterThan(abs(delta - plain), 0.01, "the smile should move the delta of strike \(leg.strike)")
                }
                net += leg.quantity * delta
            }
            let charge = RiskArray(spec: loaded.policy!.portfolioMargin!, scenario: loaded).charges(account: 0)[0]
            XCTAssertEqual(charge.netDeltaCharge, 0.05 * abs(net) * spot, accuracy: 1e-9 * 0.05 * abs(net) * spot, dynamics)
        }
    }

    /// A grid smile (`market.smiles.<asset>.grid`): two expiries (30 and 90 days) × three moneyness
    /// points K/F = 0.8, 1, 1.25 (k = ln(K/F) symmetric, h = ln 1.25 apart).
    let gridSmile = """
        BTC:
          dynamics: DYNAMICS
          grid:
            expiry_days: [30, 90]
            moneyness: [0.8, 1, 1.25]
            vols: [[0.7, 0.5, 0.6], [0.66, 0.52, 0.58]]
    """
    let gridVols = [[0.7, 0.5, 0.6], [0.66, 0.52, 0.58]], gridDays = [30.0, 90.0]

    /// Row j's total variance at k, by hand: the monotone cubic Hermite interpolant through the three
    /// nodes k = −h, 0, h (h = ln 1.25): secants δ₀ < 0 < δ₁ give the middle slope 0 and the end slopes
    /// (3δ₀ − δ₁)/2 and (3δ₁ − δ₀)/2 (their limits do not bind here: checked); beyond the nodes, linear
    /// where the end slope rises outwards.
    func gridTotalVariance(_ k: Double, row j: Int) -> Double {
        let h = log(1.25), years = gridDays[j] / 365
        let w = gridVols[j].map { $0 * $0 * years }, d0 = (w[1] - w[0]) / h, d1 = (w[2] - w[1]) / h
        XCTAssertTrue(d0 < 0 && d1 > 0 && abs(3 * d0 - d1) / 2 <= 3 * abs(d0) && abs(3 * d1 - d0) / 2 <= 3 * abs(d1))
        let slopes = [(3 * d0 - d1) / 2, 0, (3 * d1 - d0) / 2], nodes = [-h, 0, h]
        if k <= -h { return w[0] + min(slopes[0], 0) * (k + h) }
        if k >= h { return w[2] + max(slopes[2], 0) * (k - h) }
        let i = k < 0 ? 0 : 1, t = (k - nodes[i]) / h
        let h00 = 2 * t * t * t - 3 * t * t + 1, h10 = t * t * t - 2 * t * t + t, h01 = -2 * t * t * t + 3 * t * t, h11 = t * t * t - t * t
        return h00 * w[i] + h10 * h * slopes[i] + h01 * w[i + 1] + h11 * h * slopes[i + 1]
    }

    /// A flat grid (every vol 0.6, expiries 30 and 365 days), by moneyness or by strike, prices like the
    /// flat iv 0.6: options on a row, between the rows and after the last read iv 0.6 to 1e-12, and the
    /// Monte Carlo's mean, standard deviation, VaR and ES and the stress loss equal the flat iv's to
    /// 1e-12 relative, under both dynamics.
    func testFlatGridReproducesFlatIV() throws {
        let flat = """
                - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -20, iv: 0.6}
                - {type: option, asset: BTC, right: call, strike: 56000, expiry_days: 100, quantity: 10, iv: 0.6}
                - {type: option, asset: BTC, right: put, strike: 52000, expiry_days: 400, quantity: 4, iv: 0.6}
                - {type: perp, asset: BTC, quantity: 3}
        """
        let stress = "  - {name: crash, spot: {BTC: -0.3}, vol: {BTC: 0.5}}\n"
        let reference = try loadScenario(scenario(positions: flat, stress: stress))
        let expected = try PortfolioRun(scenario: reference).run(settings: RunSettings(threads: 2)).book
        let expectedStress = StressTest.evaluate(reference)[0].bookLoss
        func close(_ x: Double, _ y: Double, _ what: String) { XCTAssertEqual(x, y, accuracy: 1e-12 * abs(y), what) }
        for dynamics in ["sticky-strike", "sticky-moneyness"] {
          // By moneyness and by absolute strike (`strikes`, USD: the same flat rows).
          for columns in ["moneyness: [0.5, 1, 2]", "strikes: [25000, 50000, 100000]"] {
            let smile = "    BTC: {dynamics: \(dynamics), grid: {expiry_days: [30, 365], \(columns), vols: [[0.6, 0.6, 0.6], [0.6, 0.6, 0.6]]}}\n"
            let smiled = try loadScenario(scenario(smile: smile, positions: flat.replacingOccurrences(of: ", iv: 0.6}", with: "}"), stress: stress))
            for position in smiled.portfolio.accounts[0].positions.prefix(3) {
                guard case .option(let contract) = position.instrument.pricing(in: PricingContext(spot: 50000, rate: 0, horizonYears: 0))[0] else {
                    return XCTFail("not an option")
                }
                XCTAssertEqual(contract.impliedVol, 0.6, accuracy: 1e-12, dynamics)
            }
            let summary = try PortfolioRun(scenario: smiled).run(settings: RunSettings(threads: 2)).book
            close(summary.mean, expected.mean, dynamics)
            close(summary.standardDeviation, expected.standardDeviation, dynamics)
            for (level, reference) in zip(summary.levels, expected.levels) {
                close(level.valueAtRisk, reference.valueAtRisk, dynamics)
                close(level.expectedShortfall, reference.expectedShortfall, dynamics)
            }
            close(StressTest.evaluate(smiled)[0].bookLoss, expectedStress, dynamics)
          }
        }
    }

    /// One short put of 60 days (between the grid's rows) under an instant spot move of −20 %: its iv
    /// now is √(w(k₀, T)/T) with w linear in T between the rows' hand-interpolated total variances at
    /// k₀ = ln(K/S) = ln 0.84 (between the nodes K/F = 0.8 and 1); sticky-strike keeps it,
    /// sticky-moneyness reads k₀ − ln(S'/S) = ln 1.05 (between 1 and 1.25) (`assertPutUnderSpotMove`);
    /// a node (K/F = 1.25 at 30 days) reads its quoted vol to 1e-14.
    func testGridSmileAgainstHandInterpolation() throws {
        let strike = 42000.0, days = 60.0, years = days / 365, k0 = log(strike / 50000)
        func variance(_ k: Double) -> Double {
            let lambda = (days - gridDays[0]) / (gridDays[1] - gridDays[0])
            return (1 - lambda) * gridTotalVariance(k, row: 0) + lambda * gridTotalVariance(k, row: 1)
        }
        try assertPutUnderSpotMove(smile: gridSmile, strike: strike, ivNow: (variance(k0) / years).squareRoot(),
                                   ivMoved: (variance(k0 - log(0.8)) / years).squareRoot())
        let loaded = try loadScenario(scenario(smile: gridSmile.replacingOccurrences(of: "DYNAMICS", with: "sticky-strike"),
                                               positions: "        - {type: perp, asset: BTC, quantity: 1}"))
        XCTAssertEqual(try XCTUnwrap(loaded.market.smile(of: "BTC")).impliedVol(logMoneyness: log(1.25), years: 30.0 / 365), 0.6, accuracy: 1e-14,
                       "a node reads its quote")
    }

    /// Arbitrageable and malformed grids are refused, naming the field: a vol spike at the money (the
    /// call price is not convex in K: butterfly arbitrage), a later row below an earlier one (calendar
    /// arbitrage), a wing steeper than Lee's bound, and the shapes; grids by strike likewise, and strikes
    /// not increasing or not positive, both moneyness and strikes, or neither.
    func testArbitrageableGridsAreRefused() {
        let position = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -1}"
        let svi = "svi: [{expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}], "
        let cases: [(grid: String, field: String, fragment: String)] = [
            ("expiry_days: [30], moneyness: [0.8, 0.9, 1, 1.1, 1.25], vols: [[0.5, 0.5, 0.65, 0.5, 0.5]]", "vols[0]", "butterfly arbitrage"),
            ("expiry_days: [30, 60], moneyness: [0.8, 1, 1.25], vols: [[0.7, 0.5, 0.6], [0.45, 0.3, 0.4]]", "vols[1]", "calendar arbitrage"),
            ("expiry_days: [365], moneyness: [0.9, 1], vols: [[3, 0.5]]", "vols[0]", "Lee"),
            ("expiry_days: [30, 60], moneyness: [0.8, 1, 1.25], vols: [[0.7, 0.5, 0.6]]", "vols", "one row of vols per expiry"),
            ("expiry_days: [30], moneyness: [0.8, 1, 1.25], vols: [[0.7, 0.5]]", "vols[0]", "one vol per moneyness point"),
            ("expiry_days: [30], moneyness: [0.8, 1, 1], vols: [[0.7, 0.5, 0.6]]", "moneyness[2]", "strictly increasing"),
            ("expiry_days: [30], moneyness: [1], vols: [[0.7]]", "moneyness", "at least two"),
            ("expiry_days: [60, 30], moneyness: [0.8, 1], vols: [[0.7, 0.5], [0.7, 0.5]]", "expiry_days[1]", "strictly increasing"),
            ("expiry_days: [30], moneyness: [0.8, 1], vols: [[0.7, 0]]", "vols[0][1]", "> 0"),
            // By strike (USD): the same checks on each row's own nodes, and exactly one of moneyness and strikes.
            ("expiry_days: [30], strikes: [40000, 50000, 50000], vols: [[0.7, 0.5, 0.6]]", "strikes[2]", "strictly increasing"),
            ("expiry_days: [30], strikes: [40000, 30000, 62500], vols: [[0.7, 0.5, 0.6]]", "strikes[1]", "strictly increasing"),
            ("expiry_days: [30], strikes: [0, 50000, 62500], vols: [[0.7, 0.5, 0.6]]", "strikes[0]", "> 0"),
            ("expiry_days: [30], strikes: [-40000, 50000, 62500], vols: [[0.7, 0.5, 0.6]]", "strikes[0]", "> 0"),
            ("expiry_days: [30], moneyness: [0.8, 1, 1.25], strikes: [40000, 50000, 62500], vols: [[0.7, 0.5, 0.6]]", "strikes", "not both"),
            ("expiry_days: [30], vols: [[0.7, 0.5, 0.6]]", "moneyness", "or give strikes"),
            ("expiry_days: [30], strikes: [40000], vols: [[0.7]]", "strikes", "at least two"),
            ("expiry_days: [30], strikes: [40000, 50000, 62500], vols: [[0.7, 0.5]]", "vols[0]", "one vol per strike"),
            ("expiry_days: [30], strikes: [40000, 45000, 50000, 55000, 62500], vols: [[0.5, 0.5, 0.65, 0.5, 0.5]]", "vols[0]", "butterfly arbitrage"),
            ("expiry_days: [30, 60], strikes: [40000, 50000, 62500], vols: [[0.7, 0.5, 0.6], [0.45, 0.3, 0.4]]", "vols[1]", "calendar arbitrage"),
        ]
        for c in cases {
            assertRejected(scenario(smile: "    BTC: {dynamics: sticky-strike, grid: {\(c.grid)}}\n", positions: position),
                           path: "market.smiles.BTC.grid.\(c.field)", mentioning: c.fragment)
        }
        assertRejected(scenario(smile: "    BTC: {dynamics: sticky-strike, \(svi)grid: {expiry_days: [30], moneyness: [0.8, 1], vols: [[0.7, 0.5]]}}\n", positions: position),
                       path: "market.smiles.BTC.grid", mentioning: "not both")
        assertRejected(scenario(smile: "    BTC: {dynamics: sticky-strike}\n", positions: position), path: "market.smiles.BTC.svi", mentioning: "or give a grid")
    }

    /// A grid by absolute strike whose strikes are Fⱼ·mᵢ is the moneyness grid: with one row at r = 5 %
    /// (Kᵢ = S·e^{rT}·mᵢ) and with two rows at r = 0 (Fⱼ = S for both), w(k, T) and iv(K, T) equal the
    /// moneyness grid's to 1e-12 on k ∈ [−1.5, 1.5] (nodes, between them, both wings) at expiries on,
    /// between and beyond the rows; loaded through `market.smiles`, an option reads the same iv.
    func testStrikeGridAtForwardTimesMoneynessIsTheMoneynessGrid() throws {
        let spot = 50000.0, moneyness = [0.8, 0.9, 1, 1.1, 1.25]
        let cases: [(rate: Double, days: [Double], vols: [[Double]])] = [
            (0.05, [45], [[0.7, 0.58, 0.5, 0.53, 0.6]]),
            (0, [30, 90], [[0.7, 0.58, 0.5, 0.53, 0.6], [0.66, 0.57, 0.52, 0.54, 0.58]]),
        ]
        for c in cases {
            let forward = spot * exp(c.rate * c.days[0] / 365)
            let strikes = moneyness.map { forward * $0 }
            let byMoneyness = VolGrid(expiryDays: c.days, moneyness: moneyness, vols: c.vols)
            let byStrike = VolGrid(expiryDays: c.days, strikes: strikes, vols: c.vols, spot: spot, rate: c.rate)
            for j in c.days.indices {
                for (a, b) in zip(byStrike.logMoneyness(row: j), byMoneyness.logMoneyness(row: j)) { XCTAssertEqual(a, b, accuracy: 1e-12) }
            }
            let smileM = VolSmile(asset: "BTC", dynamics: .stickyStrike, slices: [], grid: byMoneyness)
            let smileK = VolSmile(asset: "BTC", dynamics: .stickyStrike, slices: [], grid: byStrike)
            for days in [10.0, c.days[0], 60, 90, 200] {
                for k in stride(from: -1.5, through: 1.5, by: 0.01) {
                    let w = smileM.totalVariance(logMoneyness: k, years: days / 365)
                    XCTAssertEqual(smileK.totalVariance(logMoneyness: k, years: days / 365), w, accuracy: 1e-12 * w, "r \(c.rate) T \(days) k \(k)")
                }
                for strike in [30000.0, 41000, 50000, 52000, 61000, 90000] {
                    let iv = smileM.impliedVol(strike: strike, years: days / 365, spot: spot, rate: c.rate)
                    XCTAssertEqual(smileK.impliedVol(strike: strike, years: days / 365, spot: spot, rate: c.rate), iv, accuracy: 1e-12 * iv)
                }
            }
            // The same through the scenario: an option without iv reads the strike grid's smile.
            let rows = c.vols.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ")
            let grid = "expiry_days: [\(c.days.map { "\($0)" }.joined(separator: ", "))], strikes: [\(strikes.map { "\($0)" }.joined(separator: ", "))], vols: [\(rows)]"
            let text = scenario(smile: "    BTC: {dynamics: sticky-strike, grid: {\(grid)}}\n",
                                positions: "        - {type: option, asset: BTC, right: put, strike: 46000, expiry_days: 60, quantity: -1}")
                .replacingOccurrences(of: "rate: 0\n", with: "rate: \(c.rate)\n")
            let loaded = try loadScenario(text)
            XCTAssertEqual(loaded.market.rate, c.rate)
            guard case .option(let contract) = loaded.portfolio.accounts[0].positions[0].instrument.pricing(in: PricingContext(spot: spot, rate: c.rate, horizonYears: 0))[0] else {
                return XCTFail("not an option")
            }
            let iv = smileM.impliedVol(strike: 46000, years: 60.0 / 365, spot: spot, rate: c.rate)
            XCTAssertEqual(contract.impliedVol, iv, accuracy: 1e-12 * iv, "r \(c.rate)")
        }
    }

    /// A put between the nodes of a strike grid at r = 5 % (strikes 40,000, 50,000 and 62,500 on spot
    /// 50,000: row j's nodes are ln(Kᵢ/S) − r·Tⱼ, the moneyness grid's shifted by −r·Tⱼ): its iv is
    /// √(w/T) with w linear in T between the rows' hand-interpolated total variances at its
    /// k = ln(K/S) − r·T, each row read at k + r·Tⱼ on the hand interpolant of `gridTotalVariance`
    /// (nodes ln 0.8, 0, ln 1.25), to 1e-12; a strike node at its row's expiry reads its quote.
    func testStrikeGridPutAgainstHandInterpolation() throws {
        let rate = 0.05, spot = 50000.0, strike = 46000.0, days = 60.0, years = days / 365
        let smile = """
            BTC:
              dynamics: sticky-strike
              grid:
                expiry_days: [30, 90]
                strikes: [40000, 50000, 62500]
                vols: [[0.7, 0.5, 0.6], [0.66, 0.52, 0.58]]
        """
        let text = scenario(smile: smile, positions: "        - {type: option, asset: BTC, right: put, strike: \(strike), expiry_days: \(days), quantity: -1}")
            .replacingOccurrences(of: "rate: 0\n", with: "rate: \(rate)\n")
        let loaded = try loadScenario(text)
        let k = log(strike / spot) - rate * years
        let lambda = (days - gridDays[0]) / (gridDays[1] - gridDays[0])
        let w = (1 - lambda) * gridTotalVariance(k + rate * gridDays[0] / 365, row: 0) + lambda * gridTotalVariance(k + rate * gridDays[1] / 365, row: 1)
        let expected = (w / years).squareRoot()
        guard case .option(let contract) = loaded.portfolio.accounts[0].positions[0].instrument.pricing(in: PricingContext(spot: spot, rate: rate, horizonYears: 0))[0] else {
            return XCTFail("not an option")
        }
        XCTAssertEqual(contract.impliedVol, expected, accuracy: 1e-12)
        let surface = try XCTUnwrap(loaded.market.smile(of: "BTC"))
        XCTAssertEqual(surface.impliedVol(strike: 62500, years: 30.0 / 365, spot: spot, rate: rate), 0.6, accuracy: 1e-14, "a node reads its quote")
        XCTAssertEqual(surface.grid?.strikes, [40000, 50000, 62500])
        XCTAssertNil(surface.grid?.moneyness)
    }

    /// A grid by strike refused for butterfly arbitrage names the row, its line and the strike
    /// (the other bad strike grids: `testArbitrageableGridsAreRefused`).
    func testStrikeGridErrorNamesTheLineAndStrike() {
        let position = "        - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -1}"
        let text = scenario(smile: "    BTC:\n      dynamics: sticky-strike\n      grid:\n        expiry_days: [30]\n        strikes: [40000, 45000, 50000, 55000, 62500]\n        vols:\n          - [0.5, 0.5, 0.65, 0.5, 0.5]\n",
                            positions: position)
        XCTAssertThrowsError(try loadScenario(text)) { error in
            guard let error = error as? ScenarioError else { return XCTFail("\(error)") }
            XCTAssertTrue(error.message.contains("K = "), error.message)
            let line = text.components(separatedBy: "\n").firstIndex { $0.contains("- [0.5, 0.5, 0.65") }.map { $0 + 1 }
            XCTAssertEqual(error.line, line, "\(error)")
        }
    }
}
