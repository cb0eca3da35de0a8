import CKernels
import Foundation

/// Which independent stream of a path a draw comes from. Each (seed, path, stream) triple is its
/// own Philox counter space, so adding draws to one stream never shifts another.
public enum StreamID: UInt32, Sendable {
    /// Standard normals z that are correlated into the asset shocks.
    case assetNormals = 0
    /// The chi-square mixing variable W of the Student-t and t-copula models.
    case mixing = 1
    /// Independent normals η of the implied-volatility shocks.
    case volatilityNormals = 2
    /// Draws of the liquidation step (the second market move of the calibration waterfall).
    case liquidationNormals = 3
    case liquidationMixing = 4
    /// The backtest's draws of a day's loss from that day's forecast paths (path = the origin row).
    case backtestResampling = 5
    /// Path-wise liquidation monitoring: per asset the uniforms of the horizon path's minimum and
    /// maximum and of the breach times, and the normals of the move after a breach and of the breach
    /// times (`MarketModel.generateBridge`).
    case bridgeUniforms = 6
    case bridgeNormals = 7
    /// Per path and account a (blocks 2a and 2a + 1): the draws of a breach of its surplus.
    case bridgeCrossings = 8
    /// The Brownian increments of a path's monitoring grid (`MarketModel.bridgePoints`).
    case gridNormals = 9
    /// Importance sampling (`MarketModel.importance`): per path the uniform that picks the plain or
    /// the widened mixing law, for the horizon move and for the liquidation move.
    case importanceChoice = 10
    case liquidationImportanceChoice = 11
    /// The independent normals ζ of the smile factors' skew twists and term moves (`MarketModel.smileFactors`).
    case smileFactorNormals = 12
}

/// The random numbers of one Monte Carlo path: a pure function of (seed, path, stream).
///
/// Philox counter layout: (block index, stream id, path low 32 bits, path high 32 bits); key =
/// the seed's two 32-bit halves. Draws of path p therefore never depend on thread count, chunk size
/// or the order in which chunks run.
public struct PathStream {
    private let seed: UInt64, path: UInt64
    private let stream: UInt32
    private var blockIndex: UInt32 = 0
    private var buffered: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    private var bufferedWords = 0

    public init(seed: UInt64, path: Int, stream: StreamID) {
        self.seed = seed
        self.path = UInt64(path)
        self.stream = stream.rawValue
    }

    /// The stream from Philox block `block` on: for draws keyed by a second index (an account) that
    /// each read a known number of blocks (two words a block), independent sub-streams of one
    /// (seed, path, stream) when their block ranges do not overlap.
    public init(seed: UInt64, path: Int, stream: StreamID, block: UInt32) {
        self.init(seed: seed, path: path, stream: stream)
        blockIndex = block
    }

    /// 64 random bits: two consecutive 32-bit words of the stream.
    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        if bufferedWords == 0 {
            buffered = Philox4x32.block(blockIndex, stream, UInt32(truncatingIfNeeded: path), UInt32(truncatingIfNeeded: path >> 32),
                                        key: UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
            blockIndex &+= 1
            bufferedWords = 4
            return UInt64(buffered.0) << 32 | UInt64(buffered.1)
        }
        bufferedWords = 0
        return UInt64(buffered.2) << 32 | UInt64(buffered.3)
    }

    /// A uniform on the open interval (0, 1): (k + ½)·2⁻⁵² with k the top 52 random bits — exact, and
    /// symmetric (1 − u is another such value), so Φ⁻¹ never sees a rounded tail. The chunk kernel
    /// `thresher_philox_uniforms` produces the same values.
    @inline(__always)
    public mutating func nextUniform() -> Double {
        (Double(nextUInt64() >> 12) + 0.5) * 0x1p-52
    }

    /// The number of the next 64-bit word pair (block b holds pairs 2b and 2b + 1).
    private var nextWordIndex: UInt32 { bufferedWords == 0 ? 2 &* blockIndex : 2 &* blockIndex &- 1 }

    /// A standard normal from the next 64-bit word by the 512-layer ziggurat (Marsaglia and Tsang
    /// 2000): ±m·x_i/2⁵² for 99.2 % of words; wedges and the tail beyond r ≈ 3.852 retry with Philox
    /// blocks of counters of their own (see `thresher_ziggurat_normal`), so a path's normals are
    /// still a fixed function of (seed, path, stream), and each normal consumes exactly one word of
    /// this stream. The chunk kernel `thresher_philox_normals` produces the same values.
    public mutating func nextNormal() -> Double {
        let index = nextWordIndex
        let word = nextUInt64()
        return thresher_ziggurat_normal(seed, stream, path, index, word)
    }

    /// A Gamma(shape, 1) variate by Marsaglia and Tsang (2000), "A simple method for generating
    /// gamma variables", ACM TOMS 26(3). For shape < 1 it uses Gamma(shape+1)·U^{1/shape}.
    public mutating func nextGamma(shape: Double) -> Double {
        if shape < 1 {
            let boosted = nextGamma(shape: shape + 1)
            return boosted * pow(nextUniform(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let z = nextNormal()
            let t = 1 + c * z
            if t <= 0 { continue }
            let v = t * t * t
            let u = nextUniform()
            if log(u) < 0.5 * z * z + d - d * v + d * log(v) { return d * v }
        }
    }

    /// A chi-square variate with ν degrees of freedom: for an even ν = 2m ≤ 20, −2·ln(U₁⋯U_m) (a sum
    /// of m exponentials: m uniforms and one logarithm, the product stays above 2⁻⁵³⁰); otherwise
    /// 2·Gamma(ν/2).
    @inline(__always)
    public mutating func nextChiSquare(dof: Double) -> Double {
        if let factors = PathStream.chiSquareUniformCount(dof: dof) {
            var product = 1.0
            for _ in 0..<factors { product *= nextUniform() }
            return -2 * log(product)
        }
        return 2 * nextGamma(shape: 0.5 * dof)
    }

    /// m when χ²(ν) is drawn as −2·ln(U₁⋯U_m) (ν = 2m ≤ 20), nil when it takes the gamma method.
    public static func chiSquareUniformCount(dof: Double) -> Int? {
        dof <= 20 && dof.truncatingRemainder(dividingBy: 2) == 0 ? Int(dof / 2) : nil
    }
}
