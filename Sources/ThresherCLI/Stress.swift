import ArgumentParser
import Calibration
import Engine
import Foundation
import Reports

/// `thresher stress FILE`: exact revaluation of the book under the scenario's deterministic stresses;
/// `--cascade`: each stress as the exogenous move of a liquidation cascade (`StressCascade`).
struct Stress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Revalue the book exactly under the scenario's deterministic stresses (inline 'stress:' and 'stress_library').")

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var whatIf: WhatIfOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: ArgumentHelp(
        "Run each stress as the exogenous move of a liquidation cascade at one instant: round by round, the accounts liquidated, prices after each round, the insurance fund and auto-deleveraging.",
        discussion: "Needs the scenario's 'policy:' (ladder, liquidation_penalty, insurance_fund) and 'calibration:' (liquidation.depth, impact; liquidation.cascade, or its defaults when absent). Writes cascades.csv, cascade_rounds.csv, cascade_adl.csv, cascade_liquidations.csv with --csv, and charts of price and fund by round with --html."))
    var cascade = false

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try runReportingCommand(file: file, whatIf: whatIf.value, output: output, quiet: quiet) { scenario, echo in
            if cascade {
                return StressCascadeReport(scenario: scenario, cascades: try StressCascade.run(scenario, file: file), overrides: echo).document
            }
            let maintenance = try Calibrator.stressSchedule(for: scenario)
            return StressReport(scenario: scenario, outcomes: StressTest.evaluate(scenario, maintenance: maintenance?.schedule), overrides: echo,
                                maintenanceSource: maintenance?.source, top: output.topRows).document
        }
    }
}
