import CKernels
import Foundation

/// What a tail accumulator must be able to answer: the total path count N and the confidence
/// levels α, which fix the ranks k = ⌈(1−α)·N⌉ and hence how many of the largest losses to keep.
public struct TailPlan: Sendable {
    public let totalPaths: Int
    public let levels: [Double]
    /// Losses kept: the largest rank needed by any level, plus the order statistics the VaR
    /// standard error reads (√(N·α(1−α)) ranks beyond k), capped at N.
    public let capacity: Int

    public init(totalPaths: Int, levels: [Double]) {
        self.totalPaths = totalPaths
        self.levels = levels
        capacity = min(totalPaths, levels.map { level in
            TailPlan.rank(level: level, paths: totalPaths) + TailPlan.rankSpread(level: level, paths: totalPaths) + 1
        }.max() ?? 1)
    }

    /// k = ⌈(1−α)·N⌉, the rank (1-based, largest first) of VaR_α among N losses. (1−α)·N is
    /// rounded to 1e-9 first so that, e.g., (1 − 0.99)·10⁶ = 10000.000000000002 gives 10000.
    public static func rank(level: Double, paths: Int) -> Int {
        let exact = (1 - level) * Double(paths)
        let rounded = (exact * 1e9).rounded() / 1e9
        return min(paths, max(1, Int(rounded.rounded(.up))))
    }

    /// A floor for `TailAccumulator` from a pilot sample of n losses (paths drawn like the others):
    /// just below the pilot's r-th largest, r = ⌈3·K·n/N⌉, so that about 3K of the N losses exceed
    /// it. Exceedances are then Binomial(N, 3K/N) give or take the pilot's own noise (relative sd
    /// ≈ 1/√r); falling below K needs a miss of 2/3, at least 6.7 standard deviations since a floor
    /// is used only when 100 ≤ r ≤ n/4 (otherwise −∞).
    ///
    /// The r-th largest is found among the pilot losses above a bound from every 16th loss (its
    /// ⌈r/8⌉-th largest, about the pilot's 2r-th: a sixth of the work of selecting from all n), or
    /// from all n should fewer than r lie above that bound; the floor is the same either way.
    /// - Parameter scratch: room for `floorScratchCount(pilot:)` values, overwritten (a caller
    ///   finding the floors of many accounts reuses one).
    public func floor(pilot: UnsafeBufferPointer<Double>, scratch: UnsafeMutablePointer<Double>) -> Double {
        let n = pilot.count
        let r = Int((3 * Double(capacity) * Double(n) / Double(totalPaths)).rounded(.up))
        guard r >= 100, 4 * r <= n else { return -.infinity }
        let sampleCount = (n + 15) / 16
        let sample = UnsafeMutableBufferPointer(start: scratch, count: sampleCount)
        for k in 0..<sampleCount { sample[k] = pilot[16 * k] }
        let sampleRank = min(sampleCount, (r + 7) / 8)
        selectLargest(sampleRank, in: sample)
        let bound = sample[0..<sampleRank].min()!
        // The candidates over the sample, after it: the pilot's losses above the bound, or all of them.
        let candidates = scratch + sampleCount
        var kept = thresher_values_above(pilot.baseAddress!, n, bound.nextDown, candidates)
        if kept < r {
            candidates.update(from: pilot.baseAddress!, count: n)
            kept = n
        }
        let largest = UnsafeMutableBufferPointer(start: candidates, count: kept)
        selectLargest(r, in: largest)
        return largest[0..<r].min()!.nextDown
    }

    /// The scratch `floor(pilot:scratch:)` needs for a pilot of n losses: its every 16th, then
    /// n + 8 candidates (`thresher_values_above` writes up to 8 past the last).
    public static func floorScratchCount(pilot n: Int) -> Int { (n + 15) / 16 + n + 8 }

    /// Below this rank k the VaR standard error is not reported (nil): with fewer tail paths the
    /// order-statistic width is too coarse for a ±1.96·SE interval to cover (k = 1: ≈ 70 %).
    public static let minimumRankForValueAtRiskError = 10
    /// Below this rank k the ES standard error is not reported (nil): the asymptotic formula needs
    /// the tail's own variance, which a handful of losses cannot give (measured coverage of
    /// ES ± 1.96·SE over 2,000 seeds at α = 99 %: k = 5 ≈ 79 % / 72 % under normal / Student-t(4)
    /// losses, k = 20 ≈ 90 % / 88 %, k = 50 ≈ 92 % / 92 %, k = 100 ≈ 94 % / 93 %).
    public static let minimumRankForExpectedShortfallError = 50

    /// √(N·α(1−α)), the standard deviation of the number of losses above VaR_α, in ranks.
    static func rankSpread(level: Double, paths: Int) -> Int {
        Int((Double(paths) * level * (1 - level)).squareRoot().rounded(.up))
    }
}

