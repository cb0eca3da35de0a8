import Distributions
import Engine
import Foundation
import MonteCarlo
import Shocks
import XCTest

/// Statistical checks of the sampled standardized shocks on 200,000 paths, with stated bounds.
final class ShockStatisticsTests: XCTestCase {
    let threeAssets = """
        - {id: A, spot: 100, vol: 0.5}
        - {id: B, spot: 100, vol: 0.7, dof: 3.5}
        - {id: C, spot: 100, vol: 0.9, dof: 6}
    """
    let matrix = [[1.0, 0.7, -0.3], [0.7, 1.0, 0.2], [-0.3, 0.2, 1.0]]
    var correlationText: String { "{matrix: \(matrix)}" }

    /// ε for every path, as columns per asset.
    func sample(_ tails: String, paths: Int = 200_000) throws -> [[Double]] {
        let scenario = try loadScenario(scenarioText(paths: paths, assets: threeAssets, correlation: correlationText, tails: tails,
                                                     positions: "        - {type: perp, asset: A, quantity: 1}"))
        let model = try MarketModel(scenario: scenario)
        var columns = Array(repeating: [Double](), count: 3)
        let chunk = 4096
        let buffers = ShockBuffers(assetCount: 3, capacity: chunk)
        var first = 0
        while first < paths {
            let count = min(chunk, paths - first)
            model.generateStandardized(firstPath: first, count: count, into: buffers)
            for i in 0..<3 { columns[i] += (0..<count).map { buffers.epsilon[i * chunk + $0] } }
            first += count
        }
        return columns
    }

    func assertCorrelationsAndVariances(_ eps: [[Double]], varianceTolerance: Double, file: StaticString = #filePath, line: UInt = #line) {
        for i in 0..<3 {
            XCTAssertEqual(variance(eps[i]), 1, accuracy: varianceTolerance, "variance of asset \(i)", file: file, line: line)
            for j in (i + 1)..<3 {
                XCTAssertEqual(correlation(eps[i], eps[j]), matrix[i][j], accuracy: 0.02, "ρ(\(i),\(j))", file: file, line: line)
            }
        }
    }

    /// Gaussian: ε ~ N(0, R). Variance tolerance 4·√(2/N) = 0.0126.
    func testGaussianShocks() throws {
        let eps = try sample("{model: gaussian}")
        assertCorrelationsAndVariances(eps, varianceTolerance: 4 * (2.0 / 200_000).squareRoot())
        for i in 0..<3 {
            XCTAssertLessThan(kolmogorovSmirnov(eps[i], cdf: StandardNormal.cdf), kolmogorovSmirnovCritical1Percent(200_000))
        }
    }

    /// Standardized multivariate t (ν = 6): each marginal is √((ν−2)/ν)·T_ν. Sample-variance SE with
    /// kurtosis κ = 3 + 6/(ν−4) = 6 is √((κ−1)/N); tolerance 4 SE = 0.02.
    func testStudentTShocks() throws {
        let nu = 6.0
        let eps = try sample("{model: student-t, dof: \(nu)}")
        assertCorrelationsAndVariances(eps, varianceTolerance: 4 * (5.0 / 200_000).squareRoot())
        let t = StudentT(dof: nu), scale = ((nu - 2) / nu).squareRoot()
        for i in 0..<3 {
            XCTAssertLessThan(kolmogorovSmirnov(eps[i], cdf: { t.cdf($0 / scale) }), kolmogorovSmirnovCritical1Percent(200_000))
        }
    }

    /// ν = 4 has infinite kurtosis (no variance SE): check the marginal law by KS only.
    func testStudentTFourDegreesMarginals() throws {
        let eps = try sample("{model: student-t, dof: 4}")
        let t = StudentT(dof: 4), scale = 0.5.squareRoot()
        for i in 0..<3 {
            XCTAssertLessThan(kolmogorovSmirnov(eps[i], cdf: { t.cdf($0 / scale) }), kolmogorovSmirnovCritical1Percent(200_000))
        }
    }

    /// t-copula: marginals are each asset's own law (A normal, B t₃.₅, C t₆, standardized);
    /// Kendall's τ = (2/π)·arcsin ρ for elliptical copulas. τ is estimated on the first 5,000 paths:
    /// its SE is below √(2(2n+5)/(9n(n−1))) ≈ 0.0094; tolerance 4 SE.
    func testTCopulaMarginalsAndKendallTau() throws {
        let eps = try sample("{model: t-copula, dof: 5}")
        let marginals: [(Double) -> Double] = [
            StandardNormal.cdf,
            { StudentT(dof: 3.5).cdf($0 / (1.5 / 3.5).squareRoot()) },
            { StudentT(dof: 6).cdf($0 / (4.0 / 6).squareRoot()) },
        ]
        for i in 0..<3 {
            XCTAssertLessThan(kolmogorovSmirnov(eps[i], cdf: marginals[i]), kolmogorovSmirnovCritical1Percent(200_000), "asset \(i)")
        }
        let n = 5000.0
        let tolerance = 4 * (2 * (2 * n + 5) / (9 * n * (n - 1))).squareRoot()
        for (i, j) in [(0, 1), (0, 2), (1, 2)] {
            let tau = kendallTau(Array(eps[i].prefix(5000)), Array(eps[j].prefix(5000)))
            XCTAssertEqual(tau, 2 / Double.pi * asin(matrix[i][j]), accuracy: tolerance, "τ(\(i),\(j))")
        }
    }

    /// The .npy file is byte-identical for 1 and 2 threads and for two chunk sizes, and has the
    /// documented header.
    func testSampleFileIsIdenticalForAnyThreadsAndChunks() throws {
        let scenario = try loadScenario(scenarioText(paths: 10_000, assets: threeAssets, correlation: correlationText,
                                                     tails: "{model: t-copula, dof: 5}", positions: "        - {type: perp, asset: A, quantity: 1}"))
        let model = try MarketModel(scenario: scenario)
        var files: [Data] = []
        for (threads, chunk) in [(1, 1024), (2, 1024), (2, 192)] {
            let path = NSTemporaryDirectory() + "shocks-\(threads)-\(chunk)-\(UUID().uuidString).npy"
            try ShockFile.write(model: model, paths: 10_000, settings: RunSettings(threads: threads, chunkSize: chunk), to: path)
            files.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        XCTAssertEqual(files[0], files[1])
        XCTAssertEqual(files[0], files[2])
        let header = String(decoding: files[0].prefix(128), as: UTF8.self)
        XCTAssertTrue(header.contains("'descr': '<f8', 'fortran_order': False, 'shape': (10000, 3)"))
        XCTAssertEqual(files[0].count, 128 + 10_000 * 3 * 8)
    }
}
