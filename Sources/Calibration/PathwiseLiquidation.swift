import Foundation
import Revaluation
import ScenarioSpec
import Shocks

/// Liquidation the moment margin is breached inside the horizon (issue 29; README, "Monitoring").
/// Each asset's path inside the horizon is the Brownian bridge of `BridgeBuffers` from today to the
/// horizon's shock at the path's own scale s, so the horizon's marginal is the tail model's.
///
/// - One-asset accounts (`MonitoredAccount.oneAsset`) have liquidation prices L < S < U. Per path
///   and asset the bridge's minimum m and maximum M are drawn from their exact laws
///   (`BridgeExtremes`: P(m ≤ b) = exp(−2b(b − c)/s²) in units of σ√T), once for every account on
///   that asset; an account is breached when m ≤ log(L/S)/(σ√T) − shift (or M ≥ … + shift; the
///   shift of `MonitoringRule`). Its breach time is drawn exactly from the bridge's first-passage
///   law (`BridgeExtremes.firstPassageTime`: a normal and a uniform per path, asset and side,
///   shared by the accounts there), and the account is closed then at its (shifted) liquidation
///   price. Per-path work beyond today's: two compares per account, O(1) per liquidation. The
///   minimum and maximum are drawn independently (each exact; an account with both prices within
///   reach of one path's range is the only case their joint law would matter).
/// - Accounts with several assets and no options (`.linear`): their surplus as a Brownian bridge
///   (`SurplusBridge`); accounts with options (`.grid`) are checked on a grid (`GridMonitoring`).
/// - Accounts below maintenance today are liquidated at t = 0 on every path.
///
/// The liquidation period starts at the breach time t₀: gross notional, slippage and h_liq at the
/// breach spots; the path goes on as the bridge from the breach point to the horizon's shock, and
/// past the horizon as a Brownian motion at scale s (`BridgeExtremes.continuation`), driven by the
/// correlated normals ζ of the bridge draws; options are repriced with the horizon's implied-vol
/// multiplier and their time to expiry at t₀; under `tails.cap` C the move from the breach point over
/// h_liq, in units of σ√h_liq, is clamped to [−C, C] as the horizon's ε is (so that every moment of
/// the deficit exists). E2 = E(breach) + P&L(breach → S'') − slippage;
/// `recovered`: E(breach) + P&L ≥ the requirement at S''.
struct PathwiseLiquidation: LiquidationProcess {
    let accounts: [MonitoredAccount]
    /// Account a's liquidation prices as standardized log-moves log(L/S)/(σ√T), −∞/+∞ where none.
    let lowerLevel: [Double]
    let upperLevel: [Double]
    /// The assets account a's equity or requirement depends on.
    let assetsOf: [[Int]]
    let rule: MonitoringRule
    let horizonYears: Double
    /// Grid points of `GridMonitoring` (0: no account needs the grid).
    let gridSteps: Int
    /// What `SurplusBridge` and the grid know of each `.linear` and `.grid` account (nil for the others).
    let gridAccounts: [GridAccount?]

    var draws: LiquidationDraws { .bridge(steps: gridSteps) }

    init(waterfall w: Waterfall, monitoring: LiquidationMonitoring, horizonDays: Double) {
        rule = MonitoringRule(monitoring, horizonHours: horizonDays * 24)
        horizonYears = horizonDays / 365
        accounts = (0..<w.book.accountCount).map { MonitoredAccount(account: $0, waterfall: w) }
        var lower: [Double] = [], upper: [Double] = []
        for account in accounts {
            guard case .oneAsset(let prices) = account, w.model.returnScales[prices.asset] > 0 else {
                lower.append(-.infinity); upper.append(.infinity); continue
            }
            let i = prices.asset, scale = w.model.returnScales[i], spot = w.model.spots[i]
            lower.append(prices.lower.map { log($0 / spot) / scale } ?? -.infinity)
            upper.append(prices.upper.map { log($0 / spot) / scale } ?? .infinity)
        }
        (lowerLevel, upperLevel) = (lower, upper)
        let positionAssets = w.positions.map { $0.map(\.asset) }
        assetsOf = (0..<w.book.accountCount).map { Self.assets(account: $0, book: w.book, positionAssets: positionAssets[$0]) }
        gridSteps = Self.needsGrid(book: w.book) ? rule.gridSteps : 0
        var grid: [GridAccount?] = []
        for (a, account) in accounts.enumerated() {
            if account.isSurplusMonitored { grid.append(GridAccount(account: a, waterfall: w, assets: assetsOf[a], horizonYears: horizonYears)) } else { grid.append(nil) }
        }
        gridAccounts = grid
    }

