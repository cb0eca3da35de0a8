import CommandSupport

/// How the paths are cut into chunks: chunk c holds paths [c·size, min((c+1)·size, N)). The
/// mapping depends only on N and the chunk size, never on the thread count.
public struct ChunkPlan: Sendable {
    public let totalPaths: Int
    /// Paths per chunk: a multiple of `alignment`, so chunk edges fall on the edges of the
    /// aggregators' exact-sum blocks and every total is the same for any chunk size.
    public let chunkSize: Int

    public static let defaultChunkSize = 1024

    /// Books of at least this many accounts get larger chunks (`automaticChunkSize`).
    public static let manyAccounts = 1024
    /// The largest chunk `automaticChunkSize` chooses.
    public static let largestAutomaticChunkSize = 8192

    /// `run`'s chunk size when none is asked for: `defaultChunkSize`, but for a book of many accounts
    /// (≥ `manyAccounts`) the largest multiple of 1,024 up to `largestAutomaticChunkSize` that still
    /// gives every worker 8 chunks of the N paths (so the last chunks still balance the threads).
    ///
    /// Why: a worker revalues every account of a chunk and folds each account's losses into that
    /// account's tail, whose state (exact sums, candidates) is out of cache again by the next chunk
    /// once the book has thousands of accounts. A chunk of 8,192 paths reads it an eighth as often:
    /// W4 (10⁵ accounts × 10⁵ paths, 2 threads) takes 7.6 s in the engine instead of 10.9 s
    /// (Benchmarks/README.md, session 36). Results do not depend on the chunk size.
    public static func automaticChunkSize(paths: Int, threads: Int, accounts: Int) -> Int {
        guard accounts >= manyAccounts else { return defaultChunkSize }
        let balanced = paths / (8 * max(threads, 1)) / 1024 * 1024
        return min(largestAutomaticChunkSize, max(defaultChunkSize, balanced))
    }

    /// The chunk size of calibrate, evaluate and robustness when none is asked for:
    /// `defaultChunkSize`, but for fewer paths than `threads` such chunks the N/threads paths of a
    /// worker rounded up to a multiple of `alignment`, so that every worker has a chunk (1,000 paths on
    /// 2 threads: two chunks of 512 instead of one of 1,024 on one core). Results do not depend on
    /// the chunk size.
    public static func balancedChunkSize(paths: Int, threads: Int) -> Int {
        let perWorker = (paths + max(threads, 1) - 1) / max(threads, 1)
        return min(defaultChunkSize, max(alignment, (perWorker + alignment - 1) / alignment * alignment))
    }

    /// Chunk sizes are multiples of this many paths (the tail aggregators' block, 64 paths).
    public static let alignment = 64

    /// - Throws: `WorkerPoolError.invalidChunkSize` when the size is not a positive multiple of 64.
    public init(totalPaths: Int, chunkSize: Int = ChunkPlan.defaultChunkSize) throws {
        guard chunkSize > 0, chunkSize % Self.alignment == 0 else {
            throw WorkerPoolError.invalidChunkSize(chunkSize)
        }
        self.totalPaths = totalPaths
        self.chunkSize = chunkSize
    }

    public var chunkCount: Int { (totalPaths + chunkSize - 1) / chunkSize }

    public func paths(ofChunk c: Int) -> Range<Int> {
        (c * chunkSize)..<min((c + 1) * chunkSize, totalPaths)
    }

    /// The most paths one chunk holds: the capacity of a worker's buffers.
    public var capacity: Int { min(chunkSize, max(totalPaths, 1)) }
}

public enum WorkerPoolError: ThresherError, Equatable {
    public var exitStatus: Int32 { self == .cancelled ? ExitStatus.interrupted : ExitStatus.usage }
    public var diagnostic: String { self == .cancelled ? "interrupted: nothing was written" : "error: \(self)" }
    case invalidChunkSize(Int)
    case invalidThreadCount(Int)
    case cancelled

    public var description: String {
        switch self {
        case .invalidChunkSize(let size):
            return "--chunk-size must be a positive multiple of \(ChunkPlan.alignment), got \(size)"
        case .invalidThreadCount(let n):
            return "--threads must be ≥ 1, got \(n)"
        case .cancelled:
            return "interrupted"
        }
    }
}
