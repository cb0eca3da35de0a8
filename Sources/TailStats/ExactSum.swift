import CKernels

/// An exact, order-independent sum of doubles: a fixed-point superaccumulator covering the whole
/// double range (2⁻¹⁰⁷⁴ … 2¹⁰²⁴) in 32-bit limbs held in Int64 words.
///
/// Each addend is split exactly into three 32-bit pieces, so the accumulated value is the exact
/// mathematical sum whatever the order of additions or merges. That is what makes means and
/// variances bit-identical for any thread count, chunk size or split of the paths. `value` rounds
/// the exact sum to the nearest double once, at the end.
///
/// A sum that has had no addend holds no limbs (an empty array, 16 bytes in all): the penalty
/// grid keeps two sums per grid point and touches only a few, so a cell's grid costs kilobytes, not
/// megabytes, and the limbs are allocated on the first non-zero addend.
public struct ExactSum: Sendable, Equatable {
    /// value = Σ limbs[k] · 2^(32·k − offset); empty while the sum is 0 and nothing was added.
    private var limbs: [Int64]
    /// Additions since the last carry normalisation; each limb absorbs < 2³² per addition, so
    /// normalising every 2³⁰ additions keeps every word far from overflow.
    private var pendingAdditions = 0
    private static let offset = 1088  // 2^-1074 lands at bit 14 of limb 0
    private static let limbCount = 68

    public init() { limbs = [] }

    /// The limbs allocated (all zero) if they were not yet.
    @inline(__always)
    private mutating func allocate() {
        if limbs.isEmpty { limbs = Array(repeating: 0, count: Self.limbCount) }
    }

    /// Adds x exactly. Non-finite values are a caller bug (losses are finite by construction).
    public mutating func add(_ x: Double) {
        precondition(x.isFinite, "ExactSum: non-finite addend \(x)")
        if x == 0 { return }
        withUnsafePointer(to: x) { add($0, count: 1) }
    }

    /// Adds `count` values exactly (one access to the limbs for all of them): x = ±m·2^e is split
    /// exactly into three 32-bit pieces added to (or subtracted from) the three limbs it spans, in C
    /// (`thresher_exact_sum_add`; integer arithmetic, so the same limbs on every CPU).
    package mutating func add(_ values: UnsafePointer<Double>, count: Int) {
        guard count > 0 else { return }
        allocate()
        if pendingAdditions + count >= 1 << 30 { normalize() }
        let nonFinite = limbs.withUnsafeMutableBufferPointer { thresher_exact_sum_add($0.baseAddress!, values, count) }
        precondition(nonFinite == 0, "ExactSum: \(nonFinite) non-finite addends")
        pendingAdditions += count
    }

    /// Adds another exact sum: the result is the exact sum of both.
    /// - Complexity: O(1) (a fixed number of limbs).
    public mutating func merge(_ other: ExactSum) {
        guard !other.limbs.isEmpty else { return }
        allocate()
        var other = other
        other.normalize()
        normalize()
        for k in 0..<Self.limbCount { limbs[k] += other.limbs[k] }
        pendingAdditions = 1
    }

    /// Propagates carries so that every limb but the last lies in [0, 2³²).
    private mutating func normalize() {
        pendingAdditions = 0
        guard !limbs.isEmpty else { return }
        for k in 0..<(Self.limbCount - 1) {
            let carry = limbs[k] >> 32  // arithmetic shift: floor division by 2³²
            limbs[k] -= carry << 32
            limbs[k + 1] += carry
        }
    }

    /// The sum, rounded to a double. A pure function of the exact sum, so identical for every
    /// order of the same addends.
    public var value: Double {
        guard !limbs.isEmpty else { return 0 }
        var magnitude = self
        magnitude.normalize()
        // After normalisation the top limb carries the sign (two's-complement style): negate a
        // negative sum so that every limb is in [0, 2³²) and the conversion cannot overflow.
        let negative = magnitude.limbs[Self.limbCount - 1] < 0
        if negative {
            for k in 0..<Self.limbCount { magnitude.limbs[k] = -magnitude.limbs[k] }
            magnitude.normalize()
        }
        var total = 0.0
        // Least significant first, so that the small limbs are absorbed before the large ones.
        for k in 0..<Self.limbCount where magnitude.limbs[k] != 0 {
            // Limb 0 sits below the smallest subnormal: scale it in two exact steps.
            total += k == 0 ? Double(magnitude.limbs[0]) * 0x1p-14 * 0x1p-1074 : Double(magnitude.limbs[k]) * exp2Int(32 * k - Self.offset)
        }
        return negative ? -total : total
    }

    public static func == (a: ExactSum, b: ExactSum) -> Bool {
        var x = a, y = b
        x.allocate(); y.allocate()
        x.normalize(); y.normalize()
        return x.limbs == y.limbs
    }
}

extension ExactSum: StateCodable {
    /// The normalised limbs from the lowest non-zero one to the top one (a sum of ordinary
    /// magnitudes spans a handful of the 68).
    public func encode(to writer: inout StateWriter) {
        var normalized = self
        normalized.allocate()
        normalized.normalize()
        let first = normalized.limbs.firstIndex { $0 != 0 } ?? Self.limbCount
        let last = normalized.limbs.lastIndex { $0 != 0 } ?? -1
        writer.write(first)
        writer.write(Array(normalized.limbs[first..<max(first, last + 1)].map(Int.init)))
    }

    public mutating func decode(from reader: inout StateReader) throws {
        let first = try reader.readInt()
        let words = try reader.readInts(of: "limbs of an exact sum")
        guard first >= 0, first + words.count <= Self.limbCount else { throw StateDecodingError("an exact sum's limbs \(first)+\(words.count) exceed \(Self.limbCount)") }
        limbs = Array(repeating: 0, count: Self.limbCount)
        for (k, word) in words.enumerated() { limbs[first + k] = Int64(word) }
        pendingAdditions = 1
    }
}

/// 2^e as a double, exactly, for −1074 ≤ e ≤ 1023.
@inline(__always)
private func exp2Int(_ e: Int) -> Double {
    if e >= -1022 { return Double(sign: .plus, exponentBitPattern: UInt(e + 1023), significandBitPattern: 0) }
    return Double(sign: .plus, exponentBitPattern: 0, significandBitPattern: UInt64(1) << UInt64(e + 1074))
}
