import CKernels
import ScenarioSpec
import Shocks
import TailStats

/// Receives every liquidation event of a chunk as `WaterfallTotals` counts it (the penalty grid).
protocol LiquidationSink {
    /// A liquidation that closed `notional` USD and left `equity` (E2) in the account, on a path of
    /// likelihood ratio `weight` (1 without importance sampling).
    mutating func add(notional: Double, equity: Double, weight: Double)
}

/// A sink that keeps nothing (an evaluation's waterfall).
struct NoSink: LiquidationSink {
    @inline(__always) mutating func add(notional: Double, equity: Double, weight: Double) {}
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
    /// Under importance sampling (`weighted`): per account the likelihood ratios summed over its
    /// liquidations and its unnecessary ones (N times the estimated probabilities), and its
    /// horizon-loss tail weighted (instead of `accountLosses`); empty otherwise.
    var liquidationWeights: [ExactSum] = []
    var unnecessaryWeights: [ExactSum] = []
    var weightedAccountLosses: [WeightedTailAccumulator] = []

    init(accounts: Range<Int>, plan: TailPlan?, horizonHours: Double, weighted: Bool = false, cascade: CascadeTotals? = nil) {
        self.accounts = accounts
        self.cascade = cascade
        breachTimes = BreachTimes(horizonHours: horizonHours, weighted: weighted)
        liquidations = Array(repeating: 0, count: accounts.count)
        unnecessaryLiquidations = Array(repeating: 0, count: accounts.count)
        deficits = Array(repeating: ExactSum(), count: accounts.count)
        if weighted {
            liquidationWeights = Array(repeating: ExactSum(), count: accounts.count)
            unnecessaryWeights = liquidationWeights
            weightedAccountLosses = plan.map { Array(repeating: WeightedTailAccumulator(plan: $0), count: accounts.count) } ?? []
            accountLosses = []
        } else {
            // Only the tails' order statistics are read (`accountValuesAtRisk`): no moments.
            accountLosses = plan.map { Array(repeating: TailAccumulator(plan: $0, moments: false), count: accounts.count) } ?? []
        }
    }

    /// N × the estimated liquidation probability of entry i: the liquidation count, or under
    /// importance sampling the sum of the liquidated paths' likelihood ratios.
    func liquidationMass(_ i: Int) -> Double { liquidationWeights.isEmpty ? Double(liquidations[i]) : liquidationWeights[i].value }

    /// The same for the unnecessary liquidations.
    func unnecessaryMass(_ i: Int) -> Double { unnecessaryWeights.isEmpty ? Double(unnecessaryLiquidations[i]) : unnecessaryWeights[i].value }

