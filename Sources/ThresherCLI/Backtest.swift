import ArgumentParser
import Backtest
import CommandSupport
import Foundation
import History
import Reports
import WorkerPool

/// `thresher backtest FILE --history PRICES.csv`: walk-forward VaR/ES of the scenario's book on real
/// prices, with the exception tests and the procyclicality of the margin.
struct BacktestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Walk forward over a price history: forecast the book's next-day VaR/ES under each model, test the exceptions (Kupiec, Christoffersen, traffic light, Acerbi–Székely) and the procyclicality of the margin.",
        discussion: """
        Example: thresher backtest Scenarios/default.yaml --history prices.csv.gz --column BTC=BTC:close --paths 20000 --csv backtest-out
        The price file may be gzip-compressed (.csv.gz).
        """)

    @Argument(help: "Scenario file (its book, confidence levels, seed and paths).")
    var file: String

    @Option(help: "Price file (CSV, or gzip-compressed CSV): a Date column and one column per asset, or the long layout date,asset,close.")
    var history: String

    @Option(name: .customLong("column"), help: ArgumentHelp("The history column of a scenario asset, ID=COLUMN (e.g. BTC=BTC:close, SPX='Adj Close'); an asset not named reads the column named as its id (long layout: its rows). Repeatable.", valueName: "id=column"))
    var columns: [String] = []

    @Option(help: "Returns in each fit's trailing window.")
    var window: Int = 500

    @Option(help: "Re-fit the parameters every this many days (the volatility filter moves daily).")
    var refit: Int = 20

    @Option(help: "Models to compare, comma-separated: gaussian, student-t, garch-t, filtered-historical.")
    var models: String = BacktestModel.allCases.map(\.rawValue).joined(separator: ",")

    @Option(name: .customLong("margin-level"), help: "The confidence level (one of the scenario's) whose VaR is the margin of the procyclicality study (default: the highest).")
    var marginLevel: Double?

    @Option(name: .customLong("es-simulations"), help: "Histories simulated from the forecasts for the critical value and p-value of the Acerbi–Székely Z₂ test.")
    var esSimulations: Int = 1000

    @Option(help: "First realised day tested (YYYY-MM-DD).")
    var from: String?

    @Option(help: "Last realised day tested (YYYY-MM-DD).")
    var to: String?

    @OptionGroup(title: "Monte Carlo") var simulation: SimulationOptions

    @OptionGroup(title: "Scenario") var edits: ScenarioOptions

    @OptionGroup(title: "Reports") var output: ReportFiles

    @OptionGroup(title: "Results store") var store: StoreOptions

    @Flag(help: "Print no table and no progress bar.")
    var quiet = false

    var modelList: [BacktestModel] { models.split(separator: ",").compactMap { BacktestModel(rawValue: $0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        let names = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if let bad = names.first(where: { BacktestModel(rawValue: $0) == nil }) {
            throw ValidationError("--models: unknown model '\(bad)'; the models are \(BacktestModel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if names.isEmpty { throw ValidationError("--models names no model") }
        let minimum = modelList.contains { $0 == .garchT || $0 == .filteredHistorical } ? 100 : 20
        if window < minimum { throw ValidationError("--window must be ≥ \(minimum) returns\(minimum == 100 ? " (a GARCH fit needs 100)" : ""), got \(window)") }
        if refit < 1 { throw ValidationError("--refit must be ≥ 1 day, got \(refit)") }
        if esSimulations < 100 || esSimulations > 1_000_000 { throw ValidationError("--es-simulations must be in 100 … 1,000,000, got \(esSimulations)") }
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, PriceHistory.day(value) == nil { throw ValidationError("\(flag) must be a date YYYY-MM-DD, got '\(value)'") }
        }
    }

    func run() throws {
        try runReportingCommand(file: file, whatIf: edits.value, output: output, quiet: quiet,
                                recording: RunRecording(location: store.store, command: "backtest", seed: simulation.seed, paths: simulation.paths)) { loaded, _ in
            var scenario = loaded
            simulation.apply(to: &scenario)
            var settings = BacktestSettings()
            settings.window = window
            settings.refit = refit
            settings.models = modelList
            settings.esSimulations = esSimulations
            settings.threads = simulation.threads
            settings.from = from.flatMap(PriceHistory.day)
            settings.to = to.flatMap(PriceHistory.day)
            if let marginLevel {
                guard let index = scenario.risk.confidence.firstIndex(where: { abs($0.value - marginLevel) < 1e-12 }) else {
                    throw ValidationError("--margin-level \(marginLevel) is not one of the scenario's levels (\(scenario.risk.confidence.map(\.label).joined(separator: ", ")))")
                }
                settings.marginLevel = index
            }
            let named = Dictionary(columns.map(parseColumn).map { ($0.id, $0.column ?? $0.id) }, uniquingKeysWith: { $1 })
            let ids = scenario.market.assets.map(\.id)
            if let unknown = named.keys.sorted().first(where: { !ids.contains($0) }) {
                throw ValidationError("--column \(unknown)=…: the scenario has no asset \(unknown) (its assets are \(ids.joined(separator: ", ")))")
            }
            let aligned: AlignedHistory
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            do {
                aligned = AlignedHistory(try PriceHistory(file: history, columns: ids.map { ($0, named[$0] ?? $0) }))
                for warning in aligned.warnings() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                let schedule = try WalkForwardSchedule(history: aligned, window: window, refit: refit, from: settings.from, to: settings.to)
                let progress = RunProgress(total: schedule.origins.count * settings.models.count * scenario.simulation.paths)
                let bar = ProgressBar(progress: progress, quiet: quiet || output.replacesTable,
                                      header: "backtest \(file) on \(history): \(counted(schedule.origins.count, "day")) × \(counted(settings.models.count, "model")) × \(counted(scenario.simulation.paths, "path")), \(simulation.threads) threads")
                defer { bar?.finish() }
                let result = try Backtester.run(scenario: scenario, history: aligned, settings: settings, cancellation: cancellation, progress: progress)
                return BacktestReport(result: result).document
            } catch let error as HistoryError {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(error.isMissingFile ? ExitStatus.missingInput : ExitStatus.invalidScenario)
            }
        }
    }
}
