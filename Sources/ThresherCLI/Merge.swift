import ArgumentParser
import CommandSupport
import Foundation
import MonteCarlo
import WorkerPool

/// `thresher merge PARTS…`: the parts of every slice of one run, merged exactly into the report a
/// single process would write — or, for a command with dependent stages, into the merged state the
/// slices resume from for the next stage.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the part files of a run's slices (--slice/--partial) into its report, or into the state of its next stage.",
        discussion: """
        The parts must be one complete set: the same command, options, scenario files and seed, the \
        same stage, every slice once. The scenario is read again (from the path the parts name, or \
        --scenario) and must have the same digest. The report equals a single-process run's, number \
        for number.

        Example: thresher run S.yaml --slice 0/2 --partial a.part; thresher run S.yaml --slice 1/2 --partial b.part
                 thresher merge a.part b.part --json run.json
        """)

    @Argument(help: "The part files, one per slice, in any order.")
    var parts: [String]

    @Option(help: ArgumentHelp("The merged state the parts were run from (from the second stage on).", valueName: "STATE"))
    var resume: String?

    @Option(name: .customLong("state-out"), help: ArgumentHelp("Where to write the merged state when the command needs another stage (calibrate, robustness): run the slices again with --resume STATE.", valueName: "STATE"))
    var stateOut: String?

    @Option(help: "The scenario file, when it is not at the path recorded in the parts (another machine's mount).")
    var scenario: String?

    @Option(help: "Worker threads for the merge.")
    var threads: Int = defaultWorkerThreads

    @OptionGroup var output: ReportOptions

    @OptionGroup(title: "Results store") var store: StoreOptions

    @Option(name: .customLong("policy-out"), help: "calibrate: write the calibrated policy section to this YAML file.")
    var policyOut: String?

    @Option(help: "calibrate, robustness: the relative precision (a fraction) a threshold's interval must reach to be acted on.")
    var precision: Double = Presentation.defaultPrecision

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let files = try parts.map { (name: $0, file: try PartFile.read(path: $0)) }
            let state = try resume.map { (name: $0, file: try PartFile.read(path: $0)) }
            let plan = try MergePlan(parts: files, resume: state)
            let first = plan.first
            guard let command = MonteCarloCommands.named(first.command) else {
                throw PartFileError(file: files[0].name, reason: "a part of '\(first.command)', which this thresher does not run")
            }
            let coordinator = ReplayCoordinator(known: plan.known, next: .merge(parts: plan.parts), digest: first.digest)
            let presentation = Presentation(threads: threads, output: output, quiet: quiet, policyOut: policyOut,
                                            precision: try Presentation.validPrecision(precision), merged: true, store: store.store)
            let stopped = try MonteCarloCommands.execute(command, first.request, file: scenario ?? first.scenarioPath, presentation: presentation,
                                                         coordination: .merging(coordinator))
            guard case .needed(let stage)? = stopped else {
                if let stateOut {
                    let stages = coordinator.known.count
                    FileHandle.standardError.write(Data("warning: \(first.command) needs no further stage (these parts complete its \(stages) stage\(stages == 1 ? "" : "s")): the report is written, --state-out \(stateOut) is not\n".utf8))
                }
                return
            }
            guard let stateOut else {
                throw ValidationError("\(first.command) needs stage \(stage + 1) after these parts: pass --state-out STATE, run the \(first.slices) slices again with --resume STATE, and merge their parts with --resume STATE")
            }
            let merged = PartFile(kind: .state, producer: first.producer, request: first.request, digest: first.digest, seed: first.seed, paths: first.paths,
                                  slice: 0, slices: 1, stage: coordinator.known.count, resumedFrom: 0, payloads: coordinator.known)
            try OutputFile.write(merged.encoded, to: stateOut)
            FileHandle.standardError.write(Data("merged stage \(coordinator.known.count) of \(first.command) (\(first.slices) slices) into \(stateOut); next: the slices with --resume \(stateOut)\n".utf8))
        }
    }
}
