import Backtest
import Distributions
import Foundation
import History
import RandomStreams
import ScenarioSpec
import XCTest

/// The exception tests against published values, and the walk-forward against an independent
/// closed-form computation on a synthetic history.
final class BacktestStatisticsTests: XCTestCase {
    /// MATLAB's `varbacktest` example (1,043 days, 95 % VaR, 57 failures, transitions 932/53/53/4):
    /// POF 0.46147 (p 0.49694), IND 0.25866 (p 0.61104), CC 0.72013 (p 0.69763), green with
    /// P(X ≤ 57) = 0.77913 — all to the 5 decimals published.
    func testMatlabVarbacktestExample() {
        let c = CoverageTests(days: 1043, exceptions: 57, transitions: (932, 53, 53, 4), expectedRate: 0.05)
        XCTAssertEqual(c.proportionOfFailures.statistic, 0.46147, accuracy: 5e-6)
        XCTAssertEqual(c.proportionOfFailures.pValue, 0.49694, accuracy: 5e-6)
        XCTAssertEqual(c.independence.statistic, 0.25866, accuracy: 5e-6)
        XCTAssertEqual(c.independence.pValue, 0.61104, accuracy: 5e-6)
        XCTAssertEqual(c.conditionalCoverage.statistic, 0.72013, accuracy: 5e-6)
        XCTAssertEqual(c.conditionalCoverage.pValue, 0.69763, accuracy: 5e-6)
        XCTAssertEqual(c.cumulativeProbability, 0.77913, accuracy: 5e-6)
        XCTAssertEqual(c.trafficLight, .green)
    }

    /// Basel's 250-day, 99 % table: zones 0–4 / 5–9 / 10+, cumulative probabilities 8.11 % (0),
    /// 89.22 % (4), 95.88 % (5), 99.97 % (9), 99.99 % (10).
    func testBaselTrafficLight() {
        for x in 0...12 {
            let c = CoverageTests(days: 250, exceptions: x, transitions: (250 - 1 - x, x, x, 0), expectedRate: 0.01)
            XCTAssertEqual(c.trafficLight, x <= 4 ? .green : x <= 9 ? .yellow : .red, "\(x) exceptions")
        }
        for (x, published) in [(0, 0.0811), (4, 0.8922), (5, 0.9588), (9, 0.9997), (10, 0.9999)] {
            XCTAssertEqual(binomialCDF(x, trials: 250, probability: 0.01), published, accuracy: 5e-5, "P(X ≤ \(x))")
        }
        // The sum agrees with the incomplete beta identity P(X ≤ k) = I_{1−p}(n − k, k + 1) at any n.
        for (n, k, p) in [(5000, 40, 0.01), (5000, 70, 0.01), (1043, 57, 0.05), (20, 0, 0.3)] {
            let beta = regularizedIncompleteBeta(x: 1 - p, y: p, a: Double(n - k), b: Double(k + 1), logBeta: logBetaFunction(Double(n - k), Double(k + 1)))
            XCTAssertEqual(binomialCDF(k, trials: n, probability: p), beta, accuracy: 1e-10)
        }
    }

    /// Transitions are counted from the hit series, and counts of zero give finite statistics
    /// (0·ln 0 = 0): no exception at all is POF = −2N·ln(1 − p).
    func testHitSeriesAndZeroCounts() {
        let hits = [false, true, true, false, false, true, false, false, false, true]
        let c = CoverageTests(hits: hits, expectedRate: 0.1)
        XCTAssertEqual(c.exceptions, 4)
        XCTAssertTrue(c.transitions == (3, 3, 2, 1), "\(c.transitions)")
        let none = CoverageTests(hits: Array(repeating: false, count: 500), expectedRate: 0.01)
        XCTAssertEqual(none.proportionOfFailures.statistic, -2 * 500 * log(0.99), accuracy: 1e-9)
        XCTAssertEqual(none.independence.statistic, 0)
        XCTAssertEqual(none.trafficLight, .green)
        XCTAssertTrue(none.conditionalCoverage.pValue.isFinite)
    }

