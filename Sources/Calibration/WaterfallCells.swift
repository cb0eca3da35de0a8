import MonteCarlo
import ScenarioSpec
import TailStats
import WorkerPool

/// The fund at a known penalty rate: the rate π, the balance (for P(net deficit > balance)) and the
/// net deficit's tail levels.
struct FundPlan: Sendable {
    let rate: Double
    let balance: Double?
    let plan: TailPlan
}

/// What one waterfall of a shared pass accumulates.
enum CellPlan: Sendable {
    /// Pass B of a calibration: liquidations and deficits per account, each account's horizon-loss
    /// tail (nil: not kept), and the penalty income on a grid of rates.
    case penaltySearch(accountLosses: TailPlan?, grid: PenaltyGrid)
    /// Pass C of a calibration: the net deficit at the calibrated penalty rate.
    case fund(FundPlan)
    /// An evaluation: breach counts on the horizon's standardized shocks, liquidations and deficits
    /// per account, and the fund at the policy's penalty rate.
    case evaluation(breaches: [BreachThreshold], fund: FundPlan)
}

/// One waterfall of a shared pass and its plan.
struct WaterfallCell: Sendable {
    let waterfall: Waterfall
    let plan: CellPlan

    /// Empty totals; the per-account ones cover `accounts` (a penalty search's group).
    /// Under importance sampling (`MarketModel.importance`) every total is weighted.
    func emptyTotals(accounts: Range<Int>) -> CellTotals {
        let weighted = waterfall.model.importance != nil
        switch plan {
        case .penaltySearch(let losses, let grid):
            return .penaltySearch(WaterfallTotals(accounts: accounts, plan: losses, horizonHours: waterfall.horizonHours, weighted: weighted), grid)
        case .fund(let fund): return .fund(FundTotals(plan: fund.plan, weighted: weighted))
        case .evaluation(let breaches, let fund):
            let cascade = (waterfall.process as? CascadeLiquidation).map { $0.emptyTotals(waterfall, plan: fund.plan) }
            return .evaluation(BreachCounts(count: breaches.count, weighted: weighted),
                               WaterfallTotals(accounts: 0..<waterfall.book.accountCount, plan: nil, horizonHours: waterfall.horizonHours, weighted: weighted,
                                               cascade: cascade),
                               FundTotals(plan: fund.plan, weighted: weighted))
        }
    }
}

/// What one cell accumulated: the totals of its plan's case.
enum CellTotals: Sendable {
    case penaltySearch(WaterfallTotals, PenaltyGrid)
    case fund(FundTotals)
    case evaluation(BreachCounts, WaterfallTotals, FundTotals)
    /// Only while a case's totals are updated in place (`update`): keeps their storage uniquely
    /// referenced, so no per-chunk copy of the accounts' arrays.
    case moved

    /// Settles the block of accounts `workspace.accounts` of a chunk with the cell's waterfall and
    /// folds it in; a fund adds the block to the per-path sums at `sums` (`FundTotals.addBlock`).
    /// - Complexity: O(accounts of the block × count) plus the liquidation process's work.
    mutating func addBlock(_ paths: WaterfallPaths, count m: Int, cell: WaterfallCell, workspace: WaterfallBuffers, sums: UnsafeMutablePointer<Double>) {
        let waterfall = cell.waterfall
        // `switch self`, then `self = .moved`: the bound totals are the only reference to their storage.
        switch self {
        case .penaltySearch(var totals, var grid):
            self = .moved
            workspace.checksRecovery = false
            waterfall.settle(paths, count: m, workspace)
            totals.add(workspace, count: m, weights: paths.weights, sink: &grid)
            self = .penaltySearch(totals, grid)
        case .fund:
            guard case .fund(let plan) = cell.plan else { preconditionFailure("cell totals of another plan") }
            workspace.checksRecovery = false
            waterfall.settle(paths, count: m, workspace)
            FundTotals.addBlock(workspace, count: m, rate: plan.rate, sums: sums)
        case .evaluation(let breaches, var totals, let fund):
            guard case .evaluation(_, let plan) = cell.plan else { preconditionFailure("cell totals of another plan") }
            self = .moved
            workspace.checksRecovery = true
            waterfall.settle(paths, count: m, workspace)
            var none = NoSink()
            totals.add(workspace, count: m, weights: paths.weights, sink: &none)
            if let process = waterfall.process as? CascadeLiquidation, totals.cascade != nil { process.take(workspace, count: m, into: &totals.cascade!) }
            FundTotals.addBlock(workspace, count: m, rate: plan.rate, sums: sums)
            self = .evaluation(breaches, totals, fund)
        case .moved:
            preconditionFailure("cell totals caught in an update")
        }
    }

