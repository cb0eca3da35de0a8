import ArgumentParser
import Foundation
import Reports
import RunStore
import RunStoreBackends

/// `thresher history STORE [--metric M]`: the stored runs, or one metric's trend over them.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The runs of a results store, or one metric's value over the runs with its Monte Carlo interval (HTML: a chart with the intervals as bands).",
        discussion: """
        A metric is named as in the store's metrics table: --metric var.0.99 --scope book; --metric long --scope \
        maintenance_margin --key BTC/100000; --metric liquidation_probability --scope accounts --key desk-1. \
        Without --scope/--key every scope and key with that metric is a series. See README, "Results store".

        Example: thresher history runs.sqlite --metric es.0.99 --scope book --html es.html
        """)

    @Argument(help: "The results store: an SQLite file or a postgres:// URL.")
    var store: String

    @OptionGroup var filter: MetricFilter

    @OptionGroup(title: "Reports") var output: ReportFiles

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let opened = try RunStores.open(store, create: false)
            let runs = try opened.runs()
            let document: ReportDocument
            if let metric = filter.metric {
                let byID = Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0) })
                let points = try opened.series(metric: metric, scope: filter.scope, key: filter.key).compactMap { id, row in byID[id].map { HistoryReport.Point(run: $0, row: row) } }
                if points.isEmpty {
                    let within = [filter.scope.map { " in scope '\($0)'" }, filter.key.map { " with key '\($0)'" }].compactMap { $0 }.joined()
                    throw StoreError.unknownMetric(store: store, metric: metric + within,
                                                   hint: "; names look like var.0.99 (scope book), long (scope maintenance_margin), liquidation_probability (scope accounts): SELECT DISTINCT scope, metric FROM metrics lists them")
                }
                document = HistoryReport(store: store, metric: metric, points: points).document
            } else {
                document = RunListReport(store: store, runs: runs).document
            }
            try output.write(document)
            if !quiet && !output.replacesTable { print(output.terminalText(document), terminator: "") }
        }
    }
}
