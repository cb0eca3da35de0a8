import CKernels
import Foundation
import Revaluation
import ScenarioSpec

/// An account filed in a queue's bucket (`CascadePath`): the account, the version of it that was filed
/// (a later visit makes earlier entries stale) and the bucket's next entry (−1: none).
struct QueueEntry {
    let account: Int32
    let version: Int32
    let next: Int32
}

/// The chunk's accounts revalued at chosen spots, and their closes: what `CascadePath` reads but never
/// changes, behind one reference, so that the path's checks and closes pass it to their closures
/// without copying the path's state (a copy retains every array of it).
final class CascadeAccounts {
    let process: CascadeLiquidation
    let w: Waterfall
    let paths: WaterfallPaths
    let buffers: WaterfallBuffers

    init(process: CascadeLiquidation, waterfall: Waterfall, paths: WaterfallPaths, buffers: WaterfallBuffers) {
        self.process = process
        w = waterfall
        self.paths = paths
        self.buffers = buffers
    }

    /// E(S) of account a at the spots `spot` at time t (horizon units): today's equity, the linear
    /// P&L and the options repriced with their time to expiry at t and the path's vol multiplier and smile twist.
    func equity(account a: Int, spot: (Int) -> Double, at t: Double, path j: Int) -> Double {
        let horizon = paths.horizon, volFactor = horizon.volFactor, ld = buffers.capacity
        return w.equity(account: a, assets: process.exogenous.assetsOf[a], spot: spot, years: process.exogenous.horizonYears * (1 - t),
                        twist: { horizon.smileTwist(asset: $0, path: j) }) { volFactor[$0 * ld + j] }
    }

    /// The surplus f = E − M of account a at `spot` and its exposure D = Σ_b |w_ab|·S_b + M (+ each
    /// option leg's |quantity|·S: a bound of its delta's P&L per unit log-move).
    func surplus(account a: Int, spot: UnsafePointer<Double>, at t: Double, path j: Int) -> (f: Double, d: Double) {
        let cascadeBook = process.book
        guard cascadeBook.hasOptions(a) else { let s = cascadeBook.linearSurplus(account: a, spot: spot, reach: 0); return (s.f, s.d) }
        let book = w.book, n = book.assetCount
        var exposure = 0.0
        for b in process.exogenous.assetsOf[a] { exposure += abs(book.linearWeights[a * n + b]) * spot[b] }
        for leg in book.options(ofAccount: a) { exposure += abs(leg.quantity) * spot[leg.asset] }
        let requirement = w.requirement(account: a) { spot[$0] }
        return (equity(account: a, spot: { spot[$0] }, at: t, path: j) - requirement, exposure + requirement)
    }

    /// The outcome of closing account a on path j at t (horizon units) with equity e, from the close
    /// spots in `buffers.monitoring` and the lasting impact `lasting` per asset
    /// (`PathwiseLiquidation.closeOutcome`).
    func close(account a: Int, path j: Int, at t: Double, equity e: Double, lasting: UnsafePointer<Double>) -> LiquidationOutcome {
        process.exogenous.closeOutcome(w, process.exogenous.closing(account: a, w, paths, buffers), path: j, at: t, equity: e, paths, buffers, lasting: lasting)
    }
}

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
/// Checks without visiting every account each time: a full check visits every open account and
/// bounds how far each is from breach. With D = Σ_b |w_ab|·S_b + M its exposure, f falls by at most
/// D·expm1(δ) while no log-price moves by more than δ in a direction that can lower it (falls of the
/// assets it is long, rises of those it is short), tier steps aside (`CascadeBook`: `steps` covers them
/// within a reach of `nearShare`, and an account with a step within reach watches both directions).
/// Each direction of each asset is a queue with its own total variation V_q (Σ over checks of the
/// moves in that direction); an account with (f − steps)/D = ρ < `nearShare` waits in each of its
/// queues under the key V_q + log1p(ρ), in `bucketCount` buckets of equal width over
/// [0, log1p(`nearShare`)). A later check, in the same instant or a later one, visits only the accounts
/// of the buckets their queue's variation has reached (and those with options; those below at the
/// exogenous prices once per instant), and every account again once some queue's variation passes
/// log1p(`nearShare`). Any `nearShare` finds the same accounts; it only trades a full check against the
/// queues' size.
struct CascadePath {
    let process: CascadeLiquidation
    let w: Waterfall
    let paths: WaterfallPaths
    let buffers: WaterfallBuffers
    let chunk: CascadeChunk
    let accounts: CascadeAccounts
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
    /// The shortfalls of the instant: per asset and side of the bankrupt positions (0: long, 1:
    /// short), USD, split over a bankrupt account's positions by notional; and their sum.
    var shortfall: [[Double]]
    var instantShortfall = 0.0
    /// The queues (`CascadeBook`'s queue numbers): per queue q its variation since the full check and its
    /// buckets' first entries (bucket b of queue q at heads[q·bucketCount + b]; entries linked by
    /// `QueueEntry.next`, −1 ending a list), the first `firstBucket[q]` buckets empty.
    var queueVariation: [Double]
    var firstBucket: [Int]
    var heads: [Int32]
    var entries: [QueueEntry] = []
    var version: [Int32]
    /// Whether the queues hold this path's accounts (a full check ran); the log-prices at the last
    /// check; the accounts with options (visited at every check) and those below at the exogenous
    /// prices (visited once per instant), and the instant of the last check.
    var watching = false
    var lastLog: [Double]
    var optionAccounts: [Int] = []
    var exogenousBelow: [Int] = []
    var lastStep = 0
    /// Liquidations of the chunk in the order they happened: account, path, outcome.
    var closed: [(account: Int, path: Int, outcome: LiquidationOutcome)] = []

