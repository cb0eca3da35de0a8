import Dispatch

/// Runs CPU-bound work (a revaluation of the book, a reload) on a Dispatch thread, off the server's
/// event loops and the cooperative pool, so that a long answer never delays the others' I/O.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async { continuation.resume(with: Result { try work() }) }
    }
}
