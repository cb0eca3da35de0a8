import Distributions
import RandomStreams
import XCTest

final class RandomStreamsTests: XCTestCase {
    /// Random123's kat_vectors for philox4x32-10: counter (4 words), key (2 words) → output.
    func testPhiloxKnownAnswerVectors() {
        let vectors: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), (UInt32, UInt32, UInt32, UInt32))] = [
            ((0, 0, 0, 0), (0, 0), (0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8)),
            ((0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), (0xFFFF_FFFF, 0xFFFF_FFFF),
             (0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD)),
            ((0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), (0xA409_3822, 0x299F_31D0),
             (0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1)),
        ]
        for (counter, key, expected) in vectors {
            let out = Philox4x32.block(counter.0, counter.1, counter.2, counter.3, key: key.0, key.1)
            XCTAssertEqual([out.0, out.1, out.2, out.3], [expected.0, expected.1, expected.2, expected.3])
        }
    }

    func testPathStreamsDependOnlyOnSeedPathAndStream() {
        var a = PathStream(seed: 42, path: 123_456_789_012, stream: .assetNormals)
        var b = PathStream(seed: 42, path: 123_456_789_012, stream: .assetNormals)
        var otherPath = PathStream(seed: 42, path: 123_456_789_013, stream: .assetNormals)
        var otherStream = PathStream(seed: 42, path: 123_456_789_012, stream: .mixing)
        var otherSeed = PathStream(seed: 43, path: 123_456_789_012, stream: .assetNormals)
        let first = (0..<10).map { _ in a.nextUInt64() }
        XCTAssertEqual(first, (0..<10).map { _ in b.nextUInt64() })
        XCTAssertNotEqual(first, (0..<10).map { _ in otherPath.nextUInt64() })
        XCTAssertNotEqual(first, (0..<10).map { _ in otherStream.nextUInt64() })
        XCTAssertNotEqual(first, (0..<10).map { _ in otherSeed.nextUInt64() })
    }

    /// 200,000 normals: KS statistic below its 1 % critical value, mean and variance within 4 SE.
    func testNormalsAreStandardNormal() {
        var stream = PathStream(seed: 1, path: 0, stream: .assetNormals)
        let n = 200_000
        let sample = (0..<n).map { _ in stream.nextNormal() }
        XCTAssertLessThan(kolmogorovSmirnov(sample, cdf: StandardNormal.cdf), kolmogorovSmirnovCritical1Percent(n))
        XCTAssertEqual(mean(sample), 0, accuracy: 4 / Double(n).squareRoot())
        XCTAssertEqual(variance(sample), 1, accuracy: 4 * (2 / Double(n)).squareRoot())
    }

    /// χ²(ν) by Marsaglia–Tsang (ν = 2.5, 9) and by a product of uniforms (ν = 4, 20): mean ν within
    /// 4 SE, and a KS test of W/ν's induced t against T_ν (z/√(W/ν) must be exactly Student-t).
    func testChiSquareThroughStudentT() {
        for dof in [2.5, 4.0, 9.0, 20.0] {
            var stream = PathStream(seed: 9, path: 5, stream: .mixing)
            let n = 100_000
            let w = (0..<n).map { _ in stream.nextChiSquare(dof: dof) }
            XCTAssertEqual(mean(w), dof, accuracy: 4 * (2 * dof / Double(n)).squareRoot())
            var normals = PathStream(seed: 9, path: 6, stream: .assetNormals)
            let t = w.map { normals.nextNormal() / ($0 / dof).squareRoot() }
            let student = StudentT(dof: dof)
            XCTAssertLessThan(kolmogorovSmirnov(t, cdf: student.cdf), kolmogorovSmirnovCritical1Percent(n), "dof \(dof)")
        }
    }
}
