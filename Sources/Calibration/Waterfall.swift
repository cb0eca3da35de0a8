import Foundation
import MonteCarlo
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
        self.init(asset: market.assetIndex(position.asset)!, exposure: position.instrument.margin)
    }

    init(asset: Int, exposure: MarginExposure) {
        self.asset = asset
        self.exposure = exposure
    }
}

/// The per-path liquidation waterfall of every account (README, "Calibration model"): the book, the
/// maintenance schedule it is margined by, the liquidation cost of each asset, and the liquidation
/// process that decides, path by path, who is liquidated and at what equity — the spec's
/// `monitoring` picks it (`LiquidationProcesses.make`): `HorizonLiquidation` (checked at the
/// horizon's end, closed over an independent further move) or `PathwiseLiquidation` (checked inside
/// the horizon, closed at the breach).
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
    /// The simulation horizon T, hours.
    let horizonHours: Double
    /// Per account a, ascending, the assets whose move over the liquidation period its close reads:
    /// `movedAssets[movedAssetStart[a] ..< movedAssetStart[a + 1]]`, those of its positions and
    /// options and those its linear P&L weighs (w_ab ≠ 0). Any other asset adds w_ab·ΔS = 0 to E2.
    let movedAssetStart: [Int]
    let movedAssets: [Int]
    /// The liquidation process of the spec's monitoring (`LiquidationProcesses.make`).
    private(set) var process: any LiquidationProcess
    /// When set, the requirement is this risk array's maintenance instead of the schedule's
    /// (`init(scenario:spec:schedule:riskArray:)`).
    private(set) var riskArray: RiskArray?

    init(scenario: Scenario, spec: CalibrationSpec, schedule: MarginSchedule) throws {
        process = HorizonLiquidation()
        horizonHours = scenario.simulation.horizonDays * 24
        model = try MarketModel(scenario: scenario, importance: spec.importanceSampling)
        book = Book(scenario: scenario)
        self.schedule = schedule
        let market = scenario.market
        positions = scenario.portfolio.accounts.map { $0.positions.map { MarginedPosition($0, market: market) } }
        costs = market.assets.map { asset in spec.depth[asset.id].map { LiquidationCost(spec: spec, vol: asset.vol, depth: $0) } }
        vols = market.assets.map(\.vol)
        requirementRows = RequirementRows(positions: positions, schedule: schedule)
        (movedAssetStart, movedAssets) = Self.movedAssets(book: book, positions: positions)
        let fund = CascadeFund(rate: scenario.policy?.liquidationPenalty ?? 0, balance: scenario.policy?.insuranceFund ?? spec.insuranceBalance ?? 0)
        process = LiquidationProcesses.make(spec, waterfall: self, horizonDays: scenario.simulation.horizonDays, fund: fund)
    }

    /// The waterfall with a process chosen by the caller instead of by the spec's monitoring.
    init(scenario: Scenario, spec: CalibrationSpec, schedule: MarginSchedule, process: any LiquidationProcess) throws {
        try self.init(scenario: scenario, spec: spec, schedule: schedule)
        self.process = process
    }

    /// The waterfall of `policy.portfolio_margin` (README, "Portfolio margin"): an account is
    /// liquidated when its equity at the horizon is below MM_a of the risk array applied around the
    /// path's horizon market (`RiskArray.maintenance`: spots S', implied vols × the path's vol factor,
    /// options' time to expiry τ'), checked at the horizon's end and closed over an independent
    /// further move (`HorizonLiquidation`) whatever the spec's monitoring; no cascades. `schedule`
    /// (the policy's ladder) is kept but sets no requirement.
    init(scenario: Scenario, spec: CalibrationSpec, schedule: MarginSchedule, riskArray: RiskArray) throws {
        try self.init(scenario: scenario, spec: spec, schedule: schedule, process: HorizonLiquidation())
        self.riskArray = riskArray
    }

    /// `movedAssetStart` and `movedAssets`.
    /// - Complexity: O(accounts × assets + positions).
    private static func movedAssets(book: Book, positions: [[MarginedPosition]]) -> ([Int], [Int]) {
        let n = book.assetCount
        var start = [0], assets: [Int] = [], moved = [Bool](repeating: false, count: n)
        for a in 0..<book.accountCount {
            for b in 0..<n { moved[b] = book.linearWeights[a * n + b] != 0 }
            for position in positions[a] { moved[position.asset] = true }
            for leg in book.options(ofAccount: a) { moved[leg.asset] = true }
            assets += (0..<n).filter { moved[$0] }
            start.append(assets.count)
        }
        return (start, assets)
    }

    /// The maintenance requirement Σ |notional|·MMR of account `a` at the given spots.
    func requirement(account a: Int, spot: (Int) -> Double) -> Double {
        positions[a].reduce(0) { total, position in
            let n = position.notional(spot: spot(position.asset))
            return total + n * schedule.tier(asset: position.asset, notional: n).maintenance(position.side)
        }
    }

    /// E(S), account a's equity at the spots `spot` with `years` of the horizon still to run (the
    /// horizon T at t = 0, T·(1 − t) at t), USD: today's equity, the linear P&L and the options
    /// repriced, E = E₀ + c_a + Σ_b w_ab·S_b + Σ_legs q·(V(S, iv·volFactor, τ + years) − V₀), τ the leg's
    /// time to expiry left after the horizon and iv twisted by the asset's `twist` where it has one
    /// (`OptionLeg.value`). `assets`: ascending, every asset with w_ab ≠ 0 (others add nothing). Used by
    /// the cascades (`CascadePath`, `StressCascade`).
    func equity(account a: Int, assets: some Sequence<Int>, spot: (Int) -> Double, years: Double,
                twist: (Int) -> (skew: Double, term: Double)?, volFactor: (Int) -> Double) -> Double {
        let n = book.assetCount
        var equity = book.equityNow[a] + book.linearConstants[a]
        for b in assets { equity += book.linearWeights[a * n + b] * spot(b) }
        for leg in book.options(ofAccount: a) {
            let value = leg.value(spot: spot(leg.asset), volFactor: volFactor(leg.asset), twist: twist(leg.asset), years: leg.remainingYears + years, rate: book.rate)
            equity += leg.quantity * (value - leg.valueNow)
        }
        return equity
    }

    /// The waterfall of a chunk whose book `buffers.revaluer` has already revalued on
    /// `paths.horizon` (waterfalls of the same book and market share one revaluation): the
    /// liquidation process settles every account.
    func settle(_ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        process.settle(self, paths, count: m, buffers)
    }
}

