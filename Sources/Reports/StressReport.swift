import Engine
import Foundation
import ScenarioSpec

/// The report of `thresher stress`: under each stress the book's loss and who fails — every account's
/// loss, equity after, maintenance requirement, shortfall and liquidated/bankrupt flags — and the
/// venue's counts and total shortfall.
public struct StressReport: CommandReport {
    public let scenario: Scenario
    public let outcomes: [StressOutcome]
    public let overrides: [String]
    /// Where the maintenance requirement comes from ("policy", "calibrated ladder …"); nil: none known.
    public let maintenanceSource: String?
    /// Accounts shown per stress in the terminal and HTML (nil: all); CSV and JSON have every account.
    public let top: Int?

    public init(scenario: Scenario, outcomes: [StressOutcome], overrides: [String] = [], maintenanceSource: String? = nil, top: Int? = 20) {
        self.scenario = scenario
        self.outcomes = outcomes
        self.overrides = overrides
        self.maintenanceSource = maintenanceSource ?? (scenario.policy != nil ? "policy" : nil)
        self.top = top
    }

    public var json: JSONValue {
        let ids = scenario.portfolio.accounts.map(\.id)
        return .object([
            ("scenario", .string(scenario.name)),
            ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(scenario)),
            ("maintenance_source", maintenanceSource.map(JSONValue.string) ?? .null),
            ("stresses", .array(outcomes.map { o in
                .object(Self.summaryFields(o) + [("accounts", .array(ids.indices.map { Self.accountJSON(o, account: $0, id: ids[$0]) }))])
            })),
        ])
    }

    /// A stress's entry of `stresses` without its accounts: name, moves, book loss, counts, total shortfall.
    public static func summaryFields(_ o: StressOutcome) -> [(String, JSONValue)] {
        [("name", .string(o.stress.name)), ("origin", .string(o.stress.origin)), ("horizon_days", .number(o.horizonDays)),
         ("spot_moves", Self.movesJSON(o.stress.spotMoves)), ("vol_moves", Self.movesJSON(o.stress.volMoves))]
        // Only stresses that twist a smile carry skew_moves and term_moves (every other report is as before).
        + (o.stress.twistsSmiles ? [("skew_moves", Self.movesJSON(o.stress.skewMoves)), ("term_moves", Self.movesJSON(o.stress.termMoves))] : [])
        + [("book_loss", .number(o.bookLoss)),
         ("accounts_liquidated", o.liquidatedCount.map(JSONValue.integer) ?? .null),
         ("accounts_bankrupt", .integer(o.bankruptCount)),
         ("total_shortfall", .number(o.totalShortfall))]
    }

    /// Account `a`'s entry of a stress's `accounts`: loss, equity after, maintenance, shortfall, flags.
    public static func accountJSON(_ o: StressOutcome, account a: Int, id: String) -> JSONValue {
        .object([
            ("id", .string(id)), ("account", .string(id)), ("loss", .number(o.accountLosses[a])),
            ("equity_after", .number(o.equityAfter[a])),
            ("maintenance", o.maintenanceAfter.map { .number($0[a]) } ?? .null),
            ("shortfall", .number(o.shortfall(account: a))),
            ("liquidated", o.isLiquidated(account: a).map(JSONValue.bool) ?? .null),
            ("bankrupt", .bool(o.isBankrupt(account: a))),
        ])
    }

    static func movesJSON(_ moves: [String: Double]) -> JSONValue {
        .object(moves.sorted { $0.key < $1.key }.map { ($0.key, .number($0.value)) })
    }

    /// "BTC −30%, ETH −35%; vol *: +50%" in market order, then "*".
    func movesText(_ stress: StressScenario) -> String {
        let order = scenario.market.assets.map(\.id) + ["*"] + scenario.market.stablecoins.map(\.id)
        func list(_ moves: [String: Double]) -> String {
            order.compactMap { id in moves[id].map { "\(id) \($0 >= 0 ? "+" : "−")\(percent(abs($0)))" } }.joined(separator: ", ")
        }
        var parts: [String] = []
        if !stress.spotMoves.isEmpty { parts.append(list(stress.spotMoves)) }
        if !stress.volMoves.isEmpty { parts.append("vol " + list(stress.volMoves)) }
        func twists(_ moves: [String: Double]) -> String {
            order.compactMap { id in moves[id].map { "\(id) \($0 >= 0 ? "+" : "−")\(String(format: "%.3g", abs($0)))" } }.joined(separator: ", ")
        }
        if !stress.skewMoves.isEmpty { parts.append("skew " + twists(stress.skewMoves)) }
        if !stress.termMoves.isEmpty { parts.append("term " + twists(stress.termMoves)) }
        return parts.isEmpty ? "none" : parts.joined(separator: "; ")
    }

    /// Accounts of one stress, most at risk first: bankrupt by shortfall, then by equity above the
    /// requirement (or equity, without one), smallest first.
    func ranked(_ o: StressOutcome) -> [Int] {
        func cushion(_ a: Int) -> Double { o.equityAfter[a] - (o.maintenanceAfter?[a] ?? 0) }
        return o.equityAfter.indices.sorted { cushion($0) != cushion($1) ? cushion($0) < cushion($1) : $0 < $1 }
    }

    /// The stress summary, a bar chart of the book loss and total shortfall per stress, and the
    /// accounts under each stress (top N per stress shown; every account in stress.csv).
    var sections: [ReportSection] {
        let accounts = scenario.portfolio.accounts
        let hasMaintenance = outcomes.first?.maintenanceAfter != nil
        let summary = ReportTable(
            csvName: "stresses.csv",
            // On a narrow terminal the moves go first (the CSV, HTML and --wide have them), then the horizon.
            columns: [.init("stress", csv: "stress"), .init("moves", csv: "moves", priority: 0), .init("horizon, days", csv: "horizon_days", priority: 0),
                      .init("book loss", csv: "book_loss_usd", priority: 2), .init("liquidated", csv: "accounts_liquidated", priority: 2),
                      .init("bankrupt", csv: "accounts_bankrupt", priority: 2), .init("total shortfall", csv: "total_shortfall_usd", priority: 2),
                      .init("worst account", csv: "worst_account"), .init("its loss", csv: "worst_account_loss_usd")],
            rows: outcomes.map { o in
                let worst = o.accountLosses.indices.max { o.accountLosses[$0] < o.accountLosses[$1] }
                return [.label(o.stress.name), ReportCell(text: movesText(o.stress), csv: movesText(o.stress).replacingOccurrences(of: "−", with: "-")), .number(o.horizonDays, format: "%g"), .loss(o.bookLoss),
                        o.liquidatedCount.map(ReportCell.integer) ?? .label("n/a"),
                        .integer(o.bankruptCount), .money(o.totalShortfall),
                        .label(worst.map { accounts[$0].id } ?? ""), worst.map { .loss(o.accountLosses[$0]) } ?? .label("")]
            })
        let columns: [ReportTable.Column] = [
            .init("stress", csv: "stress"), .init("account", csv: "account", priority: 2), .init("loss", csv: "loss_usd"),
            .init("equity after", csv: "equity_after_usd"), .init("maintenance", csv: "maintenance_usd", priority: 0),
            .init("shortfall", csv: "shortfall_usd", priority: 2), .init("liquidated", csv: "liquidated", priority: 2),
            .init("bankrupt", csv: "bankrupt", priority: 2),
        ]
        func row(_ o: StressOutcome, _ a: Int) -> [ReportCell] {
            [.label(o.stress.name), .label(accounts[a].id), .loss(o.accountLosses[a]), .money(o.equityAfter[a]),
             o.maintenanceAfter.map { .money($0[a]) } ?? .label(""), .money(o.shortfall(account: a)),
             o.isLiquidated(account: a).map { .label($0 ? "yes" : "no") } ?? .label(""), .label(o.isBankrupt(account: a) ? "yes" : "no")]
        }
        let shown = ReportTable(columns: columns, rows: outcomes.flatMap { o in ranked(o).prefix(top ?? Int.max).map { row(o, $0) } })
        let all = ReportTable(csvName: "stress.csv", columns: columns, rows: outcomes.flatMap { o in accounts.indices.map { row(o, $0) } },
                              displayed: false)
        let source = maintenanceSource.map { "maintenance requirement at the stressed spots from the \($0)" }
            ?? "no maintenance requirement known: add a 'policy:' (or 'calibration:') section to flag liquidations"
        let perStress = top.map { $0 < accounts.count ? "the \(counted($0, "account")) closest to failing under each stress (--top N, --all); every account in stress.csv" : "every account" }
            ?? "every account"
        return [
            ReportSection(heading: "Deterministic stresses",
                          note: "S' = S·(1 + spot move), iv' = iv·(1 + vol move), after horizon_days of time; exact revaluation, USD (positive = loss; a negative loss reads as a gain). Total shortfall = Σ max(−equity after, 0): what accounts cannot pay, not the netted book loss."
                              + (outcomes.contains { $0.stress.twistsSmiles } ? " Skew and term twists: iv' = (iv(S') + skew·k' + term·√(30/T_days))·(1 + vol move), k' = ln(K/F') after the move, at least 1 %." : ""),
                          blocks: [
                              .chart(.bars(categories: outcomes.map(\.stress.name),
                                           series: [("book loss", outcomes.map(\.bookLoss)), ("total shortfall", outcomes.map(\.totalShortfall))],
                                           title: "Book loss and total shortfall under each stress", xLabel: "USD")),
                              .table(summary),
                          ]),
            ReportSection(heading: "Who fails under each stress",
                          note: "\(perStress); \(source). Liquidated: equity after < maintenance; bankrupt: equity after < 0\(hasMaintenance ? "" : " (liquidated needs a requirement)").",
                          blocks: [.table(shown), .table(all)]),
        ]
    }

    public var document: ReportDocument {
        var context = ["\(scenario.name): \(counted(outcomes.count, "deterministic stress", plural: "deterministic stresses")), exact revaluation, \(counted(scenario.portfolio.accounts.count, "account"))"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        var footer: [String] = []
        if let worst = outcomes.max(by: { $0.bookLoss < $1.bookLoss }) {
            let outcome = ReportCell.loss(worst.bookLoss).text
            footer.append("worst for the book: \(worst.stress.name), \(worst.bookLoss < 0 ? outcome : "loss " + outcome)")
            if let failing = outcomes.max(by: { $0.totalShortfall < $1.totalShortfall }), failing.totalShortfall > 0 {
                footer.append("largest total shortfall: \(failing.stress.name), \(money(failing.totalShortfall)) over \(counted(failing.bankruptCount, "bankrupt account"))")
            }
        } else {
            footer.append("no stresses: add a 'stress:' list or 'stress_library: [grid-16]' to the scenario")
        }
        return ReportDocument(title: "Thresher stress report — \(scenario.name)", context: context,
                              sections: (outcomes.isEmpty ? [] : sections) + [Inputs.section(scenario)], footer: footer, json: json)
    }
}
