import Engine
import Foundation
import ScenarioSpec
import WorkerPool

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

        init(_ e: PolicyEvaluation) {
            meanBreach = e.tiers.map(\.probability).reduce(0, +) / Double(max(e.tiers.count, 1))
            maxBreach = e.tiers.map(\.probability).max() ?? 0
            meanLiquidation = e.accounts.map(\.liquidationProbability).reduce(0, +) / Double(max(e.accounts.count, 1))
            meanUnnecessaryLiquidation = e.accounts.map(\.unnecessaryLiquidationProbability).reduce(0, +) / Double(max(e.accounts.count, 1))
            expectedDeficit = e.expectedDeficit
            expectedIncome = e.expectedIncome
            fundShortfallProbability = e.fundShortfallProbability
        }
    }

    /// The thresholds a calibration sets, summarised: mean MMR over the ladder's rungs, the penalty
    /// rate, the fund's ES.
    public struct Thresholds: Sendable {
        public let meanMaintenance: Double
        public let penaltyRate: Double
        public let fundES: Double

        init(_ c: CalibrationResult) {
            let rates = c.ladder.rungs.flatMap { $0 }.map(\.rate)
            meanMaintenance = rates.reduce(0, +) / Double(max(rates.count, 1))
            penaltyRate = c.penalty.rate
            fundES = c.insuranceFund.expectedShortfall
        }
    }

    public struct Bumped: Sendable {
        public let bump: RobustnessSpec.Bump
        /// Thresholds re-calibrated under the bump, and the base policy evaluated under it.
        public let thresholds: Thresholds
        public let basePolicy: Outcome
        /// (θ_bumped/θ_base − 1)/(x_bumped/x_base − 1) of the mean MMR (nil for a bump with no ratio).
        public let maintenanceElasticity: Double?
    }

    public let scenario: Scenario
    public let paths: Int
    /// "policy" (the scenario's) or "calibrated" (no policy: the base calibration's).
    public let basePolicySource: String
    public let baseThresholds: Thresholds
    public let base: Outcome
    public let targetBreachProbability: Double
    /// Model names, and matrix[i][j]: the ladder calibrated under model i evaluated under model j.
    public let models: [String]
    public let matrix: [[Outcome]]
    public let frontier: [(multiplier: Double, outcome: Outcome)]
    public let sensitivity: [Bumped]
    public let elapsedSeconds: Double
}

extension RobustnessSpec.Bump {
    public var label: String {
        switch kind {
        case .dof: return value == 0 ? "gaussian tails" : "tail dof ν = \(value)"
        case .correlation: return "correlation \(Int(value * 100)) % toward 1"
        default: return "\(kind.rawValue) ×\(value)"
        }
    }

    /// The bumped scenario (nil when the bump does not apply, e.g. vol-of-vol without vol shocks).
    func apply(to scenario: Scenario) -> Scenario? {
        var s = scenario
        switch kind {
        case .vol: for i in s.market.assets.indices { s.market.assets[i].vol *= value }
        case .dof:
            switch s.market.tails {
            case .gaussian, .studentT, .filteredHistorical: s.market.tails = value == 0 ? .gaussian : .studentT(dof: value)
            case .tCopula: s.market.tails = value == 0 ? .gaussian : .tCopula(dof: value)
            }
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

extension CalibrationResult {
    /// The calibrated thresholds as a policy: the ladder (maintenance long/short per tier), π*, the
    /// fund at its ES.
    public var policy: MarginPolicy {
        MarginPolicy(schedule: ladder.schedule, liquidationPenalty: penalty.rate, insuranceFund: insuranceFund.expectedShortfall)
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

/// Runs the robustness study of a scenario with a `calibration:` section (and optionally `policy:`).
public struct RobustnessAnalyzer {
    public let scenario: Scenario
    public let spec: RobustnessSpec
    let file: String

    public init(scenario: Scenario, spec: RobustnessSpec? = nil, file: String) throws {
        guard scenario.calibration != nil else {
            throw PolicyEvaluationError.missingSection(file: file, section: "calibration", why: "thresher robustness calibrates and evaluates with the liquidation model")
        }
        self.scenario = scenario
        self.spec = spec ?? scenario.robustness ?? RobustnessSpec.defaults(tails: scenario.market.tails)
        self.file = file
    }

    /// Calibrations and evaluations run: for a progress line.
    public var steps: Int { 1 + spec.models.count * (1 + spec.models.count) + spec.multipliers.count + 2 * spec.bumps.count }

    public func run(settings: RunSettings, cancellation: Cancellation? = nil, step: (String) -> Void = { _ in }) throws -> RobustnessResult {
        let start = DispatchTime.now()
        func calibrate(_ s: Scenario) throws -> CalibrationResult { try Calibrator(scenario: s).run(settings: settings, cancellation: cancellation) }
        func evaluate(_ policy: MarginPolicy, under s: Scenario) throws -> RobustnessResult.Outcome {
            var withPolicy = s
            withPolicy.policy = policy
            return .init(try PolicyEvaluator(scenario: withPolicy, file: file).run(settings: settings, cancellation: cancellation))
        }
        step("base calibration")
        let baseCalibration = try calibrate(scenario)
        let basePolicy = scenario.policy ?? baseCalibration.policy
        // Model matrix: calibrate under each model, evaluate under every model.
        let modelScenarios = spec.models.map { model -> Scenario in var s = scenario; s.market.tails = model; return s }
        var matrix: [[RobustnessResult.Outcome]] = []
        for (i, calibrated) in modelScenarios.enumerated() {
            step("model \(spec.models[i].name): calibration")
            let policy = try calibrate(calibrated).policy
            matrix.append(try modelScenarios.enumerated().map { j, under in
                step("model \(spec.models[i].name) under \(spec.models[j].name)")
                return try evaluate(policy, under: under)
            })
        }
        let base = try evaluate(basePolicy, under: scenario)
        let frontier = try spec.multipliers.map { m -> (multiplier: Double, outcome: RobustnessResult.Outcome) in
            step("frontier ×\(m)")
            return (m, try evaluate(basePolicy.scaled(by: m), under: scenario))
        }
        let baseThresholds = RobustnessResult.Thresholds(baseCalibration)
        let sensitivity = try spec.bumps.compactMap { bump -> RobustnessResult.Bumped? in
            guard let bumped = bump.apply(to: scenario) else { return nil }
            step("bump \(bump.label)")
            let thresholds = RobustnessResult.Thresholds(try calibrate(bumped))
            let elasticity = bump.relativeChange.map { (thresholds.meanMaintenance / baseThresholds.meanMaintenance - 1) / $0 }
            return .init(bump: bump, thresholds: thresholds, basePolicy: try evaluate(basePolicy, under: bumped), maintenanceElasticity: elasticity)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return RobustnessResult(scenario: scenario, paths: scenario.simulation.paths, basePolicySource: scenario.policy != nil ? "policy" : "calibrated",
                                baseThresholds: baseThresholds, base: base, targetBreachProbability: scenario.calibration!.breachProbability,
                                models: spec.models.map(Self.modelName), matrix: matrix, frontier: frontier, sensitivity: sensitivity, elapsedSeconds: elapsed)
    }

    static func modelName(_ model: TailModel) -> String {
        switch model {
        case .gaussian: return "gaussian"
        case .studentT(let dof): return "student-t ν=\(dof)"
        case .tCopula(let dof): return "t-copula ν=\(dof)"
        case .filteredHistorical: return "filtered historical"
        }
    }
}
