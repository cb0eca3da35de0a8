import ArgumentParser
import Calibration
import Foundation
import Reports
import ScenarioSpec

/// `thresher evaluate FILE`: the scenario's `policy:` under its model.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate the margin policy the venue runs ('policy:'): breach probability per tier, liquidations, deficits, penalty coverage, fund.")

    @Argument(help: "Scenario file with 'policy' and 'calibration' sections.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    func run() throws {
        try runMonteCarloCommand(file: file, options: options, command: "evaluate", label: "policy evaluation",
                                 passes: { _ in PolicyEvaluator.passes }) { scenario, echo, settings, cancellation, progress in
            let result = try PolicyEvaluator(scenario: scenario, file: file).run(settings: settings, cancellation: cancellation, progress: progress)
            return EvaluationReport(result: result, overrides: echo, top: options.output.topRows).document
        }
    }
}
