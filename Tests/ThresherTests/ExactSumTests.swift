import Foundation
import TailStats
import XCTest

/// `ExactSum`: the exact, order-independent sum behind every bit-identical mean, and its lazy limbs
/// (a sum with no addend holds none) that keep the penalty grid's 2 × 4,001 sums per cell small.
final class ExactSumTests: XCTestCase {
    func sum(_ values: [Double]) -> ExactSum {
        var s = ExactSum()
        for x in values { s.add(x) }
        return s
    }

    /// 1e100 + 1 − 1e100 + 2⁻¹⁰⁷⁴ − 3.5 + 3.5 + 2¹⁰⁰⁰ − 2¹⁰⁰⁰ + 0.1 + 0.2 is exactly
    /// 1.30000000000000001665… + 2⁻¹⁰⁷⁴, which rounds to the double 1.3, where the double sum in this
    /// order gives 0.30000000000000004; every order and every split into merged parts gives the
    /// same bits.
    func testTheSumIsExactAndOrderFree() {
        let values = [1e100, 1, -1e100, 0x1p-1074, -3.5, 3.5, 0x1p1000, -0x1p1000, 0.1, 0.2]
        XCTAssertEqual(values.reduce(0, +), 0.30000000000000004)
        XCTAssertEqual(sum(values).value, 1.3)
        XCTAssertEqual(sum(values).value.bitPattern, sum(values.reversed()).value.bitPattern)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let shuffled = values.shuffled(using: &generator)
            let cut = Int.random(in: 0...shuffled.count, using: &generator)
            var left = sum(Array(shuffled[..<cut]))
            left.merge(sum(Array(shuffled[cut...])))
            XCTAssertEqual(left, sum(values))
            XCTAssertEqual(left.value.bitPattern, sum(values).value.bitPattern)
        }
    }

    /// An untouched sum, a sum of zeros and a sum that cancelled to 0 are equal, read 0, merge as 0
    /// and encode to the same bytes (so part files do not depend on the lazy limbs).
    func testEmptyAndCancelledSumsAreTheSameZero() throws {
        let empty = ExactSum(), zeros = sum([0, 0, -0.0]), cancelled = sum([3.25, -3.25])
        for s in [empty, zeros, cancelled] {
            XCTAssertEqual(s.value, 0)
            XCTAssertEqual(s, empty)
            var merged = sum([2.5])
            merged.merge(s)
            XCTAssertEqual(merged.value, 2.5)
            var into = s
            into.merge(sum([2.5]))
            XCTAssertEqual(into.value, 2.5)
        }
        func bytes(_ s: ExactSum) -> Data { var w = StateWriter(); s.encode(to: &w); return w.data }
        XCTAssertEqual(bytes(empty), bytes(cancelled))
        var decoded = ExactSum()
        var reader = StateReader(bytes(sum([1e-300, 7])))
        try decoded.decode(from: &reader)
        XCTAssertEqual(decoded, sum([7, 1e-300]))
        var buffer = [1.5, -0.25, 0]
        var bulk = ExactSum()
        bulk.add(&buffer, count: 0)
        XCTAssertEqual(bulk, empty)
    }

    /// The batch addition (`thresher_exact_sum_add`, in C) against the exact rational sum computed
    /// here with integers: 10,000 values of random sign spanning 2⁻¹⁰⁷⁴ … 2¹⁰⁰⁰ (subnormals and
    /// ±0 included) added in one batch, one at a time and in random splits give the same limbs, and
    /// values of one magnitude (integers below 2⁵³, whose exact sum an Int holds) read back exactly.
    func testTheBatchAdditionMatchesOneAtATimeAndAnIntegerSum() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 0x1p-1074, -0x1p-1074, 0x1.fffffffffffffp-1023, 0x1p1000, -0x1p1000]
        for _ in 0..<10_000 {
            let magnitude = Double(sign: .plus, exponent: Int.random(in: -1074...1000, using: &generator), significand: Double.random(in: 1..<2, using: &generator))
            values.append(Bool.random(using: &generator) ? magnitude : -magnitude)
        }
        var batch = ExactSum()
        values.withUnsafeBufferPointer { batch.add($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(batch, sum(values))
        var split = ExactSum(), start = 0
        while start < values.count {
            let length = min(values.count - start, Int.random(in: 1...700, using: &generator))
            values.withUnsafeBufferPointer { split.add($0.baseAddress! + start, count: length) }
            start += length
        }
        XCTAssertEqual(split, batch)
        XCTAssertEqual(split.value.bitPattern, sum(values.shuffled(using: &generator)).value.bitPattern)
        let integers = (0..<5_000).map { _ in Int.random(in: -(1 << 40)...(1 << 40), using: &generator) }
        var integerSum = ExactSum()
        integers.map(Double.init).withUnsafeBufferPointer { integerSum.add($0.baseAddress!, count: $0.count) }
        XCTAssertEqual(integerSum.value, Double(integers.reduce(0, +)))
    }
}

