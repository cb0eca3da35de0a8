import ScenarioSpec
import XCTest

/// Every validation rule of the scenario format: each bad file must be rejected with the field
/// path named in the message.
final class ScenarioValidationTests: XCTestCase {
    let twoAssets = """
        - {id: BTC, spot: 95000, vol: 0.6}
        - {id: ETH, spot: 3400, vol: 0.75, dof: 3}
    """

    func testTheIssueExampleLoads() throws {
        let scenario = try Scenario.load(path: "Scenarios/examples/btc-eth-book.yaml")
        XCTAssertEqual(scenario.market.assets.map(\.id), ["BTC", "ETH"])
        XCTAssertEqual(scenario.market.tails, .studentT(dof: 4))
        XCTAssertEqual(scenario.portfolio.accounts[0].positions.count, 5)
        XCTAssertEqual(scenario.risk.confidence.map(\.label), ["0.99", "0.999"])
    }

    func testJSONScenarioLoads() throws {
        let json = """
        {"name": "j", "simulation": {"paths":1000,"seed":1,"horizon_days":1},
         "market": {"rate":0, "assets":[{"id":"BTC","spot":50000,"vol":0.8}], "tails":{"model":"gaussian"}},
         "portfolio": {"accounts":[{"id":"a","collateral":{"USD":1},"positions":[{"type":"perp","asset":"BTC","quantity":1}]}]},
         "risk": {"confidence":[0.975]}}
        """
        let scenario = try Scenario.load(path: temporaryFile(json, extension: "json"))
        XCTAssertEqual(scenario.risk.confidence.first?.label, "0.975")
    }

    func testMalformedYAMLNamesTheLine() {
        let path = temporaryFile("name: x\nsimulation: {paths: 10\nmarket: [\n")
        XCTAssertThrowsError(try Scenario.load(path: path)) { error in
            let e = error as? ScenarioError
            XCTAssertNotNil(e?.line, "\(error)")
            XCTAssertTrue(e?.message.contains("malformed") == true, "\(error)")
            XCTAssertTrue(e?.description.contains(path) == true)
        }
    }

    func testMissingFileIsAFileError() {
        XCTAssertThrowsError(try Scenario.load(path: "/nonexistent/x.yaml")) { XCTAssertTrue($0 is ScenarioFileError) }
    }

