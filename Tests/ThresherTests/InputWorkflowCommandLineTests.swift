import Foundation
import XCTest

/// Issue 33, items 4–8 end to end: a calibrated policy and a fitted market used as they are,
/// compressed inputs, warnings on implausible values, consistent options and help, and the
/// who-fails table of `stress --shock`.
final class InputWorkflowCommandLineTests: BinaryTestCase {
    /// A fresh folder, removed at the end of the test.
    func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "thresher-workflow-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    /// A JSON report without what differs between equal runs (timings, provenance, the echo of flags).
    func numbers(_ path: String) throws -> NSDictionary {
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        for key in ["elapsed_seconds", "paths_per_second", "thresher", "overrides", "threads"] { object.removeValue(forKey: key) }
        return object as NSDictionary
    }

    /// calibrate --policy-out → evaluate --policy gives the evaluation of the hand-spliced scenario,
    /// and so does `policy: {include: cal.yaml}`.
    func testCalibratedPolicyIsUsedAsItIs() throws {
        let folder = try temporaryFolder()
        let calibrated = try run(["calibrate", "Scenarios/default.yaml", "--paths", "20000", "--sections", "0", "--policy-out", folder + "/cal.yaml", "--quiet"])
        XCTAssertEqual(calibrated.status, 0, calibrated.stderr)
        let section = try String(contentsOfFile: folder + "/cal.yaml", encoding: .utf8)
        let text = try String(contentsOfFile: "Scenarios/default.yaml", encoding: .utf8)
        let before = String(text[..<text.range(of: "\npolicy:")!.lowerBound]), after = String(text[text.range(of: "\nstress:")!.lowerBound...])
        try (before + "\n" + section + after).write(toFile: folder + "/spliced.yaml", atomically: true, encoding: .utf8)
        try (before + "\npolicy: {include: cal.yaml}\n" + after).write(toFile: folder + "/included.yaml", atomically: true, encoding: .utf8)
        var reports: [NSDictionary] = []
        for (file, extra) in [("Scenarios/default.yaml", ["--policy", folder + "/cal.yaml"]), (folder + "/spliced.yaml", []), (folder + "/included.yaml", [])] {
            let json = folder + "/evaluate-\(reports.count).json"
            let evaluated = try run(["evaluate", file, "--paths", "20000", "--json", json, "--quiet"] + extra)
            XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
            reports.append(try numbers(json))
        }
        XCTAssertEqual(reports[0], reports[1])
        XCTAssertEqual(reports[0], reports[2])
        // The calibrated ladder is not the scenario's own: the evaluation is of the file given.
        let own = folder + "/own.json"
        XCTAssertEqual(try run(["evaluate", "Scenarios/default.yaml", "--paths", "20000", "--json", own, "--quiet"]).status, 0)
        XCTAssertNotEqual(try numbers(own)["tiers"] as? NSArray, reports[0]["tiers"] as? NSArray)

        // An error in the included file names it, its line and the field; exit 65.
        try section.replacingOccurrences(of: "liquidation_penalty: ", with: "liquidation_penalty: 7").write(toFile: folder + "/cal.yaml", atomically: true, encoding: .utf8)
        let line = section.components(separatedBy: "\n").firstIndex { $0.contains("liquidation_penalty") }! + 1
        let bad = try run(["validate", folder + "/included.yaml"])
        XCTAssertEqual(bad.status, 65)
        XCTAssertTrue(bad.stderr.contains("\(folder)/cal.yaml:\(line): policy.liquidation_penalty"), bad.stderr)
        let missing = try run(["evaluate", "Scenarios/default.yaml", "--policy", folder + "/none.yaml"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.contains("none.yaml") && missing.stderr.contains("--policy"), missing.stderr)
    }

    /// fit --out on a gzip-compressed history → run --market gives the run of the hand-spliced
    /// scenario, and so does `market: {include: fitted.yaml}`.
    func testFittedMarketFromACompressedHistoryIsUsedAsItIs() throws {
        let folder = try temporaryFolder()
        let history = folder + "/prices.csv.gz"
        XCTAssertTrue(FileManager.default.createFile(atPath: history, contents: gzipped(try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv")))))
        let fit = try run(["fit", history, "--column", "BTC=BTC:close", "--column", "ETH=ETH:close", "--out", folder + "/fitted.yaml", "--json", folder + "/fit.json"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        // The same fit as from the plain file.
        let plain = try run(["fit", "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv", "--column", "BTC=BTC:close", "--column", "ETH=ETH:close", "--out", folder + "/plain.yaml"])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertEqual(try String(contentsOfFile: folder + "/plain.yaml", encoding: .utf8).split(separator: "\n").dropFirst(),
                       try String(contentsOfFile: folder + "/fitted.yaml", encoding: .utf8).split(separator: "\n").dropFirst())
        let section = try String(contentsOfFile: folder + "/fitted.yaml", encoding: .utf8)
        let rest = """
            portfolio:
              accounts:
                - {id: a, collateral: {USD: 100000}, positions: [{type: perp, asset: BTC, quantity: 1}, {type: perp, asset: ETH, quantity: -10}]}
            risk: {confidence: [0.99]}
            """
        let head = "name: fitted\nsimulation: {paths: 20000, seed: 3, horizon_days: 1}\n"
        try (head + section + rest).write(toFile: folder + "/spliced.yaml", atomically: true, encoding: .utf8)
        try (head + "market: {include: fitted.yaml}\n" + rest).write(toFile: folder + "/included.yaml", atomically: true, encoding: .utf8)
        try (head + "market: {assets: [{id: BTC, spot: 1, vol: 0.1}, {id: ETH, spot: 1, vol: 0.1}], correlation: {uniform: 0}}\n" + rest)
            .write(toFile: folder + "/placeholder.yaml", atomically: true, encoding: .utf8)
        var reports: [NSDictionary] = []
        for (file, extra) in [(folder + "/placeholder.yaml", ["--market", folder + "/fitted.yaml"]), (folder + "/spliced.yaml", []), (folder + "/included.yaml", [])] {
            let json = folder + "/run-\(reports.count).json"
            let result = try run(["run", file, "--json", json, "--quiet"] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            reports.append(try numbers(json))
        }
        XCTAssertEqual(reports[0], reports[1])
        XCTAssertEqual(reports[0], reports[2])
        // backtest reads the compressed history too.
        let backtest = try run(["backtest", folder + "/spliced.yaml", "--history", history, "--column", "BTC=BTC:close", "--column", "ETH=ETH:close",
                                "--paths", "1000", "--window", "250", "--refit", "250", "--models", "gaussian", "--from", "2019-01-01", "--to", "2019-03-01", "--quiet"])
        XCTAssertEqual(backtest.status, 0, backtest.stderr)
    }

    /// vol 15 (meant 15 %), a ladder whose larger tier pays less and a penalty of 1 (meant 1 %) warn
    /// with file:line: field, and the scenario is still valid.
    func testImplausibleValuesWarnWithTheField() throws {
        let text = scenarioText(paths: 1000, assets: "    - {id: BTC, spot: 50000, vol: 15}") + """

            policy:
              ladder:
                BTC:
                  - {up_to: 100000, maintenance: 0.05}
                  - {up_to: 1000000, maintenance: 0.02}
              liquidation_penalty: 1
            """
        let lines = text.components(separatedBy: "\n")
        func line(_ fragment: String) -> Int { lines.firstIndex { $0.contains(fragment) }! + 1 }
        let scenario = temporaryFile(text)
        let result = try run(["validate", scenario])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: \(scenario):\(line("vol: 15")): market.assets[0].vol: 15 is 1500 % a year"), result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: \(scenario):\(line("maintenance: 0.02")): policy.ladder.BTC[1].maintenance: this tier (up to 1000000 USD) has a lower maintenance rate"), result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: \(scenario):\(line("liquidation_penalty")): policy.liquidation_penalty: a penalty of 100 %"), result.stderr)
        let plausible = try run(["validate", temporaryFile(scenarioText(paths: 1000))])
        XCTAssertFalse(plausible.stderr.contains("warning"), plausible.stderr)
    }

    /// sample --out .csv writes the asset ids and the same numbers as .npy; other extensions are refused.
    func testSampleWritesCSVWithAssetNames() throws {
        let folder = try temporaryFolder()
        let scenario = temporaryFile(scenarioText(paths: 1000, assets: "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 3000, vol: 0.9}",
                                                  correlation: "{uniform: 0.5}"))
        for out in ["s.csv", "s.npy"] {
            let result = try run(["sample", scenario, "--paths", "777", "--threads", "2", "--out", folder + "/" + out])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let lines = try String(contentsOfFile: folder + "/s.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "BTC,ETH")
        XCTAssertEqual(lines.count, 778)
        let csv = lines.dropFirst().flatMap { $0.split(separator: ",").map { Double($0)! } }
        let npy = try Data(contentsOf: URL(fileURLWithPath: folder + "/s.npy"))
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        let values = Data(npy.dropFirst(10 + headerLength)).withUnsafeBytes { raw in (0..<raw.count / 8).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self) } }
        XCTAssertEqual(csv, values)
        let refused = try run(["sample", scenario, "--out", folder + "/s.txt"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains(".npy or a .csv"), refused.stderr)
    }

    /// Options a command does not use are refused; a mistyped command is named; --paths reads as YAML does.
    func testConsistentOptions() throws {
        let history = "Tests/Fixtures/history/sp500.csv"
        for option in [["--shock", "SPX=-0.1"], ["--top", "5"], ["--all"]] {
            let result = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", history] + option)
            XCTAssertEqual(result.status, 64, option[0])
            XCTAssertTrue(result.stderr.contains("Unknown option '\(option[0])'"), result.stderr)
        }
        let typo = try run(["runn", "Scenarios/default.yaml"])
        XCTAssertEqual(typo.status, 64)
        XCTAssertTrue(typo.stderr.contains("unknown command 'runn'. Did you mean 'run'?"), typo.stderr)
        let negative = try run(["run", "Scenarios/default.yaml", "--paths", "-5"])
        XCTAssertEqual(negative.status, 64)
        XCTAssertTrue(negative.stderr.contains("--paths must be in 1 … 10,000,000,000, got -5"), negative.stderr)
        let fractional = try run(["run", "Scenarios/default.yaml", "--paths", "1.5e3"])
        XCTAssertEqual(fractional.status, 0, fractional.stderr)
        let broken = try run(["run", "Scenarios/default.yaml", "--paths", "1.5"])
        XCTAssertEqual(broken.status, 64)
        XCTAssertTrue(broken.stderr.contains("whole number"), broken.stderr)
        let scientific = try run(["run", "Scenarios/default.yaml", "--paths", "2e3", "--json", "-"])
        XCTAssertEqual(scientific.status, 0, scientific.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(scientific.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["paths"] as? Int, 2000)
    }

    /// Every subcommand's help has an example; Monte Carlo options come before cluster options.
    func testEveryHelpHasAnExample() throws {
        for command in ["validate", "sample", "run", "stress", "calibrate", "evaluate", "robustness", "merge", "fit", "backtest"] {
            let help = try run([command, "--help"])
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.stdout.contains("Example") && help.stdout.contains("thresher \(command) "), "\(command): \(help.stdout)")
        }
        for command in ["run", "calibrate", "evaluate", "robustness"] {
            let help = try run([command, "--help"]).stdout
            let monteCarlo = try XCTUnwrap(help.range(of: "MONTE CARLO:")), clusters = try XCTUnwrap(help.range(of: "CLUSTERS:"))
            XCTAssertLessThan(monteCarlo.lowerBound, clusters.lowerBound, command)
            XCTAssertLessThan(try XCTUnwrap(help.range(of: "--memory-limit")).lowerBound, clusters.lowerBound, command)
        }
    }

    /// stress --shock: the shock's who-fails table, with the exact losses (a perp loses q·S·move) and
    /// gains labelled as gains; the scenario's stresses follow from the shocked market.
    func testStressShockShowsWhoFails() throws {
        let accounts = "        - {type: perp, asset: BTC, quantity: 1}\n    - id: shorty\n      collateral: {USD: 100000}\n      positions:\n        - {type: perp, asset: BTC, quantity: -3}"
        let scenario = temporaryFile(scenarioText(paths: 1000, collateral: "{USD: 10000}", positions: accounts) + """

            policy:
              ladder:
                BTC:
                  - {up_to: 1000000000, maintenance: 0.05}
            stress:
              - {name: crash, spot: {BTC: -0.1}}
            """)
        let json = try run(["stress", scenario, "--shock", "BTC=-0.3", "--json", "-"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let stresses = try XCTUnwrap(object["stresses"] as? [[String: Any]])
        XCTAssertEqual(stresses.map { $0["name"] as? String }, ["--shock BTC=-0.3", "crash, after the shock"])
        // 1 BTC long and 3 short at 50,000, −30 %: +15,000 and −45,000.
        XCTAssertEqual(try XCTUnwrap(stresses[0]["book_loss"] as? Double), -30000, accuracy: 1e-6)
        let rows = try XCTUnwrap(stresses[0]["accounts"] as? [[String: Any]])
        XCTAssertEqual(rows.map { ($0["loss"] as? Double).map { $0.rounded() } }, [15000, -45000])
        XCTAssertEqual(rows.map { ($0["equity_after"] as? Double).map { $0.rounded() } }, [-5000, 145000])
        XCTAssertEqual(rows.map { $0["bankrupt"] as? Bool }, [true, false])
        XCTAssertEqual(rows.map { $0["liquidated"] as? Bool }, [true, false])
        // After the shock the crash (−10 % of 35,000) loses 3,500 on the long and gains 10,500 on the short.
        let after = try XCTUnwrap(stresses[1]["accounts"] as? [[String: Any]])
        XCTAssertEqual(after.map { ($0["loss"] as? Double).map { $0.rounded() } }, [3500, -10500])
        let table = try run(["stress", scenario, "--shock", "BTC=-0.3"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("Who fails under each stress"), table.stdout)
        XCTAssertTrue(table.stdout.contains("gain 45,000") && table.stdout.contains("gain 30,000"), table.stdout)
        XCTAssertTrue(table.stdout.contains("instant move: book gain 30000.00 USD"), table.stdout)
    }
}
