import CommandSupport

/// How the paths are cut into chunks: chunk c holds paths [c·size, min((c+1)·size, N)). The
/// mapping depends only on N and the chunk size, never on the thread count.
public struct ChunkPlan: Sendable {
    public let totalPaths: Int
    /// Paths per chunk: a multiple of `alignment`, so chunk edges fall on the edges of the
    /// aggregators' exact-sum blocks and every total is the same for any chunk size.
    public let chunkSize: Int

    public static let defaultChunkSize = 1024
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
