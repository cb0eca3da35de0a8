import Engine
import Foundation
import LinearAlgebra
import Revaluation
import ScenarioSpec
import Shocks

/// A position as the venue margins it (`Instrument.margin`), with its asset's index.
struct MarginedPosition: Sendable {
    let asset: Int
    let exposure: MarginExposure

    @inline(__always) func notional(spot: Double) -> Double { exposure.notional(spot: spot) }
    var side: Side { exposure.side }

    init(_ position: Position, market: Market) {
        asset = market.assetIndex(position.asset)!
        exposure = position.instrument.margin
    }
}

/// The per-path liquidation waterfall of every account (README, "Calibration model"):
/// 1. the horizon move: E1 = equity now − loss, requirement M1 = Σ |notional at S'|·MMR(asset, tier, side);
///    the account is liquidated if E1 < M1;
/// 2. liquidated accounts only: an independent move over h_liq of each asset (h_liq from the
///    account's gross notional in it; same correlations and tails), slippage Σ I(n_i)·n_i, and
///    E2 = E1 + P&L(S' → S'') − slippage.
/// Shared read-only by all workers; `WaterfallBuffers` holds one worker's chunk.
struct Waterfall: Sendable {
    let model: MarketModel
    let book: Book
    /// Maintenance rates: the calibrated ladder's, or a policy's.
    let schedule: MarginSchedule
    let positions: [[MarginedPosition]]
    /// Liquidation cost per asset (nil for assets without depth).
    let costs: [LiquidationCost?]
    let vols: [Double]

    init(scenario: Scenario, spec: CalibrationSpec, schedule: MarginSchedule) throws {
        model = try MarketModel(scenario: scenario)
        book = Book(scenario: scenario)
        self.schedule = schedule
        let market = scenario.market
        positions = scenario.portfolio.accounts.map { $0.positions.map { MarginedPosition($0, market: market) } }
        costs = market.assets.map { asset in spec.depth[asset.id].map { LiquidationCost(spec: spec, vol: asset.vol, depth: $0) } }
        vols = market.assets.map(\.vol)
    }

    /// The maintenance requirement Σ |notional|·MMR of account `a` at the given spots.
    func requirement(account a: Int, spot: (Int) -> Double) -> Double {
        positions[a].reduce(0) { total, position in
            let n = position.notional(spot: spot(position.asset))
            return total + n * schedule.tier(asset: position.asset, notional: n).maintenance(position.side)
        }
    }

    /// Runs the waterfall on the `m` paths of a chunk into `buffers`.
    func process(_ shocks: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        let ld = buffers.capacity, n = model.assetCount
        buffers.revaluer.revalue(shocks.horizon)
        let spot = shocks.horizon.spot, eps = shocks.liquidation.epsilon
        for a in 0..<book.accountCount {
            let losses = buffers.revaluer.lossRow(account: a)
            for j in 0..<m {
                let k = a * ld + j
                let e1 = book.equityNow[a] - losses[j]
                buffers.loss[k] = losses[j]
                let m1 = requirement(account: a) { spot[$0 * ld + j] }
                buffers.liquidated[k] = e1 < m1
                guard e1 < m1 else { buffers.finalEquity[k] = e1; buffers.notional[k] = 0; buffers.recovered[k] = false; continue }
                // Step 2: gross notional per asset, the further move, slippage.
                for b in 0..<n { buffers.grossNotional[b] = 0 }
                var slippage = 0.0, total = 0.0
                for position in positions[a] {
                    let notional = position.notional(spot: spot[position.asset * ld + j])
                    buffers.grossNotional[position.asset] += notional
                    total += notional
                    slippage += (costs[position.asset]?.rate(notional: notional) ?? 0) * notional
                }
                var profit = 0.0
                for b in 0..<n {
                    let before = spot[b * ld + j]
                    let years = costs[b]?.horizonYears(notional: buffers.grossNotional[b]) ?? 0
                    // S'' = S'·exp(σ·√h_liq·ε''), ε'' the standardized liquidation shock.
                    buffers.movedSpot[b] = before * exp(vols[b] * years.squareRoot() * eps[b * ld + j])
                    buffers.liquidationYears[b] = years
                    profit += book.linearWeights[a * n + b] * (buffers.movedSpot[b] - before)
                }
                for leg in book.options(ofAccount: a) {
                    let volFactor = shocks.horizon.volFactor[leg.asset * ld + j]
                    let before = leg.value(spot: spot[leg.asset * ld + j], volFactor: volFactor, years: leg.remainingYears, rate: book.rate)
                    let after = leg.value(spot: buffers.movedSpot[leg.asset], volFactor: volFactor,
                                          years: leg.remainingYears - buffers.liquidationYears[leg.asset], rate: book.rate)
                    profit += leg.quantity * (after - before)
                }
                buffers.finalEquity[k] = e1 + profit - slippage
                buffers.notional[k] = total
                // Left alone over the liquidation period, would the account have been back above
                // maintenance at S''? Then this liquidation was unnecessary.
                buffers.recovered[k] = e1 + profit >= requirement(account: a) { buffers.movedSpot[$0] }
            }
        }
    }
}

