import Engine
import Foundation
import History
import MonteCarlo
import Shocks
import XCTest

/// `thresher fit` against the Python `arch` package's estimates (Tests/Fixtures/history), and bad
/// price files refused with file, line and column.
final class HistoryTests: XCTestCase {
    struct Reference: Decodable {
        struct Fit: Decodable {
            let id: String, n: Int, mu: Double, omega: Double, alpha: Double, beta: Double, nu: Double, loglik: Double
            let std_err: [String: Double]
            let forecast_variance: Double
        }
        let fits: [Fit]
    }

    func reference() throws -> [String: Reference.Fit] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "Tests/Fixtures/history/arch-reference.json"))
        return Dictionary(uniqueKeysWithValues: try JSONDecoder().decode(Reference.self, from: data).fits.map { ($0.id, $0) })
    }

    func assertMatchesArch(_ fit: GARCHFit, _ arch: Reference.Fit, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(fit.n, arch.n, file: file, line: line)
        for (name, ours, theirs) in [("mu", fit.mu, arch.mu), ("omega", fit.omega, arch.omega), ("alpha", fit.alpha, arch.alpha),
                                     ("beta", fit.beta, arch.beta), ("nu", fit.nu, arch.nu), ("forecast", fit.forecastVariance, arch.forecast_variance)] {
            XCTAssertEqual(ours, theirs, accuracy: 1e-3 * abs(theirs), "\(arch.id) \(name)", file: file, line: line)
        }
        XCTAssertEqual(fit.logLikelihood, arch.loglik, accuracy: 0.01, "\(arch.id) log-likelihood", file: file, line: line)
        // Standard errors are numerical second derivatives on both sides: agreement within 10 %.
        guard let errors = fit.standardErrors else { return XCTFail("\(arch.id): no standard errors", file: file, line: line) }
        for (k, name) in ["mu", "omega", "alpha", "beta", "nu"].enumerated() {
            let theirs = arch.std_err[name]!
            XCTAssertEqual(errors[k], theirs, accuracy: 0.1 * theirs, "\(arch.id) se(\(name))", file: file, line: line)
        }
    }

    func testGARCHtMatchesArchOnTheSP500() throws {
        let history = try PriceHistory(file: "Tests/Fixtures/history/sp500.csv", columns: [("SPX", "Adj Close")])
        let fit = try GARCHStudentT.fit(history.series[0].returns(), id: "SPX")
        assertMatchesArch(fit, try reference()["SPX"]!)
        XCTAssertFalse(fit.atStationarityBoundary)
    }

    /// BTC sits at the stationarity boundary (α + β = 1 in arch's fit): a finding, not a failure.
    /// ETH lists later (empty fields before): its fit uses its own rows only.
    func testGARCHtMatchesArchOnBitstampWithTheBoundaryReported() throws {
        let history = try PriceHistory(file: "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv", columns: [("BTC", "BTC:close"), ("ETH", "ETH:close")])
        let reference = try reference()
        let btc = try GARCHStudentT.fit(history.series[0].returns(), id: "BTC")
        assertMatchesArch(btc, reference["BTC"]!)
        XCTAssertTrue(btc.atStationarityBoundary)
        let eth = try GARCHStudentT.fit(history.series[1].returns(), id: "ETH")
        assertMatchesArch(eth, reference["ETH"]!)
        let (correlation, days) = residualCorrelation([btc, eth], days: history.series.map(\.days))
        XCTAssertEqual(days, eth.n)  // every day ETH has a return, BTC has one too
        XCTAssertTrue(correlation[0][1] > 0.5 && correlation[0][1] < 1, "\(correlation)")
    }

    func testBadPriceFilesNameTheLineAndColumn() {
        let cases: [(String, String, Int?, String?, String)] = [
            ("Date,P\n2020-01-02,1\n2020-01-01,2\n", "P", 3, "Date", "date order"),
            ("Date,P\n2020-01-02,1\n2020-01-02,2\n", "P", 3, "Date", "duplicate date"),
            ("Date,P\n2020-01-01,1\n2020-01-02,-3\n", "P", 3, "P", "not positive"),
            ("Date,P\n2020-01-01,1\n2020-01-02,abc\n", "P", 3, "P", "not a number"),
            ("Date,P\n2020-01-01,1\n", "Q", 1, "Q", "no such column"),
            ("Day,P\n2020-01-01,1\n", "P", 1, nil, "no Date column"),
            ("Date,P\n2020-13-01,1\n", "P", 2, "Date", "not a date"),
            ("Date,P\n2020-01-01,1,5\n", "P", 2, nil, "fields"),
        ]
        for (text, column, line, named, fragment) in cases {
            let path = temporaryFile(text, extension: "csv")
            XCTAssertThrowsError(try PriceHistory(file: path, columns: [("X", column)])) { error in
                guard let error = error as? HistoryError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.line, line, "\(error)")
                XCTAssertEqual(error.column, named, "\(error)")
                XCTAssertTrue(error.description.contains(fragment) && error.description.contains(path), "\(error)")
            }
        }
    }
}

