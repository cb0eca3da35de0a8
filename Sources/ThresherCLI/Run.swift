import ArgumentParser
import Engine
import Foundation
import Reports
import ScenarioSpec

/// `thresher run FILE`: revalue the book on every path, report VaR/ES for the book and each account.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Monte Carlo revaluation of the book: VaR, ES, mean and standard deviation of loss.")

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var simulation: SimulationOptions

    @Option(help: "Also write the JSON report to this file.")
    var json: String?

    @Flag(help: "Print no table and no progress bar.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            var scenario = try Scenario.load(path: file)
            simulation.apply(to: &scenario)
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            let progress = RunProgress(total: scenario.simulation.paths)
            let bar = ProgressBar(progress: progress, quiet: quiet)
            let result: PortfolioRunResult
            do {
                result = try PortfolioRun(scenario: scenario).run(settings: simulation.settings, cancellation: cancellation, progress: progress)
                bar?.finish()
            } catch {
                bar?.finish()
                throw error
            }
            let report = RunReport(result: result)
            if let json { try OutputFile.write(report.json.fileData, to: json) }
            if !quiet { print(report.table, terminator: "") }
        }
    }
}
