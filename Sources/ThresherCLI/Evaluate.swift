import ArgumentParser
import Calibration
import Foundation
import Reports
import WorkerPool

/// `thresher evaluate FILE`: the scenario's `policy:` under its model.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate the margin policy the venue runs ('policy:'): breach probability per tier, liquidations, deficits, penalty coverage, fund.")

    @Argument(help: "Scenario file with 'policy' and 'calibration' sections.")
    var file: String

    @OptionGroup var simulation: SimulationOptions

    @OptionGroup var whatIf: WhatIfOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: "Print no table and no progress bar.")
    var quiet = false

    func run() throws {
        try runMonteCarloCommand(file: file, simulation: simulation, whatIf: whatIf, output: output, quiet: quiet, label: "policy evaluation",
                                 passes: { _ in PolicyEvaluator.passes }) { scenario, echo, cancellation, progress in
            let result = try PolicyEvaluator(scenario: scenario, file: file).run(settings: simulation.settings, cancellation: cancellation, progress: progress)
            return EvaluationReport(result: result, overrides: echo, top: output.topRows).document
        }
    }
}