/// The two moves of the waterfall for a chunk: the horizon move and the independent liquidation move
/// (its standardized shocks only, from the liquidation streams).
final class WaterfallPaths {
    let horizon: ShockBuffers
    let liquidation: ShockBuffers
    init(assetCount: Int, capacity: Int) {
        horizon = ShockBuffers(assetCount: assetCount, capacity: capacity)
        liquidation = ShockBuffers(assetCount: assetCount, capacity: capacity)
    }
}

/// Generates both moves of the waterfall for each path.
struct WaterfallShocks: PathGenerator {
    let model: MarketModel
    init(waterfall: Waterfall) { model = waterfall.model }
    func makePaths(capacity: Int) -> WaterfallPaths { WaterfallPaths(assetCount: model.assetCount, capacity: capacity) }
    func generate(_ paths: Range<Int>, into buffer: WaterfallPaths) {
        model.generate(firstPath: paths.lowerBound, count: paths.count, into: buffer.horizon)
        model.generateStandardized(firstPath: paths.lowerBound, count: paths.count, into: buffer.liquidation, draw: .liquidation)
    }
}

/// One worker's storage for the waterfall of a chunk; outcome arrays are accounts × capacity.
final class WaterfallBuffers {
    let capacity: Int
    let revaluer: Revaluer
    /// Horizon loss, liquidation flag, E2 (E1 when not liquidated) and liquidated notional Σ n_i.
    var loss: [Double]
    var liquidated: [Bool]
    /// Liquidated, and e1 + P&L(S' → S'') ≥ the requirement at S'' (an unnecessary liquidation).
    var recovered: [Bool]
    var finalEquity: [Double]
    var notional: [Double]
    var grossNotional: [Double]
    var movedSpot: [Double]
    var liquidationYears: [Double]
    /// Per path of the chunk: the venue's net deficit (pass C).
    var netDeficit: [Double]

    init(waterfall: Waterfall, capacity: Int) {
        self.capacity = capacity
        let n = waterfall.model.assetCount, accounts = waterfall.book.accountCount
        revaluer = Revaluer(book: waterfall.book, capacity: capacity)
        loss = Array(repeating: 0, count: accounts * capacity)
        liquidated = Array(repeating: false, count: accounts * capacity)
        recovered = Array(repeating: false, count: accounts * capacity)
        finalEquity = Array(repeating: 0, count: accounts * capacity)
        notional = Array(repeating: 0, count: accounts * capacity)
        grossNotional = Array(repeating: 0, count: n)
        movedSpot = Array(repeating: 0, count: n)
        liquidationYears = Array(repeating: 0, count: n)
        netDeficit = Array(repeating: 0, count: capacity)
    }
}
