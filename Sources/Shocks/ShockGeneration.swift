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
            for j in 0..<count {
                var stream = PathStream(seed: seed, path: firstPath + j, stream: draw.mixing)
                buffers.mixing[j] = ((dof - 2) / stream.nextChiSquare(dof: dof)).squareRoot()
            }
            for i in 0..<n {
                let row = z + i * ld
                for j in 0..<count { row[j] *= buffers.mixing[j] }
            }
        case .tCopula(let dof):
            let copula = copula!
            for j in 0..<count {
                var stream = PathStream(seed: seed, path: firstPath + j, stream: draw.mixing)
                buffers.mixing[j] = (dof / stream.nextChiSquare(dof: dof)).squareRoot()
            }
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

    /// Standard normals of `stream` for each path of the chunk, asset-major into `out`: each path's
    /// uniforms come from its own stream (PathStream.nextUniform, in asset order), then one
    /// vectorised inverse-CDF pass turns the chunk into normals — the same values as
    /// `PathStream.nextNormal` would give.
    func drawNormals(firstPath: Int, count: Int, stream id: StreamID, into out: UnsafeMutablePointer<Double>, buffers: ShockBuffers) {
        let ld = buffers.capacity, u = buffers.uniforms
        for j in 0..<count {
            var stream = PathStream(seed: seed, path: firstPath + j, stream: id)
            for i in 0..<assetCount { u[i * ld + j] = stream.nextUniform() }
        }
        for i in 0..<assetCount { StandardNormal.quantiles(u + i * ld, into: out + i * ld, count: count) }
    }

    /// Fills the whole chunk: standardized shocks, shocked log spot and spot, and (with vol shocks)
    /// the implied-vol multipliers.
    public func generate(firstPath: Int, count: Int, into buffers: ShockBuffers, draw: Draw = .horizon) {
        generateStandardized(firstPath: firstPath, count: count, into: buffers, draw: draw)
        let ld = buffers.capacity
        for i in 0..<assetCount {
            let epsilon = buffers.epsilon + i * ld, logSpot = buffers.logSpot + i * ld, spot = buffers.spot + i * ld
            let base = logSpots[i], scale = returnScales[i]
            for j in 0..<count {
                let x = base + scale * epsilon[j]
                logSpot[j] = x
                spot[j] = exp(x)
            }
        }
        guard let volShock, draw == .horizon else { return }
        let n = assetCount
        drawNormals(firstPath: firstPath, count: count, stream: .volatilityNormals, into: buffers.volFactor, buffers: buffers)
        for i in 0..<n {
            let epsilon = buffers.epsilon + i * ld, factor = buffers.volFactor + i * ld
            for j in 0..<count {
                let xi = volShock.spotCorrelation * epsilon[j] + volShock.independentWeight * factor[j]
                factor[j] = exp(volShock.scale * xi)
            }
        }
    }
}
