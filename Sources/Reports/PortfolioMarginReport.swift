import Calibration
import Foundation
import ScenarioSpec

/// The portfolio-margin part of `evaluate` and `calibrate` reports (README, "Portfolio margin"): each
/// account's risk-array requirement with the point that binds on each asset, its probability of
/// losing more than its maintenance over its liquidation period, and per asset the policy's spot
/// range against the smallest that meets the target (with its sectioning interval), the smallest scale
/// of its vol shifts that meets it at the policy's range, and the sensitivity of the calibrated range to
/// the target and to the vol shifts. A group of assets (`groups`) is one row with its members.
public struct PortfolioMarginReport {
    public let result: PortfolioMarginResult
    /// The study on each section (for the calibrated ranges' intervals); nil or empty: none.
    public let sectionResults: [PortfolioMarginResult]?
    public let confidence: Double
    /// `evaluate`'s waterfall with the risk array as the requirement, and the ladder's evaluation on
    /// the same paths beside it (nil: not run, as in `calibrate`).
    public let waterfall: (array: RiskArrayWaterfall, ladder: PolicyEvaluation)?

    public init(result: PortfolioMarginResult, sections: [PortfolioMarginResult]? = nil, confidence: Double = 0.95,
                waterfall: (array: RiskArrayWaterfall, ladder: PolicyEvaluation)? = nil) {
        self.result = result
        sectionResults = sections
        self.confidence = confidence
        self.waterfall = waterfall
    }

    /// The calibrated range of `asset` with its interval where sections give one.
    func calibrated(_ range: PortfolioMarginResult.AssetRange) -> (value: Double, interval: (low: Double, high: Double)?) {
        guard let sections = sectionResults, sections.count >= 2 else { return (range.calibrated, nil) }
        let values = sections.compactMap { $0.ranges.first { $0.asset == range.asset }?.calibrated }
        guard values.count == sections.count, values.allSatisfy(\.isFinite), range.calibrated.isFinite else { return (range.calibrated, nil) }
        let interval = Sectioning.interval(full: range.calibrated, sections: values, confidence: confidence)
        return (range.calibrated, (max(0, interval.low), interval.high))   // a range is ≥ 0: the interval cut there keeps its coverage
    }

    /// The calibrated vol-shift scale of `range` with its interval where every section reached one.
    func calibratedScale(_ range: PortfolioMarginResult.AssetRange) -> (value: PortfolioMarginResult.VolShiftScale?, interval: (low: Double, high: Double)?) {
        guard let full = range.volShiftScale?.value, let sections = sectionResults, sections.count >= 2 else { return (range.volShiftScale, nil) }
        let values = sections.compactMap { $0.ranges.first { $0.asset == range.asset }?.volShiftScale?.value }
        guard values.count == sections.count else { return (range.volShiftScale, nil) }
        let interval = Sectioning.interval(full: full, sections: values, confidence: confidence)
        return (range.volShiftScale, (max(0, interval.low), interval.high))   // a scale is ≥ 0
    }

    /// A vol-shift scale as the reports write it: "×1.23", "0", "no options", "not reached".
    func scaleText(_ scale: PortfolioMarginResult.VolShiftScale?) -> String {
        switch scale {
        case .reached(let s)?: return s == 0 ? "0" : String(format: "×%.3g", s)
        case .noOptions?: return "no options"
        case .notReached?: return "not reached"
        case nil: return ""
        }
    }

    /// A calibrated range of the sensitivity table: "16 %", or "not reached".
    func rangeCell(_ range: Double?) -> ReportCell { range.map(ReportCell.rate) ?? .label("not reached") }

    /// Accounts whose breach probability is above the target beyond noise (p̂ − 1.96·se > p).
    var accountsAboveTarget: [PortfolioMarginResult.Account] {
        result.accounts.filter { $0.breachProbability - 1.96 * $0.standardError > result.targetBreachProbability }
    }

