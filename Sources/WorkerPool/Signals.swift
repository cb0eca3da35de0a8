import Synchronization

/// A cooperative stop signal (Ctrl-C): workers finish the chunk in hand and take no more.
public final class Cancellation: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}

/// Progress of a run in paths, readable from another thread (the progress bar).
public final class RunProgress: Sendable {
    private let done = Atomic<Int>(0)
    public let total: Int
    public init(total: Int) { self.total = total }
    public func advance(by paths: Int) { done.add(paths, ordering: .relaxed) }
    public var completed: Int { done.load(ordering: .relaxed) }
}
