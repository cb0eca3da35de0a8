import Engine
import Foundation
import ScenarioSpec
import TailStats

/// The report of `thresher run`: the book's and each account's loss statistics. JSON field names are a contract
/// (documented in README.md): fields may be added, never renamed.
public struct RunReport: CommandReport {
    public let result: PortfolioRunResult
    /// `--set` / `--shock` overrides, echoed so every report says what it was run on.
    public let overrides: [String]

    /// Deterministic stresses of the scenario, shown in the HTML report when present.
    public let stresses: [StressOutcome]

    public init(result: PortfolioRunResult, overrides: [String] = [], stresses: [StressOutcome] = []) {
        self.result = result
        self.overrides = overrides
        self.stresses = stresses
    }

    public var json: JSONValue {
        let scenario = result.scenario
        var fields: [(String, JSONValue)] = [
            ("scenario", .string(scenario.name)),
            ("paths", .integer(result.paths)),
            ("seed", .integer(Int(scenario.simulation.seed))),
            ("threads", .integer(result.threads)),
            ("chunk_size", .integer(result.chunkSize)),
            ("elapsed_seconds", .number(result.elapsedSeconds)),
            ("paths_per_second", .number(result.pathsPerSecond.rounded())),
            ("horizon_days", .number(scenario.simulation.horizonDays)),
            ("tail_model", .string(scenario.market.tails.name)),
            ("overrides", .array(overrides.map(JSONValue.string))),
        ]
        if let change = scenario.market.correlationRepairChange {
            fields.append(("correlation_repair", .object([("largest_entry_change", .number(change))])))
        }
        fields.append(("book", Self.statistics(result.book, levels: scenario.risk.confidence)))
        fields.append(("accounts", .array(zip(scenario.portfolio.accounts, result.accounts).map { account, summary in
            guard case .object(let stats) = Self.statistics(summary, levels: scenario.risk.confidence) else { return .null }
            return .object([("id", .string(account.id))] + stats)
        })))
        return .object(fields)
    }

    /// mean_loss, std_loss and per-level var/es/var_stderr/es_stderr keyed by the level as written.
    public static func statistics(_ summary: TailSummary, levels: [ConfidenceLevel]) -> JSONValue {
        func perLevel(_ value: (TailSummary.Level) -> Double) -> JSONValue {
            .object(zip(levels, summary.levels).map { ($0.label, .number(value($1))) })
        }
        return .object([
            ("mean_loss", .number(summary.mean)),
            ("std_loss", .number(summary.standardDeviation)),
            ("var", perLevel(\.valueAtRisk)),
            ("es", perLevel(\.expectedShortfall)),
            ("var_stderr", perLevel(\.valueAtRiskStandardError)),
            ("es_stderr", perLevel(\.expectedShortfallStandardError)),
        ])
    }

    public var document: ReportDocument {
        let scenario = result.scenario
        let levels = scenario.risk.confidence
        var context = runContext(scenario, paths: result.paths, threads: result.threads, overrides: overrides)
        context.append("losses in USD (positive = loss), ± one Monte Carlo standard error")
        var markers: [ReportChart.Marker] = []
        for (k, level) in result.book.levels.enumerated() {
            markers.append(.init(label: "VaR \(percent(level.alpha))", value: level.valueAtRisk, series: 2 * k))
            markers.append(.init(label: "ES \(percent(level.alpha))", value: level.expectedShortfall, series: 2 * k + 1))
        }
        let horizon = scenario.simulation.horizonDays
        var sections = [
            ReportSection(heading: "Book loss distribution", blocks: [
                .chart(.histogram(result.bookHistogram, markers: markers, title: "Book loss over \(horizon) days",
                                  xLabel: "book loss, USD (positive = loss)")),
            ]),
            ReportSection(heading: "Tail of the book loss",
                          note: "Empirical probability that the loss exceeds x, from the largest losses kept by the tail aggregator.",
                          blocks: [.chart(.exceedance(largest: result.book.largestLosses, paths: result.paths, markers: markers,
                                                      title: "Tail exceedance P(loss > x)", xLabel: "book loss x, USD"))]),
        ]
        let names = ["BOOK"] + scenario.portfolio.accounts.map(\.id)
        let summaries = [result.book] + result.accounts
        var series: [(name: String, values: [Double])] = []
        for (k, level) in levels.enumerated() {
            series.append(("VaR \(percent(level.value))", summaries.map { $0.levels[k].valueAtRisk }))
            series.append(("ES \(percent(level.value))", summaries.map { $0.levels[k].expectedShortfall }))
        }
        var columns: [ReportTable.Column] = [.init("", csv: "account"), .init("mean loss", csv: "mean_loss"), .init("std loss", csv: "std_loss")]
        for level in levels {
            columns += [.init("VaR \(percent(level.value))", csv: "var_\(level.label)"), .init("± se", csv: "var_stderr_\(level.label)"),
                        .init("ES \(percent(level.value))", csv: "es_\(level.label)"), .init("± se", csv: "es_stderr_\(level.label)")]
        }
        let rows = zip(names, summaries).map { name, s in
            [.label(name), .money(s.mean), .money(s.standardDeviation)] + s.levels.flatMap {
                [ReportCell.money($0.valueAtRisk), .money($0.valueAtRiskStandardError), .money($0.expectedShortfall), .money($0.expectedShortfallStandardError)]
            }
        }
        sections.append(ReportSection(heading: "VaR and ES by account", blocks: [
            .chart(.bars(categories: names, series: series, title: "VaR and ES by account", xLabel: "loss, USD")),
            .table(ReportTable(csvName: "accounts.csv", columns: columns, rows: rows)),
        ]))
        if !stresses.isEmpty {
            sections.append(StressReport(scenario: scenario, outcomes: stresses).section)
        }
        return ReportDocument(title: "Thresher risk report — \(scenario.name)", context: context, sections: sections,
                              footer: ["\(String(format: "%.2f", result.elapsedSeconds)) s, \(grouped(Int(result.pathsPerSecond))) paths/s"],
                              json: json)
    }
}
