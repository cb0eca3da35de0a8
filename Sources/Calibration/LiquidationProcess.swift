import Foundation
import Revaluation
import ScenarioSpec

/// How a venue liquidates an account along one path: when the account is found below maintenance,
/// and what its equity is once the positions are closed. The waterfall (`Waterfall`) owns what every
/// process shares — the book, the margin schedule, the liquidation cost per asset — and calls its
/// process once per block of accounts of each chunk; a new process (monitoring inside the horizon,
/// liquidations that move prices) is a new conformer and one case of `LiquidationDraws`, not an
/// edit of the waterfall or the calibration.
///
/// A process writes, for every account a of the block `buffers.accounts` and path j of the chunk
/// (offset `buffers.row(account: a)` + j of each row of `buffers`):
/// `loss` (the horizon loss, USD), `liquidated`, `finalEquity` (E2 after the close, E1 at the horizon
/// when not liquidated), `notional` (the liquidated notional Σ n_i, 0 when not liquidated) and
/// `recovered` (liquidated, and the account left alone would have been back above maintenance; only
/// while `buffers.checksRecovery`, else false) and,
/// where liquidated, `breachHours` (when the venue acted, hours from now).
protocol LiquidationProcess: Sendable {
    /// The draws the process reads beyond the horizon's move: waterfalls of one market with the same
    /// draws share a chunk's generation.
    var draws: LiquidationDraws { get }
    /// Settles the accounts `buffers.accounts` on the `count` paths of a chunk: `buffers.revaluer`
    /// has revalued them on `paths.horizon` (their loss rows: `revaluer.lossRow(account:)`). A
    /// chunk is settled block of accounts by block, in account order.
    /// - Complexity: O(accounts of the block × count) plus the work of each liquidation.
    func settle(_ waterfall: Waterfall, _ paths: WaterfallPaths, count: Int, _ buffers: WaterfallBuffers)
}

/// The draws of a chunk a liquidation process reads besides the horizon's move.
enum LiquidationDraws: Hashable, Sendable {
    /// An independent standardized move of every asset over the liquidation period (the
    /// `.liquidation` streams of each path).
    case independentMove
    /// The paths inside the horizon (`BridgeBuffers`, with `steps` grid points for
    /// `GridMonitoring`; 0: none).
    case bridge(steps: Int)
}

enum LiquidationProcesses {
    /// The process of a calibration's monitoring (`calibration.liquidation.monitoring`): today's
    /// `HorizonLiquidation` where the checks fall only at the horizon's end (`horizon`, checks every
    /// Δt ≥ T, an oracle without deviation trigger whose heartbeat is ≥ T), else `PathwiseLiquidation`
    /// (an oracle with deviation 0 updates on every move: continuous).
    /// With `spec.cascade` (and monitoring inside the horizon) the path-wise process runs inside
    /// `CascadeLiquidation`, its paths' fund opened at `fund`.
    static func make(_ spec: CalibrationSpec, waterfall: Waterfall, horizonDays: Double, fund: CascadeFund) -> any LiquidationProcess {
        guard let pathwise = pathwise(spec.monitoring, horizonDays: horizonDays) else { return HorizonLiquidation() }
        let process = PathwiseLiquidation(waterfall: waterfall, monitoring: pathwise, horizonDays: horizonDays)
        guard let cascade = spec.cascade else { return process }
        return CascadeLiquidation(waterfall: waterfall, exogenous: process, spec: cascade, fund: fund,
                                  depth: waterfall.costs.map { $0?.depth }, impact: spec.impact, horizonHours: horizonDays * 24)
    }

    /// The monitoring the path-wise process runs, nil where the process is `HorizonLiquidation`.
    static func pathwise(_ monitoring: LiquidationMonitoring, horizonDays: Double) -> LiquidationMonitoring? {
        guard !monitoring.checksOnlyAtHorizon(horizonDays: horizonDays) else { return nil }
        switch monitoring {
        case .oracle(let deviation?, _) where deviation == 0: return .continuous
        default: return monitoring
        }
    }

    /// The draws of the process `make` builds for the scenario's waterfalls (they do not depend on
    /// the margin schedule): for `thresher robustness`'s count of passes.
    static func draws(_ monitoring: LiquidationMonitoring, scenario: Scenario) -> LiquidationDraws {
        let horizonDays = scenario.simulation.horizonDays
        guard let pathwise = pathwise(monitoring, horizonDays: horizonDays) else { return .independentMove }
        let grid = PathwiseLiquidation.needsGrid(book: Book(scenario: scenario))
        return .bridge(steps: grid ? MonitoringRule(pathwise, horizonHours: horizonDays * 24).gridSteps : 0)
    }
}