/// A mergeable accumulator of one loss variable over paths: exact sums for mean and variance and
/// the K largest losses (K from `TailPlan`), so memory is O(K) whatever the number of paths.
///
/// Values are fed in *blocks of consecutive paths aligned to multiples of `TailAccumulator.blockSize`*
/// (the engine's chunks are made of such blocks). A block's sum is taken in path order and then
/// added exactly, so the result does not depend on which worker saw which block or in what order
/// blocks were merged: any thread count, chunk size or split of the paths gives identical numbers.
public struct TailAccumulator: Sendable {
    /// Paths per block: chunks and path splits must be multiples of it.
    public static let blockSize = Int(THRESHER_STATISTICS_BLOCK)

    public let plan: TailPlan
    public private(set) var count = 0
    private var sum = ExactSum()
    private var sumOfSquares = ExactSum()
    /// Only losses above `floor` are candidates for the tail.
    public private(set) var floor: Double
    /// Candidates for the K largest; after a compaction it holds exactly the K largest so far (in
    /// no particular order) and `threshold` is the smallest of them.
    private var candidates: [Double] = []
    private var threshold: Double

    /// Whether the exact sums behind the mean and variance are kept. Without them only the tail's
    /// order statistics can be asked for (`valuesAtRisk`), which spares each block's statistics.
    public let keepsMoments: Bool

    /// - Parameters:
    ///   - floor: losses at or below it are never kept for the tail (sums still see them). A floor
    ///     safely below the K-th largest loss (`TailPlan.floor(pilot:scratch:)`) spares the warm-up and most
    ///     compactions; the statistics are exact whenever `hasCompleteTail` holds.
    ///   - moments: keep the sums for the mean and variance (`summary`); false: VaRs alone.
    public init(plan: TailPlan, floor: Double = -.infinity, moments: Bool = true) {
        self.plan = plan
        self.floor = floor
        keepsMoments = moments
        threshold = floor
        if floor == -.infinity { candidates.reserveCapacity(2 * plan.capacity) }
    }

    /// Whether the retained tail is the true one: at least K losses exceeded the floor (always true
    /// without a floor). When false the summary's tail statistics are not exact and the paths must
    /// be aggregated again without the floor.
    public var hasCompleteTail: Bool {
        floor == -.infinity || candidates.count >= min(plan.capacity, count)
    }

    /// Adds the losses of consecutive paths starting at an aligned path (USD, in path order).
    public mutating func add(_ losses: [Double]) {
        losses.withUnsafeBufferPointer { add($0.baseAddress!, count: $0.count) }
    }

    /// Blocks whose statistics are taken at a time by `add(count:batch:)`.
    package static let blocksPerBatch = 16

    /// Adds `count` consecutive paths' losses starting at an aligned path.
    package mutating func add(_ values: UnsafePointer<Double>, count n: Int) {
        let moments = keepsMoments
        add(count: n) { start, length, threshold, sums, squares, above in
            if moments { thresher_block_statistics(values + start, length, sums, squares) }
            return thresher_values_above(values + start, length, threshold, above)
        }
    }

