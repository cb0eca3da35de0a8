import ArgumentParser
import Engine
import Foundation
import ScenarioSpec

/// Edits of the scenario without editing the file: `--set PATH=VALUE` (repeatable) and the sections
/// read from other files, `--policy FILE` and `--market FILE`.
struct ScenarioOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override a scenario field, e.g. market.assets.BTC.vol=1.2 or portfolio.accounts.desk-1.collateral.USD=3e6. List elements are addressed by id or index. Repeatable.",
        valueName: "path=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp(
        "Use the top-level 'policy:' section of this file (as 'calibrate --policy-out' writes it) instead of the scenario's.",
        valueName: "file"))
    var policy: String?

    @Option(help: ArgumentHelp(
        "Use the top-level 'market:' section of this file (as 'fit --out' writes it) instead of the scenario's.",
        valueName: "file"))
    var market: String?

    /// The edits as the library's value (no moves).
    var value: WhatIf { WhatIf(overrides: overrides, policyFile: policy, marketFile: market) }
}

/// What-ifs without editing the file: the `ScenarioOptions`, then instant moves `--shock ASSET=MOVE`
/// and `--shock-vol ASSET=MOVE`, each repeatable.
struct WhatIfOptions: ParsableArguments {
    @OptionGroup var edits: ScenarioOptions

    @Option(name: .customLong("shock"), help: ArgumentHelp(
        "Instant relative spot move before the simulation, e.g. BTC=-0.3 (spot × 0.7), '*=-0.2' for every asset not named. Equity after = equity now − the exact loss of the move (as 'stress' with horizon_days 0); contract P&L is settled into collateral (USD; coins for inverse perps). A stablecoin id moves its price (de-peg). Repeatable.",
        valueName: "asset=move"))
    var shocks: [String] = []

    @Option(name: .customLong("shock-vol"), help: ArgumentHelp(
        "Instant relative implied-vol move of every option on the asset, e.g. BTC=0.5 (iv × 1.5), '*=0.5' for all; applied with --shock as one move. Repeatable.",
        valueName: "asset=move"))
    var volShocks: [String] = []

    /// The edits and moves as the library's value.
    var value: WhatIf {
        var whatIf = edits.value
        whatIf.spotShocks = shocks
        whatIf.volShocks = volShocks
        return whatIf
    }

    /// Loads the scenario with every override and move applied, and the echo lines of reports.
    func load(_ file: String) throws -> (scenario: Scenario, echo: [String]) { try value.load(path: file) }
}
