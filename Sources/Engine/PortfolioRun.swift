import CKernels
import Foundation
import MonteCarlo
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

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
    /// - Complexity: O(accounts × K), K the tails' capacity.
    public mutating func merge(_ other: PortfolioAggregates) {
        merge([other], threads: 1)
    }

    /// Folds in the aggregates of other paths in the order given; the accounts on `threads` workers,
    /// each merged in place (each account still folds the parts in order, so the result does not
    /// depend on `threads`).
    public mutating func merge(_ others: [PortfolioAggregates], threads: Int) {
        for other in others {
            book.merge(other.book)
            bookHistogram.merge(other.bookHistogram)
        }
        accounts.withUnsafeMutableBufferPointer { accounts in
            let totals = SharedAccounts(base: accounts.baseAddress!)
            _ = parallelMap(accounts.count, threads: threads) { range -> [Bool] in
                for a in range { for other in others { totals.base[a].merge(other.accounts[a]) } }
                return []
            }
        }
    }
}

/// The accounts of one aggregate, merged in place by several workers, each on its own accounts.
private struct SharedAccounts: @unchecked Sendable {
    let base: UnsafeMutablePointer<TailAccumulator>
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

    public var tailPlan: TailPlan { Self.tailPlan(for: scenario) }

    /// The tails of `run`: the scenario's paths and confidence levels.
    public static func tailPlan(for scenario: Scenario) -> TailPlan {
        TailPlan(totalPaths: scenario.simulation.paths, levels: scenario.risk.confidence.map(\.value))
    }

