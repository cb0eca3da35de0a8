import ArgumentParser
import Engine
import Foundation
import WorkerPool
import Reports
import ScenarioSpec

/// `thresher run FILE`: revalue the book on every path, report VaR/ES for the book and each account.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Monte Carlo revaluation of the book: VaR, ES, mean and standard deviation of loss.")

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    func run() throws {
        try runMonteCarloCommand(file: file, options: options, command: "run", label: "", passes: { _ in 1 }) {
            scenario, echo, settings, cancellation, progress in
            let result = try PortfolioRun(scenario: scenario).run(settings: settings, cancellation: cancellation, progress: progress)
            return RunReport(result: result, overrides: echo, stresses: StressTest.evaluate(scenario), top: options.output.topRows).document
        }
    }
}
