import CKernels
import LinearAlgebra
import RandomStreams
import ScenarioSpec

/// A tail model: the joint law of the standardized shocks ε (unit variance) of all assets, drawn
/// for a chunk of paths. Path p's shocks must depend only on (seed, p, the streams of `draw`), so
/// that they are the same in any chunk, thread or slice. `MarketModel` turns ε into spots and vols;
/// a new tail model (say filtered historical simulation) is one new conforming type and its line in
/// `makeShockDistribution`.
public protocol ShockDistribution: Sendable {
    /// Writes ε of paths `firstPath ..< firstPath + count` into `buffers.epsilon` (asset-major).
    func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw)
}

/// The scenario's tail model as a shock distribution.
/// - Throws: `ScenarioError` when a filtered-historical model's history cannot be fitted.
func makeShockDistribution(tails: TailModel, market: Market, seed: UInt64, choleskyFactor: [Double], horizonDays: Double,
                           importance: ImportanceSampling? = nil) throws -> any ShockDistribution {
    let normals = CorrelatedNormals(seed: seed, assetCount: market.assets.count, choleskyFactor: choleskyFactor, importance: importance)
    switch tails {
    case .gaussian: return GaussianShocks(normals: normals)
    case .studentT(let dof): return StudentTShocks(normals: normals, dof: dof)
    case .tCopula(let dof): return TCopulaShocks(normals: normals, dof: dof, marginalDegrees: market.assets.map(\.dof))
    case .filteredHistorical(let history):
        return FilteredHistoricalShocks(history: try FilteredHistoricalFit.of(history), seed: seed, horizonDays: horizonDays, vols: market.assets.map(\.vol))
    }
}

/// z ~ N(0, I) per path from the ziggurat over Philox, correlated to L z by one `cblas_dtrmm` per
/// chunk (L the lower Cholesky factor of the correlation matrix, from `LAPACKE_dpotrf`).
struct CorrelatedNormals: Sendable {
    let seed: UInt64
    let assetCount: Int
    /// n×n row-major.
    let choleskyFactor: [Double]
    /// Importance sampling of the mixing variable (`fillMixing`); nil: plain.
    let importance: ImportanceSampling?

    /// buffers.epsilon ← L z for the chunk, z from the `draw`'s normal streams.
    func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw) {
        let z = buffers.epsilon
        thresher_philox_normals(seed, draw.normals.rawValue, Int64(firstPath), count, assetCount, z, buffers.capacity)
        choleskyFactor.withUnsafeBufferPointer { factor in
            multiplyLowerTriangular(factor.baseAddress!, order: assetCount, into: z, columns: count, leadingDimension: buffers.capacity)
        }
    }

    /// buffers.mixing[j] = √(numerator/W_j), W_j ~ χ²(ν) drawn as `PathStream.nextChiSquare` draws it
    /// from path j's `draw.mixing` stream: for an even ν ≤ 20 the uniforms of the whole chunk and
    /// −2·ln(U₁⋯U_m) by the vector kernels, otherwise path by path. Under importance sampling
    /// (`importanceSample`) W_j is then widened on some paths and each path's weight written.
    func fillMixing(dof: Double, numerator: Double, firstPath: Int, count: Int, draw: MarketModel.Draw, buffers: ShockBuffers) {
        defer { importanceSample(dof: dof, numerator: numerator, firstPath: firstPath, count: count, draw: draw, buffers: buffers) }
        if let factors = PathStream.chiSquareUniformCount(dof: dof) {
            let ld = buffers.capacity
            thresher_philox_uniforms(seed, draw.mixing.rawValue, Int64(firstPath), count, factors, buffers.mixingUniforms, ld)
            thresher_chi_square_mixing(buffers.mixingUniforms, factors, ld, numerator, buffers.mixing, count)
            return
        }
        for j in 0..<count {
            var stream = PathStream(seed: seed, path: firstPath + j, stream: draw.mixing)
            buffers.mixing[j] = (numerator / stream.nextChiSquare(dof: dof)).squareRoot()
        }
    }

    /// Importance sampling of the mixing variable (`ImportanceSampling`): path j's uniform U_j of the
    /// stream `draw.importanceChoice` keeps the model's W_j when U_j < p₀ and otherwise takes W_j/v
    /// (the mixing scale √(numerator/W) times √v); the path's likelihood ratio for the W′ it holds,
    /// W′ = numerator/scale², goes to `buffers.importanceWeights`. Without importance sampling it
    /// only marks the chunk unweighted.
    private func importanceSample(dof: Double, numerator: Double, firstPath: Int, count: Int, draw: MarketModel.Draw, buffers: ShockBuffers) {
        guard let importance else { buffers.isWeighted = false; return }
        let choice = buffers.importanceWeights   // the uniforms first, then the weights over them
        thresher_philox_uniforms(seed, draw.importanceChoice.rawValue, Int64(firstPath), count, 1, choice, buffers.capacity)
        let widen = importance.varianceScale.squareRoot()
        for j in 0..<count {
            if choice[j] >= importance.plainShare { buffers.mixing[j] *= widen }
            let scale = buffers.mixing[j]
            choice[j] = importance.weight(mixingVariable: numerator / (scale * scale), dof: dof)
        }
        buffers.isWeighted = true
    }
}
