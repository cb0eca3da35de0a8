import Backtest
import Foundation
import History

/// The report of `thresher backtest`: per model and level the exception tests (Kupiec, Christoffersen,
/// traffic light, Acerbi–Székely Z₂, exception magnitudes), the procyclicality of the margin under
/// each EMIR Art. 28 tool, the daily series (CSV, JSON) and the charts (forecast vs realised with the
/// exceptions marked; margin over time per tool).
public struct BacktestReport: CommandReport {
    public let result: BacktestResult

    public init(result: BacktestResult) { self.result = result }

    /// Each tool's definition with this backtest's real lookbacks (a 537-day backtest has no ten years).
    var definitions: (AntiProcyclicalityTool) -> String {
        let days = result.realisedDays, history = result.history.days
        return { $0.definition(backtestDays: days.last! - days.first! + 1, historyDays: history.last! - history.first!) }
    }

    func optional(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }

    public var json: JSONValue {
        let r = result, days = r.realisedDays
        let models: [JSONValue] = r.models.map { m in
            let levels: [JSONValue] = m.levels.map { l in
                let c = l.coverage, z = l.expectedShortfallTest
                func test(_ t: LikelihoodRatio) -> JSONValue { .object([("statistic", .number(t.statistic)), ("p_value", .number(t.pValue))]) }
                return .object([
                    ("level", .number(l.level.value)), ("days", .integer(c.days)), ("exceptions", .integer(c.exceptions)),
                    ("expected_rate", .number(c.expectedRate)), ("observed_rate", .number(c.observedRate)),
                    ("transitions", .object([("n00", .integer(c.transitions.n00)), ("n01", .integer(c.transitions.n01)),
                                             ("n10", .integer(c.transitions.n10)), ("n11", .integer(c.transitions.n11))])),
                    ("kupiec_pof", test(c.proportionOfFailures)), ("christoffersen_independence", test(c.independence)),
                    ("conditional_coverage", test(c.conditionalCoverage)),
                    ("traffic_light", .object([("zone", .string(c.trafficLight.rawValue)), ("cumulative_probability", .number(c.cumulativeProbability)),
                                               ("type_i_probability", .number(c.typeIProbability))])),
                    ("es_test", .object([("z2", .number(z.statistic)), ("critical_value_5pct", .number(z.criticalValue)), ("p_value", .number(z.pValue)),
                                         ("simulations", .integer(z.simulations)), ("rejected", .bool(z.rejected))])),
                    ("largest_excess", optional(l.largestExcess)), ("mean_excess", optional(l.meanExcess)), ("loss_to_es_ratio", optional(l.lossToShortfall)),
                ])
            }
            let procyclicality: [JSONValue] = m.procyclicality.map { p in
                .object([("tool", .string(p.tool.rawValue)), ("definition", .string(definitions(p.tool))), ("mean_margin", .number(p.mean)),
                         ("peak", .number(p.peak)), ("trough", .number(p.trough)), ("peak_to_trough", optional(p.peakToTrough)),
                         ("largest_1d_increase", optional(p.largestOneDayIncrease)), ("largest_30d_increase", optional(p.largestThirtyDayIncrease)),
                         ("exceptions", .integer(p.exceptions))])
            }
            return .object([("model", .string(m.model.rawValue)), ("refits", .integer(m.refits)), ("mean_dof", optional(m.meanDof)),
                             ("mean_persistence", optional(m.meanPersistence)), ("levels", .array(levels)), ("procyclicality", .array(procyclicality))])
        }
        func numbers(_ xs: [Double]) -> JSONValue { .array(xs.map(JSONValue.number)) }
        let series: [(String, JSONValue)] = [("dates", .array(days.map { .string(isoDate($0)) })), ("realised_loss", numbers(r.realisedLosses))]
            + r.models.map { m in
                (m.model.rawValue, .object([
                    ("var", .object(m.levels.map { ($0.level.label, numbers($0.valueAtRisk)) })),
                    ("es", .object(m.levels.map { ($0.level.label, numbers($0.expectedShortfall)) })),
                    ("hits", .object(m.levels.map { ($0.level.label, .array($0.hits.map { .integer($0 ? 1 : 0) })) })),
                    ("ten_year_var", numbers(m.tenYearValueAtRisk)),
                    ("margin", .object(m.procyclicality.map { ($0.tool.rawValue, numbers($0.margins)) })),
                ]))
            }
        let gaps: JSONValue = .array(r.history.gaps.map { gap -> JSONValue in
            .object([("from", .string(isoDate(gap.from))), ("to", .string(isoDate(gap.to))), ("days", .integer(gap.to - gap.from))])
        })
        let missing: JSONValue = .object(r.history.missingDays.map { entry -> (String, JSONValue) in
            (entry.asset, .array(entry.days.map { JSONValue.string(isoDate($0)) }))
        })
        let errors: [(String, JSONValue)] = zip(r.levels, r.monteCarloRelativeError).map { ($0.label, JSONValue.number($1)) }
        let monteCarlo: JSONValue = .object([("draws", .string("the same draws every day: one bias over the history")),
                                             ("relative_standard_error", .object(errors))])
        return .object([
            ("command", .string("backtest")), ("scenario", .string(r.scenarioName)),
            ("history", .object([("file", .string(r.history.file)), ("assets", .array(r.history.assetIDs.map(JSONValue.string))),
                                 ("rows", .integer(r.history.rowCount)), ("first_row", .string(isoDate(r.history.days.first!))),
                                 ("last_row", .string(isoDate(r.history.days.last!))), ("gaps", gaps), ("missing", missing)])),
            ("monte_carlo", monteCarlo),
            ("window", .integer(r.settings.window)), ("refit", .integer(r.settings.refit)), ("paths", .integer(r.paths)),
            ("seed", .integer(Int(truncatingIfNeeded: r.seed))), ("levels", .array(r.levels.map { .number($0.value) })),
            ("margin_level", .number(r.levels[r.marginLevel].value)), ("es_simulations", .integer(r.settings.esSimulations)),
            ("days", .integer(days.count)), ("first_day", .string(isoDate(days.first!))), ("last_day", .string(isoDate(days.last!))),
            ("models", .array(models)), ("ladder_breach_probability", r.ladder.isEmpty ? .null : .number(r.ladderBreachProbability)),
            ("ladder", .array(r.ladder.map { b in
                let c = b.coverage
                return .object([("asset", .string(b.asset)), ("side", .string(b.side.rawValue)), ("tier", b.tier.map(JSONValue.integer) ?? .null),
                                ("up_to", b.upTo.map(JSONValue.number) ?? .null), ("model", b.model.map { .string($0.rawValue) } ?? .null),
                                ("mean_rate", .number(b.meanRate)), ("days", .integer(c.days)), ("exceptions", .integer(c.exceptions)),
                                ("expected_rate", .number(c.expectedRate)),
                                ("kupiec_pof", .object([("statistic", .number(c.proportionOfFailures.statistic)), ("p_value", .number(c.proportionOfFailures.pValue))])),
                                ("traffic_light", .object([("zone", .string(c.trafficLight.rawValue)), ("cumulative_probability", .number(c.cumulativeProbability))]))])
            })),
            ("series", .object(series)), ("elapsed_seconds", .number(r.elapsedSeconds)),
        ])
    }

