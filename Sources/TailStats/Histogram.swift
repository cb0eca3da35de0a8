/// A fixed-bin histogram with under- and overflow counts. Counts are integers, so merging is exact
/// and order-independent. The bins must be fixed before the run (the engine takes them from a
/// pilot of the first paths, which are the same for every thread count and split).
public struct Histogram: Sendable, Equatable {
    public let lower: Double
    public let upper: Double
    public private(set) var counts: [Int]
    public private(set) var underflow = 0
    public private(set) var overflow = 0

    public init(lower: Double, upper: Double, bins: Int) {
        precondition(upper > lower && bins > 0)
        self.lower = lower
        self.upper = upper
        counts = Array(repeating: 0, count: bins)
    }

    /// Bins covering a pilot sample, widened by a quarter of its range on each side.
    public init(covering pilot: [Double], bins: Int) {
        let low = pilot.min() ?? 0, high = pilot.max() ?? 1
        let pad = max(high - low, 1e-9 * max(abs(low), abs(high), 1)) * 0.25
        self.init(lower: low - pad, upper: high + pad, bins: bins)
    }

    public var binWidth: Double { (upper - lower) / Double(counts.count) }
    public var total: Int { counts.reduce(underflow + overflow, +) }

    /// Counts each value in its bin (or in the underflow/overflow count).
    public mutating func add(_ values: [Double]) {
        values.withUnsafeBufferPointer { add($0.baseAddress!, count: $0.count) }
    }

    package mutating func add(_ values: UnsafePointer<Double>, count n: Int) {
        let scale = Double(counts.count) / (upper - lower)
        for j in 0..<n {
            let position = (values[j] - lower) * scale
            if position < 0 { underflow += 1 } else if position >= Double(counts.count) { overflow += 1 } else { counts[Int(position)] += 1 }
        }
    }

    /// Adds the counts of other paths (same bins).
    /// - Complexity: O(bins).
    public mutating func merge(_ other: Histogram) {
        precondition(lower == other.lower && upper == other.upper && counts.count == other.counts.count)
        for k in counts.indices { counts[k] += other.counts[k] }
        underflow += other.underflow
        overflow += other.overflow
    }
}

extension Histogram: StateCodable {
    public func encode(to writer: inout StateWriter) {
        writer.write(lower)
        writer.write(upper)
        writer.write(counts)
        writer.write(underflow)
        writer.write(overflow)
    }

    /// The bins must be those of `self` to the bit (they come from the same pilot paths).
    public mutating func decode(from reader: inout StateReader) throws {
        let (low, high) = (try reader.readDouble(), try reader.readDouble())
        guard low.bitPattern == lower.bitPattern, high.bitPattern == upper.bitPattern else {
            throw StateDecodingError("histogram bins [\(low), \(high)) differ from this run's [\(lower), \(upper))")
        }
        counts = try reader.readInts(expected: counts.count, of: "histogram bins")
        underflow = try reader.readInt()
        overflow = try reader.readInt()
    }
}
