import Foundation
import GRDB
import XCTest
@testable import RunStore
@testable import RunStoreBackends

/// `--store`, `thresher history` and `thresher diff` end to end, with the `thresher` binary.
final class RunStoreCommandLineTests: BinaryTestCase {
    let scenario = "Scenarios/default.yaml"

    /// A JSON document as Foundation's `JSONDecoder` reads it (correctly rounded numbers;
    /// `JSONSerialization` on Linux is off by an ulp on some 17-digit numbers).
    indirect enum Decoded: Decodable {
        case number(Double), text(String), flag(Bool), null, list([Decoded]), object([String: Decoded])
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if c.decodeNil() { self = .null } else if let b = try? c.decode(Bool.self) { self = .flag(b) } else if let x = try? c.decode(Double.self) {
                self = .number(x)
            } else if let s = try? c.decode(String.self) { self = .text(s) } else if let a = try? c.decode([Decoded].self) { self = .list(a) } else {
                self = .object(try c.decode([String: Decoded].self))
            }
        }
    }

    /// Every number and true/false (1/0) of a JSON report parsed by Foundation (not the store's
    /// parser), by JSON Pointer.
    func numbers(ofJSONFile path: String) throws -> [String: Double] {
        let document = try JSONDecoder().decode(Decoded.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
        var out: [String: Double] = [:]
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        func walk(_ value: Decoded, _ pointer: String) {
            switch value {
            case .object(let fields): for (k, v) in fields { walk(v, pointer + "/" + escape(k)) }
            case .list(let items): for (i, v) in items.enumerated() { walk(v, pointer + "/\(i)") }
            case .number(let x): out[pointer] = x
            case .flag(let b): out[pointer] = b ? 1 : 0
            case .text, .null: return
            }
        }
        walk(document, "")
        return out
    }

    func runCount(_ path: String) throws -> (runs: Int, metrics: Int, integrity: String) {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM runs")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM metrics")!,
             try String.fetchOne(db, sql: "PRAGMA integrity_check")!)
        }
    }

    /// run, calibrate, evaluate, robustness, stress and a merge of two slices, each stored: the
    /// stored report is the --json file byte for byte, and the metrics table holds every number of
    /// it at its JSON Pointer, equal to the last bit; the identity says what was run.
    func testStoredRunEqualsItsJSONReportNumberForNumber() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        let commands: [[String]] = [
            ["run", scenario, "--paths", "20000", "--seed", "11", "--set", "market.assets.BTC.vol=0.6"],
            ["calibrate", scenario, "--paths", "20000"],
            ["evaluate", scenario, "--paths", "20000", "--shock", "BTC=-0.1"],
            ["robustness", scenario, "--paths", "5000"],
            ["stress", scenario],
        ]
        var expected: [(command: String, json: String)] = []
        for (k, arguments) in commands.enumerated() {
            let json = folder + "/\(k).json"
            let r = try run(arguments + ["--json", json, "--store", store, "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            expected.append((arguments[0], json))
        }
        for part in 0..<2 {
            let r = try run(["run", scenario, "--paths", "20000", "--slice", "\(part)/2", "--partial", folder + "/p\(part).part", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let merged = try run(["merge", folder + "/p0.part", folder + "/p1.part", "--json", folder + "/merged.json", "--store", store])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertTrue(merged.stderr.contains("stored as run 6 in \(store)"), merged.stderr)
        expected.append(("run", folder + "/merged.json"))

        let opened = try SQLiteRunStore(path: store, create: false)
        let runs = try opened.runs()
        XCTAssertEqual(runs.map(\.command), expected.map(\.command))
        for (summary, (_, json)) in zip(runs, expected) {
            let stored = try opened.run(summary.id)
            XCTAssertEqual(stored.report, try Data(contentsOf: URL(fileURLWithPath: json)), "run \(summary.id): the report as --json wrote it")
            let reference = try numbers(ofJSONFile: json)
            let rows = try opened.metrics(run: summary.id)
            XCTAssertEqual(rows.count, reference.count, "run \(summary.id) (\(summary.command)): one row per number")
            var mismatches = 0
            for row in rows where reference[row.path]?.bitPattern != row.value.bitPattern { mismatches += 1 }
            XCTAssertEqual(mismatches, 0, "run \(summary.id): rows equal to the report's numbers")
            XCTAssertEqual(stored.identity.scenarioText, try String(contentsOfFile: scenario, encoding: .utf8))
            XCTAssertEqual(stored.identity.scenarioDigest, SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: scenario))))
            XCTAssertEqual(stored.identity.scenarioName, "default-venue")
        }
        let first = try opened.run(runs[0].id).identity
        XCTAssertEqual(first.seed, 11)
        XCTAssertEqual(first.paths, 20000)
        XCTAssertEqual(first.overrides, ["--set market.assets.BTC.vol=0.6"])
        XCTAssertEqual(first.tailModel, "student-t")
        XCTAssertNil(try opened.run(runs[4].id).identity.seed, "stress draws no paths")
        XCTAssertEqual(try opened.run(runs[5].id).identity.arguments.first, "merge")
        // The ladder's rates carry their standard error and interval.
        let ladder = try opened.metrics(run: runs[1].id).filter { $0.scope == "maintenance_margin" && $0.metric == "rate" }
        XCTAssertFalse(ladder.isEmpty)
        XCTAssertTrue(ladder.allSatisfy { $0.stdError != nil && $0.lo != nil && $0.hi != nil && $0.lo! <= $0.hi! })
    }

    /// A writer killed (SIGKILL) inside its transaction, halfway through its metrics: the store
    /// stays valid, without a trace of that run, and the next run stores normally.
    func testKilledWriterLeavesNoPartialRun() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        XCTAssertEqual(try run(["run", scenario, "--paths", "5000", "--store", store, "--quiet"]).status, 0)
        let before = try runCount(store)
        try killMidWrite(["calibrate", scenario, "--paths", "5000", "--store", store, "--quiet"])
        let after = try runCount(store)
        XCTAssertEqual(after.integrity, "ok")
        XCTAssertEqual(after.runs, before.runs)
        XCTAssertEqual(after.metrics, before.metrics)
        XCTAssertEqual(try run(["run", scenario, "--paths", "5000", "--store", store, "--quiet"]).status, 0)
        XCTAssertEqual(try runCount(store).runs, before.runs + 1)
    }

    /// Two writers at once into a new store, each holding its transaction open for a second: both
    /// land whole (the second waits on the lock), and the store is valid.
    func testConcurrentWritersBothLand() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        var processes: [Process] = []
        for seed in [1, 2] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["calibrate", scenario, "--paths", "5000", "--seed", "\(seed)", "--store", store, "--quiet", "--json", folder + "/\(seed).json"]
            process.environment = ProcessInfo.processInfo.environment.merging(["THRESHER_STORE_TEST_PAUSE": "1"]) { $1 }
            process.standardError = FileHandle.nullDevice
            processes.append(process)
        }
        for process in processes { try process.run() }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(processes.map(\.terminationStatus), [0, 0])
        let counts = try runCount(store)
        XCTAssertEqual(counts.integrity, "ok")
        XCTAssertEqual(counts.runs, 2)
        let expected = try numbers(ofJSONFile: folder + "/1.json").count + numbers(ofJSONFile: folder + "/2.json").count
        XCTAssertEqual(counts.metrics, expected)
    }

    func diffJSON(_ store: String, _ a: String, _ b: String, _ extra: [String] = []) throws -> [String: Any] {
        let r = try run(["diff", store, a, b, "--json", "-"] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// A hand-made change (BTC's vol 0.55 → 0.75, same seed) moves the book's VaR and ES beyond
    /// noise, and the diff lists the input that changed; an account that starts failing is named.
    func testDiffFlagsAHandMadeChange() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        for extra in [[], ["--set", "market.assets.BTC.vol=0.75"]] {
            XCTAssertEqual(try run(["run", scenario, "--paths", "20000", "--store", store, "--quiet"] + extra).status, 0)
        }
        let diff = try diffJSON(store, "1", "latest")
        let metrics = try XCTUnwrap(diff["metrics"] as? [[String: Any]])
        let moved = Set(metrics.filter { $0["status"] as? String == "moved" }.map { "\($0["scope"]!) \($0["metric"]!)" })
        XCTAssertTrue(moved.isSuperset(of: ["book var.0.99", "book es.0.99"]), "\(moved)")
        let inputs = try XCTUnwrap(diff["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.map { "\($0["key"]!) \($0["metric"]!) \($0["a"]!) \($0["b"]!)" }, ["BTC vol 0.55 0.75"])
        let table = try run(["diff", store, "1", "2"])
        XCTAssertTrue(table.stdout.contains("book var.0.99") && table.stdout.contains("moved"), table.stdout)

        // evaluate: an account whose collateral and BNB are taken away starts failing (in breach of maintenance).
        for extra in [[], ["--set", "portfolio.accounts.alt-long.collateral.USD=0", "--set", "portfolio.accounts.alt-long.collateral.SOL=0",
                                "--set", "portfolio.accounts.alt-long.positions.3.quantity=0"]] {
            XCTAssertEqual(try run(["evaluate", scenario, "--paths", "5000", "--store", store, "--quiet"] + extra).status, 0)
        }
        let accounts = try XCTUnwrap(try diffJSON(store, "3", "4")["accounts"] as? [String: [String]])
        XCTAssertEqual(accounts["started_failing"], ["alt-long"])
        XCTAssertEqual(accounts["appeared"], [])
    }

    /// Two seeds of one scenario: at a family-wise rate of 5 % a pair flags any metric with
    /// probability ≤ 5 %; of three independent pairs (seeds 1-6), two or more flag with probability
    /// ≤ 3·0.05² ≈ 0.7 % — the test fails only then. The calibrate pair is also checked whole.
    func testDiffStaysSilentOnTwoSeedsOfTheSameScenario() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        for seed in 1...6 {
            XCTAssertEqual(try run(["run", scenario, "--paths", "20000", "--seed", "\(seed)", "--store", store, "--quiet"]).status, 0)
        }
        var flaggedPairs = 0, tested = 0
        for pair in 0..<3 {
            let diff = try diffJSON(store, "\(2 * pair + 1)", "\(2 * pair + 2)")
            let test = try XCTUnwrap(diff["test"] as? [String: Any])
            tested += test["tests"] as? Int ?? 0
            if (diff["moved"] as? Int ?? 0) > 0 { flaggedPairs += 1 }
            XCTAssertEqual((diff["inputs"] as? [Any])?.count, 0)
        }
        XCTAssertGreaterThan(tested, 30, "VaR and ES of the book and every account have standard errors")
        XCTAssertLessThanOrEqual(flaggedPairs, 1)
        for seed in [7, 8] {
            XCTAssertEqual(try run(["calibrate", scenario, "--paths", "20000", "--seed", "\(seed)", "--store", store, "--quiet"]).status, 0)
        }
        let calibrate = try diffJSON(store, "latest~1", "latest")
        XCTAssertGreaterThan((calibrate["test"] as? [String: Any])?["tests"] as? Int ?? 0, 24, "every tier's rate is tested")
        XCTAssertEqual(calibrate["moved"] as? Int, 0)
    }

    /// history: the runs, then one metric over them with its interval; the HTML draws the bands.
    func testHistoryShowsAMetricOverTheRuns() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        for seed in 1...3 {
            XCTAssertEqual(try run(["run", scenario, "--paths", "20000", "--seed", "\(seed)", "--store", store, "--json", folder + "/\(seed).json", "--quiet"]).status, 0)
        }
        let list = try run(["history", store])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("default-venue") && list.stdout.contains("3 runs stored"), list.stdout)
        let r = try run(["history", store, "--metric", "var.0.99", "--scope", "book", "--json", "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let points = try XCTUnwrap((JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["points"] as? [[String: Any]])
        XCTAssertEqual(points.map { $0["run_id"] as? Int }, [1, 2, 3])
        for (seed, point) in zip(1...3, points) {
            XCTAssertEqual(point["value"] as? Double, try numbers(ofJSONFile: folder + "/\(seed).json")["/book/var/0.99"])
            XCTAssertNotNil(point["std_error"] as? Double)
        }
        let html = folder + "/history.html"
        XCTAssertEqual(try run(["history", store, "--metric", "var.0.99", "--scope", "book", "--html", html, "--quiet"]).status, 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("class=\"band\""), "the intervals drawn as a band")
        let table = try run(["history", store, "--metric", "var.0.99"])
        XCTAssertTrue(table.stdout.contains("accounts[basis-desk]"), "every scope and key with the metric")
    }

    /// explain on a change with known causes: BTC's vol (market.vols) and alt-long's SOL perp
    /// (portfolio). On common random numbers, basis-desk (BTC, no change of its own) moves by its
    /// vol piece alone and alt-long (no BTC) by its portfolio piece alone, to the bit; every
    /// metric's pieces plus the remainder equal its total exactly; the re-run of A reproduces A.
    func testExplainAttributesAKnownChangeAndAddsUpExactly() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        for extra in [[], ["--set", "market.assets.BTC.vol=0.75", "--set", "portfolio.accounts.alt-long.positions.0.quantity=60000"]] {
            XCTAssertEqual(try run(["run", scenario, "--paths", "20000", "--store", store, "--quiet"] + extra).status, 0)
        }
        let r = try run(["explain", store, "1", "2", "--metric", "var.0.99", "--json", "-", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["sections"] as? [String], ["market.vols", "portfolio"])
        XCTAssertEqual(report["reproduced_a"] as? Bool, true)
        // The exact sums, on numbers read with JSONDecoder.
        let decoded = try JSONDecoder().decode(Decoded.self, from: Data(r.stdout.utf8))
        guard case .object(let top) = decoded, case .list(let metrics)? = top["metrics"] else { return XCTFail("no metrics") }
        XCTAssertEqual(metrics.count, 6, "the book and five accounts")
        var byName: [String: (total: Double, vols: Double, portfolio: Double, remainder: Double)] = [:]
        for case .object(let m) in metrics {
            guard case .number(let total)? = m["total"], case .number(let remainder)? = m["remainder"], case .object(let pieces)? = m["pieces"],
                  case .number(let vols)? = pieces["market.vols"], case .number(let portfolio)? = pieces["portfolio"],
                  case .text(let scope)? = m["scope"], case .text(let key)? = m["key"] else { return XCTFail("a metric without its numbers") }
            XCTAssertEqual((vols + portfolio) + remainder, total, "\(scope) \(key): pieces + remainder = total, to the bit")
            byName[key.isEmpty ? scope : key] = (total, vols, portfolio, remainder)
        }
        let basis = try XCTUnwrap(byName["basis-desk"]), alt = try XCTUnwrap(byName["alt-long"]), book = try XCTUnwrap(byName["book"])
        XCTAssertEqual([basis.portfolio, basis.remainder], [0, 0])
        XCTAssertEqual(basis.vols, basis.total)
        XCTAssertGreaterThan(basis.total, 0)
        XCTAssertEqual([alt.vols, alt.remainder], [0, 0])
        XCTAssertEqual(alt.portfolio, alt.total)
        XCTAssertGreaterThan(alt.total, 0)
        XCTAssertNotEqual(book.remainder, 0, "the book's VaR is not additive: the sections interact")
        let table = try run(["explain", store, "latest~1", "latest", "--metric", "var.0.99", "--scope", "book"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("market.vols") && table.stdout.contains("remainder"), table.stdout)
    }

    /// Bad stores and runs: a clear message naming what is wrong, and the documented status.
    func testBadStoreInputGetsAClearErrorAndExitStatus() throws {
        let folder = try temporaryFolder(), store = folder + "/runs.sqlite"
        XCTAssertEqual(try run(["run", scenario, "--paths", "2000", "--store", store, "--quiet"]).status, 0)
        let missing = try run(["diff", folder + "/none.sqlite", "1", "2"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertTrue(missing.stderr.contains("none.sqlite: no such store"), missing.stderr)
        let text = folder + "/notes.txt"
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        for arguments in [["history", text], ["run", scenario, "--paths", "2000", "--store", text]] {
            let r = try run(arguments)
            XCTAssertEqual(r.status, 65, r.stderr)
            XCTAssertTrue(r.stderr.contains("notes.txt: not a Thresher results store: the file is not an SQLite database"), r.stderr)
        }
        XCTAssertEqual(try String(contentsOfFile: text, encoding: .utf8), "hello\n", "left as it was")
        let unknown = try run(["diff", store, "1", "9"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("no run '9': its runs are 1"), unknown.stderr)
        let metric = try run(["history", store, "--metric", "no-such-metric"])
        XCTAssertEqual(metric.status, 64)
        XCTAssertTrue(metric.stderr.contains("no run has a metric 'no-such-metric'"), metric.stderr)
        let url = try run(["run", scenario, "--paths", "2000", "--store", "postgres://nobody@127.0.0.1:1/none"])
        XCTAssertEqual(url.status, 69, url.stderr)
        // A run that fails stores nothing.
        let bad = try run(["run", scenario, "--paths", "2000", "--set", "market.assets.BTC.vol=-1", "--store", store])
        XCTAssertEqual(bad.status, 65)
        XCTAssertEqual(try runCount(store).runs, 1)
    }
}

extension BinaryTestCase {
    /// Starts `thresher` with the store's test pause (THRESHER_STORE_TEST_PAUSE), waits until it
    /// says it paused inside its transaction, halfway through its metrics, and kills it (SIGKILL).
    func killMidWrite(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["THRESHER_STORE_TEST_PAUSE": "60"]) { $1 }
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var said = ""
        while !said.contains("paused mid-write") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(said.contains("paused mid-write"), said)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
    }
}
