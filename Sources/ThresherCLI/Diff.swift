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

    @Argument(help: "The results store: an SQLite file or a postgres:// URL.")
    var store: String

    @Argument(help: "The earlier run (id, latest, latest~N).")
    var runA: String

    @Argument(help: "The later run.")
    var runB: String

    @Option(help: "Family-wise false-alarm rate of the flags (Holm), in (0, 1).")
    var alpha: Double = RunComparison.defaultAlpha

    @OptionGroup(title: "Reports") var output: ReportOptions

    @Flag(help: "Print no table.")
    var quiet = false

    func validate() throws {
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be in (0, 1), e.g. 0.05; got \(alpha)") }
    }

    func run() throws {
        try reportingErrors {
            let opened = try RunStores.open(store, create: false)
            let a = try opened.run(try opened.resolve(runA, store: store)), b = try opened.run(try opened.resolve(runB, store: store))
            let comparison = RunComparison(a: try opened.metrics(run: a.id), b: try opened.metrics(run: b.id), alpha: alpha)
            let document = DiffReport(store: store, a: a, b: b, comparison: comparison, top: output.topRows).document
            try output.files.write(document)
            if !quiet && !output.files.replacesTable { print(output.files.terminalText(document), terminator: "") }
        }
    }
}
