import Calibration
import Foundation

/// The JSON and terminal forms of `thresher calibrate`. JSON names are a contract (README).
public struct CalibrationReport {
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

    public var table: String {
        let r = result
        var text = "\(r.scenario.name): calibration over \(grouped(r.paths)) paths, breach probability \(r.scenario.calibration?.breachProbability ?? .nan)\n"
        if !overrides.isEmpty { text += "overrides: \(overrides.joined(separator: ", "))\n" }
        text += "\nMaintenance-margin ladder (rate = max of long and short; max leverage = 1/rate)\n"
        var rows: [[String]] = []
        for rung in r.ladder.rungs.flatMap({ $0 }) {
            rows.append([rung.asset, money(rung.tier), rate(rung.long), rate(rung.short), "\(rate(rung.rate)) ± \(rate(rung.standardError))",
                         String(format: "%.1fx", 1 / rung.rate), String(format: "%.1f h", rung.liquidationHours)])
        }
        text += TextTable(header: ["asset", "tier ≤ USD", "long", "short", "MMR", "max lev.", "liq. time"], rows: rows).rendered
        let p = r.penalty
        text += "\nLiquidation penalty: \(rate(p.rate)) of notional"
        text += p.reached ? " (covers \(p.coverage)× the expected deficit)\n" : " — NOT REACHED: max_rate \(rate(p.maxRate)) covers less than \(p.coverage)× the expected deficit\n"
        text += "  expected income \(money(p.expectedIncome)) vs expected deficit \(money(p.expectedDeficit)) per path\n"
        let f = r.insuranceFund
        text += "Insurance fund at \(percent(f.confidence)): VaR \(money(f.valueAtRisk)) ± \(money(f.valueAtRiskStandardError)), ES \(money(f.expectedShortfall)) ± \(money(f.expectedShortfallStandardError))"
        if let balance = f.balance, let adl = f.adlProbability {
            text += "\n  balance \(money(balance)): auto-deleveraging probability \(String(format: "%.3g", adl))"
        }
        text += "\n\nAccount action ladder (losses in USD that trigger each action)\n"
        text += TextTable(header: ["account", "equity", "requirement", "P(liquidation)", "E[deficit]", "warn", "reduce-only", "liquidate"],
                          rows: r.accounts.map { a in
                              [a.id, money(a.equity), money(a.maintenanceRequirement), String(format: "%.4g", a.liquidationProbability),
                               money(a.expectedDeficit), money(a.warn), money(a.reduceOnly), money(a.liquidate)]
                          }).rendered
        text += String(format: "\n%.2f s\n", r.elapsedSeconds)
        return text
    }
}

extension CalibrationReport {
    /// HTML: the margin ladder (chart and table), penalty, fund and the account action ladder.
    public var html: String {
        let r = result
        var page = HTMLPage(title: "Thresher calibration — \(r.scenario.name)", lines: [
            "\(grouped(r.paths)) paths, breach probability \(r.scenario.calibration?.breachProbability ?? .nan)",
        ] + overrides)
        let assets = r.ladder.rungs.filter { !$0.isEmpty }
        let chart = SVGChart.lines(series: assets.map { ($0[0].asset, $0.map { ($0.tier, $0.rate * 100) }) },
                                   title: "Maintenance-margin rate by tier", xLabel: "position notional (tier), USD, log scale",
                                   yLabel: "maintenance margin, % of notional", logX: true, formatY: { String(format: "%.0f%%", $0) })
        let rows = assets.flatMap { $0 }.map { [$0.asset, money($0.tier), rate($0.long), rate($0.short), rate($0.rate), rate($0.standardError), String(format: "%.1fx", 1 / $0.rate), String(format: "%.1f", $0.liquidationHours)] }
        page.section("Maintenance-margin ladder", note: "A position of notional x uses the first tier ≥ x; max leverage = 1/MMR.",
                     chart + HTMLPage.table(header: ["asset", "tier ≤ USD", "long", "short", "MMR", "± se", "max leverage", "liquidation hours"], rows: rows))
        let p = r.penalty, f = r.insuranceFund
        var fundRows = [["VaR \(percent(f.confidence))", money(f.valueAtRisk)], ["ES \(percent(f.confidence))", money(f.expectedShortfall)]]
        if let balance = f.balance, let adl = f.adlProbability { fundRows += [["balance", money(balance)], ["ADL probability", String(format: "%.3g", adl)]] }
        page.section("Liquidation penalty and insurance fund", HTMLPage.table(header: ["", ""], rows: [
            ["penalty rate", rate(p.rate) + (p.reached ? "" : " (not reached: max_rate too small)")],
            ["expected income per path", money(p.expectedIncome)], ["expected deficit per path", money(p.expectedDeficit)],
        ] + fundRows))
        page.section("Account action ladder", note: "Loss thresholds in USD: warn = VaR 95 %, reduce-only = VaR 99 %, liquidate = equity − requirement.",
                     SVGChart.bars(categories: r.accounts.map(\.id), series: [("warn", r.accounts.map(\.warn)), ("reduce-only", r.accounts.map(\.reduceOnly)), ("liquidate", r.accounts.map(\.liquidate))],
                                   title: "Loss thresholds by account", xLabel: "loss, USD")
                     + HTMLPage.table(header: ["account", "equity", "requirement", "P(liquidation)", "E[deficit]", "warn", "reduce-only", "liquidate"],
                                      rows: r.accounts.map { [$0.id, money($0.equity), money($0.maintenanceRequirement), String(format: "%.4g", $0.liquidationProbability), money($0.expectedDeficit), money($0.warn), money($0.reduceOnly), money($0.liquidate)] }))
        return page.rendered
    }

    /// ladder.csv and accounts.csv.
    public var csvFiles: [(name: String, contents: String)] {
        let r = result
        let ladder = csv(header: ["asset", "tier", "long", "short", "rate", "stderr", "liquidation_hours", "max_leverage"],
                         rows: r.ladder.rungs.flatMap { $0 }.map { [$0.asset, csvNumber($0.tier), csvNumber($0.long), csvNumber($0.short), csvNumber($0.rate), csvNumber($0.standardError), csvNumber($0.liquidationHours), csvNumber(1 / $0.rate)] })
        let accounts = csv(header: ["account", "equity", "maintenance_requirement", "liquidation_probability", "expected_deficit", "warn", "reduce_only", "liquidate"],
                           rows: r.accounts.map { [$0.id, csvNumber($0.equity), csvNumber($0.maintenanceRequirement), csvNumber($0.liquidationProbability), csvNumber($0.expectedDeficit), csvNumber($0.warn), csvNumber($0.reduceOnly), csvNumber($0.liquidate)] })
        return [("ladder.csv", ladder), ("accounts.csv", accounts)]
    }
}

/// A rate as a percentage with three significant decimals.
func rate(_ x: Double) -> String { String(format: "%.3f%%", x * 100) }
