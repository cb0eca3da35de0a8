import ArgumentParser
import CommandSupport
import Engine
import Foundation
import Reports
import RunStore
import ScenarioSpec

/// Where reports go besides the terminal: --json FILE, --html FILE, --csv DIR. Every file is written
/// to a temporary file and renamed, so a failure never leaves a half-written report.
struct ReportFiles: ParsableArguments {
    @Option(help: "Write the JSON report to this file ('-': standard output, instead of the table).")
    var json: String?

    @Option(help: "Write a self-contained HTML report (inline SVG charts, no network) to this file ('-': standard output, instead of the table).")
    var html: String?

    @Option(help: "Write the report's CSV tables into this folder (created if missing).")
    var csv: String?

    @Flag(help: "Print every table column and unwrapped lines, however wide (by default the table fits the terminal: COLUMNS, the terminal's width, else 100).")
    var wide = false

    func validate() throws {
        if json == "-" && html == "-" { throw ValidationError("--json - and --html - both name standard output: write one of them to a file") }
    }

    /// Whether a report goes to standard output in place of the table.
    var replacesTable: Bool { json == "-" || html == "-" }

    /// Renders `document` into every requested file.
    func write(_ document: ReportDocument) throws {
        if let json {
            if json == "-" { FileHandle.standardOutput.write(JSONRenderer.render(document)) } else { try OutputFile.write(JSONRenderer.render(document), to: json) }
        }
        if let html {
            let page = Data(HTMLRenderer.render(document).utf8)
            if html == "-" { FileHandle.standardOutput.write(page) } else { try OutputFile.write(page, to: html) }
        }
        if let csv {
            do {
                try FileManager.default.createDirectory(atPath: csv, withIntermediateDirectories: true)
            } catch {
                throw OutputFile.Failure(path: csv, reason: "cannot create the folder")
            }
            for file in CSVRenderer.render(document) { try OutputFile.write(Data(file.contents.utf8), to: "\(csv)/\(file.name)") }
        }
    }

    /// The terminal table of `document`: fitted to the terminal's width, or everything with `--wide`.
    func terminalText(_ document: ReportDocument) -> String {
        TerminalRenderer.render(document, width: wide ? nil : TerminalWidth.current)
    }
}

/// The width tables and prose are fitted to: `COLUMNS` when it is a positive number, else the width
/// of the terminal on standard output (ioctl TIOCGWINSZ), else 100.
enum TerminalWidth {
    static let fallback = 100

    static var current: Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }), columns > 0 {
            return columns
        }
        var size = winsize()
        if isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return fallback
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
/// With `recording` (`--store`), the store is opened first and the finished report is stored as
/// one run (one transaction); a run that fails or is interrupted stores nothing.
func runReportingCommand(file: String, whatIf: WhatIf, output: ReportFiles, quiet: Bool, recording: RunRecording? = nil,
                         compute: (_ scenario: Scenario, _ echo: [String]) throws -> ReportDocument?) throws {
    try reportingErrors {
        let started = Date()
        let store = try recording?.open()
        let (scenario, echo) = try whatIf.load(path: file)
        guard let document = try compute(scenario, echo) else { return }
        if let path = document.json.firstNonFinitePath { throw NonFiniteReport(file: file, path: path) }
        try output.write(document)
        if let store, let recording {
            let identity = recording.identity(scenario: scenario, file: file, whatIf: whatIf, echo: echo, startedAt: started)
            let id = try store.record(identity, report: JSONRenderer.render(document))
            if !quiet { FileHandle.standardError.write(Data("stored as run \(id) in \(recording.location)\n".utf8)) }
        }
        if !quiet && !output.replacesTable { print(output.terminalText(document), terminator: "") }
    }
}

/// The options every Monte Carlo command (run, calibrate, evaluate, robustness) takes.
struct MonteCarloOptions: ParsableArguments {
    @OptionGroup(title: "Monte Carlo") var simulation: SimulationOptions

    @OptionGroup(title: "Scenario and what-ifs") var whatIf: WhatIfOptions

    @OptionGroup(title: "Reports") var output: ReportOptions

    @OptionGroup(title: "Clusters") var slicing: SliceOptions

    @OptionGroup(title: "Results store") var store: StoreOptions

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
