#if canImport(FoundationXML)
import Engine
import Foundation
import FoundationXML
import MonteCarlo
import Reports
import Revaluation
import ScenarioSpec
import XCTest
#endif

final class StressAndWhatIfTests: XCTestCase {
    let mixedBook = """
    name: mixed
    simulation: {paths: 20000, seed: 3, horizon_days: 2}
    market:
      rate: 0.05
      assets:
        - {id: BTC, spot: 60000, vol: 0.6}
        - {id: ETH, spot: 3000, vol: 0.8}
      correlation: {uniform: 0.7}
      tails: {model: student-t, dof: 5}
      vol_shocks: {vol_of_vol: 1.0, spot_correlation: -0.5}
    portfolio:
      accounts:
        - id: a
          collateral: {USD: 100000, ETH: 10}
          positions:
            - {type: spot, asset: BTC, quantity: 2}
            - {type: perp, asset: ETH, quantity: -30}
            - {type: future, asset: BTC, quantity: 1.5, expiry_days: 60}
            - {type: inverse-perp, asset: BTC, contracts: -1000, contract_value: 100}
        - id: b
          positions:
            - {type: option, asset: BTC, right: put, strike: 55000, expiry_days: 30, quantity: -4, iv: 0.65}
            - {type: option, asset: ETH, right: call, strike: 3300, expiry_days: 10, quantity: 25, iv: 0.9}
            - {type: option, asset: ETH, right: put, strike: 2900, expiry_days: 1, quantity: 10, iv: 0.9}
    stress:
      - {name: crash, spot: {BTC: -0.3, ETH: -0.35}, vol: {BTC: 0.5, ETH: 0.8}, horizon_days: 1}
      - {name: rally, spot: {"*": 0.2}, vol: {"*": -0.2}}
      - {name: instant, spot: {ETH: -0.1}, horizon_days: 0}
    """

    /// Black–Scholes written out again here, independent of the engine's pricing code.
    func bs(_ call: Bool, _ s: Double, _ k: Double, _ t: Double, _ r: Double, _ v: Double) -> Double {
        if t <= 0 { return call ? max(s - k, 0) : max(k - s, 0) }
        let d1 = (log(s / k) + (r + v * v / 2) * t) / (v * t.squareRoot()), d2 = d1 - v * t.squareRoot()
        let n: (Double) -> Double = { 0.5 * erfc(-$0 / 2.0.squareRoot()) }
        return call ? s * n(d1) - k * exp(-r * t) * n(d2) : k * exp(-r * t) * n(-d2) - s * n(-d1)
    }

    /// Each stress loss equals a revaluation written out by hand, to 1e-9 relative.
    func testStressLossesMatchHandRevaluation() throws {
        let scenario = try loadScenario(mixedBook)
        let outcomes = StressTest.evaluate(scenario)
        XCTAssertEqual(outcomes.map(\.stress.name), ["crash", "rally", "instant"])
        let r = 0.05
        for o in outcomes {
            let h = o.horizonDays / 365
            let btc = 60000 * (1 + o.stress.spotMove("BTC")), eth = 3000 * (1 + o.stress.spotMove("ETH"))
            let vb = 1 + o.stress.volMove("BTC"), ve = 1 + o.stress.volMove("ETH")
            let pnlA = 10 * (eth - 3000) + 2 * (btc - 60000) - 30 * (eth - 3000)
                + 1.5 * (btc * exp(r * (60.0 / 365 - h)) - 60000 * exp(r * 60.0 / 365))
                - 1000 * 100 * (btc / 60000 - 1)
            let pnlB = -4 * (bs(false, btc, 55000, 30.0 / 365 - h, r, 0.65 * vb) - bs(false, 60000, 55000, 30.0 / 365, r, 0.65))
                + 25 * (bs(true, eth, 3300, 10.0 / 365 - h, r, 0.9 * ve) - bs(true, 3000, 3300, 10.0 / 365, r, 0.9))
                + 10 * (bs(false, eth, 2900, 1.0 / 365 - h, r, 0.9 * ve) - bs(false, 3000, 2900, 1.0 / 365, r, 0.9))
            XCTAssertEqual(o.accountLosses[0], -pnlA, accuracy: 1e-9 * abs(pnlA), o.stress.name)
            XCTAssertEqual(o.accountLosses[1], -pnlB, accuracy: 1e-9 * abs(pnlB), o.stress.name)
            XCTAssertEqual(o.bookLoss, -(pnlA + pnlB), accuracy: 1e-9 * abs(pnlA + pnlB))
        }
        XCTAssertEqual(outcomes[1].horizonDays, 2)  // default: simulation.horizon_days
    }

