import Calibration
import Foundation
import ScenarioSpec

/// The report of `thresher robustness`: the model-risk matrix, the frontier of the scaled ladder and
/// the sensitivity of the thresholds (with a tornado chart).
public struct RobustnessReport: CommandReport {
    public let result: RobustnessResult
    public let overrides: [String]

    public init(result: RobustnessResult, overrides: [String] = []) {
        self.result = result
        self.overrides = overrides
    }

    static func outcomeJSON(_ o: RobustnessResult.Outcome) -> JSONValue {
        let fields: [(String, JSONValue)] = [
            ("mean_breach_probability", .number(o.meanBreach)), ("max_breach_probability", .number(o.maxBreach)),
            ("mean_liquidation_probability", .number(o.meanLiquidation)),
            ("mean_unnecessary_liquidation_probability", .number(o.meanUnnecessaryLiquidation)), ("expected_deficit", .number(o.expectedDeficit)),
            ("expected_income", .number(o.expectedIncome)),
            ("p_deficit_exceeds_fund", o.fundShortfallProbability.map(JSONValue.number) ?? .null),
        ]
        return .object(fields)
    }

    static func thresholdsJSON(_ t: RobustnessResult.Thresholds) -> [(String, JSONValue)] {
        [("mean_maintenance", .number(t.meanMaintenance)), ("penalty_rate", .number(t.penaltyRate)), ("fund_es", .number(t.fundES))]
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
                + [("maintenance_elasticity", b.maintenanceElasticity.map(JSONValue.number) ?? .null), ("base_policy", Self.outcomeJSON(b.basePolicy))]
            return .object(fields)
        }
        let top: [(String, JSONValue)] = [
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("elapsed_seconds", .number(r.elapsedSeconds)), ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(r.scenario)), ("target_breach_probability", .number(r.targetBreachProbability)),
            ("base_policy", .string(r.basePolicySource)), ("base_thresholds", .object(Self.thresholdsJSON(r.baseThresholds))),
            ("base", Self.outcomeJSON(r.base)), ("model_matrix", matrix), ("frontier", .array(frontier)), ("sensitivity", .array(sensitivity)),
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
            note: "Each row's ladder is calibrated under its model (target breach probability \(p)), then evaluated under every model: mean breach probability over tiers and sides. The diagonal gives back the target; the off-diagonal is the model risk.",
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
            note: "The base policy's maintenance rates scaled: tighter margins liquidate more accounts and breach less. Unnecessary: liquidated at the horizon although, left alone over the liquidation period, the account would have come back above maintenance.",
            blocks: [.chart(.percentLines(series: [("mean P(breach)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanBreach) }),
                                                   ("mean P(liquidation)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanLiquidation) })],
                                          title: "Breach and liquidation probability against ladder scale", xLabel: "ladder multiplier, log scale", yLabel: "%")),
                     .table(frontierTable)])
        let base = r.baseThresholds.meanMaintenance
        // The tornado: largest change first.
        let tornado = r.sensitivity.sorted { abs($0.thresholds.meanMaintenance - base) > abs($1.thresholds.meanMaintenance - base) }
        let sensitivityTable = ReportTable(
            csvName: "sensitivity.csv",
            columns: [.init("bump", csv: "bump"), .init("mean MMR", csv: "mean_maintenance"), .init("Δ", csv: "relative_change"),
                      .init("elasticity", csv: "maintenance_elasticity"), .init("penalty rate", csv: "penalty_rate"), .init("fund ES", csv: "fund_es"),
                      .init("base policy P(breach)", csv: "base_policy_mean_breach"), .init("base policy E[deficit]", csv: "base_policy_expected_deficit")],
            rows: [[.label("base"), .rate(base), .label(""), .label(""), .rate(r.baseThresholds.penaltyRate), .money(r.baseThresholds.fundES),
                    .number(r.base.meanBreach, format: "%.4g"), .money(r.base.expectedDeficit)]]
                + r.sensitivity.map { b in
                    [.label(b.bump.label), .rate(b.thresholds.meanMaintenance), .number(100 * (b.thresholds.meanMaintenance / base - 1), format: "%+.1f%%"),
                     b.maintenanceElasticity.map { .number($0, format: "%.2f") } ?? .label(""), .rate(b.thresholds.penaltyRate), .money(b.thresholds.fundES),
                     .number(b.basePolicy.meanBreach, format: "%.4g"), .money(b.basePolicy.expectedDeficit)]
                })
        let sensitivity = ReportSection(
            heading: "Sensitivity",
            note: "Each input bumped alone: the thresholds re-calibrated under the bump, and the base policy evaluated under it, on the same paths. Elasticity = relative change of the mean MMR / relative change of the input.",
            blocks: [.chart(.bars(categories: tornado.map(\.bump.label),
                                  series: [("change of mean MMR, %", tornado.map { 100 * ($0.thresholds.meanMaintenance / base - 1) })],
                                  title: "Tornado: change of the calibrated mean maintenance rate", xLabel: "%")),
                     .table(sensitivityTable)])
        return ReportDocument(title: "Thresher robustness — \(r.scenario.name)", context: context,
                              sections: [matrix, frontier, sensitivity, Inputs.section(r.scenario)],
                              footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
    }
}
