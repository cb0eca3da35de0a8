import Foundation
import Revaluation
import ScenarioSpec
import Shocks

/// The loss of the book and of every account under one deterministic stress, USD (positive = loss).
public struct StressOutcome: Sendable {
    public let stress: StressScenario
    public let horizonDays: Double
    public let bookLoss: Double
    public let accountLosses: [Double]
}

/// Exact revaluation under deterministic stresses with the pricing code of `run` (no Monte Carlo):
/// S' = S·(1 + spot move), iv' = iv·(1 + vol move), and horizon_days of time passing (futures carry,
/// option time decay, expiry inside the horizon pays intrinsic).
public enum StressTest {
    public static func evaluate(_ scenario: Scenario) -> [StressOutcome] {
        let assets = scenario.market.assets
        return scenario.stresses.map { stress in
            var timed = scenario
            let horizon = stress.horizonDays ?? scenario.simulation.horizonDays
            timed.simulation.horizonDays = horizon
            let book = Book(scenario: timed)
            let state = ShockBuffers(assetCount: assets.count, capacity: 1)
            state.setDeterministicState(column: 0, spots: assets.map { $0.spot * (1 + stress.spotMove($0.id)) },
                                        volFactors: assets.map { 1 + stress.volMove($0.id) })
            let revaluer = Revaluer(book: book, capacity: 1)
            revaluer.revalue(state)
            return StressOutcome(stress: stress, horizonDays: horizon, bookLoss: revaluer.bookLosses[0],
                                 accountLosses: (0..<book.accountCount).map { revaluer.lossRow(account: $0)[0] })
        }
    }
}