    func testStressLibrariesLoadByName() throws {
        let scenario = try Scenario.load(path: "Scenarios/default.yaml")
        XCTAssertTrue(scenario.stresses.contains { $0.origin == "historical" })
        let grid = try loadScenario(mixedBook + "\nstress_library: [grid-16, extended]")
        XCTAssertEqual(grid.stresses.filter { $0.origin == "grid-16" }.count, 27)
        XCTAssertEqual(grid.stresses.filter { $0.origin == "extended" }.count, 7)
        let down = try XCTUnwrap(grid.stresses.first { $0.name == "grid-16 spot -16% vol up" })
        XCTAssertEqual(down.spotMove("ETH"), -0.16)
        XCTAssertEqual(down.volMove("BTC"), 0.3)
    }

    func testBadStressesAreNamed() {
        assertRejected(mixedBook + "\n  - {name: x, spot: {SOL: -0.2}}", path: "stress[3].spot.SOL", mentioning: "unknown asset")
        assertRejected(mixedBook + "\n  - {name: x, spot: {BTC: -1.2}}", path: "stress[3].spot.BTC", mentioning: "> −1")
        assertRejected(mixedBook + "\n  - {name: x, volatility: {BTC: 1}}", path: "stress[3].volatility", mentioning: "vol")
        assertRejected(mixedBook + "\nstress_library: [no-such-library]", path: "stress_library[0]", mentioning: "no-such-library")
    }

    // MARK: --set

    func testSetOnEveryAddressingForm() throws {
        let s = try loadScenario(mixedBook, overrides: [
            "market.assets.BTC.vol=1.2",                         // list element by id
            "market.assets.1.spot=2500",                         // list element by index
            "portfolio.accounts.a.collateral.USD=3e6",           // id, then mapping key
            "market.tails.dof=3",                                // nested mapping
            "simulation.seed=99",                                // plain field
            "risk={confidence: [0.95, 0.975]}",                  // a whole mapping in flow YAML
            "portfolio.accounts.b.positions.0.strike=50000",     // deep: id, list index, field
            "market.correlation={uniform: 0.5}",
        ])
        XCTAssertEqual(s.market.assets[0].vol, 1.2)
        XCTAssertEqual(s.market.assets[1].spot, 2500)
        XCTAssertEqual(s.portfolio.accounts[0].collateral.first { $0.currency == "USD" }?.amount, 3e6)
        XCTAssertEqual(s.market.tails, .studentT(dof: 3))
        XCTAssertEqual(s.simulation.seed, 99)
        XCTAssertEqual(s.risk.confidence.map(\.label), ["0.95", "0.975"])
        XCTAssertEqual((s.portfolio.accounts[1].positions[0].instrument as? EuropeanOption)?.strike, 50000)
        XCTAssertEqual(s.market.correlation[0][1], 0.5)
        // An optional field the file left out can be added.
        XCTAssertEqual(try loadScenario(mixedBook, overrides: ["portfolio.accounts.b.collateral={USD: 5}"]).portfolio.accounts[1].collateral.count, 1)
    }

