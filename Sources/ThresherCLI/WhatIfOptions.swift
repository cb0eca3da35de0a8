import ArgumentParser
import Foundation
import ScenarioSpec

/// What-ifs without editing the file: `--set PATH=VALUE` and `--shock ASSET=MOVE`, repeatable.
struct WhatIfOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a scenario field, e.g. market.assets.BTC.vol=1.2 or portfolio.accounts.desk-1.collateral.USD=3e6. List elements are addressed by id or index. Repeatable.",
        valueName: "path=value"))
    var overrides: [String] = []

    @Option(name: .customLong("shock"), help: ArgumentHelp(
        "Instant relative spot move applied before the simulation, e.g. BTC=-0.2 (spot × 0.8); the book is then valued from the moved market. Repeatable.",
        valueName: "asset=move"))
    var shocks: [String] = []

    /// Loads the scenario with every override and shock applied; returns it with the echo lines
    /// that reports print.
    func load(_ file: String) throws -> (scenario: Scenario, echo: [String]) {
        var scenario = try Scenario.load(path: file, overrides: overrides.map { try Override($0) })
        var echo = overrides.map { "--set \($0)" }
        for shock in shocks {
            guard let equals = shock.firstIndex(of: "="), let move = Double(shock[shock.index(after: equals)...]) else {
                throw ScenarioError(file: "--shock", path: shock, line: nil, message: "expected ASSET=MOVE with MOVE a number, e.g. BTC=-0.2")
            }
            let id = String(shock[..<equals])
            guard let index = scenario.market.assetIndex(id) else {
                throw ScenarioError(file: "--shock", path: id, line: nil,
                                    message: "unknown asset '\(id)'; known assets: \(scenario.market.assets.map(\.id).joined(separator: ", "))")
            }
            guard move > -1, move.isFinite else {
                throw ScenarioError(file: "--shock", path: id, line: nil, message: "a relative spot move must be > −1, got \(move)")
            }
            let before = scenario.market.assets[index].spot
            scenario.market.assets[index].spot = before * (1 + move)
            echo.append("--shock \(id)=\(move) (spot \(before) → \(scenario.market.assets[index].spot))")
        }
        return (scenario, echo)
    }
}
