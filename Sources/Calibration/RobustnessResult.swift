import Foundation
import ScenarioSpec

/// How robust the thresholds are (`thresher robustness`): the model-risk matrix, the trade-off
/// frontier of the base ladder scaled, and the sensitivity of the calibrated thresholds and of the
/// base policy to bumped inputs. Every calibration and evaluation uses the scenario's seed and paths,
/// so differences between cells are common-random-number differences, not noise.
public struct RobustnessResult: Sendable {
    /// What a policy does under one model.
    public struct Outcome: Sendable {
        /// Mean and largest breach probability over the ladder's tiers and sides.
        public let meanBreach: Double
        public let maxBreach: Double
        /// Mean liquidation probability over accounts, and of the unnecessary ones (the account would
        /// have recovered above maintenance over the liquidation period).
        public let meanLiquidation: Double
        public let meanUnnecessaryLiquidation: Double
        public let expectedDeficit: Double
        public let expectedIncome: Double
        public let fundShortfallProbability: Double?
        /// Monte Carlo standard errors. The tiers' breach estimates are correlated (the same paths), so
        /// the SE of their mean is bounded by the mean of their binomial SEs (the standard deviation of a
        /// mean is at most the mean of the standard deviations), which is what `meanBreachStandardErrorBound`
        /// gives; `maxBreachStandardError` is the SE of the tier with the largest breach probability;
        /// the fund's is binomial, √(q(1 − q)/n).
        public let meanBreachStandardErrorBound: Double
        public let maxBreachStandardError: Double
        public let expectedDeficitStandardError: Double
        public let expectedIncomeStandardError: Double
        public let fundShortfallStandardError: Double?

        init(_ e: PolicyEvaluation) {
            meanBreach = e.tiers.map(\.probability).reduce(0, +) / Double(max(e.tiers.count, 1))
            maxBreach = e.tiers.map(\.probability).max() ?? 0
            meanBreachStandardErrorBound = e.tiers.map(\.standardError).reduce(0, +) / Double(max(e.tiers.count, 1))
            maxBreachStandardError = e.tiers.max { $0.probability < $1.probability }?.standardError ?? 0
            expectedDeficitStandardError = e.expectedDeficitStandardError
            expectedIncomeStandardError = e.expectedIncomeStandardError
            fundShortfallStandardError = e.fundShortfallStandardError
            meanLiquidation = e.accounts.map(\.liquidationProbability).reduce(0, +) / Double(max(e.accounts.count, 1))
            meanUnnecessaryLiquidation = e.accounts.map(\.unnecessaryLiquidationProbability).reduce(0, +) / Double(max(e.accounts.count, 1))
            expectedDeficit = e.expectedDeficit
            expectedIncome = e.expectedIncome
            fundShortfallProbability = e.fundShortfallProbability
        }
    }

    /// The thresholds a calibration sets: every rung of the ladder, and summarised, the mean MMR over
    /// the ladder's rungs (max of long and short), the penalty rate, the fund's VaR and ES.
    public struct Thresholds: Sendable {
        public let meanMaintenance: Double
        public let penaltyRate: Double
        public let fundVaR: Double
        public let fundES: Double
        public let rungs: [MarginLadder.Rung]

        init(_ c: CalibrationResult) {
            rungs = c.ladder.rungs.flatMap { $0 }
            meanMaintenance = rungs.map(\.rate).reduce(0, +) / Double(max(rungs.count, 1))
            penaltyRate = c.penalty.rate
            fundVaR = c.insuranceFund.valueAtRisk
            fundES = c.insuranceFund.expectedShortfall
        }

        /// The summary thresholds by their report names, in report order.
        public var named: [(name: String, value: Double)] {
            [("mean_maintenance", meanMaintenance), ("penalty_rate", penaltyRate), ("fund_var", fundVaR), ("fund_es", fundES)]
        }
    }