    func testBadOverridesAreNamed() {
        assertRejected(mixedBook, path: "market.assets.SOL", mentioning: "no element with id 'SOL'", overrides: ["market.assets.SOL.vol=1"])
        assertRejected(mixedBook, path: "market.nonsense", mentioning: "unknown field", overrides: ["market.nonsense.x=1"])
        // A section the file left out is created; a mistyped id gets a suggestion, not every id.
        XCTAssertEqual(try loadScenario(mixedBook, overrides: ["risk.confidence=[0.95, 0.99]"]).risk.confidence.map(\.value), [0.95, 0.99])
        assertRejected(mixedBook, path: "riks", mentioning: "did you mean 'risk'", overrides: ["riks.confidence=[0.95]"])
        assertRejected(mixedBook, path: "portfolio.accounts.aa", mentioning: "Did you mean 'a'?", overrides: ["portfolio.accounts.aa.collateral.USD=1"])
        assertRejected(mixedBook, path: "market.rate.x", mentioning: "is a value", overrides: ["market.rate.x=1"])
        assertRejected(mixedBook, path: "market.assets.BTC", mentioning: "expected PATH=VALUE", overrides: ["market.assets.BTC"])
        // A value that is wrong for the schema is caught by validation, naming the field.
        assertRejected(mixedBook, path: "market.assets[0].vol", mentioning: "> 0", overrides: ["market.assets.BTC.vol=-1"])
        assertRejected(mixedBook, path: "market.assets[0].volatility", mentioning: "unknown field", overrides: ["market.assets.BTC.volatility=1"])
    }

    /// `--shock`/`--shock-vol`: every account's equity after the move is its equity now minus the
    /// exact loss `stress` gives for the same moves at horizon 0, and the book is then marked at the
    /// moved market (a further stress from there equals the combined stress from the start for the
    /// linear book; the options are repriced at the moved ivs).
    func testInstantMoveKeepsEquityEqualToEquityMinusStressLoss() throws {
        let file = temporaryFile(mixedBook)
        let base = try loadScenario(mixedBook)
        let spot = ["BTC": -0.3, "ETH": -0.2], vol = ["*": 0.5]
        var instant = base
        instant.stresses = [StressScenario(name: "move", spotMoves: spot, volMoves: vol, horizonDays: 0)]
        let losses = StressTest.evaluate(instant)[0].accountLosses
        let before = Book(scenario: base).equityNow
        let (moved, echo) = try WhatIf(spotShocks: ["BTC=-0.3", "ETH=-0.2"], volShocks: ["*=0.5"]).load(path: file)
        let after = Book(scenario: moved).equityNow
        for a in 0..<2 {
            XCTAssertEqual(after[a], before[a] - losses[a], accuracy: 1e-9 * max(1, abs(before[a])), "account \(a)")
            XCTAssertNotEqual(losses[a], 0)
        }
        XCTAssertEqual(moved.market.assets[0].spot, 60000 * 0.7, accuracy: 1e-9)
        XCTAssertTrue(echo.contains { $0.contains("settled into collateral") })
        // Option ivs moved ×1.5: the put of account b is repriced at iv 0.975.
        let put = try XCTUnwrap(moved.portfolio.accounts[1].positions[0].instrument as? EuropeanOption)
        XCTAssertEqual(put.impliedVol, 0.65 * 1.5, accuracy: 1e-15)
        // Marked at the moved market: the linear account's loss of a further −10 % BTC from there is
        // the difference of the two stresses from the start.
        var further = moved
        further.stresses = [StressScenario(name: "more", spotMoves: ["BTC": -0.1], horizonDays: 0)]
        var combined = base
        combined.stresses = [StressScenario(name: "all", spotMoves: ["BTC": 0.7 * 0.9 - 1, "ETH": -0.2], horizonDays: 0)]
        XCTAssertEqual(StressTest.evaluate(further)[0].accountLosses[0],
                       StressTest.evaluate(combined)[0].accountLosses[0] - losses[0], accuracy: 1e-6)
        XCTAssertThrowsError(try WhatIf(spotShocks: ["BTC=-0.3", "BTC=-0.1"]).load(path: file))
        XCTAssertThrowsError(try WhatIf(volShocks: ["XYZ=0.5"]).load(path: file))
        XCTAssertThrowsError(try WhatIf(spotShocks: ["BTC=-1"]).load(path: file))
    }

