import Engine
import Foundation
import ScenarioSpec
import TailStats

/// The JSON and terminal forms of a `thresher run` result. JSON field names are a contract
/// (documented in README.md): fields may be added, never renamed.
public struct RunReport {
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

    /// A fixed-width table: one row for the book and one per account.
    public var table: String {
        let scenario = result.scenario
        let levels = scenario.risk.confidence
        var header = ["", "mean loss", "std loss"]
        for level in levels { header += ["VaR \(percent(level.value))", "ES \(percent(level.value))"] }
        var rows: [[String]] = []
        func row(_ name: String, _ s: TailSummary) -> [String] {
            var cells = [name, money(s.mean), money(s.standardDeviation)]
            for level in s.levels {
                cells.append("\(money(level.valueAtRisk)) ± \(money(level.valueAtRiskStandardError))")
                cells.append("\(money(level.expectedShortfall)) ± \(money(level.expectedShortfallStandardError))")
            }
            return cells
        }
        rows.append(row("BOOK", result.book))
        for (account, summary) in zip(scenario.portfolio.accounts, result.accounts) { rows.append(row(account.id, summary)) }
        var text = "\(scenario.name): \(grouped(result.paths)) paths, seed \(scenario.simulation.seed), "
        text += "horizon \(scenario.simulation.horizonDays) d, \(tailDescription(scenario.market.tails)), \(result.threads) threads\n"
        if !overrides.isEmpty { text += "overrides: \(overrides.joined(separator: ", "))\n" }
        if let change = scenario.market.correlationRepairChange {
            text += "correlation repaired to the nearest correlation matrix (largest entry change \(String(format: "%.3g", change)))\n"
        }
        text += "losses in USD (positive = loss), ± one Monte Carlo standard error\n\n"
        text += TextTable(header: header, rows: rows).rendered
        text += "\n\(String(format: "%.2f", result.elapsedSeconds)) s, \(grouped(Int(result.pathsPerSecond))) paths/s\n"
        return text
    }
}

func tailDescription(_ tails: TailModel) -> String {
    switch tails {
    case .gaussian: return "gaussian shocks"
    case .studentT(let dof): return "student-t shocks (ν = \(dof))"
    case .tCopula(let dof): return "t-copula (ν = \(dof))"
    }
}

extension RunReport {
    /// The self-contained HTML report: loss histogram with VaR/ES markers, log-scale tail
    /// exceedance, per-account VaR/ES bars, the stress table if the scenario has stresses.
    public var html: String {
        let scenario = result.scenario
        let levels = scenario.risk.confidence
        var page = HTMLPage(title: "Thresher risk report — \(scenario.name)", lines: [
            "\(grouped(result.paths)) paths, seed \(scenario.simulation.seed), horizon \(scenario.simulation.horizonDays) days, \(tailDescription(scenario.market.tails))",
        ] + overrides)
        var markers: [SVGChart.Marker] = []
        for (k, level) in result.book.levels.enumerated() {
            markers.append(.init(label: "VaR \(percent(level.alpha))", value: level.valueAtRisk, color: SVGChart.seriesColor(2 * k)))
            markers.append(.init(label: "ES \(percent(level.alpha))", value: level.expectedShortfall, color: SVGChart.seriesColor(2 * k + 1)))
        }
        page.section("Book loss distribution", SVGChart.histogram(result.bookHistogram, markers: markers,
                     title: "Book loss over \(scenario.simulation.horizonDays) days", xLabel: "book loss, USD (positive = loss)"))
        page.section("Tail of the book loss", note: "Empirical probability that the loss exceeds x, from the largest losses kept by the tail aggregator.",
                     SVGChart.exceedance(result.book.largestLosses, paths: result.paths, markers: markers,
                                         title: "Tail exceedance P(loss > x)", xLabel: "book loss x, USD"))
        let names = ["BOOK"] + scenario.portfolio.accounts.map(\.id)
        let summaries = [result.book] + result.accounts
        var series: [(name: String, values: [Double])] = []
        for (k, level) in levels.enumerated() {
            series.append(("VaR \(percent(level.value))", summaries.map { $0.levels[k].valueAtRisk }))
            series.append(("ES \(percent(level.value))", summaries.map { $0.levels[k].expectedShortfall }))
        }
        var header = ["", "mean loss", "std loss"]
        for level in levels { header += ["VaR \(percent(level.value))", "± se", "ES \(percent(level.value))", "± se"] }
        let rows = zip(names, summaries).map { name, s in
            [name, money(s.mean), money(s.standardDeviation)] + s.levels.flatMap {
                [money($0.valueAtRisk), money($0.valueAtRiskStandardError), money($0.expectedShortfall), money($0.expectedShortfallStandardError)]
            }
        }
        page.section("VaR and ES by account",
                     SVGChart.bars(categories: names, series: series, title: "VaR and ES by account", xLabel: "loss, USD") + HTMLPage.table(header: header, rows: rows))
        if !stresses.isEmpty {
            page.section("Deterministic stresses", StressReport(scenario: scenario, outcomes: stresses).htmlSection)
        }
        return page.rendered
    }

    /// accounts.csv: one row per account (and the book), one column per statistic and level.
    public var csvFiles: [(name: String, contents: String)] {
        let levels = result.scenario.risk.confidence
        var header = ["account", "mean_loss", "std_loss"]
        for level in levels { header += ["var_\(level.label)", "es_\(level.label)", "var_stderr_\(level.label)", "es_stderr_\(level.label)"] }
        let names = ["BOOK"] + result.scenario.portfolio.accounts.map(\.id)
        let rows = zip(names, [result.book] + result.accounts).map { name, s in
            [name, csvNumber(s.mean), csvNumber(s.standardDeviation)] + s.levels.flatMap {
                [csvNumber($0.valueAtRisk), csvNumber($0.expectedShortfall), csvNumber($0.valueAtRiskStandardError), csvNumber($0.expectedShortfallStandardError)]
            }
        }
        return [("accounts.csv", csv(header: header, rows: rows))]
    }
}

/// 0.99 → "99%", 0.999 → "99.9%".
func percent(_ x: Double) -> String {
    var text = String(format: "%.4f", x * 100)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text + "%"
}

/// Whole dollars with thousands separators; small amounts keep two decimals.
public func money(_ x: Double) -> String {
    guard x.isFinite else { return "n/a" }
    if x == 0 { return "0" }
    if abs(x) < 100 { return String(format: "%.2f", x) }
    return (x < 0 ? "-" : "") + grouped(Int(abs(x).rounded()))
}

func grouped(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out += "," }
        out.append(ch)
    }
    return (n < 0 ? "-" : "") + out
}

/// Columns right-aligned except the first.
struct TextTable {
    let header: [String]
    let rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "──")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