    /// The assets account a's equity or requirement depends on: its positions', its non-zero linear
    /// weights' (coin collateral) and its options'.
    static func assets(account a: Int, book: Book, positionAssets: [Int]) -> [Int] {
        let n = book.assetCount
        var assets = Set(positionAssets)
        for i in 0..<n where book.linearWeights[a * n + i] != 0 { assets.insert(i) }
        for leg in book.options(ofAccount: a) { assets.insert(leg.asset) }
        return assets.sorted()
    }

    /// Whether an account has options — by the book's shape alone, not by who is in breach today,
    /// so the waterfalls of every schedule draw alike.
    static func needsGrid(book: Book) -> Bool {
        (0..<book.accountCount).contains { !book.options(ofAccount: $0).isEmpty }
    }

    func settle(_ w: Waterfall, _ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
        let book = w.book, ld = buffers.capacity, n = w.model.assetCount
        let bridge = paths.bridge!, scratch = buffers.monitoring!, eps = paths.horizon.epsilon
        // The extremes and the barrier shift of every asset and path, shared by the accounts: once
        // per chunk and rule, whatever the number of blocks of accounts (cells of one market share
        // the chunk; a cell of another rule prepares it again).
        let chunk = MonitoringBuffers.Chunk(firstPath: paths.horizon.firstPath, count: m, rule: rule, gridSteps: gridSteps)
        if scratch.prepared != chunk {
            for i in 0..<n {
                let scale = w.model.returnScales[i], low = bridge.uniforms + 4 * i * ld, high = low + ld
                for j in 0..<m {
                    let k = i * ld + j, s = bridge.scale[j], c = eps[k] / s
                    scratch.minimum[k] = s * BridgeExtremes.minimum(end: c, uniform: low[j])
                    scratch.maximum[k] = s * BridgeExtremes.maximum(end: c, uniform: high[j])
                    (scratch.shift[k], scratch.onGrid[k]) = rule.shift(returnScale: scale, pathScale: s)
                }
                (scratch.lowestSpot[i], scratch.highestSpot[i]) = RequirementRows.extremes(paths.horizon.spot + i * ld, count: m)
            }
            scratch.gridReady.update(repeating: false, count: m)
            scratch.prepared = chunk
        }
        for a in buffers.accounts {
            let equity = book.equityNow[a]
            Self.beginRows(account: a, equity: equity, count: m, buffers)
            switch accounts[a] {
            case .inBreach:
                let closing = closing(account: a, w, paths, buffers)
                for b in closing.assets { scratch.breachX[b] = 0; scratch.breachSpot[b] = w.model.spots[b] }
                if closing.options.isEmpty {
                    closeToday(w, closing, equity: equity, count: m, paths, buffers)
                } else {
                    for j in 0..<m { close(w, closing, path: j, at: 0, equity: equity, paths, buffers) }
                }
            case .oneAsset(let prices):
                settle(w, account: a, prices: prices, count: m, paths, buffers)
            case .linear:
                SurplusBridge.settle(self, w, account: a, count: m, paths, buffers)
            case .grid:
                GridMonitoring.settle(self, w, account: a, count: m, paths, buffers)
            }
        }
    }

