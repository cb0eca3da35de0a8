import Calibration
import Foundation

/// The report of `thresher robustness`: the model-risk matrix, the frontier of the scaled ladder and
/// the sensitivity of the thresholds (with a tornado chart).
public struct RobustnessReport: CommandReport {
    public let result: RobustnessResult
    public let overrides: [String]
    /// Rows of the per-rung sensitivity table shown in the terminal and HTML, largest move first
    /// (nil: all; CSV and JSON have every rung).
    public let top: Int?

    public init(result: RobustnessResult, overrides: [String] = [], top: Int? = 20) {
        self.result = result
        self.overrides = overrides
        self.top = top
    }

    static func outcomeJSON(_ o: RobustnessResult.Outcome) -> JSONValue {
        let fields: [(String, JSONValue)] = [
            ("mean_breach_probability", .number(o.meanBreach)), ("max_breach_probability", .number(o.maxBreach)),
            ("mean_liquidation_probability", .number(o.meanLiquidation)),
            ("mean_unnecessary_liquidation_probability", .number(o.meanUnnecessaryLiquidation)), ("expected_deficit", .number(o.expectedDeficit)),
            ("expected_income", .number(o.expectedIncome)),
            ("p_deficit_exceeds_fund", optional(o.fundShortfallProbability)),
            ("standard_errors", .object([("mean_breach_probability_bound", .number(o.meanBreachStandardErrorBound)),
                                         ("max_breach_probability", .number(o.maxBreachStandardError)),
                                         ("expected_deficit", .number(o.expectedDeficitStandardError)),
                                         ("expected_income", .number(o.expectedIncomeStandardError)),
                                         ("p_deficit_exceeds_fund", optional(o.fundShortfallStandardError))])),
        ]
        return .object(fields)
    }

    static func thresholdsJSON(_ t: RobustnessResult.Thresholds) -> [(String, JSONValue)] {
        t.named.map { ($0.name, .number($0.value)) }
    }

    static func optional(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }

    static func rungsJSON(_ t: RobustnessResult.Thresholds, elasticities: [(long: Double?, short: Double?)]? = nil) -> JSONValue {
        .array(t.rungs.enumerated().map { k, rung in
            var fields: [(String, JSONValue)] = [("asset", .string(rung.asset)), ("up_to", .number(rung.tier)), ("long", .number(rung.long)),
                                                 ("short", .number(rung.short))]
            if let e = elasticities?[k] { fields += [("long_elasticity", optional(e.long)), ("short_elasticity", optional(e.short))] }
            return .object(fields)
        })
    }

