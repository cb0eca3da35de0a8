import LinearAlgebra
import TailStats
import WorkerPool

/// Fills a worker's buffer with the market states of a chunk of paths.
///
/// A generator must draw path p from (seed, p) alone, so a path's state is the same whatever chunk,
/// thread or slice it falls in. A new tail model is one new generator.
public protocol PathGenerator: Sendable {
    /// A worker's buffer for one chunk (reused for every chunk the worker takes).
    associatedtype Paths
    func makePaths(capacity: Int) -> Paths
    /// Generates paths `paths` (global path indices; `paths.count` ≤ capacity) into `buffer`.
    func generate(_ paths: Range<Int>, into buffer: Paths)
}

/// Values the paths of a chunk and folds the values into an accumulator.
public protocol PathPricer: Sendable {
    associatedtype Paths
    /// A worker's scratch storage (reused for every chunk the worker takes).
    associatedtype Workspace
    associatedtype Accumulator: PathAccumulator
    func makeWorkspace(capacity: Int) -> Workspace
    /// Prices the `count` paths held by `paths` and adds their values to `accumulator`.
    func price(_ paths: Paths, count: Int, workspace: Workspace, into accumulator: inout Accumulator)
}

/// A mergeable statistic over paths: the partial results of the workers (or of slices of the paths
/// run on other machines) fold into the total exactly, so the result does not depend on the split.
/// Its state travels between processes as bytes (`StateCodable`).
public protocol PathAccumulator: Sendable, StateCodable {
    /// Folds in the results of other paths.
    mutating func merge(_ other: Self)
    /// Folds in the results of other paths, in the order given; `threads` may be used for the work
    /// (by default one `merge` after another).
    mutating func merge(_ others: [Self], threads: Int)
}

extension PathAccumulator {
    public mutating func merge(_ others: [Self], threads: Int) {
        for other in others { merge(other) }
    }
}

/// Options of a Monte Carlo run that are not part of the scenario.
public struct RunSettings: Sendable {
    public var threads: Int
    public var chunkSize: Int
    /// First path and path count: a run can cover any aligned slice of the scenario's paths (a
    /// split across processes or machines), merged afterwards with `PathAccumulator.merge`.
    public var pathRange: Range<Int>?
    /// Spreads every pass over processes (slices and merges, MPI); nil: this process runs all paths.
    public var coordinator: (any PathCoordinator)?

    public init(threads: Int = defaultThreadCount, chunkSize: Int = ChunkPlan.defaultChunkSize, pathRange: Range<Int>? = nil,
                coordinator: (any PathCoordinator)? = nil) {
        self.threads = threads
        self.chunkSize = chunkSize
        self.pathRange = pathRange
        self.coordinator = coordinator
    }
}

/// The accumulated values of several passes as one stage: in this process one after another, or
/// spread by `settings.coordinator` (each process its slice of every pass, merged exactly).
public func accumulate<A: PathAccumulator>(_ jobs: [PathJob<A>], settings: RunSettings) throws -> [A] {
    guard let coordinator = settings.coordinator else { return try jobs.map { try $0.accumulate(slice: $0.paths) } }
    return try coordinator.stage(jobs, threads: settings.threads)
}

/// A Monte Carlo model in QuantLib's sense: a path generator, a path pricer, and the accumulator the
/// pricer folds into, run over the chunks of a path range by the worker pool. `run`, `calibrate` and
/// `sample` are each one such model.
public struct MonteCarloModel<Generator: PathGenerator, Pricer: PathPricer>: Sendable where Pricer.Paths == Generator.Paths {
    public let generator: Generator
    public let pricer: Pricer

    public init(generator: Generator, pricer: Pricer) {
        self.generator = generator
        self.pricer = pricer
    }

    /// The accumulated values of paths `paths` (an aligned slice: its start a multiple of 64), as one
    /// stage of `settings.coordinator` when there is one.
    /// - Parameter makeAccumulator: an empty accumulator (one per worker, and the total).
    /// - Throws: `WorkerPoolError` (bad chunk size or thread count, cancellation).
    public func accumulate(paths: Range<Int>, settings: RunSettings, makeAccumulator: @escaping @Sendable () -> Pricer.Accumulator,
                           cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> Pricer.Accumulator {
        try MonteCarlo.accumulate([job(paths: paths, settings: settings, makeAccumulator: makeAccumulator, cancellation: cancellation, progress: progress)],
                              settings: settings)[0]
    }

    /// This model over `paths` as a pass of a stage (`accumulate(_:settings:)`).
    public func job(paths: Range<Int>, settings: RunSettings, makeAccumulator: @escaping @Sendable () -> Pricer.Accumulator,
                    cancellation: Cancellation? = nil, progress: RunProgress? = nil) -> PathJob<Pricer.Accumulator> {
        PathJob(paths: paths, makeAccumulator: makeAccumulator) { sub in
            try self.accumulateHere(paths: sub, settings: settings, makeAccumulator: makeAccumulator, cancellation: cancellation, progress: progress)
        }
    }

    /// The accumulated values of `paths` computed in this process by the worker pool.
    func accumulateHere(paths: Range<Int>, settings: RunSettings, makeAccumulator: @Sendable () -> Pricer.Accumulator,
                        cancellation: Cancellation?, progress: RunProgress?) throws -> Pricer.Accumulator {
        precondition(paths.lowerBound % ChunkPlan.alignment == 0, "a path slice must start on a multiple of \(ChunkPlan.alignment)")
        useSingleThreadedBLAS()
        let plan = try ChunkPlan(totalPaths: paths.count, chunkSize: settings.chunkSize)
        let capacity = plan.capacity, first = paths.lowerBound
        let generator = self.generator, pricer = self.pricer
        let partials = try runChunks(
            plan: plan, threads: settings.threads, cancellation: cancellation, progress: progress,
            makeWorkspace: { (generator.makePaths(capacity: capacity), pricer.makeWorkspace(capacity: capacity)) },
            makePartial: makeAccumulator,
            process: { chunk, workspace, accumulator in
                generator.generate((first + chunk.lowerBound)..<(first + chunk.upperBound), into: workspace.0)
                pricer.price(workspace.0, count: chunk.count, workspace: workspace.1, into: &accumulator)
            })
        // The first worker's partial is the total (no copy of it); the others fold in, in order.
        var rest = partials
        guard !rest.isEmpty else { return makeAccumulator() }
        var total = rest.removeFirst()
        total.merge(rest, threads: settings.threads)
        return total
    }
}
