import CZlib
import CommandSupport
import Foundation
import History
import ScenarioSpec
import XCTest

/// `data` as one gzip member (zlib's deflate with a gzip wrapper), as `gzip` writes it.
func gzipped(_ data: Data) -> Data {
    var stream = z_stream()
    // 15 + 16: the largest window, in a gzip header and trailer.
    guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { fatalError("deflateInit2") }
    defer { deflateEnd(&stream) }
    var input = [UInt8](data)
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
    let produced = input.withUnsafeMutableBufferPointer { source in
        output.withUnsafeMutableBufferPointer { target -> Int in
            stream.next_in = source.baseAddress
            stream.avail_in = UInt32(source.count)
            stream.next_out = target.baseAddress
            stream.avail_out = UInt32(target.count)
            guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { fatalError("deflate") }
            return target.count - Int(stream.avail_out)
        }
    }
    return Data(output.prefix(produced))
}

/// Writes `data` gzip-compressed to a fresh temporary file named `*.EXT.gz`.
func temporaryGzipFile(_ data: Data, extension ext: String) -> String {
    let path = NSTemporaryDirectory() + "thresher-test-\(UUID().uuidString).\(ext).gz"
    if !FileManager.default.createFile(atPath: path, contents: gzipped(data)) { fatalError("cannot write \(path)") }
    return path
}

/// Issue 33, items 4–6 in the library: included sections, compressed inputs, implausible values.
final class ScenarioInputTests: XCTestCase {
    // MARK: - Compressed inputs (item 5)

    func testGzipIsReadAsItIsAndDamageIsNamed() throws {
        let text = Data((0..<5000).map { "2020-01-01,\($0)\n" }.joined().utf8)
        let gz = gzipped(text)
        XCTAssertLessThan(gz.count, text.count / 3)
        XCTAssertEqual(try InputFile.gunzip(gz).get(), text)
        // Two members one after the other (`cat a.gz b.gz`) are the two texts one after the other.
        XCTAssertEqual(try InputFile.gunzip(gz + gzipped(Data("tail\n".utf8))).get(), text + Data("tail\n".utf8))
        // A plain file passes through; a truncated gzip file is named as damaged.
        let plain = temporaryFile("a,b\n1,2\n", extension: "csv")
        XCTAssertEqual(try InputFile.contents(atPath: plain).get(), Data("a,b\n1,2\n".utf8))
        guard case .failure(.corrupt(let why)) = InputFile.gunzip(gz.prefix(gz.count / 2)) else { return XCTFail("a truncated gzip file was accepted") }
        XCTAssertTrue(why.contains("truncated"), why)
        XCTAssertEqual(InputFile.contents(atPath: "/nonexistent/x.csv.gz").failure, .missing)
    }

    func testCompressedPriceHistoryEqualsThePlainOne() throws {
        let fixture = "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"
        let columns: [(id: String, column: String?)] = [("BTC", "BTC:close"), ("ETH", "ETH:close")]
        let plain = try PriceHistory(file: fixture, columns: columns)
        let compressed = try PriceHistory(file: temporaryGzipFile(try Data(contentsOf: URL(fileURLWithPath: fixture)), extension: "csv"), columns: columns)
        XCTAssertEqual(compressed.series.map(\.prices), plain.series.map(\.prices))
        XCTAssertEqual(compressed.series.map(\.days), plain.series.map(\.days))
        XCTAssertEqual(plain.series[0].prices.count, 1865)
    }

    func testCompressedCSVBookAndFilteredHistory() throws {
        let positions = "account,type,asset,quantity\nalice,perp,BTC,2\nbob,perp,BTC,-1\n"
        let balances = "account,currency,amount\nalice,USD,100000\nbob,USD,50000\n"
        let positionsFile = temporaryGzipFile(Data(positions.utf8), extension: "csv")
        let balancesFile = temporaryGzipFile(Data(balances.utf8), extension: "csv")
        let history = "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"
        let historyGz = temporaryGzipFile(try Data(contentsOf: URL(fileURLWithPath: history)), extension: "csv")
        func book(_ p: String, _ b: String, history: String) -> String {
            """
            name: gz
            simulation: {paths: 1000, seed: 1, horizon_days: 1}
            market:
              assets: [{id: BTC, spot: 50000, vol: 0.6}]
              tails: {model: filtered-historical, history: \(history), columns: {BTC: "BTC:close"}}
            portfolio: {positions: \(p), balances: \(b)}
            """
        }
        let compressed = try loadScenario(book(positionsFile, balancesFile, history: historyGz))
        let plain = try loadScenario(book(temporaryFile(positions, extension: "csv"), temporaryFile(balances, extension: "csv"),
                                          history: FileManager.default.currentDirectoryPath + "/" + history))
        XCTAssertEqual(compressed.portfolio.accounts.map(\.id), ["alice", "bob"])
        XCTAssertEqual(compressed.portfolio.accounts.map { $0.positions.map(\.instrument.margin) },
                       plain.portfolio.accounts.map { $0.positions.map(\.instrument.margin) })
        XCTAssertEqual(compressed.portfolio.accounts.map { $0.collateral.map(\.amount) }, [[100000], [50000]])
        guard case .filteredHistorical(let zipped) = compressed.market.tails, case .filteredHistorical(let unzipped) = plain.market.tails else {
            return XCTFail("not filtered-historical")
        }
        XCTAssertEqual(zipped.data, unzipped.data)
        // A damaged book names its file.
        let damaged = NSTemporaryDirectory() + "thresher-test-\(UUID().uuidString).csv.gz"
        XCTAssertTrue(FileManager.default.createFile(atPath: damaged, contents: gzipped(Data(positions.utf8)).prefix(20)))
        XCTAssertThrowsError(try loadScenario(book(damaged, balancesFile, history: historyGz))) { error in
            XCTAssertEqual((error as? ScenarioError)?.file, damaged)
            XCTAssertTrue("\(error)".contains("gzip"), "\(error)")
        }
    }

