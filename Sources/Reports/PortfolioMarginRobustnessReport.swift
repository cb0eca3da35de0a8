import Calibration
import Foundation
import ScenarioSpec

/// The risk array's part of `robustness` reports (README, "Portfolio margin"): per bump of the array
/// (spot ranges × k, vol shifts × k) the mean and largest account P(loss over the liquidation period
/// > MM) with their sectioning intervals, their paired changes against the array as given, and the
/// accounts above the target beyond noise.
public struct PortfolioMarginRobustnessReport {
    public let study: PortfolioMarginRobustness

    public init(study: PortfolioMarginRobustness) { self.study = study }

    /// Accounts whose P(breach) is above the target beyond noise (p̂ − 1.96·se > p).
    static func aboveTarget(_ r: PortfolioMarginResult) -> Int {
        r.accounts.filter { $0.breachProbability - 1.96 * $0.standardError > r.targetBreachProbability }.count
    }

    public var reportSection: ReportSection {
        let base = study.base
        func row(_ label: ReportCell, _ r: Sectioned<PortfolioMarginResult>, isBase: Bool) -> [ReportCell] {
            let mean = r.level(\.meanBreachProbability), max = r.level(\.maxBreachProbability)
            let meanChange = r.change(from: base, \.meanBreachProbability), maxChange = r.change(from: base, \.maxBreachProbability)
            return [label, RobustnessReport.plusMinus(mean, RobustnessReport.probability),
                    isBase ? .label("") : RobustnessReport.plusMinus(meanChange, RobustnessReport.signed(RobustnessReport.probability), noise: meanChange.withinNoise),
                    RobustnessReport.plusMinus(max, RobustnessReport.probability),
                    isBase ? .label("") : RobustnessReport.plusMinus(maxChange, RobustnessReport.signed(RobustnessReport.probability), noise: maxChange.withinNoise),
                    .integer(Self.aboveTarget(r.full))]
        }
        let rows = [row(ReportCell(text: "as given", csv: "base"), base, isBase: true)]
            + study.bumps.map { row(ReportCell(text: $0.label, csv: CSVRenderer.csvKey($0.label)), $0.result, isBase: false) }
        let table = ReportTable(csvName: "portfolio_margin_bumps.csv",
                                columns: [.init("array", csv: "array"), .init("mean P(loss > MM)", csv: "mean_breach_probability"),
                                          .init("change", csv: "mean_breach_change"), .init("largest P(loss > MM)", csv: "max_breach_probability"),
                                          .init("change", csv: "max_breach_change"), .init("accounts above target", csv: "accounts_above_target")],
                                rows: rows)
        return ReportSection(heading: "Portfolio margin (risk array) under bumps",
                             note: "Each account's P(loss over its liquidation period > its maintenance) under the policy's array with its spot ranges or vol shifts scaled, on the same paths; ± the sectioning half-width, changes paired section by section (greyed: within noise). Target \(String(format: "%g", base.full.targetBreachProbability)).",
                             blocks: [.table(table)])
    }

    public var json: JSONValue {
        let base = study.base
        func entry(_ r: Sectioned<PortfolioMarginResult>) -> [(String, JSONValue)] {
            [("mean_breach_probability", .number(r.full.meanBreachProbability)),
             ("mean_breach_interval", RobustnessReport.intervalJSON(r.level(\.meanBreachProbability))),
             ("max_breach_probability", .number(r.full.maxBreachProbability)),
             ("max_breach_interval", RobustnessReport.intervalJSON(r.level(\.maxBreachProbability))),
             ("accounts_above_target", .integer(Self.aboveTarget(r.full))),
             ("accounts", .array(r.full.accounts.map { .object([("id", .string($0.id)), ("breach_probability", .number($0.breachProbability)),
                                                               ("stderr", .number($0.standardError))]) }))]
        }
        return .object([("base", .object(entry(base))),
                        ("bumps", .array(study.bumps.map { b in
                            .object([("field", .string(b.field)), ("multiplier", .number(b.multiplier))] + entry(b.result)
                                    + [("mean_breach_change", RobustnessReport.changeJSON(b.result.change(from: base, \.meanBreachProbability))),
                                       ("max_breach_change", RobustnessReport.changeJSON(b.result.change(from: base, \.maxBreachProbability)))])
                        }))])
    }
}

extension ReportDocument {
    /// Adds the risk array's bumps (before the inputs, the last section) and its JSON field
    /// `portfolio_margin_bumps`.
    public mutating func append(_ bumps: PortfolioMarginRobustnessReport) {
        sections.insert(bumps.reportSection, at: max(0, sections.count - 1))
        if case .object(var fields) = json {
            fields.append(("portfolio_margin_bumps", bumps.json))
            json = .object(fields)
        }
    }
}