    /// The answer first: accounts in breach of the target, and each asset's range against the calibrated one.
    public var headline: [Headline] {
        var lines: [Headline] = []
        let above = accountsAboveTarget
        if above.isEmpty {
            lines.append(Headline("Portfolio margin: no account loses more than its maintenance over its liquidation period with probability above \(String(format: "%g", result.targetBreachProbability)) beyond noise", .good))
        } else {
            lines.append(Headline("Portfolio margin: \(grouped(above.count)) of \(grouped(result.accounts.count)) accounts lose more than their maintenance with probability above the target \(String(format: "%g", result.targetBreachProbability)) (worst \(above.max { $0.breachProbability < $1.breachProbability }!.id))", .bad))
        }
        // One line per asset where there are few; otherwise one line per verdict, naming the first few.
        let verdicts = result.ranges.map { range -> (text: String, bad: Bool) in
            let (value, interval) = calibrated(range)
            let left = range.uncoverable > 0 ? "; \(grouped(range.uncoverable)) of its \(grouped(range.accounts)) accounts lose more than any range covers (maintenance fraction or minimums must)" : ""
            guard range.reached else { return ("\(range.asset): no spot range below ±100 % meets the target" + left, true) }
            let short = range.current < (interval?.low ?? value)
            let text = "\(range.asset): the policy's ±\(percent(range.current)) (covers \(percent(range.coveredByPolicy)) of its accounts) against the calibrated ±\(percent(value))"
                + (interval.map { " [\(percent($0.low))–\(percent($0.high))]" } ?? "")
                + (value == 0 ? " (the extended moves and minimum charges alone meet the target)" : "")
                + (short ? ", too narrow" : "") + left
            return (text, short || range.uncoverable > 0)
        }
        if verdicts.count <= 3 {
            lines += verdicts.map { Headline("Portfolio margin " + $0.text, $0.bad ? .bad : .good) }
        } else {
            for bad in [true, false] {
                let group = verdicts.filter { $0.bad == bad }
                guard !group.isEmpty else { continue }
                let shown = group.prefix(3).map(\.text).joined(separator: "; ")
                lines.append(Headline("Portfolio margin, \(group.count) of \(verdicts.count) assets \(bad ? "short of the target" : "within it"): " + shown
                                      + (group.count > 3 ? "; … (the ranges table has all)" : ""), bad ? .bad : .good))
            }
        }
        if let (array, ladder) = waterfall {
            // Worse than the ladder's beyond noise: the array's expected deficit above the ladder's by more than 1.96 se.
            let worse = array.expectedDeficit - 1.96 * array.expectedDeficitStandardError > ladder.expectedDeficit
            lines.append(Headline("Portfolio margin waterfall: expected deficit \(money(array.expectedDeficit)) per path (ladder \(money(ladder.expectedDeficit))), net deficit ES \(percent(ladder.fundConfidence)) \(money(array.fund.expectedShortfall)) (ladder \(money(ladder.fund.expectedShortfall))) with the risk array as the requirement",
                                  worse ? .bad : .good))
        }
        return lines
    }

    /// "16 %" to three significant digits.
    func percent(_ x: Double) -> String { String(format: "%.3g %%", 100 * x) }

