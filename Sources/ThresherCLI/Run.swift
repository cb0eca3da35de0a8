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

    @OptionGroup var simulation: SimulationOptions

    @OptionGroup var whatIf: WhatIfOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: "Print no table and no progress bar.")
    var quiet = false

    func run() throws {
        try runMonteCarloCommand(file: file, simulation: simulation, whatIf: whatIf, output: output, quiet: quiet, label: "", passes: { _ in 1 }) {
            scenario, echo, cancellation, progress in
            let result = try PortfolioRun(scenario: scenario).run(settings: simulation.settings, cancellation: cancellation, progress: progress)
            return RunReport(result: result, overrides: echo, stresses: StressTest.evaluate(scenario), top: output.topRows).document
        }
    }
}
