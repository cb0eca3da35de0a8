import CKernels
import ScenarioSpec
import Shocks
import TailStats

/// Receives every liquidation event of a chunk as `WaterfallTotals` counts it (the penalty grid).
protocol LiquidationSink {
    /// A liquidation that closed `notional` USD and left `equity` (E2) in the account.
    mutating func add(notional: Double, equity: Double)
}

/// A sink that keeps nothing (an evaluation's waterfall).
struct NoSink: LiquidationSink {
    @inline(__always) mutating func add(notional: Double, equity: Double) {}
}

/// Liquidations, deficits and (optionally) each account's horizon-loss tail, summed over paths, for
/// the consecutive accounts `accounts` (entry i: account accounts.lowerBound + i).
struct WaterfallTotals: Sendable {
    let accounts: Range<Int>
    var liquidations: [Int]
    /// Liquidations after which the account would have recovered above maintenance unaided.
    var unnecessaryLiquidations: [Int]
    var deficits: [ExactSum]
    /// Each account's horizon-loss tail (empty when not asked for: an evaluation needs none).
    var accountLosses: [TailAccumulator]
    /// When the liquidations happened.
    var breachTimes: BreachTimes
    /// What cascades did (an evaluation's waterfall under `CascadeLiquidation`; nil otherwise).
    var cascade: CascadeTotals?

    init(accounts: Range<Int>, plan: TailPlan?, horizonHours: Double, cascade: CascadeTotals? = nil) {
        self.accounts = accounts
        self.cascade = cascade
        breachTimes = BreachTimes(horizonHours: horizonHours)
        liquidations = Array(repeating: 0, count: accounts.count)
        unnecessaryLiquidations = Array(repeating: 0, count: accounts.count)
        deficits = Array(repeating: ExactSum(), count: accounts.count)
        accountLosses = plan.map { Array(repeating: TailAccumulator(plan: $0), count: accounts.count) } ?? []
    }

    /// Folds in the settled block `buffers.accounts` (within `accounts`) of a chunk, handing each
    /// liquidation to `sink`.
    /// - Complexity: O(accounts of the block × count).
    mutating func add<Sink: LiquidationSink>(_ buffers: WaterfallBuffers, count m: Int, sink: inout Sink) {
        let first = accounts.lowerBound
        if !accountLosses.isEmpty {
            for a in buffers.accounts { accountLosses[a - first].add(buffers.loss + buffers.row(account: a), count: m) }
        }
        for a in buffers.accounts {
            let i = a - first, r = buffers.row(account: a)
            // Deficits are summed per aligned block of paths, then exactly: chunk-size invariant.
            for block in stride(from: 0, to: m, by: TailAccumulator.blockSize) {
                var blockDeficit = 0.0
                for j in block..<min(block + TailAccumulator.blockSize, m) where buffers.liquidated[r + j] {
                    let k = r + j
                    liquidations[i] += 1
                    if buffers.recovered[k] { unnecessaryLiquidations[i] += 1 }
                    breachTimes.add(hours: buffers.breachHours[k])
                    breachTimes.totalHours.add(buffers.breachHours[k])
                    blockDeficit += max(-buffers.finalEquity[k], 0)
                    sink.add(notional: buffers.notional[k], equity: buffers.finalEquity[k])
                }
                deficits[i].add(blockDeficit)
            }
        }
    }

    /// - Complexity: O(accounts × the loss tails' kept sizes).
    mutating func merge(_ other: WaterfallTotals) {
        for a in liquidations.indices {
            liquidations[a] += other.liquidations[a]
            unnecessaryLiquidations[a] += other.unnecessaryLiquidations[a]
            deficits[a].merge(other.deficits[a])
        }
        for a in accountLosses.indices { accountLosses[a].merge(other.accountLosses[a]) }
        breachTimes.merge(other.breachTimes)
        if let theirs = other.cascade { cascade?.merge(theirs) }
    }
}

/// The venue's side of every path at a known penalty rate: the net deficit tail, the income, the
/// deficit and the count of paths whose net deficit exceeds the fund (pass C, and an evaluation).
///
/// A chunk is folded in block of accounts by block (`addBlock`, into per-path sums the chunk's
/// `WaterfallBuffers.pathSums` hold), then once per chunk (`finishChunk`): each path's sums over the
/// accounts are taken in account order, the same additions as over all accounts at once.
struct FundTotals: Sendable {
    var netDeficit: TailAccumulator
    var income = ExactSum()
    /// Σ over paths of the path's income², deficit and deficit² (for the standard errors of the
    /// per-path means).
    var incomeSquares = ExactSum()
    var deficit = ExactSum()
    var deficitSquares = ExactSum()
    var adlCount = 0

    init(plan: TailPlan) { netDeficit = TailAccumulator(plan: plan) }

