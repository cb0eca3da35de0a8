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
    let requirementRows: RequirementRows

    init(scenario: Scenario, spec: CalibrationSpec, schedule: MarginSchedule) throws {
        model = try MarketModel(scenario: scenario)
        book = Book(scenario: scenario)
        self.schedule = schedule
        let market = scenario.market
        positions = scenario.portfolio.accounts.map { $0.positions.map { MarginedPosition($0, market: market) } }
        costs = market.assets.map { asset in spec.depth[asset.id].map { LiquidationCost(spec: spec, vol: asset.vol, depth: $0) } }
        vols = market.assets.map(\.vol)
        requirementRows = RequirementRows(positions: positions, schedule: schedule)
    }

    /// The maintenance requirement Σ |notional|·MMR of account `a` at the given spots.
    func requirement(account a: Int, spot: (Int) -> Double) -> Double {
        positions[a].reduce(0) { total, position in
            let n = position.notional(spot: spot(position.asset))
            return total + n * schedule.tier(asset: position.asset, notional: n).maintenance(position.side)
        }
    }

    /// Runs the waterfall on the `m` paths of a chunk into `buffers`: revalues the book, then settles.
    func process(_ shocks: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        buffers.revaluer.revalue(shocks.horizon)
        settle(shocks, count: m, buffers)
    }

    /// The waterfall of a chunk whose book `buffers.revaluer` has already revalued on
    /// `shocks.horizon` (waterfalls of the same book and market share one revaluation).
    func settle(_ shocks: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        let ld = buffers.capacity, n = model.assetCount
        let spot = shocks.horizon.spot, eps = shocks.liquidation.epsilon
        let required = buffers.requirement
        for a in 0..<book.accountCount {
            let losses = buffers.revaluer.lossRow(account: a)
            let equity = book.equityNow[a]
            requirementRows.fill(required, account: a, spot: spot, stride: ld, count: m, scratch: (buffers.positionNotional, buffers.positionRate))
            let loss = buffers.loss + a * ld, liquidated = buffers.liquidated + a * ld
            let finalEquity = buffers.finalEquity + a * ld, notional = buffers.notional + a * ld, recovered = buffers.recovered + a * ld
            var anyLiquidated = false
            for j in 0..<m {
                let e1 = equity - losses[j]
                loss[j] = losses[j]
                finalEquity[j] = e1
                notional[j] = 0
                recovered[j] = false
                liquidated[j] = e1 < required[j]
                anyLiquidated = anyLiquidated || e1 < required[j]
            }
            guard anyLiquidated else { continue }
            for j in 0..<m where liquidated[j] {
                let e1 = finalEquity[j]
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
                finalEquity[j] = e1 + profit - slippage
                notional[j] = total
                // Left alone over the liquidation period, would the account have been back above
                // maintenance at S''? Then this liquidation was unnecessary.
                recovered[j] = e1 + profit >= requirement(account: a) { buffers.movedSpot[$0] }
            }
        }
    }
}

/// The maintenance requirement of every account along a row of paths, flattened from the positions
/// and the schedule so that the per-path work is a multiply-add and a few compares. Position q (the
/// accounts' positions in order) has notional n = perSpot_q·S + fixed_q and the rate of its side in
/// the first tier of its asset with up_to ≥ n (the last tier above the ladder): since the bounds
/// increase, the tier's index is the number of bounds below n, capped at the last tier.
struct RequirementRows: Sendable {
    /// Positions of account a: positionStart[a]..<positionStart[a + 1].
    let positionStart: [Int]
    let asset: [Int]
    let perSpot: [Double]
    let fixed: [Double]
    /// Tiers of position q: bounds upTo[tierStart[q]..<tierStart[q + 1]] and its side's rates.
    let tierStart: [Int]
    let upTo: [Double]
    let rate: [Double]