/// `thresher fit` end to end: its market section makes a valid scenario; bad files exit 65.
final class FitCommandLineTests: BinaryTestCase {
    func testFittedMarketSectionMakesAValidScenario() throws {
        let market = NSTemporaryDirectory() + "thresher-fit-\(UUID().uuidString).yaml"
        let fit = try run(["fit", "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv", "--column", "BTC=BTC:close", "--column", "ETH=ETH:close",
                           "--out", market, "--json", "-"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("\"at_stationarity_boundary\": true"), fit.stdout)
        let section = try String(contentsOfFile: market, encoding: .utf8)
        let scenario = temporaryFile("""
            name: fitted
            simulation: {paths: 10000, seed: 1, horizon_days: 1}
            \(section)
            portfolio:
              accounts:
                - {id: a, collateral: {USD: 100000}, positions: [{type: perp, asset: BTC, quantity: 1}, {type: perp, asset: ETH, quantity: -10}]}
            risk: {confidence: [0.99]}
            """)
        let validated = try run(["run", scenario, "--quiet"])
        XCTAssertEqual(validated.status, 0, validated.stderr)
        let bad = temporaryFile("Date,P\n2020-01-02,1\n2020-01-01,2\n", extension: "csv")
        let refused = try run(["fit", bad, "--column", "X=P"])
        XCTAssertEqual(refused.status, 65)
        XCTAssertTrue(refused.stderr.contains("\(bad):3: column 'Date'"), refused.stderr)
    }
}

/// The filtered-historical tail model: its one-day loss law is the bootstrap's discrete law, so the
/// Monte Carlo ES must match the exact ES of that law within its standard error.
final class FilteredHistoricalTests: XCTestCase {
    func scenario(horizon: Double = 1, tails: String? = nil) -> String {
        let history = FileManager.default.currentDirectoryPath + "/Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"
        return """
        name: fhs
        simulation: {paths: 200000, seed: 11, horizon_days: \(horizon)}
        market:
          assets:
            - {id: BTC, spot: 8709.49, vol: 0.7}
            - {id: ETH, spot: 164.52, vol: 1.1}
          correlation: {uniform: 0.8}
          tails: \(tails ?? "{model: filtered-historical, history: '\(history)', columns: {BTC: 'BTC:close', ETH: 'ETH:close'}}")
        portfolio:
          accounts:
            - {id: long-btc, collateral: {USD: 100000}, positions: [{type: spot, asset: BTC, quantity: 1}]}
        risk: {confidence: [0.99]}
        """
    }

    func testOneDayExpectedShortfallIsTheBootstrapLaws() throws {
        let s = try loadScenario(scenario())
        guard case .filteredHistorical(let history) = s.market.tails else { return XCTFail("not filtered-historical") }
        let h = try FilteredHistoricalFit.of(history)
        XCTAssertEqual(h.days, 787)
        // Exact law: each of the D days with mass 1/D, loss S·(1 − e^{σ_f z/100}).
        let sigma = h.fits[0].forecastVariance.squareRoot()
        let losses = (0..<h.days).map { 8709.49 * (1 - exp(sigma * h.residuals[$0 * 2] / 100)) }.sorted(by: >)
        let tailMass = 0.01, atom = 1 / Double(h.days)
        let whole = Int(tailMass / atom)
        let exactES = (losses[0..<whole].reduce(0, +) * atom + (tailMass - Double(whole) * atom) * losses[whole]) / tailMass
        let result = try PortfolioRun(scenario: s).run(settings: RunSettings(threads: 2))
        let level = result.accounts[0].levels[0]
        XCTAssertEqual(level.expectedShortfall, exactES, accuracy: 4 * level.expectedShortfallStandardError!, "ES \(level.expectedShortfall) vs exact \(exactES)")
    }

    func testMultiDayHorizonAndBadHistoryInput() throws {
        let result = try PortfolioRun(scenario: loadScenario(scenario(horizon: 10.5))).run(settings: RunSettings(threads: 2))
        XCTAssertTrue(result.accounts[0].levels[0].valueAtRisk.isFinite && result.accounts[0].levels[0].valueAtRisk > 0)
        assertRejected(scenario(tails: "{model: filtered-historical, history: /nonexistent.csv}"), path: "market.tails.history", mentioning: "no such file")
        assertRejected(scenario(tails: "{model: filtered-historical, history: x.csv, dof: 4}"), path: "market.tails.dof")
        assertRejected(scenario(tails: "{model: gaussian, history: x.csv}"), path: "market.tails.history", mentioning: "only the filtered-historical")
    }
}
