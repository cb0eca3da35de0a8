import Calibration
import Distributions
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import XCTest

/// `policy.portfolio_margin` calibration beyond the spot range (issue 34): the vol-shift scale against
/// closed-form Black–Scholes, the sensitivity of the calibrated range against closed-form quantiles,
/// groups of assets (one range for the group, round trip of `--policy-out`) and their input errors.
final class PortfolioMarginCalibrationTests: XCTestCase {
    let twoAssets = "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 3000, vol: 1.1}\n    - {id: SOL, spot: 150, vol: 1.3}"

    func calibration(p: Double = 0.01, depth: String = "{BTC: 50000000}") -> String { portfolioMarginCalibration(p: p, depth: depth) }
    func policy(_ margin: String) -> String { portfolioMarginPolicy(margin, ladder: "'*'") }
    func call(spot: Double, strike: Double, years: Double, vol: Double) -> Double { handBlackScholes(call: true, spot: spot, strike: strike, years: years, vol: vol) }

    /// A short ATM call (q = −10, 30 days, iv 0.6, no linear position, no minimums, no extended moves,
    /// dte_power 0) under the array ±R at vol shifts (up u·s, down d·s): its worst point is spot +R on
    /// the up row, so IM(R, s) = |q|·(C(S(1 + R), iv(1 + u·s)) − C(S, iv)), in closed form here. The
    /// calibrated range R* at s = 1 and the calibrated scale s* at the policy's range R_p both solve
    /// f·IM = the same VaR: so f·IM(R_p, s*) = f·IM(R*, 1) to the bisections' tolerance, and
    /// f·IM(R_p, s* − 10⁻⁵) is below it. A wide policy range covers alone (s* = 0), a perp-only book
    /// has "no options"; the JSON and CSV carry the scale and the sensitivity table.
    func testVolShiftScaleAgainstClosedFormBlackScholes() throws {
        let q = -10.0, spot = 50_000.0, strike = 50_000.0, days = 30.0, iv = 0.6, up = 0.3, down = 0.2, f = 0.5, policyRange = 0.02
        func text(range: Double, positions: String) -> String {
            scenarioText(paths: 40_960, positions: positions) + calibration()
                + policy("{spot_range: \(range), spot_steps: 9, vol_shift: {up: \(up), down: \(down)}, maintenance_fraction: \(f)}")
        }
        let option = "        - {type: option, asset: BTC, right: call, strike: \(strike), expiry_days: \(days), quantity: \(q), iv: \(iv)}"
        let scenario = try loadScenario(text(range: policyRange, positions: option))
        let results = try PortfolioMarginStudy(scenario: scenario).run(settings: RunSettings(threads: 2), ranges: [0..<40_960] + Sectioning.ranges(paths: 40_960, sections: 4)!)
        let range = results[0].ranges[0]
        func initial(range: Double, scale: Double) -> Double {
            -q * (call(spot: spot * (1 + range), strike: strike, years: days / 365, vol: iv * (1 + up * scale)) - call(spot: spot, strike: strike, years: days / 365, vol: iv))
        }
        XCTAssertTrue(range.reached)
        XCTAssertGreaterThan(range.calibrated, policyRange, "the policy's range alone must fall short for the test to mean something")
        let valueAtRisk = f * initial(range: range.calibrated, scale: 1)
        guard case .reached(let scale)? = range.volShiftScale else { return XCTFail("scale \(String(describing: range.volShiftScale))") }
        XCTAssertGreaterThan(scale, 1)
        XCTAssertEqual(f * initial(range: policyRange, scale: scale), valueAtRisk, accuracy: 1e-6 * valueAtRisk)
        XCTAssertLessThan(f * initial(range: policyRange, scale: scale - 1e-5), valueAtRisk)
        // The engine's charge at s* is the closed form's.
        XCTAssertEqual(RiskArray(spec: scenario.policy!.portfolioMargin!, scenario: scenario).charge(account: 0, asset: 0, range: policyRange, volScale: scale).initial,
                       initial(range: policyRange, scale: scale), accuracy: 1e-9 * valueAtRisk)
        // The sensitivity: R* at scale 2 is below R* at 1, which is below R* at 0.5 and 0; at p/2 above, at 2p below.
        let sensitivity = try XCTUnwrap(range.sensitivity)
        XCTAssertEqual(sensitivity.volScales.map(\.value), [0, 0.5, 2])
        let atScales = sensitivity.volScales.map { $0.calibrated! }
        XCTAssertGreaterThan(atScales[0], atScales[1])
        XCTAssertGreaterThan(atScales[1], range.calibrated)
        XCTAssertGreaterThan(range.calibrated, atScales[2])
        XCTAssertGreaterThan(sensitivity.targets[0].calibrated!, range.calibrated)
        XCTAssertLessThan(sensitivity.targets[1].calibrated!, range.calibrated)

        let report = PortfolioMarginReport(result: results[0], sections: Array(results.dropFirst()))
        let json = try JSONSerialization.jsonObject(with: Data(report.json.serialized().utf8)) as! [String: Any]
        let row = (json["ranges"] as! [[String: Any]])[0]
        XCTAssertEqual(row["calibrated_vol_shift_scale"] as? Double ?? .nan, scale, accuracy: 1e-9 * scale)
        XCTAssertEqual(row["vol_shift_scale_status"] as? String, "reached")
        XCTAssertEqual((row["vol_shift_scale_interval"] as? [Double])?.count, 2)
        XCTAssertEqual(((row["sensitivity"] as? [String: Any])?["vol_shift_scales"] as? [Any])?.count, 3)
        let tables = report.reportSections.flatMap(\.blocks).compactMap { block -> ReportTable? in if case .table(let t) = block { return t }; return nil }
        XCTAssertTrue(tables.contains { $0.csvName == "portfolio_margin_sensitivity.csv" })
        XCTAssertTrue(tables.first { $0.csvName == "portfolio_margin_ranges.csv" }!.columns.contains { $0.csvName == "calibrated_vol_shift_scale" })
        // --policy-out: the shifts as given, the scale as their comment.
        let array = report.calibratedArray(scenario.policy!.portfolioMargin!, assets: ["BTC"])
        XCTAssertEqual(array.spec.volShifts, scenario.policy!.portfolioMargin!.volShifts)
        XCTAssertTrue(array.volShiftNotes[0]!.hasPrefix("calibrated scale "), array.volShiftNotes[0]!)

        // A range wide enough alone: s* = 0. A perp alone: no options.
        let wide = try loadScenario(text(range: 0.3, positions: option))
        XCTAssertEqual(try PortfolioMarginStudy(scenario: wide).run(settings: RunSettings(threads: 2), ranges: [0..<40_960])[0].ranges[0].volShiftScale, .reached(0))
        let perp = try loadScenario(text(range: policyRange, positions: "        - {type: perp, asset: BTC, quantity: 10}"))
        XCTAssertEqual(try PortfolioMarginStudy(scenario: perp).run(settings: RunSettings(threads: 2), ranges: [0..<40_960])[0].ranges[0].volShiftScale, .noOptions)
    }