/// The moves of the waterfall for a chunk: the horizon move and the draws of the liquidation process
/// (`.independentMove`: the standardized shocks of the move over the liquidation period, from the
/// liquidation streams; `.bridge`: the paths inside the horizon).
final class WaterfallPaths {
    let horizon: ShockBuffers
    let liquidation: ShockBuffers?
    let bridge: BridgeBuffers?
    /// Under importance sampling, each path's likelihood ratio: the horizon move's times the
    /// liquidation move's (`WaterfallShocks.generate`); nil for plain draws.
    private(set) var weights: UnsafeMutablePointer<Double>?
    private let weightStorage: UnsafeMutablePointer<Double>

    init(assetCount: Int, capacity: Int, draws: LiquidationDraws) {
        weightStorage = .allocate(capacity: capacity)
        horizon = ShockBuffers(assetCount: assetCount, capacity: capacity)
        switch draws {
        case .independentMove:
            liquidation = ShockBuffers(assetCount: assetCount, capacity: capacity)
            bridge = nil
        case .bridge:
            liquidation = nil
            bridge = BridgeBuffers(assetCount: assetCount, capacity: capacity)
        }
    }

    deinit { weightStorage.deallocate() }

    /// Sets `weights` from the chunk's draws: w_j = w_j(horizon)·w_j(liquidation) where weighted.
    fileprivate func combineWeights(count m: Int) {
        guard horizon.isWeighted || liquidation?.isWeighted == true else { weights = nil; return }
        for j in 0..<m {
            let h = horizon.isWeighted ? horizon.importanceWeights[j] : 1
            weightStorage[j] = liquidation?.isWeighted == true ? h * liquidation!.importanceWeights[j] : h
        }
        weights = weightStorage
    }
}

/// Generates the horizon move of each path and the draws its liquidation process reads.
struct WaterfallShocks: PathGenerator {
    let model: MarketModel
    let draws: LiquidationDraws
    init(waterfall: Waterfall) {
        model = waterfall.model
        draws = waterfall.process.draws
    }
    func makePaths(capacity: Int) -> WaterfallPaths { WaterfallPaths(assetCount: model.assetCount, capacity: capacity, draws: draws) }
    func generate(_ paths: Range<Int>, into buffer: WaterfallPaths) {
        model.generate(firstPath: paths.lowerBound, count: paths.count, into: buffer.horizon)
        switch draws {
        case .independentMove:
            model.generateStandardized(firstPath: paths.lowerBound, count: paths.count, into: buffer.liquidation!, draw: .liquidation)
        case .bridge:
            model.generateBridge(firstPath: paths.lowerBound, count: paths.count, horizon: buffer.horizon, into: buffer.bridge!)
        }
        buffer.combineWeights(count: paths.count)
    }
}

