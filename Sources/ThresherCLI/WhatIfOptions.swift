import ArgumentParser
import Engine
import Foundation
import ScenarioSpec

/// What-ifs without editing the file: `--set PATH=VALUE`, `--shock ASSET=MOVE` and
/// `--shock-vol ASSET=MOVE`, each repeatable.
struct WhatIfOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a scenario field, e.g. market.assets.BTC.vol=1.2 or portfolio.accounts.desk-1.collateral.USD=3e6. List elements are addressed by id or index. Repeatable.",
        valueName: "path=value"))
    var overrides: [String] = []

    @Option(name: .customLong("shock"), help: ArgumentHelp(
        "Instant relative spot move before the simulation, e.g. BTC=-0.3 (spot × 0.7), '*=-0.2' for every asset not named. Equity after = equity now − the exact loss of the move (as 'stress' with horizon_days 0); contract P&L is settled into collateral (USD; coins for inverse perps). A stablecoin id moves its price (de-peg). Repeatable.",
        valueName: "asset=move"))
    var shocks: [String] = []

    @Option(name: .customLong("shock-vol"), help: ArgumentHelp(
        "Instant relative implied-vol move of every option on the asset, e.g. BTC=0.5 (iv × 1.5), '*=0.5' for all; applied with --shock as one move. Repeatable.",
        valueName: "asset=move"))
    var volShocks: [String] = []

    /// The overrides and moves as the library's value.
    var value: WhatIf { WhatIf(overrides: overrides, spotShocks: shocks, volShocks: volShocks) }

    /// Loads the scenario with every override and move applied, and the echo lines of reports.
    func load(_ file: String) throws -> (scenario: Scenario, echo: [String]) { try value.load(path: file) }
}
