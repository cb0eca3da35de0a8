import Calibration
import Foundation

/// The report of `thresher calibrate`: ladder, penalty, insurance fund and account thresholds.
/// JSON names are a contract (README).
public struct CalibrationReport: CommandReport {
    public let result: CalibrationResult
    public let overrides: [String]

    /// Accounts shown in the terminal and HTML, highest liquidation probability first (nil: all).
    public let top: Int?

    public init(result: CalibrationResult, overrides: [String] = [], top: Int? = 20) {
        self.top = top
        self.result = result
        self.overrides = overrides
    }

    public var json: JSONValue {
        let r = result
        let ladder: [JSONValue] = r.ladder.rungs.flatMap { $0 }.map { rung in
            .object([("asset", .string(rung.asset)), ("tier", .number(rung.tier)), ("long", .number(rung.long)),
                     ("short", .number(rung.short)), ("rate", .number(rung.rate)), ("stderr", rung.standardError.map(JSONValue.number) ?? .null),
                     ("liquidation_hours", .number(rung.liquidationHours)), ("impact", .number(rung.impact)),
                     ("max_leverage", .number(1 / rung.rate))])
        }
        var fund: [(String, JSONValue)] = [
            ("confidence", .number(r.insuranceFund.confidence)), ("var", .number(r.insuranceFund.valueAtRisk)),
            ("es", .number(r.insuranceFund.expectedShortfall)), ("var_stderr", r.insuranceFund.valueAtRiskStandardError.map(JSONValue.number) ?? .null),
            ("es_stderr", r.insuranceFund.expectedShortfallStandardError.map(JSONValue.number) ?? .null),
        ]
        if let balance = r.insuranceFund.balance { fund.append(("balance", .number(balance))) }
        if let adl = r.insuranceFund.adlProbability { fund.append(("adl_probability", .number(adl))) }
        return .object([
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("threads", .integer(r.threads)), ("elapsed_seconds", .number(r.elapsedSeconds)),
            ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(r.scenario)),
            ("tail_model", .string(r.scenario.market.tails.name)),
            ("correlation_repair", r.scenario.market.correlationRepairChange.map { .object([("largest_entry_change", .number($0))]) } ?? .null),
            ("breach_probability", .number(r.scenario.calibration?.breachProbability ?? .nan)),
            ("maintenance_margin", .array(ladder)),
            ("liquidation_penalty", .object([
                ("rate", .number(r.penalty.rate)), ("coverage", .number(r.penalty.coverage)), ("reached", .bool(r.penalty.reached)),
                ("max_rate", .number(r.penalty.maxRate)), ("expected_income", .number(r.penalty.expectedIncome)),
                ("expected_deficit", .number(r.penalty.expectedDeficit)),
                ("expected_income_stderr", .number(r.penalty.expectedIncomeStandardError)),
                ("expected_deficit_stderr", .number(r.penalty.expectedDeficitStandardError)), ("resolution", .number(r.penalty.resolution)),
            ])),
            ("insurance_fund", .object(fund)),
            ("accounts", .array(r.accounts.map { a in
                .object([("id", .string(a.id)), ("account", .string(a.id)), ("in_breach", .bool(a.inBreach)), ("thresholds_capped", .bool(a.capped)),
                         ("equity", .number(a.equity)), ("maintenance_requirement", .number(a.maintenanceRequirement)),
                         ("liquidation_probability", .number(a.liquidationProbability)), ("expected_deficit", .number(a.expectedDeficit)),
                         ("thresholds", .object([("warn", .number(a.warn)), ("reduce_only", .number(a.reduceOnly)), ("liquidate", .number(a.liquidate))]))])
            })),
        ])
    }

    public var document: ReportDocument {
        let r = result
        let breach = r.scenario.calibration?.breachProbability ?? .nan
        var context = ["\(r.scenario.name): calibration over \(grouped(r.paths)) paths, seed \(r.scenario.simulation.seed), breach probability \(breach), \(tailDescription(r.scenario.market.tails))"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }

        let assets = r.ladder.rungs.filter { !$0.isEmpty }
        let ladder = ReportTable(
            csvName: "ladder.csv",
            columns: [.init("asset", csv: "asset"), .init("tier ≤ USD", csv: "tier"), .init("long", csv: "long"), .init("short", csv: "short"),
                      .init("MMR", csv: "rate"), .init("± se", csv: "stderr"), .init("impact", csv: "impact"),
                      .init("max leverage", csv: "max_leverage"), .init("liquidation hours", csv: "liquidation_hours")],
            rows: assets.flatMap { $0 }.map { rung in
                [.label(rung.asset), .money(rung.tier), .rate(rung.long), .rate(rung.short), .rate(rung.rate), rung.standardError.map(ReportCell.rate) ?? .label("n/a"),
                 .rate(rung.impact), .number(1 / rung.rate, format: "%.1fx"), .number(rung.liquidationHours, format: "%.1f")]
            })
        let ladderSection = ReportSection(
            heading: "Maintenance-margin ladder",
            note: "A position of notional x uses the first tier ≥ x; MMR = max of long and short; max leverage = 1/MMR.",
            blocks: [.chart(.percentLines(series: assets.map { ($0[0].asset, $0.map { ($0.tier, $0.rate * 100) }) },
                                          title: "Maintenance-margin rate by tier", xLabel: "position notional (tier), USD, log scale",
                                          yLabel: "maintenance margin, % of notional")),
                     .table(ladder)])

        let p = r.penalty, f = r.insuranceFund
        var fundRows: [[ReportCell]] = [
            [.label("liquidation penalty rate"), .rate(p.rate), .label("")],
            [.label("expected penalty income per path"), .money(p.expectedIncome), .money(p.expectedIncomeStandardError)],
            [.label("expected deficit per path"), .money(p.expectedDeficit), .money(p.expectedDeficitStandardError)],
            [.label("insurance fund VaR \(percent(f.confidence))"), .money(f.valueAtRisk), .optionalMoney(f.valueAtRiskStandardError)],
            [.label("insurance fund ES \(percent(f.confidence))"), .money(f.expectedShortfall), .optionalMoney(f.expectedShortfallStandardError)],
        ]
        if let balance = f.balance, let adl = f.adlProbability {
            fundRows += [[.label("insurance fund balance"), .money(balance), .label("")],
                         [.label("auto-deleveraging probability"), .number(adl, format: "%.3g"), .label("")]]
        }
        let verdict = p.reached
            ? "The penalty rate \(rate(p.rate)) of notional covers \(p.coverage)× the expected deficit."
            : "NOT REACHED: max_rate \(rate(p.maxRate)) covers less than \(p.coverage)× the expected deficit."
        let fundSection = ReportSection(heading: "Liquidation penalty and insurance fund",
                                        blocks: [.text([verdict]), .table(ReportTable(columns: [.init("quantity"), .init("value"), .init("± se")], rows: fundRows))])

        let columns: [ReportTable.Column] = [
            .init("account", csv: "account"), .init("equity", csv: "equity"), .init("requirement", csv: "maintenance_requirement"),
            .init("P(liquidation)", csv: "liquidation_probability"), .init("E[deficit]", csv: "expected_deficit"),
            .init("warn", csv: "warn"), .init("reduce-only", csv: "reduce_only"), .init("liquidate", csv: "liquidate"),
            .init("flag", csv: "flag"),
        ]
        let rows: [[ReportCell]] = r.accounts.map { a in
            [.label(a.id), .money(a.equity), .money(a.maintenanceRequirement), .number(a.liquidationProbability, format: "%.4g"),
             .money(a.expectedDeficit), .money(a.warn), .money(a.reduceOnly), .money(a.liquidate),
             .label(a.inBreach ? "IN BREACH" : a.capped ? "capped" : "")]
        }
        // Shown: in breach first, then by liquidation probability and expected deficit, largest first.
        let ranked = r.accounts.indices.sorted { x, y in
            let a = r.accounts[x], b = r.accounts[y]
            if a.inBreach != b.inBreach { return a.inBreach }
            if a.liquidationProbability != b.liquidationProbability { return a.liquidationProbability > b.liquidationProbability }
            if a.expectedDeficit != b.expectedDeficit { return a.expectedDeficit > b.expectedDeficit }
            return x < y
        }
        let shown = Array(ranked.prefix(top ?? ranked.count))
        let breaches = r.accounts.filter(\.inBreach).map(\.id)
        var accountBlocks: [ReportBlock] = []
        if !breaches.isEmpty {
            accountBlocks.append(.text(["IN BREACH NOW (equity below the maintenance requirement, liquidated at once): \(breaches.prefix(20).joined(separator: ", "))\(breaches.count > 20 ? " and \(breaches.count - 20) more" : "")"]))
        }
        accountBlocks += [
            .chart(.bars(categories: shown.map { r.accounts[$0].id },
                         series: [("warn", shown.map { r.accounts[$0].warn }), ("reduce-only", shown.map { r.accounts[$0].reduceOnly }),
                                  ("liquidate", shown.map { r.accounts[$0].liquidate })],
                         title: shown.count < r.accounts.count ? "Loss thresholds of the \(shown.count) accounts most likely liquidated" : "Loss thresholds by account",
                         xLabel: "loss, USD")),
            .table(ReportTable(columns: columns, rows: ranked.map { rows[$0] }, displayLimit: top)),
            .table(ReportTable(csvName: "accounts.csv", columns: columns, rows: rows, displayed: false)),
        ]
        let accountSection = ReportSection(
            heading: "Account action ladder",
            note: "Losses in USD that trigger each action: liquidate = equity − requirement, reduce-only = min(VaR 99 %, liquidate), warn = min(VaR 95 %, reduce-only), so warn ≤ reduce-only ≤ liquidate (capped: a VaR was lowered to keep that order). IN BREACH: equity now is below the requirement now; liquidated at once.",
            blocks: accountBlocks)
        return ReportDocument(title: "Thresher calibration — \(r.scenario.name)", context: context,
                              sections: [ladderSection, fundSection, accountSection, Inputs.section(r.scenario)],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
    }
}
