import Foundation
import Revaluation
import ScenarioSpec

/// `thresher stress --cascade` (issue 30; README, "Stress tests"): one deterministic stress as the
/// exogenous move, then the liquidation cascade it sets off, round by round, at one instant (t = 0+:
/// no time passes, nothing is random).
///
/// Round 0: S_i = S_i,0·(1 + shock_i), implied vols iv·(1 + vol shock), or under the stress's `skew` and
/// `term` twists iv' = max(iv(S) + skew·k + term·√(30/T_days), 1 %)·(1 + vol shock) with k = ln(K/(S·e^{rT}))
/// at the prices S of each round (`OptionLeg.twistedVol`, as plain `stress` at round 0). Round r ≥ 1,
/// at the prices S the previous round left:
/// 1. every open account with E(S) < M(S) is liquidated, all of them at once in account order (an
///    account below maintenance before the stress too): E(S) the equity (`Waterfall.equity`, the
///    options repriced with the whole horizon to run), M(S) = Σ notional·MMR of the policy's ladder;
/// 2. each is closed at S less its slippage Σ_q I(n_q)·n_q (`LiquidationCost.rate`, the waterfall's
///    costs), E2 = E(S) − slippage; the fund (`FundLedger`, opening at the policy's `insurance_fund`)
///    takes the penalty min(π·N, E2⁺) (π the policy's `liquidation_penalty`, N = Σ n_q) and pays the
///    deficit max(−E2, 0) while it can;
/// 3. the round's flows (longs sell, shorts buy their notional) are executed once
///    (`CascadeMarket.execute`, the square-root law at the depth the drawdown leaves), moving the
///    log-prices: S_i = S_i,0·(1 + shock_i)·exp(I_i), I_i the impact so far;
/// 4. what the fund could not pay is auto-deleveraged at the round's end, at the new prices, under
///    all three rules (`FundLedger.deleverage`, as the Monte Carlo cascade does at each instant).
/// The cascade stops at the first round that liquidates nobody; its rounds are those that did.
/// Per ADL rule: Σ deficits = fund paid + taken from winners + unfunded.
///
/// Not applied: the stress's `horizon_days` (no time passes) and de-peg moves of stablecoin
/// collateral; only positions are closed (options and coins are not sold).
public struct StressCascade: Sendable {
    /// One liquidation: the account's equity E(S) and requirement M(S) at the round's prices, the
    /// notional closed N, the slippage and E2 = E − slippage, USD.
    public struct Liquidation: Sendable {
        public let account: Int
        public let equity: Double
        public let maintenance: Double
        public let notional: Double
        public let slippage: Double
        public let finalEquity: Double
    }

    /// One round that liquidated someone, USD unless said.
    public struct Round: Sendable {
        /// 1, 2, …
        public let round: Int
        /// The round's liquidations, in account order.
        public let liquidations: [Liquidation]
        /// Spot per asset after the round's flows were executed.
        public let prices: [Double]
        /// Σ max(−E2, 0), the penalties Σ min(π·N, E2⁺) and what the fund paid of the deficits.
        public let deficit: Double
        public let penalties: Double
        public let fundPaid: Double
        /// The deficits the fund could not pay (deficit − fund paid).
        public let shortfall: Double
        /// The fund after the round.
        public let fundBalance: Double
        /// Per rule (`CascadeSpec.DeleveragingRule.allCases` order): taken from winners in the round,
        /// and the accounts taken from.
        public let adlTaken: [Double]
        public let adlAccounts: [Int]

        public var liquidatedNotional: Double { liquidations.reduce(0) { $0 + $1.notional } }
    }

    /// What one rule took over the whole cascade: total, accounts, per account (account, amount)
    /// ascending, and the unfunded rest.
    public struct Deleveraging: Sendable {
        public let rule: CascadeSpec.DeleveragingRule
        public let taken: Double
        public let haircuts: [(account: Int, amount: Double)]
        public let unfunded: Double
        public var accounts: Int { haircuts.count }
    }