    /// The report's section: the accounts' requirements and breach probabilities, the assets' ranges.
    public var reportSections: [ReportSection] {
        // Under `evaluate`, each account's waterfall under the array: two more columns.
        let waterfallColumns: [ReportTable.Column] = waterfall == nil ? [] : [.init("P(liquidated)", csv: "liquidation_probability", priority: 2),
                                                                               .init("E[deficit]", csv: "expected_deficit", priority: 2)]
        let accounts = ReportTable(
            csvName: "portfolio_margin_accounts.csv",
            columns: [.init("account", csv: "account"), .init("asset", csv: "asset"), .init("initial", csv: "initial"), .init("worst point", csv: "worst_loss", priority: 0),
                      .init("binding", csv: "binding"), .init("maintenance", csv: "maintenance"), .init("P(loss > maintenance)", csv: "breach_probability", priority: 2),
                      .init("± se", csv: "stderr", priority: 2)] + waterfallColumns,
            rows: result.accounts.enumerated().flatMap { a, account -> [[ReportCell]] in
                let verdict: Headline.Verdict = account.breachProbability - 1.96 * account.standardError > result.targetBreachProbability ? .bad : .good
                let outcome = waterfall.map { $0.array.accounts[a] }
                let total: [ReportCell] = [.label(account.id), .label("all"), .money(account.initial), .label(""), .label(""), .money(account.maintenance),
                                           ReportCell.number(account.breachProbability, format: "%.3g").flagged(verdict), .number(account.standardError, format: "%.2g")]
                    + (outcome.map { [.number($0.liquidationProbability, format: "%.4g"), .money($0.expectedDeficit)] } ?? [])
                return [total] + account.charges.map { c in
                    [.label(""), .label(c.asset), .money(c.initial), .money(c.worstLoss), .label(c.binding), .label(""), .label(""), .label("")]
                        + waterfallColumns.map { _ in .label("") }
                }
            })
        var blocks: [ReportBlock] = [
            .text(["Requirement: per underlying, the worst loss of the account's positions on it over the risk array (spot grid × vol shifts, extended moves at their weights), at least the net-delta minimum, plus the short-option charge; maintenance = \(String(format: "%g", result.maintenanceFraction)) × initial. P(loss > maintenance): closing the whole account over its liquidation period (impact included) on \(grouped(result.paths)) paths; target \(String(format: "%g", result.targetBreachProbability))."]),
            .table(accounts),
        ]
        if !result.ranges.isEmpty {
            let ciTitle = "\(Int((100 * confidence).rounded())) % CI"
            // The interval columns only where sections gave intervals (calibrate, not evaluate).
            let withIntervals = (sectionResults?.count ?? 0) >= 2
            let ciColumns: [ReportTable.Column] = withIntervals ? [.init("\(ciTitle) low", csv: "ci_low"), .init("\(ciTitle) high", csv: "ci_high")] : []
            // The members column only where a group is calibrated.
            let grouped = result.ranges.contains(where: \.isGroup)
            let scaleColumns: [ReportTable.Column] = [.init("vol-shift scale", csv: "calibrated_vol_shift_scale"),
                                                      .init("not coverable by shifts", csv: "vol_shift_uncoverable")]
                + (withIntervals ? [.init("scale \(ciTitle) low", csv: "vol_shift_scale_ci_low", priority: 0), .init("scale \(ciTitle) high", csv: "vol_shift_scale_ci_high", priority: 0)] : [])
            blocks.append(.table(ReportTable(
                csvName: "portfolio_margin_ranges.csv",
                columns: [.init("asset", csv: "asset")] + (grouped ? [.init("members", csv: "members")] : [])
                    + [.init("policy range", csv: "policy_range"), .init("calibrated range", csv: "calibrated_range")] + ciColumns
                    + [.init("accounts", csv: "accounts"), .init("policy covers", csv: "covered_by_policy"), .init("not coverable", csv: "uncoverable")] + scaleColumns,
                rows: result.ranges.map { range in
                    let (value, interval) = calibrated(range)
                    let short = range.reached && range.current < (interval?.low ?? value)
                    let ciCells: [ReportCell] = withIntervals ? [interval.map { .rate($0.low) } ?? .label(""), interval.map { .rate($0.high) } ?? .label("")] : []
                    let (scale, scaleInterval) = calibratedScale(range)
                    let scaleText = self.scaleText(scale)
                    let scaleCells: [ReportCell] = [ReportCell(text: scaleText, csv: scale?.value.map(csvNumber) ?? scaleText),
                                                    range.volShiftUncoverable.map { ReportCell.integer($0).flagged($0 > 0 ? .bad : nil) } ?? .label("")]
                        + (withIntervals ? [scaleInterval.map { .number($0.low, format: "%.3g") } ?? .label(""), scaleInterval.map { .number($0.high, format: "%.3g") } ?? .label("")] : [])
                    return [.label(range.asset)] + (grouped ? [.label(range.members.joined(separator: " "))] : [])
                        + [ReportCell.rate(range.current).flagged(short ? .bad : nil),
                           range.reached ? .rate(value) : .label("not reached")] + ciCells + [.integer(range.accounts),
                           .rate(range.coveredByPolicy),
                           ReportCell.integer(range.uncoverable).flagged(range.uncoverable > 0 ? .bad : nil)] + scaleCells
                })))
            if result.ranges.contains(where: { $0.sensitivity != nil }) {
                let p = result.targetBreachProbability, first = result.ranges.first { $0.sensitivity != nil }!.sensitivity!
                func probability(_ q: Double) -> String { String(format: "%g", q) }
                func scale(_ s: Double) -> String { String(format: "%g", s) }
                blocks.append(.text(["Sensitivity of the calibrated range: R* at other targets (the policy's vol shifts) and with the vol shifts scaled (target \(probability(p))), on all paths; holders no range covers there are left out, as above."]))
                blocks.append(.table(ReportTable(
                    csvName: "portfolio_margin_sensitivity.csv",
                    // The targets in order: p/2, p, 2p.
                    columns: [.init("asset", csv: "asset")]
                        + first.targets.prefix(1).map { ReportTable.Column("R* at p = \(probability($0.value))", csv: "calibrated_range_p_\(probability($0.value))") }
                        + [.init("R* at p = \(probability(p))", csv: "calibrated_range")]
                        + first.targets.dropFirst().map { ReportTable.Column("R* at p = \(probability($0.value))", csv: "calibrated_range_p_\(probability($0.value))") }
                        + first.volScales.map { ReportTable.Column("R* at vol ×\(scale($0.value))", csv: "calibrated_range_vol_shift_scale_\(scale($0.value))") },
                    rows: result.ranges.compactMap { range -> [ReportCell]? in
                        guard let sensitivity = range.sensitivity else { return nil }
                        return [.label(range.asset)] + sensitivity.targets.prefix(1).map { rangeCell($0.calibrated) }
                            + [rangeCell(range.reached ? range.calibrated : nil)] + sensitivity.targets.dropFirst().map { rangeCell($0.calibrated) }
                            + sensitivity.volScales.map { rangeCell($0.calibrated) }
                    })))
            }
        }
        if let (array, ladder) = waterfall {
            blocks.append(.text(["Waterfall with the risk array as the requirement, beside the ladder's on the same paths: an account is liquidated when its equity at the horizon is below its maintenance under the array applied around the path's horizon market (spots and implied vols moved, options' time to expiry less the horizon; checked at the horizon's end), closed over its liquidation period; deficits and penalty income (rate \(String(format: "%g", ladder.penaltyRate))) go to the fund as the ladder's do. Per path, USD."]))
            func row(_ key: String, _ label: String, _ ladder: ReportCell, _ array: ReportCell, _ se: ReportCell) -> [ReportCell] { ReportCell.quantity(key, label) + [ladder, array, se] }
            var rows: [[ReportCell]] = [
                row("expected_liquidations", "expected liquidations per path", .number(ladder.accounts.map(\.liquidationProbability).reduce(0, +), format: "%.4g"),
                    .number(array.expectedLiquidations, format: "%.4g"), .label("")),
                row("expected_deficit", "expected deficit per path", .money(ladder.expectedDeficit), .money(array.expectedDeficit), .money(array.expectedDeficitStandardError)),
                row("expected_penalty_income", "expected penalty income per path", .money(ladder.expectedIncome), .money(array.expectedIncome), .money(array.expectedIncomeStandardError)),
                row("net_deficit_var", "net deficit VaR \(percent(ladder.fundConfidence))", .money(ladder.fund.valueAtRisk), .money(array.fund.valueAtRisk),
                    .optionalMoney(array.fund.valueAtRiskStandardError)),
                row("net_deficit_es", "net deficit ES \(percent(ladder.fundConfidence))", .money(ladder.fund.expectedShortfall), .money(array.fund.expectedShortfall),
                    .optionalMoney(array.fund.expectedShortfallStandardError)),
            ]
            if let p = ladder.fundShortfallProbability, let q = array.fundShortfallProbability {
                rows.append(row("fund_shortfall_probability", "P(net deficit > balance)", .number(p, format: "%.3g"), .number(q, format: "%.3g"), .label("")))
            }
            blocks.append(.table(ReportTable(csvName: "portfolio_margin_waterfall.csv",
                                             columns: [.csvOnly("key"), .init("quantity", csv: "quantity"), .init("ladder", csv: "ladder"),
                                                       .init("risk array", csv: "risk_array"), .init("risk array ± se", csv: "risk_array_stderr")],
                                             rows: rows)))
        }
        return [ReportSection(heading: "Portfolio margin (risk array)",
                              note: "Calibrated range: the smallest ±spot range of each asset's grid at which no account's loss on that asset over its liquidation period exceeds its maintenance with probability above the target (a group: one range, the largest its members' holders need; each asset still revalued alone); policy covers: the share of the asset's accounts whose own smallest range is within the policy's; not coverable: accounts no range below ±100 % covers; vol-shift scale: the smallest multiple of the policy's vol shifts that, at the policy's range, covers every account the largest multiple searched covers (0: the range alone does; not reached: the largest covers none; no options: no account holds one); not coverable by shifts: accounts the largest multiple leaves short (a perp's loss, say), left out of the scale.",
                              blocks: blocks)]
    }

