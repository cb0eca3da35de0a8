import Foundation
import HeapModule
import Revaluation
import ScenarioSpec

/// Runs the cascades of one chunk, path by path in time order (`CascadeLiquidation`). At each
/// instant t_k = k/K (horizon units, K = `CascadeSpec.steps`):
/// 1. the exogenous liquidations of (t_{k−1}, t_k] (`BreachRecord`, by time then account) of accounts
///    still open are closed at their breach time, at their breach spots moved by the impact so far
///    (equity moved by the same P&L; the recorded outcome itself where none of its assets moved);
/// 2. the flows of the instant are executed (`CascadeMarket.execute`): one round;
/// 3. while prices carry impact, every open account with a moved asset is checked at the instant's
///    prices, S_b = S_b,0·exp(σ_b√T·X_b(t_k) + I_b): it is liquidated at t_k (endogenous) when its
///    surplus E − M is below 0 there and not below 0 at the exogenous prices (an account already below
///    at the exogenous grid point is the exogenous process's); their flows make the next round, until
///    a round finds none.
/// X_b(t_k) is the bridge at the cascade's grid (`MarketModel.bridgePoints` with K steps, drawn on
/// the first instant a path needs it; X_b(1) = ε_b). Each liquidation is booked with the fund
/// (`FundLedger`) in that order; what it cannot pay is auto-deleveraged at the end of the instant,
/// at the instant's prices (`deleverage`).
///
/// Rounds without checking every account each time: the first check of an instant visits every open
/// account and bounds how far each is from breach. With D = Σ_b |w_ab|·S_b + M its exposure, f moves
/// by at most D·expm1(δ) while no log-price moves by more than δ, tier steps aside (`CascadeBook`:
/// `steps` covers them within a reach of `nearShare`); an account with (f − steps)/D = ρ < `nearShare`
/// is kept in a heap under the key δ₀ + log1p(ρ), δ₀ the prices' total variation (Σ over rounds of the
/// largest |ΔI_b|) at its check. A later round re-checks only the accounts whose key the total
/// variation has reached, and every account again once the total variation since the first check
/// passes log1p(`nearShare`). Any `nearShare` finds the same accounts; it only trades a full check
/// against the heap's size.
struct CascadePath {
    let process: CascadeLiquidation
    let w: Waterfall
    let paths: WaterfallPaths
    let buffers: WaterfallBuffers
    let chunk: CascadeChunk
    var market: CascadeMarket
    var ledger: FundLedger
    /// Path stamp of each account's liquidation (liquidated on the current path when equal to `stamp`).
    var liquidatedOn: [Int]
    var stamp = 0
    /// The bridge at the cascade grid for the current path, (K − 1) × assets, and whether it is drawn.
    var grid: [Double]
    var gridReady = false
    /// The instant's exogenous log-moves log(S/S₀) and prices with impact, per asset.
    var exogenousLog: [Double]
    var spotNow: [Double]
    /// Per account, for auto-deleveraging at the instant's prices: unrealized profit, and rank
    /// (profit × effective leverage).
    var profit: [Double]
    var rank: [Double]
    /// The shortfalls of the instant: per asset and side of the bankrupt positions (0: long, 1:
    /// short), USD, split over a bankrupt account's positions by notional; and their sum.
    var shortfall: [[Double]]
    var instantShortfall = 0.0
    /// The accounts the rounds may still breach, by the total variation at which they may; the
    /// prices' total variation since the instant's full check.
    var near = Heap<Watch>()
    var variation = 0.0
    /// Liquidations of the chunk in the order they happened: account, path, outcome.
    var closed: [(account: Int, path: Int, outcome: LiquidationOutcome)] = []