    /// The aggregates over `settings.pathRange` (all paths by default). Exposed so that slices
    /// run apart (other processes, other machines) can be merged exactly.
    ///
    /// A run over all paths keeps account tails above floors read from a pilot (`pilot(threads:)`): should
    /// any account's tail come out incomplete (fewer than K losses above its floor — a many-sigma
    /// event), the paths are aggregated again without floors, so the result never depends on the
    /// pilot. A run spread over processes by `settings.coordinator` keeps the floors in every slice
    /// (each keeps all its losses above them): the check is on the merged tails, and the pass without
    /// floors, when needed, is one more stage. A `pathRange` slice keeps its tails without floors.
    public func aggregate(settings: RunSettings, cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> PortfolioAggregates {
        try aggregate(settings: settings, accounts: 0..<book.accountCount, pilot: pilot(threads: settings.threads),
                      cancellation: cancellation, progress: progress)
    }

    /// The aggregates of the accounts `accounts` (and of the book when they start at account 0),
    /// with the floor check and fallback of `aggregate(settings:)`.
    func aggregate(settings: RunSettings, accounts: Range<Int>, pilot: (histogram: Histogram, accountFloors: [Double]),
                   cancellation: Cancellation?, progress: RunProgress?) throws -> PortfolioAggregates {
        let wholeRun = settings.pathRange.map { $0 == 0..<scenario.simulation.paths } ?? true
        let floored = try aggregate(settings: settings, accounts: accounts, histogram: pilot.histogram,
                                    accountFloors: wholeRun ? Array(pilot.accountFloors[accounts]) : nil, cancellation: cancellation, progress: progress)
        if floored.accounts.allSatisfy(\.hasCompleteTail) { return floored }
        return try aggregate(settings: settings, accounts: accounts, histogram: pilot.histogram, accountFloors: nil,
                             cancellation: cancellation, progress: progress)
    }

    func aggregate(settings: RunSettings, accounts: Range<Int>? = nil, histogram: Histogram, accountFloors: [Double]?,
                   cancellation: Cancellation?, progress: RunProgress?) throws -> PortfolioAggregates {
        let range = settings.pathRange ?? 0..<scenario.simulation.paths
        let accounts = accounts ?? 0..<book.accountCount
        let tailPlan = self.tailPlan
        let model = MonteCarloModel(generator: MarketStates(model: model), pricer: PortfolioPricer(book: book, accounts: accounts))
        return try model.accumulate(paths: range, settings: settings, makeAccumulator: {
            PortfolioAggregates(plan: tailPlan, accountCount: accounts.count, histogram: histogram, accountFloors: accountFloors)
        }, cancellation: cancellation, progress: progress)
    }

    /// How `run` groups the accounts under `memoryLimit` bytes for their tails (`AccountGroups`):
    /// one group for a run spread over processes or a slice of the paths (each process holds its
    /// slice's tails of every account).
    public func accountGroups(settings: RunSettings, memoryLimit: Int) -> AccountGroups {
        let limit = settings.coordinator == nil && settings.pathRange == nil ? memoryLimit : .max
        return AccountGroups(scenario: scenario, threads: settings.threads, memoryLimit: limit)
    }

    /// Runs all paths and summarises. The accounts go in groups when their tails would take more
    /// than `memoryLimit` bytes (`accountGroups`): one pass over the paths per group, the book's tail
    /// in the first; the numbers are the same.
    public func run(settings: RunSettings, memoryLimit: Int = AccountGroups.defaultMemoryLimit, cancellation: Cancellation? = nil,
                    progress: RunProgress? = nil) throws -> PortfolioRunResult {
        let start = DispatchTime.now()
        let pilot = pilot(threads: settings.threads)
        var summaries: [TailSummary] = []
        var book: (tail: TailAccumulator, histogram: Histogram)?
        for group in accountGroups(settings: settings, memoryLimit: memoryLimit).ranges {
            let totals = try aggregate(settings: settings, accounts: group, pilot: pilot, cancellation: cancellation, progress: progress)
            if book == nil { book = (totals.book, totals.bookHistogram) }
            let accounts = totals.accounts
            summaries += parallelMap(accounts.count, threads: settings.threads) { range in
                range.map { accounts[$0].summary(retainingLosses: false) }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return PortfolioRunResult(scenario: scenario, paths: book!.tail.count, threads: settings.threads, chunkSize: settings.chunkSize,
                                  elapsedSeconds: elapsed, book: book!.tail.summary(), accounts: summaries, bookHistogram: book!.histogram)
    }

    /// What the first 4,096 paths say before the run (the same paths for every thread count, chunk
    /// size and slice, so slices merge): the histogram's bins from the book losses, and each
    /// account's tail floor (`TailPlan.floor(pilot:scratch:)`), the accounts on `threads` workers.
    func pilot(threads: Int) -> (histogram: Histogram, accountFloors: [Double]) {
        let count = min(4096, scenario.simulation.paths)
        let shocks = ShockBuffers(assetCount: model.assetCount, capacity: count)
        model.generate(firstPath: 0, count: count, into: shocks)
        let bookRevaluer = Revaluer(book: book, capacity: count, accountsPerBlock: 1)
        bookRevaluer.beginChunk(shocks)
        bookRevaluer.subtractBookOptions(shocks, options: 0..<book.options.count)
        let histogram = Histogram(covering: Array(UnsafeBufferPointer(start: bookRevaluer.bookLosses, count: count)), bins: 80)
        let plan = tailPlan, book = self.book, pilotShocks = PilotShocks(buffers: shocks)
        let floors = parallelMap(book.accountCount, threads: threads) { range -> [Double] in
            let revaluer = Revaluer(book: book, capacity: count, accountsPerBlock: PortfolioPricer.accountsPerBlock(chunk: count))
            revaluer.beginChunk(pilotShocks.buffers)
            var floors: [Double] = []
            floors.reserveCapacity(range.count)
            let scratch = UnsafeMutablePointer<Double>.allocate(capacity: TailPlan.floorScratchCount(pilot: count))
            defer { scratch.deallocate() }
            for first in stride(from: range.lowerBound, to: range.upperBound, by: revaluer.accountsPerBlock) {
                let accounts = first..<min(first + revaluer.accountsPerBlock, range.upperBound)
                revaluer.revalue(pilotShocks.buffers, accounts: accounts)
                for a in accounts { floors.append(plan.floor(pilot: UnsafeBufferPointer(start: revaluer.lossRow(account: a), count: count), scratch: scratch)) }
            }
            return floors
        }
        return (histogram, floors)
    }
}

/// The pilot's shocks, read (never written) by the workers that revalue the accounts on them.
private struct PilotShocks: @unchecked Sendable {
    let buffers: ShockBuffers
}

/// Prices a chunk for `run`: the loss of every account of `accounts` on every path, folded into
/// the tail aggregators, and — for a group that starts at account 0 — the book's loss (the P&L of the
/// other accounts' options subtracted after theirs, so in the same order as with one group).
/// Accounts are revalued in blocks of about 256 KiB of losses (accounts × chunk doubles), so a block
/// is still in cache when its aggregators read it.
public struct PortfolioPricer: PathPricer {
    public let book: Book
    /// The accounts priced, consecutive; aggregate i is account `accounts.lowerBound + i`.
    public let accounts: Range<Int>
    public var carriesBook: Bool { accounts.lowerBound == 0 }

    public init(book: Book, accounts: Range<Int>? = nil) {
        self.book = book
        self.accounts = accounts ?? 0..<book.accountCount
    }

    /// Accounts revalued at a time for a chunk of `chunk` paths.
    static func accountsPerBlock(chunk: Int) -> Int { max(8, 32_768 / max(chunk, 1)) }

    public func makeWorkspace(capacity: Int) -> Revaluer {
        Revaluer(book: book, capacity: capacity, accountsPerBlock: Self.accountsPerBlock(chunk: capacity))
    }

    public func price(_ shocks: ShockBuffers, count: Int, workspace revaluer: Revaluer, into aggregates: inout PortfolioAggregates) {
        // Also in a group without the book: the options of `revalue` subtract from the book's row.
        revaluer.beginChunk(shocks)
        aggregates.accounts.withUnsafeMutableBufferPointer { tails in
            let tails = tails.baseAddress! - accounts.lowerBound
            for first in stride(from: accounts.lowerBound, to: accounts.upperBound, by: revaluer.accountsPerBlock) {
                let block = first..<min(first + revaluer.accountsPerBlock, accounts.upperBound)
                revaluer.revalue(shocks, accounts: block, sparseLinearApart: true)
                for a in block {
                    if book.hasSparseLinearLoss(a) {
                        addSparseLinearTail(shocks, account: a, count: count, into: &tails[a])
                    } else {
                        tails[a].add(revaluer.lossRow(account: a), count: count)
                    }
                }
            }
        }
        guard carriesBook else { return }
        revaluer.subtractBookOptions(shocks, options: book.optionStart[accounts.upperBound]..<book.options.count)
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
