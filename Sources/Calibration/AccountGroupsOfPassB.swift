import Engine
import MonteCarlo
import TailStats
import WorkerPool

/// Pass B's figures of one calibration, gathered group of accounts by group (`Calibrator.run`): the
/// penalty grid and the deficit total (exact sums, so the groups merge into the figures of one
/// pass over all accounts), and per account — in account order, the groups being consecutive — the
/// liquidation count, the deficit summed over paths (USD) and the horizon-loss quantiles
/// VaR_0.95, VaR_0.99 (USD) of the action thresholds (none when the tails were not kept). Each
/// group's tails are read and dropped before the next group's pass.
struct PenaltySearchOutcome {
    var grid: PenaltyGrid?
    var deficitTotal = ExactSum()
    /// Per account, N × its estimated liquidation probability (the count; Σ w under importance sampling).
    var liquidations: [Double] = []
    var deficits: [Double] = []
    var lossQuantiles: [(var95: Double, var99: Double)] = []
    /// When the liquidations happened (counts and exact sums: the same for any grouping).
    var breachTimes: BreachTimes?

    /// Folds in the totals of the next group of accounts.
    /// - Complexity: O(accounts of the group × K + grid points), K the tails' kept size (two
    ///   selections per tail), on `threads` workers.
    mutating func add(_ search: (waterfall: WaterfallTotals, grid: PenaltyGrid), threads: Int) {
        let totals = search.waterfall
        if grid == nil { grid = search.grid } else { grid!.merge(search.grid) }
        if breachTimes == nil { breachTimes = totals.breachTimes } else { breachTimes!.merge(totals.breachTimes) }
        for sum in totals.deficits { deficitTotal.merge(sum) }
        liquidations += (0..<totals.accounts.count).map { totals.liquidationMass($0) }
        deficits += totals.deficits.map(\.value)
        lossQuantiles += parallelMap(totals.accountLossCount, threads: threads) { range in
            range.map { a -> (var95: Double, var99: Double) in
                let valuesAtRisk = totals.accountValuesAtRisk(a)
                return (valuesAtRisk[0], valuesAtRisk[1])
            }
        }
    }
}

extension Calibrator {
    /// The account action thresholds' levels: warn at VaR_0.95, reduce-only at VaR_0.99 of the
    /// account's horizon loss.
    static let accountLossLevels = [0.95, 0.99]

    /// The groups of accounts of pass B (`AccountGroups`), so that their loss tails take at most
    /// `memoryLimit` bytes (`bytesPerAccount` per account and calibration). One group when the tails
    /// are not kept, and for a run spread over processes or a slice of the paths (each process
    /// holds its slice's tails of every account, as `run` does).
    static func accountGroups(_ units: [(calibrator: Calibrator, paths: Range<Int>)], accountThresholds: Bool, settings: RunSettings,
                              memoryLimit: Int) -> AccountGroups {
        let accounts = units.map { $0.calibrator.scenario.portfolio.accounts.count }.max() ?? 0
        let grouped = accountThresholds && settings.coordinator == nil && settings.pathRange == nil
        let perAccount = units.reduce(0) { total, unit in
            total + bytesPerAccount(plan: TailPlan(totalPaths: unit.paths.count, levels: accountLossLevels), threads: settings.threads)
        }
        return AccountGroups(accountCount: accounts, bytesPerAccount: perAccount, memoryLimit: grouped ? memoryLimit : .max)
    }

    /// The memory of one account's pass-B totals for one calibration on `threads` workers (bytes),
    /// an upper estimate from their layout: each worker's loss tail reserves 2K candidates
    /// (K = `plan.capacity`) and the merged one grows to at most 4K, 8 bytes each; per worker and
    /// for the total, three exact sums of 68 limbs (the tail's sum and sum of squares, the
    /// deficit) and the counts.
    static func bytesPerAccount(plan: TailPlan, threads: Int) -> Int {
        let workers = max(threads, 1)
        return 8 * (2 * workers + 4) * plan.capacity + (workers + 1) * (3 * 600 + 200)
    }

    /// Passes over the paths of a calibration whose pass B goes in `accountGroups` groups.
    public static func passes(accountGroups: Int) -> Int { passes - 1 + accountGroups }
}
