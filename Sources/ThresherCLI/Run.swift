import ArgumentParser
import Engine
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import WorkerPool

/// `thresher run FILE`: revalue the book on every path, report VaR/ES for the book and each account.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Monte Carlo revaluation of the book: VaR, ES, mean and standard deviation of loss.",
        discussion: """
        Example: thresher run Scenarios/default.yaml --paths 1e6 --shock BTC=-0.2 --html run.html
        """)

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    @OptionGroup(title: "Monte Carlo") var memory: MemoryOptions

    func run() throws {
        let request = memory.request(options.request(Self.name, file: file))
        try MonteCarloCommands.execute(Self.self, request, file: file, presentation: options.presentation(), coordination: .local(options.slicing))
    }
}

extension Run: MonteCarloCommand {
    static let name = "run"

    /// Larger chunks for books of many accounts (`ChunkPlan.automaticChunkSize`).
    static func defaultChunkSize(_ scenario: Scenario, threads: Int) -> Int {
        ChunkPlan.automaticChunkSize(paths: scenario.simulation.paths, threads: threads, accounts: scenario.portfolio.accounts.count)
    }

    static func label(_ request: RunRequest) -> String { "" }

    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int {
        AccountGroups(scenario: scenario, threads: presentation.threads, memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit).ranges.count
    }

    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument {
        let result = try PortfolioRun(scenario: scenario).run(settings: run.settings, memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit,
                                                              cancellation: run.cancellation, progress: run.progress)
        return RunReport(result: result, overrides: echo, stresses: StressTest.evaluate(scenario), top: presentation.output.topRows,
                         merged: presentation.merged).document
    }
}

/// `--memory-limit`, of every Monte Carlo command.
struct MemoryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Memory for the accounts' tails (bytes, or with K/M/G/T, e.g. 2G; default 512M). A book whose tails need more is run in groups of accounts, one pass over the paths each (calibrate: its pass B); calibrate, evaluate and robustness also run their cells' waterfalls in batches that fit in it. The numbers are the same.",
                               valueName: "size"),
            transform: parseMemorySize)
    var memoryLimit: Int = AccountGroups.defaultMemoryLimit

    /// `request` with the limit.
    func request(_ request: RunRequest) -> RunRequest {
        var request = request
        request.memoryLimit = memoryLimit
        return request
    }
}

/// A memory size: a whole number of bytes, or a number with K, M, G or T (powers of 1,024; an
/// optional trailing "B" or "iB"), at least 1 MiB.
func parseMemorySize(_ text: String) throws -> Int {
    var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
    for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count { digits.removeLast(suffix.count) }
    let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
    var scale = 1.0
    if let last = digits.last, let unit = units[last] { scale = unit; digits.removeLast() }
    guard let value = Double(digits), value.isFinite, value * scale >= 0x1p20, value * scale <= 0x1p60 else {
        throw ValidationError("--memory-limit must be a size of at least 1M such as 512M or 2G, got '\(text)'")
    }
    return Int(value * scale)
}
