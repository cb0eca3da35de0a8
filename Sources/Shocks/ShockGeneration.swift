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
        thresher_philox_normals(seed, StreamID.volatilityNormals.rawValue, Int64(firstPath), count, assetCount, eta, ld)
        for i in 0..<assetCount {
            thresher_vol_factors(buffers.epsilon + i * ld, eta + i * ld, volShock.spotCorrelation, volShock.independentWeight,
                                 volShock.scale, buffers.volFactor + i * ld, eta + i * ld, count)
        }
    }
}