    /// Two accounts on BTC: a short ATM call alone (its shortfall at the policy's range closes as the
    /// vol shifts grow) and a long perp alone (its shortfall does not move with the shifts). The perp's
    /// holder is left out of s* and counted apart: s* is the call's own, as calibrated with the call's
    /// account alone on the same paths, and one holder is not coverable by the shifts (in the JSON
    /// and the CSV too); the call alone has none.
    func testHolderNoVolShiftCoversIsCountedApartFromTheScale() throws {
        let option = "        - {type: option, asset: BTC, right: call, strike: 50000, expiry_days: 30, quantity: -10, iv: 0.6}"
        let perpAccount = "\n    - id: perp\n      collateral: {USD: 1000000}\n      positions:\n        - {type: perp, asset: BTC, quantity: 10}"
        func range(_ positions: String) throws -> (PortfolioMarginResult.AssetRange, PortfolioMarginReport) {
            let text = scenarioText(paths: 40_960, positions: positions) + calibration()
                + policy("{spot_range: 0.02, spot_steps: 9, vol_shift: {up: 0.3, down: 0.2}, maintenance_fraction: 0.5}")
            let result = try PortfolioMarginStudy(scenario: loadScenario(text)).run(settings: RunSettings(threads: 2), ranges: [0..<40_960])[0]
            return (result.ranges[0], PortfolioMarginReport(result: result))
        }
        let (alone, _) = try range(option)
        let (both, report) = try range(option + perpAccount)
        guard case .reached(let scale)? = alone.volShiftScale else { return XCTFail("scale \(String(describing: alone.volShiftScale))") }
        XCTAssertGreaterThan(scale, 0, "the call's account must need the shifts for the test to mean something")
        XCTAssertEqual(alone.volShiftUncoverable, 0)
        XCTAssertEqual(both.accounts, 2)
        XCTAssertLessThan(both.coveredByPolicy, 1, "the perp's account must be short at the policy's range")
        XCTAssertEqual(both.volShiftScale, .reached(scale))
        XCTAssertEqual(both.volShiftUncoverable, 1)

        let json = try JSONSerialization.jsonObject(with: Data(report.json.serialized().utf8)) as! [String: Any]
        let row = (json["ranges"] as! [[String: Any]])[0]
        XCTAssertEqual(row["vol_shift_uncoverable"] as? Int, 1)
        XCTAssertEqual(row["vol_shift_scale_status"] as? String, "reached")
        let tables = report.reportSections.flatMap(\.blocks).compactMap { block -> ReportTable? in if case .table(let t) = block { return t }; return nil }
        let ranges = try XCTUnwrap(tables.first { $0.csvName == "portfolio_margin_ranges.csv" })
        let column = try XCTUnwrap(ranges.columns.firstIndex { $0.csvName == "vol_shift_uncoverable" })
        XCTAssertEqual(ranges.rows[0][column].csv, "1")
    }