    public var json: JSONValue {
        .object([
            ("paths", .integer(result.paths)), ("target_breach_probability", .number(result.targetBreachProbability)),
            ("maintenance_fraction", .number(result.maintenanceFraction)),
            ("accounts", .array(result.accounts.map { a in
                .object([("id", .string(a.id)), ("initial", .number(a.initial)), ("maintenance", .number(a.maintenance)),
                         ("breach_probability", .number(a.breachProbability)), ("stderr", .number(a.standardError)),
                         ("charges", .array(a.charges.map { c in
                             .object([("asset", .string(c.asset)), ("initial", .number(c.initial)), ("worst_loss", .number(c.worstLoss)), ("binding", .string(c.binding)),
                                      ("net_delta_charge", .number(c.netDeltaCharge)), ("short_option_charge", .number(c.shortOptionCharge))])
                         }))])
            })),
            ("waterfall", waterfall.map { array, ladder in
                .object([("expected_liquidations", .number(array.expectedLiquidations)),
                         ("expected_deficit", .number(array.expectedDeficit)), ("expected_deficit_stderr", .number(array.expectedDeficitStandardError)),
                         ("expected_income", .number(array.expectedIncome)), ("expected_income_stderr", .number(array.expectedIncomeStandardError)),
                         ("fund", .object([("confidence", .number(ladder.fundConfidence)), ("var", .number(array.fund.valueAtRisk)),
                                           ("es", .number(array.fund.expectedShortfall)),
                                           ("var_stderr", array.fund.valueAtRiskStandardError.map(JSONValue.number) ?? .null),
                                           ("es_stderr", array.fund.expectedShortfallStandardError.map(JSONValue.number) ?? .null),
                                           ("p_deficit_exceeds_balance", array.fundShortfallProbability.map(JSONValue.number) ?? .null)])),
                         ("accounts", .array(array.accounts.map { a in
                             .object([("id", .string(a.id)), ("maintenance", .number(a.maintenance)),
                                      ("liquidation_probability", .number(a.liquidationProbability)), ("expected_deficit", .number(a.expectedDeficit))])
                         }))])
            } ?? .null),
            ("ranges", .array(result.ranges.map { r in
                let (value, interval) = calibrated(r)
                let (scale, scaleInterval) = calibratedScale(r)
                let status: JSONValue = switch scale {
                case .reached?: .string("reached")
                case .notReached?: .string("not reached")
                case .noOptions?: .string("no options")
                case nil: .null
                }
                func points(_ points: [PortfolioMarginResult.Sensitivity.Point], _ key: String) -> JSONValue {
                    .array(points.map { .object([(key, .number($0.value)), ("calibrated_range", $0.calibrated.map(JSONValue.number) ?? .null), ("uncoverable", .integer($0.uncoverable))]) })
                }
                return .object([("asset", .string(r.asset)), ("policy_range", .number(r.current)), ("calibrated_range", r.reached ? .number(value) : .null),
                                ("reached", .bool(r.reached)), ("interval", interval.map { .array([.number($0.low), .number($0.high)]) } ?? .null),
                                ("accounts", .integer(r.accounts)), ("uncoverable", .integer(r.uncoverable)),
                                ("covered_by_policy", .number(r.coveredByPolicy)),
                                ("members", r.isGroup ? .array(r.members.map(JSONValue.string)) : .null),
                                ("calibrated_vol_shift_scale", scale?.value.map(JSONValue.number) ?? .null), ("vol_shift_scale_status", status),
                                ("vol_shift_uncoverable", r.volShiftUncoverable.map(JSONValue.integer) ?? .null),
                                ("vol_shift_scale_interval", scaleInterval.map { .array([.number($0.low), .number($0.high)]) } ?? .null),
                                ("sensitivity", r.sensitivity.map { .object([("targets", points($0.targets, "breach_probability")),
                                                                             ("vol_shift_scales", points($0.volScales, "scale"))]) } ?? .null)])
            })),
        ])
    }
}

