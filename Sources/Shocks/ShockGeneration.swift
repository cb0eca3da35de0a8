import CKernels
import Foundation
import LinearAlgebra
import RandomStreams
import Distributions

extension MarketModel {
    /// Which random streams a generation reads: the main horizon move, or the independent
    /// liquidation move of the calibration waterfall.
    public enum Draw: Sendable {
        case horizon, liquidation

        var normals: StreamID { self == .horizon ? .assetNormals : .liquidationNormals }
        var mixing: StreamID { self == .horizon ? .mixing : .liquidationMixing }
    }

    /// Fills `buffers.epsilon` with the standardized shocks of paths `firstPath ..< firstPath+count`.
    ///
    /// Each path reads only its own streams, so the result for path p is the same whatever chunk
    /// it lands in. The correlation is one `cblas_dtrmm` over the chunk (ε-block ← L·Z-block).
    /// - Complexity: O(count · n²) for the product, O(count · n) draws.
    public func generateStandardized(firstPath: Int, count: Int, into buffers: ShockBuffers, draw: Draw = .horizon) {
        precondition(count <= buffers.capacity && buffers.assetCount == assetCount)
        buffers.firstPath = firstPath
        buffers.count = count
        let n = assetCount, ld = buffers.capacity
        let z = buffers.epsilon
        drawNormals(firstPath: firstPath, count: count, stream: draw.normals, into: z, buffers: buffers)
        choleskyFactor.withUnsafeBufferPointer { factor in
            multiplyLowerTriangular(factor.baseAddress!, order: n, into: z, columns: count, leadingDimension: ld)
        }
        switch tails {
        case .gaussian:
            return
        case .studentT(let dof):
            // ε = √((ν−2)/ν)·Lz·√(ν/W) = Lz·√((ν−2)/W)
            fillMixing(dof: dof, numerator: dof - 2, firstPath: firstPath, count: count, stream: draw.mixing, buffers: buffers)
            for i in 0..<n {
                let row = z + i * ld
                for j in 0..<count { row[j] *= buffers.mixing[j] }
            }
        case .tCopula(let dof):
            let copula = copula!
            fillMixing(dof: dof, numerator: dof, firstPath: firstPath, count: count, stream: draw.mixing, buffers: buffers)
            for i in 0..<n {
                let row = z + i * ld
                let marginal = marginals[i]
                for j in 0..<count {
                    let y = row[j] * buffers.mixing[j]
                    // u = T_νc(y); map through the marginal on the smaller tail: no 1 − u cancellation.
                    let magnitude = marginal.upperQuantile(copula.survival(abs(y)))
                    row[j] = y < 0 ? -magnitude : magnitude
                }
            }
        }
    }

    /// buffers.mixing[j] = √(numerator/W_j), W_j ~ χ²(ν) drawn as `PathStream.nextChiSquare` draws it
    /// from path j's `stream`: for an even ν ≤ 20 the uniforms of the whole chunk and −2·ln(U₁⋯U_m)
    /// by the vector kernels, otherwise path by path.
    func fillMixing(dof: Double, numerator: Double, firstPath: Int, count: Int, stream id: StreamID, buffers: ShockBuffers) {
        if let factors = PathStream.chiSquareUniformCount(dof: dof) {
            let ld = buffers.capacity
            thresher_philox_uniforms(seed, id.rawValue, Int64(firstPath), count, factors, buffers.mixingUniforms, ld)
            thresher_chi_square_mixing(buffers.mixingUniforms, factors, ld, numerator, buffers.mixing, count)
            return
        }
        for j in 0..<count {
            var stream = PathStream(seed: seed, path: firstPath + j, stream: id)
            buffers.mixing[j] = (numerator / stream.nextChiSquare(dof: dof)).squareRoot()
        }
    }

    /// Standard normals of `stream` for each path of the chunk, asset-major into `out`: Philox words
    /// of each path's own stream through the ziggurat, by the vector kernel (the values of
    /// `PathStream.nextNormal`, in asset order).
    func drawNormals(firstPath: Int, count: Int, stream id: StreamID, into out: UnsafeMutablePointer<Double>, buffers: ShockBuffers) {
        thresher_philox_normals(seed, id.rawValue, Int64(firstPath), count, assetCount, out, buffers.capacity)
    }

    /// Fills the whole chunk: standardized shocks, shocked log spot and spot, and (with vol shocks)
    /// the implied-vol multipliers.
    public func generate(firstPath: Int, count: Int, into buffers: ShockBuffers, draw: Draw = .horizon) {
        generateStandardized(firstPath: firstPath, count: count, into: buffers, draw: draw)
        let ld = buffers.capacity
        for i in 0..<assetCount {   // log S' = log S + σ√h·ε, S' = S·e^{σ√h·ε}
            thresher_shocked_spots(buffers.epsilon + i * ld, returnScales[i], logSpots[i], spots[i],
                                   buffers.logSpot + i * ld, buffers.spot + i * ld, count)
        }
        guard let volShock, draw == .horizon else { return }
        // η is drawn into `inverseVolFactor` (as scratch); ξ = ρε + √(1−ρ²)η, f = e^{scale·ξ} and 1/f.
        let eta = buffers.inverseVolFactor
        drawNormals(firstPath: firstPath, count: count, stream: .volatilityNormals, into: eta, buffers: buffers)
        for i in 0..<assetCount {
            thresher_vol_factors(buffers.epsilon + i * ld, eta + i * ld, volShock.spotCorrelation, volShock.independentWeight,
                                 volShock.scale, buffers.volFactor + i * ld, eta + i * ld, count)
        }
    }
}