    public let stress: StressScenario
    /// The cascade model (`calibration.liquidation.cascade`), and whether it is `CascadeSpec()`'s
    /// defaults because the scenario has none.
    public let spec: CascadeSpec
    public let isDefaultSpec: Bool
    /// Today's spots S_i,0 and the exogenous moves shock_i per asset (market order).
    public let spots: [Double]
    public let exogenousMove: [Double]
    public let rounds: [Round]
    public let fundOpening: Double
    public let penaltyRate: Double
    /// Per rule, `CascadeSpec.DeleveragingRule.allCases` order.
    public let deleveraging: [Deleveraging]

    /// Round 0's prices, S_i,0·(1 + shock_i).
    public var shockedPrices: [Double] { zip(spots, exogenousMove).map { $0 * (1 + $1) } }
    /// The prices after the last round (round 0's when nobody was liquidated).
    public var finalPrices: [Double] { rounds.last?.prices ?? shockedPrices }
    /// S_final/S₀ − 1 per asset.
    public var finalMove: [Double] { zip(finalPrices, spots).map { $0 / $1 - 1 } }
    public var accountsLiquidated: Int { rounds.reduce(0) { $0 + $1.liquidations.count } }
    public var liquidatedNotional: Double { rounds.reduce(0) { $0 + $1.liquidatedNotional } }
    public var deficit: Double { rounds.reduce(0) { $0 + $1.deficit } }
    public var fundPaid: Double { rounds.reduce(0) { $0 + $1.fundPaid } }
    public var fundBalance: Double { rounds.last?.fundBalance ?? fundOpening }
    /// The first round whose deficits the fund could not pay in full; nil: never.
    public var fundRanOutRound: Int? { rounds.first { $0.shortfall > 0 }?.round }
    /// The venue's rule's entry of `deleveraging`.
    public var venue: Deleveraging { deleveraging[CascadeSpec.DeleveragingRule.allCases.firstIndex(of: spec.adl)!] }
    /// Per rule: deficits − (fund paid + taken + unfunded), USD (0 up to rounding).
    public var conservationError: [Double] { deleveraging.map { deficit - (fundPaid + $0.taken + $0.unfunded) } }

