import Foundation
import ScenarioSpec

/// A monitoring (`LiquidationMonitoring`) compiled for the path-wise process, in horizon units:
/// time as a fraction of the horizon T, an asset's log-move in units of its σ_i·√T.
///
/// Every monitoring is a continuous barrier moved away from today's spot, then a breach time:
/// - `continuous`: no shift; the breach is at the first passage;
/// - `every: Δt`: the BGK shift 0.5826·s·√(Δt/T) (s the path's scale: the path's σ over a check is
///   s·σ_i·√Δt); the breach is found at the first check at or after the shifted barrier's first
///   passage, ⌈τ/d⌉·d with d = Δt/T, and the account is closed at the shifted barrier;
/// - `oracle: {deviation: δ, heartbeat: H}`: the oracle's last price lags the true price by up to
///   δ before the deviation trigger fires, δ/2 on average over the trigger's phase, so the deviation
///   trigger alone is a continuous barrier shifted by δ/2 (log-price); the heartbeat alone is
///   `every: H`. With both, the trigger that acts sooner: the smaller shift (and its breach time).
///   δ → 0 or H → 0 give `continuous`; H ≥ T with no deviation trigger checks only at the
///   horizon's end, which is `horizon` itself (`LiquidationProcesses.make`).
struct MonitoringRule: Sendable, Equatable {
    /// The deviation trigger's shift, log-price (δ/2); nil: no deviation trigger.
    let deviationShift: Double?
    /// The check step d = Δt/T (every, or the oracle's heartbeat below the horizon); nil: none.
    let step: Double?

    init(_ monitoring: LiquidationMonitoring, horizonHours: Double) {
        switch monitoring {
        case .horizon, .continuous: (deviationShift, step) = (nil, nil)
        case .every(let hours): (deviationShift, step) = (nil, hours / horizonHours)
        case .oracle(let deviation, let heartbeat):
            deviationShift = deviation.map { 0.5 * $0 }
            step = heartbeat.flatMap { $0 < horizonHours ? $0 / horizonHours : nil }
        }
    }

    /// The barrier's shift away from today's spot (standardized, ≥ 0) for an asset of horizon scale
    /// σ√T (`returnScale`) on a path of scale s, and whether the check grid sets the breach time.
    @inline(__always) func shift(returnScale: Double, pathScale s: Double) -> (shift: Double, onGrid: Bool) {
        let grid = step.map { BridgeExtremes.discreteShift * s * $0.squareRoot() }
        let deviation = deviationShift.map { $0 / returnScale }
        switch (grid, deviation) {
        case (nil, nil): return (0, false)
        case (let g?, nil): return (g, true)
        case (nil, let d?): return (d, false)
        case (let g?, let d?): return g <= d ? (g, true) : (d, false)
        }
    }

    /// The time the venue acts on a first passage at τ (horizon units): the next check for a grid.
    @inline(__always) func breachTime(_ tau: Double, onGrid: Bool) -> Double {
        guard onGrid, let step else { return tau }
        return min(1, (tau / step).rounded(.up) * step)
    }

    /// Steps of the grid on which accounts with several assets or options are checked: the check
    /// step's, else `continuousGridSteps` (with the bridge correction between points).
    var gridSteps: Int { step.map { Int((1 / $0).rounded(.up)) } ?? MonitoringRule.continuousGridSteps }
    /// Whether the grid stands for continuous checks (then a crossing between points counts).
    var bridgesGrid: Bool { step == nil }
    /// Grid points per horizon for continuous monitoring of multi-asset and option accounts.
    static let continuousGridSteps = 24
}
