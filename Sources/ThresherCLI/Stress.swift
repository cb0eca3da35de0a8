import ArgumentParser
import Calibration
import Engine
import Foundation
import Reports

/// `thresher stress FILE`: exact revaluation of the book under the scenario's deterministic stresses;
/// `--shock`/`--shock-vol`: the move itself as the first stress (who fails under it), then the
/// scenario's stresses from the moved market; `--cascade`: each stress as the exogenous move of a
/// liquidation cascade (`StressCascade`).
struct Stress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Revalue the book exactly under the scenario's deterministic stresses (inline 'stress:' and 'stress_library').",
        discussion: """
        Examples: thresher stress Scenarios/default.yaml --policy cal.yaml --csv stress-out
                  thresher stress Scenarios/default.yaml --shock BTC=-0.3 --shock ETH=-0.35   (who fails under that move)
        """)

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup(title: "Scenario and what-ifs") var whatIf: WhatIfOptions

    @OptionGroup(title: "Reports") var output: ReportOptions

    @OptionGroup(title: "Results store") var store: StoreOptions

    @Flag(help: ArgumentHelp(
        "Run each stress as the exogenous move of a liquidation cascade at one instant: round by round, the accounts liquidated, prices after each round, the insurance fund and auto-deleveraging.",
        discussion: "Needs the scenario's 'policy:' (ladder, liquidation_penalty, insurance_fund) and 'calibration:' (liquidation.depth, impact; liquidation.cascade, or its defaults when absent). Writes cascades.csv, cascade_rounds.csv, cascade_adl.csv, cascade_liquidations.csv with --csv, and charts of price and fund by round with --html."))
    var cascade = false

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        let whatIf = whatIf.value
        var edits = whatIf
        (edits.spotShocks, edits.volShocks) = ([], [])
        try runReportingCommand(file: file, whatIf: cascade ? whatIf : edits, output: output.files, quiet: quiet,
                                 recording: RunRecording(location: store.store, command: "stress", simulates: false)) { scenario, echo in
            if cascade {
                return StressCascadeReport(scenario: scenario, cascades: try StressCascade.run(scenario, file: file), overrides: echo).document
            }
            return StressReport.whatIf(scenario, move: try whatIf.instantMove(market: scenario.market), echo: echo,
                                       maintenance: try Calibrator.stressSchedule(for: scenario), top: output.topRows).document
        }
    }
}
