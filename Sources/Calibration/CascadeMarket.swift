import Foundation
import ScenarioSpec

/// The price impact of liquidation flow (README, "Cascades"). The flows of one instant are one
/// metaorder per asset: after a cumulative net flow Q_i (USD, buys positive) the instant's impact on
/// asset i's log-price is the square-root law of the liquidation model (`LiquidationCost.rate`) at
/// the depth left,
///
///     J_i(Q) = sign(Q)·k·σ_i·√(1/365)·√(|Q| / (D_i·f(d_i))),
///
/// D_i the market depth, f the depth curve at the drawdown d_i = 1 − S_i/S_i,0 where the round is
/// executed; a round moving Q_i to Q_i + q adds J_i(Q_i + q) − J_i(Q_i) at the round's depth (one round
/// or many give the same impact at a fixed depth). A share φ of each move is permanent; the rest
/// decays as exp(−Δt/τ) from instant to instant. Every account sees the log-price exogenous + I_i,
/// I_i = permanent_i + transient_i.
struct CascadeMarket {
    let depth: [Double]
    let impactScale: [Double]
    let spots: [Double]
    let spec: CascadeSpec
    /// Per asset: the lasting and the decaying log-price impact so far.
    var permanent: [Double]
    var transient: [Double]
    /// Per asset: the flow not yet executed, and the instant's flow executed so far, USD (buys positive).
    var flow: [Double]
    var executed: [Double]

    init(depth: [Double], impactScale: [Double], spots: [Double], spec: CascadeSpec) {
        self.depth = depth
        self.impactScale = impactScale
        self.spots = spots
        self.spec = spec
        permanent = Array(repeating: 0, count: spots.count)
        transient = permanent
        flow = permanent
        executed = permanent
    }

    mutating func reset() {
        for i in permanent.indices { permanent[i] = 0; transient[i] = 0; flow[i] = 0; executed[i] = 0 }
    }

    /// I_i, the log-price impact on asset i now.
    @inline(__always) func impact(_ i: Int) -> Double { permanent[i] + transient[i] }

    /// Whether any asset's price carries impact.
    var isMoved: Bool { permanent.indices.contains { permanent[$0] != 0 || transient[$0] != 0 } }

    /// The flow of closing `positions` at `spot`: longs sell their notional, shorts buy it.
    mutating func addFlow(of positions: [MarginedPosition], spot: (Int) -> Double) {
        for position in positions {
            let notional = position.notional(spot: spot(position.asset))
            flow[position.asset] += position.side == .long ? -notional : notional
        }
    }

    /// Executes the pending flow at the exogenous log-moves `exogenous(i)` (log(S/S₀) before
    /// impact); returns whether any price moved.
    mutating func execute(exogenous: (Int) -> Double) -> Bool {
        var moved = false
        for i in flow.indices where flow[i] != 0 {
            let drawdown = max(0, 1 - exp(exogenous(i) + impact(i)))
            let available = depth[i] * spec.depthFraction(drawdown: drawdown)
            let before = executed[i], after = before + flow[i]
            func signedRoot(_ q: Double) -> Double { q < 0 ? -(-q).squareRoot() : q.squareRoot() }
            let move = impactScale[i] * (signedRoot(after) - signedRoot(before)) / available.squareRoot()
            executed[i] = after
            flow[i] = 0
            guard move != 0 else { continue }
            permanent[i] += spec.permanentShare * move
            transient[i] += (1 - spec.permanentShare) * move
            moved = true
        }
        return moved
    }

    /// Ends an instant: its flows are done; the transient impact decays over `hours` to the next.
    mutating func nextInstant(hours: Double) {
        let factor = exp(-hours / spec.decayHours)
        for i in transient.indices {
            executed[i] = 0
            if transient[i] != 0 { transient[i] *= factor }
        }
    }
}

/// The insurance fund along one path, and auto-deleveraging when it cannot pay (README, "Cascades"):
/// each liquidation in time order adds its penalty min(π·N, E2⁺) and asks for its deficit max(−E2, 0);
/// what the fund cannot pay is the shortfall, taken from winners at the end of the instant by each
/// rule of `CascadeSpec.DeleveragingRule` (all three on the same paths, each with its own takings),
/// and what no winner can cover is unfunded. Per path and rule: Σ deficits = paid by the fund + taken
/// by ADL + unfunded.
struct FundLedger {
    let rate: Double
    let opening: Double
    var balance: Double
    var lowest: Double
    var deficit = 0.0
    var paid = 0.0
    var exhausted = false
    /// Per rule: taken from each account on this path, the accounts touched, the unfunded rest.
    var taken: [[Double]]
    var touched: [[Int]] = [[], [], []]
    var unfunded = [0.0, 0.0, 0.0]

    init(fund: CascadeFund, accounts: Int) {
        rate = fund.rate
        opening = fund.balance
        balance = fund.balance
        lowest = fund.balance
        taken = Array(repeating: Array(repeating: 0, count: accounts), count: 3)
    }

    mutating func reset() {
        balance = opening
        lowest = opening
        deficit = 0
        paid = 0
        exhausted = false
        for r in 0..<3 {
            for a in touched[r] { taken[r][a] = 0 }
            touched[r] = []
            unfunded[r] = 0
        }
    }

    /// Books a liquidation that closed `notional` and left `equity` (E2); returns the shortfall the
    /// fund could not pay (0 when it could).
    mutating func book(notional: Double, equity: Double) -> Double {
        balance += min(rate * notional, max(equity, 0))
        let owed = max(-equity, 0)
        guard owed > 0 else { return 0 }
        deficit += owed
        let pay = min(balance, owed)
        balance -= pay
        paid += pay
        lowest = min(lowest, balance)
        if owed > pay { exhausted = true }
        return owed - pay
    }