    func testUnknownFieldsSuggestTheRightName() {
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: 50000, volatility: 0.8}"),
                       path: "market.assets[0].volatility", mentioning: "vol")
        assertRejected(scenarioText().replacingOccurrences(of: "horizon_days", with: "horizon"),
                       path: "simulation.horizon", mentioning: "horizon_days")
        assertRejected(scenarioText() + "\nextra: 1", path: "extra", mentioning: "unknown field")
    }

    func testMissingFields() {
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: 50000}"), path: "market.assets[0].vol", mentioning: "missing")
        assertRejected(scenarioText(positions: "        - {type: perp, asset: BTC}"),
                       path: "portfolio.accounts[0].positions[0].quantity", mentioning: "missing")
        assertRejected(scenarioText().replacingOccurrences(of: "paths: 200000, ", with: ""), path: "simulation.paths", mentioning: "missing")
        assertRejected(scenarioText(assets: twoAssets), path: "market.correlation", mentioning: "missing")
        assertRejected(scenarioText(tails: "{model: student-t}"), path: "market.tails.dof", mentioning: "missing")
    }

    func testBadNumbers() {
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: -5, vol: 0.8}"), path: "market.assets[0].spot", mentioning: "≥ 1e-09")
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: .nan, vol: 0.8}"), path: "market.assets[0].spot", mentioning: "finite")
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: .inf, vol: 0.8}"), path: "market.assets[0].spot", mentioning: "finite")
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: 1, vol: 0}"), path: "market.assets[0].vol", mentioning: "> 0")
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: abc, vol: 0.8}"), path: "market.assets[0].spot", mentioning: "number")
        assertRejected(scenarioText(positions: "        - {type: option, asset: BTC, right: put, strike: 0, expiry_days: 30, quantity: 1, iv: 0.7}"),
                       path: "portfolio.accounts[0].positions[0].strike", mentioning: "> 0")
        assertRejected(scenarioText(paths: 0), path: "simulation.paths", mentioning: "> 0")
        assertRejected(scenarioText(paths: -10), path: "simulation.paths", mentioning: "> 0")
        assertRejected(scenarioText(tails: "{model: student-t, dof: 2}"), path: "market.tails.dof", mentioning: "> 2")
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: 1, vol: 0.8, dof: 1.5}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.assets[0].dof", mentioning: "> 2")
        assertRejected(scenarioText(confidence: "[0.99, 1.0]"), path: "risk.confidence[1]", mentioning: "(0, 1)")
        assertRejected(scenarioText(confidence: "[0]"), path: "risk.confidence[0]", mentioning: "(0, 1)")
    }

    func testCorrelationMatrixRules() {
        let wrongSize = "{matrix: [[1, 0.5, 0], [0.5, 1, 0], [0, 0, 1]]}"
        assertRejected(scenarioText(assets: twoAssets, correlation: wrongSize, tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.matrix", mentioning: "2×2")
        assertRejected(scenarioText(assets: twoAssets, correlation: "{matrix: [[1, 0.5], [0.4, 1]]}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.matrix[0][1]", mentioning: "symmetric")
        assertRejected(scenarioText(assets: twoAssets, correlation: "{matrix: [[1, 0.5], [0.5, 0.9]]}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.matrix[1][1]", mentioning: "diagonal")
        assertRejected(scenarioText(assets: twoAssets, correlation: "{matrix: [[1, 1.5], [1.5, 1]]}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.matrix[0][1]", mentioning: "[−1, 1]")
        assertRejected(scenarioText(assets: twoAssets, correlation: "{uniform: 1.2}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.uniform")
        assertRejected(scenarioText(assets: twoAssets, correlation: "{matrix: [[1, 0.5], [0.5, 1]], repair: maybe}", tails: "{model: t-copula, dof: 5}"),
                       path: "market.correlation.repair", mentioning: "nearest")
    }

    func testNonPositiveDefiniteIsRejectedUnlessRepairIsAsked() throws {
        let assets = """
            - {id: A, spot: 1, vol: 0.5}
            - {id: B, spot: 1, vol: 0.5}
            - {id: C, spot: 1, vol: 0.5}
        """
        let bad = "[[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]"
        assertRejected(scenarioText(assets: assets, correlation: "{matrix: \(bad)}", positions: "        - {type: perp, asset: A, quantity: 1}"),
                       path: "market.correlation.matrix", mentioning: "3×3 minor")
        let repaired = try loadScenario(scenarioText(assets: assets, correlation: "{matrix: \(bad), repair: nearest}",
                                                     positions: "        - {type: perp, asset: A, quantity: 1}"))
        XCTAssertGreaterThan(repaired.market.correlationRepairChange ?? 0, 0.1)
        XCTAssertEqual(repaired.market.correlation[0][0], 1, accuracy: 1e-12)
    }

    func testDuplicateAndUnknownIdentifiers() {
        assertRejected(scenarioText(assets: "    - {id: BTC, spot: 1, vol: 0.5}\n    - {id: BTC, spot: 2, vol: 0.5}", correlation: "{uniform: 0.5}"),
                       path: "market.assets[1].id", mentioning: "duplicate")
        let twoAccounts = scenarioText() + "\n" // second account with the same id
        assertRejected(twoAccounts.replacingOccurrences(of: "risk:", with: "    - {id: acct}\nrisk:"),
                       path: "portfolio.accounts[1].id", mentioning: "duplicate")
        assertRejected(scenarioText(positions: "        - {type: perp, asset: SOL, quantity: 1}"),
                       path: "portfolio.accounts[0].positions[0].asset", mentioning: "SOL")
        assertRejected(scenarioText(collateral: "{USD: 1, SOL: 3}"), path: "portfolio.accounts[0].collateral.SOL", mentioning: "SOL")
        assertRejected(scenarioText(positions: "        - {type: swap, asset: BTC, quantity: 1}"),
                       path: "portfolio.accounts[0].positions[0].type", mentioning: "swap")
        assertRejected(scenarioText(positions: "        - {type: option, asset: BTC, right: straddle, strike: 1, expiry_days: 30, quantity: 1, iv: 0.7}"),
                       path: "portfolio.accounts[0].positions[0].right", mentioning: "straddle")
        assertRejected(scenarioText(positions: "        - {type: spot, asset: BTC, quantity: 1, strike: 5}"),
                       path: "portfolio.accounts[0].positions[0].strike", mentioning: "unknown field")
    }

    func testWrongShapes() {
        assertRejected(scenarioText().replacingOccurrences(of: "risk: {confidence: [0.99, 0.999]}", with: "risk: {confidence: 0.99}"),
                       path: "risk.confidence", mentioning: "list")
        assertRejected("name: x\nsimulation: 5\n", path: "simulation", mentioning: "mapping")
    }
}
