import ArgumentParser
import CommandSupport
import Engine
import Foundation
import Reports
import ScenarioSpec

/// Where reports go besides the terminal: --json FILE, --html FILE, --csv DIR. Every file is written
/// to a temporary file and renamed, so a failure never leaves a half-written report.
struct ReportFiles: ParsableArguments {
    @Option(help: "Write the JSON report to this file ('-': standard output, instead of the table).")
    var json: String?

    @Option(help: "Write a self-contained HTML report (inline SVG charts, no network) to this file.")
    var html: String?

    @Option(help: "Write the report's CSV tables into this folder (created if missing).")
    var csv: String?

    /// Renders `document` into every requested file.
    func write(_ document: ReportDocument) throws {
        if let json {
            if json == "-" { FileHandle.standardOutput.write(JSONRenderer.render(document)) } else { try OutputFile.write(JSONRenderer.render(document), to: json) }
        }
        if let html { try OutputFile.write(Data(HTMLRenderer.render(document).utf8), to: html) }
        if let csv {
            do {
                try FileManager.default.createDirectory(atPath: csv, withIntermediateDirectories: true)
            } catch {
                throw OutputFile.Failure(path: csv, reason: "cannot create the folder")
            }
            for file in CSVRenderer.render(document) { try OutputFile.write(Data(file.contents.utf8), to: "\(csv)/\(file.name)") }
        }
    }
}

/// The report files and how many accounts the terminal and HTML tables show: the options of
/// every command whose report has per-account tables.
struct ReportOptions: ParsableArguments {
    @OptionGroup var files: ReportFiles

    @Option(help: "Accounts shown in the terminal and HTML tables and charts, most at risk first (CSV and JSON have every account).")
    var top: Int = 20

    @Flag(help: "Show every account in the terminal and HTML (overrides --top).")
    var all = false

    /// The accounts shown per table, nil for all.
    var topRows: Int? { all ? nil : max(top, 1) }
}

/// The skeleton of every reporting command: load the scenario with the what-ifs, compute the report,
/// write the requested files, print the terminal table (unless quiet). Errors become a one-line
/// message and a documented exit code (`reportingErrors`).
/// A nil document (a slice that wrote its part, an MPI rank other than 0) writes nothing.
func runReportingCommand(file: String, whatIf: WhatIf, output: ReportFiles, quiet: Bool,
                         compute: (_ scenario: Scenario, _ echo: [String]) throws -> ReportDocument?) throws {
    try reportingErrors {
        let (scenario, echo) = try whatIf.load(path: file)
        guard let document = try compute(scenario, echo) else { return }
        if let path = document.json.firstNonFinitePath { throw NonFiniteReport(file: file, path: path) }
        try output.write(document)
        if !quiet && output.json != "-" { print(TerminalRenderer.render(document), terminator: "") }
    }
}

/// The options every Monte Carlo command (run, calibrate, evaluate, robustness) takes.
struct MonteCarloOptions: ParsableArguments {
    @OptionGroup(title: "Monte Carlo") var simulation: SimulationOptions

    @OptionGroup(title: "Scenario and what-ifs") var whatIf: WhatIfOptions

    @OptionGroup(title: "Reports") var output: ReportOptions

    @OptionGroup(title: "Clusters") var slicing: SliceOptions

    @Flag(help: "Print no table and no progress bar.")
    var quiet = false
}

/// A computed report holds NaN or ±∞ where a number belongs: the inputs overflow double precision.
/// Nothing is written and the command exits 70.
struct NonFiniteReport: ThresherError {
    var exitStatus: Int32 { ExitStatus.internalFailure }
    let file: String
    let path: String
    var description: String {
        "\(file): the report's '\(path)' is not a finite number: the scenario's magnitudes overflow double precision (see Scenarios/README.md, \"Ranges\"); nothing was written"
    }
}
