import Foundation
import RandomStreams

/// Path-wise monitoring of accounts with several assets and no options. Their surplus
/// f(t) = E − M is, to first order in the log-moves, a Brownian motion with variance rate s²·σ_f²
/// per horizon (`GridAccount.varianceRate`, s the path's scale). Given today's f₀ > 0 and the
/// horizon's f_T (exact: E1 − M1), it is taken as a Brownian bridge between them, so, with
/// y = (f − f₀)/(s·σ_f) and the breach level b = −(f₀ + shift)/(s·σ_f):
///
///     P(breach | f_T) = exp(−2·b·(b − y_T))  (1 when f_T ≤ −shift),
///
/// the account's own reflection principle. One uniform u per path and account (stream
/// `.bridgeCrossings`, blocks 2a and 2a + 1 for account a) decides it (u < P), and the stream's
/// next normal and uniform draw the first-passage time (`BridgeExtremes.firstPassageTime`). The shift is the monitoring's
/// (`MonitoringRule`) in surplus units: BGK's 0.5826·s·σ_f·√(Δt/T) for checks every Δt, and for the
/// deviation trigger δ/2 over the account's largest σ_b√T, times s·σ_f. At the breach the assets
/// stand at their bridges' means t₀·ε_b and the account is closed at its requirement there (less the
/// shift: the overshoot of a discrete check). Paths with 2·b·(b − y_T) > 40 (P < e⁻⁴⁰) are not drawn.
///
/// Unlike a one-asset account's exact barrier, the accounts' breaches on a path are coupled only
/// through their horizon surpluses f_T, not through a common path inside the horizon.
/// - Complexity: O(positions × tiers) per account and path (as `HorizonLiquidation`'s check), and
///   O(1) more per path near a breach.
enum SurplusBridge {
    static func settle(_ process: PathwiseLiquidation, _ w: Waterfall, account a: Int, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let ld = buffers.capacity, row = buffers.row(account: a), grid = process.gridAccounts[a]!
        let bridge = paths.bridge!, scratch = buffers.monitoring!, eps = paths.horizon.epsilon
        let required = buffers.requirement, assets = process.assetsOf[a]
        w.requirementRows.fill(required, account: a, spot: paths.horizon.spot, stride: ld, count: m,
                               scratch: (buffers.positionNotional, buffers.positionRate))
        let deviation = grid.varianceRate.squareRoot(), f0 = grid.surplusNow
        for j in 0..<m {
            let sd = bridge.scale[j] * deviation
            guard sd > 0 else { continue }
            let shift = process.rule.shift(returnScale: grid.largestReturnScale, pathScale: bridge.scale[j])
            let level = -(f0 + shift.shift * sd) / sd, end = (buffers.finalEquity[row + j] - required[j] - f0) / sd
            let exponent = end <= level ? 0 : -2 * level * (level - end)
            guard exponent > -40 else { continue }
            var stream = PathStream(seed: w.model.seed, path: paths.horizon.firstPath + j, stream: .bridgeCrossings, block: UInt32(truncatingIfNeeded: 2 * a))
            guard stream.nextUniform() < exp(exponent) else { continue }
            let normal = stream.nextNormal()
            let tau = BridgeExtremes.firstPassageTime(level: level, end: end, normal: normal, uniform: stream.nextUniform())
            for b in assets {
                scratch.breachX[b] = tau * eps[b * ld + j]
                scratch.breachSpot[b] = w.model.spots[b] * exp(w.model.returnScales[b] * scratch.breachX[b])
            }
            let maintenance = w.requirement(account: a) { scratch.breachSpot[$0] }
            process.close(w, account: a, path: j, at: process.rule.breachTime(tau, onGrid: shift.onGrid), equity: maintenance - shift.shift * sd, paths, buffers)
        }
    }
}