    public var json: JSONValue {
        let r = result
        let matrix: JSONValue = .object([("models", .array(r.models.map(JSONValue.string))),
                                         ("cells", .array(r.matrix.map { .array($0.map(Self.outcomeJSON)) }))])
        let frontier: [JSONValue] = r.frontier.map { point in
            guard case .object(let fields) = Self.outcomeJSON(point.outcome) else { return .null }
            return .object([("multiplier", .number(point.multiplier))] + fields)
        }
        let sensitivity: [JSONValue] = r.sensitivity.map { b in
            let fields: [(String, JSONValue)] = [("bump", .string(b.bump.kind.rawValue)), ("value", .number(b.bump.value)), ("label", .string(b.bump.label))]
                + Self.thresholdsJSON(b.thresholds)
                + [("maintenance_elasticity", Self.optional(b.maintenanceElasticity)),
                   ("elasticities", .object(zip(b.thresholds.named, b.elasticities).map { ($0.name, Self.optional($1)) })),
                   ("rungs", Self.rungsJSON(b.thresholds, elasticities: b.rungElasticities)), ("base_policy", Self.outcomeJSON(b.basePolicy))]
            return .object(fields)
        }
        let central: [JSONValue] = r.centralElasticities.map { c in
            .object([("bump", .string(c.kind.rawValue)), ("low", .number(c.low)), ("high", .number(c.high))]
                    + zip(r.baseThresholds.named, c.elasticities).map { ($0.name, Self.optional($1)) })
        }
        let top: [(String, JSONValue)] = [
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("elapsed_seconds", .number(r.elapsedSeconds)), ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(r.scenario)), ("target_breach_probability", .number(r.targetBreachProbability)),
            ("base_policy", .string(r.basePolicySource)), ("base_thresholds", .object(Self.thresholdsJSON(r.baseThresholds) + [("rungs", Self.rungsJSON(r.baseThresholds))])),
            ("base", Self.outcomeJSON(r.base)), ("model_matrix", matrix), ("frontier", .array(frontier)), ("sensitivity", .array(sensitivity)),
            ("central_elasticities", .array(central)),
        ]
        return .object(top)
    }

    public var document: ReportDocument {
        let r = result
        var context = ["\(r.scenario.name): robustness over \(grouped(r.paths)) paths, seed \(r.scenario.simulation.seed) (common random numbers in every cell), base policy: \(r.basePolicySource)"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        let p = r.targetBreachProbability
        let breachMatrix = ReportTable(
            csvName: "model_matrix.csv",
            columns: [.init("calibrated under ↓ / evaluated under →", csv: "calibrated_under")] + r.models.map { .init($0, csv: $0) },
            rows: zip(r.models, r.matrix).map { name, row in [.label(name)] + row.map { .number($0.meanBreach, format: "%.4g") } })
        let deficitMatrix = ReportTable(
            columns: [.init("E[deficit] per path")] + r.models.map { .init($0) },
            rows: zip(r.models, r.matrix).map { name, row in [.label(name)] + row.map { .money($0.expectedDeficit) } })
        let matrix = ReportSection(
            heading: "Model-risk matrix",
            note: "Each row's ladder is calibrated under its model (target breach probability \(p)), then evaluated under every model: mean breach probability over tiers and sides. The diagonal gives back the target; the off-diagonal is the model risk. Monte Carlo standard error of a cell: at most \(String(format: "%.2g", r.matrix.joined().map(\.meanBreachStandardErrorBound).max() ?? 0)) (the mean of its tiers' binomial SEs; per cell in the JSON).",
            blocks: [.chart(.heatMap(rows: r.models, columns: r.models, values: r.matrix.map { $0.map(\.meanBreach) }, reference: p,
                                     title: "Mean breach probability: calibrated under each model, evaluated under every model",
                                     caption: "White at the target \(p); red above it (the ladder breaches more than promised), blue below, saturated at ×10 and ÷10.")),
                     .table(breachMatrix), .table(deficitMatrix)])
        let frontierTable = ReportTable(
            csvName: "frontier.csv",
            columns: [.init("ladder ×", csv: "multiplier"), .init("mean P(breach)", csv: "mean_breach_probability"), .init("max P(breach)", csv: "max_breach_probability"),
                      .init("mean P(liquidation)", csv: "mean_liquidation_probability"),
                      .init("mean P(unnecessary)", csv: "mean_unnecessary_liquidation_probability"), .init("E[deficit]", csv: "expected_deficit"),
                      .init("E[penalty income]", csv: "expected_income")],
            rows: r.frontier.map { m, o in
                [.number(m, format: "%g"), .number(o.meanBreach, format: "%.4g"), .number(o.maxBreach, format: "%.4g"),
                 .number(o.meanLiquidation, format: "%.4g"), .number(o.meanUnnecessaryLiquidation, format: "%.4g"),
                 .money(o.expectedDeficit), .money(o.expectedIncome)]
            })
        let frontier = ReportSection(
            heading: "Trade-off frontier",
            note: "The base policy's maintenance rates scaled: tighter margins liquidate more accounts and breach less. Unnecessary: liquidated although, left alone over the liquidation period, the account would have come back above maintenance.",
            blocks: [.chart(.percentLines(series: [("mean P(breach)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanBreach) }),
                                                   ("mean P(liquidation)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanLiquidation) })],
                                          title: "Breach and liquidation probability against ladder scale", xLabel: "ladder multiplier, log scale", yLabel: "%")),
                     .table(frontierTable)])
        let baseThresholds = r.baseThresholds
        func change(_ bumped: Double, _ base: Double) -> Double { base == 0 ? .nan : 100 * (bumped / base - 1) }
        func changeCell(_ bumped: Double, _ base: Double) -> ReportCell {
            base == 0 ? .label("") : .number(change(bumped, base), format: "%+.1f%%")
        }
        func elasticityCell(_ e: Double?) -> ReportCell { e.map { .number($0, format: "%.2f") } ?? .label("") }
        func probabilityCell(_ q: Double?) -> ReportCell { q.map { .number($0, format: "%.4g") } ?? .label("") }
        // The tornado: largest change of the mean MMR first.
        let tornado = r.sensitivity.sorted {
            abs($0.thresholds.meanMaintenance - baseThresholds.meanMaintenance) > abs($1.thresholds.meanMaintenance - baseThresholds.meanMaintenance)
        }
        let sensitivityTable = ReportTable(
            csvName: "sensitivity.csv",
            columns: [.init("bump", csv: "bump"), .init("mean MMR", csv: "mean_maintenance"), .init("Δ", csv: "relative_change"),
                      .init("elasticity", csv: "maintenance_elasticity"), .init("penalty rate", csv: "penalty_rate"),
                      .init("elasticity", csv: "penalty_rate_elasticity"), .init("fund VaR", csv: "fund_var"),
                      .init("elasticity", csv: "fund_var_elasticity"), .init("fund ES", csv: "fund_es"), .init("elasticity", csv: "fund_es_elasticity"),
                      .init("base policy P(breach)", csv: "base_policy_mean_breach"), .init("base policy P(liq.)", csv: "base_policy_mean_liquidation"),
                      .init("base policy E[deficit]", csv: "base_policy_expected_deficit"),
                      .init("base policy P(deficit > fund)", csv: "base_policy_p_deficit_exceeds_fund")],
            rows: [[.label("base"), .rate(baseThresholds.meanMaintenance), .label(""), .label(""), .rate(baseThresholds.penaltyRate), .label(""),
                    .money(baseThresholds.fundVaR), .label(""), .money(baseThresholds.fundES), .label(""),
                    .number(r.base.meanBreach, format: "%.4g"), .number(r.base.meanLiquidation, format: "%.4g"), .money(r.base.expectedDeficit),
                    probabilityCell(r.base.fundShortfallProbability)]]
                + r.sensitivity.map { b in
                    [.label(b.bump.label), .rate(b.thresholds.meanMaintenance), changeCell(b.thresholds.meanMaintenance, baseThresholds.meanMaintenance),
                     elasticityCell(b.elasticities[0]), .rate(b.thresholds.penaltyRate), elasticityCell(b.elasticities[1]),
                     .money(b.thresholds.fundVaR), elasticityCell(b.elasticities[2]), .money(b.thresholds.fundES), elasticityCell(b.elasticities[3]),
                     .number(b.basePolicy.meanBreach, format: "%.4g"), .number(b.basePolicy.meanLiquidation, format: "%.4g"),
                     .money(b.basePolicy.expectedDeficit), probabilityCell(b.basePolicy.fundShortfallProbability)]
                })
        let centralTable = ReportTable(
            csvName: "central_elasticities.csv",
            columns: [.init("input", csv: "bump"), .init("low bump", csv: "low"), .init("high bump", csv: "high"),
                      .init("mean MMR", csv: "mean_maintenance"), .init("penalty rate", csv: "penalty_rate"), .init("fund VaR", csv: "fund_var"),
                      .init("fund ES", csv: "fund_es")],
            rows: r.centralElasticities.map { c in
                [.label(c.kind.rawValue), .number(c.low, format: "×%g"), .number(c.high, format: "×%g")]
                    + c.elasticities.map(elasticityCell)
            })
        // Every rung under every bump, the largest relative move first.
        var rungRows: [(move: Double, cells: [ReportCell])] = []
        for b in r.sensitivity {
            for (k, rung) in b.thresholds.rungs.enumerated() {
                let base = baseThresholds.rungs[k], e = b.rungElasticities[k]
                let move = max(abs(change(rung.long, base.long)), abs(change(rung.short, base.short)))
                rungRows.append((move.isNaN ? 0 : move, [.label(b.bump.label), .label(rung.asset), .money(rung.tier), .rate(base.long), .rate(rung.long),
                                 changeCell(rung.long, base.long), elasticityCell(e.long), .rate(base.short), .rate(rung.short),
                                 changeCell(rung.short, base.short), elasticityCell(e.short)]))
            }
        }
        let rungTable = ReportTable(
            csvName: "sensitivity_rungs.csv",
            columns: [.init("bump", csv: "bump"), .init("asset", csv: "asset"), .init("tier up to", csv: "up_to"), .init("base long", csv: "base_long"),
                      .init("long", csv: "long"), .init("Δ", csv: "long_relative_change"), .init("elasticity", csv: "long_elasticity"),
                      .init("base short", csv: "base_short"), .init("short", csv: "short"), .init("Δ", csv: "short_relative_change"),
                      .init("elasticity", csv: "short_elasticity")],
            rows: rungRows.sorted { $0.move > $1.move }.map(\.cells), displayLimit: top)
        let sensitivity = ReportSection(
            heading: "Sensitivity",
            note: "Each input bumped alone: the thresholds re-calibrated under the bump, and the base policy evaluated under it, on the same paths (so differences are not Monte Carlo noise). Elasticity = relative change of the threshold / relative change of the input (blank for dof and correlation, which are not ratios). MMR: max of long and short per rung, averaged over assets and tiers.",
            blocks: [.chart(.bars(categories: tornado.map(\.bump.label),
                                  series: [("mean MMR", tornado.map { change($0.thresholds.meanMaintenance, baseThresholds.meanMaintenance) }),
                                           ("penalty rate", tornado.map { change($0.thresholds.penaltyRate, baseThresholds.penaltyRate) }),
                                           ("fund ES", tornado.map { change($0.thresholds.fundES, baseThresholds.fundES) })],
                                  title: "Tornado: change of the re-calibrated thresholds under each bump", xLabel: "change from the base calibration, %")),
                     .chart(.bars(categories: ["base"] + tornado.map(\.bump.label),
                                  series: [("mean P(breach)", ([r.base] + tornado.map(\.basePolicy)).map { 100 * $0.meanBreach }),
                                           ("mean P(liquidation)", ([r.base] + tornado.map(\.basePolicy)).map { 100 * $0.meanLiquidation })],
                                  title: "The base policy under each bump (target P(breach) \(r.targetBreachProbability * 100) %)", xLabel: "%")),
                     .table(sensitivityTable), .table(rungTable)])
        let centralSection = ReportSection(
            heading: "Elasticities at the base",
            note: "d ln θ / d ln x at the base input by the central difference of the bump's multipliers on either side of 1: (θ(x₊) − θ(x₋)) / (θ·(x₊ − x₋)); second-order accurate for a symmetric pair such as ×0.8 and ×1.2.",
            blocks: [.table(centralTable)])
        return ReportDocument(title: "Thresher robustness — \(r.scenario.name)", context: context,
                              sections: [matrix, frontier, sensitivity] + (r.centralElasticities.isEmpty ? [] : [centralSection]) + [Inputs.section(r.scenario)],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
    }
}