    // MARK: - Included sections (item 4)

    /// A scenario whose `policy:` is `{include: FILE}`, or `--policy FILE`, is the scenario with that
    /// file's section written in; an included file's errors name that file, its line and the field.
    func testIncludedPolicyEqualsTheSplicedOne() throws {
        let folder = NSTemporaryDirectory() + "thresher-include-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let section = """
            # written by calibrate
            policy:
              ladder:
                BTC:
                  - {up_to: 100000, maintenance: {long: 0.05, short: 0.06}, initial: 0.1}
                  - {up_to: 1000000, maintenance: 0.08}
              liquidation_penalty: 0.01
            """
        try section.write(toFile: folder + "/cal.yaml", atomically: true, encoding: .utf8)
        let base = scenarioText(paths: 1000)
        let included = folder + "/book.yaml"
        try (base + "\npolicy: {include: cal.yaml}\n").write(toFile: included, atomically: true, encoding: .utf8)
        let spliced = try loadScenario(base + "\n" + section)
        for scenario in [try Scenario.load(path: included), try Scenario.load(path: temporaryFile(base), sections: [.policy: folder + "/cal.yaml"])] {
            let policy = try XCTUnwrap(scenario.policy)
            XCTAssertEqual(policy.schedule.tiers, try XCTUnwrap(spliced.policy).schedule.tiers)
            XCTAssertEqual(policy.schedule.tiers[0][0], MarginTier(upTo: 100000, maintenanceLong: 0.05, maintenanceShort: 0.06, initial: 0.1))
            XCTAssertEqual(policy.liquidationPenalty, 0.01)
        }
        // --set edits an included section too.
        let edited = try Scenario.load(path: included, overrides: [Override("policy.liquidation_penalty=0.02")])
        XCTAssertEqual(edited.policy?.liquidationPenalty, 0.02)

        // An error inside the included file: its name, its line (5) and the field path.
        try section.replacingOccurrences(of: "short: 0.06", with: "short: 6").write(toFile: folder + "/cal.yaml", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: included)) { error in
            let error = error as? ScenarioError
            XCTAssertEqual(error?.file, folder + "/cal.yaml")
            XCTAssertEqual(error?.line, 5)
            XCTAssertEqual(error?.path, "policy.ladder.BTC[0].maintenance.short")
        }
        // A file without the section, an include beside other fields, a missing file.
        try "ladder: {}\n".write(toFile: folder + "/bare.yaml", atomically: true, encoding: .utf8)
        try (base + "\npolicy: {include: bare.yaml}\n").write(toFile: included, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: included)) { error in
            XCTAssertEqual((error as? ScenarioError)?.file, folder + "/bare.yaml")
            XCTAssertTrue("\(error)".contains("no top-level 'policy:'"), "\(error)")
        }
        try (base + "\npolicy: {include: cal.yaml, liquidation_penalty: 0.1}\n").write(toFile: included, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: included)) { error in
            XCTAssertEqual((error as? ScenarioError)?.path, "policy.include")
            XCTAssertEqual((error as? ScenarioError)?.file, included)
        }
        try (base + "\npolicy: {include: missing.yaml}\n").write(toFile: included, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Scenario.load(path: included)) { error in
            let error = error as? ScenarioFileError
            XCTAssertEqual(error?.path, folder + "/missing.yaml")
            XCTAssertEqual(error?.exitStatus, 66)
            XCTAssertTrue(error?.reason.contains("policy.include") == true, "\(String(describing: error))")
        }
    }

    // MARK: - Implausible inputs and depth "*" (item 6)

    func testDepthStarIsEveryAssetNotNamed() throws {
        func calibration(_ depth: String) -> String {
            scenarioText(paths: 1000, assets: "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 3000, vol: 0.9}",
                         correlation: "{uniform: 0.5}",
                         positions: "        - {type: perp, asset: BTC, quantity: 1}\n        - {type: perp, asset: ETH, quantity: 1}")
                + "\ncalibration:\n  breach_probability: 0.01\n  liquidation: {horizon_hours: 1, depth: \(depth)}\n  tiers: [100000]\n"
        }
        XCTAssertEqual(try loadScenario(calibration("{\"*\": 20000000}")).calibration?.depth, ["BTC": 2e7, "ETH": 2e7])
        XCTAssertEqual(try loadScenario(calibration("{BTC: 50000000, \"*\": 20000000}")).calibration?.depth, ["BTC": 5e7, "ETH": 2e7])
        assertRejected(calibration("{BTC: 50000000}"), path: "calibration.liquidation.depth.ETH", mentioning: "missing market depth")
        assertRejected(calibration("{SOL: 1}"), path: "calibration.liquidation.depth.SOL", mentioning: "or * for every asset")
    }
}

private extension Result {
    var failure: Failure? { if case .failure(let f) = self { return f }; return nil }
}
