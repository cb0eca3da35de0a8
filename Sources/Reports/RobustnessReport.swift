import Calibration
import Foundation
import ScenarioSpec

/// The report of `thresher robustness`: the thresholds at the base with their precision, the
/// model-risk matrix, the frontier of the scaled ladder and the sensitivity of the thresholds (with
/// a tornado chart). Every number carries its sectioning interval and every change against the base
/// its paired interval; a change whose interval contains 0 is marked "within noise" (greyed in HTML,
/// a column in the terminal and CSV).
public struct RobustnessReport: CommandReport {
    public let result: RobustnessResult
    public let overrides: [String]
    /// Rows of the per-rung sensitivity table shown in the terminal and HTML, largest move first
    /// (nil: all; CSV and JSON have every rung).
    public let top: Int?
    /// The relative half-width a threshold's interval must reach to be acted on (`--precision`);
    /// wider ones are reported with the paths they need.
    public let precision: Double

    public init(result: RobustnessResult, overrides: [String] = [], top: Int? = 20, precision: Double = 0.1) {
        self.result = result
        self.overrides = overrides
        self.top = top
        self.precision = precision
    }

    typealias Outcome = RobustnessResult.Outcome

    /// The outcomes of an evaluated policy that carry intervals, by JSON/CSV name, with their labels
    /// and cell formats (nil: the outcome does not apply, e.g. P(deficit > fund) without a fund).
    static var outcomes: [(name: String, label: String, read: (Outcome) -> Double?, cell: (Double) -> ReportCell)] { [
        ("mean_breach_probability", "mean P(breach)", { $0.meanBreach }, probability),
        ("max_breach_probability", "max P(breach)", { $0.maxBreach }, probability),
        ("mean_liquidation_probability", "mean P(liquidation)", { $0.meanLiquidation }, probability),
        ("mean_unnecessary_liquidation_probability", "mean P(unnecessary)", { $0.meanUnnecessaryLiquidation }, probability),
        ("expected_deficit", "E[deficit]", { $0.expectedDeficit }, ReportCell.money),
        ("expected_income", "E[penalty income]", { $0.expectedIncome }, ReportCell.money),
        ("p_deficit_exceeds_fund", "P(deficit > fund)", { $0.fundShortfallProbability }, probability),
    ] }

    /// The thresholds' labels and cell formats, in `Thresholds.named` order.
    static var thresholdLabels: [(label: String, cell: (Double) -> ReportCell)] {
        [("mean MMR", ReportCell.rate), ("penalty rate", ReportCell.rate), ("fund VaR", ReportCell.money), ("fund ES", ReportCell.money)]
    }

    static func probability(_ p: Double) -> ReportCell { .number(p, format: "%.4g") }

    // MARK: JSON

    static func intervalJSON(_ e: Estimate?) -> JSONValue { e?.interval.map { .array([.number($0.low), .number($0.high)]) } ?? .null }

    static func optional(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }

    /// A change against the base: its value, paired interval, whether it is within noise, and for one
    /// that is, the paths at which an interval as wide as the change would resolve it.
    static func changeJSON(_ e: Estimate) -> JSONValue {
        .object([("value", .number(e.value)), ("interval", intervalJSON(e)), ("within_noise", .bool(e.withinNoise)),
                 ("paths_to_resolve", (e.withinNoise ? e.pathsNeeded(relativePrecision: 1) : nil).map(JSONValue.integer) ?? .null)])
    }

    /// An outcome's values and standard errors, its intervals, and its paired changes against `base`.
    static func outcomeJSON(_ o: Sectioned<Outcome>, against base: Sectioned<Outcome>? = nil) -> JSONValue {
        let present = outcomes.filter { $0.read(o.full) != nil }
        var fields: [(String, JSONValue)] = outcomes.map { ($0.name, optional($0.read(o.full))) } + [
            ("standard_errors", .object([("mean_breach_probability_bound", .number(o.meanBreachStandardErrorBound)),
                                         ("max_breach_probability", .number(o.maxBreachStandardError)),
                                         ("expected_deficit", .number(o.expectedDeficitStandardError)),
                                         ("expected_income", .number(o.expectedIncomeStandardError)),
                                         ("p_deficit_exceeds_fund", optional(o.fundShortfallStandardError))])),
            ("intervals", .object(present.map { m in (m.name, intervalJSON(o.level { m.read($0)! })) })),
        ]
        if let base { fields.append(("changes", .object(present.map { m in (m.name, changeJSON(o.change(from: base) { m.read($0)! })) }))) }
        return .object(fields)
    }

