import ArgumentParser
import Foundation

/// `thresher validate FILE`: parse and check a scenario, print a one-line summary.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Check a scenario file; report the first mistake with its field path.",
        discussion: """
        Example: thresher validate Scenarios/default.yaml --set market.assets.BTC.vol=1.2 --policy cal.yaml
        """)

    @Argument(help: "Scenario file (.yaml, .yml or .json).")
    var file: String

    @OptionGroup(title: "Scenario and what-ifs") var whatIf: WhatIfOptions

    func run() throws {
        try reportingErrors {
            let (scenario, echo) = try whatIf.load(file)
            let positions = scenario.portfolio.accounts.reduce(0) { $0 + $1.positions.count }
            var line = "\(file): ok — '\(scenario.name)': \(scenario.market.assets.count) assets, "
            line += "\(scenario.portfolio.accounts.count) accounts, \(positions) positions, \(scenario.market.tails.name) tails"
            if let change = scenario.market.correlationRepairChange {
                line += "; correlation repaired (largest entry change \(String(format: "%.3g", change)))"
            }
            if !echo.isEmpty { line += "; with \(echo.joined(separator: ", "))" }
            print(line)
        }
    }
}
