import Foundation

/// The tail of one loss variable under importance sampling: each path p carries its likelihood
/// ratio w_p = f(draws)/g(draws) (the plain model's density over the sampling one's), and every
/// statistic is the weighted one (README, "Importance sampling"):
///
/// - P̂(L > x) = (1/N) Σ_p w_p·1{L_p > x};
/// - VaR_α = the smallest retained loss x with Σ_{L_p ≥ x} w_p ≥ T, T = (1 − α)·N;
/// - ES_α = (Σ_{L_p > VaR} w_p·L_p + (T − Σ_{L_p > VaR} w_p)·VaR) / T (the boundary loss takes the
///   weight left to reach T, so ES is the mean of the upper (1 − α) of the law, as without weights);
/// - the mean of w·L and its sum of squares, exactly (the per-path estimator's mean and spread).
///
/// With every w = 1 these are the unweighted `TailAccumulator`'s statistics. Memory: the losses
/// whose cumulative weight from the top stays within the plan's reach, T plus the VaR error's spread
/// √(N·α(1 − α)) (weights are below 1 in the tail the sampling favours, so more paths than the plain
/// K, but bounded by the paths of the sampling's tail).
///
/// Paths are fed in aligned blocks of `TailAccumulator.blockSize`; the sums go per block then
/// exactly, and which losses a chunk retains is decided by cumulative weight within what it has
/// seen — always a superset of what the merged whole needs — so threads, chunks, slices and MPI
/// ranks give identical bits.
public struct WeightedTailAccumulator: Sendable {
    public let plan: TailPlan
    public private(set) var count = 0
    private var sum = ExactSum()
    private var sumOfSquares = ExactSum()
    /// Candidate (loss, weight) pairs; after a compaction every one of them is needed.
    private var losses: [Double] = []
    private var weights: [Double] = []
    /// Losses at or below it are not needed (the retained ones above already weigh the reach).
    private var threshold = -Double.infinity
    /// Candidates held after the last compaction: the next one comes at twice as many (+ K).
    private var compacted = 0

    public init(plan: TailPlan) { self.plan = plan }

    /// The cumulative weight from the top that any level can read: T = (1 − α)·N of the lowest
    /// level plus the VaR error's reach √(N·α(1−α)) in weight and one unit of slack.
    var reach: Double {
        let n = Double(plan.totalPaths)
        return plan.levels.map { (1 - $0) * n + (n * $0 * (1 - $0)).squareRoot() + 1 }.max() ?? 1
    }

    /// Adds `count` consecutive paths' losses and weights starting at an aligned path.
    /// - Complexity: O(count) plus amortised compactions.
    public mutating func add(_ values: UnsafePointer<Double>, weights w: UnsafePointer<Double>, count n: Int) {
        let block = TailAccumulator.blockSize
        var start = 0
        while start < n {
            let end = min(n, start + block)
            var blockSum = 0.0, blockSquares = 0.0
            for j in start..<end {
                let weighted = w[j] * values[j]
                blockSum += weighted
                blockSquares += weighted * weighted
                if values[j] > threshold {
                    losses.append(values[j])
                    weights.append(w[j])
                }
            }
            sum.add(blockSum)
            sumOfSquares.add(blockSquares)
            start = end
        }
        count += n
        if losses.count >= 2 * compacted + plan.capacity { compact() }
    }

    /// Merges another accumulator of *other* paths under the same plan.
    /// - Complexity: O((K + m) log(K + m)), K and m the two sides' retained sizes.
    public mutating func merge(_ other: WeightedTailAccumulator) {
        precondition(plan.totalPaths == other.plan.totalPaths && plan.levels == other.plan.levels)
        count += other.count
        sum.merge(other.sum)
        sumOfSquares.merge(other.sumOfSquares)
        losses += other.losses
        weights += other.weights
        threshold = max(threshold, other.threshold)
        compact()
    }

    /// The candidates in descending order of loss (ties by descending weight): a total order on
    /// values, so the same multiset always sorts alike.
    private func sortedCandidates() -> [(loss: Double, weight: Double)] {
        zip(losses, weights).map { (loss: $0, weight: $1) }.sorted { $0.loss > $1.loss || ($0.loss == $1.loss && $0.weight > $1.weight) }
    }

    /// Keeps the largest losses until their cumulative weight reaches `reach`, and every loss equal
    /// to the last kept one; raises the threshold below which nothing is needed.
    private mutating func compact() {
        let sorted = sortedCandidates()
        let reach = self.reach
        var cumulative = 0.0, kept = sorted.count
        for (i, candidate) in sorted.enumerated() {
            cumulative += candidate.weight
            if cumulative >= reach {
                kept = i + 1
                while kept < sorted.count && sorted[kept].loss == candidate.loss { kept += 1 }
                threshold = max(threshold, candidate.loss.nextDown)
                break
            }
        }
        losses = sorted[0..<kept].map(\.loss)
        weights = sorted[0..<kept].map(\.weight)
        compacted = kept
    }

