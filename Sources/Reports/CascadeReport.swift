import Calibration
import Foundation
import ScenarioSpec
import TailStats

/// The `cascade` object of the evaluate JSON report and its section (README, "Cascades"): how much
/// the liquidations moved prices, the fund's path and auto-deleveraging under each rule.
enum CascadeReport {
    static func json(_ c: CascadeSummary, without: PolicyEvaluation.Comparison?) -> JSONValue {
        func level(_ l: TailSummary.Level) -> JSONValue {
            .object([("var", .number(l.valueAtRisk)), ("es", .number(l.expectedShortfall)),
                     ("var_stderr", l.valueAtRiskStandardError.map(JSONValue.number) ?? .null),
                     ("es_stderr", l.expectedShortfallStandardError.map(JSONValue.number) ?? .null)])
        }
        return .object([
            ("model", .object([("depth_multiplier", c.spec.depthMultiplier.isFinite ? .number(c.spec.depthMultiplier) : .string("infinite")),
                               ("depth_curve", .array(c.spec.depthCurve.map { .object([("drawdown", .number($0.drawdown)), ("depth", .number($0.fraction))]) })),
                               ("permanent", .number(c.spec.permanentShare)), ("decay_hours", .number(c.spec.decayHours)),
                               ("steps", .integer(c.spec.steps)), ("adl", .string(c.spec.adl.rawValue))])),
            ("confidence", .number(c.confidence)),
            ("p_liquidation", .number(c.liquidationProbability)),
            ("p_cascade", .number(c.cascadeProbability)),
            ("expected_liquidations", .number(c.expectedLiquidations)),
            ("expected_endogenous_liquidations", .number(c.expectedEndogenous)),
            ("rounds_histogram", .array(c.rounds.map(JSONValue.integer))),
            ("liquidated_notional", .object([("mean", .number(c.expectedLiquidatedNotional)), ("tail", level(c.liquidatedNotional))])),
            ("fund", .object([("opening_balance", .number(c.fundOpening)), ("drawdown", level(c.fundDrawdown)),
                              ("p_exhausted", .number(c.fundExhaustedProbability)), ("p_exhausted_stderr", .number(c.fundExhaustedStandardError)),
                              ("expected_deficit", .number(c.expectedDeficit)), ("expected_paid", .number(c.expectedFundPaid))])),
            ("adl", .array(c.deleveraging.map {
                .object([("rule", .string($0.rule.rawValue)), ("p_adl", .number($0.probability)), ("expected_volume", .number($0.expectedVolume)),
                         ("expected_accounts", .number($0.expectedAccounts)), ("expected_unfunded", .number($0.expectedUnfunded))])
            })),
            ("conservation_error_usd", .number(c.largestImbalance)),
            ("without_cascade", without.map { w in
                .object([("expected_liquidations", .number(w.expectedLiquidations)), ("expected_deficit", .number(w.expectedDeficit)),
                         ("expected_income", .number(w.expectedIncome)), ("fund_var", .number(w.fund.valueAtRisk)), ("fund_es", .number(w.fund.expectedShortfall)),
                         ("p_deficit_exceeds_balance", w.fundShortfallProbability.map(JSONValue.number) ?? .null)])
            } ?? .null),
            ("amplification", .array(c.amplification.map {
                .object([("asset", .string($0.asset)), ("exogenous_fall", .number($0.exogenousFall)), ("cascaded_fall", .number($0.cascadedFall)),
                         ("ratio", $0.ratio.map(JSONValue.number) ?? .null)])
            })),
        ])
    }

