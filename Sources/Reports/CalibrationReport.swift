import Calibration
import Foundation

/// The report of `thresher calibrate`: ladder, penalty, insurance fund and account thresholds.
/// JSON names are a contract (README).
public struct CalibrationReport: CommandReport {
    public let result: CalibrationResult
    public let overrides: [String]

    /// Accounts shown in the terminal and HTML, highest liquidation probability first (nil: all).
    public let top: Int?

    /// Sectioning confidence intervals of the thresholds (nil: not computed).
    public let sectioned: SectionedCalibration?

    /// The relative half-width a threshold's interval must reach to be acted on (`--precision`);
    /// wider ones are reported with the paths they need.
    public let precision: Double

    public init(result: CalibrationResult, overrides: [String] = [], top: Int? = 20, sectioned: SectionedCalibration? = nil, precision: Double = 0.1) {
        self.top = top
        self.precision = precision
        self.sectioned = sectioned
        self.result = result
        self.overrides = overrides
    }

    public var json: JSONValue {
        let r = result
        let ladder: [JSONValue] = r.ladder.rungs.flatMap { $0 }.map { rung in
            .object([("asset", .string(rung.asset)), ("tier", .number(rung.tier)), ("long", .number(rung.long)),
                     ("short", .number(rung.short)), ("rate", .number(rung.rate)), ("stderr", rung.standardError.map(JSONValue.number) ?? .null),
                     ("liquidation_hours", .number(rung.liquidationHours)), ("impact", .number(rung.impact)),
                     ("max_leverage", .number(1 / rung.rate)), ("leverage_at_maintenance", .number(1 / rung.rate))])
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
            ("importance_sampling", SamplingNotes.json(r.scenario)),
            ("deficit_mean_exists", .bool(SamplingNotes.deficitMeanExists(r.scenario))),
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
            ("liquidation_timing", BreachTimesReport.json(r.breachTimes, monitoring: r.scenario.calibration?.monitoring)),
            ("confidence_intervals", intervalsJSON),
            ("accounts", .array(r.accounts.map { a in
                .object([("id", .string(a.id)), ("account", .string(a.id)), ("in_breach", .bool(a.inBreach)), ("thresholds_capped", .bool(a.capped)),
                         ("equity", .number(a.equity)), ("maintenance_requirement", .number(a.maintenanceRequirement)),
                         ("liquidation_probability", .number(a.liquidationProbability)), ("expected_deficit", .number(a.expectedDeficit)),
                         ("thresholds", .object([("warn", .number(a.warn)), ("reduce_only", .number(a.reduceOnly)), ("liquidate", .number(a.liquidate))]))])
            })),
        ])
    }

    /// [low, high] as JSON.
    static func pair(_ interval: (low: Double, high: Double)) -> JSONValue { .array([.number(interval.low), .number(interval.high)]) }

    /// The sectioning intervals of every threshold (README, "Confidence intervals"), or null.
    var intervalsJSON: JSONValue {
        guard let sectioned else { return .null }
        let rungs = result.ladder.rungs.enumerated().flatMap { i, rungs in rungs.indices.map { (i, $0) } }
        return .object([
            ("method", .string("sectioning")), ("sections", .integer(sectioned.sections.count)), ("confidence", .number(sectioned.confidence)),
            ("maintenance_margin", .array(rungs.map { i, t in
                let rung = result.ladder.rungs[i][t]
                return .object([("asset", .string(rung.asset)), ("tier", .number(rung.tier)),
                                ("long", Self.pair(sectioned.interval { $0.ladder.rungs[i][t].long })),
                                ("short", Self.pair(sectioned.interval { $0.ladder.rungs[i][t].short })),
                                ("rate", Self.pair(sectioned.interval { $0.ladder.rungs[i][t].rate }))])
            })),
            ("liquidation_penalty_rate", Self.pair(sectioned.interval { $0.penalty.rate })),
            ("expected_deficit", Self.pair(sectioned.interval { $0.penalty.expectedDeficit })),
            ("insurance_fund", .object([("var", Self.pair(sectioned.interval { $0.insuranceFund.valueAtRisk })),
                                        ("es", Self.pair(sectioned.interval { $0.insuranceFund.expectedShortfall }))])),
            ("precision", .number(precision)),
            ("paths_needed", .object(headlineEstimates(sectioned).map { ($0.name, $0.estimate.pathsNeeded(relativePrecision: precision).map(JSONValue.integer) ?? .null) })),
            ("accounts", .array(result.accounts.indices.map { a in
                .object([("account", .string(result.accounts[a].id)),
                         ("liquidation_probability", Self.pair(sectioned.interval { $0.accounts[a].liquidationProbability })),
                         ("expected_deficit", Self.pair(sectioned.interval { $0.accounts[a].expectedDeficit })),
                         ("warn", Self.pair(sectioned.interval { $0.accounts[a].warn })),
                         ("reduce_only", Self.pair(sectioned.interval { $0.accounts[a].reduceOnly }))])
            })),
        ])
    }

    /// The two cells (low, high) of a threshold's interval, formatted by `cell`; empty without sectioning.
    func intervalCells(_ cell: (Double) -> ReportCell, _ value: (CalibrationResult) -> Double) -> [ReportCell] {
        guard let sectioned else { return [.label(""), .label("")] }
        let i = sectioned.interval(value)
        return [cell(i.low), cell(i.high)]
    }

    /// The thresholds a venue sets from one calibration, by JSON name and label: the largest
    /// maintenance rate's interval stands for the ladder's.
    func headlineEstimates(_ sectioned: SectionedCalibration) -> [(name: String, label: String, estimate: Estimate)] {
        let rungs = result.ladder.rungs.enumerated().flatMap { i, rungs in rungs.indices.map { (i, $0) } }
        func relativeWidth(_ e: Estimate) -> Double { (e.halfWidth ?? 0) / max(abs(e.value), .leastNormalMagnitude) }
        let widest = rungs.map { k in (rung: result.ladder.rungs[k.0][k.1], estimate: sectioned.estimate { $0.ladder.rungs[k.0][k.1].rate }) }
            .max { relativeWidth($0.estimate) < relativeWidth($1.estimate) }
        return (widest.map { [("maintenance_margin_widest", "the widest maintenance rate (\($0.rung.asset) ≤ \(money($0.rung.tier)))", $0.estimate)] } ?? [])
            + [("liquidation_penalty_rate", "the penalty rate", sectioned.estimate { $0.penalty.rate }),
               ("insurance_fund_var", "the fund VaR", sectioned.estimate { $0.insuranceFund.valueAtRisk }),
               ("insurance_fund_es", "the fund ES", sectioned.estimate { $0.insuranceFund.expectedShortfall })]
    }

    /// Where an interval is too wide to act on: "the penalty rate ±61 % (≈ 7.4 M paths for ±10 %)".
    var precisionLine: String? {
        guard let sectioned else { return nil }
        let target = String(format: "±%g %%", precision * 100)
        let wide = headlineEstimates(sectioned).compactMap { tooWide($0.label, $0.estimate, precision: precision, zero: "of zero") }
        return wide.isEmpty ? nil : "Too wide to act on at \(grouped(result.paths)) paths (\(target) asked, --precision): " + wide.joined(separator: "; ")
            + ". --policy-out rounds each value to what its interval supports."
    }

    /// The answer first: the proposed ladder, penalty and fund, each against the scenario's policy
    /// when it has one — the policy's value below, inside or above the calibrated interval — and the
    /// thresholds too noisy to act on.
    var headline: [Headline] {
        let r = result
        var lines: [Headline] = []
        let rungs = r.ladder.rungs.enumerated().flatMap { i, rungs in rungs.indices.map { (i, $0) } }
        let rates = rungs.map { r.ladder.rungs[$0.0][$0.1].rate }
        lines.append(Headline("Proposed ladder: maintenance \(rate(rates.min() ?? 0))–\(rate(rates.max() ?? 0)) over \(rungs.count) tiers (target breach probability \(r.scenario.calibration?.breachProbability ?? .nan)); penalty \(rate(r.penalty.rate)); fund \(money(r.insuranceFund.expectedShortfall)) (ES \(percent(r.insuranceFund.confidence)))"))
        guard let policy = r.scenario.policy else {
            if let precisionLine { lines.append(Headline(precisionLine, .warning)) }
            return lines
        }
        /// Where the policy's value `x` lies against the calibrated interval of `read`.
        func position(_ x: Double, _ read: (CalibrationResult) -> Double) -> Int? {
            guard let i = sectioned?.interval(read) else { return nil }
            return x < max(0, i.low) ? -1 : x > i.high ? 1 : 0
        }
        var below: [String] = [], above = 0, within = 0
        for (i, t) in rungs where !policy.schedule.tiers[i].isEmpty {
            let rung = r.ladder.rungs[i][t]
            let tier = policy.schedule.tier(asset: i, notional: rung.tier)
            let current = max(tier.maintenanceLong, tier.maintenanceShort)
            switch position(current, { $0.ladder.rungs[i][t].rate }) {
            case .some(-1): below.append("\(rung.asset) ≤ \(money(rung.tier)): \(rate(current)) against \(rate(rung.rate))")
            case .some(1): above += 1
            case .some(0): within += 1
            default: break
            }
        }
        if sectioned == nil {
            lines.append(Headline("No intervals (--sections 0 or too few paths): the comparison with the scenario's policy cannot tell a change from noise", .warning))
        } else {
            let total = below.count + above + within
            lines.append(below.isEmpty
                ? Headline("The policy's ladder covers the calibrated one: \(within) of \(total) tiers within the interval, \(above) above it", .good)
                : Headline("The policy's ladder is below the calibrated interval on \(below.count) of \(total) tiers (\(below.prefix(3).joined(separator: "; "))\(below.count > 3 ? "; …" : "")); \(within) within, \(above) above", .bad))
            func compare(_ name: String, policy x: Double?, calibrated: String, format: (Double) -> String, _ read: (CalibrationResult) -> Double) {
                guard let x, let i = sectioned?.interval(read) else { return }
                let range = "\(format(max(0, i.low)))–\(format(i.high))"
                switch position(x, read) {
                case .some(-1): lines.append(Headline("\(name): the policy's \(format(x)) is below the calibrated \(calibrated) [\(range)], beyond noise", .bad))
                case .some(1): lines.append(Headline("\(name): the policy's \(format(x)) is above the calibrated \(calibrated) [\(range)], beyond noise", .warning))
                default: lines.append(Headline("\(name): the policy's \(format(x)) is within the calibrated interval [\(range)]: no change is supported at these paths", .good))
                }
            }
            compare("Penalty rate", policy: policy.liquidationPenalty, calibrated: rate(r.penalty.rate), format: rate) { $0.penalty.rate }
            compare("Insurance fund", policy: policy.insuranceFund, calibrated: money(r.insuranceFund.expectedShortfall), format: money) { $0.insuranceFund.expectedShortfall }
        }
        if let precisionLine { lines.append(Headline(precisionLine, .warning)) }
        return lines
    }

    var ciTitle: String { sectioned.map { "\(percent($0.confidence)) CI" } ?? "CI" }

    public var document: ReportDocument {
        let r = result
        let breach = r.scenario.calibration?.breachProbability ?? .nan
        var context = ["\(r.scenario.name): calibration over \(grouped(r.paths)) paths, seed \(r.scenario.simulation.seed), breach probability \(breach), \(tailDescription(r.scenario.market.tails))"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }

        let assets = r.ladder.rungs.filter { !$0.isEmpty }
        let ladder = ReportTable(
            csvName: "ladder.csv",
            columns: [.init("asset", csv: "asset"), .init("tier ≤ USD", csv: "tier"), .init("long", csv: "long"), .init("short", csv: "short"),
                      .init("MMR", csv: "rate"), .init("± se", csv: "stderr"), .init("\(ciTitle) low", csv: "rate_ci_low"),
                      .init("\(ciTitle) high", csv: "rate_ci_high"), .init("impact", csv: "impact"),
                      .init("leverage at MMR", csv: "leverage_at_maintenance"), .init("liquidation hours", csv: "liquidation_hours")],
            rows: r.ladder.rungs.enumerated().flatMap { i, rungs in rungs.enumerated().map { t, rung -> [ReportCell] in
                [.label(rung.asset), .money(rung.tier), .rate(rung.long), .rate(rung.short), .rate(rung.rate), rung.standardError.map(ReportCell.rate) ?? .label("n/a")]
                    + intervalCells(ReportCell.rate) { $0.ladder.rungs[i][t].rate }
                    + [.rate(rung.impact), .number(1 / rung.rate, format: "%.1fx"), .number(rung.liquidationHours, format: "%.1f")]
            } })
        let ladderSection = ReportSection(
            heading: "Maintenance-margin ladder",
            note: "A position of notional x uses the first tier ≥ x; MMR = max of long and short; leverage at MMR = 1/MMR, the leverage at which a position reaches its maintenance margin (max leverage, as evaluate shows it, is 1/initial margin and lower).",
            blocks: [.chart(.percentLines(series: assets.map { ($0[0].asset, $0.map { ($0.tier, $0.rate * 100) }) },
                                          title: "Maintenance-margin rate by tier", xLabel: "position notional (tier), USD, log scale",
                                          yLabel: "maintenance margin, % of notional")),
                     .table(ladder)])

        let p = r.penalty, f = r.insuranceFund
        let none = [ReportCell.label(""), .label("")]
        var fundRows: [[ReportCell]] = [
            ReportCell.quantity("liquidation_penalty_rate", "liquidation penalty rate") + [.rate(p.rate), .label("")] + intervalCells(ReportCell.rate) { $0.penalty.rate },
            ReportCell.quantity("expected_penalty_income", "expected penalty income per path") + [.money(p.expectedIncome), .money(p.expectedIncomeStandardError)] + none,
            ReportCell.quantity("expected_deficit", "expected deficit per path") + [.money(p.expectedDeficit), .money(p.expectedDeficitStandardError)]
                + intervalCells(ReportCell.money) { $0.penalty.expectedDeficit },
            ReportCell.quantity("insurance_fund_var", "insurance fund VaR \(percent(f.confidence))") + [.money(f.valueAtRisk), .optionalMoney(f.valueAtRiskStandardError)]
                + intervalCells(ReportCell.money) { $0.insuranceFund.valueAtRisk },
            ReportCell.quantity("insurance_fund_es", "insurance fund ES \(percent(f.confidence))") + [.money(f.expectedShortfall), .optionalMoney(f.expectedShortfallStandardError)]
                + intervalCells(ReportCell.money) { $0.insuranceFund.expectedShortfall },
        ]
        if let balance = f.balance, let adl = f.adlProbability {
            fundRows += [ReportCell.quantity("insurance_fund_balance", "insurance fund balance") + [.money(balance), .label("")] + none,
                         ReportCell.quantity("adl_probability", "auto-deleveraging probability") + [.number(adl, format: "%.3g"), .label("")] + none]
        }
        let verdict = p.reached
            ? "The penalty rate \(rate(p.rate)) of notional covers \(p.coverage)× the expected deficit."
            : "NOT REACHED: max_rate \(rate(p.maxRate)) covers less than \(p.coverage)× the expected deficit."
        let fundSection = ReportSection(heading: "Liquidation penalty and insurance fund",
                                        blocks: [.text([verdict] + (precisionLine.map { [$0] } ?? []) + [BreachTimesReport.line(r.breachTimes, monitoring: r.scenario.calibration?.monitoring)]
                                                         + SamplingNotes.lines(r.scenario)), .table(ReportTable(csvName: "fund.csv", columns: [.csvOnly("key"), .init("quantity", csv: "quantity"), .init("value", csv: "value"), .init("± se", csv: "stderr"),
                                                                                   .init("\(ciTitle) low", csv: "ci_low"), .init("\(ciTitle) high", csv: "ci_high")],
                                                                         rows: fundRows))])

        let columns: [ReportTable.Column] = [
            .init("account", csv: "account"), .init("equity", csv: "equity"), .init("requirement", csv: "maintenance_requirement", priority: 0),
            .init("P(liquidation)", csv: "liquidation_probability"), .init("E[deficit]", csv: "expected_deficit", priority: 0),
            .init("warn", csv: "warn"), .init("reduce-only", csv: "reduce_only"), .init("liquidate", csv: "liquidate", priority: 2),
            .init("flag", csv: "flag", priority: 2),
        ]
        let rows: [[ReportCell]] = r.accounts.map { a in
            [.label(a.id), .money(a.equity), .money(a.maintenanceRequirement), .number(a.liquidationProbability, format: "%.4g"),
             .money(a.expectedDeficit), .money(a.warn), .money(a.reduceOnly), .money(a.liquidate),
             .label(a.inBreach ? "IN BREACH" : a.capped ? "capped" : "").flagged(a.inBreach ? .bad : nil)]
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
        // The chart keeps to `chartedAccounts` rows whatever --top shows in the table.
        let charted = Array(shown.prefix(chartedAccounts))
        let breaches = r.accounts.filter(\.inBreach).map(\.id)
        var accountBlocks: [ReportBlock] = []
        if !breaches.isEmpty {
            accountBlocks.append(.text(["IN BREACH NOW (equity below the maintenance requirement, liquidated at once): \(breaches.prefix(20).joined(separator: ", "))\(breaches.count > 20 ? " and \(breaches.count - 20) more" : "")"]))
        }
        accountBlocks += [
            .chart(.thresholds(accounts: charted.map { r.accounts[$0].id }, warn: charted.map { r.accounts[$0].warn },
                               reduceOnly: charted.map { r.accounts[$0].reduceOnly }, liquidate: charted.map { r.accounts[$0].liquidate },
                               more: r.accounts.count - charted.count,
                               title: charted.count < r.accounts.count ? "Loss thresholds of the \(counted(charted.count, "account")) most likely liquidated" : "Loss thresholds by account")),
            .table(ReportTable(columns: columns, rows: ranked.map { rows[$0] }, displayLimit: top)),
            .table(ReportTable(csvName: "accounts.csv", columns: columns, rows: rows, displayed: false)),
        ]
        let accountSection = ReportSection(
            heading: "Account action ladder",
            note: "Losses in USD that trigger each action: liquidate = equity − requirement, reduce-only = min(VaR 99 %, liquidate), warn = min(VaR 95 %, reduce-only), so warn ≤ reduce-only ≤ liquidate (capped: a VaR was lowered to keep that order). IN BREACH: equity now is below the requirement now; liquidated at once.",
            blocks: accountBlocks)
        var document = ReportDocument(title: "Thresher calibration — \(r.scenario.name)", context: context,
                              sections: [ladderSection, fundSection, accountSection, Inputs.section(r.scenario)],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
        document.headline = headline
        return document
    }
}
