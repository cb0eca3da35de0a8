import Distributions
import Engine
import Foundation
import MonteCarlo
import Revaluation
import ScenarioSpec
import Shocks
import XCTest

/// `market.smiles` (issue 34 item 4): a flat smile against today's flat iv (bit for bit), one
/// option's P&L under sticky-strike and sticky-moneyness against closed forms, the arbitrage checks,
/// input errors with their fields, and a stress's skew and term twists against a hand computation.
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

    /// A one-asset scenario (BTC at 50,000, rate 0) with an optional smile and stresses.
    func scenario(smile: String = "", positions: String, stress: String = "", paths: Int = 20_000, volShocks: Bool = true) -> String {
        """
        name: smile
        simulation: {paths: \(paths), seed: 5, horizon_days: 1}
        market:
          rate: 0
          assets:
            - {id: BTC, spot: 50000, vol: 0.8}
          tails: {model: student-t, dof: 4}
        \(volShocks ? "  vol_shocks: {vol_of_vol: 1.0, spot_correlation: -0.5}" : "")
        \(smile.isEmpty ? "" : "  smiles:\n" + smile)
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
    /// √(w(k₀ − ln(S'/S), T)/T). The loss −q·(BS(S', iv', T) − BS(S, iv, T)) equals the closed form
    /// to 1e-9 relative (the engine's Φ is accurate to 2e-15·(S' + K)).
    func testStickyStrikeAndStickyMoneynessAgainstClosedForms() throws {
        let strike = 45000.0, q = -10.0, days = 60.0, years = days / 365, spot = 50000.0, moved = 40000.0
        let k0 = log(strike / spot), ivNow = (skewedTotalVariance(k0, days: days) / years).squareRoot()
        let ivMoved = (skewedTotalVariance(k0 - log(moved / spot), days: days) / years).squareRoot()
        XCTAssertGreaterThan(abs(ivMoved - ivNow), 0.05 * ivNow, "the test should move the iv noticeably")
        let valueNow = blackScholes(call: false, spot: spot, strike: strike, years: years, vol: ivNow)
        let position = "        - {type: option, asset: BTC, right: put, strike: \(strike), expiry_days: \(days), quantity: \(q)}"
        let stress = "  - {name: down, spot: {BTC: -0.2}, horizon_days: 0}\n"
        for (dynamics, iv) in [("sticky-strike", ivNow), ("sticky-moneyness", ivMoved)] {
            let loaded = try loadScenario(scenario(smile: skewedSmile.replacingOccurrences(of: "DYNAMICS", with: dynamics), positions: position, stress: stress))
            guard case .option(let contract) = loaded.portfolio.accounts[0].positions[0].instrument.pricing(in: PricingContext(spot: spot, rate: 0, horizonYears: 0))[0] else {
                return XCTFail("not an option")
            }
            XCTAssertEqual(contract.impliedVol, ivNow, accuracy: 1e-14)
            let exact = -q * (blackScholes(call: false, spot: moved, strike: strike, years: years, vol: iv) - valueNow)
            let loss = StressTest.evaluate(loaded)[0].bookLoss
            XCTAssertEqual(loss, exact, accuracy: 1e-9 * abs(exact), dynamics)
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
}