extension PortfolioMarginReport {
    /// The policy's risk array with each margined asset's spot range set to its calibrated value
    /// (where reached; a group's one range on every member), the vol shifts unchanged, and notes per
    /// asset index (a group's: its first member's in asset order, where `yaml` writes the group's key):
    /// for the range its interval or why the policy's stays, for the vol shifts the calibrated scale.
    public func calibratedArray(_ spec: PortfolioMarginSpec, assets: [String]) -> (spec: PortfolioMarginSpec, notes: [Int: String], volShiftNotes: [Int: String]) {
        var calibratedSpec = spec, notes: [Int: String] = [:], volShiftNotes: [Int: String] = [:]
        for range in result.ranges {
            let members = spec.groups.first { $0.name == range.asset }?.members ?? assets.firstIndex(of: range.asset).map { [$0] } ?? []
            guard let b = members.min() else { continue }
            let (scale, scaleInterval) = calibratedScale(range)
            if let scale {
                volShiftNotes[b] = switch scale {
                case .reached(let s): String(format: "calibrated scale %g at the policy's range", s)
                    + (scaleInterval.map { String(format: " (%.0f %% interval %.4g – %.4g)", 100 * confidence, $0.low, $0.high) } ?? "")
                    + (range.volShiftUncoverable.map { $0 > 0 ? "; \($0) account\($0 == 1 ? "" : "s") no scale covers left out" : "" } ?? "")
                case .noOptions: "no options held: the shifts do not matter"
                case .notReached: "no scale of the shifts covers any account at the policy's range"
                }
            }
            guard range.reached else { notes[b] = "the policy's; no range below ±100 % meets the target"; continue }
            let (value, interval) = calibrated(range)
            guard value > 0 else { notes[b] = "the policy's; the extended moves and minimum charges alone meet the target at any range"; continue }
            for member in members where calibratedSpec.spotRange[member] != nil { calibratedSpec.spotRange[member] = value }
            notes[b] = "calibrated at p = \(String(format: "%g", result.targetBreachProbability))" + (interval.map { String(format: "; %.0f %% interval %.4g – %.4g", 100 * confidence, $0.low, $0.high) } ?? "")
        }
        return (calibratedSpec, notes, volShiftNotes)
    }
}

extension ReportDocument {
    /// Adds the portfolio-margin section (before the inputs, the last section), its headline lines
    /// and its JSON field `portfolio_margin`.
    public mutating func append(_ margin: PortfolioMarginReport) {
        sections.insert(contentsOf: margin.reportSections, at: max(0, sections.count - 1))
        headline += margin.headline
        if case .object(var fields) = json {
            fields.append(("portfolio_margin", margin.json))
            json = .object(fields)
        }
    }
}
