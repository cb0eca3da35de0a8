import Engine
import Foundation
import ScenarioSpec

/// The JSON, terminal, HTML and CSV forms of `thresher stress`.
public struct StressReport {
    public let scenario: Scenario
    public let outcomes: [StressOutcome]
    public let overrides: [String]

    public init(scenario: Scenario, outcomes: [StressOutcome], overrides: [String] = []) {
        self.scenario = scenario
        self.outcomes = outcomes
        self.overrides = overrides
    }

    public var json: JSONValue {
        .object([
            ("scenario", .string(scenario.name)),
            ("overrides", .array(overrides.map(JSONValue.string))),
            ("stresses", .array(outcomes.map { o in
                .object([
                    ("name", .string(o.stress.name)), ("origin", .string(o.stress.origin)), ("horizon_days", .number(o.horizonDays)),
                    ("book_loss", .number(o.bookLoss)),
                    ("accounts", .array(zip(scenario.portfolio.accounts, o.accountLosses).map { .object([("id", .string($0.id)), ("loss", .number($1))]) })),
                ])
            })),
        ])
    }

    var tableRows: [[String]] {
        outcomes.map { [$0.stress.name, money($0.bookLoss)] + $0.accountLosses.map(money) }
    }

    var tableHeader: [String] { ["stress", "book"] + scenario.portfolio.accounts.map(\.id) }

    public var table: String {
        var text = "\(scenario.name): \(outcomes.count) deterministic stresses, exact revaluation\n"
        if !overrides.isEmpty { text += "overrides: \(overrides.joined(separator: ", "))\n" }
        text += "losses in USD (positive = loss)\n\n"
        if let worst = outcomes.max(by: { $0.bookLoss < $1.bookLoss }) {
            text += TextTable(header: tableHeader, rows: tableRows).rendered
            text += "\nworst for the book: \(worst.stress.name), loss \(money(worst.bookLoss))\n"
        } else {
            text += "no stresses: add a 'stress:' list or 'stress_library: [grid-16]' to the scenario\n"
        }
        return text
    }

    /// The stress table and a bar chart of the book loss per stress (for HTML reports).
    var htmlSection: String {
        let chart = SVGChart.bars(categories: outcomes.map(\.stress.name), series: [("book loss", outcomes.map(\.bookLoss))],
                                  title: "Book loss under each stress", xLabel: "loss, USD")
        return chart + HTMLPage.table(header: tableHeader, rows: tableRows)
    }

    public var html: String {
        var page = HTMLPage(title: "Thresher stress report — \(scenario.name)", lines: ["\(outcomes.count) deterministic stresses, exact revaluation"] + overrides)
        page.section("Stresses", note: "S' = S·(1 + spot move), iv' = iv·(1 + vol move), after horizon_days of time.", htmlSection)
        return page.rendered
    }

    public var csvFiles: [(name: String, contents: String)] {
        var rows: [[String]] = []
        for o in outcomes {
            rows.append([o.stress.name, "BOOK", csvNumber(o.bookLoss)])
            for (account, loss) in zip(scenario.portfolio.accounts, o.accountLosses) { rows.append([o.stress.name, account.id, csvNumber(loss)]) }
        }
        return [("stress.csv", csv(header: ["stress", "account", "loss_usd"], rows: rows))]
    }
}
