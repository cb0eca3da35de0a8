import ArgumentParser
import Calibration
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// `thresher robustness FILE`: the model-risk matrix, the frontier and the sensitivity of the thresholds.
struct Robustness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness",
        abstract: "Benchmark how robust the thresholds are: model-risk matrix, trade-off frontier of the ladder, sensitivity to each input (needs 'calibration:').",
        discussion: """
        Example: thresher robustness Scenarios/default.yaml --paths 100000 --policy cal.yaml --csv robustness-out
        """)

    @Argument(help: "Scenario file with a 'calibration' section (and optionally 'policy').")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    @OptionGroup(title: "Monte Carlo") var memory: MemoryOptions

    func run() throws {
        try MonteCarloCommands.execute(Self.self, memory.request(options.request(Self.name, file: file)), file: file, presentation: options.presentation(),
                                       coordination: .local(options.slicing))
    }
}

extension Robustness: MonteCarloCommand {
    static let name = "robustness"
    static func label(_ request: RunRequest) -> String { "robustness" }

    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int {
        try RobustnessAnalyzer(scenario: scenario, file: file).passes
    }

    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument {
        let result = try RobustnessAnalyzer(scenario: scenario, file: file).run(settings: run.settings, cancellation: run.cancellation, progress: run.progress)
        return RobustnessReport(result: result, overrides: echo, top: presentation.output.topRows).document
    }
}
