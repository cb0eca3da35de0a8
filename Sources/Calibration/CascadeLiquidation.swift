import Foundation
import Revaluation
import ScenarioSpec
import TailStats

/// The fund a cascade's paths are run against (`thresher evaluate`: the policy's penalty rate π and
/// insurance fund F₀, USD).
struct CascadeFund: Sendable, Hashable {
    let rate: Double
    let balance: Double
}

/// Liquidations that move the market (issue 30; README, "Cascades"), built on the path-wise process.
///
/// Per chunk, before its first block of accounts settles, every account of the book is settled by
/// the path-wise process `exogenous` as if alone (the exogenous liquidations: their breach times,
/// states and outcomes, `BreachRecord`). Then each path is run in time order over the K instants
/// t_k = k·T/K of `CascadeSpec.steps` (`CascadePath`): the exogenous liquidations of (t_{k−1}, t_k]
/// are closed, their flows executed at t_k against the market depth, which moves every asset's
/// log-price by the square-root law, and the accounts the moved prices put below maintenance are
/// liquidated at t_k, round by round until none is new. With no impact (infinite depth, or no flow)
/// every outcome is the path-wise process's, bit for bit. Each block then writes its accounts' rows
/// from the cascade's liquidations.
///
/// Not modelled: the accounts' horizon losses (`loss`, E1 of accounts not liquidated) stay the
/// exogenous ones; flows of options and coin collateral are not executed (only positions are closed).
/// - Complexity: per chunk, the path-wise process over all accounts, a second revaluation, and per
///   path with impact O(K × accounts exposed to a moved asset) checks plus O(accounts) per round with
///   auto-deleveraging.
struct CascadeLiquidation: LiquidationProcess {
    let exogenous: PathwiseLiquidation
    let spec: CascadeSpec
    let fund: CascadeFund
    /// The key of this process's chunk state in a worker's buffers.
    let identity = CascadeIdentity()
    /// Per asset: the market depth D_i = depth_i × `spec.depthMultiplier`, USD (∞: no impact), and
    /// k·σ_i·√(1/365) of the square-root law.
    let marketDepth: [Double]
    let impactScale: [Double]
    let horizonHours: Double
    let book: CascadeBook
    /// The near list's reach (`CascadePath`): any value gives the same liquidations; larger ones
    /// check every account less often and keep longer lists.
    var nearShare = 0.25
    /// The largest chunk a cascade runs in, paths (`WaterfallCells.accumulate`): memory O(liquidations of
    /// 64 paths) per worker.
    static let chunkSize = 64

    var draws: LiquidationDraws { exogenous.draws }

    init(waterfall w: Waterfall, exogenous: PathwiseLiquidation, spec: CascadeSpec, fund: CascadeFund, depth: [Double?], impact: Double, horizonHours: Double) {
        self.exogenous = exogenous
        self.spec = spec
        self.fund = fund
        self.horizonHours = horizonHours
        marketDepth = depth.map { ($0 ?? .infinity) * spec.depthMultiplier }
        impactScale = w.vols.map { impact * $0 * (1.0 / 365).squareRoot() }
        book = CascadeBook(waterfall: w, assetsOf: exogenous.assetsOf)
    }

    /// Empty totals for an evaluation's cell (`CellPlan.emptyTotals`).
    func emptyTotals(_ w: Waterfall, plan: TailPlan) -> CascadeTotals {
        CascadeTotals(rule: spec.adl, accounts: w.book.accountCount, assets: w.model.assetCount, plan: plan)
    }

    func settle(_ w: Waterfall, _ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        let chunk = prepared(w, paths, count: m, buffers)
        let book = w.book
        for a in buffers.accounts {
            let losses = buffers.revaluer.lossRow(account: a), equity = book.equityNow[a], row = buffers.row(account: a)
            for j in 0..<m {
                buffers.finalEquity[row + j] = equity - losses[j]
                buffers.notional[row + j] = 0
                buffers.recovered[row + j] = false
                buffers.liquidated[row + j] = false
            }
            for e in chunk.liquidationStart[a]..<chunk.liquidationStart[a + 1] {
                let k = row + chunk.liquidationPath[e], outcome = chunk.liquidations[e]
                buffers.liquidated[k] = true
                buffers.finalEquity[k] = outcome.finalEquity
                buffers.notional[k] = outcome.notional
                buffers.recovered[k] = outcome.recovered
                buffers.breachHours[k] = outcome.breachHours
            }
        }
    }

    /// Takes this process's chunk statistics into `totals` once per chunk (an evaluation's cell).
    func take(_ buffers: WaterfallBuffers, count m: Int, into totals: inout CascadeTotals) {
        guard let chunk = buffers.cascades[ObjectIdentifier(identity)], !chunk.taken else { return }
        chunk.taken = true
        totals.add(chunk, count: m)
    }

