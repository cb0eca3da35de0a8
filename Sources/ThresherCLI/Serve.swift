import ArgumentParser
import CommandSupport
import Foundation
import MonteCarlo
import Reports
import Server
import Synchronization
import WorkerPool

/// `thresher serve FILE`: the scenario loaded once and served over HTTP — what-ifs, Monte Carlo jobs,
/// the risk desk's page (Sources/Server; README, "Serving what-ifs").
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve what-ifs over HTTP: the scenario and book loaded once; moves answered in milliseconds; run, calibrate, evaluate as jobs; a page at /.",
        discussion: """
        Example: thresher serve Scenarios/default.yaml --port 8080, then open http://127.0.0.1:8080/
        Binds 127.0.0.1 unless --host says otherwise; any other address needs THRESHER_TOKEN (a bearer token every /api request must carry).
        SIGTERM or Ctrl-C: stops accepting, finishes the requests in flight, cancels the jobs.
        """)

    @Argument(help: "Scenario file (its folder bounds every file a request may name).")
    var file: String

    @Option(help: "Address to bind (127.0.0.1; another address needs THRESHER_TOKEN).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0: any free port; the start line names it).")
    var port = 8080

    @Option(name: .customLong("max-body"), help: "Largest request body, bytes.")
    var maxBody = 1 << 20

    @Option(name: .customLong("max-jobs"), help: "Monte Carlo jobs queued or running at once (more are refused with 429).")
    var maxJobs = 8

    @Option(name: .customLong("running-jobs"), help: "Monte Carlo jobs running at once (the others wait in the queue).")
    var runningJobs = 1

    @Option(help: "Worker threads of each Monte Carlo job (default: the active processors). Results do not depend on it.")
    var threads: Int = defaultThreadCount

    func validate() throws {
        guard maxBody >= 1024 else { throw ValidationError("--max-body must be ≥ 1024 bytes, got \(maxBody)") }
        guard maxJobs >= 1, runningJobs >= 1, threads >= 1 else { throw ValidationError("--max-jobs, --running-jobs and --threads must be ≥ 1") }
    }

    func run() throws {
        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.token = ProcessInfo.processInfo.environment["THRESHER_TOKEN"]
        configuration.maxBodyBytes = maxBody
        configuration.maxJobs = maxJobs
        configuration.maxRunningJobs = runningJobs
        configuration.threads = threads
        try reportingErrors {
            let server: ThresherServer
            do {
                server = try ThresherServer(file: file, configuration: configuration, runner: MonteCarloCommands.serveJob)
            } catch let error as ServerSetupError {
                throw ValidationError(error.description)
            }
            let finished = DispatchSemaphore(value: 0)
            let failure = Mutex<(any Error)?>(nil)
            Task.detached {
                do {
                    try await server.run { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
                } catch {
                    failure.withLock { $0 = error }
                }
                finished.signal()
            }
            finished.wait()
            if let error = failure.withLock({ $0 }) { throw ServeFailure(description: "cannot serve on \(host):\(port): \(error)") }
        }
    }
}

/// The server could not bind or stopped on an error (exit 70).
struct ServeFailure: ThresherError {
    var exitStatus: Int32 { ExitStatus.internalFailure }
    let description: String
}

extension MonteCarloCommands {
    /// A job of `thresher serve`: `request` loaded and computed as `execute` does for the command line
    /// (no slices, no files, no progress bar), returning its `--json` document.
    @Sendable static func serveJob(_ request: RunRequest, threads: Int, cancellation: Cancellation,
                                   started: @Sendable (RunProgress) -> Void) throws -> Data {
        guard let command = named(request.command) else { throw ValidationError("unknown command '\(request.command)'") }
        let file = request.scenarioPath
        let (loaded, echo) = try request.whatIf.load(path: file)
        let scenario = request.simulating(loaded)
        let presentation = Presentation(threads: threads, output: try ReportOptions.parse([]), quiet: true)
        let progress = RunProgress(total: try command.passes(request, scenario: scenario, file: file, presentation: presentation) * scenario.simulation.paths)
        started(progress)
        let document = try command.compute(request, scenario: scenario, file: file, echo: echo,
                                           run: MonteCarloRun(settings: RunSettings(threads: threads), cancellation: cancellation, progress: progress),
                                           presentation: presentation)
        if let path = document.json.firstNonFinitePath { throw NonFiniteReport(file: file, path: path) }
        return JSONRenderer.render(document)
    }
}
