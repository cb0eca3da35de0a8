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

    /// Loads the scenario with every override and shock applied, and the echo lines of reports.
    func load(_ file: String) throws -> (scenario: Scenario, echo: [String]) {
        try WhatIf(overrides: overrides, spotShocks: shocks).load(path: file)
    }
}
