import Engine
import Foundation
import ScenarioSpec

/// The report of `thresher stress`: the book's and every account's loss under each stress.
public struct StressReport: CommandReport {
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

    /// The stress table, a bar chart of the book loss per stress, and (CSV and JSON only) every account's
    /// loss under every stress.
    var section: ReportSection {
        let accounts = scenario.portfolio.accounts
        let summary = ReportTable(columns: [.init("stress"), .init("horizon, days"), .init("book loss"), .init("worst account"), .init("its loss")],
                                  rows: outcomes.map { o in
                                      let worst = o.accountLosses.indices.max { o.accountLosses[$0] < o.accountLosses[$1] }
                                      return [.label(o.stress.name), .number(o.horizonDays, format: "%g"), .money(o.bookLoss),
                                              .label(worst.map { accounts[$0].id } ?? ""), worst.map { .money(o.accountLosses[$0]) } ?? .label("")]
                                  })
        var rows: [[ReportCell]] = []
        for o in outcomes {
            rows.append([.label(o.stress.name), .label("BOOK"), .money(o.bookLoss)])
            for (account, loss) in zip(accounts, o.accountLosses) { rows.append([.label(o.stress.name), .label(account.id), .money(loss)]) }
        }
        let perAccount = ReportTable(csvName: "stress.csv", columns: [.init("stress", csv: "stress"), .init("account", csv: "account"), .init("loss", csv: "loss_usd")],
                                     rows: rows, displayed: false)
        return ReportSection(heading: "Deterministic stresses",
                             note: "S' = S·(1 + spot move), iv' = iv·(1 + vol move), after horizon_days of time; exact revaluation, losses in USD (positive = loss).",
                             blocks: [
                                 .chart(.bars(categories: outcomes.map(\.stress.name), series: [("book loss", outcomes.map(\.bookLoss))],
                                              title: "Book loss under each stress", xLabel: "loss, USD")),
                                 .table(summary), .table(perAccount),
                             ])
    }

    public var document: ReportDocument {
        var context = ["\(scenario.name): \(outcomes.count) deterministic stresses, exact revaluation"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        var footer: [String] = []
        if let worst = outcomes.max(by: { $0.bookLoss < $1.bookLoss }) {
            footer.append("worst for the book: \(worst.stress.name), loss \(money(worst.bookLoss))")
        } else {
            footer.append("no stresses: add a 'stress:' list or 'stress_library: [grid-16]' to the scenario")
        }
        return ReportDocument(title: "Thresher stress report — \(scenario.name)", context: context,
                              sections: outcomes.isEmpty ? [] : [section], footer: footer, json: json)
    }
}
