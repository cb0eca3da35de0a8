import Calibration
import Foundation
import ScenarioSpec

/// The `liquidation_timing` object of the calibrate and evaluate JSON reports (README, "Monitoring"):
/// the monitoring, and when the liquidations happened.
enum BreachTimesReport {
    static func json(_ summary: BreachTimeSummary, monitoring: LiquidationMonitoring?) -> JSONValue {
        .object([
            ("monitoring", .string(monitoring.map(\.name) ?? "horizon")),
            ("liquidations", .integer(summary.total)),
            ("at_horizon", .integer(summary.atHorizon)),
            ("horizon_hours", .number(summary.horizonHours)),
            ("mean_hours", summary.meanHours.map(JSONValue.number) ?? .null),
            ("quantile_hours", .object(summary.quantiles.map { ("p\(Int(($0.level * 100).rounded()))", $0.hours.map(JSONValue.number) ?? .null) })),
            ("bin_hours", .number(summary.binHours)),
            ("histogram", .array(summary.counts.map(JSONValue.integer))),
        ])
    }

    /// When the liquidation engine checks margin, for a report's note: "at the horizon's end", or
    /// "along each path (monitoring: continuous)".
    static func whenChecked(_ monitoring: LiquidationMonitoring?) -> String {
        guard let monitoring, monitoring != .horizon else { return "at the horizon's end" }
        return "along each path (monitoring: \(monitoring.name))"
    }

    /// A text line for the terminal and HTML reports.
    static func line(_ summary: BreachTimeSummary, monitoring: LiquidationMonitoring?) -> String {
        let head = "Monitoring: \(monitoring.map(\.name) ?? "horizon")."
        guard let mean = summary.meanHours, let median = summary.quantiles.first(where: { $0.level == 0.5 })?.hours else {
            return head + " No liquidation on these paths."
        }
        return head + String(format: " Liquidations happen %.1f h from now on average (median %.1f h) over a %.0f h horizon.", mean, median, summary.horizonHours)
    }
}