    /// Z₂ is unbiased when the forecast is right and negative when the tail is heavier: N(0,1)
    /// losses against the exact normal VaR/ES give |Z₂| < 4 SE over 400,000 days; Student-t(3)
    /// losses of unit variance against the same normal forecast give Z₂ below −5 SE.
    func testAcerbiSzekelyZ2() {
        let alpha = 0.975, p = 1 - alpha
        let v = StandardNormal.quantile(alpha), es = StandardNormal.density(v) / p
        func z2(_ draw: (inout PathStream) -> Double) -> (z: Double, se: Double) {
            let days = 400_000
            var terms: [Double] = []
            var stream = PathStream(seed: 99, path: 0, stream: .assetNormals)
            for _ in 0..<days { let l = draw(&stream); terms.append(l > v ? l / es : 0) }
            let m = terms.reduce(0, +) / Double(days)
            let sd = (terms.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(days - 1)).squareRoot()
            return (ExpectedShortfallTest.statistic(tailSum: terms.reduce(0, +), days: days, tailProbability: p), sd / (p * Double(days).squareRoot()))
        }
        let right = z2 { $0.nextNormal() }
        XCTAssertLessThan(abs(right.z), 4 * right.se, "Z2 \(right.z) ± \(right.se)")
        let heavy = z2 { s in s.nextNormal() * (1.0 / 3).squareRoot() / (s.nextChiSquare(dof: 3) / 3).squareRoot() }
        XCTAssertLessThan(heavy.z, -5 * heavy.se, "Z2 \(heavy.z) ± \(heavy.se)")
        // The simulated critical value is the 5 % quantile and the p-value the fraction at or below.
        let test = ExpectedShortfallTest(tailSum: 0.5 * 100 * p, simulatedTailSums: (0..<100).map { Double($0) * 100 * p / 50 }, days: 100, tailProbability: p)
        XCTAssertEqual(test.statistic, 0.5, accuracy: 1e-12)
        XCTAssertEqual(test.criticalValue, 1 - 95.0 / 50, accuracy: 1e-12)  // the 5th smallest of 100
        XCTAssertEqual(test.pValue, 0.75, accuracy: 1e-12)
    }

    /// The tools on a hand-made series: the buffer is used up while VaR rises and rebuilt as it
    /// falls; the stressed weight keeps a quarter of the ten-year peak; the floor takes the larger.
    func testAntiProcyclicalityTools() {
        let v = [100.0, 110, 130, 150, 120, 100, 100]
        let days = [0, 1, 2, 3, 4, 5, 4000]
        XCTAssertEqual(AntiProcyclicalityTool.buffer.margins(valueAtRisk: v, tenYearValueAtRisk: v, days: days), [125, 125, 130, 150, 150, 125, 125])
        XCTAssertEqual(AntiProcyclicalityTool.stressedWeight.margins(valueAtRisk: v, tenYearValueAtRisk: v, days: days),
                       [100, 110, 130, 150, 127.5, 112.5, 100])
        XCTAssertEqual(AntiProcyclicalityTool.tenYearFloor.margins(valueAtRisk: v, tenYearValueAtRisk: [120, 100, 100, 100, 130, 90, 90], days: days),
                       [120, 110, 130, 150, 130, 100, 100])
        let m = ProcyclicalityMeasures(tool: .baseline, margins: v, realisedLosses: [0, 120, 0, 0, 0, 101, 0])
        XCTAssertEqual(m.peakToTrough!, 1.5, accuracy: 1e-12)
        XCTAssertEqual(m.largestOneDayIncrease!, 20.0 / 110, accuracy: 1e-12)
        XCTAssertNil(m.largestThirtyDayIncrease)
        XCTAssertEqual(m.exceptions, 2)
    }
}

final class WalkForwardTests: XCTestCase {
    /// 1,400 days of a long spot position in one asset whose log returns are iid N(0, (1 %)²).
    func syntheticCase(policy: String = "") throws -> (scenario: Scenario, history: AlignedHistory) {
        var stream = PathStream(seed: 2024, path: 0, stream: .assetNormals)
        var price = 100.0, lines = ["Date,P"]
        for d in 0..<1400 {
            lines.append("\(isoDate(18000 + d)),\(price)")
            price *= exp(0.01 * stream.nextNormal())
        }
        let history = try PriceHistory(file: "synthetic.csv", data: Data((lines.joined(separator: "\n") + "\n").utf8), columns: [("X", "P")])
        let scenario = try loadScenario("""
            name: synthetic
            simulation: {paths: 20000, seed: 5, horizon_days: 1}
            market: {rate: 0, assets: [{id: X, spot: 100, vol: 0.2}], tails: {model: gaussian}}
            portfolio: {accounts: [{id: a, collateral: {USD: 0}, positions: [{type: spot, asset: X, quantity: 1000}]}]}
            risk: {confidence: [0.95, 0.99]}
            \(policy)
            """)
        return (scenario, AlignedHistory(history))
    }

