import ArgumentParser
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

    /// The slice given by a launcher's environment, with the variables it came from. In order:
    /// Open MPI, a Slurm job array, Slurm tasks, a Kubernetes Indexed Job, an AWS Batch array job.
    static func launcherSlice(_ env: [String: String], slices: Int?) throws -> (index: Int, count: Int, source: String)? {
        func int(_ name: String) -> Int? { env[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        func checked(_ index: Int?, _ count: Int?, _ source: String) throws -> (Int, Int, String)? {
            guard let index else { return nil }
            guard let count = slices ?? count else {
                throw ValidationError("\(source) gives slice \(index) but no slice count: pass --slices N")
            }
            guard count >= 1, (0..<count).contains(index) else { throw ValidationError("\(source) gives slice \(index) of \(count): not a valid slice") }
            return (index, count, source)
        }
        if let s = try checked(int("OMPI_COMM_WORLD_RANK"), int("OMPI_COMM_WORLD_SIZE"), "OMPI_COMM_WORLD_RANK/SIZE") { return s }
        if let id = int("SLURM_ARRAY_TASK_ID") {
            let index = id - (int("SLURM_ARRAY_TASK_MIN") ?? 0)
            if let s = try checked(index, int("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID/COUNT") { return s }
        }
        if let s = try checked(int("SLURM_PROCID"), int("SLURM_NTASKS"), "SLURM_PROCID/NTASKS") { return s }
        if let s = try checked(int("JOB_COMPLETION_INDEX"), nil, "JOB_COMPLETION_INDEX") { return s }
        if let s = try checked(int("AWS_BATCH_JOB_ARRAY_INDEX"), int("AWS_BATCH_JOB_ARRAY_SIZE"), "AWS_BATCH_JOB_ARRAY_INDEX/SIZE") { return s }
        return nil
    }

    /// The coordinator of this process's share of the run, or nil to run every path here.
    /// - Parameters:
    ///   - command: the subcommand (run, calibrate, …) and `digest` the scenario's (files and options).
    func resolve(command: String, file: String, scenario: Scenario, digest: UInt64) throws -> SlicedRun? {
        if let merging = Coordinators.merging {
            return SlicedRun(coordinator: merging, writePart: nil)
        }
        if let collective = Coordinators.collective {
            if slice != nil || partial != nil || resume != nil {
                throw ValidationError("under MPI the ranks split the paths themselves: --slice, --partial and --resume are for job arrays")
            }
            return SlicedRun(coordinator: collective.coordinator, writePart: nil)
        }
        let given = slice.flatMap(Self.parse).map { (index: $0.index, count: $0.count, source: "--slice") }
        guard let (index, count, source) = try given ?? Self.launcherSlice(ProcessInfo.processInfo.environment, slices: slices) else {
            if partial != nil || resume != nil { return try sliced(index: 0, count: 1, command: command, file: file, scenario: scenario, digest: digest) }
            return nil
        }
        if count == 1 && partial == nil && resume == nil { return nil }
        guard partial != nil else {
            throw ValidationError("this process is slice \(index)/\(count) (\(source)): pass --partial FILE for its state, then 'thresher merge' the parts (README, \"Clusters\")")
        }
        return try sliced(index: index, count: count, command: command, file: file, scenario: scenario, digest: digest)
    }

    private func sliced(index: Int, count: Int, command: String, file: String, scenario: Scenario, digest: UInt64) throws -> SlicedRun {
        guard let partial else { throw ValidationError("--resume needs --partial FILE for the part of the next stage") }
        var known: [Data] = [], resumedFrom: UInt64 = 0
        if let resume {
            let state = try PartFile.read(path: resume)
            guard state.kind == .state else { throw PartFileError(file: resume, reason: "a part, not a merged state ('thresher merge --state-out' writes those)") }
            guard state.command == command, state.digest == digest else {
                throw PartFileError(file: resume, reason: "the state is of another run ('\(state.command)' on \(state.scenarioPath) with other files or options)")
            }
            known = state.payloads
            resumedFrom = state.checksum
        }
        let arguments = Self.replayArguments(CommandLine.arguments, file: file)
        let path = partial.replacingOccurrences(of: "{slice}", with: String(index))
        let scenarioPath = URL(fileURLWithPath: file).standardizedFileURL.path
        return SlicedRun(coordinator: ReplayCoordinator(known: known, next: .slice(index: index, count: count))) { computed in
            let part = PartFile(kind: .part, producer: "thresher \(BuildInfo.version) (commit \(BuildInfo.commit))", command: command,
                                scenarioPath: scenarioPath, arguments: arguments, digest: digest, seed: scenario.simulation.seed,
                                paths: scenario.simulation.paths, slice: index, slices: count, stage: computed.stage, resumedFrom: resumedFrom,
                                payloads: [computed.payload])
            try OutputFile.write(part.encoded, to: path)
            FileHandle.standardError.write(Data("slice \(index)/\(count) of \(command): stage \(computed.stage + 1) written to \(path) (\(computed.payload.count) bytes); merge the \(count) parts with 'thresher merge'\n".utf8))
        }
    }

    /// Options that change only where output goes or how fast it runs: not replayed by a merge.
    static let localOptions: Set<String> = ["--threads", "--chunk-size", "--json", "--html", "--csv", "--top", "--slice", "--slices",
                                            "--partial", "--resume", "--policy-out"]
    static let localFlags: Set<String> = ["--all", "--quiet"]

    /// The command's options a merge re-runs it with: argv without the program, the subcommand, the
    /// scenario file and the local options.
    static func replayArguments(_ argv: [String], file: String) -> [String] {
        var kept: [String] = []
        var k = 2, fileSeen = false
        while k < argv.count {
            let argument = argv[k]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if localOptions.contains(argument) { k += 2; continue }
            if argument.contains("="), localOptions.contains(name) { k += 1; continue }
            if localFlags.contains(argument) { k += 1; continue }
            if argument == file && !fileSeen { fileSeen = true; k += 1; continue }
            kept.append(argument)
            k += 1
        }
        return kept
    }
}

/// This process's share of a run spread over processes.
struct SlicedRun {
    let coordinator: any PathCoordinator
    /// Writes the part file of a slice's computed stage (nil: the coordinator does not stop there).
    let writePart: ((StageComputed) throws -> Void)?
}

/// The coordinators installed around a command by `thresher merge` and by an MPI launch.
enum Coordinators {
    /// Set by `thresher merge` while it re-runs the parts' command.
    @TaskLocal static var merging: ReplayCoordinator?

    /// An MPI launch of more than one rank: the collective coordinator and how to abort every rank.
    struct Collective: Sendable {
        let coordinator: CollectiveCoordinator
        let abort: @Sendable (Int32) -> Void
    }
    @TaskLocal static var collective: Collective?
}
