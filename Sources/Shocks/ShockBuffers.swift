import Foundation

/// Per-worker storage for one chunk of paths, allocated once and reused for every chunk (no
/// allocation per path). Every array is asset-major: entry (asset i, path j of the chunk) is at
/// `i * capacity + j`, so a kernel that walks one asset over the paths of a chunk reads
/// contiguous memory.
public final class ShockBuffers {
    public let assetCount: Int
    /// The most paths a chunk may hold (the row stride of every array).
    public let capacity: Int
    /// Paths in the current chunk (≤ capacity).
    public internal(set) var count = 0
    /// Index of the chunk's first path.
    public internal(set) var firstPath = 0
    /// Standardized shocks ε.
    package let epsilon: UnsafeMutablePointer<Double>
    /// Shocked log spot log S'.
    package let logSpot: UnsafeMutablePointer<Double>
    /// Shocked spot S', USD.
    package let spot: UnsafeMutablePointer<Double>
    /// Implied-vol multiplier iv'/iv = exp(vol_of_vol·√h·ξ); all ones without vol shocks.
    package let volFactor: UnsafeMutablePointer<Double>
    /// Its reciprocal iv/iv' (the option kernel multiplies by it instead of dividing per option).
    package let inverseVolFactor: UnsafeMutablePointer<Double>
    /// The smile factors' moves (`MarketModel.smileFactors`), 2·assetCount rows: asset i's skew twist
    /// (vol per unit of log-moneyness) in row i, its term move (vol at 30 days) in row assetCount + i.
    package let smileMoves: UnsafeMutablePointer<Double>
    /// Per asset, whether this chunk's `smileMoves` rows of the asset hold moves (it has smile factors
    /// and the chunk was drawn by `MarketModel.generate`); false: its smile is not twisted.
    package internal(set) var twistsSmile: [Bool]
    /// Per-path scale of the t mixing, √(ν/W) (or √((ν−2)/W) for the standardized Student-t).
    let mixing: UnsafeMutablePointer<Double>
    /// The uniforms of the χ² product, up to ten rows (ν ≤ 20) of `capacity`.
    let mixingUniforms: UnsafeMutablePointer<Double>
    /// Under importance sampling (`MarketModel.importance`), each path's likelihood ratio f/g of its
    /// mixing variable (README, "Importance sampling"); not written otherwise (`isWeighted` false).
    package let importanceWeights: UnsafeMutablePointer<Double>
    /// Whether the current chunk's `importanceWeights` hold its paths' likelihood ratios.
    package internal(set) var isWeighted = false

    public init(assetCount: Int, capacity: Int) {
        self.assetCount = assetCount
        self.capacity = capacity
        let size = assetCount * capacity
        epsilon = .allocate(capacity: size)
        logSpot = .allocate(capacity: size)
        spot = .allocate(capacity: size)
        volFactor = .allocate(capacity: size)
        volFactor.initialize(repeating: 1, count: size)
        inverseVolFactor = .allocate(capacity: size)
        inverseVolFactor.initialize(repeating: 1, count: size)
        smileMoves = .allocate(capacity: 2 * size)
        twistsSmile = Array(repeating: false, count: assetCount)
        mixing = .allocate(capacity: capacity)
        mixingUniforms = .allocate(capacity: 10 * capacity)
        importanceWeights = .allocate(capacity: capacity)
    }

    deinit {
        epsilon.deallocate()
        logSpot.deallocate()
        spot.deallocate()
        volFactor.deallocate()
        inverseVolFactor.deallocate()
        smileMoves.deallocate()
        mixing.deallocate()
        mixingUniforms.deallocate()
        importanceWeights.deallocate()
    }

    /// Starts a chunk whose spots the caller fills itself (the backtest rescales stored innovations).
    package func beginChunk(firstPath: Int, count: Int) {
        precondition(count <= capacity)
        self.firstPath = firstPath
        self.count = count
    }

    /// Asset `i`'s row of an asset-major array.
    @inline(__always) package func row(_ base: UnsafeMutablePointer<Double>, asset i: Int) -> UnsafeMutablePointer<Double> {
        base + i * capacity
    }
}

extension ShockBuffers {
    /// The standardized shock ε of asset `i` on path `j` of the chunk.
    public func standardizedShock(asset i: Int, path j: Int) -> Double {
        precondition(i < assetCount && j < count)
        return epsilon[i * capacity + j]
    }

    /// The shocked spot S' (USD) of asset `i` on path `j` of the chunk.
    public func shockedSpot(asset i: Int, path j: Int) -> Double {
        precondition(i < assetCount && j < count)
        return spot[i * capacity + j]
    }

    /// Asset `i`'s skew twist and term move on path `j` of the chunk when the chunk twists its smile
    /// (`twistsSmile`), else nil.
    @inline(__always) public func smileTwist(asset i: Int, path j: Int) -> (skew: Double, term: Double)? {
        twistsSmile[i] ? (smileMoves[i * capacity + j], smileMoves[(assetCount + i) * capacity + j]) : nil
    }

    /// Sets path column `j` to a deterministic market state (a stress): shocked spots and implied-vol
    /// multipliers per asset (and skew twists and term moves, for the assets of `twists`). The
    /// standardized shocks of that column are left at zero.
    public func setDeterministicState(column j: Int, spots: [Double], volFactors: [Double], twists: [Int: (skew: Double, term: Double)] = [:]) {
        precondition(j < capacity && spots.count == assetCount && volFactors.count == assetCount)
        for (i, twist) in twists {
            twistsSmile[i] = true
            smileMoves[i * capacity + j] = twist.skew
            smileMoves[(assetCount + i) * capacity + j] = twist.term
        }
        for i in 0..<assetCount {
            spot[i * capacity + j] = spots[i]
            logSpot[i * capacity + j] = log(spots[i])
            volFactor[i * capacity + j] = volFactors[i]
            inverseVolFactor[i * capacity + j] = 1 / volFactors[i]
            epsilon[i * capacity + j] = 0
        }
        count = max(count, j + 1)
    }
}