    /// Under the gaussian model each day's VaR is the closed form q·S_t·(1 − e^{−z_α·σ̂_t}) with σ̂_t
    /// the window's sample standard deviation: the Monte Carlo VaR is within 6 % (≈ 5 SE of a 99 %
    /// quantile at 20,000 paths) on every day, the exceptions counted independently from the
    /// closed form agree up to the days within that error of the realised loss, the realised loss
    /// is −q·(S_{t+1} − S_t), and every number is the same at 1 and 2 threads.
    /// The synthetic case's gaussian backtest settings: a 250-return window re-fitted every 50 days.
    func gaussianSettings() -> BacktestSettings {
        var settings = BacktestSettings()
        settings.window = 250
        settings.refit = 50
        settings.models = [.gaussian]
        settings.esSimulations = 200
        return settings
    }

    /// The closed-form gaussian VaR of the synthetic book at origin `t`: q·S_t·(1 − e^{−z·σ̂_t}), σ̂_t
    /// the sample standard deviation of the 250 returns before t.
    func closedFormVaR(_ history: AlignedHistory, origin t: Int, z: Double) -> Double {
        let window = Array(history.returns[0][(t - 250)..<t])
        let m = window.reduce(0, +) / 250
        let sigma = (window.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 249).squareRoot() / 100
        return 1000 * history.prices[0][t] * (1 - exp(-z * sigma))
    }

    func testGaussianBacktestMatchesTheClosedForm() throws {
        let (scenario, history) = try syntheticCase()
        var settings = gaussianSettings()
        let result = try Backtester.run(scenario: scenario, history: history, settings: settings)
        settings.threads = 2
        let parallel = try Backtester.run(scenario: scenario, history: history, settings: settings)
        XCTAssertEqual(result.origins.count, 1400 - 250 - 1)
        let prices = history.prices[0]
        for (l, alpha) in [0.95, 0.99].enumerated() {
            let z = StandardNormal.quantile(alpha)
            let level = result.models[0].levels[l]
            var independent = 0
            for (k, t) in result.origins.enumerated() {
                let closed = closedFormVaR(history, origin: t, z: z)
                XCTAssertEqual(level.valueAtRisk[k], closed, accuracy: 0.06 * closed, "day \(k) level \(alpha)")
                XCTAssertEqual(result.realisedLosses[k], -1000 * (prices[t + 1] - prices[t]), accuracy: 1e-9 * prices[t] * 1000)
                if result.realisedLosses[k] > closed { independent += 1 }
            }
            XCTAssertLessThanOrEqual(abs(level.coverage.exceptions - independent), 2 + independent / 10, "level \(alpha)")
            XCTAssertGreaterThan(level.coverage.proportionOfFailures.pValue, 0.001, "a right model passes Kupiec at \(alpha)")
            XCTAssertEqual(level.valueAtRisk, parallel.models[0].levels[l].valueAtRisk)
            XCTAssertEqual(level.expectedShortfallTest.statistic, parallel.models[0].levels[l].expectedShortfallTest.statistic)
            XCTAssertEqual(level.expectedShortfallTest.criticalValue, parallel.models[0].levels[l].expectedShortfallTest.criticalValue)
        }
    }

    /// Every day reuses the same draws, so the Monte Carlo error of the gaussian VaR is one bias: its
    /// ratio to the closed form is the same on every day (spread under a tenth of one standard error)
    /// and within 4 of the standard errors the report states, √(α(1−α)/N)/(φ(z)·z).
    func testMonteCarloErrorIsOneBiasOverTheHistory() throws {
        let (scenario, history) = try syntheticCase()
        let result = try Backtester.run(scenario: scenario, history: history, settings: gaussianSettings())
        for (l, alpha) in [0.95, 0.99].enumerated() {
            let z = StandardNormal.quantile(alpha), error = result.monteCarloRelativeError[l]
            XCTAssertEqual(error, (alpha * (1 - alpha) / 20000).squareRoot() / (StandardNormal.density(z) * z), accuracy: 1e-15)
            let ratios = result.origins.enumerated().map { k, t in result.models[0].levels[l].valueAtRisk[k] / closedFormVaR(history, origin: t, z: z) }
            XCTAssertLessThan(ratios.max()! - ratios.min()!, 0.1 * error, "level \(alpha): one bias, not noise")
            XCTAssertLessThan(abs(ratios[0] - 1), 4 * error, "level \(alpha)")
        }
    }

