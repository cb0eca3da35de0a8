import CommandSupport
import Foundation
import Synchronization
import TailStats
import WorkerPool

/// One Monte Carlo pass over a path range: the accumulated values of `paths`, computable over any
/// aligned sub-range (a slice run by another process), the slices merging into the whole exactly.
public struct PathJob<Accumulator: PathAccumulator> {
    public let paths: Range<Int>
    /// An empty accumulator for this job (its plans sized for all of `paths`).
    public let makeAccumulator: () -> Accumulator
    /// The accumulated values of an aligned sub-range of `paths`, in this process.
    public let accumulate: (Range<Int>) throws -> Accumulator

    public init(paths: Range<Int>, makeAccumulator: @escaping () -> Accumulator, accumulate: @escaping (Range<Int>) throws -> Accumulator) {
        self.paths = paths
        self.makeAccumulator = makeAccumulator
        self.accumulate = accumulate
    }

    /// The accumulator of `sub` (empty when `sub` holds no path).
    func accumulate(slice sub: Range<Int>) throws -> Accumulator {
        sub.isEmpty ? makeAccumulator() : try accumulate(sub)
    }
}

/// Spreads the passes of a command over processes. Each call of `stage` is one *stage*: every
/// process computes its slice of each job's paths, the slices' states are merged in slice order,
/// and the merged accumulators are what the command goes on with. A command's passes are a fixed
/// sequence of stages (run: 1; evaluate and calibrate: 3), so every process sees the same sequence.
public protocol PathCoordinator: AnyObject, Sendable {
    /// Checks that this process computes the same scenario as the others (`sourceDigest` and the
    /// effective options); throws a `CoordinationError` when not.
    func begin(digest: UInt64) throws
    /// The merged accumulators of `jobs` (one per job, in order).
    func stage<A: PathAccumulator>(_ jobs: [PathJob<A>], threads: Int) throws -> [A]
    /// Whether this process writes the reports (one process of a run does).
    var ownsOutput: Bool { get }
}

/// Why a distributed run cannot go on.
public struct CoordinationError: ThresherError {
    public let message: String
    /// `ExitStatus.invalidScenario` for processes that do not fit together; `.usage` for a launcher
    /// environment that names no valid slice.
    public let exitStatus: Int32
    public init(_ message: String, exitStatus: Int32 = ExitStatus.invalidScenario) {
        self.message = message
        self.exitStatus = exitStatus
    }
    public var description: String { message }
}

/// Aligned slices of a path range.
public enum PathSlicing {
    /// Slice `index` of `count` of `range`: bounds at multiples of 64 paths (from the range's start,
    /// itself aligned) except the range's end; the slices cover `range` once, in order.
    public static func slice(_ range: Range<Int>, index: Int, of count: Int) -> Range<Int> {
        precondition(count >= 1 && (0..<count).contains(index))
        func bound(_ j: Int) -> Int {
            j == count ? range.upperBound : range.lowerBound + (j * range.count / count) / ChunkPlan.alignment * ChunkPlan.alignment
        }
        return bound(index)..<bound(index + 1)
    }
}

/// The bytes of one stage: for each job its path range and its accumulator's state.
public enum StagePayload {
    public static func encode<A: PathAccumulator>(_ results: [A], jobs: [PathJob<A>]) -> Data {
        var writer = StateWriter()
        writer.write(jobs.count)
        for (job, result) in zip(jobs, results) {
            writer.write(job.paths.lowerBound)
            writer.write(job.paths.upperBound)
            var inner = StateWriter()
            result.encode(to: &inner)
            writer.write(bytes: inner.data)
        }
        return writer.data
    }

    /// Decodes the states of `jobs` (each into the job's empty accumulator, which checks the shape).
    public static func decode<A: PathAccumulator>(_ data: Data, jobs: [PathJob<A>]) throws -> [A] {
        var reader = StateReader(data)
        let count = try reader.readInt()
        guard count == jobs.count else { throw StateDecodingError("the stage holds \(count) passes where this command runs \(jobs.count)") }
        return try jobs.map { job in
            let lower = try reader.readInt(), upper = try reader.readInt()
            guard lower == job.paths.lowerBound, upper == job.paths.upperBound else {
                throw StateDecodingError("the stage covers paths \(lower)..<\(upper) where this command runs \(job.paths)")
            }
            var inner = StateReader(try reader.readBytes())
            var accumulator = job.makeAccumulator()
            try accumulator.decode(from: &inner)
            guard inner.isAtEnd else { throw StateDecodingError("the stage holds more bytes than its accumulator") }
            return accumulator
        }
    }

    /// The merge of the slices' states, in slice order (one slice decoded at a time).
    static func merge<A: PathAccumulator>(_ parts: [Data], jobs: [PathJob<A>], threads: Int) throws -> [A] {
        var totals = jobs.map { $0.makeAccumulator() }
        for part in parts {
            let decoded = try decode(part, jobs: jobs)
            for j in jobs.indices { totals[j].merge([decoded[j]], threads: threads) }
        }
        return totals
    }
}

/// How a command run by a `ReplayCoordinator` stopped short of its report, as a value.
public enum StageOutcome: Equatable, Sendable {
    /// This slice's share of stage `stage` was computed: `payload` is the slice's part of it.
    case computed(stage: Int, payload: Data)
    /// Stage `stage` is neither in the merged state nor in the parts: the slices must compute it
    /// (again with the merged state, `--resume`).
    case needed(stage: Int)
}