    init(process: CascadeLiquidation, waterfall: Waterfall, paths: WaterfallPaths, buffers: WaterfallBuffers, chunk: CascadeChunk) {
        self.process = process
        w = waterfall
        self.paths = paths
        self.buffers = buffers
        self.chunk = chunk
        self.accounts = CascadeAccounts(process: process, waterfall: waterfall, paths: paths, buffers: buffers)
        let accounts = waterfall.book.accountCount, n = waterfall.model.assetCount
        market = CascadeMarket(depth: process.marketDepth, impactScale: process.impactScale, spots: waterfall.model.spots, spec: process.spec)
        ledger = FundLedger(fund: process.fund, accounts: accounts)
        liquidatedOn = Array(repeating: -1, count: accounts)
        grid = Array(repeating: 0, count: max(0, process.spec.steps - 1) * n)
        exogenousLog = Array(repeating: 0, count: n)
        spotNow = Array(repeating: 0, count: n)
        shortfall = Array(repeating: [0, 0], count: n)
        lastLog = Array(repeating: 0, count: n)
        queueVariation = Array(repeating: 0, count: 2 * n)
        firstBucket = Array(repeating: 0, count: 2 * n)
        heads = Array(repeating: -1, count: 2 * n * Self.bucketCount)
        version = Array(repeating: 0, count: accounts)
    }

