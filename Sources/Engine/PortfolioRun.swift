import CKernels
import Foundation
import WorkerPool
import Revaluation
import ScenarioSpec
import Shocks
import TailStats

/// Loss aggregates of a run: one accumulator for the book and one per account.
public struct PortfolioAggregates: PathAccumulator {
    public var book: TailAccumulator
    public var accounts: [TailAccumulator]
    /// Distribution of the book loss, for the report's histogram.
    public var bookHistogram: Histogram

    /// - Parameter accountFloors: each account's tail floor (see `TailAccumulator.init(plan:floor:)`), or
    ///   nil for none.
    public init(plan: TailPlan, accountCount: Int, histogram: Histogram, accountFloors: [Double]? = nil) {
        book = TailAccumulator(plan: plan)
        accounts = (0..<accountCount).map { TailAccumulator(plan: plan, floor: accountFloors?[$0] ?? -.infinity) }
        bookHistogram = histogram
    }

    /// Folds in the aggregates of other paths.
    public mutating func merge(_ other: PortfolioAggregates) {
        merge([other], threads: 1)
    }

    /// Folds in the aggregates of other paths in the order given; the accounts on `threads` workers
    /// (each account still folds the parts in order, so the result does not depend on `threads`).
    public mutating func merge(_ others: [PortfolioAggregates], threads: Int) {
        for other in others {
            book.merge(other.book)
            bookHistogram.merge(other.bookHistogram)
        }
        let accounts = self.accounts
        self.accounts = parallelMap(accounts.count, threads: threads) { range in
            range.map { a in
                var total = accounts[a]
                for other in others { total.merge(other.accounts[a]) }
                return total
            }
        }
    }
}

extension PortfolioAggregates: StateCodable {
    public func encode(to writer: inout StateWriter) {
        book.encode(to: &writer)
        bookHistogram.encode(to: &writer)
        writer.write(each: accounts)
    }

    public mutating func decode(from reader: inout StateReader) throws {
        try book.decode(from: &reader)
        try bookHistogram.decode(from: &reader)
        try reader.read(each: &accounts, of: "accounts")
    }
}

/// The finished result of `thresher run`.
public struct PortfolioRunResult: Sendable {
    public let scenario: Scenario
    public let paths: Int
    public let threads: Int
    public let chunkSize: Int
    public let elapsedSeconds: Double
    public let book: TailSummary
    public let accounts: [TailSummary]
    public let bookHistogram: Histogram
    public var pathsPerSecond: Double { Double(paths) / max(elapsedSeconds, 1e-9) }
}

/// Revalues every account of the scenario on every path and aggregates the loss tails.
public struct PortfolioRun {
    public let scenario: Scenario
    public let model: MarketModel
    public let book: Book

    public init(scenario: Scenario) throws {
        self.scenario = scenario
        model = try MarketModel(scenario: scenario)
        book = Book(scenario: scenario)
    }

    public var tailPlan: TailPlan {
        TailPlan(totalPaths: scenario.simulation.paths, levels: scenario.risk.confidence.map(\.value))
    }

