import CKernels
import Foundation
import RandomStreams

extension MarketModel {
    /// Which random streams a generation reads: the main horizon move, or the independent
    /// liquidation move of the calibration waterfall.
    public enum Draw: Sendable {
        case horizon, liquidation

        var normals: StreamID { self == .horizon ? .assetNormals : .liquidationNormals }
        var mixing: StreamID { self == .horizon ? .mixing : .liquidationMixing }
        var importanceChoice: StreamID { self == .horizon ? .importanceChoice : .liquidationImportanceChoice }
    }

    /// Fills `buffers.epsilon` with the standardized shocks of paths `firstPath ..< firstPath+count`
    /// drawn by the tail model (`shockDistribution`).
    ///
    /// Each path reads only its own streams, so the result for path p is the same whatever chunk
    /// it lands in.
    /// - Complexity: O(count · n²) for the correlation product, O(count · n) draws.
    public func generateStandardized(firstPath: Int, count: Int, into buffers: ShockBuffers, draw: Draw = .horizon) {
        precondition(count <= buffers.capacity && buffers.assetCount == assetCount)
        buffers.firstPath = firstPath
        buffers.count = count
        shockDistribution.fill(buffers, firstPath: firstPath, count: count, draw: draw)
        if let cap = shockCap {   // ε ← min(max(ε, −cap), cap)
            let ld = buffers.capacity
            for i in 0..<assetCount {
                let column = buffers.epsilon + i * ld
                for j in 0..<count { column[j] = min(max(column[j], -cap), cap) }
            }
        }
    }

    /// Fills the whole chunk: standardized shocks, shocked log spot and spot, (with vol shocks) the
    /// implied-vol multipliers and (with smile factors) the skew twists and term moves.
    public func generate(firstPath: Int, count: Int, into buffers: ShockBuffers, draw: Draw = .horizon) {
        generateStandardized(firstPath: firstPath, count: count, into: buffers, draw: draw)
        let ld = buffers.capacity
        for i in 0..<assetCount {   // log S' = log S + σ√h·ε, S' = S·e^{σ√h·ε}
            thresher_shocked_spots(buffers.epsilon + i * ld, returnScales[i], logSpots[i], spots[i],
                                   buffers.logSpot + i * ld, buffers.spot + i * ld, count)
        }
        guard draw == .horizon else { return }
        if let volShock {
            // η is drawn into `inverseVolFactor` (as scratch); ξ = ρε + √(1−ρ²)η, f = e^{scale·ξ} and 1/f.
            let eta = buffers.inverseVolFactor
            thresher_philox_normals(seed, StreamID.volatilityNormals.rawValue, Int64(firstPath), count, assetCount, eta, ld)
            for i in 0..<assetCount {
                thresher_vol_factors(buffers.epsilon + i * ld, eta + i * ld, volShock.spotCorrelation, volShock.independentWeight,
                                     volShock.scale, buffers.volFactor + i * ld, eta + i * ld, count)
            }
        }
        if !smileFactors.isEmpty { generateSmileMoves(firstPath: firstPath, count: count, into: buffers) }
    }

    /// The skew twists and term moves of the chunk (`ShockBuffers.smileMoves`): the normals ζ of
    /// stream `smileFactorNormals`, 2n per path (normal i the skew's of asset i, normal n + i its
    /// term's), become scale·(ρ·ε + √(1−ρ²)·ζ) in place for the assets with factors.
    private func generateSmileMoves(firstPath: Int, count: Int, into buffers: ShockBuffers) {
        let ld = buffers.capacity, n = assetCount
        thresher_philox_normals(seed, StreamID.smileFactorNormals.rawValue, Int64(firstPath), count, 2 * n, buffers.smileMoves, ld)
        for i in 0..<n {
            buffers.twistsSmile[i] = smileFactors[i] != nil
            guard let factors = smileFactors[i] else { continue }
            let epsilon = buffers.epsilon + i * ld
            func correlate(_ factor: VolShockModel, _ row: UnsafeMutablePointer<Double>) {
                for j in 0..<count { row[j] = factor.scale * (factor.spotCorrelation * epsilon[j] + factor.independentWeight * row[j]) }
            }
            correlate(factors.skew, buffers.smileMoves + i * ld)
            correlate(factors.term, buffers.smileMoves + (n + i) * ld)
        }
    }
}
