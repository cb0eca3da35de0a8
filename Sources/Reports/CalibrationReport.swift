import Calibration
import Foundation

/// The report of `thresher calibrate`: ladder, penalty, insurance fund and account thresholds.
/// JSON names are a contract (README).
public struct CalibrationReport: CommandReport {
    public let result: CalibrationResult
    public let overrides: [String]

    public init(result: CalibrationResult, overrides: [String] = []) {
        self.result = result
        self.overrides = overrides
    }

    public var json: JSONValue {
        let r = result
        let ladder: [JSONValue] = r.ladder.rungs.flatMap { $0 }.map { rung in
            .object([("asset", .string(rung.asset)), ("tier", .number(rung.tier)), ("long", .number(rung.long)),
                     ("short", .number(rung.short)), ("rate", .number(rung.rate)), ("stderr", .number(rung.standardError)),
                     ("liquidation_hours", .number(rung.liquidationHours)), ("impact", .number(rung.impact)),
                     ("max_leverage", .number(1 / rung.rate))])
        }
        var fund: [(String, JSONValue)] = [
            ("confidence", .number(r.insuranceFund.confidence)), ("var", .number(r.insuranceFund.valueAtRisk)),
            ("es", .number(r.insuranceFund.expectedShortfall)), ("var_stderr", .number(r.insuranceFund.valueAtRiskStandardError)),
            ("es_stderr", .number(r.insuranceFund.expectedShortfallStandardError)),
        ]
        if let balance = r.insuranceFund.balance { fund.append(("balance", .number(balance))) }
        if let adl = r.insuranceFund.adlProbability { fund.append(("adl_probability", .number(adl))) }
        return .object([
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("threads", .integer(r.threads)), ("elapsed_seconds", .number(r.elapsedSeconds)),
            ("overrides", .array(overrides.map(JSONValue.string))),
            ("tail_model", .string(r.scenario.market.tails.name)),
            ("correlation_repair", r.scenario.market.correlationRepairChange.map { .object([("largest_entry_change", .number($0))]) } ?? .null),
            ("breach_probability", .number(r.scenario.calibration?.breachProbability ?? .nan)),
            ("maintenance_margin", .array(ladder)),
            ("liquidation_penalty", .object([
                ("rate", .number(r.penalty.rate)), ("coverage", .number(r.penalty.coverage)), ("reached", .bool(r.penalty.reached)),
                ("max_rate", .number(r.penalty.maxRate)), ("expected_income", .number(r.penalty.expectedIncome)),
                ("expected_deficit", .number(r.penalty.expectedDeficit)), ("resolution", .number(r.penalty.resolution)),
            ])),
            ("insurance_fund", .object(fund)),
            ("accounts", .array(r.accounts.map { a in
                .object([("id", .string(a.id)), ("equity", .number(a.equity)), ("maintenance_requirement", .number(a.maintenanceRequirement)),
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
                [.label(rung.asset), .money(rung.tier), .rate(rung.long), .rate(rung.short), .rate(rung.rate), .rate(rung.standardError),
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
            [.label("expected penalty income per path"), .money(p.expectedIncome), .label("")],
            [.label("expected deficit per path"), .money(p.expectedDeficit), .label("")],
            [.label("insurance fund VaR \(percent(f.confidence))"), .money(f.valueAtRisk), .money(f.valueAtRiskStandardError)],
            [.label("insurance fund ES \(percent(f.confidence))"), .money(f.expectedShortfall), .money(f.expectedShortfallStandardError)],
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

        let accounts = ReportTable(
            csvName: "accounts.csv",
            columns: [.init("account", csv: "account"), .init("equity", csv: "equity"), .init("requirement", csv: "maintenance_requirement"),
                      .init("P(liquidation)", csv: "liquidation_probability"), .init("E[deficit]", csv: "expected_deficit"),
                      .init("warn", csv: "warn"), .init("reduce-only", csv: "reduce_only"), .init("liquidate", csv: "liquidate")],
            rows: r.accounts.map { a in
                [.label(a.id), .money(a.equity), .money(a.maintenanceRequirement), .number(a.liquidationProbability, format: "%.4g"),
                 .money(a.expectedDeficit), .money(a.warn), .money(a.reduceOnly), .money(a.liquidate)]
            })
        let accountSection = ReportSection(
            heading: "Account action ladder",
            note: "Losses in USD that trigger each action: warn = VaR 95 %, reduce-only = VaR 99 %, liquidate = equity − requirement.",
            blocks: [.chart(.bars(categories: r.accounts.map(\.id),
                                  series: [("warn", r.accounts.map(\.warn)), ("reduce-only", r.accounts.map(\.reduceOnly)), ("liquidate", r.accounts.map(\.liquidate))],
                                  title: "Loss thresholds by account", xLabel: "loss, USD")),
                     .table(accounts)])
        return ReportDocument(title: "Thresher calibration — \(r.scenario.name)", context: context,
                              sections: [ladderSection, fundSection, accountSection],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
    }
}