    /// The cascade of every stress of the scenario (`stress:` and `stress_library`), in order.
    /// - Parameter file: the scenario file as the user named it (for errors).
    /// - Throws: `ScenarioError` at `calibration` without one (the liquidation model: depth, impact,
    ///   cascade) or at `policy` without one (the ladder that decides who is liquidated, the penalty
    ///   and the fund).
    public static func run(_ scenario: Scenario, file: String) throws -> [StressCascade] {
        let spec = try scenario.requiredCalibration(
            file: file, why: "thresher stress --cascade reads the liquidation model (liquidation.depth, impact and cascade) from it")
        guard let policy = scenario.policy else {
            throw Scenario.missingSection("policy", file: file, why: "thresher stress --cascade needs the ladder that decides who is liquidated, the penalty and the fund")
        }
        let waterfall = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule)
        let fund = CascadeFund(rate: policy.liquidationPenalty ?? 0, balance: policy.insuranceFund ?? spec.insuranceBalance ?? 0)
        return scenario.stresses.map {
            StressCascade(waterfall, stress: $0, spec: spec.cascade ?? CascadeSpec(), isDefaultSpec: spec.cascade == nil, impact: spec.impact, fund: fund,
                          horizonYears: scenario.simulation.horizonYears)
        }
    }

    /// Runs the cascade of `stress` on the waterfall's book (see the type's description).
    init(_ w: Waterfall, stress: StressScenario, spec: CascadeSpec, isDefaultSpec: Bool, impact: Double, fund: CascadeFund, horizonYears: Double) {
        let n = w.model.assetCount, accounts = w.book.accountCount, ids = w.model.assetIDs
        self.stress = stress
        self.spec = spec
        self.isDefaultSpec = isDefaultSpec
        spots = w.model.spots
        exogenousMove = ids.map { stress.spotMove($0) }
        fundOpening = fund.balance
        penaltyRate = fund.rate
        let exogenousLog = exogenousMove.map { log1p($0) }, shocked = zip(spots, exogenousMove).map { $0 * (1 + $1) }
        let volFactor = ids.map { 1 + stress.volMove($0) }
        let twists = ids.map { id -> (skew: Double, term: Double)? in
            let skew = stress.skewMove(id), term = stress.termMove(id)
            return skew == 0 && term == 0 ? nil : (skew, term)
        }
        var market = CascadeMarket(depth: w.costs.map { ($0?.depth ?? .infinity) * spec.depthMultiplier },
                                   impactScale: w.vols.map { impact * $0 * (1.0 / 365).squareRoot() }, spots: spots, spec: spec)
        var ledger = FundLedger(fund: fund, accounts: accounts)
        var open = [Bool](repeating: true, count: accounts)
        func equity(_ a: Int, _ s: [Double]) -> Double {
            w.equity(account: a, assets: w.movedAssets[w.movedAssetStart[a]..<w.movedAssetStart[a + 1]], spot: { s[$0] }, years: horizonYears,
                     twist: { twists[$0] }) { volFactor[$0] }
        }
        var prices = shocked, rounds: [Round] = []
        while true {
            let s = prices
            var liquidations: [Liquidation] = []
            for a in 0..<accounts where open[a] {
                let e = equity(a, s), m = w.requirement(account: a) { s[$0] }
                guard e < m else { continue }
                var notional = 0.0, slippage = 0.0
                for position in w.positions[a] {
                    let q = position.notional(spot: s[position.asset])
                    notional += q
                    slippage += (w.costs[position.asset]?.rate(notional: q) ?? 0) * q
                }
                liquidations.append(Liquidation(account: a, equity: e, maintenance: m, notional: notional, slippage: slippage, finalEquity: e - slippage))
            }
            guard !liquidations.isEmpty else { break }
            let paidBefore = ledger.paid, deficitBefore = ledger.deficit, takenBefore = ledger.taken
            var shortfall = [[Double]](repeating: [0, 0], count: n), whole = 0.0, penalties = 0.0
            for l in liquidations {
                open[l.account] = false
                market.addFlow(of: w.positions[l.account]) { s[$0] }
                penalties += min(fund.rate * l.notional, max(l.finalEquity, 0))
                let short = ledger.book(notional: l.notional, equity: l.finalEquity)
                guard short > 0 else { continue }
                whole += short
                ledger.owe(short, positions: w.positions[l.account], notional: l.notional, spot: { s[$0] }, into: &shortfall)
            }
            _ = market.execute { exogenousLog[$0] }
            prices = (0..<n).map { shocked[$0] * exp(market.impact($0)) }
            if whole > 0 {
                let now = prices, isOpen = open
                let found = DeleveragingCandidates(w, spot: now, isOpen: { isOpen[$0] }) { equity($0, now) }
                ledger.deleverage(&shortfall, whole: whole, found)
            }
            let taken = (0..<3).map { r in (0..<accounts).reduce(0.0) { $0 + ledger.taken[r][$1] - takenBefore[r][$1] } }
            let hit = (0..<3).map { r in (0..<accounts).filter { ledger.taken[r][$0] > takenBefore[r][$0] }.count }
            rounds.append(Round(round: rounds.count + 1, liquidations: liquidations, prices: prices, deficit: ledger.deficit - deficitBefore,
                                penalties: penalties, fundPaid: ledger.paid - paidBefore, shortfall: whole, fundBalance: ledger.balance,
                                adlTaken: taken, adlAccounts: hit))
        }
        self.rounds = rounds
        deleveraging = CascadeSpec.DeleveragingRule.allCases.enumerated().map { r, rule in
            let haircuts = ledger.touched[r].sorted().map { (account: $0, amount: ledger.taken[r][$0]) }
            return Deleveraging(rule: rule, taken: haircuts.reduce(0) { $0 + $1.amount }, haircuts: haircuts, unfunded: ledger.unfunded[r])
        }
    }
}