    init(process: CascadeLiquidation, waterfall: Waterfall, paths: WaterfallPaths, buffers: WaterfallBuffers, chunk: CascadeChunk) {
        self.process = process
        w = waterfall
        self.paths = paths
        self.buffers = buffers
        self.chunk = chunk
        let accounts = waterfall.book.accountCount, n = waterfall.model.assetCount
        market = CascadeMarket(depth: process.marketDepth, impactScale: process.impactScale, spots: waterfall.model.spots, spec: process.spec)
        ledger = FundLedger(fund: process.fund, accounts: accounts)
        liquidatedOn = Array(repeating: -1, count: accounts)
        grid = Array(repeating: 0, count: max(0, process.spec.steps - 1) * n)
        exogenousLog = Array(repeating: 0, count: n)
        spotNow = Array(repeating: 0, count: n)
        profit = Array(repeating: 0, count: accounts)
        rank = profit
        shortfall = Array(repeating: [0, 0], count: n)
    }

    /// An account in the heap of the rounds: re-checked once the total variation reaches `key`.
    struct Watch: Comparable {
        let key: Double
        let account: Int
        static func < (x: Watch, y: Watch) -> Bool { x.key != y.key ? x.key < y.key : x.account < y.account }
    }

    /// The relative distance to breach, (f − tier steps)/D, within which the first check of an instant
    /// keeps an account (`CascadeLiquidation.nearShare`).
    var nearShare: Double { process.nearShare }

    private var assetsOf: [[Int]] { process.exogenous.assetsOf }

    /// Runs every path of the chunk from the exogenous liquidations `record`, and leaves the chunk's
    /// liquidations by account and its per-path statistics in `chunk`.
    mutating func runChunk(record: BreachRecord, count m: Int) {
        record.completeSpots(spots: w.model.spots, scales: w.model.returnScales, assetsOf: assetsOf)
        let order = record.account.indices.sorted {
            (record.path[$0], record.time[$0], record.account[$0]) < (record.path[$1], record.time[$1], record.account[$1])
        }
        chunk.haircuts = []
        var next = 0
        for j in 0..<m {
            var end = next
            while end < order.count, record.path[order[end]] == j { end += 1 }
            run(path: j, events: order[next..<end], record: record)
            next = end
        }
        // By account, paths ascending within each (a stable counting sort).
        let accounts = w.book.accountCount
        var start = Array(repeating: 0, count: accounts + 1)
        for entry in closed { start[entry.account + 1] += 1 }
        for a in 0..<accounts { start[a + 1] += start[a] }
        var slot = start
        var paths = Array(repeating: 0, count: closed.count)
        var outcomes = Array(repeating: LiquidationOutcome(finalEquity: 0, notional: 0, recovered: false, breachHours: 0), count: closed.count)
        for entry in closed.sorted(by: { ($0.account, $0.path) < ($1.account, $1.path) }) {
            paths[slot[entry.account]] = entry.path
            outcomes[slot[entry.account]] = entry.outcome
            slot[entry.account] += 1
        }
        (chunk.liquidationStart, chunk.liquidationPath, chunk.liquidations) = (start, paths, outcomes)
    }