    /// The chunk's cascades, run on the first block that needs them.
    private func prepared(_ w: Waterfall, _ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) -> CascadeChunk {
        let key = ObjectIdentifier(identity)
        let chunk = buffers.cascades[key] ?? CascadeChunk(accounts: w.book.accountCount, assets: w.model.assetCount, capacity: buffers.capacity)
        buffers.cascades[key] = chunk
        guard chunk.firstPath != paths.horizon.firstPath || chunk.count != m else { return chunk }
        // The exogenous liquidations of every account, block by block; then the caller's block again.
        let record = BreachRecord(), scratch = buffers.monitoring!, block = buffers.accounts
        scratch.record = record
        for first in stride(from: 0, to: w.book.accountCount, by: buffers.accountsPerBlock) {
            buffers.revalue(paths.horizon, accounts: first..<min(first + buffers.accountsPerBlock, w.book.accountCount))
            exogenous.settle(w, paths, count: m, buffers)
        }
        scratch.record = nil
        buffers.revalue(paths.horizon, accounts: block)
        var run = CascadePath(process: self, waterfall: w, paths: paths, buffers: buffers, chunk: chunk)
        run.runChunk(record: record, count: m)
        chunk.firstPath = paths.horizon.firstPath
        chunk.count = m
        chunk.taken = false
        return chunk
    }
}

/// A reference identity for a cascade process's state in worker buffers.
final class CascadeIdentity: Sendable {}

/// The exogenous liquidations of a chunk, in the order the path-wise process closed them: account,
/// path, breach time t₀ (horizon units), equity at the breach, the breach's standardized log-move and
/// spot of each of the account's assets (`PathwiseLiquidation.assetsOf`), and the outcome.
final class BreachRecord {
    var account: [Int] = []
    var path: [Int] = []
    var time: [Double] = []
    var equity: [Double] = []
    /// Entry e's assets' values at stateStart[e] ..< stateStart[e + 1].
    var stateStart: [Int] = [0]
    var breachX: [Double] = []
    var breachSpot: [Double] = []
    var outcome: [LiquidationOutcome] = []

    func add(account a: Int, path j: Int, at t0: Double, equity e: Double, assets: [Int], breachX x: UnsafePointer<Double>, outcome: LiquidationOutcome) {
        account.append(a)
        path.append(j)
        time.append(t0)
        equity.append(e)
        for b in assets { breachX.append(x[b]) }
        stateStart.append(breachX.count)
        self.outcome.append(outcome)
    }

    /// The spots S_b = S₀·exp(σ_b√T·x_b) of the recorded states, as the process computed them.
    func completeSpots(spots: [Double], scales: [Double], assetsOf: [[Int]]) {
        breachSpot = []
        breachSpot.reserveCapacity(breachX.count)
        for e in account.indices {
            for (offset, b) in assetsOf[account[e]].enumerated() { breachSpot.append(spots[b] * exp(scales[b] * breachX[stateStart[e] + offset])) }
        }
    }
}

/// One worker's cascade state of a chunk for one process: the final liquidations by account (entries
/// liquidationStart[a] ..< liquidationStart[a + 1], paths ascending) and the per-path statistics
/// `CascadeTotals.add` folds in.
final class CascadeChunk {
    let capacity: Int
    var firstPath = -1
    var count = 0
    /// Whether an evaluation took the statistics already.
    var taken = false
    var liquidationStart: [Int]
    var liquidationPath: [Int] = []
    var liquidations: [LiquidationOutcome] = []
    var outcomes: [CascadePathOutcome]
    /// (account, haircut USD) under the spec's ADL rule, one per account and path deleveraged.
    var haircuts: [(Int, Double)] = []
    let fundDrawdown: UnsafeMutablePointer<Double>
    let liquidatedNotional: UnsafeMutablePointer<Double>
    /// Rows of `capacity` per asset.
    let exogenousFall: UnsafeMutablePointer<Double>
    let cascadedFall: UnsafeMutablePointer<Double>

    init(accounts: Int, assets: Int, capacity: Int) {
        self.capacity = capacity
        liquidationStart = Array(repeating: 0, count: accounts + 1)
        outcomes = Array(repeating: CascadePathOutcome(), count: capacity)
        fundDrawdown = .allocate(capacity: capacity)
        liquidatedNotional = .allocate(capacity: capacity)
        exogenousFall = .allocate(capacity: assets * capacity)
        cascadedFall = .allocate(capacity: assets * capacity)
    }

    deinit {
        for row in [fundDrawdown, liquidatedNotional, exogenousFall, cascadedFall] { row.deallocate() }
    }
}
