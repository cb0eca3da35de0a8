import TailStats

/// The distribution of breach times — when the venue liquidated, hours from now — over all
/// liquidations of all accounts and paths: a histogram of `bins` equal bins over [0, T) (T the
/// horizon), the count at T itself (the only time `monitoring: horizon` knows, and a grid's last
/// check) and the exact sum of the times. Counts and exact sums merge exactly: the same for any
/// chunking.
struct BreachTimes: Sendable {
    let horizonHours: Double
    var counts: [Int]
    /// Σ of the breach times (of w·t under importance sampling).
    var totalHours = ExactSum()
    /// Under importance sampling, Σ w per bin (the estimated counts); empty otherwise.
    var binWeights: [ExactSum] = []

    static let bins = 48

    init(horizonHours: Double, weighted: Bool = false) {
        self.horizonHours = horizonHours
        counts = Array(repeating: 0, count: Self.bins + 1)
        if weighted { binWeights = Array(repeating: ExactSum(), count: Self.bins + 1) }
    }

    /// Counts a breach at `hours` into its bin and its time into `totalHours`, on a path of
    /// likelihood ratio `weight` (1 without importance sampling).
    /// - Complexity: O(1).
    @inline(__always) mutating func add(hours: Double, weight: Double) {
        let bin = bin(hours: hours)
        counts[bin] += 1
        if binWeights.isEmpty {
            totalHours.add(hours)
        } else {
            binWeights[bin].add(weight)
            totalHours.add(weight * hours)
        }
    }

    /// Counts `count` breaches at `hours` (without importance sampling): the same totals as one
    /// `add(hours:weight: 1)` each, the times added to the exact sum in one access.
    /// - Complexity: O(count).
    mutating func add(hours: UnsafePointer<Double>, count: Int) {
        precondition(binWeights.isEmpty, "weighted breach times take add(hours:weight:)")
        for k in 0..<count { counts[bin(hours: hours[k])] += 1 }
        totalHours.add(hours, count: count)
    }

    /// The bin of a breach at `hours`: `bins` at or past the horizon.
    @inline(__always) private func bin(hours: Double) -> Int {
        hours >= horizonHours ? Self.bins : max(0, Int(hours / horizonHours * Double(Self.bins)))
    }

    /// - Complexity: O(bins).
    mutating func merge(_ other: BreachTimes) {
        for b in counts.indices { counts[b] += other.counts[b] }
        for b in binWeights.indices { binWeights[b].merge(other.binWeights[b]) }
        totalHours.merge(other.totalHours)
    }

    /// The summary for reports; under importance sampling its counts are the estimated ones (Σ w,
    /// rounded to the nearest whole liquidation) and its mean and quantiles weighted.
    var summary: BreachTimeSummary {
        let mass = binWeights.isEmpty ? counts.map(Double.init) : binWeights.map(\.value)
        let total = mass.reduce(0, +), width = horizonHours / Double(Self.bins)
        // The q-quantile of the histogram, linear within its bin.
        func quantile(_ q: Double) -> Double? {
            guard total > 0 else { return nil }
            let target = q * total
            var below = 0.0
            for (b, count) in mass.prefix(Self.bins).enumerated() where count > 0 {
                if below + count >= target { return width * (Double(b) + (target - below) / count) }
                below += count
            }
            return horizonHours   // in the mass at T
        }
        let shown = binWeights.isEmpty ? counts : mass.map { Int($0.rounded()) }
        return BreachTimeSummary(horizonHours: horizonHours, binHours: width, counts: Array(shown.prefix(Self.bins)), atHorizon: shown[Self.bins],
                                 meanHours: total > 0 ? totalHours.value / total : nil,
                                 quantiles: [0.1, 0.5, 0.9].map { ($0, quantile($0)) })
    }
}

/// When liquidations happened (README, "Monitoring inside the horizon"): a histogram of the breach
/// times before the horizon's end, hours, the count at its end, and their mean and quantiles (nil
/// without liquidations). Under `monitoring: horizon` every breach is at the horizon's end.
public struct BreachTimeSummary: Sendable {
    public let horizonHours: Double
    /// Width of each bin, hours: bin b holds breaches in [b·width, (b + 1)·width).
    public let binHours: Double
    public let counts: [Int]
    /// Breaches at the horizon's end.
    public let atHorizon: Int
    /// All breaches.
    public var total: Int { counts.reduce(atHorizon, +) }
    public let meanHours: Double?
    /// (level, hours): the 10 %, 50 % and 90 % quantiles, linear within a bin.
    public let quantiles: [(level: Double, hours: Double?)]
}

extension BreachTimes: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(counts)
        totalHours.encode(to: &writer)
        writer.write(each: binWeights)
    }

    mutating func decode(from reader: inout StateReader) throws {
        counts = try reader.readInts(expected: counts.count, of: "breach-time bins")
        try totalHours.decode(from: &reader)
        try reader.read(each: &binWeights, of: "breach-time bins")
    }
}