    static func thresholdsJSON(_ t: Sectioned<RobustnessResult.Thresholds>) -> [(String, JSONValue)] {
        t.named.map { ($0.name, .number($0.value)) }
            + [("intervals", .object(t.named.indices.map { i in (t.named[i].name, intervalJSON(t.level { $0.named[i].value })) }))]
    }

    static func rungsJSON(_ t: RobustnessResult.Thresholds, bumped: RobustnessResult.Bumped? = nil) -> JSONValue {
        .array(t.rungs.enumerated().map { k, rung in
            var fields: [(String, JSONValue)] = [("asset", .string(rung.asset)), ("up_to", .number(rung.tier)), ("long", .number(rung.long)),
                                                 ("short", .number(rung.short))]
            if let b = bumped {
                fields += [("long_elasticity", optional(b.rungElasticities[k].long?.value)), ("short_elasticity", optional(b.rungElasticities[k].short?.value)),
                           ("long_change", changeJSON(b.rungChanges[k].long)), ("short_change", changeJSON(b.rungChanges[k].short))]
            }
            return .object(fields)
        })
    }

    public var json: JSONValue {
        let r = result
        let matrix: JSONValue = .object([("models", .array(r.models.map(JSONValue.string))),
                                         ("cells", .array(r.matrix.enumerated().map { i, row in
                                             .array(row.enumerated().map { j, cell in Self.outcomeJSON(cell, against: i == j ? nil : r.matrix[j][j]) })
                                         }))])
        let frontier: [JSONValue] = r.frontier.map { point in
            guard case .object(let fields) = Self.outcomeJSON(point.outcome, against: r.base) else { return .null }
            return .object([("multiplier", .number(point.multiplier))] + fields)
        }
        let sensitivity: [JSONValue] = r.sensitivity.map { b in
            let names = b.thresholds.named.map(\.name)
            let fields: [(String, JSONValue)] = [("bump", .string(b.bump.kind.rawValue)), ("value", .number(b.bump.value)), ("label", .string(b.bump.label))]
                + Self.thresholdsJSON(b.thresholds)
                + [("maintenance_elasticity", Self.optional(b.maintenanceElasticity?.value)),
                   ("elasticities", .object(zip(names, b.elasticities).map { ($0, Self.optional($1?.value)) })),
                   ("elasticity_intervals", .object(zip(names, b.elasticities).map { ($0, Self.intervalJSON($1)) })),
                   ("changes", .object(zip(names, b.changes).map { ($0, Self.changeJSON($1)) })),
                   ("relative_changes", .object(zip(names, b.relativeChanges).map { name, e in
                       (name, e.map { .object([("value", .number($0.value)), ("interval", Self.intervalJSON($0))]) } ?? .null)
                   })),
                   ("rungs", Self.rungsJSON(b.thresholds.full, bumped: b)), ("base_policy", Self.outcomeJSON(b.basePolicy, against: r.base))]
            return .object(fields)
        }
        let central: [JSONValue] = r.centralElasticities.map { c in
            .object([("bump", .string(c.kind.rawValue)), ("low", .number(c.low)), ("high", .number(c.high))]
                    + zip(r.baseThresholds.named, c.elasticities).map { ($0.name, Self.optional($1?.value)) }
                    + [("intervals", .object(zip(r.baseThresholds.named, c.elasticities).map { ($0.name, Self.intervalJSON($1)) }))])
        }
        let base = r.baseThresholds
        let needed: [(String, JSONValue)] = base.named.indices.map { i in
            (base.named[i].name, base.estimate { $0.named[i].value }.pathsNeeded(relativePrecision: precision).map(JSONValue.integer) ?? .null)
        }
        let top: [(String, JSONValue)] = [
            ("scenario", .string(r.scenario.name)), ("paths", .integer(r.paths)), ("seed", .integer(Int(r.scenario.simulation.seed))),
            ("elapsed_seconds", .number(r.elapsedSeconds)), ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(r.scenario)), ("target_breach_probability", .number(r.targetBreachProbability)),
            ("intervals", .object([("method", .string("sectioning")), ("sections", .integer(base.sections.count)),
                                   ("confidence", .number(base.confidence)), ("precision", .number(precision))])),
            ("base_policy", .string(r.basePolicySource)),
            ("base_thresholds", .object(Self.thresholdsJSON(base) + [("paths_needed", .object(needed)), ("rungs", Self.rungsJSON(base.full))])),
            ("base", Self.outcomeJSON(r.base)), ("model_matrix", matrix), ("frontier", .array(frontier)), ("sensitivity", .array(sensitivity)),
            ("central_elasticities", .array(central)),
        ]
        return .object(top)
    }

    // MARK: Cells

    /// "value ±half-width" (just the value without an interval; the half-width to two significant
    /// digits, whole dollars from 100 up), greyed when `noise`.
    static func plusMinus(_ e: Estimate, _ cell: (Double) -> ReportCell, noise: Bool = false) -> ReportCell {
        var shown = cell(e.value)
        if let h = e.halfWidth, !e.isExactlyZero { shown.text += " ±" + (h >= 100 ? money(h) : String(format: "%.2g", h)) }
        return shown.muted(noise)
    }

    /// A signed change: "+0.0513", "−31.34".
    static func signed(_ cell: @escaping (Double) -> ReportCell) -> (Double) -> ReportCell {
        { x in var c = cell(x); if x > 0 { c.text = "+" + c.text }; return c }
    }

    /// A relative change and its interval in percent: "+12.3% [+8.1%, +16.5%]".
    static func relativeCell(_ e: Estimate?, noise: Bool) -> ReportCell {
        guard let e else { return .label("") }
        var cell = ReportCell(text: String(format: "%+.1f%%", 100 * e.value), csv: csvNumber(e.value))
        if let i = e.interval { cell.text += String(format: " [%+.1f%%, %+.1f%%]", 100 * i.low, 100 * i.high) }
        return cell.muted(noise)
    }

    /// A bump as people read it ("vol ×0.8") and as an ASCII key in CSV ("vol_x_0.8").
    static func bumpCell(_ bump: RobustnessSpec.Bump) -> ReportCell { ReportCell(text: bump.label, csv: CSVRenderer.csvKey(bump.label)) }

    /// An elasticity and its interval: "1.05 [1.01, 1.09]".
    static func elasticityCell(_ e: Estimate?, noise: Bool) -> ReportCell {
        guard let e else { return .label("") }
        var cell = ReportCell.number(e.value, format: "%.2f")
        if let i = e.interval { cell.text += String(format: " [%.2f, %.2f]", i.low, i.high) }
        return cell.muted(noise)
    }

    /// The CSV-only cells of an estimate's interval (low, high), empty without one.
    static func intervalCSV(_ e: Estimate?) -> [ReportCell] {
        guard let i = e?.interval else { return [ReportCell(text: "", csv: ""), ReportCell(text: "", csv: "")] }
        return [ReportCell(text: "", csv: csvNumber(i.low)), ReportCell(text: "", csv: csvNumber(i.high))]
    }

    /// "within noise" (the paired interval contains 0), "no change" (0 on every section), or blank.
    static func verdict(_ change: Estimate) -> ReportCell {
        ReportCell(text: change.withinNoise ? "within noise" : change.isExactlyZero ? "no change" : "", csv: change.withinNoise ? "true" : "false")
    }

    // MARK: Document

    public var document: ReportDocument {
        let r = result
        let base = r.baseThresholds
        let sections = base.sections.count
        let confidence = percent(base.confidence)
        var context = ["\(r.scenario.name): robustness over \(grouped(r.paths)) paths, seed \(r.scenario.simulation.seed) (common random numbers in every cell), base policy: \(r.basePolicySource)"]
        context.append(sections > 0
            ? "intervals: \(confidence) by sectioning (\(sections) sections of about \(grouped(r.paths / sections)) paths, each a replica of the study); changes against the base paired section by section"
            : "no intervals: the paths are too few for sections (or --sections 0); differences may be Monte Carlo noise")
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        let sectionsList = [precisionSection, matrixSection, frontierSection, sensitivitySection]
            + (r.centralElasticities.isEmpty ? [] : [centralSection]) + [Inputs.section(r.scenario)]
        var document = ReportDocument(title: "Thresher robustness — \(r.scenario.name)", context: context, sections: sectionsList,
                                      footer: [String(format: "%.2f s", r.elapsedSeconds)], json: json)
        document.headline = headline
        return document
    }

    /// The answer first: which thresholds are known well enough to act on, the largest model risk
    /// the paths resolve, the largest resolved move of the ladder, and how many changes are noise.
    var headline: [Headline] {
        let r = result
        var lines: [Headline] = []
        let (known, wide) = precisionSummary
        if r.baseThresholds.sections.isEmpty {
            lines.append(Headline("No intervals at these paths: no change below can be told from Monte Carlo noise", .warning))
        } else if wide.isEmpty {
            lines.append(Headline("Every threshold is known to ±\(Int((precision * 100).rounded())) % at \(grouped(r.paths)) paths", .good))
        } else {
            lines.append(Headline("Known to ±\(Int((precision * 100).rounded())) %: \(known.isEmpty ? "none" : known.joined(separator: ", ")); too wide to act on: \(wide.joined(separator: "; "))", .warning))
        }
        let cells = r.matrix.indices.flatMap { i in r.matrix.indices.filter { $0 != i }.map { (i, $0) } }
            .filter { !r.matrix[$0.0][$0.1].change(from: r.matrix[$0.1][$0.1]) { $0.meanBreach }.withinNoise }
        if let (i, j) = cells.max(by: { r.matrix[$0.0][$0.1].meanBreach < r.matrix[$1.0][$1.1].meanBreach }), r.targetBreachProbability > 0 {
            let ratio = r.matrix[i][j].meanBreach / r.targetBreachProbability
            lines.append(Headline(String(format: "Model risk: the ladder calibrated under %@ breaches %.3g× the target under %@", r.models[i], ratio, r.models[j]),
                                  ratio >= 2 ? .bad : ratio > 1 ? .warning : .good))
        }
        let resolved = r.sensitivity.filter { !$0.changes[0].withinNoise && !$0.changes[0].isExactlyZero }
        if let largest = resolved.max(by: { abs($0.changes[0].value) < abs($1.changes[0].value) }), let move = largest.relativeChanges[0] {
            lines.append(Headline(String(format: "Largest resolved move of the mean MMR: %@ %+.1f %%", largest.bump.label, 100 * move.value)
                                  + (move.interval.map { String(format: " [%+.1f %%, %+.1f %%]", 100 * $0.low, 100 * $0.high) } ?? "")))
        }
        let changes = r.sensitivity.flatMap(\.changes)
        let noise = changes.filter(\.withinNoise).count
        if noise > 0 {
            lines.append(Headline("\(noise) of \(changes.count) threshold changes under the bumps are within Monte Carlo noise (greyed below)", .warning))
        }
        return lines
    }

    /// The base thresholds known to `precision` (their labels), and those whose interval is wider
    /// ("penalty rate ±202 % (≈ 20.5 M paths for ±10 %)").
    var precisionSummary: (known: [String], wide: [String]) {
        let base = result.baseThresholds
        var known: [String] = [], wide: [String] = []
        for i in base.named.indices {
            let e = base.estimate { $0.named[i].value }, label = Self.thresholdLabels[i].label
            guard let h = e.halfWidth else { continue }
            guard let phrase = tooWide(label, e, precision: precision, zero: "±\(Self.thresholdLabels[i].cell(h).text) about 0") else { known.append(label); continue }
            wide.append(phrase)
        }
        return (known, wide)
    }

    /// The base thresholds with their intervals, and the paths each needs for `precision`.
    var precisionSection: ReportSection {
        let base = result.baseThresholds
        let ci = "\(percent(base.confidence)) CI"
        let target = String(format: "±%g %%", precision * 100)
        let wide = precisionSummary.wide
        let rows = base.named.indices.map { i -> [ReportCell] in
            let raw = base.estimate { $0.named[i].value }, e = raw.nonNegative, label = Self.thresholdLabels[i]
            let relative = raw.halfWidth.flatMap { $0 == 0 ? nil : e.value == 0 ? Double.infinity : $0 / abs(e.value) }
            let needed = relative.flatMap { $0 > precision ? raw.pathsNeeded(relativePrecision: precision) : nil }
            return [.label(label.label), label.cell(e.value)]
                + (e.interval.map { [label.cell($0.low), label.cell($0.high)] } ?? [.label(""), .label("")])
                + [relative.map { ReportCell(text: $0.isFinite ? String(format: "±%.1f%%", $0 * 100) : "n/a", csv: csvNumber($0)) } ?? .label(""),
                   needed.map { ReportCell(text: compactCount($0), csv: "\($0)") } ?? .label("")]
        }
        let table = ReportTable(
            csvName: "thresholds.csv",
            columns: [.init("threshold", csv: "threshold"), .init("value", csv: "value"), .init("\(ci) low", csv: "ci_low"),
                      .init("\(ci) high", csv: "ci_high"), .init("half-width / value", csv: "relative_half_width"),
                      .init("paths for \(target)", csv: "paths_needed")],
            rows: rows)
        let verdict = base.sections.isEmpty
            ? ["No intervals at these paths: run with more paths (≥ \(grouped(Sectioning.minimumSectionPaths * Sectioning.defaultSections))) for sections."]
            : wide.isEmpty ? ["Every threshold is known to \(target) (--precision) at \(grouped(result.paths)) paths."]
                           : ["Too wide to act on at \(grouped(result.paths)) paths (\(target) asked, --precision): " + wide.joined(separator: "; ")
                              + ". Changes of these thresholds below are mostly within noise."]
        return ReportSection(
            heading: "Thresholds at the base and their precision",
            note: "The base calibration's thresholds with their \(percent(base.confidence)) sectioning intervals. Paths for a precision: N·(h/(precision·|θ|))², the half-width h shrinking as 1/√N.",
            blocks: [.text(verdict), .table(table)])
    }

    var matrixSection: ReportSection {
        let r = result
        let p = r.targetBreachProbability
        // A cell's change against its column's diagonal (the evaluating model's own ladder), paired.
        let changes = r.matrix.indices.map { i in r.matrix[i].indices.map { j in r.matrix[i][j].change(from: r.matrix[j][j]) { $0.meanBreach } } }
        let noise = changes.indices.map { i in changes[i].indices.map { j in i != j && changes[i][j].withinNoise } }
        // In CSV a model is its ASCII key, the same as a row label and as a column name.
        func model(_ i: Int) -> ReportCell { ReportCell(text: r.models[i], csv: CSVRenderer.csvKey(r.models[i])) }
        let breachMatrix = ReportTable(
            csvName: "model_matrix.csv",
            columns: [.init("calibrated under ↓ / evaluated under →", csv: "calibrated_under")] + r.models.map { .init($0, csv: $0) },
            rows: r.models.indices.map { i in
                [model(i)] + r.matrix[i].indices.map { j in
                    Self.plusMinus(r.matrix[i][j].estimate { $0.meanBreach }, { .number($0, format: "%.3g") }, noise: noise[i][j])
                }
            })
        let deficitMatrix = ReportTable(
            columns: [.init("E[deficit] per path")] + r.models.map { .init($0) },
            rows: zip(r.models, r.matrix).map { name, row in [.label(name)] + row.map { Self.plusMinus($0.estimate { $0.expectedDeficit }, ReportCell.money) } })
        let long = ReportTable(
            csvName: "model_matrix_intervals.csv",
            columns: [.init("calibrated under", csv: "calibrated_under"), .init("evaluated under", csv: "evaluated_under"),
                      .init("mean P(breach)", csv: "mean_breach_probability"), .init("low", csv: "ci_low"), .init("high", csv: "ci_high"),
                      .init("change", csv: "change_from_diagonal"), .init("low", csv: "change_ci_low"), .init("high", csv: "change_ci_high"),
                      .init("within noise", csv: "within_noise")],
            rows: r.matrix.indices.flatMap { i in r.matrix[i].indices.map { j -> [ReportCell] in
                let e = r.matrix[i][j].level { $0.meanBreach }
                return [model(i), model(j), Self.probability(e.value)] + Self.intervalCSV(e)
                    + [Self.probability(changes[i][j].value)] + Self.intervalCSV(changes[i][j]) + [i == j ? ReportCell(text: "", csv: "false") : Self.verdict(changes[i][j])]
            } },
            displayed: false)
        return ReportSection(
            heading: "Model-risk matrix",
            note: "Each row's ladder is calibrated under its model (target breach probability \(p)), then evaluated under every model: mean breach probability over tiers and sides, ± the half-width of its interval. The diagonal gives back the target; the off-diagonal is the model risk. Greyed: the cell's paired difference from its column's diagonal (the evaluating model's own ladder) is within noise.",
            blocks: [.chart(.heatMap(rows: r.models, columns: r.models, values: r.matrix.map { $0.map(\.meanBreach) }, reference: p, withinNoise: noise,
                                     title: "Mean breach probability: calibrated under each model, evaluated under every model",
                                     caption: "White at the target \(p); red above it (the ladder breaches more than promised), blue below, saturated at ×10 and ÷10; grey: not told apart from the diagonal at these paths.")),
                     .table(breachMatrix), .table(deficitMatrix), .table(long)])
    }

    var frontierSection: ReportSection {
        let r = result
        let rows = r.frontier.map { m, o -> [ReportCell] in
            let breach = o.estimate { $0.meanBreach }, deficit = o.estimate { $0.expectedDeficit }
            let change = o.change(from: r.base) { $0.meanBreach }
            let noise = m != 1 && change.withinNoise
            return [.number(m, format: "%g"), Self.plusMinus(breach, Self.probability)]
                + [Self.plusMinus(change, Self.signed(Self.probability), noise: noise)]
                + [Self.probability(o.maxBreach), Self.probability(o.meanLiquidation), Self.probability(o.meanUnnecessaryLiquidation),
                   Self.plusMinus(deficit, ReportCell.money), .money(o.expectedIncome)]
                + Self.intervalCSV(breach.nonNegative) + Self.intervalCSV(change) + Self.intervalCSV(deficit.nonNegative) + [Self.verdict(change)]
        }
        let table = ReportTable(
            csvName: "frontier.csv",
            columns: [.init("ladder ×", csv: "multiplier"), .init("mean P(breach)", csv: "mean_breach_probability"),
                      .init("Δ vs ×1", csv: "mean_breach_change"), .init("max P(breach)", csv: "max_breach_probability", priority: 0),
                      .init("mean P(liquidation)", csv: "mean_liquidation_probability"),
                      .init("mean P(unnecessary)", csv: "mean_unnecessary_liquidation_probability", priority: 0), .init("E[deficit]", csv: "expected_deficit"),
                      .init("E[penalty income]", csv: "expected_income", priority: 0),
                      .csvOnly("mean_breach_probability_ci_low"), .csvOnly("mean_breach_probability_ci_high"),
                      .csvOnly("mean_breach_change_ci_low"), .csvOnly("mean_breach_change_ci_high"),
                      .csvOnly("expected_deficit_ci_low"), .csvOnly("expected_deficit_ci_high"), .csvOnly("within_noise")],
            rows: rows)
        return ReportSection(
            heading: "Trade-off frontier",
            note: "The base policy's maintenance rates scaled: tighter margins liquidate more accounts and breach less. Δ vs ×1: the paired change of the mean breach probability against the unscaled ladder (greyed: within noise). Unnecessary: liquidated although, left alone over the liquidation period, the account would have come back above maintenance.",
            blocks: [.chart(.percentLines(series: [("mean P(breach)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanBreach) }),
                                                   ("mean P(liquidation)", r.frontier.map { ($0.multiplier, 100 * $0.outcome.meanLiquidation) })],
                                          title: "Breach and liquidation probability against ladder scale", xLabel: "ladder multiplier, log scale", yLabel: "%")),
                     .table(table)] + (Self.sameDeficitReason(r.frontier.map(\.outcome.expectedDeficit)).map { [.text([$0])] } ?? []))
    }

    /// Why E[deficit] is the same at every multiplier of the frontier (nil when it is not): a reader
    /// seeing one number repeated down the column should not take it for a bug.
    static func sameDeficitReason(_ deficits: [Double]) -> String? {
        guard deficits.count > 1, deficits.allSatisfy({ $0 == deficits[0] }) else { return nil }
        return deficits[0] == 0
            ? "E[deficit] is 0 at every multiplier: on these paths no liquidation leaves an account below zero."
            : "E[deficit] is the same at every multiplier: it does not depend on the margin levels, as it comes only from accounts liquidated at once (in breach now at every multiplier), whose deficit is fixed by today's equity."
    }

    var sensitivitySection: ReportSection {
        let r = result
        let base = r.baseThresholds
        // The tornado: largest change of the mean MMR first.
        let tornado = r.sensitivity.sorted { abs($0.changes[0].value) > abs($1.changes[0].value) }
        func bars(_ i: Int) -> [ReportChart.IntervalBar] {
            tornado.map { b in
                let e = b.relativeChanges[i]
                return ReportChart.IntervalBar(value: 100 * (e?.value ?? .nan), interval: e?.interval.map { (100 * $0.low, 100 * $0.high) },
                                               withinNoise: b.changes[i].withinNoise)
            }
        }
        let thresholdRows = r.sensitivity.flatMap { b in
            base.named.indices.map { i -> [ReportCell] in
                let label = Self.thresholdLabels[i], change = b.changes[i], noise = change.withinNoise
                let before = base.level { $0.named[i].value }, after = b.thresholds.level { $0.named[i].value }
                return [Self.bumpCell(b.bump), .label(label.label), label.cell(before.value), label.cell(after.value).muted(noise),
                        Self.relativeCell(b.relativeChanges[i], noise: noise), Self.elasticityCell(b.elasticities[i], noise: noise),
                        Self.verdict(change),
                        (noise ? change.pathsNeeded(relativePrecision: 1) : nil).map { ReportCell(text: compactCount($0), csv: "\($0)") } ?? .label("")]
                    + [.label(b.bump.kind.rawValue), .number(b.bump.value, format: "%g"), .label(base.named[i].name)]
                    + Self.intervalCSV(before) + Self.intervalCSV(after) + [label.cell(change.value)] + Self.intervalCSV(change)
                    + Self.intervalCSV(b.relativeChanges[i]) + Self.intervalCSV(b.elasticities[i])
            }
        }
        let thresholdTable = ReportTable(
            csvName: "sensitivity.csv",
            columns: [.init("bump", csv: "bump"), .init("threshold", csv: "threshold_label"), .init("base", csv: "base"),
                      .init("re-calibrated", csv: "bumped", priority: 0), .init("change [\(percent(base.confidence)) CI]", csv: "relative_change", priority: 2),
                      .init("elasticity [CI]", csv: "elasticity", priority: 0), .init("verdict", csv: "within_noise", priority: 2),
                      .init("paths to resolve", csv: "paths_to_resolve", priority: 0),
                      .csvOnly("bump_kind"), .csvOnly("bump_value"), .csvOnly("threshold"), .csvOnly("base_ci_low"), .csvOnly("base_ci_high"),
                      .csvOnly("bumped_ci_low"), .csvOnly("bumped_ci_high"), .csvOnly("change"), .csvOnly("change_ci_low"), .csvOnly("change_ci_high"),
                      .csvOnly("relative_change_ci_low"), .csvOnly("relative_change_ci_high"), .csvOnly("elasticity_ci_low"), .csvOnly("elasticity_ci_high")],
            rows: thresholdRows)

        // The base policy under each bump, against the base policy at the base.
        let policyOutcomes = Self.outcomes.filter { ["mean_breach_probability", "mean_liquidation_probability", "expected_deficit", "p_deficit_exceeds_fund"].contains($0.name) }
            .filter { $0.read(r.base.full) != nil }
        let policyRows = r.sensitivity.flatMap { b in
            policyOutcomes.map { m -> [ReportCell] in
                let before = r.base.estimate { m.read($0)! }, after = b.basePolicy.estimate { m.read($0)! }
                let change = b.basePolicy.change(from: r.base) { m.read($0)! }, noise = change.withinNoise
                return [Self.bumpCell(b.bump), .label(m.label), Self.plusMinus(before, m.cell), Self.plusMinus(after, m.cell, noise: noise),
                        Self.plusMinus(change, Self.signed(m.cell), noise: noise), Self.verdict(change),
                        .label(m.name)] + Self.intervalCSV(before.nonNegative) + Self.intervalCSV(after.nonNegative) + Self.intervalCSV(change)
            }
        }
        let policyTable = ReportTable(
            csvName: "base_policy_under_bumps.csv",
            columns: [.init("bump", csv: "bump"), .init("outcome", csv: "outcome_label"), .init("at the base", csv: "base", priority: 0),
                      .init("under the bump", csv: "bumped"), .init("change", csv: "change", priority: 2), .init("verdict", csv: "within_noise", priority: 2),
                      .csvOnly("outcome"), .csvOnly("base_ci_low"), .csvOnly("base_ci_high"), .csvOnly("bumped_ci_low"), .csvOnly("bumped_ci_high"),
                      .csvOnly("change_ci_low"), .csvOnly("change_ci_high")],
            rows: policyRows)

        // Every rung under every bump, the largest relative move first.
        var rungRows: [(move: Double, cells: [ReportCell])] = []
        for b in r.sensitivity {
            for (k, rung) in b.thresholds.rungs.enumerated() {
                let before = base.rungs[k], relative = b.rungRelativeChanges[k], changes = b.rungChanges[k]
                let move = max(abs(relative.long?.value ?? 0), abs(relative.short?.value ?? 0))
                let noisy = [changes.long.withinNoise ? "long" : nil, changes.short.withinNoise ? "short" : nil].compactMap { $0 }
                rungRows.append((move.isNaN ? 0 : move, [
                    Self.bumpCell(b.bump), .label(rung.asset), .money(rung.tier), .rate(before.long), .rate(rung.long),
                    Self.relativeCell(relative.long, noise: changes.long.withinNoise), .rate(before.short), .rate(rung.short),
                    Self.relativeCell(relative.short, noise: changes.short.withinNoise),
                    ReportCell(text: noisy.joined(separator: ", "), csv: noisy.joined(separator: ";")),
                    Self.elasticityCell(b.rungElasticities[k].long, noise: false), Self.elasticityCell(b.rungElasticities[k].short, noise: false),
                ] + Self.intervalCSV(relative.long) + Self.intervalCSV(relative.short)))
            }
        }
        let rungTable = ReportTable(
            csvName: "sensitivity_rungs.csv",
            columns: [.init("bump", csv: "bump"), .init("asset", csv: "asset", priority: 2), .init("tier up to", csv: "up_to", priority: 2),
                      .init("base long", csv: "base_long", priority: 0),
                      .init("long", csv: "long", priority: 0), .init("Δ long [CI]", csv: "long_relative_change", priority: 2),
                      .init("base short", csv: "base_short", priority: 0), .init("short", csv: "short", priority: 0), .init("Δ short [CI]", csv: "short_relative_change", priority: 2),
                      .init("within noise", csv: "within_noise"), .csvOnly("long_elasticity"), .csvOnly("short_elasticity"),
                      .csvOnly("long_relative_change_ci_low"), .csvOnly("long_relative_change_ci_high"),
                      .csvOnly("short_relative_change_ci_low"), .csvOnly("short_relative_change_ci_high")],
            rows: rungRows.sorted { $0.move > $1.move }.map(\.cells), displayLimit: top)

        return ReportSection(
            heading: "Sensitivity",
            note: "Each input bumped alone: the thresholds re-calibrated under the bump, and the base policy evaluated under it, on the same paths. A change's interval is the paired (common-random-number) one, section by section, much narrower than the two cells' own; \"within noise\": it contains 0, so the sign is not resolved at these paths (paths to resolve: where an interval as wide as the change would exclude 0, if the change is real). Relative change = paired difference / base value, its interval the difference's over the base value (the base's own interval is in the first table). Elasticity = relative change of the threshold / relative change of the input (blank for dof and correlation, which are not ratios). MMR: max of long and short per rung, averaged over assets and tiers.",
            blocks: [.chart(.intervalBars(categories: tornado.map(\.bump.label),
                                          series: [("mean MMR", bars(0)), ("penalty rate", bars(1)), ("fund ES", bars(3))],
                                          title: "Tornado: change of the re-calibrated thresholds under each bump",
                                          xLabel: "change from the base calibration, % (whiskers: paired \(percent(base.confidence)) CI, arrows past the axis; faded: within noise)")),
                     .chart(.bars(categories: ["base"] + tornado.map(\.bump.label),
                                  series: [("mean P(breach)", ([r.base] + tornado.map(\.basePolicy)).map { 100 * $0.meanBreach }),
                                           ("mean P(liquidation)", ([r.base] + tornado.map(\.basePolicy)).map { 100 * $0.meanLiquidation })],
                                  title: "The base policy under each bump (target P(breach) \(r.targetBreachProbability * 100) %)", xLabel: "%")),
                     .table(thresholdTable), .table(policyTable), .table(rungTable)])
    }

    var centralSection: ReportSection {
        let r = result
        let names = r.baseThresholds.named.map(\.name)
        let table = ReportTable(
            csvName: "central_elasticities.csv",
            columns: [.init("input", csv: "bump"), .init("low bump", csv: "low"), .init("high bump", csv: "high")]
                + Self.thresholdLabels.enumerated().map { .init("\($0.element.label) [CI]", csv: names[$0.offset]) }
                + names.flatMap { [ReportTable.Column.csvOnly("\($0)_ci_low"), .csvOnly("\($0)_ci_high")] },
            rows: r.centralElasticities.map { c in
                [.label(c.kind.rawValue), .number(c.low, format: "×%g"), .number(c.high, format: "×%g")]
                    + c.elasticities.map { Self.elasticityCell($0, noise: $0?.withinNoise ?? false) }
                    + c.elasticities.flatMap(Self.intervalCSV)
            })
        return ReportSection(
            heading: "Elasticities at the base",
            note: "d ln θ / d ln x at the base input by the central difference of the bump's multipliers on either side of 1: (θ(x₊) − θ(x₋)) / (θ·(x₊ − x₋)); second-order accurate for a symmetric pair such as ×0.8 and ×1.2. Interval: the paired difference θ(x₊) − θ(x₋)'s over θ̂·(x₊ − x₋); greyed: it contains 0.",
            blocks: [.table(table)])
    }
}
