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
    public var policyYAML: String { policyYAML(portfolioMargin: nil) }

    /// `policyYAML` with a `portfolio_margin:` risk array (its spot ranges' and vol shifts' notes by asset index).
    public func policyYAML(portfolioMargin: PortfolioMarginSpec?, spotRangeNotes: [Int: String] = [:], volShiftNotes: [Int: String] = [:]) -> String {
        var policy = self.policy
        policy.portfolioMargin = portfolioMargin
        return policy.yaml(assets: scenario.market.assets.map(\.id),
                           comment: "Calibrated by thresher calibrate: \(scenario.name), \(paths) paths, seed \(scenario.simulation.seed)",
                           notes: PolicyNotes(spotRanges: spotRangeNotes, volShifts: volShiftNotes))
    }
}

extension Sectioned where Result == CalibrationResult {
    /// The calibrated policy as `policyYAML` writes it, each threshold rounded to what its interval
    /// supports (`Estimate.roundedToInterval`: the second significant digit of the half-width) and
    /// its interval written beside it as a comment, so that nobody reads digits that are noise.
    public var policyYAML: String { policyYAML(portfolioMargin: nil) }

    /// `policyYAML` with a `portfolio_margin:` risk array (its spot ranges' and vol shifts' notes by asset index).
    public func policyYAML(portfolioMargin: PortfolioMarginSpec?, spotRangeNotes: [Int: String] = [:], volShiftNotes: [Int: String] = [:]) -> String {
        func range(_ e: Estimate) -> String? { e.nonNegative.interval.map { "\(e.roundedToInterval($0.low)) – \(e.roundedToInterval($0.high))" } }
        let level = "\(Int((confidence * 100).rounded())) % interval"
        var notes = PolicyNotes()
        // Rounded rates stay non-decreasing along the tiers (a tier's step may be coarser than the gap).
        let ladder = full.ladder.rungs.enumerated().map { i, rungs in
            var previous = (long: -Double.infinity, short: -Double.infinity)
            return rungs.indices.map { t -> MarginTier in
                let long = estimate { $0.ladder.rungs[i][t].long }, short = estimate { $0.ladder.rungs[i][t].short }
                if let l = range(long), let s = range(short) { notes.tiers[i, default: [:]][t] = "\(level): long \(l), short \(s)" }
                previous = (max(previous.long, long.roundedToInterval), max(previous.short, short.roundedToInterval))
                return MarginTier(upTo: rungs[t].tier, maintenanceLong: previous.long, maintenanceShort: previous.short)
            }
        }
        let penalty = estimate { $0.penalty.rate }, fund = estimate { $0.insuranceFund.expectedShortfall }
        notes.liquidationPenalty = range(penalty).map { "\(level) \($0)" }
        notes.insuranceFund = range(fund).map { "ES at \(full.insuranceFund.confidence); \(level) \($0)" }
        notes.spotRanges = spotRangeNotes
        notes.volShifts = volShiftNotes
        let policy = MarginPolicy(schedule: MarginSchedule(tiers: ladder), liquidationPenalty: penalty.roundedToInterval,
                                  insuranceFund: fund.roundedToInterval, portfolioMargin: portfolioMargin)
        return policy.yaml(assets: full.scenario.market.assets.map(\.id),
                           comment: "Calibrated by thresher calibrate: \(full.scenario.name), \(paths) paths, seed \(full.scenario.simulation.seed); "
                               + "each value rounded to the second significant digit of its \(level)'s half-width (sectioning, \(sections.count) sections)",
                           notes: notes)
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