/// Unwinds a command at a stage that this process cannot go past; the coordinator that threw it
/// holds the reason (`ReplayCoordinator.outcome`).
public struct StageStop: Error {}

/// File-based distribution (job arrays, `thresher merge`): the stages already merged are replayed
/// from their bytes; the next one is either computed for one slice, merged from the parts of every
/// slice, or missing. A command that cannot go on ends with `StageStop`, and `outcome` says why.
public final class ReplayCoordinator: PathCoordinator, @unchecked Sendable {
    public enum Next: Sendable {
        /// Compute slice `index` of `count` of the next stage.
        case slice(index: Int, count: Int)
        /// Merge the next stage from these parts (one payload per slice, in slice order).
        case merge(parts: [Data])
        /// Stop at the next stage.
        case none
    }

    private struct State: Sendable {
        var known: [Data]
        var next: Next
        var stage = 0
        var outcome: StageOutcome?
    }
    private let state: Mutex<State>
    private let digest: UInt64?

    /// - Parameters:
    ///   - known: the merged stages so far, in order.
    ///   - digest: the digest the parts were made with; `begin` checks the scenario against it.
    public init(known: [Data], next: Next, digest: UInt64? = nil) {
        state = Mutex(State(known: known, next: next))
        self.digest = digest
    }

    /// The merged stages so far (those replayed, plus one merged from parts).
    public var known: [Data] { state.withLock { $0.known } }

    /// Why the command stopped (nil while it runs, and when it ran to its report).
    public var outcome: StageOutcome? { state.withLock { $0.outcome } }

    public var ownsOutput: Bool { true }

    public func begin(digest: UInt64) throws {
        if let expected = self.digest, expected != digest {
            throw CoordinationError(String(format: "the scenario (files and options) has digest %016llx but the parts were made from %016llx: not the same run", digest, expected))
        }
    }

    public func stage<A: PathAccumulator>(_ jobs: [PathJob<A>], threads: Int) throws -> [A] {
        let (s, known, next) = state.withLock { state -> (Int, Data?, Next) in
            defer { state.stage += 1 }
            return (state.stage, state.stage < state.known.count ? state.known[state.stage] : nil, state.next)
        }
        if let known { return try StagePayload.decode(known, jobs: jobs) }
        switch next {
        case .slice(let index, let count):
            let results = try jobs.map { try $0.accumulate(slice: PathSlicing.slice($0.paths, index: index, of: count)) }
            let payload = StagePayload.encode(results, jobs: jobs)
            state.withLock { $0.outcome = .computed(stage: s, payload: payload) }
            throw StageStop()
        case .merge(let parts):
            let merged = try StagePayload.merge(parts, jobs: jobs, threads: threads)
            let payload = StagePayload.encode(merged, jobs: jobs)
            state.withLock { $0.known.append(payload); $0.next = .none }
            return merged
        case .none:
            state.withLock { $0.outcome = .needed(stage: s) }
            throw StageStop()
        }
    }
}

/// Collective distribution (MPI): every stage, each rank computes its slice, rank 0 gathers and
/// merges the states in rank order and broadcasts the merged state, so every rank goes on with the
/// same totals. Only bytes travel: the order of the merge is fixed here, never by the transport.
public final class CollectiveCoordinator: PathCoordinator, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Gathers every rank's bytes on rank 0 (nil on the other ranks).
    private let gather: (Data) throws -> [Data]?
    /// Rank 0's bytes to every rank.
    private let broadcast: (Data?) throws -> Data

    public init(rank: Int, size: Int, gather: @escaping (Data) throws -> [Data]?, broadcast: @escaping (Data?) throws -> Data) {
        self.rank = rank
        self.size = size
        self.gather = gather
        self.broadcast = broadcast
    }

    public var ownsOutput: Bool { rank == 0 }

    public func begin(digest: UInt64) throws {
        var writer = StateWriter()
        writer.write(digest)
        let verdict: Data?
        if let all = try gather(writer.data) {
            let digests = try all.map { data -> UInt64 in var r = StateReader(data); return try r.readUInt64() }
            let odd = digests.indices.filter { digests[$0] != digests[0] }
            verdict = Data((odd.isEmpty ? "" : String(format: "ranks %@ loaded a scenario (files and options) with another digest than rank 0's %016llx: every rank must read the same files",
                                                      odd.map(String.init).joined(separator: ", "), digests[0])).utf8)
        } else {
            verdict = nil
        }
        let message = String(decoding: try broadcast(verdict), as: UTF8.self)
        if !message.isEmpty { throw CoordinationError(message) }
    }

    public func stage<A: PathAccumulator>(_ jobs: [PathJob<A>], threads: Int) throws -> [A] {
        let results = try jobs.map { try $0.accumulate(slice: PathSlicing.slice($0.paths, index: rank, of: size)) }
        if let parts = try gather(StagePayload.encode(results, jobs: jobs)) {
            let merged = try StagePayload.merge(parts, jobs: jobs, threads: threads)
            _ = try broadcast(StagePayload.encode(merged, jobs: jobs))
            return merged
        }
        return try StagePayload.decode(try broadcast(nil), jobs: jobs)
    }
}