    public var document: ReportDocument {
        let r = result, days = r.realisedDays
        func test(_ t: LikelihoodRatio) -> ReportCell { ReportCell(text: String(format: "%.3f (p %.3f)", t.statistic, t.pValue), csv: csvNumber(t.statistic)) }
        func p(_ t: LikelihoodRatio) -> ReportCell { ReportCell(text: "", csv: csvNumber(t.pValue)) }
        func opt(_ x: Double?, _ format: String) -> ReportCell { x.map { .number($0, format: format) } ?? ReportCell(text: "—", csv: "") }
        func optMoney(_ x: Double?) -> ReportCell { x.map(ReportCell.money) ?? ReportCell(text: "—", csv: "") }
        let tests = ReportTable(
            csvName: "backtest.csv",
            columns: [.init("model", csv: "model"), .init("level", csv: "level"), .init("days", csv: "days"), .init("exceptions", csv: "exceptions"),
                      .init("expected", csv: "expected_exceptions"), .init("Kupiec POF", csv: "kupiec_pof"), .csvOnly("kupiec_p"),
                      .init("independence", csv: "christoffersen_independence", priority: 0), .csvOnly("independence_p"),
                      .init("cond. coverage", csv: "conditional_coverage", priority: 0), .csvOnly("conditional_coverage_p"),
                      .init("zone", csv: "zone", priority: 2), .init("P(X≤x)", csv: "cumulative_probability", priority: 0),
                      .init("ES Z₂", csv: "z2"), .init("Z₂ 5% crit.", csv: "z2_critical_5pct"), .init("Z₂ p", csv: "z2_p"),
                      .init("largest excess", csv: "largest_excess"), .init("mean excess", csv: "mean_excess"), .init("loss/ES", csv: "loss_to_es_ratio")],
            rows: r.models.flatMap { m in
                m.levels.map { l -> [ReportCell] in
                    let c = l.coverage, z = l.expectedShortfallTest
                    return [.label(m.model.rawValue), .label(l.level.label), .integer(c.days), .integer(c.exceptions),
                            .number(Double(c.days) * c.expectedRate, format: "%.1f"), test(c.proportionOfFailures), p(c.proportionOfFailures),
                            test(c.independence), p(c.independence), test(c.conditionalCoverage), p(c.conditionalCoverage),
                            .label(c.trafficLight.rawValue).flagged(c.trafficLight == .green ? .good : c.trafficLight == .yellow ? .warning : .bad), .number(c.cumulativeProbability, format: "%.5f"),
                            .number(z.statistic, format: "%.3f"), .number(z.criticalValue, format: "%.3f"), .number(z.pValue, format: "%.3f"),
                            optMoney(l.largestExcess), optMoney(l.meanExcess), opt(l.lossToShortfall, "%.3f")]
                }
            }, displayed: false)
        // Shown as two tables that fit a page (1,400 px) and a terminal: the coverage tests, then the
        // ES test and the exception magnitudes; backtest.csv has both.
        func part(_ columns: [Int]) -> ReportTable {
            ReportTable(columns: columns.map { tests.columns[$0] }, rows: tests.rows.map { row in columns.map { row[$0] } })
        }
        let coverage = part(Array(0...12)), magnitudes = part([0, 1] + Array(13...18))
        let margin = r.levels[r.marginLevel].label
        let cycles = ReportTable(
            csvName: "procyclicality.csv",
            columns: [.init("model", csv: "model"), .init("tool", csv: "tool"), .init("mean margin", csv: "mean_margin"),
                      .init("peak", csv: "peak"), .init("trough", csv: "trough"), .init("peak/trough", csv: "peak_to_trough"),
                      .init("max 1-day rise", csv: "largest_1d_increase", priority: 0), .init("max 30-day rise", csv: "largest_30d_increase", priority: 0),
                      .init("exceptions", csv: "exceptions", priority: 2)],
            rows: r.models.flatMap { m in
                m.procyclicality.map { q -> [ReportCell] in
                    [.label(m.model.rawValue), .label(q.tool.rawValue), .money(q.mean), .money(q.peak), .money(q.trough),
                     opt(q.peakToTrough, "%.2f"), q.largestOneDayIncrease.map(ReportCell.rate) ?? ReportCell(text: "—", csv: ""),
                     q.largestThirtyDayIncrease.map(ReportCell.rate) ?? ReportCell(text: "—", csv: ""), .integer(q.exceptions)]
                }
            })
        var dayColumns: [ReportTable.Column] = [.init("date", csv: "date"), .init("realised loss", csv: "realised_loss")]
        for m in r.models {
            for l in m.levels {
                dayColumns += [.init("", csv: "\(m.model.rawValue)_var_\(l.level.label)"), .init("", csv: "\(m.model.rawValue)_es_\(l.level.label)"),
                               .init("", csv: "\(m.model.rawValue)_hit_\(l.level.label)")]
            }
            dayColumns += m.procyclicality.map { .init("", csv: "\(m.model.rawValue)_margin_\($0.tool.rawValue)") }
        }
        let dayRows = days.indices.map { t -> [ReportCell] in
            var row: [ReportCell] = [.label(isoDate(days[t])), .money(r.realisedLosses[t])]
            for m in r.models {
                for l in m.levels { row += [.money(l.valueAtRisk[t]), .money(l.expectedShortfall[t]), .label(l.hits[t] ? "1" : "0")] }
                row += m.procyclicality.map { .money($0.margins[t]) }
            }
            return row
        }
        var sections = [
            ReportSection(heading: "Exceptions and coverage tests",
                          note: "An exception is a realised loss above the forecast VaR. Kupiec POF and Christoffersen independence are χ²(1), conditional coverage χ²(2) (p-values in brackets); the zone is Basel's traffic light from P(X ≤ x), X ~ Binomial(days, 1 − level) (expected = days × (1 − level), the same for every model at a level): green < 95 %, red ≥ 99.99 %. Z₂ (Acerbi–Székely) is rejected below its 5 % critical value, simulated from \(r.settings.esSimulations) histories drawn from the forecasts themselves; loss/ES is the mean realised loss over ES on exception days (≈ 1 when ES is right).",
                          blocks: [.table(coverage), .table(magnitudes), .table(tests)]),
            ReportSection(heading: "Procyclicality of the margin (VaR \(margin)) under the EMIR Art. 28 tools",
                          note: "Peak/trough = max/min margin over the backtest; rises are relative (Mₜ/Mₜ₋ₖ − 1 over k days); exceptions are days the realised loss exceeded the margin.",
                          blocks: [.text(AntiProcyclicalityTool.allCases.map { "\($0.rawValue): \(definitions($0))" }), .table(cycles)]),
        ]
        if !r.ladder.isEmpty {
            let table = ReportTable(
                csvName: "ladder_backtest.csv",
                columns: [.init("asset", csv: "asset"), .init("side", csv: "side"), .init("rate", csv: "source"), .init("up to", csv: "up_to", priority: 0),
                          .init("mean rate", csv: "mean_rate"), .init("exceptions", csv: "exceptions"), .init("expected", csv: "expected_exceptions"),
                          .init("Kupiec POF", csv: "kupiec_pof"), .init("zone", csv: "zone", priority: 2),
                          .init("P(X≤x)", csv: "cumulative_probability", priority: 0)],
                rows: r.ladder.map { b in
                    let c = b.coverage
                    return [.label(b.asset), .label(b.side.rawValue), .label(b.tier.map { "tier \($0 + 1)" } ?? "\(b.model!.rawValue) forecast"),
                            b.upTo.map(ReportCell.money) ?? ReportCell(text: "", csv: ""), .rate(b.meanRate), .integer(c.exceptions),
                            .number(Double(c.days) * c.expectedRate, format: "%.1f"), test(c.proportionOfFailures), .label(c.trafficLight.rawValue).flagged(c.trafficLight == .green ? .good : c.trafficLight == .yellow ? .warning : .bad),
                            .number(c.cumulativeProbability, format: "%.5f")]
                })
            sections.append(ReportSection(heading: "Margin rates against the realised daily moves",
                                          note: "Each maintenance rate of the policy's ladder, and each model's daily forecast of the rate a move exceeds with probability \(String(format: "%g", r.ladderBreachProbability)) (the calibration's breach probability, else 1 − the margin level), against the realised one-day moves of its asset: an exception is an adverse move beyond the rate. A tier's rate also pays for liquidating its size, so a large tier is expected to breach less than the target. Expected = days × that probability: the same for every rate, as every rate is tested against the same days.",
                                          blocks: [.table(table)]))
        }
        let top = r.levels.indices.max { r.levels[$0].value < r.levels[$1].value }!
        for m in r.models {
            let exceptions = m.levels[top].hits.indices.filter { m.levels[top].hits[$0] }
            sections.append(ReportSection(heading: "\(m.model.rawValue): forecasts and margins", blocks: [
                .chart(.timeSeries(days: days, lines: m.levels.map { ("VaR \($0.level.label)", $0.valueAtRisk) },
                                   dots: ("realised loss", r.realisedLosses), marks: ("exception at \(r.levels[top].label)", exceptions),
                                   title: "\(m.model.rawValue): forecast VaR against the realised loss", yLabel: "loss, USD")),
                .chart(.timeSeries(days: days, lines: m.procyclicality.map { ($0.tool.rawValue, $0.margins) }, dots: nil, marks: nil,
                                   title: "\(m.model.rawValue): margin (VaR \(margin)) under each anti-procyclicality tool", yLabel: "margin, USD")),
            ]))
        }
        sections.append(ReportSection(heading: "Daily series", note: "Every day's forecasts, exceptions and margins are in backtest_days.csv (--csv DIR) and under \"series\" in the JSON.",
                                      blocks: [.table(ReportTable(csvName: "backtest_days.csv", columns: dayColumns, rows: dayRows, displayed: false))]))
        let errors = zip(r.levels, r.monteCarloRelativeError).map { level, error -> String in String(format: "±%.2f %%", 100 * error) + " of VaR " + level.label }
        let monteCarlo: String = "Monte Carlo: every day reuses the same \(grouped(r.paths)) draws, so their error is one bias over the whole history, not noise that averages out over days: "
            + errors.joined(separator: ", ") + " (one standard error, gaussian model, linear book); another --seed moves every day's VaR together by about that"
        let context: [String] = [
            "Book of \(r.scenarioName) valued as one account at each day's prices; positions held constant",
            "History \(r.history.file): \(r.history.assetIDs.joined(separator: ", ")), \(r.history.rowCount) common rows \(isoDate(r.history.days.first!)) … \(isoDate(r.history.days.last!))",
            "\(days.count) days tested \(isoDate(days.first!)) … \(isoDate(days.last!)); window \(r.settings.window) returns, re-fit every \(r.settings.refit) days, filtered daily",
            "\(grouped(r.paths)) paths per forecast, seed \(r.seed); models \(r.models.map(\.model.rawValue).joined(separator: ", "))",
            monteCarlo,
        ] + r.history.warnings().map { "Warning: " + $0 }
        var document = ReportDocument(title: "Thresher backtest — \(r.scenarioName)", context: context, sections: sections,
                              footer: [String(format: "Elapsed %.2f s", r.elapsedSeconds)], json: json)
        // The answer first: each model's traffic-light zone per level, coloured.
        document.headline = r.models.flatMap { m in
            m.levels.map { l in
                let c = l.coverage
                let verdict: Headline.Verdict = c.trafficLight == .green ? .good : c.trafficLight == .yellow ? .warning : .bad
                return Headline("\(m.model.rawValue) VaR \(l.level.label): \(c.trafficLight.rawValue.uppercased()) zone, \(c.exceptions) exceptions in \(grouped(c.days)) days (\(String(format: "%.3g", c.expectedRate * Double(c.days))) expected)", verdict)
            }
        }
        return document
    }
}
