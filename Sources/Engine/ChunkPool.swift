import Dispatch
import Foundation
import LinearAlgebra
import Synchronization
import TailStats

/// How the paths are cut into chunks: chunk c holds paths [c·size, min((c+1)·size, N)). The
/// mapping depends only on N and the chunk size, never on the thread count.
public struct ChunkPlan: Sendable {
    public let totalPaths: Int
    /// Paths per chunk: a multiple of `TailAccumulator.blockSize`, so chunk edges fall on block edges.
    public let chunkSize: Int

    public static let defaultChunkSize = 1024

    /// - Throws: `EngineError.invalidChunkSize` when the size is not a positive multiple of 64.
    public init(totalPaths: Int, chunkSize: Int = ChunkPlan.defaultChunkSize) throws {
        guard chunkSize > 0, chunkSize % TailAccumulator.blockSize == 0 else {
            throw EngineError.invalidChunkSize(chunkSize)
        }
        self.totalPaths = totalPaths
        self.chunkSize = chunkSize
    }

    public var chunkCount: Int { (totalPaths + chunkSize - 1) / chunkSize }

    public func paths(ofChunk c: Int) -> Range<Int> {
        (c * chunkSize)..<min((c + 1) * chunkSize, totalPaths)
    }
}

public enum EngineError: Error, CustomStringConvertible, Equatable {
    case invalidChunkSize(Int)
    case invalidThreadCount(Int)
    case cancelled

    public var description: String {
        switch self {
        case .invalidChunkSize(let size):
            return "--chunk-size must be a positive multiple of \(TailAccumulator.blockSize), got \(size)"
        case .invalidThreadCount(let n):
            return "--threads must be ≥ 1, got \(n)"
        case .cancelled:
            return "interrupted"
        }
    }
}

/// A cooperative stop signal (Ctrl-C): workers finish the chunk in hand and take no more.
public final class Cancellation: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Progress of a run, readable from another thread (the progress bar).
public final class RunProgress: @unchecked Sendable {
    private let done = Atomic<Int>(0)
    public let total: Int
    public init(total: Int) { self.total = total }
    public func advance(by paths: Int) { done.add(paths, ordering: .relaxed) }
    public var completed: Int { done.load(ordering: .relaxed) }
}

/// The worker pool: `threads` workers (`DispatchQueue.concurrentPerform`) pull chunk indices from a
/// shared counter; each worker owns the state `makeState` builds (its buffers and partial
/// aggregates) and folds every chunk it takes into it. Returns the states for merging.
///
/// Because chunk contents depend only on the plan, and the aggregates merge exactly, the merged
/// result is identical whichever worker ran which chunk.
public func runChunks<State>(plan: ChunkPlan, threads: Int, cancellation: Cancellation? = nil, progress: RunProgress? = nil,
                             makeState: (Int) -> State, process: (inout State, Range<Int>) -> Void) throws -> [State] {
    guard threads >= 1 else { throw EngineError.invalidThreadCount(threads) }
    useSingleThreadedBLAS()
    let next = Atomic<Int>(0)
    let workers = min(threads, max(plan.chunkCount, 1))
    let results = UnsafeMutableBufferPointer<State?>.allocate(capacity: workers)
    results.initialize(repeating: nil)
    defer { results.deinitialize(); results.deallocate() }
    withoutActuallyEscaping(makeState) { makeState in
        withoutActuallyEscaping(process) { process in
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var state = makeState(worker)
                while cancellation?.isCancelled != true {
                    let chunk = next.add(1, ordering: .relaxed).oldValue
                    guard chunk < plan.chunkCount else { break }
                    let paths = plan.paths(ofChunk: chunk)
                    process(&state, paths)
                    progress?.advance(by: paths.count)
                }
                results[worker] = state
            }
        }
    }
    if cancellation?.isCancelled == true { throw EngineError.cancelled }
    return results.map { $0! }
}

/// Runs `body` over 0..<count cut into contiguous ranges, on `threads` workers: for work per item
/// (merging or summarising per-account aggregates) that must not be left to one core.
public func forEachRangeInParallel(_ count: Int, threads: Int, _ body: (Range<Int>) -> Void) {
    let pieces = min(count, 8 * max(threads, 1))
    guard pieces > 1, threads > 1 else { if count > 0 { body(0..<count) }; return }
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: threads) { _ in
        while true {
            let piece = next.add(1, ordering: .relaxed).oldValue
            guard piece < pieces else { return }
            body((piece * count / pieces)..<((piece + 1) * count / pieces))
        }
    }
}

/// The number of cores the system lets this process use.
public var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }
