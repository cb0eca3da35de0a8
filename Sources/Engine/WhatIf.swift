import Foundation
import Revaluation
import ScenarioSpec

/// What-ifs without editing the file: `--set PATH=VALUE` overrides of the document, sections read
/// from other files (`--policy FILE`, `--market FILE`), then instant market moves
/// `--shock ASSET=MOVE` (spot) and `--shock-vol ASSET=MOVE` (implied vol).
///
/// A move is a trade date passing: every account's equity after it is its equity now minus the exact
/// loss of the move, the number `thresher stress` gives for the same moves with `horizon_days: 0`.
/// The book is then marked at the moved market (spots S·(1 + move), option ivs iv·(1 + move)) and the
/// move's P&L on marked-to-market contracts is settled into each account's collateral, as variation
/// margin is: in USD for perps and futures, in coins of the asset for inverse perps (so a second move
/// from there loses what the combined move loses from the start).
public struct WhatIf: Sendable {
    /// `PATH=VALUE` texts (see `Override`).
    public var overrides: [String]
    /// `ASSET=MOVE` texts: S ← S·(1 + MOVE), MOVE > −1; `*` is every asset not named.
    public var spotShocks: [String]
    /// `ASSET=MOVE` texts: iv ← iv·(1 + MOVE) for every option on the asset, MOVE > −1; `*` as above.
    public var volShocks: [String]
    /// Files whose top-level `policy:` / `market:` replace the scenario's (see `IncludedSection`).
    public var policyFile: String?
    public var marketFile: String?

    public init(overrides: [String] = [], spotShocks: [String] = [], volShocks: [String] = [],
                policyFile: String? = nil, marketFile: String? = nil) {
        self.overrides = overrides
        self.spotShocks = spotShocks
        self.volShocks = volShocks
        self.policyFile = policyFile
        self.marketFile = marketFile
    }

    /// Loads the scenario with every override and move applied; returns it with the echo lines that
    /// reports print.
    /// - Throws: `ScenarioError` (bad override, move or content; file "--set", "--shock" or
    ///   "--shock-vol" for the command-line texts) or `ScenarioFileError`.
    public func load(path: String) throws -> (scenario: Scenario, echo: [String]) {
        var (scenario, echo) = try loadUnmoved(path: path)
        if let move = try instantMove(market: scenario.market) { echo += scenario.applyInstantMove(move) }
        return (scenario, echo)
    }

    /// Loads the scenario with the overrides and the sections from other files, without the moves;
    /// returns it with their echo lines.
    public func loadUnmoved(path: String) throws -> (scenario: Scenario, echo: [String]) {
        var sections: [IncludedSection: String] = [:]
        sections[.policy] = policyFile
        sections[.market] = marketFile
        let scenario = try Scenario.load(path: path, overrides: overrides.map { try Override($0) }, sections: sections)
        let echo = [("--market", marketFile), ("--policy", policyFile)].compactMap { flag, file in file.map { "\(flag) \($0)" } }
            + overrides.map { "--set \($0)" }
        return (scenario, echo)
    }

    /// The moves as one stress of horizon 0 named after the flags ("--shock BTC=-0.3"), on the ids of
    /// `market`; nil when there are none.
    public func instantMove(market: Market) throws -> StressScenario? {
        guard !spotShocks.isEmpty || !volShocks.isEmpty else { return nil }
        let spot = try Self.parseMoves(spotShocks, flag: "--shock", what: "spot", market: market, stablecoins: true)
        let vol = try Self.parseMoves(volShocks, flag: "--shock-vol", what: "implied-vol", market: market, stablecoins: false)
        let name = (spotShocks.map { "--shock \($0)" } + volShocks.map { "--shock-vol \($0)" }).joined(separator: " ")
        return StressScenario(name: name, spotMoves: spot, volMoves: vol, horizonDays: 0, origin: "what-if")
    }

    /// `ASSET=MOVE` texts as a move per asset id ("*": every asset not named).
    /// `stablecoins`: whether stablecoin ids may be moved (a de-peg is a spot move).
    static func parseMoves(_ texts: [String], flag: String, what: String, market: Market, stablecoins: Bool) throws -> [String: Double] {
        var moves: [String: Double] = [:]
        for text in texts {
            guard let equals = text.firstIndex(of: "="), let move = Double(text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)) else {
                throw ScenarioError(file: flag, path: text, line: nil, message: "expected ASSET=MOVE with MOVE a number, e.g. BTC=-0.2 (or *=0.5 for every asset)")
            }
            let id = String(text[..<equals]).trimmingCharacters(in: .whitespaces)
            guard id == "*" || market.assetIndex(id) != nil || (stablecoins && market.stablecoinIndex(id) != nil) else {
                throw ScenarioError(file: flag, path: id, line: nil,
                                    message: "unknown asset '\(id)'; known assets: \(market.assets.map(\.id).joined(separator: ", ")) (or * for all)")
            }
            guard move > -1, move <= 1000 else {
                throw ScenarioError(file: flag, path: id, line: nil, message: "a relative \(what) move must be > −1 (−100 %) and ≤ 1000 (+100,000 %), got \(move)")
            }
            guard moves.updateValue(move, forKey: id) == nil else {
                throw ScenarioError(file: flag, path: id, line: nil, message: "'\(id)' is moved twice; give one move per asset")
            }
        }
        return moves
    }
}

