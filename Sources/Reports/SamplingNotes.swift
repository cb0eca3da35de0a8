import Foundation
import ScenarioSpec

/// What the reports of `calibrate` and `evaluate` say about how their rare-event numbers were
/// sampled (README, "Importance sampling") and whether those numbers exist at all.
enum SamplingNotes {
    /// The `importance_sampling` JSON field: the sampling's settings, or null for plain Monte Carlo.
    static func json(_ scenario: Scenario) -> JSONValue {
        guard let importance = scenario.activeImportanceSampling else { return .null }
        return .object([("variance_scale", .number(importance.varianceScale)), ("plain_share", .number(importance.plainShare))])
    }

    /// Whether the expected deficit (and so the penalty rate and the fund's ES) has a finite value:
    /// always with capped shocks or moments that exist; under uncapped Student-t shocks a book that
    /// loses when prices rise (margined short: a short perp, future or call) has deficits without a mean.
    static func deficitMeanExists(_ scenario: Scenario) -> Bool {
        momentsExist(scenario.market) || !scenario.portfolio.accounts.contains { account in
            account.positions.contains { $0.instrument.margin.side == .short }
        }
    }

    /// The text lines: how the paths were sampled, and the warning where the deficit has no mean.
    static func lines(_ scenario: Scenario) -> [String] {
        var lines: [String] = []
        if let importance = scenario.activeImportanceSampling {
            lines.append("Importance sampling: the mixing variable of \(scenario.market.tails.name) widened ×\(String(format: "%g", importance.varianceScale)) in variance on "
                         + "\(String(format: "%g", 100 * (1 - importance.plainShare))) % of the paths; every estimate is weighted by its path's likelihood ratio (≤ \(String(format: "%g", 1 / importance.plainShare))).")
        }
        if !deficitMeanExists(scenario) {
            lines.append("Under uncapped \(scenario.market.tails.name) shocks S·exp(σ√h·ε) has no finite mean, so the deficits of positions that lose when prices rise have none either: "
                         + "the expected deficit, the penalty rate and the fund ES do not settle as the paths grow. Set market.tails.cap (README, \"Heavy tails and moments\").")
        }
        return lines
    }
}