    /// A 13-day hole between rows is a gap and an empty price inside the history a dropped day, both
    /// named with their dates; an empty price before an asset's first is not (it lists later).
    func testGapsAndEmptyPricesAreNamed() throws {
        let csv = "Date,A,B\n2019-03-16,1,\n2019-03-17,1,2\n2019-03-18,1.1,\n2019-03-19,1.2,2.1\n2019-04-01,1.3,2.2\n2019-04-02,1.4,2.3\n"
        let aligned = AlignedHistory(try PriceHistory(file: "h.csv", data: Data(csv.utf8), columns: [("A", "A"), ("B", "B")]))
        XCTAssertEqual(aligned.days.map(isoDate), ["2019-03-17", "2019-03-19", "2019-04-01", "2019-04-02"])
        XCTAssertEqual(aligned.gaps.map { [isoDate($0.from), isoDate($0.to)] }, [["2019-03-19", "2019-04-01"]])
        XCTAssertEqual(aligned.missingDays.map { $0.asset }, ["A", "B"])
        XCTAssertEqual(aligned.missingDays.map { $0.days.map(isoDate) }, [[], ["2019-03-18"]])
        let warnings = aligned.warnings()
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        XCTAssertTrue(warnings[0].hasPrefix("h.csv: 1 gap of more than 4 days"), warnings[0])
        XCTAssertTrue(warnings[0].contains("2019-03-19 → 2019-04-01 (13 days)"), warnings[0])
        XCTAssertTrue(warnings[1].contains("B has an empty price on 1 day"), warnings[1])
        XCTAssertTrue(warnings[1].hasSuffix("2019-03-18"), warnings[1])
        XCTAssertEqual(AlignedHistory(try PriceHistory(file: "w.csv", data: Data("Date,A\n2019-03-15,1\n2019-03-18,1.1\n2019-03-22,1.2\n".utf8), columns: [("A", "A")])).warnings(), [],
                       "a weekend (3 days) and a long weekend (4) are not gaps")
    }

    /// With a `policy:` ladder, a tier's exceptions are the days the move beat its rate, counted
    /// here independently, and the gaussian forecast rate is the closed form 1 − e^{−z·σ̂_t} on average
    /// (within 3 %), breaching about p = 1 − 0.99 of the days.
    func testLadderRatesAgainstTheMoves() throws {
        let (scenario, history) = try syntheticCase(policy: "policy: {ladder: {X: [{up_to: 1000000, maintenance: {long: 0.02, short: 0.025}}]}}")
        var settings = BacktestSettings()
        settings.window = 250
        settings.refit = 50
        settings.models = [.gaussian]
        settings.esSimulations = 100
        let result = try Backtester.run(scenario: scenario, history: history, settings: settings)
        XCTAssertEqual(result.ladderBreachProbability, 0.01, accuracy: 1e-12)
        XCTAssertEqual(result.ladder.count, 4)
        let prices = history.prices[0], returns = history.returns[0]
        let moves = result.origins.map { prices[$0 + 1] / prices[$0] - 1 }
        let long = result.ladder.first { $0.side == .long && $0.tier == 0 }!, short = result.ladder.first { $0.side == .short && $0.tier == 0 }!
        XCTAssertEqual(long.coverage.exceptions, moves.filter { -$0 > 0.02 }.count)
        XCTAssertEqual(short.coverage.exceptions, moves.filter { $0 > 0.025 }.count)
        let z = StandardNormal.quantile(0.99)
        let closed = result.origins.map { t -> Double in
            let window = Array(returns[(t - 250)..<t]), m = window.reduce(0, +) / 250
            return 1 - exp(-z * (window.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 249).squareRoot() / 100)
        }
        let forecast = result.ladder.first { $0.side == .long && $0.model == .gaussian }!
        XCTAssertEqual(forecast.meanRate, closed.reduce(0, +) / Double(closed.count), accuracy: 0.03 * forecast.meanRate)
        XCTAssertNotEqual(forecast.coverage.trafficLight, .red)
    }

