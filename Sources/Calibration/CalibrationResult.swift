import ScenarioSpec

/// The thresholds of `thresher calibrate` (README, "Calibration model"). All expectations are per
/// path (means over paths), USD.
public struct CalibrationResult: Sendable {
    public struct Penalty: Sendable {
        /// π*, the smallest rate in [0, max_rate] whose expected income covers coverage × E[deficit].
        public let rate: Double
        public let coverage: Double
        public let maxRate: Double
        public let reached: Bool
        /// E[penalty income] at π* (at max_rate when not reached).
        public let expectedIncome: Double
        public let expectedDeficit: Double
        /// Monte Carlo standard errors of the two per-path means, s/√N.
        public let expectedIncomeStandardError: Double
        public let expectedDeficitStandardError: Double
        /// Grid step of the search; π* is within one step above the exact smallest rate.
        public let resolution: Double
    }

    public struct InsuranceFund: Sendable {
        public let confidence: Double
        /// VaR and ES of the per-path net deficit Σ deficits − Σ penalties at π*.
        public let valueAtRisk: Double
        public let expectedShortfall: Double
        /// nil when the fund's tail rank is below `TailPlan.minimumRankFor…Error`.
        public let valueAtRiskStandardError: Double?
        public let expectedShortfallStandardError: Double?
        public let balance: Double?
        /// P(net deficit > balance): the probability of auto-deleveraging.
        public let adlProbability: Double?
    }

    public struct AccountThresholds: Sendable {
        public let id: String
        public let equity: Double
        public let maintenanceRequirement: Double
        public let liquidationProbability: Double
        public let expectedDeficit: Double
        /// Loss thresholds, USD, always warn ≤ reduce-only ≤ liquidate: liquidate = equity − requirement,
        /// reduce-only = min(VaR 99 %, liquidate), warn = min(VaR 95 %, reduce-only).
        public let warn: Double
        public let reduceOnly: Double
        public let liquidate: Double
        /// A VaR was above the next action's threshold and was lowered to it (the action would
        /// otherwise fire after the one it should precede).
        public let capped: Bool
        /// Equity now is already below the requirement now: liquidated at once (probability 1).
        public let inBreach: Bool
    }

    public let scenario: Scenario
    public let paths: Int
    public let threads: Int
    public let elapsedSeconds: Double
    public let ladder: MarginLadder
    public let penalty: Penalty
    public let insuranceFund: InsuranceFund
    /// Per account, in book order (empty from a calibration run without account thresholds, e.g.
    /// the cells of `thresher robustness`).
    public let accounts: [AccountThresholds]
    /// When pass B's liquidations happened (`calibration.liquidation.monitoring`).
    public let breachTimes: BreachTimeSummary
}

extension CalibrationResult {
    /// The calibrated thresholds as a policy: the ladder (maintenance long/short per tier), π*, the
    /// fund at its ES.
    public var policy: MarginPolicy {
        MarginPolicy(schedule: ladder.schedule, liquidationPenalty: penalty.rate, insuranceFund: insuranceFund.expectedShortfall)
    }

    /// `policy` as a scenario `policy:` section (YAML) with a comment naming the run.
    public var policyYAML: String {
        policy.yaml(assets: scenario.market.assets.map(\.id),
                    comment: "Calibrated by thresher calibrate: \(scenario.name), \(paths) paths, seed \(scenario.simulation.seed)")
    }
}

extension Scenario {
    /// The scenario's `calibration:` section (the liquidation model), or the error a user sees when
    /// a command that needs it is run on a scenario without one.
    /// - Parameters:
    ///   - file: the scenario file as the user named it; `why`: what needs the section.
    /// - Throws: `ScenarioError` at `calibration`.
    public func requiredCalibration(file: String, why: String) throws -> CalibrationSpec {
        guard let spec = calibration else { throw Self.missingSection("calibration", file: file, why: why) }
        return spec
    }

    /// The error of a missing section `section` that `why` needs.
    static func missingSection(_ section: String, file: String, why: String) -> ScenarioError {
        ScenarioError(file: file, path: section, line: nil, message: "missing section: \(why) (see Scenarios/README.md)")
    }
}