extension Scenario {
    /// The book under `move` alone, on the market as it is (`StressTest.evaluate` of a scenario whose
    /// only stress is `move`; an instant move has horizon 0): who fails under the move —
    /// `thresher stress --shock`'s first stress.
    /// - Parameter book: `StressTest.book(self, horizonDays: 0)`, when the caller keeps it (`thresher
    ///   serve` compiles it once per load); nil: compiled here.
    public func outcome(of move: StressScenario, maintenance: MarginSchedule?, book: Book? = nil) -> StressOutcome {
        let horizon = move.horizonDays ?? simulation.horizonDays
        let compiled = horizon == 0 ? (book ?? StressTest.book(self, horizonDays: 0)) : StressTest.book(self, horizonDays: horizon)
        return StressTest.evaluate(move, on: self, book: compiled, horizonDays: horizon, schedule: maintenance ?? policy?.schedule)
    }

    /// Applies the instant spot and implied-vol moves of `stress` (per asset id, "*" for every asset
    /// not named; its horizon is taken as 0) as described on `WhatIf`: equity after = equity now −
    /// the exact loss of the move. Returns the echo lines: the moved spots and the P&L settled into
    /// USD collateral.
    public mutating func applyInstantMove(_ move: StressScenario) -> [String] {
        let stress = StressScenario(name: move.name, spotMoves: move.spotMoves, volMoves: move.volMoves, horizonDays: 0, origin: move.origin)
        let spot = stress.spotMoves
        var instant = self
        instant.stresses = [stress]
        let losses = StressTest.evaluate(instant)[0].accountLosses
        let equityBefore = Book(scenario: self).equityNow
        let before = self
        var echo: [String] = []
        for i in market.assets.indices {
            let id = market.assets[i].id
            let move = stress.spotMove(id)
            if move != 0 {
                let before = market.assets[i].spot
                market.assets[i].spot = before * (1 + move)
                echo.append("--shock \(id)=\(move) (spot \(before) → \(market.assets[i].spot))")
            }
            if stress.volMove(id) != 0 { echo.append("--shock-vol \(id)=\(stress.volMove(id)) (option ivs × \(1 + stress.volMove(id)))") }
        }
        for i in market.stablecoins.indices {
            guard let move = spot[market.stablecoins[i].id] else { continue }
            let before = market.stablecoins[i].price
            market.stablecoins[i].price = before * (1 + move)
            echo.append("--shock \(market.stablecoins[i].id)=\(move) (de-peg: price \(before) → \(market.stablecoins[i].price))")
        }
        for a in portfolio.accounts.indices {
            portfolio.accounts[a].positions = portfolio.accounts[a].positions.map { position in
                let factor = 1 + stress.volMove(position.asset)
                return factor == 1 ? position : Position(position.instrument.scalingImpliedVol(by: factor))
            }
        }
        // P&L of coin-settled contracts, in coins of their asset: linear at horizon 0, weight·S' + c.
        var coinPnL = [[Int: Double]](repeating: [:], count: portfolio.accounts.count)
        for (a, account) in portfolio.accounts.enumerated() {
            for position in account.positions where position.instrument.settlesInCoin {
                let i = market.assetIndex(position.asset)!
                let oldSpot = before.market.assets[i].spot, newSpot = market.assets[i].spot
                for case .linear(let weight, let constant, _) in position.instrument.pricing(in: PricingContext(spot: oldSpot, rate: market.rate, horizonYears: 0)) {
                    coinPnL[a][i, default: 0] += (weight * newSpot + constant) / newSpot
                }
            }
        }
        for (a, coins) in coinPnL.enumerated() {
            for (i, amount) in coins.sorted(by: { $0.key < $1.key }) { portfolio.accounts[a].addCollateral(amount, in: market.assets[i].id) }
        }
        let equityAtMark = Book(scenario: self).equityNow
        var settled = 0.0
        for a in portfolio.accounts.indices {
            let variationMargin = (equityBefore[a] - losses[a]) - equityAtMark[a]
            settled += variationMargin
            portfolio.accounts[a].addCollateral(variationMargin, in: "USD")
        }
        let bookLoss = losses.reduce(0, +)
        echo.append("instant move: book \(bookLoss >= 0 ? "loss" : "gain") \(Self.usd(abs(bookLoss))); P&L of marked-to-market contracts settled into collateral (USD; coins for inverse perps), USD part: \(Self.usd(settled))")
        return echo
    }

    fileprivate static func usd(_ x: Double) -> String { String(format: "%.2f USD", x) }
}

extension Account {
    /// Adds `amount` (signed) to the collateral in `currency`, creating the entry if needed.
    mutating func addCollateral(_ amount: Double, in currency: String) {
        guard amount != 0 else { return }
        if let index = collateral.firstIndex(where: { $0.currency == currency }) {
            collateral[index].amount += amount
        } else {
            collateral.append((currency: currency, amount: amount))
        }
    }
}