    /// Who fails: with a `policy:` ladder, each account's maintenance requirement at the stressed
    /// spots is Σ notional·rate of its tier and side (computed here by hand), equity after = equity
    /// now − loss, liquidated iff equity after < requirement, bankrupt iff equity after < 0, and the
    /// venue's total shortfall is the sum of the negative equities.
    func testWhoFailsUnderAStressAgainstHandMargins() throws {
        let policy = """

        policy:
          ladder:
            BTC:
              - {up_to: 70000, maintenance: 0.01, initial: 0.02}
              - {up_to: 1000000, maintenance: {long: 0.02, short: 0.03}, initial: 0.05}
            "*":
              - {up_to: 1.0e9, maintenance: 0.05}
          liquidation_penalty: 0.01
        """
        let scenario = try loadScenario(mixedBook + policy)
        let crash = StressTest.evaluate(scenario)[0]
        XCTAssertEqual(crash.stress.name, "crash")
        let btc = 60000 * 0.7, eth = 3000 * 0.65
        // a: spot 2 BTC (long, tier 2), perp −30 ETH (short, "*"), future 1.5 BTC (long, tier 1),
        //    inverse −1000 × 100 USD (short, tier 2).
        let a = 2 * btc * 0.02 + 30 * eth * 0.05 + 1.5 * btc * 0.01 + 100_000 * 0.03
        // b: short BTC put (long side, tier 2), long ETH call (long), long ETH put (short side).
        let b = 4 * btc * 0.02 + 25 * eth * 0.05 + 10 * eth * 0.05
        let requirements = try XCTUnwrap(crash.maintenanceAfter)
        XCTAssertEqual(requirements[0], a, accuracy: 1e-9)
        XCTAssertEqual(requirements[1], b, accuracy: 1e-9)
        let equityNow = Book(scenario: scenario).equityNow
        var shortfall = 0.0
        for i in 0..<2 {
            let after = equityNow[i] - crash.accountLosses[i]
            XCTAssertEqual(crash.equityAfter[i], after, accuracy: 1e-9)
            XCTAssertEqual(crash.isLiquidated(account: i), after < requirements[i])
            XCTAssertEqual(crash.isBankrupt(account: i), after < 0)
            shortfall += max(-after, 0)
        }
        XCTAssertEqual(crash.totalShortfall, shortfall, accuracy: 1e-9)
        XCTAssertEqual(crash.bankruptCount, (0..<2).filter { equityNow[$0] - crash.accountLosses[$0] < 0 }.count)
        // The initial requirement and max leverage of the tiers.
        let tier = scenario.policy!.schedule.tier(asset: 0, notional: 50_000)
        XCTAssertEqual(tier.maxLeverage, 50)
        XCTAssertNil(scenario.policy!.schedule.requirement(of: scenario.portfolio.accounts[0].positions, market: scenario.market) { [60000, 3000][$0] }.initial)
        // The report says who fails and lists the moves.
        let report = StressReport(scenario: scenario, outcomes: StressTest.evaluate(scenario), top: 1)
        XCTAssertTrue(report.table.contains("BTC −30%, ETH −35%; vol BTC +50%, ETH +80%"), report.table)
        XCTAssertTrue(report.table.contains("the 1 account closest to failing"), report.table)
        // Policy mistakes are named.
        assertRejected(mixedBook + policy.replacingOccurrences(of: "up_to: 1000000", with: "up_to: 60000"),
                       path: "policy.ladder.BTC[1].up_to", mentioning: "strictly increasing")
        assertRejected(mixedBook + policy.replacingOccurrences(of: "initial: 0.05", with: "initial: 0.01"),
                       path: "policy.ladder.BTC[1].initial", mentioning: "below the maintenance")
        assertRejected(mixedBook + policy.replacingOccurrences(of: "    \"*\":\n      - {up_to: 1.0e9, maintenance: 0.05}\n", with: ""),
                       path: "policy.ladder.ETH", mentioning: "no margin ladder")
    }

