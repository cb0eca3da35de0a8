import ArgumentParser
import CommandSupport
import Foundation
import History
import Reports

/// `thresher fit PRICES.csv`: GARCH(1,1)-t per asset from daily prices, and a market section.
struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit GARCH(1,1) with Student-t innovations to daily prices per asset (the conventions of Python's arch), and write a market section.",
        discussion: """
        Example: thresher fit prices.csv.gz --column BTC=BTC:close --column ETH=ETH:close --out fitted.yaml
        then:    thresher run Scenarios/default.yaml --market fitted.yaml   (or market: {include: fitted.yaml} in the scenario)
        The price file may be gzip-compressed (.csv.gz).
        """)

    @Argument(help: "Price file (CSV, or gzip-compressed CSV): a Date column and one column per series, or the long layout date,asset,close.")
    var file: String

    @Option(name: .customLong("column"), help: ArgumentHelp("A series as ID=COLUMN (wide layout, e.g. BTC=BTC:close, SPX='Adj Close') or ID (long layout: the rows of that asset). Repeatable.", valueName: "id=column"))
    var columns: [String] = []

    @Option(help: "Returns between consecutive rows: percent (100·(P_t/P_{t−1} − 1), as arch expects) or log (100·ln(P_t/P_{t−1})).")
    var returns: String = "percent"

    @Option(name: .customLong("periods-per-year"), help: "Rows per year, to annualise the one-step variance forecast into the market section's vol: 365 for crypto (calendar days, the engine's year), 252 for exchange trading days.")
    var periodsPerYear: Double = 365

    @Option(help: "Write the JSON report to this file ('-': standard output).")
    var json: String?

    @Option(help: "Write a 'market:' section (spots, annualised forecast vols, dof, residual correlation, t-copula) to this YAML file.")
    var out: String?

    func validate() throws {
        if columns.isEmpty { throw ValidationError("name at least one series: --column ID=COLUMN (e.g. --column BTC=BTC:close)") }
        if !["percent", "log"].contains(returns) { throw ValidationError("--returns must be percent or log, got '\(returns)'") }
        if !(periodsPerYear > 0) { throw ValidationError("--periods-per-year must be > 0") }
    }

    func run() throws {
        let pairs = columns.map(parseColumn)
        try reportingErrors {
            let history = try PriceHistory(file: file, columns: pairs)
            let fits: [GARCHFit]
            do {
                fits = try GARCHStudentT.fitEach(history, logarithmic: returns == "log")
            } catch let short as GARCHStudentT.TooFewReturns {
                throw HistoryError(file: file, line: nil, column: pairs.first { $0.id == short.id }?.column ?? short.id,
                                   message: "\(short.id) has \(short.count) returns; a GARCH fit needs at least \(short.minimum)")
            }
            let (correlation, commonDays) = residualCorrelation(fits, days: history.series.map(\.days))
            let report = FitReport(file: file, returns: returns, periodsPerYear: periodsPerYear, fits: fits,
                                   spots: history.series.map { $0.prices.last ?? 0 }, correlation: correlation, commonDays: commonDays)
            if let out { try OutputFile.write(Data(report.marketYAML.utf8), to: out) }
            if let json {
                if json == "-" { FileHandle.standardOutput.write(JSONRenderer.render(report.document)) } else { try OutputFile.write(JSONRenderer.render(report.document), to: json) }
            }
            if json != "-" { print(TerminalRenderer.render(report.document), terminator: "") }
        }
    }
}