    /// One long perp of q coins under gaussian shocks: R*(p') = (1 − e^{s·Φ⁻¹(p')} + I)/f at each
    /// target p' (s = σ√h_liq, I the impact), so R*(p/2) > R*(p) > R*(2p); each matches its closed form
    /// within 4 standard errors of the order statistic (se(R*) = s·e^{s·z}·√(p'(1 − p')/N)/(f·φ(z)),
    /// z = Φ⁻¹(p')). The vol shifts do not move a perp's range: R* at every scale is R*.
    func testSensitivityOfTheRangeOfALongPerpAgainstTheClosedForms() throws {
        let p = 0.01, f = 0.5, q = 10.0, spot = 50_000.0, vol = 0.8, paths = 200_000
        let text = scenarioText(paths: paths, assets: "    - {id: BTC, spot: \(spot), vol: \(vol)}", positions: "        - {type: perp, asset: BTC, quantity: \(q)}")
            + calibration(p: p) + policy("{spot_range: 0.1, vol_shift: {up: 0.3, down: 0.2}, maintenance_fraction: \(f)}")
        let scenario = try loadScenario(text)
        let notional = q * spot
        let s = vol * (4.0 / (24 * 365) * (1 + notional / 50_000_000)).squareRoot()
        let impact = 0.5 * vol * (1.0 / 365).squareRoot() * (notional / 50_000_000).squareRoot()
        let range = try PortfolioMarginStudy(scenario: scenario).run(settings: RunSettings(threads: 2), ranges: [0..<paths])[0].ranges[0]
        let sensitivity = try XCTUnwrap(range.sensitivity)
        XCTAssertEqual(sensitivity.targets.map(\.value), [p / 2, 2 * p])
        let estimates = [sensitivity.targets[0].calibrated!, range.calibrated, sensitivity.targets[1].calibrated!]
        for (target, estimate) in zip([p / 2, p, 2 * p], estimates) {
            let z = StandardNormal.quantile(target)
            let closedForm = (1 - exp(s * z) + impact) / f
            let se = s * exp(s * z) * (target * (1 - target) / Double(paths)).squareRoot() / (f * StandardNormal.density(z))
            XCTAssertEqual(estimate, closedForm, accuracy: 4 * se, "p' = \(target)")
        }
        XCTAssertGreaterThan(estimates[0], estimates[1])
        XCTAssertGreaterThan(estimates[1], estimates[2])
        XCTAssertEqual(sensitivity.volScales.map { $0.calibrated! }, [range.calibrated, range.calibrated, range.calibrated])
        XCTAssertEqual(range.volShiftScale, .noOptions)
    }