    /// The finished statistics (`TailSummary`; its `rank` is the number of retained paths at or
    /// above VaR, `standardDeviation` that of the per-path w·L).
    ///
    /// Standard errors, from the retained tail alone (influence functions of the weighted estimators):
    /// - ES: √(Σ w²(L − VaR)₊²/N − m²)/(√N·(1 − α)), m = Σ w(L − VaR)₊/N — the plain formula of
    ///   `TailAccumulator` when every w = 1;
    /// - VaR: half the distance between the losses where the cumulative weight reaches T ∓ δ,
    ///   δ = √(Σ_{L ≥ VaR} w² − T²/N) (N times the standard error of P̂(L ≥ VaR); √(N·α(1−α)) for w = 1).
    /// Both nil when fewer retained paths than `TailPlan.minimumRankFor…Error` lie at or above VaR.
    /// - Complexity: O(K log K), K the retained size.
    public func summary() -> TailSummary {
        let sorted = sortedCandidates()
        let n = Double(count)
        let mean = n > 0 ? sum.value / n : 0
        let variance = count > 1 ? max(0, (sumOfSquares.value - n * mean * mean) / (n - 1)) : 0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(sorted.count)
        var running = 0.0
        for candidate in sorted { running += candidate.weight; cumulative.append(running) }
        /// The first retained index whose cumulative weight reaches `target` (nil: beyond the tail).
        func index(reaching target: Double) -> Int? {
            var low = 0, high = cumulative.count
            while low < high { let mid = (low + high) / 2; if cumulative[mid] >= target { high = mid } else { low = mid + 1 } }
            return low < cumulative.count ? low : nil
        }
        let levels = plan.levels.map { alpha -> TailSummary.Level in
            // (1 − α)·N rounded to 1e-9 first, as `TailPlan.rank` does: (1 − 0.99)·60,000 is 600, not 600.0000000000005.
            let target = ((1 - alpha) * n * 1e9).rounded() / 1e9
            guard n > 0, let k = index(reaching: target) else {
                return .init(alpha: alpha, rank: 0, valueAtRisk: .nan, expectedShortfall: .nan, valueAtRiskStandardError: nil,
                             expectedShortfallStandardError: nil, beyondSample: true)
            }
            let valueAtRisk = sorted[k].loss
            var above = 0.0, weightAbove = 0.0, excess = 0.0, excessSquares = 0.0, squaresAtOrAbove = 0.0
            for candidate in sorted[0..<k] {
                above += candidate.weight * candidate.loss
                weightAbove += candidate.weight
                let e = candidate.weight * (candidate.loss - valueAtRisk)
                excess += e
                excessSquares += e * e
            }
            for candidate in sorted[0...k] { squaresAtOrAbove += candidate.weight * candidate.weight }
            let es = (above + (target - weightAbove) * valueAtRisk) / target
            let m = excess / n
            let esError = (max(0, excessSquares / n - m * m) / n).squareRoot() / (1 - alpha)
            let delta = max(0, squaresAtOrAbove - target * target / n).squareRoot()
            let upper = sorted[index(reaching: max(0, target - delta)) ?? k].loss
            let lower = sorted[index(reaching: target + delta) ?? sorted.count - 1].loss
            let rank = k + 1
            return .init(alpha: alpha, rank: rank, valueAtRisk: valueAtRisk, expectedShortfall: es,
                         valueAtRiskStandardError: rank >= TailPlan.minimumRankForValueAtRiskError ? 0.5 * (upper - lower) : nil,
                         expectedShortfallStandardError: rank >= TailPlan.minimumRankForExpectedShortfallError ? esError : nil,
                         beyondSample: k == 0)
        }
        return TailSummary(paths: count, mean: mean, standardDeviation: variance.squareRoot(), levels: levels, largestLosses: [])
    }
}

extension WeightedTailAccumulator: StateCodable {
    public func encode(to writer: inout StateWriter) {
        plan.encode(to: &writer)
        writer.write(count)
        writer.write(threshold)
        writer.write(compacted)
        for exact in [sum, sumOfSquares] { exact.encode(to: &writer) }
        writer.write(losses)
        writer.write(weights)
    }

    /// The plan (total paths and levels) must be that of `self`.
    public mutating func decode(from reader: inout StateReader) throws {
        try plan.decodeMatching(from: &reader, of: "a weighted tail")
        count = try reader.readInt()
        threshold = try reader.readDouble()
        compacted = try reader.readInt()
        try sum.decode(from: &reader)
        try sumOfSquares.decode(from: &reader)
        losses = try reader.readDoubles(of: "tail losses")
        weights = try reader.readDoubles(of: "tail weights")
        guard count >= 0, losses.count == weights.count, losses.count <= count, weights.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
            throw StateDecodingError("a weighted tail holds \(losses.count) losses and \(weights.count) weights of \(count) paths")
        }
    }
}