    /// Every model runs on the synthetic history; the GARCH filter's σ follows its recursion, and on
    /// iid returns each model's 99 % exceptions stay out of Basel's red zone.
    func testEveryModelRuns() throws {
        let (scenario, history) = try syntheticCase()
        var settings = BacktestSettings()
        settings.window = 300
        settings.refit = 100
        settings.esSimulations = 200
        var small = scenario
        small.simulation.paths = 5000
        let result = try Backtester.run(scenario: small, history: history, settings: settings)
        XCTAssertEqual(result.models.map(\.model), BacktestModel.allCases)
        for model in result.models {
            XCTAssertNotEqual(model.levels[1].coverage.trafficLight, .red, model.model.rawValue)
            XCTAssertTrue(model.levels.allSatisfy { $0.valueAtRisk.allSatisfy { $0 > 0 } })
            XCTAssertEqual(model.procyclicality.count, AntiProcyclicalityTool.allCases.count)
        }
        XCTAssertEqual(result.models[1].meanDof! > 10, true, "iid normal returns fit a large ν, got \(result.models[1].meanDof!)")
    }
}

/// `thresher backtest` end to end on the S&P 500 fixture, and its errors.
final class BacktestCommandLineTests: BinaryTestCase {
    func testBacktestReportsAndErrors() throws {
        let json = NSTemporaryDirectory() + "thresher-backtest-\(UUID().uuidString).json"
        let ok = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", "Tests/Fixtures/history/sp500.csv", "--column", "SPX=Adj Close",
                          "--paths", "4000", "--window", "250", "--refit", "60", "--from", "2007-01-01", "--to", "2009-12-31", "--models", "gaussian,filtered-historical",
                          "--json", json, "--quiet"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        XCTAssertEqual(object["first_day"] as? String, "2007-01-03")
        XCTAssertEqual(object["last_day"] as? String, "2009-12-31")
        let models = try XCTUnwrap(object["models"] as? [[String: Any]])
        XCTAssertEqual(models.map { $0["model"] as? String }, ["gaussian", "filtered-historical"])
        let level = try XCTUnwrap((models[0]["levels"] as? [[String: Any]])?.last)
        for key in ["exceptions", "kupiec_pof", "christoffersen_independence", "conditional_coverage", "traffic_light", "es_test", "largest_excess"] {
            XCTAssertNotNil(level[key], key)
        }
        // The JSON's hit series and counts agree with each other and with the realised losses.
        let series = try XCTUnwrap(object["series"] as? [String: Any])
        let realised = try XCTUnwrap(series["realised_loss"] as? [Double])
        let gaussian = try XCTUnwrap(series["gaussian"] as? [String: Any])
        let vars = try XCTUnwrap((gaussian["var"] as? [String: Any])?["0.99"] as? [Double])
        XCTAssertEqual(zip(realised, vars).filter { $0 > $1 }.count, level["exceptions"] as? Int)
        // A 2008 crisis year breaks a gaussian 99 % VaR on 250-day windows.
        XCTAssertEqual((level["traffic_light"] as? [String: Any])?["zone"] as? String, "red")

        let short = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", "Tests/Fixtures/history/sp500.csv", "--column", "SPX=Adj Close", "--window", "6000", "--quiet"])
        XCTAssertEqual(short.status, 65)
        XCTAssertTrue(short.stderr.contains("Tests/Fixtures/history/sp500.csv") && short.stderr.contains("--window of 6000"), short.stderr)
        let column = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", "Tests/Fixtures/history/sp500.csv", "--quiet"])
        XCTAssertEqual(column.status, 65)
        XCTAssertTrue(column.stderr.contains("sp500.csv:1: column 'SPX'"), column.stderr)
        let model = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", "x.csv", "--models", "gaussian,garch"])
        XCTAssertEqual(model.status, 64)
        XCTAssertTrue(model.stderr.contains("unknown model 'garch'"), model.stderr)
        let missing = try run(["backtest", "Scenarios/backtest/sp500-index.yaml", "--history", "no-such.csv", "--quiet"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
    }
}
