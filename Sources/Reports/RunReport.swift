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

    /// Accounts shown in the terminal, HTML table and chart, largest VaR first (nil: all); the CSV and
    /// JSON have every account.
    public let top: Int?

    /// Made by `thresher merge` from the slices' parts: the elapsed time is the merge's, not the
    /// simulation's, so the footer gives no paths/s.
    public let merged: Bool

    public init(result: PortfolioRunResult, overrides: [String] = [], stresses: [StressOutcome] = [], top: Int? = 20, merged: Bool = false) {
        self.top = top
        self.merged = merged
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
            ("inputs", Inputs.json(scenario)),
        ]
        if let change = scenario.market.correlationRepairChange {
            fields.append(("correlation_repair", .object([("largest_entry_change", .number(change))])))
        }
        fields.append(("moments_exist", .bool(momentsExist(scenario.market))))
        fields.append(("shock_cap", scenario.market.shockCap.map(JSONValue.number) ?? .null))
        fields.append(("warnings", .array(warnings.map(JSONValue.string))))
        fields.append(("book", Self.statistics(result.book, levels: scenario.risk.confidence)))
        fields.append(("accounts", .array(zip(scenario.portfolio.accounts, result.accounts).map { account, summary in
            guard case .object(let stats) = Self.statistics(summary, levels: scenario.risk.confidence) else { return .null }
            return .object([("id", .string(account.id)), ("account", .string(account.id))] + stats)
        })))
        return .object(fields)
    }

    /// What a reader must know before trusting the numbers: levels beyond the sample, tail ranks too
    /// small for standard errors, moments that do not exist under the tail model.
    var warnings: [String] {
        let scenario = result.scenario
        var lines: [String] = []
        for (level, summary) in zip(scenario.risk.confidence, result.book.levels) {
            if summary.beyondSample {
                let needed = Int((1 / (1 - level.value)).rounded(.up))
                lines.append("level \(level.label) lies beyond the sample: (1−α)·N < 1 with N = \(result.paths); VaR and ES are the largest loss (needs ≥ \(needed) paths)")
            } else if summary.isSmallSample {
                lines.append("level \(level.label): only k = \(summary.rank) tail paths; standard errors need k ≥ \(TailPlan.minimumRankForValueAtRiskError) (VaR) and k ≥ \(TailPlan.minimumRankForExpectedShortfallError) (ES) and are not reported")
            }
        }
        if !momentsExist(scenario.market) {
            lines.append("under \(scenario.market.tails.name) shocks S·exp(σ√h·ε) has no finite mean: mean and std of loss (and the ES of books that lose when prices rise) do not exist and vary from seed to seed; VaR is sound; set market.tails.cap for finite moments (README, \"Heavy tails and moments\")")
        }
        return lines
    }

    /// mean_loss, std_loss and per-level var/es/var_stderr/es_stderr keyed by the level as written.
    public static func statistics(_ summary: TailSummary, levels: [ConfidenceLevel]) -> JSONValue {
        func perLevel(_ value: (TailSummary.Level) -> Double?) -> JSONValue {
            .object(zip(levels, summary.levels).map { ($0.label, value($1).map(JSONValue.number) ?? .null) })
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
        context += warnings.map { "WARNING: " + $0 }
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
        // Shown: the book, then the accounts by VaR at the first level, largest first.
        let ranked = [0] + result.accounts.indices.sorted {
            result.accounts[$0].levels[0].valueAtRisk != result.accounts[$1].levels[0].valueAtRisk
                ? result.accounts[$0].levels[0].valueAtRisk > result.accounts[$1].levels[0].valueAtRisk : $0 < $1
        }.map { $0 + 1 }
        let shown = Array(ranked.prefix(top.map { $0 + 1 } ?? ranked.count))
        // VaR and ES at each level of the summaries at `indices`, one series a statistic.
        func series(_ indices: [Int]) -> [(name: String, values: [Double])] {
            levels.enumerated().flatMap { k, level in
                [("VaR \(percent(level.value))", indices.map { summaries[$0].levels[k].valueAtRisk }),
                 ("ES \(percent(level.value))", indices.map { summaries[$0].levels[k].expectedShortfall })]
            }
        }
        // The book in a panel of its own (its bars would dwarf the accounts'), the accounts at most
        // `chartedAccounts` of them.
        let charted = Array(shown.dropFirst().prefix(chartedAccounts))
        var charts: [ReportBlock] = [.chart(.bars(categories: ["BOOK"], series: series([0]), title: "Book VaR and ES", xLabel: "loss, USD"))]
        if names.count > 2 {
            let title = charted.count < names.count - 1 ? "VaR and ES of the \(charted.count) accounts of largest VaR, of \(grouped(names.count - 1))" : "VaR and ES by account"
            charts.append(.chart(.bars(categories: charted.map { names[$0] }, series: series(charted), title: title, xLabel: "loss, USD")))
        }
        var columns: [ReportTable.Column] = [.init("account", csv: "account"), .init("mean loss", csv: "mean_loss"), .init("std loss", csv: "std_loss")]
        for level in levels {
            columns += [.init("VaR \(percent(level.value))", csv: "var_\(level.label)"), .init("± se", csv: "var_stderr_\(level.label)"),
                        .init("ES \(percent(level.value))", csv: "es_\(level.label)"), .init("± se", csv: "es_stderr_\(level.label)")]
        }
        let rows = zip(names, summaries).map { name, s in
            [.label(name), .money(s.mean), .money(s.standardDeviation)] + s.levels.flatMap {
                [ReportCell.money($0.valueAtRisk), .optionalMoney($0.valueAtRiskStandardError), .money($0.expectedShortfall),
                 .optionalMoney($0.expectedShortfallStandardError)]
            }
        }
        // One account: its row repeats the book's, which a reader should not take for a bug.
        let sameRows: [ReportBlock] = names.count == 2 ? [.text(["BOOK and \(names[1]) are the same: the book has one account."])] : []
        sections.append(ReportSection(heading: "VaR and ES by account", blocks: sameRows + charts + [
            .table(ReportTable(columns: columns, rows: ranked.map { rows[$0] }, displayLimit: top.map { $0 + 1 })),
            .table(ReportTable(csvName: "accounts.csv", columns: columns, rows: rows, displayed: false)),
        ]))
        if !stresses.isEmpty {
            sections += StressReport(scenario: scenario, outcomes: stresses, top: top).sections
        }
        sections.append(Inputs.section(scenario))
        var document = ReportDocument(title: "Thresher risk report — \(scenario.name)", context: context, sections: sections,
                                      footer: [merged
                                          ? String(format: "merged the slices' parts in %.2f s (the merge's time; each slice's run printed its own)", result.elapsedSeconds)
                                          : "\(String(format: "%.2f", result.elapsedSeconds)) s, \(compactCount(Int(result.pathsPerSecond))) paths/s"],
                                      json: json)
        document.headline = zip(scenario.risk.confidence, result.book.levels).map { level, summary in
            Headline("Book at \(percent(level.value)): VaR \(money(summary.valueAtRisk)), ES \(money(summary.expectedShortfall)) over \(scenario.simulation.horizonDays) d")
        }
        return document
    }
}

/// Whether the mean and variance of S' = S·exp(σ√h·ε) exist under the market's shocks: gaussian
/// shocks, t-copula assets without their own dof (normal marginals), or capped shocks.
func momentsExist(_ market: Market) -> Bool {
    if market.shockCap != nil { return true }
    return market.tails.momentsExist(assetDofs: market.assets.map(\.dof))
}
