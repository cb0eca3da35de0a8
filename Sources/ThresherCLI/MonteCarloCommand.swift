import ArgumentParser
import Engine
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import WorkerPool

/// A Monte Carlo command (run, calibrate, evaluate, robustness) as values: a `RunRequest` fixes its
/// numbers, `Presentation` only shapes its output, and `compute` turns a loaded scenario into the
/// report. The command line builds the request; `thresher merge` reads it from the parts. A new
/// Monte Carlo command is one conformer and its line in `MonteCarloCommands.all`.
protocol MonteCarloCommand {
    static var name: String { get }
    /// The start line's description of the work ("calibration: 3 passes"; "" for none).
    static func label(_ request: RunRequest) -> String
    /// Passes over the paths, for the progress total.
    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int
    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument
    /// The chunk size without `--chunk-size` (results do not depend on it).
    static func defaultChunkSize(_ scenario: Scenario, threads: Int) -> Int
}

extension MonteCarloCommand {
    /// `ChunkPlan.balancedChunkSize`: `ChunkPlan.defaultChunkSize` (the waterfalls of calibrate,
    /// evaluate and robustness were not measured at larger chunks), smaller when the paths would
    /// leave a worker without a chunk.
    static func defaultChunkSize(_ scenario: Scenario, threads: Int) -> Int {
        ChunkPlan.balancedChunkSize(paths: scenario.simulation.paths, threads: threads)
    }
}

/// What a Monte Carlo command computes with besides the scenario: the settings (with the
/// coordinator of a distributed run), the cancellation and the progress.
struct MonteCarloRun {
    let settings: RunSettings
    let cancellation: Cancellation
    let progress: RunProgress
    /// Whether this process writes the report and the command's own files.
    var ownsOutput: Bool { settings.coordinator?.ownsOutput ?? true }
}

/// What changes only where a command's output goes or how fast it runs.
struct Presentation {
    var threads: Int
    /// `--chunk-size`; nil: the command's `defaultChunkSize` for the scenario.
    var chunkSize: Int? = nil
    var output: ReportOptions
    var quiet: Bool
    /// calibrate: `--policy-out`.
    var policyOut: String? = nil
    /// calibrate, robustness: `--precision`, the relative half-width a threshold's interval must reach
    /// to be acted on; wider ones are reported with the paths they need.
    var precision: Double = Presentation.defaultPrecision
    /// `thresher merge`: the report is merged from the slices' parts (its time is the merge's).
    var merged = false
    /// `--store`: the results store the report is kept in.
    var store: String? = nil

    static let defaultPrecision = 0.1

    /// `precision` when it is a fraction in (0, 1].
    static func validPrecision(_ precision: Double) throws -> Double {
        guard precision > 0 && precision <= 1 else {
            throw ValidationError("--precision must be a fraction in (0, 1], e.g. 0.1 for ±10 %; got \(precision)")
        }
        return precision
    }
}

enum MonteCarloCommands {
    static let all: [any MonteCarloCommand.Type] = [Run.self, Calibrate.self, Evaluate.self, Robustness.self]

    static func named(_ name: String) -> (any MonteCarloCommand.Type)? { all.first { $0.name == name } }

    /// How the paths of a run are shared out.
    enum Coordination {
        /// This process's share from `--slice`, the launcher's environment or MPI (or all paths).
        case local(SliceOptions)
        /// `thresher merge`: the known stages and the parts of the next one.
        case merging(ReplayCoordinator)
    }

    /// Runs `request` on the scenario at `file` (the path as the user named it, for messages): loads
    /// it with the request's what-ifs, shares out the paths, draws the start line and progress bar,
    /// computes and writes the report (or this slice's part file).
    /// - Returns: how a merge stopped short of the report (nil: the report was written, or a part).
    @discardableResult
    static func execute(_ command: any MonteCarloCommand.Type, _ request: RunRequest, file: String, presentation: Presentation,
                        coordination: Coordination) throws -> StageOutcome? {
        var outcome: StageOutcome?
        try runReportingCommand(file: file, whatIf: request.whatIf, output: presentation.output.files, quiet: presentation.quiet,
                                 recording: RunRecording(location: presentation.store, command: request.command, seed: request.seed, paths: request.paths)) { loaded, echo in
            let scenario = request.simulating(loaded)
            let digest = PartFile.digest(sourceDigest: scenario.sourceDigest, command: request.command,
                                         options: echo + (request.sections.map { ["--sections \($0)"] } ?? []),
                                         seed: scenario.simulation.seed, paths: scenario.simulation.paths)
            let sliced: SlicedRun?
            switch coordination {
            case .local(let options): sliced = try options.resolve(request: request, scenario: scenario, digest: digest)
            case .merging(let coordinator): sliced = SlicedRun(coordinator: coordinator, replay: coordinator, writePart: nil)
            }
            let chunkSize = presentation.chunkSize ?? command.defaultChunkSize(scenario, threads: presentation.threads)
            var settings = RunSettings(threads: presentation.threads, chunkSize: chunkSize)
            settings.coordinator = sliced?.coordinator
            try sliced?.coordinator.begin(digest: digest)
            let owner = sliced?.coordinator.ownsOutput ?? true
            let total = try command.passes(request, scenario: scenario, file: file, presentation: presentation) * scenario.simulation.paths
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            let progress = RunProgress(total: total)
            let label = command.label(request)
            let bar = ProgressBar(progress: progress, quiet: presentation.quiet || presentation.output.files.replacesTable || !owner,
                                  header: runHeader(scenario, threads: presentation.threads) + (label.isEmpty ? "" : ", " + label))
            defer { bar?.finish() }
            do {
                let document = try command.compute(request, scenario: scenario, file: file, echo: echo,
                                                   run: MonteCarloRun(settings: settings, cancellation: cancellation, progress: progress),
                                                   presentation: presentation)
                return owner ? document : nil
            } catch is StageStop {
                switch sliced?.replay?.outcome {
                case .computed(let stage, let payload)?:
                    try sliced?.writePart?(stage, payload)
                case .needed?:
                    outcome = sliced?.replay?.outcome
                case nil:
                    throw CoordinationError("a stage stopped without a coordinator to say why")
                }
                return nil
            }
        }
        return outcome
    }
}

extension RunRequest {
    /// The request's edits and moves.
    var whatIf: WhatIf { WhatIf(overrides: overrides, spotShocks: spotShocks, volShocks: volShocks, policyFile: policyFile, marketFile: marketFile) }

    /// `scenario` with the request's `--paths` and `--seed`.
    func simulating(_ scenario: Scenario) -> Scenario {
        var scenario = scenario
        if let paths { scenario.simulation.paths = paths }
        if let seed { scenario.simulation.seed = seed }
        return scenario
    }
}

extension MonteCarloOptions {
    /// The request of `command` on `file` with these options.
    func request(_ command: String, file: String) -> RunRequest {
        var request = RunRequest(command: command, scenarioPath: URL(fileURLWithPath: file).standardizedFileURL.path)
        request.paths = simulation.paths
        request.seed = simulation.seed
        request.overrides = whatIf.edits.overrides
        request.policyFile = whatIf.edits.policy.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        request.marketFile = whatIf.edits.market.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        request.spotShocks = whatIf.shocks
        request.volShocks = whatIf.volShocks
        return request
    }

    func presentation(policyOut: String? = nil) -> Presentation {
        Presentation(threads: simulation.threads, chunkSize: simulation.chunkSize, output: output, quiet: quiet, policyOut: policyOut, store: store.store)
    }
}
