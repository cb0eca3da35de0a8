import Foundation

/// Runs CPU-bound work (a revaluation of the book, a reload) on a thread of `computations`, off the
/// server's event loops and the cooperative pool, so that a long answer never delays the others' I/O.
/// At most `computations.maxConcurrentOperationCount` run at once (the cores); the others wait in its
/// queue without holding a thread, so a burst of requests cannot multiply the memory of a revaluation.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        computations.addOperation { continuation.resume(with: Result { try work() }) }
    }
}

/// The queue of what-ifs and reloads: as many at once as there are cores.
nonisolated(unsafe) let computations: OperationQueue = {
    let queue = OperationQueue()
    queue.name = "thresher.serve.computations"
    queue.maxConcurrentOperationCount = max(ProcessInfo.processInfo.activeProcessorCount, 1)
    queue.qualityOfService = .userInitiated
    return queue
}()