    public struct Bumped: Sendable {
        public let bump: RobustnessSpec.Bump
        /// Thresholds re-calibrated under the bump, and the base policy evaluated under it.
        public let thresholds: Sectioned<Thresholds>
        public let basePolicy: Sectioned<Outcome>
        /// The paired change θ' − θ of each of `thresholds.named` against the base calibration.
        public let changes: [Estimate]
        /// The relative change θ'/θ − 1 of each of `thresholds.named` (nil where θ = 0).
        public let relativeChanges: [Estimate?]
        /// The arc elasticity (θ'/θ − 1)/(x'/x − 1) of each of `thresholds.named` (nil for a bump
        /// with no ratio, or where θ = 0).
        public let elasticities: [Estimate?]
        /// The paired changes and arc elasticities of each rung's long and short rate, in
        /// `thresholds.rungs` order.
        public let rungChanges: [(long: Estimate, short: Estimate)]
        public let rungRelativeChanges: [(long: Estimate?, short: Estimate?)]
        public let rungElasticities: [(long: Estimate?, short: Estimate?)]
        public var maintenanceElasticity: Estimate? { elasticities[0] }

        init(bump: RobustnessSpec.Bump, thresholds: Sectioned<Thresholds>, basePolicy: Sectioned<Outcome>, base: Sectioned<Thresholds>) {
            self.bump = bump
            self.thresholds = thresholds
            self.basePolicy = basePolicy
            let change = bump.relativeChange
            let named = base.named.indices
            changes = named.map { i in thresholds.change(from: base) { $0.named[i].value } }
            relativeChanges = named.map { i in thresholds.relativeChange(from: base) { $0.named[i].value } }
            elasticities = named.map { i in thresholds.elasticity(from: base, relativeChange: change) { $0.named[i].value } }
            let rungs = base.rungs.indices
            rungChanges = rungs.map { k in (thresholds.change(from: base) { $0.rungs[k].long }, thresholds.change(from: base) { $0.rungs[k].short }) }
            rungRelativeChanges = rungs.map { k in
                (thresholds.relativeChange(from: base) { $0.rungs[k].long }, thresholds.relativeChange(from: base) { $0.rungs[k].short })
            }
            rungElasticities = rungs.map { k in
                (thresholds.elasticity(from: base, relativeChange: change) { $0.rungs[k].long },
                 thresholds.elasticity(from: base, relativeChange: change) { $0.rungs[k].short })
            }
        }
    }

    /// The elasticity at the base, d ln θ / d ln x at x = 1, by the central difference of a bump's two
    /// multipliers closest to 1 on either side: (θ(x₊) − θ(x₋)) / (θ(1)·(x₊ − x₋)), exact to second
    /// order when x₋ = 2 − x₊ (e.g. ×0.8 and ×1.2); its interval the paired difference θ(x₊) − θ(x₋)'s
    /// over θ̂(1)·(x₊ − x₋).
    public struct CentralElasticity: Sendable {
        public let kind: RobustnessSpec.Bump.Kind
        public let low: Double
        public let high: Double
        /// For each of `Thresholds.named` (nil where the base threshold is 0).
        public let elasticities: [Estimate?]
    }

    public let scenario: Scenario
    public let paths: Int
    /// "policy" (the scenario's) or "calibrated" (no policy: the base calibration's).
    public let basePolicySource: String
    /// Every threshold and outcome carries its sections (`Sectioned`): the intervals of each, and of
    /// each change between two of them on the same paths.
    public let baseThresholds: Sectioned<Thresholds>
    public let base: Sectioned<Outcome>
    public let targetBreachProbability: Double
    /// Model names, and matrix[i][j]: the ladder calibrated under model i evaluated under model j.
    public let models: [String]
    public let matrix: [[Sectioned<Outcome>]]
    public let frontier: [(multiplier: Double, outcome: Sectioned<Outcome>)]
    public let sensitivity: [Bumped]
    /// One per bump kind with multipliers on both sides of 1.
    public let centralElasticities: [CentralElasticity]
    public let elapsedSeconds: Double