    /// The aggregates over `settings.pathRange` (all paths by default). Exposed so that slices
    /// run apart (other processes, other machines) can be merged exactly.
    ///
    /// A run over all paths keeps account tails above floors read from a pilot (`pilot()`): should
    /// any account's tail come out incomplete (fewer than K losses above its floor — a many-sigma
    /// event), the paths are aggregated again without floors, so the result never depends on the
    /// pilot. A run spread over processes by `settings.coordinator` keeps the floors in every slice
    /// (each keeps all its losses above them): the check is on the merged tails, and the pass without
    /// floors, when needed, is one more stage. A `pathRange` slice keeps its tails without floors.
    public func aggregate(settings: RunSettings, cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> PortfolioAggregates {
        let pilot = pilot()
        let wholeRun = settings.pathRange.map { $0 == 0..<scenario.simulation.paths } ?? true
        let floored = try aggregate(settings: settings, histogram: pilot.histogram, accountFloors: wholeRun ? pilot.accountFloors : nil,
                                    cancellation: cancellation, progress: progress)
        if floored.accounts.allSatisfy(\.hasCompleteTail) { return floored }
        return try aggregate(settings: settings, histogram: pilot.histogram, accountFloors: nil, cancellation: cancellation, progress: progress)
    }

    func aggregate(settings: RunSettings, histogram: Histogram, accountFloors: [Double]?, cancellation: Cancellation?,
                   progress: RunProgress?) throws -> PortfolioAggregates {
        let range = settings.pathRange ?? 0..<scenario.simulation.paths
        let tailPlan = self.tailPlan, accountCount = book.accountCount
        let model = MonteCarloModel(generator: MarketStates(model: model), pricer: PortfolioPricer(book: book))
        return try model.accumulate(paths: range, settings: settings, makeAccumulator: {
            PortfolioAggregates(plan: tailPlan, accountCount: accountCount, histogram: histogram, accountFloors: accountFloors)
        }, cancellation: cancellation, progress: progress)
    }

    /// Runs all paths and summarises.
    public func run(settings: RunSettings, cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> PortfolioRunResult {
        let start = DispatchTime.now()
        let totals = try aggregate(settings: settings, cancellation: cancellation, progress: progress)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let accounts = totals.accounts
        let summaries = parallelMap(accounts.count, threads: settings.threads) { range in range.map { accounts[$0].summary() } }
        return PortfolioRunResult(scenario: scenario, paths: totals.book.count, threads: settings.threads, chunkSize: settings.chunkSize,
                                  elapsedSeconds: elapsed, book: totals.book.summary(), accounts: summaries,
                                  bookHistogram: totals.bookHistogram)
    }

    /// What the first 4,096 paths say before the run (the same paths for every thread count, chunk
    /// size and slice, so slices merge): the histogram's bins from the book losses, and each
    /// account's tail floor (`TailPlan.floor(pilot:)`).
    func pilot() -> (histogram: Histogram, accountFloors: [Double]) {
        let count = min(4096, scenario.simulation.paths)
        let shocks = ShockBuffers(assetCount: model.assetCount, capacity: count)
        let revaluer = Revaluer(book: book, capacity: count, accountsPerBlock: PortfolioPricer.accountsPerBlock(chunk: count))
        model.generate(firstPath: 0, count: count, into: shocks)
        revaluer.beginChunk(shocks)
        let plan = tailPlan
        var floors: [Double] = []
        for first in stride(from: 0, to: book.accountCount, by: revaluer.accountsPerBlock) {
            let accounts = first..<min(first + revaluer.accountsPerBlock, book.accountCount)
            revaluer.revalue(shocks, accounts: accounts)
            for a in accounts { floors.append(plan.floor(pilot: Array(UnsafeBufferPointer(start: revaluer.lossRow(account: a), count: count)))) }
        }
        return (Histogram(covering: Array(UnsafeBufferPointer(start: revaluer.bookLosses, count: count)), bins: 80), floors)
    }
}

/// Prices a chunk for `run`: the loss of every account and of the book on every path, folded into
/// the tail aggregators. Accounts are revalued in blocks of about 256 KiB of losses (accounts ×
/// chunk doubles), so a block is still in cache when its aggregators read it.
public struct PortfolioPricer: PathPricer {
    public let book: Book

    public init(book: Book) { self.book = book }

    /// Accounts revalued at a time for a chunk of `chunk` paths.
    static func accountsPerBlock(chunk: Int) -> Int { max(8, 32_768 / max(chunk, 1)) }

    public func makeWorkspace(capacity: Int) -> Revaluer {
        Revaluer(book: book, capacity: capacity, accountsPerBlock: Self.accountsPerBlock(chunk: capacity))
    }

    public func price(_ shocks: ShockBuffers, count: Int, workspace revaluer: Revaluer, into aggregates: inout PortfolioAggregates) {
        revaluer.beginChunk(shocks)
        for first in stride(from: 0, to: book.accountCount, by: revaluer.accountsPerBlock) {
            let accounts = first..<min(first + revaluer.accountsPerBlock, book.accountCount)
            revaluer.revalue(shocks, accounts: accounts, sparseLinearApart: true)
            for a in accounts {
                if book.hasSparseLinearLoss(a) {
                    addSparseLinearTail(shocks, account: a, count: count, into: &aggregates.accounts[a])
                } else {
                    aggregates.accounts[a].add(revaluer.lossRow(account: a), count: count)
                }
            }
        }
        aggregates.book.add(revaluer.bookLosses, count: count)
        aggregates.bookHistogram.add(revaluer.bookLosses, count: count)
    }

    /// Account a's losses L_j = −c − Σ w·S'_j (its few exposures) folded into its tail as they are
    /// computed (`thresher_linear_tail`): the same numbers as its row of losses, never stored.
    private func addSparseLinearTail(_ shocks: ShockBuffers, account a: Int, count: Int, into tail: inout TailAccumulator) {
        let first = book.exposureStart[a], terms = book.exposureStart[a + 1] - first, constant = -book.linearConstants[a]
        book.exposureAssets.withUnsafeBufferPointer { assets in
            book.exposureWeights.withUnsafeBufferPointer { weights in
                let spot = shocks.spot, stride = shocks.capacity
                tail.add(count: count) { start, length, threshold, sums, squares, above in
                    thresher_linear_tail(length, spot + start, stride, assets.baseAddress! + first, weights.baseAddress! + first,
                                         terms, constant, threshold, sums, squares, above)
                }
            }
        }
    }
}
