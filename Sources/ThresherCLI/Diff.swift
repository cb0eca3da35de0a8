import ArgumentParser
import Foundation
import Reports
import RunStore

/// `thresher diff STORE RUN_A RUN_B`: what moved between two stored runs, and whether beyond noise.
struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Every metric that moved between two stored runs, flagged when the move exceeds its Monte Carlo error; accounts that appeared, vanished, started or stopped failing.",
        discussion: """
        A move is flagged when |Δ| > z·√(se_A² + se_B²) by Holm's step-down test over every metric with a \
        standard error (or interval) in both runs, at a family-wise false-alarm rate --alpha (default 5 %: two \
        runs that differ only in their seed flag nothing with probability ≥ 95 %). RUN is a run id, \
        'latest' or 'latest~N'. See README, "Results store".

        Example: thresher diff runs.sqlite latest~1 latest --html diff.html
        """)

    @OptionGroup var runs: RunPairArguments

    @OptionGroup(title: "Reports") var output: ReportOptions

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let (opened, a, b) = try runs.load()
            let comparison = RunComparison(a: try opened.metrics(run: a.id), b: try opened.metrics(run: b.id), alpha: runs.alpha)
            let document = DiffReport(store: runs.store, a: a, b: b, comparison: comparison, top: output.topRows).document
            try output.files.write(document)
            if !quiet && !output.files.replacesTable { print(output.files.terminalText(document), terminator: "") }
        }
    }
}