    static func centralElasticities(_ sensitivity: [Bumped], base: Sectioned<Thresholds>) -> [CentralElasticity] {
        RobustnessSpec.Bump.Kind.allCases.compactMap { kind in
            let bumps = sensitivity.filter { $0.bump.kind == kind && $0.bump.relativeChange != nil }
            guard let low = bumps.filter({ $0.bump.value < 1 }).max(by: { $0.bump.value < $1.bump.value }),
                  let high = bumps.filter({ $0.bump.value > 1 }).min(by: { $0.bump.value < $1.bump.value }) else { return nil }
            let width = high.bump.value - low.bump.value
            let elasticities = base.named.indices.map { i -> Estimate? in
                func read(_ t: Thresholds) -> Double { t.named[i].value }
                let b = read(base.full)
                return b == 0 ? nil : (high.thresholds.value(read) - low.thresholds.value(read)).scaled(by: 1 / (b * width)).estimate
            }
            return CentralElasticity(kind: kind, low: low.bump.value, high: high.bump.value, elasticities: elasticities)
        }
    }
}

extension RobustnessSpec.Bump {
    public var label: String {
        switch kind {
        case .dof: return value == 0 ? "gaussian tails" : String(format: "tail dof ν = %g", value)
        case .correlation: return String(format: "correlation %g %% toward 1", value * 100)
        default: return String(format: "%@ ×%g", kind.rawValue, value)
        }
    }

    /// The bumped scenario (nil when the bump does not apply, e.g. vol-of-vol without vol shocks, or
    /// the depth curve without cascades).
    func apply(to scenario: Scenario) -> Scenario? {
        var s = scenario
        switch kind {
        case .vol: for i in s.market.assets.indices { s.market.assets[i].vol *= value }
        case .dof: s.market.tails = s.market.tails.bumped(dof: value)
        case .correlation:
            s.market.correlation = s.market.correlation.enumerated().map { i, row in
                row.enumerated().map { j, rho in i == j ? 1 : rho + value * (1 - rho) }
            }
        case .depth:
            let depth = s.calibration?.depth.mapValues { $0 * value } ?? [:]
            s.calibration?.depth = depth
        case .impact: s.calibration?.impact *= value
        case .liquidationHours: s.calibration?.liquidationHorizonHours *= value
        case .volOfVol:
            guard s.market.volShocks != nil else { return nil }
            s.market.volShocks?.volOfVol *= value
        case .breachProbability:
            guard let p = s.calibration?.breachProbability, p * value < 1 else { return nil }
            s.calibration?.breachProbability = p * value
        case .depthCurve:
            guard let cascade = s.calibration?.cascade else { return nil }
            s.calibration?.cascade?.depthCurve = cascade.depthCurve.map { CascadeSpec.DepthPoint(drawdown: $0.drawdown * value, fraction: $0.fraction) }
        }
        return s
    }

    /// The relative change of the input, for elasticities (nil where it is not a ratio).
    var relativeChange: Double? {
        switch kind {
        case .dof, .correlation: return nil
        default: return value - 1
        }
    }
}


extension MarginPolicy {
    /// Every maintenance and initial rate multiplied by `factor` and capped at 1 (initial ≥ maintenance
    /// still holds: both sides of the inequality are scaled and capped alike).
    public func scaled(by factor: Double) -> MarginPolicy {
        func scale(_ rate: Double) -> Double { min(1, rate * factor) }
        return MarginPolicy(schedule: MarginSchedule(tiers: schedule.tiers.map { $0.map { tier in
            MarginTier(upTo: tier.upTo, maintenanceLong: scale(tier.maintenanceLong), maintenanceShort: scale(tier.maintenanceShort),
                       initial: tier.initial.map(scale))
        } }), liquidationPenalty: liquidationPenalty, insuranceFund: insuranceFund)
    }
}
