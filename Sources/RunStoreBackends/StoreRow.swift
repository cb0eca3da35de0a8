import Foundation
import RunStore
import GRDB

/// A value of a store's column, independent of the database library.
enum StoreValue {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null

    var databaseValue: DatabaseValue {
        switch self {
        case .text(let s): return s.databaseValue
        case .integer(let n): return n.databaseValue
        case .real(let x): return x.databaseValue
        case .null: return .null
        }
    }
}

/// Rows of `runs` and `metrics` to and from values, for every store.
enum StoreRow {
    /// The values of `StoreSchema.runColumns` for a run.
    static func run(_ i: RunIdentity, report: Data) -> [StoreValue] {
        func text(_ s: String?) -> StoreValue { s.map(StoreValue.text) ?? .null }
        return [.text(i.command), .text(i.scenarioName), .text(i.scenarioPath), .text(i.scenarioDigest), .text(i.scenarioText),
                text(i.policyText), text(i.marketText), .text(jsonArray(i.overrides)), .text(jsonArray(i.arguments)),
                text(i.seed.map(String.init)), i.paths.map { .integer(Int64($0)) } ?? .null, text(i.tailModel), text(i.monitoring),
                .text(i.version), .text(i.commit), .text(Timestamp.text(i.startedAt)), .text(Timestamp.text(i.finishedAt)), .text(i.host),
                .text(String(decoding: report, as: UTF8.self))]
    }

    /// A stored run from a row of `runs` (`column`: a column's text, nil for NULL).
    static func storedRun(id: Int64, column: (String) -> String?) -> StoredRun {
        let identity = RunIdentity(
            command: column("command") ?? "", scenarioName: column("scenario_name") ?? "", scenarioPath: column("scenario_path") ?? "",
            scenarioText: column("scenario_text") ?? "", policyText: column("policy_text"), marketText: column("market_text"),
            overrides: strings(column("overrides")), arguments: strings(column("arguments")), seed: column("seed").flatMap { UInt64($0) },
            paths: column("paths").flatMap { Int($0) }, tailModel: column("tail_model"), monitoring: column("monitoring"),
            version: column("thresher_version") ?? "", commit: column("thresher_commit") ?? "",
            startedAt: Timestamp.date(column("started_at") ?? ""), finishedAt: Timestamp.date(column("finished_at") ?? ""), host: column("host") ?? "")
        return StoredRun(id: id, identity: identity, report: Data((column("report_json") ?? "").utf8))
    }

    /// A metric from a row of `metrics`.
    static func metric(column: (String) -> DatabaseValue) -> MetricRow {
        func double(_ name: String) -> Double? { Double.fromDatabaseValue(column(name)) }
        func text(_ name: String) -> String { String.fromDatabaseValue(column(name)) ?? "" }
        return MetricRow(path: text("path"), scope: text("scope"), key: text("key"), metric: text("metric"),
                         kind: MetricRow.Kind(rawValue: text("kind")) ?? .estimate, value: double("value") ?? .nan,
                         stdError: double("std_error"), lo: double("lo"), hi: double("hi"))
    }

    static func jsonArray(_ items: [String]) -> String {
        (try? String(decoding: JSONSerialization.data(withJSONObject: items, options: [.withoutEscapingSlashes]), as: UTF8.self)) ?? "[]"
    }

    static func strings(_ text: String?) -> [String] {
        guard let text, let items = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else { return [] }
        return items
    }
}

/// What the store records of the Thresher that wrote it (`store_info.written_by`) and its test hook.
public enum StoreWriter {
    /// The release that writes (set by the command line at start).
    nonisolated(unsafe) public static var version = "unknown"

    /// `THRESHER_STORE_TEST_PAUSE=SECONDS` (tests only): halfway through a run's metrics, inside its
    /// transaction, say so on stderr and wait, so that a test can kill the writer mid-write.
    static func pauseForTest(_ seconds: Double) {
        FileHandle.standardError.write(Data("store: paused mid-write\n".utf8))
        Thread.sleep(forTimeInterval: seconds)
    }
}
