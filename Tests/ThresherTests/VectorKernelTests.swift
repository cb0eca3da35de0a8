import CKernels
import Distributions
import Foundation
import RandomStreams
import Revaluation
import XCTest

/// The C vector kernels against the scalar Swift code they replace in the hot loops.
final class VectorKernelTests: XCTestCase {
    /// Chunk uniforms are PathStream's uniforms bit for bit, across the 32-bit path boundary, for an odd
    /// count per path and a chunk that is not a multiple of the vector width; nothing is written past it.
    func testChunkUniformsAreThePathStreamUniforms() {
        let firstPath = (1 << 32) - 5, count = 13, perPath = 7, stride = 16
        var out = [Double](repeating: -1, count: perPath * stride)
        thresher_philox_uniforms(0x1234_5678_9ABC_DEF0, StreamID.volatilityNormals.rawValue, Int64(firstPath), count, perPath, &out, stride)
        for j in 0..<count {
            var stream = PathStream(seed: 0x1234_5678_9ABC_DEF0, path: firstPath + j, stream: .volatilityNormals)
            for w in 0..<perPath { XCTAssertEqual(out[w * stride + j], stream.nextUniform(), "path \(firstPath + j) draw \(w)") }
        }
        for w in 0..<perPath { XCTAssertEqual(Array(out[(w * stride + count)..<((w + 1) * stride)]), [-1, -1, -1]) }
    }

    /// Φ⁻¹ by the kernel against the scalar AS 241 at the branch boundaries, the extreme uniforms and
    /// 100,000 random ones: within 1e-15·max(1, |z|) (the two differ only by FMA rounding).
    func testNormalQuantilesMatchScalarAS241() {
        var u: [Double] = [0x1p-53, 1 - 0x1p-53, 0.5, 0.075, 0.925, 0.5 - 0.425, 0.5 + 0.425, 1e-12, 1 - 1e-12, 0.3]
        var stream = PathStream(seed: 7, path: 0, stream: .assetNormals)
        for _ in 0..<100_000 { u.append(stream.nextUniform()) }
        var z = u
        thresher_normal_quantiles(&z, z.count)
        for (p, x) in zip(u, z) {
            let expected = StandardNormal.quantile(p)
            XCTAssertEqual(x, expected, accuracy: 1e-15 * max(1, abs(expected)), "u = \(p)")
        }
    }

    /// The Student-t mixing scale √(c/W) from the chunk uniforms against `PathStream.nextChiSquare` on
    /// the same paths, for ν = 2, 4 and 20 (one, two and ten uniforms per path): within 4 ulp (the
    /// product is the same; the vector logarithm is within 2 ulp of the C library's).
    func testChiSquareMixingMatchesPathStream() {
        let firstPath = 1_000, count = 37, stride = 40
        for dof in [2.0, 4.0, 20.0] {
            let factors = PathStream.chiSquareUniformCount(dof: dof)!
            var uniforms = [Double](repeating: 0, count: factors * stride), scale = [Double](repeating: 0, count: count)
            thresher_philox_uniforms(99, StreamID.mixing.rawValue, Int64(firstPath), count, factors, &uniforms, stride)
            thresher_chi_square_mixing(uniforms, factors, stride, dof, &scale, count)
            for j in 0..<count {
                var stream = PathStream(seed: 99, path: firstPath + j, stream: .mixing)
                let expected = (dof / stream.nextChiSquare(dof: dof)).squareRoot()
                XCTAssertEqual(scale[j], expected, accuracy: 4 * expected.ulp, "ν = \(dof), path \(firstPath + j)")
            }
        }
        XCTAssertNil(PathStream.chiSquareUniformCount(dof: 5))
        XCTAssertNil(PathStream.chiSquareUniformCount(dof: 22))
    }