    /// The terminal and HTML section: a verdict, the cascade's figures, ADL by rule, amplification.
    static func section(_ c: CascadeSummary, evaluation r: PolicyEvaluation) -> ReportSection {
        let level = percent(c.confidence)
        let worst = c.amplification.compactMap { a in a.ratio.map { (a, $0) } }.max { $0.1 < $1.1 }
        var lines = [String(format: "Liquidations moved prices on %.3g %% of paths (%.3g endogenous liquidations per path beside %.3g in all); the fund ran out on %.3g %% of paths.",
                            100 * c.cascadeProbability, c.expectedEndogenous, c.expectedLiquidations, 100 * c.fundExhaustedProbability)]
        if let (asset, ratio) = worst {
            lines.append(String(format: "At %@, %@'s fall of %.2f %% became %.2f %% with the cascade's lasting impact (×%.2f).", level, asset.asset,
                                100 * (1 - exp(-asset.exogenousFall)), 100 * (1 - exp(-asset.cascadedFall)), ratio))
        }
        let figures = ReportTable(csvName: "cascade.csv", columns: [.csvOnly("key"), .init("quantity", csv: "quantity"), .init("value", csv: "value"), .init("± se", csv: "stderr")], rows: [
            ReportCell.quantity("cascade_probability", "P(cascade on the path)") + [.number(c.cascadeProbability, format: "%.4g"), .label("")],
            ReportCell.quantity("expected_liquidations", "expected liquidations per path") + [.number(c.expectedLiquidations, format: "%.4g"), .label("")],
            ReportCell.quantity("expected_endogenous_liquidations", "  of which endogenous") + [.number(c.expectedEndogenous, format: "%.4g"), .label("")],
            ReportCell.quantity("largest_rounds", "largest rounds at one instant") + [.integer(c.rounds.lastIndex { $0 > 0 } ?? 0), .label("")],
            ReportCell.quantity("expected_liquidated_notional", "liquidated notional, mean") + [.money(c.expectedLiquidatedNotional), .label("")],
            ReportCell.quantity("liquidated_notional_var", "liquidated notional VaR \(level)") + [.money(c.liquidatedNotional.valueAtRisk), .optionalMoney(c.liquidatedNotional.valueAtRiskStandardError)],
            ReportCell.quantity("fund_opening_balance", "fund opening balance") + [.money(c.fundOpening), .label("")],
            ReportCell.quantity("fund_drawdown_var", "fund drawdown VaR \(level)") + [.money(c.fundDrawdown.valueAtRisk), .optionalMoney(c.fundDrawdown.valueAtRiskStandardError)],
            ReportCell.quantity("fund_drawdown_es", "fund drawdown ES \(level)") + [.money(c.fundDrawdown.expectedShortfall), .optionalMoney(c.fundDrawdown.expectedShortfallStandardError)],
            ReportCell.quantity("fund_exhausted_probability", "P(fund exhausted)") + [.number(c.fundExhaustedProbability, format: "%.4g"), .number(c.fundExhaustedStandardError, format: "%.2g")],
            ReportCell.quantity("expected_deficit", "expected deficit per path") + [.money(c.expectedDeficit), .label("")],
            ReportCell.quantity("expected_fund_paid", "  paid by the fund") + [.money(c.expectedFundPaid), .label("")],
            ReportCell.quantity("largest_conservation_error", "conservation: largest path error") + [.money(c.largestImbalance), .label("")],
        ])
        let adl = ReportTable(csvName: "adl.csv", columns: [.init("ADL rule", csv: "rule"), .init("P(ADL)", csv: "p_adl"), .init("E[taken from winners]", csv: "expected_volume"),
                                                            .init("E[accounts hit]", csv: "expected_accounts"), .init("E[unfunded]", csv: "expected_unfunded"),
                                                            .csvOnly("venue")],
                              rows: c.deleveraging.map {
                                  [ReportCell(text: $0.rule.rawValue + ($0.rule == c.spec.adl ? " (venue)" : ""), csv: $0.rule.rawValue), .number($0.probability, format: "%.4g"),
                                   .money($0.expectedVolume), .number($0.expectedAccounts, format: "%.4g"), .money($0.expectedUnfunded),
                                   ReportCell(text: "", csv: $0.rule == c.spec.adl ? "true" : "false")]
                              })
        let amplification = ReportTable(csvName: "amplification.csv",
                                        columns: [.init("asset", csv: "asset"), .init("fall \(level), exogenous", csv: "exogenous_fall"),
                                                  .init("with cascade", csv: "cascaded_fall"), .init("amplification", csv: "ratio")],
                                        rows: c.amplification.map {
                                            [.label($0.asset), .rate(1 - exp(-$0.exogenousFall)), .rate(1 - exp(-$0.cascadedFall)),
                                             $0.ratio.map { .number($0, format: "%.3fx") } ?? .label("")]
                                        })
        let chart = ReportChart.bars(categories: c.amplification.map(\.asset),
                                     series: [("exogenous", c.amplification.map { 100 * (1 - exp(-$0.exogenousFall)) }),
                                              ("with cascade", c.amplification.map { 100 * (1 - exp(-$0.cascadedFall)) })],
                                     title: "Fall at \(level) without and with the cascade", xLabel: "fall, %")
        var blocks: [ReportBlock] = [.text(lines)]
        if let w = r.withoutCascade {
            let level = percent(r.fundConfidence)
            var rows: [[ReportCell]] = [
                ReportCell.quantity("expected_liquidations", "expected liquidations per path") + [.number(w.expectedLiquidations, format: "%.4g"), .number(c.expectedLiquidations, format: "%.4g")],
                ReportCell.quantity("expected_deficit", "expected deficit per path") + [.money(w.expectedDeficit), .money(r.expectedDeficit)],
                ReportCell.quantity("expected_penalty_income", "expected penalty income per path") + [.money(w.expectedIncome), .money(r.expectedIncome)],
                ReportCell.quantity("net_deficit_var", "net deficit VaR \(level)") + [.money(w.fund.valueAtRisk), .money(r.fund.valueAtRisk)],
                ReportCell.quantity("net_deficit_es", "net deficit ES \(level)") + [.money(w.fund.expectedShortfall), .money(r.fund.expectedShortfall)],
            ]
            if let before = w.fundShortfallProbability, let after = r.fundShortfallProbability {
                rows.append(ReportCell.quantity("fund_shortfall_probability", "P(net deficit > balance)") + [.number(before, format: "%.4g"), .number(after, format: "%.4g")])
            }
            blocks.append(.table(ReportTable(csvName: "cascade_comparison.csv",
                                             columns: [.csvOnly("key"), .init("same paths", csv: "quantity"), .init("each alone", csv: "without_cascade"), .init("with cascades", csv: "with_cascade")],
                                             rows: rows)))
        }
        blocks += [.table(figures), .table(adl), .table(amplification), .chart(chart)]
        return ReportSection(heading: "Cascades and auto-deleveraging",
                             note: "Liquidation flows executed against depth that thins as prices fall (\(c.spec.steps) instants per horizon, \(percent(c.spec.permanentShare)) of each impact lasting); ADL rules compared on the same paths.",
                             blocks: blocks)
    }
}
