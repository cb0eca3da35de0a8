import Calibration
import Foundation

/// The report of `thresher evaluate`: the scenario's policy under its model — breach probability per
/// tier and side against the target, liquidation probability and expected deficit per account,
/// penalty income against expected deficit, and the fund.
public struct EvaluationReport: CommandReport {
    public let result: PolicyEvaluation
    public let overrides: [String]
    /// Accounts shown in the terminal and HTML, most likely liquidated first (nil: all).
    public let top: Int?

    public init(result: PolicyEvaluation, overrides: [String] = [], top: Int? = 20) {
        self.result = result
        self.overrides = overrides
        self.top = top
    }

    public var json: JSONValue {
        let r = result
        let tiers: [JSONValue] = r.tiers.map { t in
            let fields: [(String, JSONValue)] = [
                ("asset", .string(t.asset)), ("up_to", .number(t.upTo)), ("side", .string(t.side.rawValue)),
                ("maintenance", .number(t.maintenance)), ("initial", t.initial.map(JSONValue.number) ?? .null),
                ("max_leverage", t.initial.map { JSONValue.number(1 / $0) } ?? .null),
                ("liquidation_hours", .number(t.liquidationHours)), ("impact", .number(t.impact)),
                ("breach_probability", .number(t.probability)), ("stderr", .number(t.standardError)),
            ]
            return .object(fields)
        }
        let penalty: [(String, JSONValue)] = [
            ("rate", .number(r.penaltyRate)), ("expected_income", .number(r.expectedIncome)),
            ("expected_income_stderr", .number(r.expectedIncomeStandardError)), ("expected_deficit", .number(r.expectedDeficit)),
            ("expected_deficit_stderr", .number(r.expectedDeficitStandardError)),
            ("coverage_ratio", r.coverageRatio.map(JSONValue.number) ?? .null),
        ]
        let fund: [(String, JSONValue)] = [
            ("confidence", .number(r.fundConfidence)), ("var", .number(r.fund.valueAtRisk)), ("es", .number(r.fund.expectedShortfall)),
            ("var_stderr", r.fund.valueAtRiskStandardError.map(JSONValue.number) ?? .null),
            ("es_stderr", r.fund.expectedShortfallStandardError.map(JSONValue.number) ?? .null),
            ("balance", r.fundBalance.map(JSONValue.number) ?? .null),
            ("p_deficit_exceeds_balance", r.fundShortfallProbability.map(JSONValue.number) ?? .null),
        ]
        let accounts: [JSONValue] = r.accounts.map { a in
            let fields: [(String, JSONValue)] = [
                ("id", .string(a.id)), ("account", .string(a.id)), ("equity", .number(a.equity)),
                ("maintenance_requirement", .number(a.requirement)), ("in_breach", .bool(a.inBreach)),
                ("liquidation_probability", .number(a.liquidationProbability)),
                ("unnecessary_liquidation_probability", .number(a.unnecessaryLiquidationProbability)), ("expected_deficit", .number(a.expectedDeficit)),
            ]
            let deleveraging: [(String, JSONValue)] = a.deleveragedProbability.map { p in
                [("deleveraged_probability", .number(p)), ("expected_haircut", .number(a.expectedHaircut ?? 0))]
            } ?? []
            return .object(fields + deleveraging)
        }
        let top: [(String, JSONValue)] = [
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("elapsed_seconds", .number(r.elapsedSeconds)), ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(r.scenario)), ("target_breach_probability", .number(r.targetBreachProbability)),
            ("importance_sampling", SamplingNotes.json(r.scenario)), ("deficit_mean_exists", .bool(SamplingNotes.deficitMeanExists(r.scenario))),
            ("tiers", .array(tiers)), ("liquidation_penalty", .object(penalty)), ("insurance_fund", .object(fund)),
            ("liquidation_timing", BreachTimesReport.json(r.breachTimes, monitoring: r.scenario.calibration?.monitoring)),
            ("accounts", .array(accounts)),
        ]
        return .object(top + (r.cascade.map { [("cascade", CascadeReport.json($0, without: r.withoutCascade))] } ?? []))
    }

    /// The answer first: the tiers that breach more than the target beyond noise (p̂ − 1.96·SE above
    /// it), the coverage of the deficit by penalty income, and P(deficit > fund) against 1 − the
    /// fund's confidence.
    var headline: [Headline] {
        let r = result, p = r.targetBreachProbability
        var lines: [Headline] = []
        let over = r.tiers.filter { $0.probability - 1.96 * $0.standardError > p }
        if let worst = r.tiers.max(by: { $0.probability < $1.probability }), !over.isEmpty {
            lines.append(Headline("\(over.count) of \(r.tiers.count) tiers and sides breach more than the target \(p), beyond noise; worst \(worst.asset) ≤ \(money(worst.upTo)) \(worst.side.rawValue): \(String(format: "%.3g", worst.probability)) (\(String(format: "%.3g", worst.probability / p))× the target)", .bad))
        } else {
            lines.append(Headline("No tier breaches more than the target \(p) beyond noise (\(r.tiers.count) tiers and sides)", .good))
        }
        if let ratio = r.coverageRatio {
            lines.append(Headline(String(format: "Penalty income covers %.3g× the expected deficit (penalty %@)", ratio, rate(r.penaltyRate)), ratio >= 1 ? .good : .bad))
        }
        if let q = r.fundShortfallProbability, let balance = r.fundBalance {
            let se = (q * (1 - q) / Double(r.paths)).squareRoot(), allowed = 1 - r.fundConfidence
            let verdict: Headline.Verdict = q - 1.96 * se > allowed ? .bad : q > allowed ? .warning : .good
            lines.append(Headline("P(deficit > fund of \(money(balance))) = \(String(format: "%.3g", q)) against \(String(format: "%.3g", allowed)) allowed by the fund's confidence \(percent(r.fundConfidence))", verdict))
        }
        return lines
    }

    public var document: ReportDocument {
        let r = result
        var context = ["\(r.scenario.name): policy evaluated over \(grouped(r.paths)) paths, seed \(r.scenario.simulation.seed), \(tailDescription(r.scenario.market.tails))"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        let target = r.targetBreachProbability
        let tiers = ReportTable(
            csvName: "tiers.csv",
            columns: [.init("asset", csv: "asset"), .init("tier ≤ USD", csv: "up_to"), .init("side", csv: "side"), .init("MMR", csv: "maintenance"),
                      .init("max leverage", csv: "max_leverage"), .init("P(breach)", csv: "breach_probability"), .init("± se", csv: "stderr"),
                      .init("vs target", csv: "ratio_to_target")],
            rows: r.tiers.map { t in
                [.label(t.asset), .money(t.upTo), .label(t.side.rawValue), .rate(t.maintenance),
                 t.initial.map { .number(1 / $0, format: "%.1fx") } ?? .label(""),
                 .number(t.probability, format: "%.4g").flagged(t.probability - 1.96 * t.standardError > target ? .bad : nil),
                 .number(t.standardError, format: "%.2g"), .number(t.probability / target, format: "%.2fx")]
            })
        let breached = r.tiers.filter { $0.probability - target > 2 * $0.standardError }
        let verdict = breached.isEmpty
            ? "Every tier's breach probability is within 2 standard errors of, or below, the target \(target)."
            : "\(breached.count) of \(r.tiers.count) tier sides breach more often than the target \(target) by over 2 standard errors (vs target > 1)."
        // One line per asset and side, in the order of the tiers.
        var sides: [String] = []
        for t in r.tiers where !sides.contains("\(t.asset) \(t.side.rawValue)") { sides.append("\(t.asset) \(t.side.rawValue)") }
        let chart = ReportChart.tierBreach(
            series: sides.map { side in
                (side, r.tiers.filter { "\($0.asset) \($0.side.rawValue)" == side }
                    .map { t in (upTo: t.upTo, probability: t.probability, breaching: t.probability - target > 2 * t.standardError) })
            },
            target: target, title: "Breach probability by tier against the target")
        let ladder = ReportSection(heading: "Margin ladder under the model",
                                   note: "P(breach): probability that liquidating a position of the tier's notional over its liquidation horizon loses more than its margin (impact included). Max leverage = 1/initial margin rate (blank where the policy gives no initial margin); calibrate's leverage at MMR is 1/maintenance rate. In the chart, red: above the target by over 2 standard errors; a zero probability sits on the axis's floor.",
                                   blocks: [.text([verdict]), .chart(chart), .table(tiers)])
        var fundRows: [[ReportCell]] = [
            ReportCell.quantity("liquidation_penalty_rate", "liquidation penalty rate") + [.rate(r.penaltyRate), .label("")],
            ReportCell.quantity("expected_penalty_income", "expected penalty income per path") + [.money(r.expectedIncome), .money(r.expectedIncomeStandardError)],
            ReportCell.quantity("expected_deficit", "expected deficit per path") + [.money(r.expectedDeficit), .money(r.expectedDeficitStandardError)],
            ReportCell.quantity("coverage_ratio", "coverage ratio (income / deficit)") + [r.coverageRatio.map { .number($0, format: "%.3g") } ?? ReportCell(text: "no deficit", csv: ""), .label("")],
            ReportCell.quantity("net_deficit_var", "net deficit VaR \(percent(r.fundConfidence))") + [.money(r.fund.valueAtRisk), .optionalMoney(r.fund.valueAtRiskStandardError)],
            ReportCell.quantity("net_deficit_es", "net deficit ES \(percent(r.fundConfidence))") + [.money(r.fund.expectedShortfall), .optionalMoney(r.fund.expectedShortfallStandardError)],
        ]
        if let balance = r.fundBalance, let p = r.fundShortfallProbability {
            fundRows += [ReportCell.quantity("insurance_fund_balance", "insurance fund balance") + [.money(balance), .label("")],
                         ReportCell.quantity("fund_shortfall_probability", "P(net deficit > balance)") + [.number(p, format: "%.3g"), .label("")]]
        }
        let fund = ReportSection(heading: "Penalty and insurance fund",
                                 blocks: [.text([BreachTimesReport.line(r.breachTimes, monitoring: r.scenario.calibration?.monitoring)] + SamplingNotes.lines(r.scenario)),
                                          .table(ReportTable(csvName: "fund.csv", columns: [.csvOnly("key"), .init("quantity", csv: "quantity"), .init("value", csv: "value"), .init("± se", csv: "stderr")],
                                                             rows: fundRows))])
        var columns: [ReportTable.Column] = [.init("account", csv: "account"), .init("equity", csv: "equity"), .init("requirement", csv: "maintenance_requirement"),
                                             .init("P(liquidation)", csv: "liquidation_probability"),
                                             .init("P(unnecessary)", csv: "unnecessary_liquidation_probability"),
                                             .init("E[deficit]", csv: "expected_deficit")]
        if r.cascade != nil { columns += [.init("P(ADL)", csv: "deleveraged_probability"), .init("E[ADL]", csv: "expected_haircut")] }
        columns.append(.init("flag", csv: "flag"))
        let rows: [[ReportCell]] = r.accounts.map { a in
            var row: [ReportCell] = [.label(a.id), .money(a.equity), .money(a.requirement), .number(a.liquidationProbability, format: "%.4g"),
                                     .number(a.unnecessaryLiquidationProbability, format: "%.4g"), .money(a.expectedDeficit)]
            if let p = a.deleveragedProbability { row += [.number(p, format: "%.4g"), .money(a.expectedHaircut ?? 0)] }
            return row + [.label(a.inBreach ? "IN BREACH" : "")]
        }
        let ranked = r.accounts.indices.sorted { x, y in
            let a = r.accounts[x], b = r.accounts[y]
            return a.liquidationProbability != b.liquidationProbability ? a.liquidationProbability > b.liquidationProbability
                : (a.expectedDeficit != b.expectedDeficit ? a.expectedDeficit > b.expectedDeficit : x < y)
        }
        let accounts = ReportSection(heading: "Accounts under the policy",
                                     note: "Liquidated when equity falls below the policy's maintenance requirement, checked \(BreachTimesReport.whenChecked(r.scenario.calibration?.monitoring)); deficit = max(−equity after liquidation, 0).",
                                     blocks: [.table(ReportTable(columns: columns, rows: ranked.map { rows[$0] }, displayLimit: top)),
                                              .table(ReportTable(csvName: "accounts.csv", columns: columns, rows: rows, displayed: false))])
        var document = ReportDocument(title: "Thresher policy evaluation — \(r.scenario.name)", context: context,
                              sections: [ladder, fund] + (r.cascade.map { [CascadeReport.section($0, evaluation: r)] } ?? []) + [accounts, Inputs.section(r.scenario)],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
        document.headline = headline
        return document
    }
}
