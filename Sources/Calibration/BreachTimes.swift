import TailStats

/// The distribution of breach times — when the venue liquidated, hours from now — over all
/// liquidations of all accounts and paths: a histogram of `bins` equal bins over [0, T) (T the
/// horizon), the count at T itself (the only time `monitoring: horizon` knows, and a grid's last
/// check) and the exact sum of the times. Counts and exact sums merge exactly: the same for any
/// chunking.
struct BreachTimes: Sendable {
    let horizonHours: Double
    var counts: [Int]
    var totalHours = ExactSum()

    static let bins = 48

    init(horizonHours: Double) {
        self.horizonHours = horizonHours
        counts = Array(repeating: 0, count: Self.bins + 1)
    }

    /// Counts a breach at `hours` into its bin (the caller adds it to `totalHours`).
    /// - Complexity: O(1).
    @inline(__always) mutating func add(hours: Double) {
        counts[hours >= horizonHours ? Self.bins : max(0, Int(hours / horizonHours * Double(Self.bins)))] += 1
    }

    /// - Complexity: O(bins).
    mutating func merge(_ other: BreachTimes) {
        for b in counts.indices { counts[b] += other.counts[b] }
        totalHours.merge(other.totalHours)
    }

    /// The summary for reports.
    var summary: BreachTimeSummary {
        let total = counts.reduce(0, +), width = horizonHours / Double(Self.bins)
        // The q-quantile of the histogram, linear within its bin.
        func quantile(_ q: Double) -> Double? {
            guard total > 0 else { return nil }
            let target = q * Double(total)
            var below = 0
            for (b, count) in counts.prefix(Self.bins).enumerated() where count > 0 {
                if Double(below + count) >= target { return width * (Double(b) + (target - Double(below)) / Double(count)) }
                below += count
            }
            return horizonHours   // in the mass at T
        }
        return BreachTimeSummary(horizonHours: horizonHours, binHours: width, counts: Array(counts.prefix(Self.bins)), atHorizon: counts[Self.bins],
                                 meanHours: total > 0 ? totalHours.value / Double(total) : nil,
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
    }

    mutating func decode(from reader: inout StateReader) throws {
        counts = try reader.readInts(expected: counts.count, of: "breach-time bins")
        try totalHours.decode(from: &reader)
    }
}
