import ArgumentParser
import Synchronization
import CommandSupport
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// How the processes of one run find their share: `--slice I/N` or a launcher's environment
/// (README, "Clusters"), the part file to write, and the merged state to resume from.
struct SliceOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Compute only slice I of N of the paths (0-based) and write its exact state to --partial; default: from the launcher's environment (Open MPI, Slurm, Kubernetes, AWS Batch; README, \"Clusters\").", valueName: "I/N"))
    var slice: String?

    @Option(help: "The slice count N when the launcher gives only an index (JOB_COMPLETION_INDEX of a Kubernetes Indexed Job, AWS Batch).")
    var slices: Int?

    @Option(help: ArgumentHelp("Write this slice's partial state to FILE ('{slice}' in the name becomes the slice index); 'thresher merge' combines the parts.", valueName: "FILE"))
    var partial: String?

    @Option(help: ArgumentHelp("The merged state of the stages before this one ('thresher merge --state-out'), for commands whose passes depend on each other (calibrate, robustness).", valueName: "STATE"))
    var resume: String?

    func validate() throws {
        if let slice, Self.parse(slice) == nil { throw ValidationError("--slice must be I/N with 0 ≤ I < N (e.g. 0/4 … 3/4), got '\(slice)'") }
        if let slices, slices < 1 { throw ValidationError("--slices must be ≥ 1, got \(slices)") }
    }

    static func parse(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
        return (i, n)
    }

    /// The coordinator of this process's share of the run, or nil to run every path here.
    /// - Parameters:
    ///   - request: what the run computes (stored in the part files), `digest` the scenario's (files
    ///     and options).
    func resolve(request: RunRequest, scenario: Scenario, digest: UInt64) throws -> SlicedRun? {
        if let collective = Coordinators.collective {
            if slice != nil || partial != nil || resume != nil {
                throw ValidationError("under MPI the ranks split the paths themselves: --slice, --partial and --resume are for job arrays")
            }
            return SlicedRun(coordinator: collective.coordinator, replay: nil, writePart: nil)
        }
        let given = slice.flatMap(Self.parse).map { (index: $0.index, count: $0.count, source: "--slice") }
        guard let (index, count, source) = try given ?? Launcher.slice(ProcessInfo.processInfo.environment, slices: slices) else {
            if partial != nil || resume != nil { return try sliced(index: 0, count: 1, request: request, scenario: scenario, digest: digest) }
            return nil
        }
        if count == 1 && partial == nil && resume == nil { return nil }
        guard partial != nil else {
            throw ValidationError("this process is slice \(index)/\(count) (\(source)): pass --partial FILE for its state, then 'thresher merge' the parts (README, \"Clusters\")")
        }
        return try sliced(index: index, count: count, request: request, scenario: scenario, digest: digest)
    }

    private func sliced(index: Int, count: Int, request: RunRequest, scenario: Scenario, digest: UInt64) throws -> SlicedRun {
        guard let partial else { throw ValidationError("--resume needs --partial FILE for the part of the next stage") }
        var known: [Data] = [], resumedFrom: UInt64 = 0
        if let resume {
            let state = try PartFile.read(path: resume)
            guard state.kind == .state else { throw PartFileError(file: resume, reason: "a part, not a merged state ('thresher merge --state-out' writes those)") }
            guard state.command == request.command, state.digest == digest else {
                throw PartFileError(file: resume, reason: "the state is of another run ('\(state.command)' on \(state.scenarioPath) with other files or options)")
            }
            known = state.payloads
            resumedFrom = state.checksum
        }
        let path = partial.replacingOccurrences(of: "{slice}", with: String(index))
        let coordinator = ReplayCoordinator(known: known, next: .slice(index: index, count: count))
        return SlicedRun(coordinator: coordinator, replay: coordinator) { stage, payload in
            let part = PartFile(kind: .part, producer: "thresher \(BuildInfo.version) (commit \(BuildInfo.commit))", request: request, digest: digest,
                                seed: scenario.simulation.seed, paths: scenario.simulation.paths, slice: index, slices: count, stage: stage,
                                resumedFrom: resumedFrom, payloads: [payload])
            try OutputFile.write(part.encoded, to: path)
            FileHandle.standardError.write(Data("slice \(index)/\(count) of \(request.command): stage \(stage + 1) written to \(path) (\(payload.count) bytes); merge the \(count) parts with 'thresher merge'\n".utf8))
        }
    }
}

/// This process's share of a run spread over processes.
struct SlicedRun {
    let coordinator: any PathCoordinator
    /// The file-based coordinator, whose `outcome` says why a command stopped (nil under MPI).
    let replay: ReplayCoordinator?
    /// Writes the part file of a slice's computed stage (nil: the coordinator does not stop there).
    let writePart: ((_ stage: Int, _ payload: Data) throws -> Void)?
}

/// The MPI session of this process, set once at start-up when `mpirun` launched it.
enum Coordinators {
    /// An MPI launch of more than one rank: the collective coordinator and how to abort every rank.
    struct Collective: Sendable {
        let coordinator: CollectiveCoordinator
        let abort: @Sendable (Int32) -> Void
    }

    private static let session = Mutex<Collective?>(nil)

    /// The collective of this process's MPI job (nil: not under mpirun).
    static var collective: Collective? {
        get { session.withLock { $0 } }
        set { session.withLock { $0 = newValue } }
    }
}