/// Today's process (README, "Calibration model"): margin is checked once, at the horizon's end,
/// and a breached account is closed over a further, independent move.
/// 1. E1 = equity now − horizon loss, requirement M1 = Σ |notional at S'|·MMR(asset, tier, side)
///    (or, under `Waterfall.riskArray`, the array's MM_a at the horizon market); the account is
///    liquidated if E1 < M1;
/// 2. liquidated accounts only: an independent move over h_liq of each asset (h_liq from the
///    account's gross notional in it; same correlations and tails), slippage Σ I(n_i)·n_i, and
///    E2 = E1 + P&L(S' → S'') − slippage.
struct HorizonLiquidation: LiquidationProcess {
    init() {}

    var draws: LiquidationDraws { .independentMove }

    func settle(_ waterfall: Waterfall, _ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        let book = waterfall.book
        let ld = buffers.capacity, n = waterfall.model.assetCount
        let spot = paths.horizon.spot, volFactors = paths.horizon.volFactor, eps = paths.liquidation!.epsilon
        let required = buffers.requirement
        let costs = waterfall.costs, vols = waterfall.vols, weights = book.linearWeights
        for a in buffers.accounts {
            let losses = buffers.revaluer.lossRow(account: a)
            let equity = book.equityNow[a]
            if let array = waterfall.riskArray {
                // MM_a of the risk array applied around each path's horizon market, all the chunk's
                // paths at once by the vector kernels.
                array.maintenance(account: a, around: paths.horizon, count: m, rows: buffers.riskArrayRows, into: required)
            } else {
                waterfall.requirementRows.fill(required, account: a, spot: spot, stride: ld, count: m,
                                               scratch: (buffers.positionNotional, buffers.positionRate))
            }
            let r = buffers.row(account: a)
            let liquidated = buffers.liquidated + r
            let finalEquity = buffers.finalEquity + r, notional = buffers.notional + r, recovered = buffers.recovered + r
            var anyLiquidated = false
            for j in 0..<m {
                let e1 = equity - losses[j]
                finalEquity[j] = e1
                notional[j] = 0
                recovered[j] = false
                liquidated[j] = e1 < required[j]
                anyLiquidated = anyLiquidated || e1 < required[j]
            }
            guard anyLiquidated else { continue }
            // What the account's closes read, hoisted out of the paths.
            let moved = waterfall.movedAssets[waterfall.movedAssetStart[a]..<waterfall.movedAssetStart[a + 1]]
            let positions = waterfall.positions[a], options = book.options(ofAccount: a)
            for j in 0..<m where liquidated[j] {
                let e1 = finalEquity[j]
                // Step 2: gross notional per asset, the further move, slippage (the assets the close
                // reads, in order: the others add exactly 0 to the profit).
                for b in moved { buffers.grossNotional[b] = 0 }
                var slippage = 0.0, total = 0.0
                for position in positions {
                    let notional = position.notional(spot: spot[position.asset * ld + j])
                    buffers.grossNotional[position.asset] += notional
                    total += notional
                    slippage += (costs[position.asset]?.rate(notional: notional) ?? 0) * notional
                }
                var profit = 0.0
                for b in moved {
                    let before = spot[b * ld + j]
                    let years = costs[b]?.horizonYears(notional: buffers.grossNotional[b]) ?? 0
                    // S'' = S'·exp(σ·√h_liq·ε''), ε'' the standardized liquidation shock.
                    buffers.movedSpot[b] = before * exp(vols[b] * years.squareRoot() * eps[b * ld + j])
                    buffers.liquidationYears[b] = years
                    profit += weights[a * n + b] * (buffers.movedSpot[b] - before)
                }
                for leg in options {
                    let volFactor = volFactors[leg.asset * ld + j], twist = paths.horizon.smileTwist(asset: leg.asset, path: j)
                    let before = leg.value(spot: spot[leg.asset * ld + j], volFactor: volFactor, twist: twist, years: leg.remainingYears, rate: book.rate)
                    let after = leg.value(spot: buffers.movedSpot[leg.asset], volFactor: volFactor, twist: twist,
                                          years: leg.remainingYears - buffers.liquidationYears[leg.asset], rate: book.rate)
                    profit += leg.quantity * (after - before)
                }
                finalEquity[j] = e1 + profit - slippage
                notional[j] = total
                buffers.breachHours[r + j] = waterfall.horizonHours
                // Left alone over the liquidation period, would the account have been back above
                // maintenance at S''? Then this liquidation was unnecessary.
                recovered[j] = buffers.checksRecovery && e1 + profit >= requirementAfterClose(waterfall, account: a, path: j, paths, buffers)
            }
        }
    }

    /// Account a's requirement at S'' once closed on path j: the schedule's at the spots S'', or the
    /// risk array's applied around S'' with the horizon's vol factors and τ' − h_liq.
    private func requirementAfterClose(_ waterfall: Waterfall, account a: Int, path j: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) -> Double {
        guard let array = waterfall.riskArray else { return waterfall.requirement(account: a) { buffers.movedSpot[$0] } }
        let ld = buffers.capacity
        return array.maintenance(account: a) {
            RiskArray.AssetMarket(spot: buffers.movedSpot[$0], volFactor: paths.horizon.volFactor[$0 * ld + j], yearsAfterHorizon: buffers.liquidationYears[$0])
        }
    }
}