    /// Account a's rows before its liquidations: E1 = equity now − the horizon loss, and not
    /// liquidated (the rows only a liquidation sets are written by it).
    private static func beginRows(account a: Int, equity: Double, count m: Int, _ buffers: WaterfallBuffers) {
        let losses = buffers.loss + buffers.row(account: a), finalEquity = buffers.finalEquity + buffers.row(account: a)
        for j in 0..<m { finalEquity[j] = equity - losses[j] }
        (buffers.liquidated + buffers.row(account: a)).update(repeating: false, count: m)
    }

    /// A one-asset account over the chunk: breached where the path's extreme passes its shifted
    /// liquidation price.
    private func settle(_ w: Waterfall, account a: Int, prices: LiquidationPrices, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let i = prices.asset, ld = buffers.capacity, lower = lowerLevel[a], upper = upperLevel[a]
        guard lower > -.infinity || upper < .infinity else { return }
        let bridge = paths.bridge!, scratch = buffers.monitoring!, eps = paths.horizon.epsilon
        let lowTimes = bridge.uniforms + (4 * i + 2) * ld, highTimes = lowTimes + ld
        let lowNormals = bridge.normals + (bridge.assetCount + 2 * i) * ld, highNormals = lowNormals + ld
        let spot = w.model.spots[i], scale = w.model.returnScales[i], equity = w.book.equityNow[a]
        let closing = closing(account: a, w, paths, buffers)
        let minimum = scratch.minimum + i * ld, maximum = scratch.maximum + i * ld, shifts = scratch.shift + i * ld
        // The paths that reach a price, flagged without branches, then visited in order.
        let reached = scratch.reached
        for j in 0..<m { reached[j] = FlagScan.flag(minimum[j] <= lower - shifts[j]) | FlagScan.flag(maximum[j] >= upper + shifts[j]) }
        var next = FlagScan.next(reached, from: 0, to: m)
        while next < m {
            let j = next, k = i * ld + j, shift = shifts[j]
            next = FlagScan.next(reached, from: j + 1, to: m)
            let hitsLow = minimum[j] <= lower - shift, hitsHigh = maximum[j] >= upper + shift
            let s = bridge.scale[j], c = eps[k] / s
            var tau = Double.infinity, level = 0.0
            if hitsLow { (tau, level) = (BridgeExtremes.firstPassageTime(level: (lower - shift) / s, end: c, normal: lowNormals[j], uniform: lowTimes[j]), lower - shift) }
            if hitsHigh {
                let t = BridgeExtremes.firstPassageTime(level: -(upper + shift) / s, end: -c, normal: highNormals[j], uniform: highTimes[j])
                if t < tau { (tau, level) = (t, upper + shift) }
            }
            scratch.breachX[i] = level
            scratch.breachSpot[i] = spot * exp(scale * level)
            close(w, closing, path: j, at: rule.breachTime(tau, onGrid: scratch.onGrid[k]),
                  equity: prices.equity(equity, spot: scratch.breachSpot[i]), paths, buffers)
        }
    }

    /// What `close` reads of one account, gathered once per account and chunk rather than per
    /// liquidation.
    struct AccountClose {
        let account: Int
        /// Its assets (`assetsOf`), positions and options.
        let assets: [Int]
        let positions: [MarginedPosition]
        let options: ArraySlice<OptionLeg>
        let bridge: BridgeBuffers
        let scratch: MonitoringBuffers
    }

    func closing(account a: Int, _ w: Waterfall, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) -> AccountClose {
        AccountClose(account: a, assets: assetsOf[a], positions: w.positions[a], options: w.book.options(ofAccount: a), bridge: paths.bridge!,
                     scratch: buffers.monitoring!)
    }

    /// Closes the account on path j at time t₀ (horizon units) from the breach state in
    /// `buffers.monitoring` (breachX, breachSpot of its assets) with equity `e` there, writes its rows
    /// and hands the breach to the chunk's `BreachRecord`, if any (cascades).
    func close(_ w: Waterfall, _ account: AccountClose, path j: Int, at t0: Double, equity e: Double, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        record(closeOutcome(w, account, path: j, at: t0, equity: e, paths, buffers), account, path: j, at: t0, equity: e, buffers)
    }