    /// One path: its instants in order, then its statistics.
    private mutating func run(path j: Int, events: ArraySlice<Int>, record: BreachRecord) {
        let n = w.model.assetCount, ld = buffers.capacity, eps = paths.horizon.epsilon
        var outcome = CascadePathOutcome()
        if !events.isEmpty {
            stamp += 1
            market.reset()
            ledger.reset()
            gridReady = false
            let steps = process.spec.steps
            var e = events.startIndex
            for k in 1...steps {
                if k > 1 { market.nextInstant(hours: process.horizonHours / Double(steps)) }
                let tk = Double(k) / Double(steps)
                var rounds = 0
                while e < events.endIndex, record.time[events[e]] <= tk || k == steps {
                    if liquidatedOn[record.account[events[e]]] != stamp { closeExogenous(events[e], path: j, step: k, record: record, into: &outcome) }
                    e += 1
                }
                if execute(path: j, step: k) { rounds += 1 }
                var full = true
                while market.isMoved {
                    let breached = check(path: j, step: k, full: full)
                    guard !breached.isEmpty else { break }
                    for a in breached { closeEndogenous(a, path: j, step: k, into: &outcome) }
                    let before = (0..<n).map { market.impact($0) }
                    guard execute(path: j, step: k) else { break }
                    rounds += 1
                    variation += (0..<n).reduce(0.0) { max($0, abs(market.impact($1) - before[$1])) }
                    full = expm1(variation) >= nearShare
                }
                if instantShortfall > 0 { deleverage(path: j, step: k) }
                outcome.rounds = max(outcome.rounds, rounds)
            }
            outcome.deficit = ledger.deficit
            outcome.fundPaid = ledger.paid
            outcome.fundDrawdown = ledger.opening - ledger.lowest
            outcome.fundExhausted = ledger.exhausted
            for r in 0..<3 {
                outcome.deleveraged[r] = ledger.touched[r].reduce(0) { $0 + ledger.taken[r][$1] }
                outcome.deleveragedAccounts[r] = ledger.touched[r].count
                outcome.unfunded[r] = ledger.unfunded[r]
            }
            let rule = CascadeSpec.DeleveragingRule.allCases.firstIndex(of: process.spec.adl)!
            for a in ledger.touched[rule].sorted() { chunk.haircuts.append((a, ledger.taken[rule][a])) }
        }
        chunk.outcomes[j] = outcome
        chunk.fundDrawdown[j] = outcome.fundDrawdown
        chunk.liquidatedNotional[j] = outcome.liquidatedNotional
        for i in 0..<n {
            let fall = -w.model.returnScales[i] * eps[i * ld + j]
            chunk.exogenousFall[i * ld + j] = fall
            chunk.cascadedFall[i * ld + j] = events.isEmpty ? fall : fall - market.permanent[i]
        }
    }

    /// X_b(t_k)·σ_b√T for every asset: the instant's exogenous log-moves, and the prices with impact.
    private mutating func observe(path j: Int, step k: Int) {
        let n = w.model.assetCount, ld = buffers.capacity, steps = process.spec.steps, eps = paths.horizon.epsilon
        if k < steps, !gridReady {
            let scratch = buffers.monitoring!, model = w.model, path = paths.horizon.firstPath + j, scale = paths.bridge!.scale[j]
            grid.withUnsafeMutableBufferPointer { points in
                model.bridgePoints(path: path, steps: steps, scale: scale, end: { eps[$0 * ld + j] },
                                   into: points.baseAddress!, stride: 1, column: 0, scratch: scratch.gridScratch)
            }
            gridReady = true
        }
        for i in 0..<n {
            let x = k < steps ? grid[(k - 1) * n + i] : eps[i * ld + j]
            exogenousLog[i] = w.model.returnScales[i] * x
            spotNow[i] = w.model.spots[i] * exp(exogenousLog[i] + market.impact(i))
        }
    }

    /// Executes the pending flows at the instant; whether a price moved.
    private mutating func execute(path j: Int, step k: Int) -> Bool {
        guard market.flow.contains(where: { $0 != 0 }) else { return false }
        observe(path: j, step: k)
        let logs = exogenousLog
        return market.execute { logs[$0] }
    }

    /// E(S) of account a at the spots `spot` at time t (horizon units): today's equity, the linear
    /// P&L and the options repriced with their time to expiry at t and the path's vol multiplier.
    private func equity(account a: Int, spot: (Int) -> Double, at t: Double, path j: Int) -> Double {
        let volFactor = paths.horizon.volFactor, ld = buffers.capacity
        return w.equity(account: a, assets: assetsOf[a], spot: spot, years: process.exogenous.horizonYears * (1 - t)) { volFactor[$0 * ld + j] }
    }