    /// Folds in the settled block `buffers.accounts` (within `accounts`) of a chunk, handing each
    /// liquidation to `sink`; `weights`: the paths' likelihood ratios under importance sampling (then
    /// every sum is of w·x), nil otherwise.
    /// - Complexity: O(accounts of the block × count).
    mutating func add<Sink: LiquidationSink>(_ buffers: WaterfallBuffers, count m: Int, weights: UnsafePointer<Double>?, sink: inout Sink) {
        let first = accounts.lowerBound
        if !accountLosses.isEmpty {
            for a in buffers.accounts { accountLosses[a - first].add(buffers.loss + buffers.row(account: a), count: m) }
        }
        if let weights, !weightedAccountLosses.isEmpty {
            for a in buffers.accounts { weightedAccountLosses[a - first].add(buffers.loss + buffers.row(account: a), weights: weights, count: m) }
        }
        // Without weights, a block's breach times go to `breachTimes` together (one exact-sum access).
        withUnsafeTemporaryAllocation(of: Double.self, capacity: TailAccumulator.blockSize) { blockHours in
            for a in buffers.accounts {
                let i = a - first, r = buffers.row(account: a)
                // Deficits are summed per aligned block of paths, then exactly: chunk-size invariant.
                // A block without liquidations adds 0 everywhere: skipped (`ExactSum.add(0)` is a no-op).
                for block in stride(from: 0, to: m, by: TailAccumulator.blockSize) {
                    let end = min(block + TailAccumulator.blockSize, m)
                    var j = buffers.nextLiquidated(row: r, from: block, to: end)
                    guard j < end else { continue }
                    var blockDeficit = 0.0, blockLiquidations = 0.0, blockUnnecessary = 0.0, timed = 0
                    while j < end {
                        let k = r + j, w = weights?[j] ?? 1
                        liquidations[i] += 1
                        if buffers.recovered[k] { unnecessaryLiquidations[i] += 1; blockUnnecessary += w }
                        blockLiquidations += w
                        if weights == nil {
                            blockHours[timed] = buffers.breachHours[k]
                            timed += 1
                        } else {
                            breachTimes.add(hours: buffers.breachHours[k], weight: w)
                        }
                        blockDeficit += w * max(-buffers.finalEquity[k], 0)
                        sink.add(notional: buffers.notional[k], equity: buffers.finalEquity[k], weight: w)
                        j = buffers.nextLiquidated(row: r, from: j + 1, to: end)
                    }
                    if timed > 0 { breachTimes.add(hours: blockHours.baseAddress!, count: timed) }
                    deficits[i].add(blockDeficit)
                    if !liquidationWeights.isEmpty {
                        liquidationWeights[i].add(blockLiquidations)
                        unnecessaryWeights[i].add(blockUnnecessary)
                    }
                }
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
        for a in liquidationWeights.indices {
            liquidationWeights[a].merge(other.liquidationWeights[a])
            unnecessaryWeights[a].merge(other.unnecessaryWeights[a])
        }
        for a in accountLosses.indices { accountLosses[a].merge(other.accountLosses[a]) }
        for a in weightedAccountLosses.indices { weightedAccountLosses[a].merge(other.weightedAccountLosses[a]) }
        breachTimes.merge(other.breachTimes)
        if let theirs = other.cascade { cascade?.merge(theirs) }
    }

    /// Account entry i's horizon-loss VaRs at the tail plan's levels, USD (weighted under
    /// importance sampling; NaN where the paths are too few for a level).
    func accountValuesAtRisk(_ i: Int) -> [Double] {
        weightedAccountLosses.isEmpty ? accountLosses[i].valuesAtRisk() : weightedAccountLosses[i].summary().levels.map(\.valueAtRisk)
    }

    /// Accounts whose loss tails are kept.
    var accountLossCount: Int { max(accountLosses.count, weightedAccountLosses.count) }
}

/// The venue's side of every path at a known penalty rate: the net deficit tail, the income, the
/// deficit and the count of paths whose net deficit exceeds the fund (pass C, and an evaluation).
///
/// A chunk is folded in block of accounts by block (`addBlock`, into per-path sums the chunk's
/// `WaterfallBuffers.pathSums` hold), then once per chunk (`finishChunk`): each path's sums over the
/// accounts are taken in account order, the same additions as over all accounts at once.
struct FundTotals: Sendable {
    var netDeficit: TailAccumulator
    /// Under importance sampling, the net deficit's weighted tail instead of `netDeficit`.
    var weightedNetDeficit: WeightedTailAccumulator?
    /// Σ over paths of the path's income (w·I under importance sampling), and of its square, the
    /// deficit and its square (for the standard errors of the per-path means).
    var income = ExactSum()
    var incomeSquares = ExactSum()
    var deficit = ExactSum()
    var deficitSquares = ExactSum()
    var adlCount = 0
    /// Under importance sampling, Σ w over the paths whose net deficit exceeds the balance.
    var adlWeight = ExactSum()

    init(plan: TailPlan, weighted: Bool = false) {
        netDeficit = TailAccumulator(plan: plan)   // empty under importance sampling
        weightedNetDeficit = weighted ? WeightedTailAccumulator(plan: plan) : nil
    }

    /// The net deficit's tail statistics (weighted under importance sampling).
    var netDeficitSummary: TailSummary { weightedNetDeficit?.summary() ?? netDeficit.summary() }

    /// N × the estimated P(net deficit > balance).
    var adlMass: Double { weightedNetDeficit == nil ? Double(adlCount) : adlWeight.value }

    /// Adds the settled block `buffers.accounts` to each path's deficit D_j += Σ_a max(−E2, 0) and
    /// income I_j += Σ_a min(π·N_a, E2⁺) over its liquidated accounts (USD), in account order;
    /// `sums` holds D then I (`WaterfallBuffers.pathSums`), zeroed at the chunk's start.
    /// - Complexity: O(accounts of the block × count).
    static func addBlock(_ buffers: WaterfallBuffers, count m: Int, rate: Double, sums: UnsafeMutablePointer<Double>) {
        let pathDeficit = sums, pathIncome = sums + buffers.capacity
        for a in buffers.accounts {
            let r = buffers.row(account: a)
            var j = buffers.nextLiquidated(row: r, from: 0, to: m)
            while j < m {
                let e2 = buffers.finalEquity[r + j]
                pathDeficit[j] += max(-e2, 0)
                pathIncome[j] += min(rate * buffers.notional[r + j], max(e2, 0))
                j = buffers.nextLiquidated(row: r, from: j + 1, to: m)
            }
        }
    }

    /// Folds in a chunk whose every account block went through `addBlock`: the net deficit
    /// D_j − I_j of each path (written over D), the income and deficit sums per aligned block of
    /// paths (then exactly), and P(net deficit > balance).
    /// - Complexity: O(count).
    /// `weights`: the paths' likelihood ratios under importance sampling (the sums are then of w·I,
    /// w·D and their squares, the ADL count Σ w, the tail weighted), nil otherwise.
    mutating func finishChunk(count m: Int, capacity: Int, balance: Double?, weights: UnsafePointer<Double>?, sums: UnsafeMutablePointer<Double>) {
        let pathDeficit = sums, pathIncome = sums + capacity
        var blockIncome = 0.0, blockIncomeSquares = 0.0, blockDeficit = 0.0, blockDeficitSquares = 0.0, blockAdl = 0.0
        func flush() {
            income.add(blockIncome); incomeSquares.add(blockIncomeSquares)
            deficit.add(blockDeficit); deficitSquares.add(blockDeficitSquares)
            if weights != nil { adlWeight.add(blockAdl) }
            blockIncome = 0; blockIncomeSquares = 0; blockDeficit = 0; blockDeficitSquares = 0; blockAdl = 0
        }
        for j in 0..<m {
            if j % TailAccumulator.blockSize == 0 { flush() }
            let w = weights?[j] ?? 1
            let income = w * pathIncome[j], deficit = w * pathDeficit[j]
            let net = pathDeficit[j] - pathIncome[j]
            blockIncome += income; blockIncomeSquares += income * income
            blockDeficit += deficit; blockDeficitSquares += deficit * deficit
            pathDeficit[j] = net
            if let balance, net > balance { adlCount += 1; blockAdl += w }
        }
        flush()
        if let weights, weightedNetDeficit != nil {
            weightedNetDeficit!.add(pathDeficit, weights: weights, count: m)
        } else {
            netDeficit.add(pathDeficit, count: m)
        }
    }

    /// - Complexity: O(the net deficit tail's kept size).
    mutating func merge(_ other: FundTotals) {
        netDeficit.merge(other.netDeficit)
        if let theirs = other.weightedNetDeficit { weightedNetDeficit?.merge(theirs) }
        adlWeight.merge(other.adlWeight)
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
    /// Under importance sampling, Σ w and Σ w² over the crossing paths per threshold; empty otherwise.
    var weights: [ExactSum] = []
    var weightSquares: [ExactSum] = []
    init(count: Int, weighted: Bool = false) {
        counts = Array(repeating: 0, count: count)
        if weighted {
            weights = Array(repeating: ExactSum(), count: count)
            weightSquares = weights
        }
    }

    /// N × the estimated breach probability of threshold k.
    func mass(_ k: Int) -> Double { weights.isEmpty ? Double(counts[k]) : weights[k].value }

    /// The standard error of threshold k's estimated probability p̂ over `paths` paths: the binomial
    /// √(p̂(1 − p̂)/N), or under importance sampling √((Σ w²/N − p̂²)/N).
    func standardError(_ k: Int, paths: Int) -> Double {
        let n = Double(paths), p = mass(k) / n
        guard !weights.isEmpty else { return PolicyEvaluation.binomialStandardError(p, paths: paths) }
        return (max(0, weightSquares[k].value / n - p * p) / n).squareRoot()
    }

    /// - Complexity: O(thresholds).
    mutating func merge(_ other: BreachCounts) {
        for k in counts.indices { counts[k] += other.counts[k] }
        for k in weights.indices {
            weights[k].merge(other.weights[k])
            weightSquares[k].merge(other.weightSquares[k])
        }
    }

    /// Counts the paths whose standardized shock of the asset crosses each threshold: below it for
    /// a long breach, above it for a short one; under importance sampling (`weights`: the paths'
    /// likelihood ratios) also sums their weights per aligned block of paths, then exactly.
    /// - Complexity: O(thresholds × count).
    mutating func add(_ shocks: ShockBuffers, count: Int, weights w: UnsafePointer<Double>?, thresholds: [BreachThreshold]) {
        for (k, threshold) in thresholds.enumerated() {
            let row = shocks.row(shocks.epsilon, asset: threshold.asset)
            let crossed = thresher_count_beyond(row, count, threshold.bound, threshold.side == .long ? 0 : 1)
            counts[k] += crossed
            guard let w, !weights.isEmpty else { continue }
            addWeights(k, count: count, weights: w) { threshold.side == .long ? row[$0] < threshold.bound : row[$0] > threshold.bound }
        }
    }

    /// Counts the paths j < count whose value exceeds `bound` as breaches of entry k; under
    /// importance sampling (`weights`) also sums their weights per aligned block of paths, then exactly.
    /// - Complexity: O(count).
    mutating func add(_ k: Int, values: UnsafePointer<Double>, above bound: Double, count: Int, weights w: UnsafePointer<Double>?) {
        counts[k] += thresher_count_beyond(values, count, bound, 1)
        guard let w, !weights.isEmpty else { return }
        addWeights(k, count: count, weights: w) { values[$0] > bound }
    }

    /// Σ w and Σ w² of entry k over the paths j < count that `crossed`, per aligned block of paths
    /// (`TailAccumulator.blockSize`), then exactly: the same sums for any chunk size.
    @inline(__always)
    private mutating func addWeights(_ k: Int, count: Int, weights w: UnsafePointer<Double>, crossed: (Int) -> Bool) {
        for block in stride(from: 0, to: count, by: TailAccumulator.blockSize) {
            var blockWeight = 0.0, blockSquares = 0.0
            for j in block..<min(block + TailAccumulator.blockSize, count) where crossed(j) {
                blockWeight += w[j]
                blockSquares += w[j] * w[j]
            }
            weights[k].add(blockWeight)
            weightSquares[k].add(blockSquares)
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
        writer.write(each: liquidationWeights)
        writer.write(each: unnecessaryWeights)
        writer.write(each: weightedAccountLosses)
        breachTimes.encode(to: &writer)
        cascade?.encode(to: &writer)
    }

    mutating func decode(from reader: inout StateReader) throws {
        liquidations = try reader.readInts(expected: liquidations.count, of: "accounts")
        unnecessaryLiquidations = try reader.readInts(expected: unnecessaryLiquidations.count, of: "accounts")
        try reader.read(each: &deficits, of: "accounts")
        try reader.read(each: &accountLosses, of: "accounts")
        try reader.read(each: &liquidationWeights, of: "accounts")
        try reader.read(each: &unnecessaryWeights, of: "accounts")
        try reader.read(each: &weightedAccountLosses, of: "accounts")
        try breachTimes.decode(from: &reader)
        try cascade?.decode(from: &reader)
    }
}

extension FundTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        netDeficit.encode(to: &writer)
        weightedNetDeficit?.encode(to: &writer)
        for sum in [income, incomeSquares, deficit, deficitSquares, adlWeight] { sum.encode(to: &writer) }
        writer.write(adlCount)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try netDeficit.decode(from: &reader)
        try weightedNetDeficit?.decode(from: &reader)
        try income.decode(from: &reader)
        try incomeSquares.decode(from: &reader)
        try deficit.decode(from: &reader)
        try deficitSquares.decode(from: &reader)
        try adlWeight.decode(from: &reader)
        adlCount = try reader.readInt()
    }
}

extension BreachCounts: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(counts)
        writer.write(each: weights)
        writer.write(each: weightSquares)
    }

    mutating func decode(from reader: inout StateReader) throws {
        counts = try reader.readInts(expected: counts.count, of: "breach thresholds")
        try reader.read(each: &weights, of: "breach thresholds")
        try reader.read(each: &weightSquares, of: "breach thresholds")
    }
}
