import Foundation

/// A store of runs of record: an SQLite file or a PostgreSQL database (module RunStoreBackends),
/// with one schema. Each `record` is one transaction: a run lands whole or not at all.
public protocol ResultsStore {
    /// Stores a run and its report's metrics in one transaction.
    /// - Returns: the new run's id.
    func record(_ identity: RunIdentity, report: Data) throws -> Int64
    /// Every run, oldest first (without scenario text and report).
    func runs() throws -> [RunSummary]
    /// One run, whole.
    /// - Throws: `StoreError.unknownRun`.
    func run(_ id: Int64) throws -> StoredRun
    /// The metric rows of a run.
    func metrics(run id: Int64) throws -> [MetricRow]
    /// The rows of every run whose scope, key and metric match (nil scope/key: any), oldest run first.
    func series(metric: String, scope: String?, key: String?) throws -> [(run: Int64, row: MetricRow)]
}

/// A line of `runs`: enough to pick a run.
public struct RunSummary: Sendable, Equatable {
    public var id: Int64
    public var command: String
    public var scenarioName: String
    public var scenarioDigest: String
    public var seed: UInt64?
    public var paths: Int?
    public var startedAt: Date
    public var finishedAt: Date

    public init(id: Int64, command: String, scenarioName: String, scenarioDigest: String, seed: UInt64?, paths: Int?, startedAt: Date, finishedAt: Date) {
        self.id = id
        self.command = command
        self.scenarioName = scenarioName
        self.scenarioDigest = scenarioDigest
        self.seed = seed
        self.paths = paths
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

extension ResultsStore {
    /// The run a reference names: a run id (`17`), `latest`, or `latest~N` (N runs before the
    /// latest, as git's `HEAD~N`).
    /// - Throws: `StoreError.unknownRun` (with the ids the store has).
    public func resolve(_ reference: String, store: String) throws -> Int64 {
        let all = try runs()
        let text = reference.trimmingCharacters(in: .whitespaces)
        var id: Int64?
        if let n = Int64(text) {
            id = all.contains { $0.id == n } ? n : nil
        } else if text == "latest" || text.hasPrefix("latest~") {
            let back = text == "latest" ? 0 : Int(text.dropFirst("latest~".count)) ?? -1
            if back >= 0, back < all.count { id = all[all.count - 1 - back].id }
        }
        guard let id else { throw StoreError.unknownRun(store: store, reference: reference, known: all.map(\.id)) }
        return id
    }
}
