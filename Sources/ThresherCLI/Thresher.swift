import ArgumentParser
import CommandSupport
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// The `thresher` command: a root with one subcommand per job.
public struct Thresher: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "thresher",
        abstract: "Parallel Monte Carlo stress testing that sets the penalty thresholds of crypto-derivatives venues.",
        discussion: """
        Exit codes: 0 success; 64 bad command-line usage; 65 invalid scenario (the message names the \
        file, line and field); 66 input file or results store missing or unreadable; 69 a results store's server cannot be reached; 70 internal or numerical failure; \
        73 an output file cannot be written; 130 interrupted (Ctrl-C).
        """,
        version: "\(BuildInfo.release)\(mpiSupport)",
        subcommands: [Validate.self, Sample.self, Run.self, Stress.self, Calibrate.self, Evaluate.self, Robustness.self, Merge.self, Fit.self, BacktestCommand.self,
                      HistoryCommand.self, Diff.self, Explain.self, Serve.self]
    )

    public init() {}
}

/// Said by `--version` when the build can run under mpirun (`--traits MPI`).
#if MPI
let mpiSupport = ", with MPI"
#else
let mpiSupport = ""
#endif

extension Thresher {
    /// Parses the command line and runs the command; a first word that names no command is refused
    /// with the nearest command's name (`thresher runn` → did you mean 'run'?), exit status 64.
    public static func main() {
        if let message = unknownCommand(Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(ExitStatus.usage)
        }
        main(nil)
    }

    /// The message for arguments whose first word is not a command (nil: it is one, or an option).
    static func unknownCommand(_ arguments: [String]) -> String? {
        guard let word = arguments.first, !word.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName } + ["help"]
        guard !names.contains(word) else { return nil }
        let guess = closest(word, among: names).map { " Did you mean '\($0)'?" } ?? ""
        return "error: unknown command '\(word)'.\(guess) The commands: \(names.joined(separator: ", ")) (thresher --help)"
    }

    /// Runs the command as one rank of an MPI job: every Monte Carlo stage is split over the ranks
    /// by `collective`; an error on any rank ends all of them through `abort`; rank 0 writes.
    /// A command that does not split (validate, sample, stress, merge, fit, backtest; help, version
    /// and usage errors) runs on rank 0 alone: the other ranks exit 0 at once, silently.
    public static func main(collective: CollectiveCoordinator, abort: @escaping @Sendable (Int32) -> Void) -> Never {
        Coordinators.collective = .init(coordinator: collective, abort: abort)
        if collective.rank != 0 && !splitsOverRanks(Array(CommandLine.arguments.dropFirst())) { Foundation.exit(0) }
        main()
        Foundation.exit(0)
    }

    /// Whether `arguments` name a command whose paths the ranks of an MPI job split (the Monte Carlo
    /// commands, `MonteCarloCommands.all`).
    static func splitsOverRanks(_ arguments: [String]) -> Bool {
        guard let command = try? parseAsRoot(arguments) else { return false }
        return command is any MonteCarloCommand
    }
}