    /// Adds the settled block `buffers.accounts` to each path's deficit D_j += Σ_a max(−E2, 0) and
    /// income I_j += Σ_a min(π·N_a, E2⁺) over its liquidated accounts (USD), in account order;
    /// `sums` holds D then I (`WaterfallBuffers.pathSums`), zeroed at the chunk's start.
    /// - Complexity: O(accounts of the block × count).
    static func addBlock(_ buffers: WaterfallBuffers, count m: Int, rate: Double, sums: UnsafeMutablePointer<Double>) {
        let pathDeficit = sums, pathIncome = sums + buffers.capacity
        for a in buffers.accounts {
            let r = buffers.row(account: a)
            for j in 0..<m where buffers.liquidated[r + j] {
                let e2 = buffers.finalEquity[r + j]
                pathDeficit[j] += max(-e2, 0)
                pathIncome[j] += min(rate * buffers.notional[r + j], max(e2, 0))
            }
        }
    }

    /// Folds in a chunk whose every account block went through `addBlock`: the net deficit
    /// D_j − I_j of each path (written over D), the income and deficit sums per aligned block of
    /// paths (then exactly), and P(net deficit > balance).
    /// - Complexity: O(count).
    mutating func finishChunk(count m: Int, capacity: Int, balance: Double?, sums: UnsafeMutablePointer<Double>) {
        let pathDeficit = sums, pathIncome = sums + capacity
        var blockIncome = 0.0, blockIncomeSquares = 0.0, blockDeficit = 0.0, blockDeficitSquares = 0.0
        func flush() {
            income.add(blockIncome); incomeSquares.add(blockIncomeSquares)
            deficit.add(blockDeficit); deficitSquares.add(blockDeficitSquares)
            blockIncome = 0; blockIncomeSquares = 0; blockDeficit = 0; blockDeficitSquares = 0
        }
        for j in 0..<m {
            if j % TailAccumulator.blockSize == 0 { flush() }
            let income = pathIncome[j], deficit = pathDeficit[j]
            let net = deficit - income
            blockIncome += income; blockIncomeSquares += income * income
            blockDeficit += deficit; blockDeficitSquares += deficit * deficit
            pathDeficit[j] = net
            if let balance, net > balance { adlCount += 1 }
        }
        flush()
        netDeficit.add(pathDeficit, count: m)
    }

    /// - Complexity: O(the net deficit tail's kept size).
    mutating func merge(_ other: FundTotals) {
        netDeficit.merge(other.netDeficit)
        income.merge(other.income)
        incomeSquares.merge(other.incomeSquares)
        deficit.merge(other.deficit)
        deficitSquares.merge(other.deficitSquares)
        adlCount += other.adlCount
    }
}

/// Breach counts per threshold on the standardized shocks.
struct BreachCounts: Sendable {
    var counts: [Int]
    init(count: Int) { counts = Array(repeating: 0, count: count) }

    /// - Complexity: O(thresholds).
    mutating func merge(_ other: BreachCounts) { for k in counts.indices { counts[k] += other.counts[k] } }

    /// Counts the paths whose standardized shock of the asset crosses each threshold: below it for
    /// a long breach, above it for a short one.
    /// - Complexity: O(thresholds × count).
    mutating func add(_ shocks: ShockBuffers, count: Int, thresholds: [BreachThreshold]) {
        for (k, threshold) in thresholds.enumerated() {
            let row = shocks.row(shocks.epsilon, asset: threshold.asset)
            let crossed = thresher_count_beyond(row, count, threshold.bound, threshold.side == .long ? 0 : 1)
            counts[k] += crossed
        }
    }
}

/// A threshold on an asset's standardized shock ε: below `bound` is a long breach, above a short one.
struct BreachThreshold: Sendable {
    let asset: Int
    let side: Side
    let bound: Double
}

extension WaterfallTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(liquidations)
        writer.write(unnecessaryLiquidations)
        writer.write(each: deficits)
        writer.write(each: accountLosses)
        breachTimes.encode(to: &writer)
        cascade?.encode(to: &writer)
    }

    mutating func decode(from reader: inout StateReader) throws {
        liquidations = try reader.readInts(expected: liquidations.count, of: "accounts")
        unnecessaryLiquidations = try reader.readInts(expected: unnecessaryLiquidations.count, of: "accounts")
        try reader.read(each: &deficits, of: "accounts")
        try reader.read(each: &accountLosses, of: "accounts")
        try breachTimes.decode(from: &reader)
        try cascade?.decode(from: &reader)
    }
}

extension FundTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        netDeficit.encode(to: &writer)
        for sum in [income, incomeSquares, deficit, deficitSquares] { sum.encode(to: &writer) }
        writer.write(adlCount)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try netDeficit.decode(from: &reader)
        try income.decode(from: &reader)
        try incomeSquares.decode(from: &reader)
        try deficit.decode(from: &reader)
        try deficitSquares.decode(from: &reader)
        adlCount = try reader.readInt()
    }
}

extension BreachCounts: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(counts) }
    mutating func decode(from reader: inout StateReader) throws { counts = try reader.readInts(expected: counts.count, of: "breach thresholds") }
}
