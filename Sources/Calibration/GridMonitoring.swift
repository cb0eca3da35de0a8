import Foundation
import RandomStreams
import Shocks

/// Path-wise monitoring of accounts with options (their surplus is not linear in the spots): their
/// margin surplus f = E − M is checked at the grid points t_k = k/K of the horizon (k = 1 … K;
/// t_K = 1 is the horizon's end, f_K the horizon's E1 − M1).
///
/// Grid points: asset i's standardized log-move X_i(t_k) = t_k·ε_i + s·(Z_i(t_k) − t_k·Z_i(1)),
/// Z(t_k) = Σ_{l ≤ k} ζ_l/√K with ζ_l the correlated normals of block l of `BridgeBuffers` — the
/// bridge of `BridgeBuffers` sampled at the grid, correlated across assets. Options are repriced at
/// each point with their time to expiry there and the horizon's implied-vol multiplier.
/// - `every: Δt` (and an oracle's heartbeat): K = ⌈T/Δt⌉ equal steps, the checks themselves (Δt
///   rounded down to divide the horizon); breached at the first k with f_k < 0.
/// - continuous (and a deviation-only oracle): K = 24 with the Brownian-bridge correction between
///   points: f is taken as a Brownian bridge between f_{k−1} > 0 and f_k > 0 with variance rate
///   s²·σ_f² per horizon (`GridAccount.varianceRate`, s the path's scale), so it crossed zero in
///   between with probability exp(−2·f_{k−1}·f_k·K/(s²σ_f²)); one uniform per path and account
///   (stream `.bridgeCrossings`, block 2a for account a) decides the first interval crossed.
/// The account is closed at the grid point that ends the breached interval, at its equity there.
/// - Complexity: O(K × (assets + positions + options)) per account and path.
enum GridMonitoring {
    /// The grid's inner points (k = 1 … K − 1) of every asset: row (k − 1)·n + i of
    /// `scratch.gridPoints`.
    static func fillPoints(steps K: Int, assets n: Int, bridge: BridgeBuffers, horizon: ShockBuffers, count m: Int, into scratch: MonitoringBuffers) {
        let ld = bridge.capacity, root = 1 / Double(K).squareRoot(), points = scratch.gridPoints
        for i in 0..<n {
            let end = scratch.bridgeEnd   // Z(1) of asset i
            end.update(repeating: 0, count: m)
            for k in 1...K {
                let increment = bridge.normals + (k * n + i) * ld
                if k < K {
                    let row = points + ((k - 1) * n + i) * ld, previous = k > 1 ? points + ((k - 2) * n + i) * ld : nil
                    for j in 0..<m { row[j] = (previous?[j] ?? 0) + root * increment[j] }
                }
                for j in 0..<m { end[j] += root * increment[j] }
            }
            let eps = horizon.epsilon + i * ld
            for k in 1..<K {
                let t = Double(k) / Double(K), row = points + ((k - 1) * n + i) * ld
                for j in 0..<m { row[j] = t * eps[j] + bridge.scale[j] * (row[j] - t * end[j]) }
            }
        }
    }

    /// Settles grid account a over the chunk (after `fillPoints`).
    static func settle(_ process: PathwiseLiquidation, _ w: Waterfall, account a: Int, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let K = process.gridSteps, n = w.model.assetCount, ld = buffers.capacity, row = a * ld
        let scratch = buffers.monitoring!, assets = process.assetsOf[a], book = w.book, bridge = paths.bridge!
        let equityNow = book.equityNow[a], spots = w.model.spots
        let grid = process.gridAccounts[a]!, surplus0 = grid.surplusNow
        // The spots, equity and surplus at point k of path j (k = K: the horizon's).
        func point(_ k: Int, _ j: Int) -> (equity: Double, surplus: Double) {
            if k == K {
                for b in assets { scratch.breachSpot[b] = paths.horizon.spot[b * ld + j]; scratch.breachX[b] = paths.horizon.epsilon[b * ld + j] }
            } else {
                for b in assets {
                    let x = scratch.gridPoints[((k - 1) * n + b) * ld + j]
                    scratch.breachX[b] = x
                    scratch.breachSpot[b] = spots[b] * exp(w.model.returnScales[b] * x)
                }
            }
            var equity = k == K ? buffers.finalEquity[row + j] : equityNow + book.linearConstants[a]
            if k < K {
                for b in assets { equity += book.linearWeights[a * n + b] * scratch.breachSpot[b] }
                let years = process.horizonYears * (1 - Double(k) / Double(K))
                for leg in book.options(ofAccount: a) {
                    let value = leg.value(spot: scratch.breachSpot[leg.asset], volFactor: paths.horizon.volFactor[leg.asset * ld + j],
                                          years: leg.remainingYears + years, rate: book.rate)
                    equity += leg.quantity * (value - leg.valueNow)
                }
            }
            return (equity, equity - w.requirement(account: a) { scratch.breachSpot[$0] })
        }
        for j in 0..<m {
            let variance = grid.varianceRate * bridge.scale[j] * bridge.scale[j]
            var breach: Int?
            if process.rule.bridgesGrid {
                for k in 1...K { scratch.surplus[k] = point(k, j).surplus }
                var previous = surplus0
                var stream = PathStream(seed: w.model.seed, path: paths.horizon.firstPath + j, stream: .bridgeCrossings, block: UInt32(truncatingIfNeeded: 2 * a))
                let u = stream.nextUniform()
                var survival = 1.0
                for k in 1...K where breach == nil {
                    let f = scratch.surplus[k]
                    let crossing = f < 0 ? 1 : (variance > 0 ? exp(-2 * previous * f * Double(K) / variance) : 0)
                    survival *= 1 - crossing
                    if 1 - survival > u { breach = k }
                    previous = f
                }
            } else {
                for k in 1...K where breach == nil && point(k, j).surplus < 0 { breach = k }
            }
            guard let k = breach else { continue }
            let state = point(k, j)
            process.close(w, account: a, path: j, at: Double(k) / Double(K), equity: state.equity, paths, buffers)
        }
    }
}