    /// Folds in what a chunk gives once all its account blocks are in: the fund's per-path sums at
    /// `sums`, an evaluation's breach counts.
    /// - Complexity: O(count × (1 + breach thresholds)).
    mutating func finishChunk(_ paths: WaterfallPaths, count m: Int, cell: WaterfallCell, capacity: Int, sums: UnsafeMutablePointer<Double>) {
        switch self {
        case .penaltySearch:
            break
        case .fund(var fund):
            guard case .fund(let plan) = cell.plan else { preconditionFailure("cell totals of another plan") }
            self = .moved
            fund.finishChunk(count: m, capacity: capacity, balance: plan.balance, weights: paths.weights, sums: sums)
            self = .fund(fund)
        case .evaluation(var breaches, let totals, var fund):
            guard case .evaluation(let thresholds, let plan) = cell.plan else { preconditionFailure("cell totals of another plan") }
            self = .moved
            // The breaches read the horizon's shocks alone: its own likelihood ratio weights them.
            breaches.add(paths.horizon, count: m, weights: paths.horizon.isWeighted ? paths.horizon.importanceWeights : nil, thresholds: thresholds)
            fund.finishChunk(count: m, capacity: capacity, balance: plan.balance, weights: paths.weights, sums: sums)
            self = .evaluation(breaches, totals, fund)
        case .moved:
            preconditionFailure("cell totals caught in an update")
        }
    }

    /// - Complexity: O(accounts × the tails' kept sizes + grid points).
    mutating func merge(_ other: CellTotals) {
        switch self {
        case .penaltySearch(var totals, var grid):
            guard case .penaltySearch(let otherTotals, let otherGrid) = other else { preconditionFailure("merging cell totals of different plans") }
            self = .moved
            totals.merge(otherTotals)
            grid.merge(otherGrid)
            self = .penaltySearch(totals, grid)
        case .fund(var fund):
            guard case .fund(let otherFund) = other else { preconditionFailure("merging cell totals of different plans") }
            self = .moved
            fund.merge(otherFund)
            self = .fund(fund)
        case .evaluation(var breaches, var totals, var fund):
            guard case .evaluation(let otherBreaches, let otherTotals, let otherFund) = other else {
                preconditionFailure("merging cell totals of different plans")
            }
            self = .moved
            breaches.merge(otherBreaches)
            totals.merge(otherTotals)
            fund.merge(otherFund)
            self = .evaluation(breaches, totals, fund)
        case .moved:
            preconditionFailure("cell totals caught in an update")
        }
    }

    /// The totals of a penalty-search cell.
    var penaltySearch: (waterfall: WaterfallTotals, grid: PenaltyGrid) {
        guard case .penaltySearch(let totals, let grid) = self else { preconditionFailure("not a penalty-search cell") }
        return (totals, grid)
    }

    /// The totals of a fund cell.
    var fund: FundTotals {
        guard case .fund(let fund) = self else { preconditionFailure("not a fund cell") }
        return fund
    }

    /// The totals of an evaluation cell.
    var evaluation: (breaches: BreachCounts, waterfall: WaterfallTotals, fund: FundTotals) {
        guard case .evaluation(let breaches, let totals, let fund) = self else { preconditionFailure("not an evaluation cell") }
        return (breaches, totals, fund)
    }
}

extension CellTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        switch self {
        case .penaltySearch(let totals, let grid): totals.encode(to: &writer); grid.encode(to: &writer)
        case .fund(let fund): fund.encode(to: &writer)
        case .evaluation(let breaches, let totals, let fund): totals.encode(to: &writer); fund.encode(to: &writer); breaches.encode(to: &writer)
        case .moved: preconditionFailure("cell totals caught in an update")
        }
    }

    mutating func decode(from reader: inout StateReader) throws {
        switch self {
        case .penaltySearch(var totals, var grid):
            self = .moved
            try totals.decode(from: &reader); try grid.decode(from: &reader)
            self = .penaltySearch(totals, grid)
        case .fund(var fund):
            self = .moved
            try fund.decode(from: &reader)
            self = .fund(fund)
        case .evaluation(var breaches, var totals, var fund):
            self = .moved
            try totals.decode(from: &reader); try fund.decode(from: &reader); try breaches.decode(from: &reader)
            self = .evaluation(breaches, totals, fund)
        case .moved: preconditionFailure("cell totals caught in an update")
        }
    }
}

/// The cells of one job, in order.
struct WaterfallCellTotals: PathAccumulator {
    var cells: [CellTotals]

    /// - Complexity: the sum of the cells' merges.
    mutating func merge(_ other: WaterfallCellTotals) {
        for c in cells.indices { cells[c].merge(other.cells[c]) }
    }

    func encode(to writer: inout StateWriter) { for cell in cells { cell.encode(to: &writer) } }

    mutating func decode(from reader: inout StateReader) throws {
        for c in cells.indices { try cells[c].decode(from: &reader) }
    }
}

