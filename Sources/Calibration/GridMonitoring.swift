import Foundation
import RandomStreams

/// Path-wise monitoring of accounts with options (their surplus is not linear in the spots): their
/// margin surplus f = E − M is checked at the grid points t_k = k/K of the horizon (k = 1 … K;
/// t_K = 1 is the horizon's end, f_K the horizon's E1 − M1).
///
/// Grid points: asset i's standardized log-move X_i(t_k) = t_k·ε_i + s·(Z_i(t_k) − t_k·Z_i(1)),
/// Z(t_k) = Σ_{l ≤ k} L·z_l/√K (`MarketModel.bridgePoints`, drawn once per path, on the first
/// account that needs them) — the bridge sampled at the grid, correlated across assets. Options are
/// repriced at each point with their time to expiry there and the horizon's implied-vol multiplier.
/// - `every: Δt` (and an oracle's heartbeat): K = ⌈T/Δt⌉ equal steps, the checks themselves (Δt
///   rounded down to divide the horizon); breached at the first k with f_k < 0.
/// - continuous (and a deviation-only oracle): K = 24 with the Brownian-bridge correction between
///   points: f is taken as a Brownian bridge between f_{k−1} > 0 and f_k > 0 with variance rate
///   s²·σ_f² per horizon (`GridAccount.varianceRate`, s the path's scale), so it crossed zero in
///   between with probability exp(−2·f_{k−1}·f_k·K/(s²σ_f²)); one uniform per path and account
///   (stream `.bridgeCrossings`, block 2a for account a) decides the first interval crossed.
/// The account is closed at the grid point that ends the breached interval, at its equity there.
///
/// Screen: the grid is skipped on a path where the surplus, as a Brownian bridge from f₀ to the
/// horizon's exact f_T with four times its variance rate, would reach 0 with probability below
/// 10⁻¹²: f_T > 0 and 2·f₀·f_T/(4·s²σ_f²) > ln 10¹² (the factor 4 covers the options' convexity
/// between today's sensitivities and the path's). The test reads only the path's own numbers, so
/// the result is the same for any chunking.
/// - Complexity: O(positions × tiers) per account and path, and O(K × (assets + positions +
///   options)) on the paths that pass the screen.
enum GridMonitoring {
    /// ln 10¹²: the screen's exponent.
    static let screenExponent = log(1e12)

    /// Settles grid account a over the chunk.
    static func settle(_ process: PathwiseLiquidation, _ w: Waterfall, account a: Int, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let K = process.gridSteps, n = w.model.assetCount, ld = buffers.capacity, row = buffers.row(account: a)
        let scratch = buffers.monitoring!, assets = process.assetsOf[a], book = w.book, bridge = paths.bridge!
        let equityNow = book.equityNow[a], spots = w.model.spots
        let grid = process.gridAccounts[a]!, surplus0 = grid.surplusNow, closing = process.closing(account: a, w, paths, buffers)
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
                                          twist: paths.horizon.smileTwist(asset: leg.asset, path: j), years: leg.remainingYears + years, rate: book.rate)
                    equity += leg.quantity * (value - leg.valueNow)
                }
            }
            return (equity, equity - w.requirement(account: a) { scratch.breachSpot[$0] })
        }
        w.requirementRows.fill(buffers.requirement, account: a, spot: paths.horizon.spot, stride: ld, count: m,
                               scratch: (buffers.positionNotional, buffers.positionRate), spotRange: scratch.spotRange)
        for j in 0..<m {
            let variance = grid.varianceRate * bridge.scale[j] * bridge.scale[j]
            let horizonSurplus = buffers.finalEquity[row + j] - buffers.requirement[j]
            if horizonSurplus > 0, 2 * surplus0 * horizonSurplus > 4 * variance * screenExponent { continue }
            if !scratch.gridReady[j] {
                let eps = paths.horizon.epsilon
                w.model.bridgePoints(path: paths.horizon.firstPath + j, steps: K, scale: bridge.scale[j], end: { eps[$0 * ld + j] },
                                     into: scratch.gridPoints, stride: ld, column: j, scratch: scratch.gridScratch)
                scratch.gridReady[j] = true
            }
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
            process.close(w, closing, path: j, at: Double(k) / Double(K), equity: state.equity, paths, buffers)
        }
    }
}