    /// `queue`: takes `shortfall` from `ranked` (descending profit × effective leverage) in order,
    /// each up to its profit left; the rest is unfunded.
    mutating func queue(_ shortfall: Double, ranked: [Int], profit: [Double]) {
        var rest = shortfall
        for a in ranked where rest > 0 {
            let amount = min(profit[a] - taken[0][a], rest)
            guard amount > 0 else { continue }
            take(0, a, amount)
            rest -= amount
        }
        unfunded[0] += rest
    }

    /// `pro-rata` (rule 1, weights: notional opposite the bankrupt positions) or `socialized` (rule
    /// 2, weights: profit left): water-filling of `shortfall` in proportion to the weights, each
    /// account capped at its profit left; the rest is unfunded. Walking the accounts by ascending
    /// cap/weight, each gets min(cap, rest·w/W) of the rest over the weights W left: once one is not
    /// capped, no later one is.
    mutating func share(rule: Int, _ shortfall: Double, among accounts: [Int], weights: [Double], profit: [Double]) {
        let caps = zip(accounts, weights).map { (account: $0, cap: profit[$0] - taken[rule][$0], weight: $1) }.filter { $0.cap > 0 && $0.weight > 0 }
        var total = caps.reduce(0) { $0 + $1.weight }, rest = shortfall
        for entry in caps.sorted(by: { $0.cap * $1.weight < $1.cap * $0.weight || ($0.cap * $1.weight == $1.cap * $0.weight && $0.account < $1.account) }) {
            guard rest > 0, total > 0 else { break }
            let amount = min(entry.cap, rest * entry.weight / total)
            if amount > 0 { take(rule, entry.account, amount) }
            rest -= amount
            total -= entry.weight
        }
        unfunded[rule] += max(rest, 0)
    }

    /// Files a liquidation's `short` (what the fund could not pay) for the instant's ADL: split over
    /// the account's positions by their notional at `spot` into `shortfall[asset][side]` (0: long,
    /// 1: short), USD. With no position (`notional` = 0) neither the queue nor pro-rata has an
    /// opposite side to take it from: it is unfunded for both (socialized still shares it).
    mutating func owe(_ short: Double, positions: [MarginedPosition], notional: Double, spot: (Int) -> Double, into shortfall: inout [[Double]]) {
        guard notional > 0 else { unfunded[0] += short; unfunded[1] += short; return }
        for position in positions {
            let n = position.notional(spot: spot(position.asset))
            shortfall[position.asset][position.side == .long ? 0 : 1] += short * n / notional
        }
    }

    /// Auto-deleveraging of one moment's shortfalls among `found`: per asset and side of the bankrupt
    /// positions, `queue` and `pro-rata` take `shortfall[asset][side]` from the holders of the other
    /// side (by rank; by their notional there), and `socialized` takes the moment's `whole` shortfall
    /// from all candidates by their profit left. Leaves `shortfall` at 0.
    mutating func deleverage(_ shortfall: inout [[Double]], whole: Double, _ found: DeleveragingCandidates) {
        let profit = found.profit, rank = found.rank
        for i in shortfall.indices {
            for side in 0..<2 where shortfall[i][side] > 0 {
                let facing = found.holders[i][1 - side]
                let ranked = facing.map(\.account).sorted { rank[$0] != rank[$1] ? rank[$0] > rank[$1] : $0 < $1 }
                queue(shortfall[i][side], ranked: ranked, profit: profit)
                share(rule: 1, shortfall[i][side], among: facing.map(\.account), weights: facing.map(\.notional), profit: profit)
                shortfall[i][side] = 0
            }
        }
        let left = found.accounts.map { profit[$0] - taken[2][$0] }
        share(rule: 2, whole, among: found.accounts, weights: left, profit: profit)
    }

    private mutating func take(_ rule: Int, _ a: Int, _ amount: Double) {
        if taken[rule][a] == 0 { touched[rule].append(a) }
        taken[rule][a] += amount
    }
}

/// The accounts auto-deleveraging may take from at one moment's prices S: the open accounts in
/// profit, E(S) − E₀ > 0 with E(S) > 0, ascending; per account (0 for the others) its profit
/// E(S) − E₀ (USD) and its rank, profit × effective leverage = profit × gross notional(S) / E(S); and
/// per asset and side (0: long, 1: short) the candidates' positions there, (account, notional at S),
/// in account order.
struct DeleveragingCandidates {
    var accounts: [Int] = []
    var profit: [Double]
    var rank: [Double]
    var holders: [[[(account: Int, notional: Double)]]]

    /// - Parameters: `spot`: S per asset; `isOpen`: not liquidated; `equity`: E(S) of an account.
    /// - Complexity: O(accounts + positions) and one `equity` per open account.
    init(_ w: Waterfall, spot: [Double], isOpen: (Int) -> Bool, equity: (Int) -> Double) {
        holders = Array(repeating: [[], []], count: w.model.assetCount)
        profit = Array(repeating: 0, count: w.book.accountCount)
        rank = profit
        for c in 0..<w.book.accountCount where isOpen(c) {
            let e = equity(c)
            let gain = e - w.book.equityNow[c]
            guard gain > 0, e > 0 else { continue }
            var gross = 0.0
            for position in w.positions[c] {
                let notional = position.notional(spot: spot[position.asset])
                gross += notional
                holders[position.asset][position.side == .long ? 0 : 1].append((c, notional))
            }
            accounts.append(c)
            profit[c] = gain
            rank[c] = gain * gross / e
        }
    }
}