/// One worker's storage for the waterfall of a chunk, one block of accounts at a time: the outcome
/// rows of the accounts `accounts` (at most `accountsPerBlock`), account a's row at
/// (a − accounts.lowerBound)·capacity + j for path j of the chunk (`row(account:)`). Memory is
/// O(accountsPerBlock × capacity), whatever the book's size.
final class WaterfallBuffers {
    let capacity: Int
    let accountsPerBlock: Int
    let revaluer: Revaluer
    /// The accounts whose rows the buffers hold (`revalue(_:accounts:)`).
    private(set) var accounts: Range<Int> = 0..<0
    /// Horizon loss (the revaluer's own rows, `Revaluer.lossRow`, which share this layout),
    /// liquidation flag, E2 (E1 when not liquidated) and liquidated notional Σ n_i. `notional`,
    /// `recovered` and `breachHours` are read only where `liquidated` is set.
    let loss: UnsafeMutablePointer<Double>
    let liquidated: UnsafeMutablePointer<Bool>
    /// Liquidated, and e1 + P&L(S' → S'') ≥ the requirement at S'' (an unnecessary liquidation);
    /// false while `checksRecovery` is off.
    let recovered: UnsafeMutablePointer<Bool>
    /// Whether liquidations check recovery (`recovered`): the requirement at S'' per liquidation.
    /// Only an evaluation reports unnecessary liquidations; calibrate's passes turn it off
    /// (`CellTotals.addBlock`), which changes no number they report.
    var checksRecovery = true
    let finalEquity: UnsafeMutablePointer<Double>
    let notional: UnsafeMutablePointer<Double>
    /// When a liquidated account was liquidated, hours from now.
    let breachHours: UnsafeMutablePointer<Double>
    /// The path-wise process's scratch (nil for `HorizonLiquidation`).
    let monitoring: MonitoringBuffers?
    /// One account's maintenance requirement along the chunk, and one position's notional and rate.
    let requirement: UnsafeMutablePointer<Double>
    let positionNotional: UnsafeMutablePointer<Double>
    let positionRate: UnsafeMutablePointer<Double>
    /// Per asset: the liquidated account's gross notional, S'' and h_liq (years).
    let grossNotional: UnsafeMutablePointer<Double>
    let movedSpot: UnsafeMutablePointer<Double>
    let liquidationYears: UnsafeMutablePointer<Double>
    /// The risk array's rows across the chunk (`RiskArray.maintenance(account:around:count:rows:into:)`),
    /// made on first use: only a waterfall under `policy.portfolio_margin` reads them.
    private(set) lazy var riskArrayRows = RiskArrayRows(capacity: capacity)
    /// The chunk state of each cascade process that settled here (`CascadeLiquidation`), by its identity.
    var cascades: [ObjectIdentifier: CascadeChunk] = [:]
    /// Per cell c of the job and path j of the chunk: the deficit Σ_a max(−E2, 0) at 2c·capacity + j
    /// and the penalty income Σ_a min(π·N, E2⁺) at (2c + 1)·capacity + j, summed block by block
    /// in account order (`FundTotals`).
    let pathSums: UnsafeMutablePointer<Double>

    /// Accounts settled at a time for a chunk of `capacity` paths: about 512 KiB of losses, a
    /// multiple of 64 accounts.
    static func accountsPerBlock(capacity: Int) -> Int { max(1, 65_536 / max(capacity, 1) / 64) * 64 }

    init(waterfall: Waterfall, capacity: Int, cells: Int) {
        self.capacity = capacity
        let n = waterfall.model.assetCount
        accountsPerBlock = min(Self.accountsPerBlock(capacity: capacity), max(waterfall.book.accountCount, 1))
        let size = accountsPerBlock * capacity
        revaluer = Revaluer(book: waterfall.book, capacity: capacity, accountsPerBlock: accountsPerBlock)
        loss = revaluer.losses
        liquidated = .allocate(capacity: size)
        recovered = .allocate(capacity: size)
        finalEquity = .allocate(capacity: size)
        notional = .allocate(capacity: size)
        breachHours = .allocate(capacity: size)
        if case .bridge(let steps) = waterfall.process.draws {
            monitoring = MonitoringBuffers(assetCount: n, capacity: capacity, steps: steps)
        } else {
            monitoring = nil
        }
        requirement = .allocate(capacity: capacity)
        positionNotional = .allocate(capacity: capacity)
        positionRate = .allocate(capacity: capacity)
        pathSums = .allocate(capacity: 2 * cells * capacity)
        grossNotional = .allocate(capacity: n)
        movedSpot = .allocate(capacity: n)
        liquidationYears = .allocate(capacity: n)
    }

    /// The offset of account a's rows (a in `accounts`).
    @inline(__always) func row(account a: Int) -> Int { (a - accounts.lowerBound) * capacity }