    /// Stablecoin collateral counts q·price·(1 − haircut); a de-peg named in a stress loses
    /// q·price·(1 − haircut)·(−move) (and "*" does not move it); `--shock USDT=…` moves the price and
    /// keeps equity = equity now − that loss; the Monte Carlo treats it as constant.
    func testStablecoinCollateralHaircutAndDepeg() throws {
        let book = mixedBook
            .replacingOccurrences(of: "  vol_shocks: {vol_of_vol: 1.0, spot_correlation: -0.5}",
                                  with: "  vol_shocks: {vol_of_vol: 1.0, spot_correlation: -0.5}\n  stablecoins: [{id: USDT, haircut: 0.05}, {id: USDC, price: 0.999}]")
            .replacingOccurrences(of: "collateral: {USD: 100000, ETH: 10}", with: "collateral: {USD: 100000, ETH: 10, USDT: 200000, USDC: 50000}")
            + "\n  - {name: tether-depeg, spot: {USDT: -0.1, \"*\": -0.05}, horizon_days: 0}\n"
        let scenario = try loadScenario(book)
        let plain = try loadScenario(mixedBook)
        XCTAssertEqual(Book(scenario: scenario).equityNow[0] - Book(scenario: plain).equityNow[0], 200_000 * 0.95 + 50_000 * 0.999, accuracy: 1e-6)
        let depeg = try XCTUnwrap(StressTest.evaluate(scenario).first { $0.stress.name == "tether-depeg" })
        var onlyAssets = plain
        onlyAssets.stresses = [StressScenario(name: "x", spotMoves: ["*": -0.05], horizonDays: 0)]
        let assetLoss = StressTest.evaluate(onlyAssets)[0].accountLosses[0]
        XCTAssertEqual(depeg.accountLosses[0], assetLoss + 200_000 * 0.95 * 0.1, accuracy: 1e-6)
        // Monte Carlo: the stablecoins add no risk.
        let var0 = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2)).accounts[0].levels[0].valueAtRisk
        let var1 = try PortfolioRun(scenario: plain).run(settings: RunSettings(threads: 2)).accounts[0].levels[0].valueAtRisk
        XCTAssertEqual(var0, var1, accuracy: 1e-6 * abs(var1))
        // A what-if de-peg: equity after = equity now − the exact loss.
        let (moved, echo) = try WhatIf(spotShocks: ["USDT=-0.1"]).load(path: temporaryFile(book))
        XCTAssertEqual(Book(scenario: moved).equityNow[0], Book(scenario: scenario).equityNow[0] - 200_000 * 0.95 * 0.1, accuracy: 1e-6)
        XCTAssertTrue(echo.contains { $0.contains("de-peg") })
        assertRejected(book.replacingOccurrences(of: "{id: USDC, price: 0.999}", with: "{id: BTC}"), path: "market.stablecoins[1].id", mentioning: "asset id")
        assertRejected(book.replacingOccurrences(of: "haircut: 0.05", with: "haircut: 1.5"), path: "market.stablecoins[0].haircut", mentioning: "≤")
    }

    /// A book from CSV exports (positions.csv, balances.csv beside the scenario) gives the same
    /// numbers bit for bit as its YAML twin; CSV mistakes name the file, the line and the column.
    func testCSVBookMatchesItsYAMLTwin() throws {
        let folder = NSTemporaryDirectory() + "thresher-csv-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let positions = """
        account,type,asset,quantity,strike,expiry_days,right,iv,contracts,contract_value
        a,spot,BTC,2,,,,,,
        a,perp,ETH,-30,,,,,,
        a,future,BTC,1.5,,60,,,,
        a,inverse-perp,BTC,,,,,,-1000,100
        b,option,BTC,-4,55000,30,put,0.65,,
        b,option,ETH,25,3300,10,call,0.9,,
        "b",option,ETH,10,2900,1,put,0.9,,

        """
        let balances = "account,currency,amount\r\na,USD,100000\r\na,ETH,10\r\n"
        try positions.write(toFile: folder + "/positions.csv", atomically: true, encoding: .utf8)
        try balances.write(toFile: folder + "/balances.csv", atomically: true, encoding: .utf8)
        let start = mixedBook.range(of: "portfolio:")!.lowerBound, end = mixedBook.range(of: "stress:")!.lowerBound
        let csvScenario = mixedBook.replacingCharacters(in: start..<end, with: "portfolio: {positions: positions.csv, balances: balances.csv}\n")
        try csvScenario.write(toFile: folder + "/book.yaml", atomically: true, encoding: .utf8)
        let fromCSV = try Scenario.load(path: folder + "/book.yaml"), fromYAML = try loadScenario(mixedBook)
        XCTAssertEqual(fromCSV.portfolio.accounts.map(\.id), ["a", "b"])
        let x = Book(scenario: fromCSV), y = Book(scenario: fromYAML)
        XCTAssertEqual(x.linearWeights, y.linearWeights)
        XCTAssertEqual(x.linearConstants, y.linearConstants)
        XCTAssertEqual(x.equityNow, y.equityNow)
        let runX = try PortfolioRun(scenario: fromCSV).run(settings: RunSettings(threads: 2))
        let runY = try PortfolioRun(scenario: fromYAML).run(settings: RunSettings(threads: 2))
        XCTAssertEqual(runX.book.levels.map(\.valueAtRisk), runY.book.levels.map(\.valueAtRisk))
        XCTAssertEqual(runX.accounts.map { $0.levels.map(\.expectedShortfall) }, runY.accounts.map { $0.levels.map(\.expectedShortfall) })
        // Mistakes name file, line and column.
        func rejected(_ csv: String, line: Int, column: String, mentioning fragment: String) {
            do {
                try csv.write(toFile: folder + "/positions.csv", atomically: true, encoding: .utf8)
                _ = try Scenario.load(path: folder + "/book.yaml")
                XCTFail("accepted: \(csv)")
            } catch let error as ScenarioError {
                XCTAssertTrue(error.file.hasSuffix("positions.csv"), "\(error)")
                XCTAssertEqual(error.line, line, "\(error)")
                XCTAssertTrue(error.path == column || column.isEmpty, "\(error)")
                XCTAssertTrue("\(error)".contains(fragment), "\(error)")
            } catch { XCTFail("\(error)") }
        }
        let header = "account,type,asset,quantity,strike,expiry_days,right,iv,contracts,contract_value\n"
        rejected(header + "a,spot,BTC,2,,,,,,\na,option,BTC,1,-5,30,put,0.6,,\n", line: 3, column: "strike", mentioning: "> 0")
        rejected(header + "a,spot,DOGE,2,,,,,,\n", line: 2, column: "asset", mentioning: "unknown asset")
        rejected(header + "a,spot,BTC,2,,,,,\n", line: 2, column: "", mentioning: "9 cells")
        rejected("account,type,asset,qty\n", line: 1, column: "", mentioning: "'qty' is not a column")
        rejected(header + "a,perp,BTC,2,100,,,,,\n", line: 2, column: "strike", mentioning: "unknown field")
    }

    /// What-ifs move VaR the right way: more vol, more loss; a bigger long, more loss.
    func testWhatIfMovesValueAtRiskTheRightWay() throws {
        func var99(_ overrides: [String]) throws -> Double {
            let scenario = try loadScenario(mixedBook, overrides: overrides)
            return try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2)).book.levels[0].valueAtRisk
        }
        let base = try var99([])
        XCTAssertGreaterThan(try var99(["market.assets.BTC.vol=1.2", "market.assets.ETH.vol=1.6"]), base * 1.3)
        XCTAssertGreaterThan(try var99(["portfolio.accounts.a.positions.0.quantity=20"]), base)
    }

    // MARK: Reports

    func testHTMLReportIsWellFormedAndHasTheCharts() throws {
        let scenario = try loadScenario(mixedBook)
        let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
        let html = RunReport(result: result, overrides: ["--set x=1"], stresses: StressTest.evaluate(scenario)).html
        let parser = XMLParser(data: Data(html.utf8))
        XCTAssertTrue(parser.parse(), "HTML is not well-formed: \(String(describing: parser.parserError))")
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 5)  // histogram, exceedance, book bars, account bars, stress bars
        for title in ["Book loss over", "Tail exceedance", "Book VaR and ES", "VaR and ES by account", "Book loss and total shortfall under each stress", "Who fails under each stress", "crash", "--set x=1"] {
            XCTAssertTrue(html.contains(title), title)
        }
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"))
        XCTAssertEqual(result.bookHistogram.total, 20000)
    }

    /// Renders the HTML report with headless Chromium when it is installed (skipped otherwise).
    func testHTMLRendersInChromium() throws {
        let browser = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let browser else { throw XCTSkip("no Chromium on this machine") }
        let scenario = try loadScenario(mixedBook)
        let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
        let page = NSTemporaryDirectory() + "thresher-\(UUID().uuidString).html", png = page + ".png"
        try RunReport(result: result).html.write(toFile: page, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--screenshot=\(png)", "--window-size=1000,1400", "file://\(page)"]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        defer { for file in [page, png] { try? FileManager.default.removeItem(atPath: file) } }
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 20_000, "screenshot missing or blank")
    }
}