    /// e^x within 2 ulp of the C library's (itself within ½ ulp) over [−708, 709], 0 and +∞ beyond,
    /// and within 1 ulp on vectors whose arguments all lie within ±1/8 (the short Taylor form, up to its
    /// edge); m·e^{s·x}; e^{s·x} and its reciprocal.
    func testExponentials() {
        let small = (0..<4_000).map { (Double($0) / 3_999 - 0.5) / 4 }
        let x = small + (0..<4_001).map { -708 + 1_417 * Double($0) / 4_000 } + [-800, 800]
        var y = [Double](repeating: 0, count: x.count)
        thresher_scaled_exp(x, 1, 1, &y, x.count)
        for (k, (a, b)) in zip(x.dropLast(2), y).enumerated() {
            XCTAssertEqual(b, exp(a), accuracy: (k < small.count ? 1.0 : 2.5) * exp(a).ulp, "x = \(a)")
        }
        XCTAssertEqual(y[x.count - 2], 0)
        XCTAssertEqual(y[x.count - 1], .infinity)
        var scaled = [Double](repeating: 0, count: 9)
        thresher_scaled_exp(small, 0.5, 250, &scaled, 9)
        for k in 0..<9 { XCTAssertEqual(scaled[k], 250 * exp(0.5 * small[k]), accuracy: 3 * (250 * exp(0.5 * small[k])).ulp) }
        var factor = [Double](repeating: 0, count: 11), inverse = factor
        let xi = (0..<11).map { Double($0) - 5 }
        thresher_exp_and_reciprocal(xi, 0.3, &factor, &inverse, xi.count)
        for k in 0..<11 {
            XCTAssertEqual(factor[k], exp(0.3 * xi[k]), accuracy: 2.5 * exp(0.3 * xi[k]).ulp)
            XCTAssertEqual(inverse[k], 1 / factor[k])
        }
    }

    /// The option kernel's price against the scalar Black–Scholes (glibc erfc) on a grid of
    /// moneyness, shocked vol, time left and rate, calls and puts, deep in and out of the money, and
    /// vols so large that e^{−d1²/2} underflows while e^{−d2²/2} does not: within 2e-15·(S' + K).
    /// A fine grid near the money gives vectors of eight paths whose |d1|, |d2| are all ≤ 1.5 (the
    /// kernel's polynomial branch), vectors that straddle 1.5 and vectors beyond it.
    func testBlackScholesKernelMatchesScalarPrices() {
        let strike = 100.0
        let wide = stride(from: -3.0, through: 3.0, by: 0.25), nearTheMoney = stride(from: -0.4, through: 0.4, by: 0.002)
        let spots = (Array(wide) + Array(nearTheMoney)).map { strike * exp($0) }
        var centralVectors = 0
        for isCall in [true, false] {
            for (iv, years) in [(0.05, 1.0 / 365), (0.8, 7.0 / 365), (0.6, 0.5), (3.0, 2.0), (60.0, 2.0)] {
                for rate in [0.0, 0.05] {
                    let leg = OptionLeg(account: 0, asset: 0, isCall: isCall, strike: strike, years: years + 1.0 / 365,
                                        horizonYears: 1.0 / 365, quantity: 1, impliedVol: iv, spot: strike, rate: rate)
                    for f in [0.5, 1.0, 1.7] {
                        let m = spots.count
                        let spot = spots, logSpot = spots.map { log($0) }
                        let factor = [Double](repeating: f, count: m), inverse = [Double](repeating: 1 / f, count: m)
                        var account = [Double](repeating: 0, count: m), book = account
                        withUnsafePointer(to: leg.terms) { terms in
                            thresher_subtract_option_profit(terms, m, spot, logSpot, factor, inverse, &account, &book)
                        }
                        let sd = iv * f * sqrt(years)
                        let d = logSpot.map { ($0 - log(strike) + rate * years) / sd + sd / 2 }
                        centralVectors += stride(from: 0, to: m - 7, by: 8).filter { start in
                            d[start..<(start + 8)].allSatisfy { abs($0) <= 1.5 && abs($0 - sd) <= 1.5 }
                        }.count
                        for j in 0..<m {
                            let expected = BlackScholes.price(isCall: isCall, spot: spot[j], strike: strike, years: years, rate: rate, vol: iv * f)
                            let price = leg.valueNow - account[j]
                            XCTAssertEqual(price, expected, accuracy: 2e-15 * (spot[j] + strike),
                                           "\(isCall ? "call" : "put") S \(spot[j]) iv \(iv)·\(f) τ \(years) r \(rate)")
                            XCTAssertEqual(book[j], account[j])
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(centralVectors, 100, "the grid must exercise the polynomial branch")
    }
}
