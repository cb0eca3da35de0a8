import CKernels
import Foundation
import LinearAlgebra
import RandomStreams

/// The draws of path-wise liquidation monitoring for one chunk (per worker, reused): what a path
/// does *inside* the horizon, given its horizon shock ε. Asset-major rows of `capacity`, as in
/// `ShockBuffers`.
///
/// Construction (README, "Monitoring"): asset i's standardized log-move X_i(t) = log(S_i(t)/S_i)/(σ_i√T),
/// t ∈ [0, 1] in units of the horizon T, is a Brownian bridge from 0 to ε_i at the path's own scale s:
/// X(t) = t·ε + s·(B(t) − t·B(1)), B a standard Brownian motion with the assets' correlation. Its
/// horizon marginal is the tail model's exactly, whatever the bridge, so `run`'s numbers do not move.
/// - gaussian: s = 1 (the path is the Brownian motion itself);
/// - student-t: s = √((ν−2)/W), the path's own mixing variable: conditional on W a Student-t path is
///   Brownian with that scale, and ε = s·(L z) its end;
/// - t-copula and filtered historical: s = 1 — the inside of the horizon is Brownian at the asset's
///   nominal vol, pinned to the model's horizon shock (their ε is no variance mixture of one normal).
/// Points of the bridge on a grid (accounts with options) are drawn path by path, only where needed
/// (`MarketModel.bridgePoints`).
public final class BridgeBuffers {
    public let assetCount: Int
    public let capacity: Int
    /// Uniforms, four rows per asset: 4i the path minimum, 4i + 1 the maximum, 4i + 2 and 4i + 3
    /// the breach times below and above (with the normals of the time rows).
    package let uniforms: UnsafeMutablePointer<Double>
    /// Standard normals: rows 0 ..< n the move after a breach, correlated L·z; then 2n independent
    /// rows, n + 2i and n + 2i + 1 for the breach times below and above.
    package let normals: UnsafeMutablePointer<Double>
    /// The path's scale s.
    package let scale: UnsafeMutablePointer<Double>

    public init(assetCount: Int, capacity: Int) {
        self.assetCount = assetCount
        self.capacity = capacity
        uniforms = .allocate(capacity: 4 * assetCount * capacity)
        normals = .allocate(capacity: 3 * assetCount * capacity)
        scale = .allocate(capacity: capacity)
    }

    deinit {
        uniforms.deallocate()
        normals.deallocate()
        scale.deallocate()
    }
}

extension MarketModel {
    /// The bridge draws of paths `firstPath ..< firstPath + count`, whose horizon move `horizon` holds
    /// (its mixing variable gives a Student-t path's scale). Streams `.bridgeUniforms` and
    /// `.bridgeNormals` only: the horizon's and the liquidation move's draws are untouched.
    /// - Complexity: O(count · n²).
    public func generateBridge(firstPath: Int, count: Int, horizon: ShockBuffers, into bridge: BridgeBuffers) {
        precondition(count <= bridge.capacity && bridge.assetCount == assetCount && horizon.firstPath == firstPath)
        let n = assetCount, ld = bridge.capacity
        thresher_philox_uniforms(seed, StreamID.bridgeUniforms.rawValue, Int64(firstPath), count, 4 * n, bridge.uniforms, ld)
        thresher_philox_normals(seed, StreamID.bridgeNormals.rawValue, Int64(firstPath), count, 3 * n, bridge.normals, ld)
        choleskyFactor.withUnsafeBufferPointer { factor in
            multiplyLowerTriangular(factor.baseAddress!, order: n, into: bridge.normals, columns: count, leadingDimension: ld)
        }
        if case .studentT = tails {
            bridge.scale.update(from: horizon.mixing, count: count)
        } else {
            bridge.scale.update(repeating: 1, count: count)
        }
    }
}

extension MarketModel {
    /// The bridge of path `path` at t_k = k/K, k = 1 … K − 1, for every asset (standardized log-moves,
    /// X(t_k) = t_k·ε + s·(Z(t_k) − t_k·Z(1)), Z(t_k) = Σ_{l ≤ k} L·z_l/√K), from the path's own stream
    /// `.gridNormals` (K·n normals in step-major order), into `points[((k − 1)·n + i)·stride + column]`.
    /// - Parameters: `end(i)` is ε_i of the path, `scale` its s; `scratch` holds 2n doubles.
    /// - Complexity: O(K · n²).
    public func bridgePoints(path: Int, steps K: Int, scale: Double, end: (Int) -> Double, into points: UnsafeMutablePointer<Double>,
                             stride: Int, column: Int, scratch: UnsafeMutablePointer<Double>) {
        let n = assetCount, root = 1 / Double(K).squareRoot()
        let z = scratch, total = scratch + n
        var stream = PathStream(seed: seed, path: path, stream: .gridNormals)
        total.update(repeating: 0, count: n)
        for k in 1...K {
            for i in 0..<n { z[i] = stream.nextNormal() }
            for i in 0..<n {
                var y = 0.0
                for l in 0...i { y += choleskyFactor[i * n + l] * z[l] }
                total[i] += root * y
                if k < K { points[((k - 1) * n + i) * stride + column] = total[i] }
            }
        }
        for k in 1..<K {
            let t = Double(k) / Double(K)
            for i in 0..<n {
                let slot = ((k - 1) * n + i) * stride + column
                points[slot] = t * end(i) + scale * (points[slot] - t * total[i])
            }
        }
    }
}
