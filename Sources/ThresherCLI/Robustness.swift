import ArgumentParser
import Calibration
import Foundation
import Reports
import ScenarioSpec

/// `thresher robustness FILE`: the model-risk matrix, the frontier and the sensitivity of the thresholds.
struct Robustness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness",
        abstract: "Benchmark how robust the thresholds are: model-risk matrix, trade-off frontier of the ladder, sensitivity to each input (needs 'calibration:').")

    @Argument(help: "Scenario file with a 'calibration' section (and optionally 'policy').")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    func run() throws {
        try runMonteCarloCommand(file: file, options: options, command: "robustness", label: "robustness",
                                 passes: { try RobustnessAnalyzer(scenario: $0, file: file).passes }) { scenario, echo, settings, cancellation, progress in
            let result = try RobustnessAnalyzer(scenario: scenario, file: file).run(settings: settings, cancellation: cancellation, progress: progress)
            return RobustnessReport(result: result, overrides: echo, top: options.output.topRows).document
        }
    }
}
