import ArgumentParser
import Calibration
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// `thresher evaluate FILE`: the scenario's `policy:` under its model.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate the margin policy the venue runs ('policy:'): breach probability per tier, liquidations, deficits, penalty coverage, fund.",
        discussion: """
        Example: thresher evaluate Scenarios/default.yaml --policy cal.yaml --html evaluate.html
        (cal.yaml: a 'policy:' section, as calibrate --policy-out writes it; without --policy the scenario's own)
        """)

    @Argument(help: "Scenario file with 'policy' and 'calibration' sections.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    @OptionGroup(title: "Monte Carlo") var memory: MemoryOptions

    func run() throws {
        try MonteCarloCommands.execute(Self.self, memory.request(options.request(Self.name, file: file)), file: file, presentation: options.presentation(),
                                       coordination: .local(options.slicing))
    }
}

extension Evaluate: MonteCarloCommand {
    static let name = "evaluate"
    static func label(_ request: RunRequest) -> String { "policy evaluation" }

    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int {
        PolicyEvaluator.passes + PolicyEvaluator.riskArrayPasses(scenario) + (scenario.policy?.portfolioMargin != nil ? PortfolioMarginStudy.passes : 0)
    }

    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument {
        let result = try PolicyEvaluator(scenario: scenario, file: file).run(settings: run.settings, cancellation: run.cancellation, progress: run.progress)
        var document = EvaluationReport(result: result, overrides: echo, top: presentation.output.topRows).document
        if scenario.policy?.portfolioMargin != nil {
            let margin = try PortfolioMarginStudy(scenario: scenario, file: file).run(settings: run.settings, ranges: [0..<scenario.simulation.paths],
                                                                                       cancellation: run.cancellation, progress: run.progress)[0]
            document.append(PortfolioMarginReport(result: margin, waterfall: result.underRiskArray.map { ($0, ladder: result) }))
        }
        return document
    }
}
