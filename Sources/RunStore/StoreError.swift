import CommandSupport

/// Why a store cannot be used; each names the store and says what to do (README, "Exit codes").
public enum StoreError: ThresherError, Equatable {
    /// A reader named a store that does not exist (66).
    case missing(store: String)
    /// The file is not an SQLite database, or a database without Thresher's tables (65).
    case notAStore(store: String, reason: String)
    /// The store was written by a newer Thresher, with a schema this one does not know (65).
    case newerSchema(store: String, found: Int, known: Int, writtenBy: String)
    /// A run id or reference the store does not have (64).
    case unknownRun(store: String, reference: String, known: [Int64])
    /// A metric no run of the store has (64).
    case unknownMetric(store: String, metric: String, hint: String)
    /// The store cannot be reached (a server that does not answer) (69).
    case unavailable(store: String, reason: String)
    /// The run could not be written: nothing of it was stored (73).
    case cannotWrite(store: String, reason: String)

    public var exitStatus: Int32 {
        switch self {
        case .missing: return ExitStatus.missingInput
        case .notAStore, .newerSchema: return ExitStatus.invalidScenario
        case .unknownRun, .unknownMetric: return ExitStatus.usage
        case .unavailable: return ExitStatus.unavailable
        case .cannotWrite: return ExitStatus.cannotWrite
        }
    }

    public var description: String {
        switch self {
        case .missing(let store):
            return "\(store): no such store (a store is made by the first '--store \(store)' of run, calibrate, …)"
        case .notAStore(let store, let reason):
            return "\(store): not a Thresher results store: \(reason)"
        case .newerSchema(let store, let found, let known, let writtenBy):
            return "\(store): the store has schema version \(found), written by thresher \(writtenBy); this thresher knows versions up to \(known): use a newer thresher (nothing was changed)"
        case .unknownRun(let store, let reference, let known):
            let ids = known.isEmpty ? "it has no runs" : "its runs are \(Self.ranges(known)); also 'latest' and 'latest~N'"
            return "\(store): no run '\(reference)': \(ids)"
        case .unknownMetric(let store, let metric, let hint):
            return "\(store): no run has a metric '\(metric)'\(hint)"
        case .unavailable(let store, let reason):
            return "\(store): cannot reach the store: \(reason)"
        case .cannotWrite(let store, let reason):
            return "\(store): the run was not stored (nothing of it was written): \(reason)"
        }
    }

    /// "1-4, 7, 9-12".
    static func ranges(_ ids: [Int64]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = ids.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }
}
