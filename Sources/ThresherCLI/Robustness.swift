import ArgumentParser
import Calibration
import Engine
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

    @Option(help: "Sections K of the paths for the 95 % intervals of every threshold, outcome and change (sectioning, the changes paired on common random numbers; doubles the work); 0 turns them off.")
    var sections: Int = Sectioning.defaultSections

    @Option(help: "Relative precision (a fraction) a threshold's interval must reach to be acted on; wider ones get the paths they need.")
    var precision: Double = Presentation.defaultPrecision

    func run() throws {
        var request = memory.request(options.request(Self.name, file: file))
        request.sections = sections
        var presentation = options.presentation()
        presentation.precision = try Presentation.validPrecision(precision)
        try MonteCarloCommands.execute(Self.self, request, file: file, presentation: presentation, coordination: .local(options.slicing))
    }
}

extension Robustness: MonteCarloCommand {
    static let name = "robustness"
    static func label(_ request: RunRequest) -> String { "robustness" }

    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int {
        let analyzer = try RobustnessAnalyzer(scenario: scenario, file: file), sections = request.sections ?? Sectioning.defaultSections
        return analyzer.passes(sections: sections, threads: presentation.threads, memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit)
            + PortfolioMarginRobustness.passes(scenario, spec: analyzer.spec, sections: sections)
    }

    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument {
        let sections = request.sections ?? Sectioning.defaultSections
        let analyzer = try RobustnessAnalyzer(scenario: scenario, file: file)
        let result = try analyzer.run(settings: run.settings, sections: sections, memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit,
                                      cancellation: run.cancellation, progress: run.progress)
        if sections >= 2 && result.base.sections.isEmpty {
            FileHandle.standardError.write(Data("warning: \(scenario.simulation.paths) paths are too few for \(sections) sections of ≥ \(Sectioning.minimumSectionPaths) paths: no confidence intervals\n".utf8))
        }
        var document = RobustnessReport(result: result, overrides: echo, top: presentation.output.topRows, precision: presentation.precision).document
        if scenario.policy?.portfolioMargin != nil {
            let array = try PortfolioMarginRobustness(scenario: scenario, spec: analyzer.spec, file: file, sections: sections, settings: run.settings,
                                                      cancellation: run.cancellation, progress: run.progress)
            document.append(PortfolioMarginRobustnessReport(study: array))
        }
        return document
    }
}
