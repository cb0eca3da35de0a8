import ArgumentParser
import CommandSupport
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import WorkerPool

/// Options shared by every command that simulates.
struct SimulationOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of Monte Carlo paths, a whole number as in the scenario: 200000, 200_000 or 2e5 (default: simulation.paths of the scenario).",
            transform: { text in
                guard let paths = wholeNumber(text) else { throw ValidationError("--paths must be a whole number such as 200000, 200_000 or 2e5, got '\(text)'") }
                return paths
            })
    var paths: Int?

    @Option(help: "Seed of the random streams (default: simulation.seed of the scenario).")
    var seed: UInt64?

    @Option(help: "Worker threads (default: the active processors, shared among the MPI ranks on this node). Results do not depend on it.")
    var threads: Int = defaultWorkerThreads

    @Option(help: "Paths per chunk of work, a multiple of 64 (default: 1024; for `run` on a book of 1,024 accounts or more up to 8192, as long as every thread gets 8 chunks). Results do not depend on it.")
    var chunkSize: Int?

    func validate() throws {
        if let paths, paths <= 0 || paths > 10_000_000_000 { throw ValidationError("--paths must be in 1 … 10,000,000,000, got \(paths)") }
        if threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        if let chunkSize, chunkSize <= 0 || chunkSize % 64 != 0 { throw ValidationError("--chunk-size must be a positive multiple of 64, got \(chunkSize)") }
    }

    /// The settings of `sample`: `--chunk-size`, or `ChunkPlan.defaultChunkSize`.
    var settings: RunSettings { RunSettings(threads: threads, chunkSize: chunkSize ?? ChunkPlan.defaultChunkSize) }

    /// Applies --paths and --seed to a loaded scenario.
    func apply(to scenario: inout Scenario) {
        if let paths { scenario.simulation.paths = paths }
        if let seed { scenario.simulation.seed = seed }
    }
}

/// The worker threads of a command without `--threads`: the active processors, divided among the
/// ranks an MPI launcher started on this node (`Launcher.defaultThreads`).
let defaultWorkerThreads = Launcher.defaultThreads(ProcessInfo.processInfo.environment, cores: defaultThreadCount)

/// Runs a command body, turning every error a user can cause into a one-line message on stderr and
/// a documented exit code — never a stack trace.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as any ThresherError {
        throw fail(error.diagnostic, error.exitStatus)
    } catch let error as ValidationError {
        throw fail("error: \(error)", ExitStatus.usage)
    }
}

/// Prints the message and gives the exit code; under MPI it ends every rank (a rank that stops
/// alone would leave the others waiting in a collective).
private func fail(_ message: String, _ code: Int32) -> ExitCode {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    Coordinators.collective?.abort(code)
    return ExitCode(code)
}

/// Ctrl-C sets the cancellation; workers stop after the chunk in hand.
func installInterruptHandler(_ cancellation: Cancellation) -> DispatchSourceSignal {
    signal(SIGINT, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
    source.setEventHandler { cancellation.cancel() }
    source.resume()
    return source
}

/// A progress bar on stderr, shown only when stderr is a terminal and the run lasts over a second.
final class ProgressBar {
    private let progress: RunProgress
    private let timer: DispatchSourceTimer
    private let start = Date()
    private var shown = false

    /// - Parameter header: printed at once (what is being run), so a long run says what it does
    ///   before it ends.
    init?(progress: RunProgress, quiet: Bool, header: String? = nil) {
        guard !quiet, isatty(STDERR_FILENO) == 1 else { return nil }
        if let header { FileHandle.standardError.write(Data((header + "\n").utf8)) }
        self.progress = progress
        timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 1, repeating: 0.25)
        timer.setEventHandler { [unowned self] in self.draw() }
        timer.resume()
    }

    private func draw() {
        shown = true
        let fraction = Double(progress.completed) / Double(max(progress.total, 1))
        let elapsed = Date().timeIntervalSince(start)
        let width = 30, filled = Int(fraction * Double(width))
        let eta = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "\r%@ %5.1f%%  %.0f paths/s  ETA %.0f s ", bar, fraction * 100, Double(progress.completed) / max(elapsed, 1e-9), eta)
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        timer.cancel()
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// The line printed when a long command starts: scenario, paths, seed, horizon, tails, threads.
func runHeader(_ scenario: Scenario, threads: Int) -> String {
    runContext(scenario, paths: scenario.simulation.paths, threads: threads, overrides: [])[0]
}

/// `--column ID=COLUMN` (or `ID`) of `fit` and `backtest`: the series id and its column (nil: the
/// long layout's rows of ID, or for `backtest` the column named as the id).
func parseColumn(_ text: String) -> (id: String, column: String?) {
    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
    return parts.count == 2 ? (parts[0], parts[1]) : (parts[0], nil)
}
