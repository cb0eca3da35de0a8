import Engine
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

/// One waterfall of a shared pass, and what it accumulates: pass B of a calibration (liquidations,
/// deficits, account loss tails, the penalty grid), pass C (the net deficit at a known penalty
/// rate), or an evaluation (both, plus breach counts on the horizon's standardized shocks).
struct WaterfallCell: Sendable {
    struct Fund: Sendable {
        let rate: Double
        let balance: Double?
        let plan: TailPlan
    }

    let waterfall: Waterfall
    /// Liquidations and deficits are accumulated when any of these three is asked for.
    var accountLossPlan: TailPlan? = nil
    var penaltyGrid: PenaltyGrid? = nil
    var countsLiquidations = false
    var fund: Fund? = nil
    /// Thresholds on ε per (asset, side): below the bound is a long breach, above a short one.
    var breachThresholds: [(asset: Int, side: Side, bound: Double)]? = nil

    func emptyTotals() -> CellTotals {
        let accounts = waterfall.book.accountCount
        let liquidations = countsLiquidations || accountLossPlan != nil || penaltyGrid != nil
        return CellTotals(waterfall: liquidations ? WaterfallTotals(accounts: accounts, plan: accountLossPlan, grid: penaltyGrid) : nil,
                          fund: fund.map { FundTotals(plan: $0.plan) }, breaches: breachThresholds.map { BreachCounts(count: $0.count) })
    }
}

/// What one cell accumulated.
struct CellTotals: Sendable {
    var waterfall: WaterfallTotals?
    var fund: FundTotals?
    var breaches: BreachCounts?
}

/// The cells of one job, in order.
struct WaterfallCellTotals: PathAccumulator {
    var cells: [CellTotals]

    mutating func merge(_ other: WaterfallCellTotals) {
        for c in cells.indices {
            if let w = other.cells[c].waterfall { cells[c].waterfall?.merge(w) }
            if let f = other.cells[c].fund { cells[c].fund?.merge(f) }
            if let b = other.cells[c].breaches { cells[c].breaches?.merge(b) }
        }
    }

    func encode(to writer: inout StateWriter) {
        for cell in cells {
            cell.waterfall?.encode(to: &writer)
            cell.fund?.encode(to: &writer)
            cell.breaches?.encode(to: &writer)
        }
    }

    mutating func decode(from reader: inout StateReader) throws {
        for c in cells.indices {
            try cells[c].waterfall?.decode(from: &reader)
            try cells[c].fund?.decode(from: &reader)
            try cells[c].breaches?.decode(from: &reader)
        }
    }
}

/// Several waterfalls of one book and market over the same chunk: the chunk is drawn once and the
/// book revalued once, then each cell's waterfall settles it (its own schedule, liquidation costs
/// and rates) and folds the outcome into its totals.
struct WaterfallCellsPricer: PathPricer {
    let cells: [WaterfallCell]

    func makeWorkspace(capacity: Int) -> WaterfallBuffers { WaterfallBuffers(waterfall: cells[0].waterfall, capacity: capacity) }

    func price(_ shocks: WaterfallPaths, count m: Int, workspace: WaterfallBuffers, into totals: inout WaterfallCellTotals) {
        workspace.revaluer.revalue(shocks.horizon)
        for (c, cell) in cells.enumerated() {
            if let thresholds = cell.breachThresholds { totals.cells[c].breaches!.add(shocks.horizon, count: m, thresholds: thresholds) }
            guard totals.cells[c].waterfall != nil || cell.fund != nil else { continue }
            cell.waterfall.settle(shocks, count: m, workspace)
            totals.cells[c].waterfall?.add(workspace, count: m)
            if let fund = cell.fund {
                totals.cells[c].fund!.add(workspace, accounts: cell.waterfall.book.accountCount, count: m, rate: fund.rate, balance: fund.balance)
            }
        }
    }
}

enum WaterfallCells {
    /// The indices of `keys` grouped by equal key, groups and members in order of first appearance.
    static func groups<Key: Equatable>(_ keys: [Key]) -> [[Int]] {
        var representatives: [Key] = [], members: [[Int]] = []
        for (k, key) in keys.enumerated() {
            if let g = representatives.firstIndex(of: key) { members[g].append(k) } else { representatives.append(key); members.append([k]) }
        }
        return members
    }

    /// One stage: a job per group (its units share the market and the path range), the cells
    /// `cell(k)` of its units k; the totals come back per unit.
    static func accumulate(groups: [[Int]], paths: [Range<Int>], settings: RunSettings, cancellation: Cancellation?, progress: RunProgress?,
                           cell: (Int) -> WaterfallCell) throws -> [CellTotals] {
        let cells = paths.indices.map(cell)
        let jobs = groups.map { group -> PathJob<WaterfallCellTotals> in
            let pricer = WaterfallCellsPricer(cells: group.map { cells[$0] })
            return MonteCarloModel(generator: WaterfallShocks(waterfall: pricer.cells[0].waterfall), pricer: pricer)
                .job(paths: paths[group[0]], settings: settings, makeAccumulator: { WaterfallCellTotals(cells: pricer.cells.map { $0.emptyTotals() }) },
                     cancellation: cancellation, progress: progress)
        }
        var totals = [CellTotals?](repeating: nil, count: cells.count)
        for (group, groupTotals) in zip(groups, try Engine.accumulate(jobs, settings: settings)) {
            for (k, cellTotals) in zip(group, groupTotals.cells) { totals[k] = cellTotals }
        }
        return totals.map { $0! }
    }
}

/// Units whose chunks are the same draws and the same revaluation: one market, one path range.
struct MarketKey: Equatable {
    let market: Market
    let paths: Range<Int>
}

/// Units whose standardized shocks ε are the same draws, and whose pass A reads the same tail
/// level. ε depends on the tails, the correlation and the cap, not on spots, the rate, vol shocks
/// or — except for filtered historical simulation, whose ε = R/(σ√h) divides by them — the vols.
struct StandardizedKey: Equatable {
    let market: Market
    let level: Double
    let paths: Range<Int>

    init(market: Market, level: Double, paths: Range<Int>) {
        var shocks = market
        shocks.rate = 0
        shocks.volShocks = nil
        shocks.stablecoins = []
        var keepsVols = false
        if case .filteredHistorical = market.tails { keepsVols = true }
        for i in shocks.assets.indices {
            shocks.assets[i].spot = 1
            if !keepsVols { shocks.assets[i].vol = 1 }
        }
        self.market = shocks
        self.level = level
        self.paths = paths
    }
}