    /// The surplus f = E − M of account a at `spot` and its exposure D = Σ_b |w_ab|·S_b + M (+ each
    /// option leg's |quantity|·S: a bound of its delta's P&L per unit log-move).
    private func surplus(account a: Int, spot: UnsafePointer<Double>, at t: Double, path j: Int) -> (f: Double, d: Double) {
        let cascadeBook = process.book
        guard cascadeBook.hasOptions[a] else { let s = cascadeBook.linearSurplus(account: a, spot: spot, reach: 0); return (s.f, s.d) }
        let book = w.book, n = book.assetCount
        var exposure = 0.0
        for b in assetsOf[a] { exposure += abs(book.linearWeights[a * n + b]) * spot[b] }
        for leg in book.options(ofAccount: a) { exposure += abs(leg.quantity) * spot[leg.asset] }
        let requirement = w.requirement(account: a) { spot[$0] }
        return (equity(account: a, spot: { spot[$0] }, at: t, path: j) - requirement, exposure + requirement)
    }

    /// The open accounts the impact alone puts below maintenance at t_k (below at the instant's
    /// prices, not below at the exogenous ones), ascending: `full`, every open account, rebuilding the
    /// heap; else the heap's accounts whose key the total variation has reached.
    private mutating func check(path j: Int, step k: Int, full: Bool) -> [Int] {
        observe(path: j, step: k)
        let t = Double(k) / Double(process.spec.steps), n = w.model.assetCount, cascadeBook = process.book, share = nearShare
        var exogenousSpot = [Double](repeating: 0, count: n)
        for i in 0..<n { exogenousSpot[i] = w.model.spots[i] * exp(exogenousLog[i]) }
        var below: [Int] = [], watch: [Watch] = []
        if full { variation = 0 }
        let reached = variation
        // Whether account a is below at the instant's prices; else keeps it under its key.
        func visit(_ a: Int, spot: UnsafePointer<Double>) -> Bool {
            if cascadeBook.hasOptions[a] {
                // Options: no linear bound; re-checked every round.
                guard surplus(account: a, spot: spot, at: t, path: j).f >= 0 else { return true }
                watch.append(Watch(key: reached, account: a))
                return false
            }
            let s = cascadeBook.linearSurplus(account: a, spot: spot, reach: share)
            guard s.f >= 0 else { return true }
            let ratio = (s.f - s.steps) / s.d
            if ratio < share { watch.append(Watch(key: reached + (ratio > -1 ? log1p(ratio) : -.infinity), account: a)) }
            return false
        }
        if full {
            near = Heap()
            let count = w.book.accountCount, stamp = stamp
            // Every open account: one whose assets have not moved yet may see them move in a later round.
            liquidatedOn.withUnsafeBufferPointer { liquidatedOn in
                spotNow.withUnsafeBufferPointer { spot in
                    for a in 0..<count where liquidatedOn[a] != stamp && visit(a, spot: spot.baseAddress!) { below.append(a) }
                }
            }
        } else {
            while let top = near.min, top.key <= variation {
                _ = near.popMin()
                guard liquidatedOn[top.account] != stamp else { continue }
                if spotNow.withUnsafeBufferPointer({ visit(top.account, spot: $0.baseAddress!) }) { below.append(top.account) }
            }
            below.sort()
        }
        if full { near = Heap(watch) } else { near.insert(contentsOf: watch) }
        return below.filter { a in exogenousSpot.withUnsafeBufferPointer { surplus(account: a, spot: $0.baseAddress!, at: t, path: j).f >= 0 } }
    }