    /// Adds `count` consecutive paths' losses starting at an aligned path, batch by batch, from
    /// `batch(start, length, threshold, sums, squares, above)`: for the paths start ..< start + length
    /// (at most `blocksPerBatch` blocks) it writes each block's sum and sum of squares
    /// (`thresher_block_statistics`: a pure function of the block's values; not read unless
    /// `keepsMoments`) and the losses above `threshold` to `above` (room for `length` + 8), and
    /// returns how many those are.
    ///
    /// Block sums are added exactly; the losses above the threshold join the candidates, compacted
    /// to the K largest at 2K. Which losses are candidates when does not matter: the K largest of
    /// all are kept in the end.
    package mutating func add(count n: Int, batch: (Int, Int, Double, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>,
                                                    UnsafeMutablePointer<Double>) -> Int) {
        let blocksPerBatch = Self.blocksPerBatch, batchPaths = blocksPerBatch * Self.blockSize
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * blocksPerBatch + batchPaths + 8) { scratch in
            let sums = scratch.baseAddress!, squares = sums + blocksPerBatch, above = squares + blocksPerBatch
            var start = 0
            while start < n {
                let length = min(n - start, batchPaths)
                let kept = batch(start, length, threshold, sums, squares, above)
                if keepsMoments {
                    let blocks = (length + Self.blockSize - 1) / Self.blockSize
                    sum.add(sums, count: blocks)
                    sumOfSquares.add(squares, count: blocks)
                }
                count += length
                if kept > 0 {
                    // Grown by doubling, but never past the most candidates held at once (2K before a
                    // compaction, plus a batch): an array that would double to 4K stops there.
                    if candidates.capacity < candidates.count + kept {
                        candidates.reserveCapacity(min(max(2 * candidates.capacity, candidates.count + kept), 2 * plan.capacity + batchPaths))
                    }
                    candidates.append(contentsOf: UnsafeBufferPointer(start: above, count: kept))
                    if candidates.count >= 2 * plan.capacity { compact() }
                }
                start += length
            }
        }
    }

    /// Merges another accumulator of *other* paths under the same plan.
    /// Each side holds every loss of its paths above its floor (up to its K largest), so the union
    /// holds every loss above the higher floor: that becomes the merged floor.
    /// - Complexity: O(K + m) on average, K the plan's capacity and m the other side's candidates
    ///   (a filter, and a selection once 2K candidates are held, as `add` does).
    public mutating func merge(_ other: TailAccumulator) {
        precondition(plan.totalPaths == other.plan.totalPaths && plan.levels == other.plan.levels)
        count += other.count
        sum.merge(other.sum)
        sumOfSquares.merge(other.sumOfSquares)
        if other.floor > floor {
            floor = other.floor
            threshold = max(threshold, floor)
            candidates.removeAll { $0 <= other.floor }
        }
        let kept = threshold
        candidates.reserveCapacity(candidates.count + other.candidates.count)
        for value in other.candidates where value > kept { candidates.append(value) }
        if candidates.count >= 2 * plan.capacity { compact() }
    }

    /// Keeps the K largest candidates (by selection, O(n) on average), and raises the threshold to
    /// the smallest of them once K are held.
    private mutating func compact() {
        guard candidates.count >= plan.capacity else { return }
        Self.keepLargest(plan.capacity, of: &candidates)
        threshold = candidates.min()!
    }

    /// Shortens `values` to its k largest (in no order) when it holds more.
    private static func keepLargest(_ k: Int, of values: inout [Double]) {
        guard values.count > k else { return }
        values.withUnsafeMutableBufferPointer { selectLargest(k, in: $0) }
        values.removeLast(values.count - k)
    }

    /// The finished statistics. VaR_α is the k-th largest loss and ES_α the mean of the k largest,
    /// k = ⌈(1−α)·n⌉ with n the paths seen.
    ///
    /// Standard errors (asymptotic, from the retained tail alone):
    /// - VaR: half the distance between the order statistics m = ⌈√(n·α(1−α))⌉ ranks either side of
    ///   rank k — the distribution-free width of one standard deviation of the empirical quantile.
    /// - ES: √((Var[L | L ≥ VaR] + α·(ES − VaR)²)/k) (Manistre & Hancock 2005; Yamai & Yoshiba 2002).
    /// Both are nil below the ranks `TailPlan.minimumRankFor…Error`: too few tail losses to say.
    /// - Parameter retainingLosses: keep the retained tail in `largestLosses` (for charts); without,
    ///   the summary holds only the statistics.
    /// - Complexity: O(C), C ≤ 2K + a batch the candidates held (a radix sort of them).
    public func summary(retainingLosses: Bool = true) -> TailSummary {
        precondition(keepsMoments, "a tail kept without moments has VaRs alone (valuesAtRisk)")
        // The K largest, descending: every candidate sorted (a radix sort, linear in their number),
        // then the first K.
        var tail = candidates
        tail.withUnsafeMutableBufferPointer { tail in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, tail.count)) { thresher_sort_descending(tail.baseAddress!, tail.count, $0.baseAddress!) }
        }
        if tail.count > plan.capacity { tail.removeLast(tail.count - plan.capacity) }
        let n = Double(count)
        let mean = sum.value / n
        let variance = count > 1 ? max(0, (sumOfSquares.value - n * mean * mean) / (n - 1)) : 0
        var levels: [TailSummary.Level] = []
        for alpha in plan.levels {
            let k = TailPlan.rank(level: alpha, paths: count)
            guard k <= tail.count else { levels.append(.init(alpha: alpha, rank: k, valueAtRisk: .nan, expectedShortfall: .nan, valueAtRiskStandardError: nil, expectedShortfallStandardError: nil, beyondSample: true)); continue }
            let valueAtRisk = tail[k - 1]
            var total = 0.0
            for v in tail[0..<k] { total += v }
            let es = total / Double(k)
            var squares = 0.0
            for v in tail[0..<k] { squares += (v - es) * (v - es) }
            let tailVariance = k > 1 ? squares / Double(k - 1) : 0
            let esError = ((tailVariance + alpha * (es - valueAtRisk) * (es - valueAtRisk)) / Double(k)).squareRoot()
            let spread = TailPlan.rankSpread(level: alpha, paths: count)
            let above = tail[max(0, k - 1 - spread)]
            let below = tail[min(tail.count - 1, k - 1 + spread)]
            levels.append(.init(alpha: alpha, rank: k, valueAtRisk: valueAtRisk, expectedShortfall: es,
                                valueAtRiskStandardError: k >= TailPlan.minimumRankForValueAtRiskError ? 0.5 * (above - below) : nil,
                                expectedShortfallStandardError: k >= TailPlan.minimumRankForExpectedShortfallError ? esError : nil,
                                beyondSample: (1 - alpha) * n < 1))
        }
        return TailSummary(paths: count, mean: mean, standardDeviation: variance.squareRoot(), levels: levels,
                           largestLosses: retainingLosses ? tail : [])
    }
}