    /// The first path j in `from ..< to` at which the row at `r` (`row(account:)`) is liquidated;
    /// `to` where none is (`FlagScan`).
    @inline(__always) func nextLiquidated(row r: Int, from start: Int, to end: Int) -> Int {
        FlagScan.next(liquidated + r, from: start, to: end)
    }

    /// Revalues the accounts `block` (at most `accountsPerBlock`) on the chunk's horizon, whose
    /// `revaluer.beginChunk` has run: their rows are the buffers' until the next block.
    func revalue(_ shocks: ShockBuffers, accounts block: Range<Int>) {
        revaluer.revalue(shocks, accounts: block)
        accounts = block
    }

    deinit {
        for row in [finalEquity, notional, breachHours, requirement, positionNotional, positionRate, pathSums, grossNotional, movedSpot,
                    liquidationYears] {
            row.deallocate()
        }
        liquidated.deallocate()
        recovered.deallocate()
    }
}

/// One worker's scratch of `PathwiseLiquidation` for a chunk: per asset and path (rows of
/// `capacity`) the path's minimum and maximum and the barrier shift; the grid's inner points; one
/// account's breach state per asset and surplus per grid point.
final class MonitoringBuffers {
    let minimum: UnsafeMutablePointer<Double>
    let maximum: UnsafeMutablePointer<Double>
    let shift: UnsafeMutablePointer<Double>
    /// Whether the check grid sets the breach time (`MonitoringRule.shift`).
    let onGrid: UnsafeMutablePointer<Bool>
    /// Per asset, the lowest and highest horizon spot over the chunk's paths, NaNs left out (+∞ and
    /// −∞ if all are): `RequirementRows.fill` skips the tier selects no path needs.
    let lowestSpot: UnsafeMutablePointer<Double>
    let highestSpot: UnsafeMutablePointer<Double>
    var spotRange: (lowest: UnsafePointer<Double>, highest: UnsafePointer<Double>) { (UnsafePointer(lowestSpot), UnsafePointer(highestSpot)) }
    /// (steps − 1) × assets rows of grid points (`MarketModel.bridgePoints`), whether path j's are
    /// drawn, and 2n doubles of scratch.
    let gridPoints: UnsafeMutablePointer<Double>
    let gridReady: UnsafeMutablePointer<Bool>
    let gridScratch: UnsafeMutablePointer<Double>

    /// Standardized log-move and spot (USD) of each asset where the account is closed.
    let breachX: UnsafeMutablePointer<Double>
    let breachSpot: UnsafeMutablePointer<Double>
    /// f_k = E − M at grid point k = 0 … steps.
    let surplus: UnsafeMutablePointer<Double>
    /// One account's crossing exponent per path of the chunk, and the paths within reach of a breach
    /// with their crossing uniforms (`SurplusBridge`).
    let crossingExponent: UnsafeMutablePointer<Double>
    let crossingPaths: UnsafeMutablePointer<Int32>
    /// Per path of the chunk, 1 where a one-asset account's liquidation price is reached, else 0.
    let reached: UnsafeMutablePointer<UInt8>
    let crossingUniform: UnsafeMutablePointer<Double>

    /// What the per-asset rows (extremes, shifts) and the drawn grid points were computed for: the
    /// blocks of accounts of one chunk under one rule share them (nil: none yet).
    struct Chunk: Equatable {
        let firstPath: Int
        let count: Int
        let rule: MonitoringRule
        let gridSteps: Int
    }
    var prepared: Chunk?
    /// Where the liquidations of a chunk are collected for a cascade (`CascadeLiquidation`); nil: not.
    var record: BreachRecord?

    init(assetCount n: Int, capacity: Int, steps: Int) {
        minimum = .allocate(capacity: n * capacity)
        maximum = .allocate(capacity: n * capacity)
        shift = .allocate(capacity: n * capacity)
        onGrid = .allocate(capacity: n * capacity)
        lowestSpot = .allocate(capacity: n)
        highestSpot = .allocate(capacity: n)
        gridPoints = .allocate(capacity: max(0, steps - 1) * n * capacity)
        gridReady = .allocate(capacity: capacity)
        gridScratch = .allocate(capacity: 2 * n)
        breachX = .allocate(capacity: n)
        breachSpot = .allocate(capacity: n)
        surplus = .allocate(capacity: steps + 1)
        crossingExponent = .allocate(capacity: capacity)
        crossingPaths = .allocate(capacity: capacity)
        reached = .allocate(capacity: capacity)
        crossingUniform = .allocate(capacity: capacity)
    }

    deinit {
        for row in [minimum, maximum, shift, lowestSpot, highestSpot, gridPoints, gridScratch, breachX, breachSpot, surplus, crossingExponent, crossingUniform] {
            row.deallocate()
        }
        onGrid.deallocate()
        crossingPaths.deallocate()
        reached.deallocate()
        gridReady.deallocate()
    }
}