/// Several waterfalls of one book and market over the same chunk: the chunk is drawn once, then
/// block of accounts by block (`WaterfallBuffers.accountsPerBlock`, in account order) the block is
/// revalued once and each cell's waterfall settles it (its own schedule, liquidation costs and
/// rates) and folds the outcome into its totals; the cells' per-path sums close the chunk.
struct WaterfallCellsPricer: PathPricer {
    let cells: [WaterfallCell]
    /// The accounts settled (a penalty search's group; all accounts for a fund or an evaluation).
    let accounts: Range<Int>

    func makeWorkspace(capacity: Int) -> WaterfallBuffers { WaterfallBuffers(waterfall: cells[0].waterfall, capacity: capacity, cells: cells.count) }

    func price(_ paths: WaterfallPaths, count m: Int, workspace: WaterfallBuffers, into totals: inout WaterfallCellTotals) {
        let capacity = workspace.capacity
        workspace.pathSums.update(repeating: 0, count: 2 * cells.count * capacity)
        workspace.revaluer.beginChunk(paths.horizon)
        for first in stride(from: accounts.lowerBound, to: accounts.upperBound, by: workspace.accountsPerBlock) {
            workspace.revalue(paths.horizon, accounts: first..<min(first + workspace.accountsPerBlock, accounts.upperBound))
            for (c, cell) in cells.enumerated() {
                totals.cells[c].addBlock(paths, count: m, cell: cell, workspace: workspace, sums: workspace.pathSums + 2 * c * capacity)
            }
        }
        for (c, cell) in cells.enumerated() {
            totals.cells[c].finishChunk(paths, count: m, cell: cell, capacity: capacity, sums: workspace.pathSums + 2 * c * capacity)
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

    /// One stage: a job per group (its units share the market, the liquidation draws and the path
    /// range), the cells `cell(k)` of its units k settling the accounts `accounts` (nil: all of the
    /// book; a range must lie within every cell's book); the totals come back per unit.
    static func accumulate(groups: [[Int]], paths: [Range<Int>], accounts: Range<Int>? = nil, settings: RunSettings, cancellation: Cancellation?,
                           progress: RunProgress?, cell: (Int) -> WaterfallCell) throws -> [CellTotals] {
        let cells = paths.indices.map(cell)
        // A cascade holds every liquidation of a chunk's paths until they settle: chunks of at most
        // `CascadeLiquidation.chunkSize` paths bound its memory (the results do not depend on it).
        var settings = settings
        if cells.contains(where: { $0.waterfall.process is CascadeLiquidation }) {
            settings.chunkSize = min(settings.chunkSize, CascadeLiquidation.chunkSize)
        }
        let jobs = groups.map { group -> PathJob<WaterfallCellTotals> in
            let first = cells[group[0]].waterfall
            let pricer = WaterfallCellsPricer(cells: group.map { cells[$0] }, accounts: accounts ?? 0..<first.book.accountCount)
            return MonteCarloModel(generator: WaterfallShocks(waterfall: first), pricer: pricer)
                .job(paths: paths[group[0]], settings: settings,
                     makeAccumulator: { WaterfallCellTotals(cells: pricer.cells.map { $0.emptyTotals(accounts: pricer.accounts) }) },
                     cancellation: cancellation, progress: progress)
        }
        var totals = [CellTotals?](repeating: nil, count: cells.count)
        for (group, groupTotals) in zip(groups, try MonteCarlo.accumulate(jobs, settings: settings)) {
            for (k, cellTotals) in zip(group, groupTotals.cells) { totals[k] = cellTotals }
        }
        return totals.map { $0! }
    }
}

/// Units whose chunks are the same draws and the same revaluation: one market, one path range, one
/// kind of liquidation draws.
struct MarketKey: Equatable {
    let market: Market
    let paths: Range<Int>
    var draws: LiquidationDraws
    /// Importance sampling changes the draws themselves.
    var importance: ImportanceSampling?
}

/// Units whose standardized shocks ε are the same draws, and whose pass A reads the same tail
/// level. ε depends on the tails, the correlation and the cap, not on spots, the rate, vol shocks,
/// smile factors or — except for filtered historical simulation, whose ε = R/(σ√h) divides by them — the vols.
struct StandardizedKey: Equatable {
    let market: Market
    let level: Double
    let paths: Range<Int>

    init(market: Market, level: Double, paths: Range<Int>) {
        var shocks = market
        shocks.rate = 0
        shocks.volShocks = nil
        shocks.smileFactors = []
        shocks.stablecoins = []
        let keepsVols = market.tails.shocksDependOnVols
        for i in shocks.assets.indices {
            shocks.assets[i].spot = 1
            if !keepsVols { shocks.assets[i].vol = 1 }
        }
        self.market = shocks
        self.level = level
        self.paths = paths
    }
}