extension TailAccumulator {
    /// VaR_α per level of the plan: the k-th largest loss, k = ⌈(1−α)·n⌉ (`summary`'s value, found
    /// by selection rather than a sort of the tail); NaN where the tail holds fewer than k or no
    /// path was added.
    /// - Complexity: O(K) on average per level, K the plan's capacity.
    public func valuesAtRisk() -> [Double] {
        plan.levels.map { alpha in
            let k = TailPlan.rank(level: alpha, paths: count)
            guard k >= 1, k <= min(candidates.count, plan.capacity) else { return .nan }
            var largest = candidates
            largest.withUnsafeMutableBufferPointer { selectLargest(k, in: $0) }
            return largest[0..<k].min()!
        }
    }
}

extension TailPlan {
    /// The head of a tail's state: the total paths and the levels.
    func encode(to writer: inout StateWriter) {
        writer.write(totalPaths)
        writer.write(levels)
    }

    /// Reads a head written by `encode` and checks that it is this plan's.
    func decodeMatching(from reader: inout StateReader, of what: String) throws {
        let total = try reader.readInt(), levels = try reader.readDoubles(of: "confidence levels")
        guard total == totalPaths, levels.map(\.bitPattern) == self.levels.map(\.bitPattern) else {
            throw StateDecodingError("\(what) of \(total) paths at levels \(levels) where this run has \(totalPaths) paths at \(self.levels)")
        }
    }
}

extension TailAccumulator: StateCodable {
    public func encode(to writer: inout StateWriter) {
        plan.encode(to: &writer)
        writer.write(count)
        sum.encode(to: &writer)
        sumOfSquares.encode(to: &writer)
        writer.write(floor)
        writer.write(threshold)
        writer.write(candidates)
    }

    /// The plan (total paths and levels) must be that of `self`.
    public mutating func decode(from reader: inout StateReader) throws {
        try plan.decodeMatching(from: &reader, of: "a tail")
        count = try reader.readInt()
        try sum.decode(from: &reader)
        try sumOfSquares.decode(from: &reader)
        floor = try reader.readDouble()
        threshold = try reader.readDouble()
        candidates = try reader.readDoubles(of: "tail losses")
        guard count >= 0, candidates.count <= max(2 * plan.capacity, count) else {
            throw StateDecodingError("a tail holds \(candidates.count) losses of \(count) paths, more than its capacity \(plan.capacity) allows")
        }
    }
}

/// Finished statistics of one loss variable (USD, loss positive).
public struct TailSummary: Sendable {
    public struct Level: Sendable {
        public let alpha: Double
        /// k = ⌈(1−α)·N⌉.
        public let rank: Int
        public let valueAtRisk: Double
        public let expectedShortfall: Double
        /// nil below rank `TailPlan.minimumRankForValueAtRiskError`.
        public let valueAtRiskStandardError: Double?
        /// nil below rank `TailPlan.minimumRankForExpectedShortfallError`.
        public let expectedShortfallStandardError: Double?
        /// (1−α)·N < 1: the level lies beyond the sample, VaR and ES are the largest loss.
        public let beyondSample: Bool

        /// Whether the rank k is too small for an honest standard error of VaR or ES.
        public var isSmallSample: Bool { expectedShortfallStandardError == nil || valueAtRiskStandardError == nil }
    }

    public let paths: Int
    public let mean: Double
    public let standardDeviation: Double
    public let levels: [Level]
    /// The retained largest losses, descending (the tail the levels were read from); empty when the
    /// summary was made without them.
    public let largestLosses: [Double]

}

/// Rearranges `values` so that its first k entries are its k largest (in no order; the entries after
/// them are left unspecified): the radix selection on the values' bits, `thresher_select_largest`.
/// - Complexity: O(n), no comparison branches.
public func selectLargest(_ k: Int, in values: UnsafeMutableBufferPointer<Double>) {
    guard k > 0, k < values.count else { return }
    withUnsafeTemporaryAllocation(of: Double.self, capacity: values.count) { thresher_select_largest(values.baseAddress!, values.count, k, $0.baseAddress!) }
}
