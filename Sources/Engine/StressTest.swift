import Foundation
import Revaluation
import ScenarioSpec
import Shocks

/// The book and every account under one deterministic stress, USD (positive = loss): the loss, the
/// equity left, and — when a margin schedule is known — the maintenance requirement at the stressed
/// spots, from which an account is liquidated (equity < requirement) or bankrupt (equity < 0).
public struct StressOutcome: Sendable {
    public let stress: StressScenario
    public let horizonDays: Double
    public let bookLoss: Double
    public let accountLosses: [Double]
    /// Equity after the stress, equity now − loss, per account.
    public let equityAfter: [Double]
    /// Maintenance requirement Σ notional(S')·MMR at the stressed spots, per account; nil without a
    /// margin schedule.
    public let maintenanceAfter: [Double]?

    /// max(−equity after, 0): what the account cannot pay, USD.
    public func shortfall(account a: Int) -> Double { max(-equityAfter[a], 0) }
    public func isBankrupt(account a: Int) -> Bool { equityAfter[a] < 0 }
    /// Equity after below the maintenance requirement (nil without a schedule).
    public func isLiquidated(account a: Int) -> Bool? { maintenanceAfter.map { equityAfter[a] < $0[a] } }
    /// Σ max(−equity, 0) over accounts: the venue's loss from accounts that cannot pay — not the book
    /// loss, which nets winners against losers.
    public var totalShortfall: Double { equityAfter.indices.reduce(0) { $0 + shortfall(account: $1) } }
    public var bankruptCount: Int { equityAfter.indices.filter(isBankrupt).count }
    public var liquidatedCount: Int? { maintenanceAfter.map { m in equityAfter.indices.filter { equityAfter[$0] < m[$0] }.count } }
}

/// Exact revaluation under deterministic stresses with the pricing code of `run` (no Monte Carlo):
/// S' = S·(1 + spot move), iv' = (iv(S') + skew·k' + term·√(30/T_days))·(1 + vol move) (iv(S') the
/// smile's dynamics, `OptionLeg.twisted`), and horizon_days of time passing (futures carry, option
/// time decay, expiry inside the horizon pays intrinsic).
public enum StressTest {
    /// The loss on stablecoin collateral of a de-peg move named in the stress's `spot` (stablecoins
    /// are not moved by "*"): Σ q·price·(1 − haircut)·(−move), USD.
    static func depegLoss(_ account: Account, _ stress: StressScenario, _ market: Market) -> Double {
        account.collateral.reduce(0) { total, entry in
            guard let i = market.stablecoinIndex(entry.currency), let move = stress.spotMoves[entry.currency] else { return total }
            return total - market.stablecoins[i].collateralValue(entry.amount) * move
        }
    }

    /// - Parameter maintenance: the margin schedule of "who fails" (default: the scenario's `policy:`).
    public static func evaluate(_ scenario: Scenario, maintenance: MarginSchedule? = nil) -> [StressOutcome] {
        let schedule = maintenance ?? scenario.policy?.schedule
        return scenario.stresses.map { stress in
            let horizon = stress.horizonDays ?? scenario.simulation.horizonDays
            return evaluate(stress, on: scenario, book: book(scenario, horizonDays: horizon), horizonDays: horizon, schedule: schedule)
        }
    }

    /// The book compiled at `horizonDays` (what `evaluate` revalues a stress of that horizon on).
    /// `thresher serve` keeps the horizon-0 book of its scenario, so that a what-if does not compile it.
    public static func book(_ scenario: Scenario, horizonDays: Double) -> Book {
        var timed = scenario
        timed.simulation.horizonDays = horizonDays
        return Book(scenario: timed)
    }

    /// One stress on `book`, which must be `book(scenario, horizonDays: horizonDays)` with horizonDays the
    /// stress's horizon (its own, else the scenario's); the same
    /// numbers as `evaluate`, bit for bit (it is `evaluate`'s body).
    /// - Parameter schedule: the margin schedule of "who fails"; nil: none (no liquidation flags).
    public static func evaluate(_ stress: StressScenario, on scenario: Scenario, book: Book, horizonDays: Double, schedule: MarginSchedule?) -> StressOutcome {
        let assets = scenario.market.assets
        let spots = assets.map { $0.spot * (1 + stress.spotMove($0.id)) }
        let state = ShockBuffers(assetCount: assets.count, capacity: 1)
        state.setDeterministicState(column: 0, spots: spots, volFactors: assets.map { 1 + stress.volMove($0.id) })
        // A smile twist is a constant iv per option at the stressed spot: the book's legs are twisted.
        let twisted = !stress.twistsSmiles ? book : book.mappingOptions { leg in
            let id = assets[leg.asset].id, skew = stress.skewMove(id), term = stress.termMove(id)
            return skew == 0 && term == 0 ? leg : leg.twisted(spot: spots[leg.asset], skew: skew, term: term, rate: book.rate)
        }
        let revaluer = Revaluer(book: twisted, capacity: 1)
        revaluer.revalue(state)
        // Only a move of a stablecoin id de-pegs collateral; without one every account's de-peg loss is 0.
        let depegs = scenario.market.stablecoins.contains { stress.spotMoves[$0.id] != nil }
        let depeg = depegs ? scenario.portfolio.accounts.map { depegLoss($0, stress, scenario.market) } : [Double](repeating: 0, count: book.accountCount)
        let losses = (0..<book.accountCount).map { revaluer.lossRow(account: $0)[0] + depeg[$0] }
        let requirements = schedule.map { schedule in
            scenario.portfolio.accounts.map { schedule.requirement(of: $0.positions, market: scenario.market) { spots[$0] }.maintenance }
        }
        return StressOutcome(stress: stress, horizonDays: horizonDays, bookLoss: revaluer.bookLosses[0] + depeg.reduce(0, +), accountLosses: losses,
                             equityAfter: zip(book.equityNow, losses).map { $0 - $1 }, maintenanceAfter: requirements)
    }
}