    static let bucketCount = 512

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
        // By account, paths ascending within each: `closed` is in path order, so a stable counting
        // sort by account.
        let accounts = w.book.accountCount
        var start = Array(repeating: 0, count: accounts + 1)
        for entry in closed { start[entry.account + 1] += 1 }
        for a in 0..<accounts { start[a + 1] += start[a] }
        var slot = start
        var paths = Array(repeating: 0, count: closed.count)
        var outcomes = Array(repeating: LiquidationOutcome(finalEquity: 0, notional: 0, recovered: false, breachHours: 0), count: closed.count)
        for entry in closed {
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
            watching = false
            for i in 0..<n { lastLog[i] = 0 }
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
                while market.isMoved {
                    let breached = check(path: j, step: k)
                    guard !breached.isEmpty else { break }
                    for a in breached { closeEndogenous(a, path: j, step: k, into: &outcome) }
                    guard execute(path: j, step: k) else { break }
                    rounds += 1
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

    /// The open accounts the impact alone puts below maintenance at t_k (below at the instant's
    /// prices, not below at the exogenous ones), ascending. The total variation grows by the largest
    /// move of a log-price (exogenous, impact or decay) since the last check; every open account is
    /// visited on the path's first check and once the total variation passes log1p(`nearShare`),
    /// else the buckets it has reached, the accounts with options and, at a new instant, those below
    /// at the exogenous prices.
    private mutating func check(path j: Int, step k: Int) -> [Int] {
        observe(path: j, step: k)
        let t = Double(k) / Double(process.spec.steps), n = w.model.assetCount, cascadeBook = process.book, share = nearShare, revalued = accounts
        let limit = log1p(share), width = limit / Double(Self.bucketCount), buckets = Self.bucketCount
        var full = !watching
        for i in 0..<n {
            let x = exogenousLog[i] + market.impact(i), move = x - lastLog[i]
            lastLog[i] = x
            queueVariation[2 * i] += max(0, -move)
            queueVariation[2 * i + 1] += max(0, move)
            full = full || queueVariation[2 * i] >= limit || queueVariation[2 * i + 1] >= limit
        }
        if full {
            watching = true
            for q in queueVariation.indices { queueVariation[q] = 0; firstBucket[q] = 0 }
            for h in heads.indices { heads[h] = -1 }
            entries.removeAll(keepingCapacity: true)
        }
        let newInstant = full || k != lastStep
        lastStep = k
        var exogenousSpot = [Double](repeating: 0, count: n)
        for i in 0..<n { exogenousSpot[i] = w.model.spots[i] * exp(exogenousLog[i]) }
        // The due accounts: the current entries of the buckets each queue's variation has reached.
        var due: [Int] = []
        if !full {
            for q in queueVariation.indices {
                let last = min(buckets - 1, Int(queueVariation[q] / width))
                guard last >= firstBucket[q] else { continue }
                for b in firstBucket[q]...last {
                    var e = heads[q * buckets + b]
                    while e >= 0 {
                        let entry = entries[Int(e)], a = Int(entry.account)
                        if entry.version == version[a] { due.append(a); version[a] &+= 1 }
                        e = entry.next
                    }
                    heads[q * buckets + b] = -1
                }
                firstBucket[q] = last
            }
        }
        var below: [Int] = [], options: [Int] = []
        let stamp = stamp
        spotNow.withUnsafeBufferPointer { spotBuffer in cascadeBook.withRecords { records in
            let spot = spotBuffer.baseAddress!
            // Whether account a is below at the instant's prices; else files it in its queues.
            func visit(_ a: Int) -> Bool {
                let record = records.record(a)
                if CascadeBook.Records.hasOptions(record) {
                    // Options: no linear bound; visited at every check.
                    guard revalued.surplus(account: a, spot: spot, at: t, path: j).f >= 0 else { return true }
                    options.append(a)
                    return false
                }
                let s = records.linearSurplus(record, spot: spot, reach: share)
                guard s.f >= 0 else { return true }
                let ratio = (s.f - s.steps) / s.d
                guard ratio < share else { return false }
                let slack = ratio > -1 ? log1p(ratio) : -Double.infinity
                for listed in CascadeBook.Records.queues(record, all: s.steps > 0) {
                    let q = Int(listed)
                    let key = queueVariation[q] + slack
                    guard key < limit else { continue }
                    let h = q * buckets + max(firstBucket[q], Int(max(0, key) / width))
                    entries.append(QueueEntry(account: Int32(a), version: version[a], next: heads[h]))
                    heads[h] = Int32(entries.count - 1)
                }
                return false
            }
            if full {
                for a in 0..<w.book.accountCount where liquidatedOn[a] != stamp && visit(a) { below.append(a) }
            } else {
                for a in optionAccounts where liquidatedOn[a] != stamp && visit(a) { below.append(a) }
                if newInstant {
                    for a in exogenousBelow where liquidatedOn[a] != stamp && visit(a) { below.append(a) }
                }
                // The due accounts are scattered in the book: their stamps and record starts are
                // fetched 16 visits ahead, their records 8 ahead (`thresher_prefetch`, a hint).
                let liquidated = liquidatedOn
                liquidated.withUnsafeBufferPointer { liquidated in
                    for (i, a) in due.enumerated() {
                        if i + 16 < due.count {
                            thresher_prefetch(liquidated.baseAddress! + due[i + 16])
                            thresher_prefetch(records.start + due[i + 16])
                        }
                        if i + 8 < due.count {
                            let ahead = records.record(due[i + 8])
                            thresher_prefetch(ahead)
                            thresher_prefetch(ahead + 8)
                        }
                        if liquidated[a] != stamp && visit(a) { below.append(a) }
                    }
                }
                below.sort()
            }
        } }
        optionAccounts = options
        if newInstant { exogenousBelow = [] }
        var breached: [Int] = [], stillBelow: [Int] = []
        exogenousSpot.withUnsafeBufferPointer { exogenous in
            for a in below {
                // Below at the exogenous prices too: the exogenous process's, unless the prices change.
                if revalued.surplus(account: a, spot: exogenous.baseAddress!, at: t, path: j).f >= 0 { breached.append(a) } else { stillBelow.append(a) }
            }
        }
        exogenousBelow += stillBelow
        return breached
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
        let before = record.breachSpot[states], t0 = record.time[e], revalued = accounts
        let moved = revalued.equity(account: a, spot: { scratch.breachSpot[$0] }, at: t0, path: j)
            - revalued.equity(account: a, spot: { b in before[before.startIndex + assets.firstIndex(of: b)!] }, at: t0, path: j)
        let equity = record.equity[e] + moved
        let closed = market.permanent.withUnsafeBufferPointer { revalued.close(account: a, path: j, at: t0, equity: equity, lasting: $0.baseAddress!) }
        finish(a, path: j, step: k, closed, endogenous: false, into: &outcome)
    }

    /// Closes account a at t_k at the instant's prices (an endogenous liquidation).
    private mutating func closeEndogenous(_ a: Int, path j: Int, step k: Int, into outcome: inout CascadePathOutcome) {
        let scratch = buffers.monitoring!, t = Double(k) / Double(process.spec.steps)
        for b in assetsOf[a] {
            scratch.breachX[b] = exogenousLog[b] / w.model.returnScales[b]
            scratch.breachSpot[b] = spotNow[b]
        }
        let revalued = accounts
        let e = spotNow.withUnsafeBufferPointer { now in revalued.equity(account: a, spot: { now[$0] }, at: t, path: j) }
        let closed = market.permanent.withUnsafeBufferPointer { revalued.close(account: a, path: j, at: t, equity: e, lasting: $0.baseAddress!) }
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
        let t = Double(k) / Double(process.spec.steps), now = spotNow, liquidatedOn = liquidatedOn, stamp = stamp, revalued = accounts
        let found = DeleveragingCandidates(w, spot: now, isOpen: { liquidatedOn[$0] != stamp }) { revalued.equity(account: $0, spot: { now[$0] }, at: t, path: j) }
        ledger.deleverage(&shortfall, whole: instantShortfall, found)
        instantShortfall = 0
    }
}
