import CKernels
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
/// shift: the overshoot of a discrete check). Paths with 2·b·(b − y_T) ≥ 40 (P ≤ e⁻⁴⁰,
/// `negligibleExponent`) are not drawn: every path's exponent is found first, in one branch-free
/// pass, and the paths within reach of a breach draw their u together (`thresher_philox_uniforms_at`).
///
/// Unlike a one-asset account's exact barrier, the accounts' breaches on a path are coupled only
/// through their horizon surpluses f_T, not through a common path inside the horizon.
/// - Complexity: O(positions × tiers) per account and path (as `HorizonLiquidation`'s check), and
///   O(1) more per path near a breach.
enum SurplusBridge {
    /// Paths whose crossing exponent −2·b·(b − y_T) is at most this (P ≤ e⁻⁴⁰) are not drawn.
    static let negligibleExponent = -40.0

    static func settle(_ process: PathwiseLiquidation, _ w: Waterfall, account a: Int, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let ld = buffers.capacity, grid = process.gridAccounts[a]!
        let bridge = paths.bridge!, scratch = buffers.monitoring!, eps = paths.horizon.epsilon
        let required = buffers.requirement
        w.requirementRows.fill(required, account: a, spot: paths.horizon.spot, stride: ld, count: m,
                               scratch: (buffers.positionNotional, buffers.positionRate), spotRange: scratch.spotRange)
        let deviation = grid.varianceRate.squareRoot(), f0 = grid.surplusNow
        // The account's shift is its widest asset's (`MonitoringRule.shift` of that asset's σ√T).
        let scale = bridge.scale, shift = scratch.shift + grid.widestAsset * ld, onGrid = scratch.onGrid + grid.widestAsset * ld
        let finalEquity = buffers.finalEquity + buffers.row(account: a), exponent = scratch.crossingExponent
        // Every path's exponent first, branch-free (−∞ where the surplus does not move, s·σ_f = 0).
        for j in 0..<m {
            let sd = scale[j] * deviation
            let (level, end) = standardized(surplus: finalEquity[j] - required[j], now: f0, shift: shift[j], deviation: sd)
            exponent[j] = sd > 0 ? crossingExponent(level: level, end: end) : -.infinity
        }
        // The paths within reach of a breach, and their uniforms u in one call.
        let candidates = scratch.crossingPaths, uniform = scratch.crossingUniform, block = UInt32(truncatingIfNeeded: 2 * a)
        let count = reachable(exponent, count: m, into: candidates)
        let closing = process.closing(account: a, w, paths, buffers)
        thresher_philox_uniforms_at(w.model.seed, StreamID.bridgeCrossings.rawValue, block, Int64(paths.horizon.firstPath), candidates, count, uniform)
        for c in 0..<count where mayBreach(uniform: uniform[c], exponent: exponent[Int(candidates[c])]) && uniform[c] < exp(exponent[Int(candidates[c])]) {
            let j = Int(candidates[c]), sd = scale[j] * deviation
            let (level, end) = standardized(surplus: finalEquity[j] - required[j], now: f0, shift: shift[j], deviation: sd)
            // The stream past u: the normal and the uniform of the first-passage time.
            var stream = PathStream(seed: w.model.seed, path: paths.horizon.firstPath + j, stream: .bridgeCrossings, block: block)
            _ = stream.nextUniform()
            let normal = stream.nextNormal()
            let tau = BridgeExtremes.firstPassageTime(level: level, end: end, normal: normal, uniform: stream.nextUniform())
            let breachX = scratch.breachX, breachSpot = scratch.breachSpot
            for b in closing.assets {
                breachX[b] = tau * eps[b * ld + j]
                breachSpot[b] = w.model.spots[b] * exp(w.model.returnScales[b] * breachX[b])
            }
            let maintenance = w.requirementRows.requirement(account: a) { breachSpot[$0] }
            process.close(w, closing, path: j, at: process.rule.breachTime(tau, onGrid: onGrid[j]), equity: maintenance - shift[j] * sd, paths, buffers)
        }
    }

    /// Lists, in order, the paths j < m whose exponent exceeds `negligibleExponent` (branch-free);
    /// returns their number.
    static func reachable(_ exponent: UnsafePointer<Double>, count m: Int, into paths: UnsafeMutablePointer<Int32>) -> Int {
        var count = 0
        for j in 0..<m {
            paths[count] = Int32(truncatingIfNeeded: j)
            count &+= Int(FlagScan.flag(exponent[j] > negligibleExponent))
        }
        return count
    }

    /// False where u ≥ exp(x) is certain without computing exp, for x > −700 (a candidate's exponent
    /// exceeds `negligibleExponent`): u ≥ 2^e(u) ≥ 2^(x·log₂e + 10⁻⁶), which exceeds exp(x) and its
    /// rounding, with e(u) = ⌊log₂ u⌋ read from u's exponent bits (−1023 for 0 and subnormals, which
    /// then always go on to `u < exp(x)`, as does everything the screen keeps).
    @inline(__always) static func mayBreach(uniform u: Double, exponent x: Double) -> Bool {
        Double(Int((u.bitPattern >> 52) & 0x7ff) - 1023) < x * 1.4426950408889634 + 1e-6
    }

    /// The breach level b = −(f₀ + shift·sd)/sd and the horizon's y_T = (f_T − f₀)/sd of a path with
    /// surplus f_T at the horizon, sd = s·σ_f.
    @inline(__always) static func standardized(surplus fT: Double, now f0: Double, shift: Double, deviation sd: Double) -> (level: Double, end: Double) {
        (-(f0 + shift * sd) / sd, (fT - f0) / sd)
    }

    /// ln P(breach | f_T) = −2·b·(b − y_T), 0 where y_T ≤ b (the horizon's surplus itself is breached).
    @inline(__always) static func crossingExponent(level: Double, end: Double) -> Double {
        end <= level ? 0 : -2 * level * (level - end)
    }
}
