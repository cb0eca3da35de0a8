import Dispatch
import Foundation
import Synchronization

/// The worker pool: `threads` workers (`DispatchQueue.concurrentPerform`) pull chunk indices from a
/// shared counter. Each worker builds its own workspace (buffers, never shared) and its own partial
/// result, folds every chunk it takes into them, and hands the partial back as a value. Knows nothing
/// of what a path is: the Monte Carlo pipeline (`MonteCarloModel` in Engine) and the commands bring that.
///
/// Because chunk contents depend only on the plan, and partial results merge exactly, the merged
/// result is identical whichever worker ran which chunk.
/// - Returns: the workers' partial results, in worker order (at most `threads`, one per worker).
/// - Throws: `WorkerPoolError.invalidThreadCount`, or `.cancelled` when `cancellation` fired.
public func runChunks<Workspace, Partial: Sendable>(
    plan: ChunkPlan, threads: Int, cancellation: Cancellation? = nil, progress: RunProgress? = nil,
    makeWorkspace: @Sendable () -> Workspace, makePartial: @Sendable () -> Partial,
    process: @Sendable (Range<Int>, Workspace, inout Partial) -> Void
) throws -> [Partial] {
    guard threads >= 1 else { throw WorkerPoolError.invalidThreadCount(threads) }
    let next = Atomic<Int>(0)
    let workers = min(threads, max(plan.chunkCount, 1))
    let results = WorkerSlots<Partial>(count: workers)
    withoutActuallyEscaping(makeWorkspace) { makeWorkspace in
        withoutActuallyEscaping(makePartial) { makePartial in
            withoutActuallyEscaping(process) { process in
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    let workspace = makeWorkspace()
                    var partial = makePartial()
                    while cancellation?.isCancelled != true {
                        let chunk = next.add(1, ordering: .relaxed).oldValue
                        guard chunk < plan.chunkCount else { break }
                        let paths = plan.paths(ofChunk: chunk)
                        process(paths, workspace, &partial)
                        progress?.advance(by: paths.count)
                    }
                    results.store(partial, at: worker)
                }
            }
        }
    }
    if cancellation?.isCancelled == true { throw WorkerPoolError.cancelled }
    return results.values()
}

/// `transform` over 0..<count cut into contiguous ranges, on `threads` workers, the pieces
/// concatenated in order: for work per item (merging or summarising per-account aggregates) that
/// must not be left to one core. The result does not depend on `threads`.
public func parallelMap<T: Sendable>(_ count: Int, threads: Int, _ transform: @Sendable (Range<Int>) -> [T]) -> [T] {
    let pieces = min(count, 8 * max(threads, 1))
    guard pieces > 1, threads > 1 else { return count > 0 ? transform(0..<count) : [] }
    let next = Atomic<Int>(0)
    let results = WorkerSlots<[T]>(count: pieces)
    withoutActuallyEscaping(transform) { transform in
        DispatchQueue.concurrentPerform(iterations: min(threads, pieces)) { _ in
            while true {
                let piece = next.add(1, ordering: .relaxed).oldValue
                guard piece < pieces else { return }
                results.store(transform((piece * count / pieces)..<((piece + 1) * count / pieces)), at: piece)
            }
        }
    }
    return results.values().flatMap { $0 }
}

/// One slot per worker, each written once by its worker and read after all workers have joined.
private final class WorkerSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func store(_ value: T, at index: Int) { slots.withLock { $0[index] = value } }
    func values() -> [T] { slots.withLock { $0.map { $0! } } }
}

/// The number of cores the system lets this process use.
public var defaultThreadCount: Int { ProcessInfo.processInfo.activeProcessorCount }