    /// Closes the exogenous liquidation `e` of the record on path j in step k.
    private mutating func closeExogenous(_ e: Int, path j: Int, step k: Int, record: BreachRecord, into outcome: inout CascadePathOutcome) {
        let a = record.account[e], scratch = buffers.monitoring!, states = record.stateStart[e]..<record.stateStart[e + 1]
        let assets = assetsOf[a]
        guard assets.contains(where: { market.impact($0) != 0 }) else {
            for (offset, b) in assets.enumerated() { scratch.breachSpot[b] = record.breachSpot[states.lowerBound + offset] }
            finish(a, path: j, step: k, record.outcome[e], endogenous: false, into: &outcome)
            return
        }
        for (offset, b) in assets.enumerated() {
            scratch.breachX[b] = record.breachX[states.lowerBound + offset]
            scratch.breachSpot[b] = record.breachSpot[states.lowerBound + offset] * exp(market.impact(b))
        }
        let before = record.breachSpot[states], t0 = record.time[e]
        let moved = equity(account: a, spot: { scratch.breachSpot[$0] }, at: t0, path: j)
            - equity(account: a, spot: { b in before[before.startIndex + assets.firstIndex(of: b)!] }, at: t0, path: j)
        let closed = market.permanent.withUnsafeBufferPointer {
            process.exogenous.closeOutcome(w, process.exogenous.closing(account: a, w, paths, buffers), path: j, at: t0, equity: record.equity[e] + moved, paths, buffers, lasting: $0.baseAddress!)
        }
        finish(a, path: j, step: k, closed, endogenous: false, into: &outcome)
    }

    /// Closes account a at t_k at the instant's prices (an endogenous liquidation).
    private mutating func closeEndogenous(_ a: Int, path j: Int, step k: Int, into outcome: inout CascadePathOutcome) {
        let scratch = buffers.monitoring!, t = Double(k) / Double(process.spec.steps)
        for b in assetsOf[a] {
            scratch.breachX[b] = exogenousLog[b] / w.model.returnScales[b]
            scratch.breachSpot[b] = spotNow[b]
        }
        let now = spotNow
        let e = equity(account: a, spot: { now[$0] }, at: t, path: j)
        let closed = market.permanent.withUnsafeBufferPointer {
            process.exogenous.closeOutcome(w, process.exogenous.closing(account: a, w, paths, buffers), path: j, at: t, equity: e, paths, buffers, lasting: $0.baseAddress!)
        }
        finish(a, path: j, step: k, closed, endogenous: true, into: &outcome)
    }

    /// Books account a's liquidation on path j (its close spots in `buffers.monitoring.breachSpot`):
    /// the chunk's row, the flow, the path's statistics and the fund, with ADL where it is short.
    private mutating func finish(_ a: Int, path j: Int, step k: Int, _ closed: LiquidationOutcome, endogenous: Bool, into outcome: inout CascadePathOutcome) {
        let scratch = buffers.monitoring!
        liquidatedOn[a] = stamp
        self.closed.append((a, j, closed))
        market.addFlow(of: w.positions[a]) { scratch.breachSpot[$0] }
        outcome.liquidations += 1
        if endogenous { outcome.endogenous += 1 }
        outcome.liquidatedNotional += closed.notional
        let short = ledger.book(notional: closed.notional, equity: closed.finalEquity)
        guard short > 0 else { return }
        instantShortfall += short
        ledger.owe(short, positions: w.positions[a], notional: closed.notional, spot: { scratch.breachSpot[$0] }, into: &shortfall)
    }

    /// Auto-deleveraging of the instant's shortfalls at its prices (`DeleveragingCandidates`,
    /// `FundLedger.deleverage`).
    private mutating func deleverage(path j: Int, step k: Int) {
        observe(path: j, step: k)
        let t = Double(k) / Double(process.spec.steps), now = spotNow, liquidatedOn = liquidatedOn, stamp = stamp
        let found = DeleveragingCandidates(w, spot: now, isOpen: { liquidatedOn[$0] != stamp }) { equity(account: $0, spot: { now[$0] }, at: t, path: j) }
        for (c, account) in found.accounts.enumerated() {
            profit[account] = found.profit[c]
            rank[account] = found.rank[c]
        }
        ledger.deleverage(&shortfall, whole: instantShortfall, found, profit: profit, rank: rank)
        instantShortfall = 0
    }
}