    /// `close` on every path of the chunk for an account without options that is below maintenance
    /// today (t₀ = 0 at today's spots, which `breachX`/`breachSpot` hold): what does not depend on
    /// the path — the gross notional, slippage and h_liq per asset, the continuation's deviation
    /// and the cap's limit — once, then each path's move. The operations of `closeOutcome`, in its
    /// order: the same bits.
    private func closeToday(_ w: Waterfall, _ account: AccountClose, equity e: Double, count m: Int, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers) {
        let a = account.account, ld = buffers.capacity, n = w.model.assetCount
        let eps = paths.horizon.epsilon, bridge = account.bridge, spots = account.scratch.breachSpot
        let (total, slippage) = closedNotional(w, account, buffers)
        // Per asset b: move = h_liq/T, the continuation's deviation from today, the cap's limit.
        let moves = account.assets.map { b in closingYears(w, asset: b, buffers) / horizonYears }
        let deviations = moves.map { BridgeExtremes.continuation(from: 0, at: 0, move: $0, end: 0).deviation }
        let limits = moves.map { Self.capLimit(w, move: $0) }
        let movedSpot = buffers.movedSpot, breachX = 0.0, t0 = 0.0
        for j in 0..<m {
            let s = bridge.scale[j]
            var profit = 0.0
            for (q, b) in account.assets.enumerated() {
                let mean = BridgeExtremes.continuation(from: breachX / s, at: t0, move: moves[q], end: eps[b * ld + j] / s).mean
                let x = Self.closeMove(s * (mean + deviations[q] * bridge.normals[b * ld + j]), from: breachX, limit: limits[q])
                movedSpot[b] = w.model.spots[b] * exp(w.model.returnScales[b] * x)
                profit += w.book.linearWeights[a * n + b] * (movedSpot[b] - spots[b])
            }
            record(outcome(w, account, at: t0, equity: e, profit: profit, total: total, slippage: slippage, buffers), account, path: j, at: t0, equity: e, buffers)
        }
    }

    /// Writes a liquidation's rows and hands it to the chunk's `BreachRecord`, if any (cascades).
    @inline(__always)
    private func record(_ outcome: LiquidationOutcome, _ account: AccountClose, path j: Int, at t0: Double, equity e: Double, _ buffers: WaterfallBuffers) {
        let k = buffers.row(account: account.account) + j
        buffers.liquidated[k] = true
        buffers.breachHours[k] = outcome.breachHours
        buffers.finalEquity[k] = outcome.finalEquity
        buffers.notional[k] = outcome.notional
        buffers.recovered[k] = outcome.recovered
        account.scratch.record?.add(account: account.account, path: j, at: t0, equity: e, assets: account.assets, breachX: account.scratch.breachX, outcome: outcome)
    }

    /// What closing the account on path j at t₀ leaves: the gross notional at the breach spots,
    /// slippage, h_liq and the further move from the breach point (`BridgeExtremes.continuation`), the
    /// moved spots S''_b times exp(`lasting[b]`) where given (the lasting impact of a cascade on each
    /// asset's log-price; nil: none).
    func closeOutcome(_ w: Waterfall, _ account: AccountClose, path j: Int, at t0: Double, equity e: Double, _ paths: WaterfallPaths, _ buffers: WaterfallBuffers,
                      lasting: UnsafePointer<Double>? = nil) -> LiquidationOutcome {
        let a = account.account, ld = buffers.capacity, n = w.model.assetCount
        let bridge = account.bridge, eps = paths.horizon.epsilon, s = bridge.scale[j]
        let breachX = account.scratch.breachX, breachSpot = account.scratch.breachSpot
        let movedSpot = buffers.movedSpot, liquidationYears = buffers.liquidationYears
        let (total, slippage) = closedNotional(w, account, buffers)
        var profit = 0.0
        for b in account.assets {
            let years = closingYears(w, asset: b, buffers), move = years / horizonYears
            let path = BridgeExtremes.continuation(from: breachX[b] / s, at: t0, move: move, end: eps[b * ld + j] / s)
            let x = Self.closeMove(s * (path.mean + path.deviation * bridge.normals[b * ld + j]), from: breachX[b], limit: Self.capLimit(w, move: move))
            movedSpot[b] = w.model.spots[b] * exp(w.model.returnScales[b] * x)
            if let lasting { movedSpot[b] *= exp(lasting[b]) }
            liquidationYears[b] = years
            profit += w.book.linearWeights[a * n + b] * (movedSpot[b] - breachSpot[b])
        }
        for leg in account.options {
            let volFactor = paths.horizon.volFactor[leg.asset * ld + j], twist = paths.horizon.smileTwist(asset: leg.asset, path: j)
            let years = leg.remainingYears + horizonYears * (1 - t0)
            let before = leg.value(spot: breachSpot[leg.asset], volFactor: volFactor, twist: twist, years: years, rate: w.book.rate)
            let after = leg.value(spot: movedSpot[leg.asset], volFactor: volFactor, twist: twist, years: years - liquidationYears[leg.asset], rate: w.book.rate)
            profit += leg.quantity * (after - before)
        }
        return outcome(w, account, at: t0, equity: e, profit: profit, total: total, slippage: slippage, buffers)
    }