    /// Two assets in one group (perps on BTC and ETH, their own depths) calibrate to one range, the
    /// larger of the two ranges each calibrates to alone on the same paths; the table names the group
    /// with its members; `--policy-out` writes the group's range under the group's key and the file
    /// loads back as the same array; per-asset and per-group keys resolve asset over group over "*".
    func testGroupCalibratesToTheLargestOfItsMembersAndRoundTrips() throws {
        let positions = "        - {type: perp, asset: BTC, quantity: 10}\n        - {type: perp, asset: ETH, quantity: -100}\n        - {type: perp, asset: SOL, quantity: 1000}"
        func text(_ margin: String) -> String {
            scenarioText(paths: 40_960, assets: twoAssets, correlation: "{uniform: 0.5}", positions: positions)
                + calibration(depth: "{BTC: 50000000, ETH: 20000000, SOL: 5000000}") + policy(margin)
        }
        let settings = RunSettings(threads: 2), ranges = [0..<40_960] + Sectioning.ranges(paths: 40_960, sections: 4)!
        let alone = try PortfolioMarginStudy(scenario: loadScenario(text("{spot_range: 0.05, maintenance_fraction: 0.5}"))).run(settings: settings, ranges: ranges)
        let grouped = try loadScenario(text("{groups: {majors: [BTC, ETH]}, spot_range: {majors: 0.05, '*': 0.05}, maintenance_fraction: 0.5}"))
        let together = try PortfolioMarginStudy(scenario: grouped).run(settings: settings, ranges: ranges)
        XCTAssertEqual(alone[0].ranges.map(\.asset), ["BTC", "ETH", "SOL"])
        XCTAssertEqual(together[0].ranges.map(\.asset), ["majors", "SOL"])
        XCTAssertEqual(together[0].ranges[0].members, ["BTC", "ETH"])
        XCTAssertNotEqual(alone[0].ranges[0].calibrated, alone[0].ranges[1].calibrated, "the members must differ for the max to mean something")
        for (a, t) in zip(alone, together) {
            XCTAssertEqual(t.ranges[0].calibrated, max(a.ranges[0].calibrated, a.ranges[1].calibrated))
            XCTAssertEqual(t.ranges[0].accounts, 2)
            XCTAssertEqual(t.ranges[1].calibrated, a.ranges[2].calibrated)
        }

        let report = PortfolioMarginReport(result: together[0], sections: Array(together.dropFirst()))
        let spec = grouped.policy!.portfolioMargin!
        let array = report.calibratedArray(spec, assets: ["BTC", "ETH", "SOL"])
        XCTAssertEqual(array.spec.spotRange[0], together[0].ranges[0].calibrated)
        XCTAssertEqual(array.spec.spotRange[1], together[0].ranges[0].calibrated)
        var written = grouped.policy!
        written.portfolioMargin = array.spec
        let yaml = written.yaml(assets: ["BTC", "ETH", "SOL"], comment: "test", notes: PolicyNotes(spotRanges: array.notes, volShifts: array.volShiftNotes))
        XCTAssertTrue(yaml.contains("      majors: \(together[0].ranges[0].calibrated)  # calibrated at p = 0.01"), yaml)
        XCTAssertTrue(yaml.contains("    groups:\n      majors: [BTC, ETH]"), yaml)
        let base = scenarioText(paths: 1000, assets: twoAssets, correlation: "{uniform: 0.5}", positions: positions)
            + calibration(depth: "{BTC: 50000000, ETH: 20000000, SOL: 5000000}")
        XCTAssertEqual(try loadScenario(base + "\n" + yaml).policy!.portfolioMargin, array.spec)

        // Precedence and the per-key vol shifts; a member's own key survives the round trip.
        let mixed = try loadScenario(base + policy("{groups: {majors: [BTC, ETH]}, spot_range: {majors: 0.1, ETH: 0.12, '*': 0.2}, vol_shift: {majors: {up: 0.3}, ETH: {up: 0.4, down: 0.1}}}")).policy!
        let margin = mixed.portfolioMargin!
        XCTAssertEqual(margin.spotRange, [0.1, 0.12, 0.2])
        XCTAssertEqual(margin.volShifts, [.init(up: 0.3), .init(up: 0.4, down: 0.1), .init()])
        XCTAssertEqual(try loadScenario(base + "\n" + mixed.yaml(assets: ["BTC", "ETH", "SOL"], comment: nil)).policy!.portfolioMargin, margin)
    }

    /// Each bad group or key is refused with its field path (and a line).
    func testBadGroupsAreRejectedNamingTheField() throws {
        let base = scenarioText(paths: 1000, assets: twoAssets, correlation: "{uniform: 0.5}") + calibration()
        let cases: [(margin: String, path: String, fragment: String)] = [
            ("{groups: {majors: [BTC, XRP]}, spot_range: 0.1}", "groups.majors[1]", "unknown asset 'XRP'"),
            ("{groups: {majors: [BTC, ETH], alts: [SOL, BTC]}, spot_range: 0.1}", "groups.alts[1]", "already in group 'majors'"),
            ("{groups: {ETH: [BTC]}, spot_range: 0.1}", "groups.ETH", "named like an asset"),
            ("{groups: {'*': [BTC]}, spot_range: 0.1}", "groups.*", "named like an asset or '*'"),
            ("{groups: {majors: []}, spot_range: 0.1}", "groups.majors", "empty group"),
            ("{groups: {majors: [BTC]}, spot_range: {minors: 0.1, '*': 0.1}}", "spot_range.minors", "unknown asset or group"),
            ("{spot_range: 0.1, vol_shift: {majors: {up: 0.1}}}", "vol_shift.majors", "unknown asset or group"),
            ("{groups: {majors: [BTC]}, spot_range: 0.1, vol_shift: {majors: {down: 1.5}}}", "vol_shift.majors.down", "below 1"),
        ]
        for c in cases { assertRejected(base + policy(c.margin), path: "policy.portfolio_margin.\(c.path)", mentioning: c.fragment) }
        do {
            _ = try loadScenario(base + policy("{groups: {majors: [BTC, XRP]}, spot_range: 0.1}"))
            XCTFail("accepted an unknown asset in a group")
        } catch let error as ScenarioError {
            XCTAssertNotNil(error.line, "\(error)")
        }
    }
}