    init(positions: [[MarginedPosition]], schedule: MarginSchedule) {
        var positionStart = [0], asset: [Int] = [], perSpot: [Double] = [], fixed: [Double] = []
        var tierStart = [0], upTo: [Double] = [], rate: [Double] = []
        for account in positions {
            for position in account {
                asset.append(position.asset)
                perSpot.append(position.exposure.perSpot)
                fixed.append(position.exposure.fixed)
                for tier in schedule.tiers[position.asset] {
                    upTo.append(tier.upTo)
                    rate.append(tier.maintenance(position.side))
                }
                tierStart.append(upTo.count)
            }
            positionStart.append(asset.count)
        }
        (self.positionStart, self.asset, self.perSpot, self.fixed) = (positionStart, asset, perSpot, fixed)
        (self.tierStart, self.upTo, self.rate) = (tierStart, upTo, rate)
    }

    /// requirement[j] = Σ_q n_q·r_q(n_q) over account a's positions in order, n_q at the spots
    /// spot[asset·stride + j], for j < m — the same sum, in the same order, as
    /// `Waterfall.requirement(account:spot:)`.
    func fill(_ requirement: UnsafeMutablePointer<Double>, account a: Int, spot: UnsafePointer<Double>, stride: Int, count m: Int,
              scratch: (notional: UnsafeMutablePointer<Double>, rate: UnsafeMutablePointer<Double>)) {
        requirement.update(repeating: 0, count: m)
        let (notional, rate) = scratch
        upTo.withUnsafeBufferPointer { upTo in
            self.rate.withUnsafeBufferPointer { rates in
                for q in positionStart[a]..<positionStart[a + 1] {
                    let row = spot + asset[q] * stride, scale = perSpot[q], offset = fixed[q]
                    let first = tierStart[q], last = tierStart[q + 1] - 1
                    for j in 0..<m { notional[j] = scale * row[j] + offset }
                    rate.update(repeating: rates[first], count: m)
                    // Branch-free selects, one bound at a time: past bound t, the rate of tier t + 1.
                    for t in first..<last {
                        let bound = upTo[t], next = rates[t + 1]
                        for j in 0..<m { rate[j] = notional[j] > bound ? next : rate[j] }
                    }
                    for j in 0..<m { requirement[j] = requirement[j] + notional[j] * rate[j] }
                }
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

/// One worker's storage for the waterfall of a chunk; outcome rows are accounts × capacity.
final class WaterfallBuffers {
    let capacity: Int
    let revaluer: Revaluer
    /// Horizon loss, liquidation flag, E2 (E1 when not liquidated) and liquidated notional Σ n_i.
    let loss: UnsafeMutablePointer<Double>
    let liquidated: UnsafeMutablePointer<Bool>
    /// Liquidated, and e1 + P&L(S' → S'') ≥ the requirement at S'' (an unnecessary liquidation).
    let recovered: UnsafeMutablePointer<Bool>
    let finalEquity: UnsafeMutablePointer<Double>
    let notional: UnsafeMutablePointer<Double>
    /// One account's maintenance requirement along the chunk, and one position's notional and rate.
    let requirement: UnsafeMutablePointer<Double>
    let positionNotional: UnsafeMutablePointer<Double>
    let positionRate: UnsafeMutablePointer<Double>
    var grossNotional: [Double]
    var movedSpot: [Double]
    var liquidationYears: [Double]
    /// Per path of the chunk: the venue's net deficit (pass C).
    let netDeficit: UnsafeMutablePointer<Double>

    init(waterfall: Waterfall, capacity: Int) {
        self.capacity = capacity
        let n = waterfall.model.assetCount, size = waterfall.book.accountCount * capacity
        revaluer = Revaluer(book: waterfall.book, capacity: capacity)
        loss = .allocate(capacity: size)
        liquidated = .allocate(capacity: size)
        recovered = .allocate(capacity: size)
        finalEquity = .allocate(capacity: size)
        notional = .allocate(capacity: size)
        requirement = .allocate(capacity: capacity)
        positionNotional = .allocate(capacity: capacity)
        positionRate = .allocate(capacity: capacity)
        netDeficit = .allocate(capacity: capacity)
        grossNotional = Array(repeating: 0, count: n)
        movedSpot = Array(repeating: 0, count: n)
        liquidationYears = Array(repeating: 0, count: n)
    }

    deinit {
        for row in [loss, finalEquity, notional, requirement, positionNotional, positionRate, netDeficit] { row.deallocate() }
        liquidated.deallocate()
        recovered.deallocate()
    }
}
