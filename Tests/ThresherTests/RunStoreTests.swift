import Foundation
import GRDB
import XCTest
@testable import RunStore
@testable import RunStoreBackends

/// The results store as a library: SHA-256, the report → metrics rules, the diff's test, the
/// SQLite store's round trip, schema guard and errors.
final class RunStoreTests: XCTestCase {
    func temporaryPath(_ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "thresher-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder + "/" + name
    }

    /// FIPS 180-2 appendix B's examples.
    func testSHA256KnownAnswers() {
        XCTAssertEqual(SHA256.hex(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Data("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex(Data(repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    static let report = """
    {"scenario": "s", "paths": 1000, "seed": 7, "moments_exist": false,
     "inputs": {"assets": [{"id": "BTC", "spot": 95000, "vol": 0.55}], "correlation": [[1, 0.5], [0.5, 1]]},
     "book": {"var": {"0.99": 5.5, "0.999": 9}, "var_stderr": {"0.99": 0.25, "0.999": null}},
     "maintenance_margin": [{"asset": "BTC", "tier": 100000, "long": 0.04, "rate": 0.05, "stderr": 0.004}],
     "liquidation_penalty": {"rate": 0.0008, "expected_deficit": 33.5},
     "insurance_fund": {"var": 0, "es": 12},
     "confidence_intervals": {"maintenance_margin": [{"asset": "BTC", "tier": 100000, "rate": [0.045, 0.055]}],
                              "liquidation_penalty_rate": [0.0006, 0.001], "insurance_fund": {"es": [10, 14]}, "sections": 10},
     "accounts": [{"id": "desk-1", "account": "desk-1", "in_breach": true, "thresholds": {"warn": 3}},
                  {"id": "a/b~c", "in_breach": false}],
     "thresher": {"version": "0.7.0"}}
    """

    /// Every number and true/false is a row at its JSON Pointer, with the documented scope, key,
    /// metric, kind, standard error and interval.
    func testFlattenerRules() throws {
        let rows = MetricFlattener.rows(of: try ReportTree.parse(Data(Self.report.utf8)))
        let byPath = Dictionary(uniqueKeysWithValues: rows.map { ($0.path, $0) })
        XCTAssertEqual(rows.count, byPath.count)
        // Every number and true/false of the text: paths, seed, moments_exist (3); inputs spot, vol,
        // 4 correlations (6); book 2 var + 1 se, the null left out (3); ladder tier, long, rate, stderr (4);
        // penalty 2; fund 2; intervals 2 + 2 + 2, a tier and sections (8); accounts 2 true/false + warn (3).
        XCTAssertEqual(rows.count, 31)
        XCTAssertEqual(byPath["/paths"].map { [$0.scope, $0.metric, $0.kind.rawValue] }, ["run", "paths", "run"])
        XCTAssertEqual(byPath["/moments_exist"]?.value, 0)
        XCTAssertEqual(byPath["/inputs/correlation/0/1"].map { [$0.scope, $0.metric, $0.kind.rawValue] }, ["inputs", "correlation[0][1]", "input"])
        XCTAssertEqual(byPath["/inputs/assets/0/vol"].map { [$0.scope, $0.key, $0.metric] }, ["inputs.assets", "BTC", "vol"])
        let var99 = try XCTUnwrap(byPath["/book/var/0.99"])
        XCTAssertEqual([var99.scope, var99.key, var99.metric, var99.kind.rawValue], ["book", "", "var.0.99", "estimate"])
        XCTAssertEqual(var99.stdError, 0.25)
        XCTAssertNil(byPath["/book/var/0.999"]?.stdError)
        XCTAssertEqual(byPath["/book/var_stderr/0.99"]?.kind, .stdError)
        let rate = try XCTUnwrap(byPath["/maintenance_margin/0/rate"])
        XCTAssertEqual([rate.scope, rate.key, rate.metric], ["maintenance_margin", "BTC/100000", "rate"])
        XCTAssertEqual(rate.stdError, 0.004, "a 'stderr' field belongs to the number before it")
        XCTAssertNil(byPath["/maintenance_margin/0/long"]?.stdError)
        XCTAssertEqual(rate.lo, 0.045)
        XCTAssertEqual(rate.hi, 0.055)
        XCTAssertEqual(byPath["/liquidation_penalty/rate"]?.lo, 0.0006)
        XCTAssertEqual(byPath["/insurance_fund/es"]?.hi, 14)
        XCTAssertNil(byPath["/insurance_fund/var"]?.lo)
        XCTAssertEqual(byPath["/confidence_intervals/maintenance_margin/0/rate/1"]?.kind, .interval)
        XCTAssertEqual(byPath["/accounts/0/in_breach"].map { [$0.key, $0.metric, String($0.value)] }, ["desk-1", "in_breach", "1.0"])
        XCTAssertEqual(byPath["/accounts/0/thresholds/warn"]?.metric, "thresholds.warn")
        XCTAssertEqual(byPath["/accounts/1/in_breach"]?.key, "a/b~c")
    }

    /// Synthetic runs: a move of 10 standard errors is flagged, moves of 0.5 are not; an input
    /// change and accounts that appear or start failing are listed.
    func testComparisonFlagsOnlyMovesBeyondNoise() {
        func row(_ metric: String, _ value: Double, se: Double? = 1, scope: String = "book", key: String = "", kind: MetricRow.Kind = .estimate) -> MetricRow {
            MetricRow(path: "/\(scope)/\(key)/\(metric)", scope: scope, key: key, metric: metric, kind: kind, value: value, stdError: se)
        }
        var a = (0..<100).map { row("m\($0)", 100) }, b = (0..<100).map { row("m\($0)", 100.5) }
        b[7] = row("m7", 110)
        a += [row("vol", 0.5, se: nil, scope: "inputs.assets", key: "BTC", kind: .input), row("in_breach", 0, se: nil, scope: "accounts", key: "x"),
              row("in_breach", 0, se: nil, scope: "accounts", key: "gone")]
        b += [row("vol", 0.6, se: nil, scope: "inputs.assets", key: "BTC", kind: .input), row("in_breach", 1, se: nil, scope: "accounts", key: "x"),
              row("in_breach", 0, se: nil, scope: "accounts", key: "new")]
        let c = RunComparison(a: a, b: b)
        XCTAssertEqual(c.tests, 100)
        XCTAssertEqual(c.moved.map(\.metric), ["m7"])
        XCTAssertEqual(c.moved[0].z!, 10 / 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(c.firstThreshold, 3.4806, accuracy: 1e-3, "Φ⁻¹(1 − 0.05/200)")
        XCTAssertEqual(c.changes.filter { $0.status == .withinNoise }.count, 99)
        XCTAssertEqual(c.inputs.map(\.metric), ["vol"])
        XCTAssertEqual(c.accounts, AccountChanges(appeared: ["new"], vanished: ["gone"], startedFailing: ["x"], stoppedFailing: []))
    }

    /// Holm's family-wise rate, measured: 4,000 pairs of runs of 40 metrics that differ only by
    /// normal noise of their stated standard errors (unequal), with 5 % asked: the share of pairs
    /// with any flag is 1 − (1 − 0.05/40)^40 ≈ 4.88 % for independent metrics; 99.9 % binomial
    /// band for 4,000 pairs: ± 1.12 points.
    func testFamilyWiseFalseAlarmRateIsTheStatedOne() {
        var state: UInt64 = 20_261_207
        func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return (Double((z ^ (z >> 31)) >> 11) + 0.5) / 0x1p53
        }
        func normal() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
        let families = 4_000, m = 40
        var alarms = 0
        for _ in 0..<families {
            var a: [MetricRow] = [], b: [MetricRow] = []
            for k in 0..<m {
                let se = 0.5 + Double(k) / 10
                a.append(MetricRow(path: "/m/\(k)", scope: "m", key: "", metric: "m\(k)", kind: .estimate, value: 50 + se * normal(), stdError: se))
                b.append(MetricRow(path: "/m/\(k)", scope: "m", key: "", metric: "m\(k)", kind: .estimate, value: 50 + se * normal(), stdError: se))
            }
            if !RunComparison(a: a, b: b).moved.isEmpty { alarms += 1 }
        }
        let share = Double(alarms) / Double(families)
        XCTAssertEqual(share, 1 - pow(1 - 0.05 / Double(m), Double(m)), accuracy: 0.0112, "share of null pairs with a flag")
    }

    func identity(_ name: String = "s") -> RunIdentity {
        RunIdentity(command: "run", scenarioName: name, scenarioPath: "/tmp/s.yaml", scenarioText: "name: \(name)\n", overrides: ["--set a=1"],
                    arguments: ["run", "s.yaml"], seed: 18_000_000_000_000_000_001, paths: 1000, tailModel: "student-t", monitoring: nil,
                    version: "0.7.0", commit: "abc", startedAt: Date(timeIntervalSince1970: 1_800_000_000.125),
                    finishedAt: Date(timeIntervalSince1970: 1_800_000_001.5), host: "h")
    }

    /// A run written and read back: the identity (a seed above 2⁶³ too), the report byte for byte,
    /// and the metric rows equal to the report's.
    func testStoreRoundTrip() throws {
        let path = try temporaryPath("runs.sqlite")
        let store = try SQLiteRunStore(path: path, create: true)
        let report = Data(Self.report.utf8)
        let id = try store.record(identity(), report: report)
        let again = try SQLiteRunStore(path: path, create: false)
        let run = try again.run(id)
        XCTAssertEqual(run.identity, identity())
        XCTAssertEqual(run.report, report)
        XCTAssertEqual(try again.metrics(run: id), MetricFlattener.rows(of: try ReportTree.parse(report)))
        XCTAssertEqual(try again.resolve("latest", store: path), id)
        XCTAssertEqual(try again.series(metric: "rate", scope: "maintenance_margin", key: nil).map(\.row.value), [0.05])
        XCTAssertThrowsError(try again.resolve("latest~1", store: path)) { error in
            XCTAssertEqual((error as? StoreError)?.exitStatus, 64)
            XCTAssertTrue("\(error)".contains("no run 'latest~1'"), "\(error)")
        }
    }

    /// A store whose schema_version is above this build's is refused, unchanged; a file that is
    /// not SQLite, an SQLite database of something else and a missing store are named as such.
    func testNewerForeignAndMissingStoresAreRefused() throws {
        let path = try temporaryPath("runs.sqlite")
        _ = try SQLiteRunStore(path: path, create: true)
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "UPDATE store_info SET value = '99' WHERE name = 'schema_version'") }
        try queue.close()
        XCTAssertThrowsError(try SQLiteRunStore(path: path, create: true)) { error in
            XCTAssertEqual((error as? StoreError)?.exitStatus, 65)
            XCTAssertTrue("\(error)".contains("schema version 99") && "\(error)".contains("use a newer thresher"), "\(error)")
        }
        let text = try temporaryPath("notes.txt")
        try Data("not a database\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try SQLiteRunStore(path: text, create: true)) { error in
            XCTAssertEqual(error as? StoreError, .notAStore(store: text, reason: "the file is not an SQLite database"))
        }
        let foreign = try temporaryPath("other.sqlite")
        let other = try DatabaseQueue(path: foreign)
        try other.write { try $0.execute(sql: "CREATE TABLE t (x)") }
        try other.close()
        XCTAssertThrowsError(try SQLiteRunStore(path: foreign, create: true)) { error in
            XCTAssertTrue("\(error)".contains("without Thresher's tables"), "\(error)")
        }
        XCTAssertThrowsError(try SQLiteRunStore(path: foreign + ".missing", create: false)) { error in
            XCTAssertEqual((error as? StoreError)?.exitStatus, 66)
        }
        XCTAssertThrowsError(try RunStores.open("postgres://nobody@127.0.0.1:1/none", create: true)) { error in
            XCTAssertEqual((error as? StoreError)?.exitStatus, 69)
        }
    }
}
