import Foundation
import XCTest

/// What a new user meets first: every scenario shipped under Scenarios/ validates without a warning
/// and runs at a few paths; the examples run the commands they are shipped for
/// (Scenarios/examples/README.md); a generated input that is missing names its generator.
final class ShippedScenarioTests: BinaryTestCase {
    /// The scenario files under Scenarios/ (the stress libraries are not scenarios).
    func shippedScenarios() throws -> [String] {
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: "Scenarios")).compactMap { $0 as? String }
        return files.filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("stress/") }.map { "Scenarios/" + $0 }.sorted()
    }

    /// Whether the scenario reads a CSV book that is generated, not shipped, and absent here.
    func needsGeneratedInput(_ file: String) throws -> Bool {
        try String(contentsOfFile: file, encoding: .utf8).contains("generated_by") && !FileManager.default.fileExists(atPath: "Scenarios/bench/w4-positions.csv")
    }

    func testEveryShippedScenarioValidatesAndRunsWithoutWarnings() throws {
        let files = try shippedScenarios()
        XCTAssertTrue(files.contains("Scenarios/examples/perp-venue.yaml"), "\(files)")
        for file in files {
            if try needsGeneratedInput(file) {
                let result = try run(["validate", file])
                XCTAssertEqual(result.status, 65, "\(file): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("generated, not shipped; run python3 Benchmarks/generate_workloads.py"), "\(file): \(result.stderr)")
                continue
            }
            let valid = try run(["validate", file])
            XCTAssertEqual(valid.status, 0, "\(file): \(valid.stderr)")
            XCTAssertFalse(valid.stderr.contains("warning"), "\(file): \(valid.stderr)")
            let ran = try run(["run", file, "--paths", "2000", "--quiet"])
            XCTAssertEqual(ran.status, 0, "\(file): \(ran.stderr)")
            XCTAssertFalse(ran.stderr.contains("warning"), "\(file): \(ran.stderr)")
        }
    }

    /// The venue example runs every Monte Carlo command and the cascade stress, at a few paths,
    /// without a warning.
    func testTheVenueExampleRunsEveryCommand() throws {
        let file = "Scenarios/examples/perp-venue.yaml"
        for arguments in [["calibrate", file, "--paths", "20480", "--sections", "0"], ["evaluate", file, "--paths", "20000"],
                          ["robustness", file, "--paths", "10240"], ["stress", file, "--cascade"], ["stress", file]] {
            let result = try run(arguments + ["--quiet"])
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("warning"), "\(arguments): \(result.stderr)")
        }
    }

    /// Every Makefile build names its commit: under `make test` (THRESHER_EXPECT_COMMIT), the
    /// thresher beside the tests says that commit, not "unknown".
    func testTheBuildNamesItsCommit() throws {
        guard let commit = ProcessInfo.processInfo.environment["THRESHER_EXPECT_COMMIT"] else { throw XCTSkip("run by make test") }
        let version = try run(["--version"])
        XCTAssertTrue(version.stdout.contains("(commit \(commit),"), version.stdout)
    }

    /// The fit and backtest examples of Scenarios/examples/README.md on the shipped Bitstamp history:
    /// the backtest names the history's 13-day gap, and writes its counts as integers.
    func testTheFitAndBacktestExamplesRun() throws {
        let history = "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"
        let folder = NSTemporaryDirectory() + "thresher-examples-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fit = try run(["fit", history, "--column", "BTC=BTC:close", "--column", "ETH=ETH:close", "--periods-per-year", "365", "--out", "\(folder)/market.yaml"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/market.yaml"))
        let backtest = try run(["backtest", "Scenarios/backtest/bitstamp-majors.yaml", "--history", history, "--column", "BTC=BTC:close",
                                "--column", "ETH=ETH:close", "--column", "LTC=LTC:close", "--models", "gaussian", "--paths", "2000",
                                "--from", "2019-01-01", "--to", "2019-06-30", "--csv", folder, "--quiet"])
        XCTAssertEqual(backtest.status, 0, backtest.stderr)
        XCTAssertTrue(backtest.stderr.contains("warning: \(history): 1 gap of more than 4 days between rows"), backtest.stderr)
        XCTAssertTrue(backtest.stderr.contains("2019-03-19 → 2019-04-01 (13 days)"), backtest.stderr)
        let table = try String(contentsOfFile: "\(folder)/backtest.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = try XCTUnwrap(table.first)
        for column in ["days", "exceptions"] {
            let c = try XCTUnwrap(header.firstIndex(of: Substring(column)))
            for row in table.dropFirst() { XCTAssertNotNil(Int(row[c]), "backtest.csv \(column): '\(row[c])' is not an integer") }
        }
    }
}
