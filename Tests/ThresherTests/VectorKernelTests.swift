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

    /// Uniforms of listed paths from a given block are PathStream's first uniform from that block, bit
    /// for bit, across the 32-bit path boundary, for a list that is not a multiple of the vector width;
    /// nothing is written past it.
    func testListedUniformsAreThePathStreamUniforms() {
        let firstPath = (1 << 32) - 9, block: UInt32 = 2 * 70_001
        let paths: [Int32] = [0, 3, 4, 8, 9, 10, 17, 40, 41, 1_000, 5]
        var out = [Double](repeating: -1, count: paths.count + 3)
        thresher_philox_uniforms_at(77, StreamID.bridgeCrossings.rawValue, block, Int64(firstPath), paths, paths.count, &out)
        for (c, p) in paths.enumerated() {
            var stream = PathStream(seed: 77, path: firstPath + Int(p), stream: .bridgeCrossings, block: block)
            XCTAssertEqual(out[c], stream.nextUniform(), "path \(firstPath + Int(p))")
        }
        XCTAssertEqual(Array(out[paths.count...]), [-1, -1, -1])
    }

    /// Chunk normals are PathStream's normals bit for bit (4,099 paths across the 32-bit boundary, 21
    /// per path: about 690 draws that leave the fast path, wedges and tail retries included), and
    /// nothing is written past the chunk.
    func testChunkNormalsAreThePathStreamNormals() {
        let seed: UInt64 = 0xFEED_F00D_0000_0001
        let firstPath = (1 << 32) - 2_000, count = 4_099, perPath = 21, stride = 4_104
        var out = [Double](repeating: -1, count: perPath * stride)
        thresher_philox_normals(seed, StreamID.assetNormals.rawValue, Int64(firstPath), count, perPath, &out, stride)
        var beyondTailStart = 0
        for j in 0..<count {
            var stream = PathStream(seed: seed, path: firstPath + j, stream: .assetNormals)
            for w in 0..<perPath {
                let expected = stream.nextNormal()
                if out[w * stride + j] != expected { XCTFail("path \(firstPath + j) draw \(w): \(out[w * stride + j]) ≠ \(expected)"); return }
                if abs(expected) > 3.852 { beyondTailStart += 1 }
            }
        }
        XCTAssertGreaterThan(beyondTailStart, 0, "the sample reaches the tail algorithm")
        for w in 0..<perPath { XCTAssertEqual(Array(out[(w * stride + count)..<((w + 1) * stride)]), [-1, -1, -1, -1, -1]) }
    }

    /// Words built to reach each branch of the ziggurat. Fast path: in layer i, m = 2⁴⁰ gives x_i/2¹²,
    /// checked for i = 0…510 against the layers rebuilt here from r and v (x_0 = v/f(r), x_1 = r,
    /// x_(i+1) = f⁻¹(f(x_i) + v/x_i)) within 1e-12; bit 9 flips the sign. Then the tail sampler, the
    /// wedge test and the top layer, each on words built to reach them.
    func testZigguratBranches() {
        let r = 3.852_046_150_368_391_248, v = 0.002_456_766_351_541_355_734
        var layers = [v / exp(-r * r / 2), r]
        for i in 1..<511 { layers.append((-2 * log(exp(-layers[i] * layers[i] / 2) + v / layers[i])).squareRoot()) }
        let m: UInt64 = 1 << 40
        for i in 0..<511 {
            let z = thresher_ziggurat_normal(1, 0, 0, 0, m << 12 | UInt64(i))
            XCTAssertEqual(z, layers[i] / 4_096, accuracy: 1e-12 * layers[i] / 4_096, "layer \(i)")
            XCTAssertEqual(thresher_ziggurat_normal(1, 0, 0, 0, m << 12 | 1 << 9 | UInt64(i)), -z)
        }
        // Tail: a base-layer word outside r, retried on 50,000 paths: z | z > r must follow the normal
        // tail, P(Z ≤ z | Z > r) = 1 − Φ(−z)/Φ(−r) (KS below its 1 % critical value); bit 9 is the sign.
        let outsideBase = (UInt64(1) << 52 - 1) << 12
        let tail = (0..<50_000).map { thresher_ziggurat_normal(3, 0, UInt64($0), 7, outsideBase) }
        XCTAssertGreaterThan(tail.min()!, r)
        XCTAssertEqual(thresher_ziggurat_normal(3, 0, 11, 7, outsideBase | 1 << 9), -tail[11])
        let tailCDF = { (z: Double) in 1 - StandardNormal.cdf(-z) / StandardNormal.cdf(-r) }
        XCTAssertLessThan(kolmogorovSmirnov(tail, cdf: tailCDF), kolmogorovSmirnovCritical1Percent(tail.count))
        // Wedge: the midpoint x of layer 100's wedge is kept on its first retry with probability
        // (f(x) − f(x_100))/(f(x_101) − f(x_100)) (within 4 SE over 20,000 paths); otherwise the draw
        // starts again from a fresh word.
        let f = { (x: Double) in exp(-x * x / 2) }
        let i = 100, middle = (layers[i] + layers[i + 1]) / 2
        let word = UInt64((middle / layers[i] * 0x1p52).rounded(.down)) << 12 | UInt64(i)
        let kept = (0..<20_000).filter { abs(thresher_ziggurat_normal(5, 2, UInt64($0), 9, word) - middle) < 1e-9 }.count
        let p = (f(middle) - f(layers[i])) / (f(layers[i + 1]) - f(layers[i]))
        XCTAssertEqual(Double(kept), 20_000 * p, accuracy: 4 * (20_000 * p * (1 - p)).squareRoot())
        // The top layer has no inner rectangle: always the wedge test, finite and moderate.
        for path: UInt64 in 0..<200 {
            let top = thresher_ziggurat_normal(3, 0, path, 7, (UInt64(1) << 51) << 12 | 511)
            XCTAssertTrue(top.isFinite && abs(top) < 9, "path \(path): \(top)")
        }
    }

    /// 4,000,000 chunk normals against N(0, 1): Pearson's χ² over 2,000 equiprobable cells (bounds by
    /// AS 241) below its 0.1 % critical value 1,999·(1 − h + 3.0902·√h)³ ≈ 2,200, h = 2/(9·1,999)
    /// (Wilson–Hilferty); the largest gap between the empirical and the normal CDF at the cell bounds
    /// (a lower bound of the Kolmogorov–Smirnov statistic) below KS's 1 % critical value 1.628/√n;
    /// the frequencies beyond r = 3.852 and beyond 4.5 within 4 standard errors of 2Φ(−x). Accepting
    /// every wedge, or every tail candidate, fails it.
    func testChunkNormalsGoodnessOfFit() {
        let paths = 100_000, perPath = 40, cells = 2_000
        var out = [Double](repeating: 0, count: paths * perPath)
        thresher_philox_normals(2_024, StreamID.volatilityNormals.rawValue, 0, paths, perPath, &out, paths)
        let bounds = (1..<cells).map { StandardNormal.quantile(Double($0) / Double(cells)) }
        var counts = [Int](repeating: 0, count: cells)
        var beyondR = 0, beyond45 = 0
        for z in out {
            var low = 0, high = bounds.count
            while low < high {
                let middle = (low + high) / 2
                if bounds[middle] <= z { low = middle + 1 } else { high = middle }
            }
            counts[low] += 1
            if abs(z) > 3.852_046_150_368_391 { beyondR += 1 }
            if abs(z) > 4.5 { beyond45 += 1 }
        }
        let n = Double(out.count), expected = n / Double(cells)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        let dof = Double(cells - 1), h = 2 / (9 * dof)
        XCTAssertLessThan(chiSquare, dof * pow(1 - h + 3.0902 * h.squareRoot(), 3))
        var cumulative = 0, largestGap = 0.0
        for (k, count) in counts.enumerated().dropLast() {
            cumulative += count
            largestGap = max(largestGap, abs(Double(cumulative) / n - Double(k + 1) / Double(cells)))
        }
        XCTAssertLessThan(largestGap, kolmogorovSmirnovCritical1Percent(out.count))
        for (observed, x) in [(beyondR, 3.852_046_150_368_391), (beyond45, 4.5)] {
            let p = 2 * StandardNormal.cdf(-x)
            XCTAssertEqual(Double(observed), n * p, accuracy: 4 * (n * p * (1 - p)).squareRoot(), "beyond \(x)")
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
    /// edge), through the shocked-spot kernel (which also returns log S + s·x); the vol-factor kernel:
    /// e^{s·ξ} with ξ = ρε + wη, and its reciprocal, also written over η.
    func testExponentials() {
        let small = (0..<4_000).map { (Double($0) / 3_999 - 0.5) / 4 }
        let x = small + (0..<4_001).map { -708 + 1_417 * Double($0) / 4_000 } + [-800, 800]
        var y = [Double](repeating: 0, count: x.count), logY = y
        thresher_shocked_spots(x, 1, 0, 1, &logY, &y, x.count)
        XCTAssertEqual(logY, x)
        for (k, (a, b)) in zip(x.dropLast(2), y).enumerated() {
            XCTAssertEqual(b, exp(a), accuracy: (k < small.count ? 1.0 : 2.5) * exp(a).ulp, "x = \(a)")
        }
        XCTAssertEqual(y[x.count - 2], 0)
        XCTAssertEqual(y[x.count - 1], .infinity)
        var scaled = [Double](repeating: 0, count: 9), logScaled = scaled
        thresher_shocked_spots(small, 0.5, log(250), 250, &logScaled, &scaled, 9)
        for k in 0..<9 {
            XCTAssertEqual(scaled[k], 250 * exp(0.5 * small[k]), accuracy: 3 * (250 * exp(0.5 * small[k])).ulp)
            XCTAssertEqual(logScaled[k], log(250) + 0.5 * small[k])
        }
        var factor = [Double](repeating: 0, count: 11), inverse = factor
        let xi = (0..<11).map { Double($0) - 5 }, eta = xi.map { 0.7 - 0.1 * $0 }
        thresher_vol_factors(xi, [Double](repeating: 0, count: 11), 1, 0, 0.3, &factor, &inverse, xi.count)
        for k in 0..<11 {
            XCTAssertEqual(factor[k], exp(0.3 * xi[k]), accuracy: 2.5 * exp(0.3 * xi[k]).ulp)
            XCTAssertEqual(inverse[k], 1 / factor[k])
        }
        var mixed = eta   // ξ = −0.5·x + 0.8·η, the inverse written over η
        thresher_vol_factors(xi, mixed, -0.5, 0.8, 0.3, &factor, &mixed, xi.count)
        for k in 0..<11 {
            let expected = exp(0.3 * (-0.5 * xi[k] + 0.8 * eta[k]))
            XCTAssertEqual(factor[k], expected, accuracy: 4e-16 * expected)
            XCTAssertEqual(mixed[k], 1 / factor[k])
        }
    }

    /// The option kernel's price against the scalar Black–Scholes (glibc erfc) on a grid of
    /// moneyness, shocked vol, time left and rate, calls and puts, deep in and out of the money, and
    /// vols so large that e^{−d1²/2} underflows while e^{−d2²/2} does not: within 2e-15·(S' + K).
    /// A fine grid near the money gives vectors of eight paths whose |d1|, |d2| are all ≤ 1.75 (the
    /// kernel's polynomial branch), vectors that straddle 1.75 and vectors beyond it.
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
                            d[start..<(start + 8)].allSatisfy { abs($0) <= 1.75 && abs($0 - sd) <= 1.75 }
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

    /// The two variants of the kernels (CKernels/Dispatch.c): the known-answer tests above pass on the
    /// baseline (PathStream's Philox streams, which RandomStreamsTests holds to Random123's vectors;
    /// the ziggurat's branches; the exponentials; the Black–Scholes grid), and on a CPU with AVX2 and
    /// FMA both variants give every kernel's outputs bit for bit on inputs that reach every branch
    /// (the baseline's fused multiply-adds are the C library's correctly rounded fma).
    /// The breach count equals a direct count of the values below (above) the bound, on both kernel
    /// paths: partial vectors, values equal to the bound (neither below nor above), infinities.
    func testCountBeyondIsTheDirectCount() {
        defer { XCTAssertEqual(thresher_select_kernel_path("auto"), 1) }
        var rng = SystemRandomNumberGenerator()
        var values = (0..<1_031).map { _ in Double.random(in: -3...3, using: &rng) }
        values[5] = 0.25; values[17] = 0.25; values[40] = -.infinity; values[41] = .infinity
        for path in ["baseline", "avx2-fma"] where thresher_select_kernel_path(path) == 1 {
            for count in [0, 1, 7, 8, 9, 64, 1_031] {
                for bound in [-1.5, 0.25, 2.0] {
                    let prefix = values.prefix(count)
                    XCTAssertEqual(thresher_count_beyond(values, count, bound, 0), prefix.filter { $0 < bound }.count, "\(path) below \(bound), \(count)")
                    XCTAssertEqual(thresher_count_beyond(values, count, bound, 1), prefix.filter { $0 > bound }.count, "\(path) above \(bound), \(count)")
                }
            }
        }
    }

    func testKernelPathsAgreeBitForBit() throws {
        defer { XCTAssertEqual(thresher_select_kernel_path("auto"), 1) }
        XCTAssertEqual(thresher_select_kernel_path("baseline"), 1)
        XCTAssertEqual(String(cString: thresher_kernel_path()), "baseline")
        testChunkUniformsAreThePathStreamUniforms()
        testListedUniformsAreThePathStreamUniforms()
        testChunkNormalsAreThePathStreamNormals()
        testZigguratBranches()
        testChiSquareMixingMatchesPathStream()
        testExponentials()
        testBlackScholesKernelMatchesScalarPrices()
        let baseline = kernelOutputs()
        guard thresher_select_kernel_path("avx2-fma") == 1 else {
            throw XCTSkip("no AVX2/FMA here: only the baseline's known answers were checked")
        }
        XCTAssertEqual(String(cString: thresher_kernel_path()), "avx2-fma")
        let fast = kernelOutputs()
        XCTAssertEqual(fast.count, baseline.count)
        let differing = zip(fast, baseline).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(differing, 0, "of \(fast.count) outputs")
    }

    /// Every kernel's outputs, concatenated: uniforms (of every path and of listed paths) and normals across the 32-bit path boundary
    /// (ziggurat wedges and tail included), the ziggurat on words built for each layer and the tail,
    /// the mixing scale, exponentials from −800 to 800, vol factors, option P&L (calls and puts, near
    /// and far from the money, vols where e^{−d1²/2} underflows; flat iv and a smile), linear losses, block statistics and
    /// the tail filter.
    private func kernelOutputs() -> [Double] {
        var all: [Double] = []
        let firstPath = Int64((1 << 32) - 2_000), count = 4_099, stride = 4_104
        var rows = [Double](repeating: 0, count: 21 * stride)
        thresher_philox_uniforms(7, StreamID.mixing.rawValue, firstPath, count, 10, &rows, stride)
        var scale = [Double](repeating: 0, count: count)
        for factors in [1, 2, 10] {
            thresher_chi_square_mixing(rows, factors, stride, 2 * Double(factors), &scale, count)
            all += scale
        }
        all += rows
        let listed: [Int32] = (0..<Int32(count)).filter { $0 % 3 != 1 }
        var listedUniforms = [Double](repeating: 0, count: listed.count)
        thresher_philox_uniforms_at(7, StreamID.bridgeCrossings.rawValue, 2 * 4_099, firstPath, listed, listed.count, &listedUniforms)
        all += listedUniforms
        thresher_philox_normals(0xFEED, StreamID.assetNormals.rawValue, firstPath, count, 21, &rows, stride)
        all += rows
        for layer: UInt64 in 0..<512 {
            for m: UInt64 in [1 << 40, 1 << 51, 1 << 52 - 1] { all.append(thresher_ziggurat_normal(3, 0, layer, 7, m << 12 | layer)) }
        }
        let small: [Double] = (0..<4_000).map { (Double($0) / 3_999 - 0.5) / 4 }
        let wide: [Double] = (0..<4_001).map { -708 + 1_417 * Double($0) / 4_000 }
        let x: [Double] = small + wide + [-800, 800]
        var spot = [Double](repeating: 0, count: x.count), logSpot = spot, factor = spot, inverse = spot
        thresher_shocked_spots(x, 0.9, 4.5, 90, &logSpot, &spot, x.count)
        thresher_vol_factors(x, Array(x.reversed()), -0.5, 0.8, 0.01, &factor, &inverse, x.count)
        for row in [spot, logSpot, factor, inverse] { all += row }
        let strikes: [Double] = (0..<x.count).map { 100 * exp(Double($0 % 241 - 120) / 40) }
        let moneyness: [Double] = strikes.map { log($0) }
        for isCall in [true, false] {
            for (iv, years) in [(0.05, 1.0 / 365), (0.6, 0.5), (60.0, 2.0)] {
                let leg = OptionLeg(account: 0, asset: 0, isCall: isCall, strike: 100, years: years + 1.0 / 365,
                                    horizonYears: 1.0 / 365, quantity: -3, impliedVol: iv, spot: 100, rate: 0.03)
                var account = [Double](repeating: 1, count: x.count), book = account
                withUnsafePointer(to: leg.terms) { terms in
                    thresher_subtract_option_profit(terms, x.count, strikes, moneyness, factor, inverse, &account, &book)
                }
                all += account
                all += book
                // The sticky-moneyness kernel on the same paths: one slice, and two with distinct vertices.
                for slices: Int32 in [1, 2] {
                    var smile = ThresherSmileTerms(slices: slices, moneynessOffset: log(100) - 0.03 * years, variance: 0.02 * years,
                                                   slope: (-0.06 * years, -0.02 * years), wing: (0.15 * years, 0.05 * years),
                                                   center: (0.02, -0.1), curvature: (0.04, 0.09))
                    var smileAccount = [Double](repeating: 1, count: x.count), smileBook = smileAccount
                    withUnsafePointer(to: leg.terms) { terms in
                        thresher_subtract_smile_option_profit(terms, &smile, x.count, strikes, moneyness, factor, &smileAccount, &smileBook)
                    }
                    all += smileAccount
                    all += smileBook
                }
            }
        }
        let assets: [Int32] = [2, 0, 3], weights = [1.5, -0.25, 3.0], blocks = (count + 63) / 64
        var losses = [Double](repeating: 0, count: count), sums = [Double](repeating: 0, count: blocks), squares = sums
        var above = [Double](repeating: 0, count: count + 8)
        thresher_linear_losses(count, rows, stride, assets, weights, 3, 0.5, &losses)
        thresher_block_statistics(losses, count, &sums, &squares)
        let kept = thresher_values_above(losses, count, 2, &above)
        for row in [losses, sums, squares, Array(above[..<kept])] { all += row }
        let fusedKept = thresher_linear_tail(count, rows, stride, assets, weights, 3, 0.5, 2, &sums, &squares, &above)
        for row in [sums, squares, Array(above[..<fusedKept])] { all += row }
        return all
    }

    /// The radix sort behind every tail summary (`thresher_sort_descending`) orders values as
    /// Swift's sort does, element for element: random losses of both signs over many magnitudes,
    /// repeats, subnormals and infinities, at sizes below and above its insertion-sort cut (64),
    /// one size with every value equal and one with every leading byte equal (passes skipped);
    /// +0 is placed before −0.
    func testRadixSortMatchesTheSort() {
        var generator = SystemRandomNumberGenerator()
        func check(_ values: [Double], _ label: String) {
            var sorted = values, scratch = [Double](repeating: 0, count: max(1, values.count))
            sorted.withUnsafeMutableBufferPointer { thresher_sort_descending($0.baseAddress, $0.count, &scratch) }
            let expected = values.sorted { $0 > $1 || ($0 == $1 && $0.sign == .plus && $1.sign == .minus) }
            XCTAssertEqual(sorted.map(\.bitPattern), expected.map(\.bitPattern), label)
        }
        for count in [0, 1, 2, 63, 64, 65, 1_033, 3_100] {
            var values = (0..<count).map { _ in Double.random(in: -1...1, using: &generator) * pow(10, Double.random(in: -300...300, using: &generator)) }
            if count > 10 { values[1] = values[0]; values[2] = 0; values[3] = -0.0; values[4] = .infinity; values[5] = -.infinity; values[6] = 0x1p-1074; values[7] = -0x1p-1074 }
            check(values, "\(count) mixed values")
        }
        check([Double](repeating: 2.5, count: 500), "equal values")
        check((0..<2_000).map { _ in Double.random(in: 1_000_000..<1_000_001, using: &generator) }, "one magnitude")
    }

    /// The radix selection (`thresher_select_largest`) keeps the k largest values, as a multiset,
    /// for every k from 1 to n − 1 on a tail-like sample (one magnitude, repeats), on values of
    /// both signs over many magnitudes with ±0 and infinities, on equal values, and on two values
    /// a last bit apart (every digit but the lowest skipped as agreed).
    func testRadixSelectionKeepsTheLargest() {
        var generator = SystemRandomNumberGenerator()
        var tail = (0..<300).map { _ in Double.random(in: 5_000..<5_100, using: &generator) }
        for i in stride(from: 0, to: 300, by: 7) { tail[i] = tail[0] }
        var mixed = (0..<300).map { _ in Double.random(in: -1...1, using: &generator) * pow(10, Double.random(in: -300...300, using: &generator)) }
        mixed[0] = .infinity; mixed[1] = -.infinity; mixed[2] = 0; mixed[3] = -0.0; mixed[4] = mixed[5]
        let equal = [Double](repeating: 7.25, count: 100)
        let lastBit = (0..<101).map { i in i % 3 == 0 ? 5_000.5.nextUp : 5_000.5 }
        for (values, label) in [(tail, "tail"), (mixed, "mixed"), (equal, "equal"), (lastBit, "last bit")] {
            let descending = values.sorted(by: >)
            for k in 1..<values.count {
                var selected = values, scratch = [Double](repeating: 0, count: values.count)
                thresher_select_largest(&selected, selected.count, k, &scratch)
                XCTAssertEqual(selected[0..<k].sorted(by: >), Array(descending[0..<k]), "\(label), k = \(k)")
            }
        }
    }
}