    /// The account's gross notional per asset at the breach spots (into `buffers.grossNotional`), and
    /// its total and slippage, USD.
    @inline(__always)
    private func closedNotional(_ w: Waterfall, _ account: AccountClose, _ buffers: WaterfallBuffers) -> (total: Double, slippage: Double) {
        let grossNotional = buffers.grossNotional, breachSpot = account.scratch.breachSpot
        for b in account.assets { grossNotional[b] = 0 }
        var slippage = 0.0, total = 0.0
        for position in account.positions {
            let notional = position.notional(spot: breachSpot[position.asset])
            grossNotional[position.asset] += notional
            total += notional
            slippage += (w.costs[position.asset]?.rate(notional: notional) ?? 0) * notional
        }
        return (total, slippage)
    }

    /// h_liq of asset b (years) for the gross notional `closedNotional` left there; 0 without depth.
    @inline(__always)
    private func closingYears(_ w: Waterfall, asset b: Int, _ buffers: WaterfallBuffers) -> Double {
        w.costs[b]?.horizonYears(notional: buffers.grossNotional[b]) ?? 0
    }

    /// Under `tails.cap` C, how far the move over the liquidation period (a `move` of the horizon)
    /// may go from the breach point in standardized units: C·√move, as ε is capped; nil: no cap.
    @inline(__always)
    private static func capLimit(_ w: Waterfall, move: Double) -> Double? { w.model.shockCap.map { $0 * move.squareRoot() } }

    /// The standardized log-move x at the close's end, clamped to breachX ± `limit` (`capLimit`).
    @inline(__always)
    private static func closeMove(_ x: Double, from breachX: Double, limit: Double?) -> Double {
        guard let limit else { return x }
        return breachX + min(max(x - breachX, -limit), limit)
    }

    /// The close's outcome from the profit over the liquidation period at `buffers.movedSpot`: E2 =
    /// e + profit − slippage, and (when `buffers.checksRecovery`) whether e + profit meets the
    /// requirement there.
    @inline(__always)
    private func outcome(_ w: Waterfall, _ account: AccountClose, at t0: Double, equity e: Double, profit: Double, total: Double, slippage: Double,
                         _ buffers: WaterfallBuffers) -> LiquidationOutcome {
        let movedSpot = buffers.movedSpot
        return LiquidationOutcome(finalEquity: e + profit - slippage, notional: total,
                                  recovered: buffers.checksRecovery && e + profit >= w.requirementRows.requirement(account: account.account) { movedSpot[$0] },
                                  breachHours: t0 * horizonYears * 365 * 24)
    }
}

/// One liquidation's result (`LiquidationProcess`'s rows): E2, the gross notional closed, whether the
/// account would have recovered unaided, and when it was liquidated, hours from now.
struct LiquidationOutcome: Sendable {
    var finalEquity: Double
    var notional: Double
    var recovered: Bool
    var breachHours: Double
}
