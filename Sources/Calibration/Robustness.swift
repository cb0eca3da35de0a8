import Engine
import Foundation
import MonteCarlo
import ScenarioSpec
import WorkerPool

/// The cells of a robustness study in one place, and the named ranges its results are read back by:
/// the calibrations (the base scenario, each model, each bump) and the evaluations (a policy under a
/// scenario) of each section — the model matrix, the base policy, the frontier, the base policy
/// under each bump. The passes, the progress total and the reassembly all read this one list.
struct RobustnessSchedule {
    /// What a study's numbers are grouped by, in report order.
    enum Section: CaseIterable { case matrix, base, frontier, bumps }

    /// Where an evaluated policy comes from.
    enum PolicySource {
        /// The scenario's own `policy:`, scaled by a multiplier (1: as given): known before any
        /// calibration, so its evaluation rides in calibration pass C's stage.
        case given(MarginPolicy)
        /// The policy of calibration `index`, scaled: evaluated after the calibrations.
        case calibrated(index: Int, multiplier: Double)
    }

    struct Evaluation {
        let policy: PolicySource
        let scenario: Scenario
        let section: Section
    }

    /// Calibrated scenarios: the base at 0, then `models`, then `bumps` (ranges into this list).
    let calibrations: [Scenario]
    let models: Range<Int>
    let bumps: Range<Int>
    let bumped: [RobustnessSpec.Bump]
    /// Every evaluation, in section order.
    let evaluations: [Evaluation]

    init(scenario: Scenario, spec: RobustnessSpec) {
        let monitorings: [LiquidationMonitoring?] = spec.monitoring.isEmpty ? [nil] : spec.monitoring
        let cascades: [CascadeSpec??] = spec.cascades.isEmpty ? [.none] : spec.cascades.map { .some($0) }
        let modelScenarios = spec.models.flatMap { model in
            monitorings.flatMap { monitoring in
                cascades.map { cascade in
                    var s = scenario
                    s.market.tails = model
                    if let monitoring { s.calibration!.monitoring = monitoring }
                    if case .some(let cascade) = cascade {
                        s.calibration!.cascade = cascade
                        // Cascades are not weighted: their cells run plain Monte Carlo.
                        if cascade != nil { s.calibration!.importanceSampling = nil }
                    }
                    return s
                }
            }
        }
        let bumpedScenarios = spec.bumps.compactMap { bump in bump.apply(to: scenario).map { (bump: bump, scenario: $0) } }
        calibrations = [scenario] + modelScenarios + bumpedScenarios.map(\.scenario)
        models = 1..<(1 + modelScenarios.count)
        bumps = models.upperBound..<calibrations.count
        bumped = bumpedScenarios.map(\.bump)
        // The ladder calibrated under model i, evaluated under model j (row i, column j).
        var evaluations = models.flatMap { i in
            modelScenarios.map { Evaluation(policy: .calibrated(index: i, multiplier: 1), scenario: $0, section: .matrix) }
        }
        func basePolicy(_ multiplier: Double) -> PolicySource {
            scenario.policy.map { .given(multiplier == 1 ? $0 : $0.scaled(by: multiplier)) } ?? .calibrated(index: 0, multiplier: multiplier)
        }
        evaluations.append(Evaluation(policy: basePolicy(1), scenario: scenario, section: .base))
        evaluations += spec.multipliers.map { Evaluation(policy: basePolicy($0), scenario: scenario, section: .frontier) }
        evaluations += bumpedScenarios.map { Evaluation(policy: basePolicy(1), scenario: $0.scenario, section: .bumps) }
        self.evaluations = evaluations
    }

    /// The indices of `evaluations` in `section`.
    func range(_ section: Section) -> Range<Int> {
        let members = evaluations.indices.filter { evaluations[$0].section == section }
        return (members.first ?? 0)..<((members.last ?? -1) + 1)
    }

    /// Evaluations of a given policy (riding in calibration pass B) and of calibrated ones (a stage
    /// of their own after the calibrations).
    var riding: [Int] { evaluations.indices.filter { if case .given = evaluations[$0].policy { return true }; return false } }
    var afterCalibration: [Int] { evaluations.indices.filter { if case .calibrated = evaluations[$0].policy { return true }; return false } }

    /// Passes over all paths of the study on `ranges` (all paths, then the sections; a progress total
    /// is `passes` × paths, rounded up): per batch of cells (`WaterfallBatches`), calibration pass A
    /// once per distinct set of standardized shocks, breach level and range, passes B and C once per
    /// distinct market and range (pass C's with the evaluations riding in it), then per batch of the
    /// evaluations that need calibrated policies once per distinct market and range — not once per cell.
    func passes(ranges: [Range<Int>], settings: RunSettings, memoryLimit: Int) -> Int {
        typealias Cell = (scenario: Scenario, paths: Range<Int>)
        func key(_ cell: Cell) -> MarketKey {
            MarketKey(market: cell.scenario.market, paths: cell.paths,
                      draws: LiquidationProcesses.draws(cell.scenario.calibration!.monitoring, scenario: cell.scenario),
                      importance: cell.scenario.activeImportanceSampling)
        }
        func family(_ cell: Cell) -> StandardizedKey {
            StandardizedKey(market: cell.scenario.market, level: 1 - cell.scenario.calibration!.breachProbability, paths: cell.paths)
        }
        // The paths of one job per distinct key.
        func work<Key: Equatable>(_ cells: ArraySlice<Cell>, _ key: (Cell) -> Key) -> Int {
            let list = Array(cells)
            return WaterfallCells.groups(list.map(key)).reduce(0) { $0 + list[$1[0]].paths.count }
        }
        let units = calibrations.flatMap { scenario in ranges.map { (scenario: scenario, paths: $0) } }
        let riders = riding.flatMap { e in ranges.map { (scenario: evaluations[e].scenario, paths: $0) } }
        let after = afterCalibration.flatMap { e in ranges.map { (scenario: evaluations[e].scenario, paths: $0) } }
        var total = 0
        for batch in WaterfallBatches.ranges((units + riders).map(\.scenario), settings: settings, memoryLimit: memoryLimit) {
            let batchUnits = units[batch.clamped(to: units.indices)]
            total += work(batchUnits, family) + work(batchUnits, key) + work((units + riders)[batch], key)
        }
        for batch in WaterfallBatches.ranges(after.map(\.scenario), settings: settings, memoryLimit: memoryLimit) { total += work(after[batch], key) }
        let all = max(ranges.first?.count ?? 1, 1)
        return (total + all - 1) / all
    }
}

/// Runs the robustness study of a scenario with a `calibration:` section (and optionally `policy:`).
public struct RobustnessAnalyzer {
    public let scenario: Scenario
    public let spec: RobustnessSpec
    let file: String
    let schedule: RobustnessSchedule

    public init(scenario: Scenario, spec: RobustnessSpec? = nil, file: String) throws {
        _ = try scenario.requiredCalibration(file: file, why: "thresher robustness calibrates and evaluates with the liquidation model")
        self.scenario = scenario
        self.spec = spec ?? scenario.robustness ?? RobustnessSpec.defaults(tails: scenario.market.tails)
        self.file = file
        schedule = RobustnessSchedule(scenario: scenario, spec: self.spec)
    }

    /// Passes over all paths (a progress total is `passes` × paths); see `RobustnessSchedule.passes`.
    /// Sections double them.
    public func passes(sections: Int = 0, threads: Int = defaultThreadCount, memoryLimit: Int = AccountGroups.defaultMemoryLimit) -> Int {
        schedule.passes(ranges: [0..<scenario.simulation.paths] + sectionRanges(sections), settings: RunSettings(threads: threads), memoryLimit: memoryLimit)
    }

    /// The `k` sections of the paths (`Sectioning.ranges`), or none when k < 2 or the paths are too few.
    func sectionRanges(_ k: Int) -> [Range<Int>] {
        k >= 2 ? Sectioning.ranges(paths: scenario.simulation.paths, sections: k) ?? [] : []
    }

    /// Three or four stages over the same paths (common random numbers): the three passes of every
    /// calibration together (`Calibrator.run`), the given policy's evaluations (base, the frontier's
    /// scaled ladders, the policy under each bump) riding in pass C's stage, then the evaluations that need
    /// calibrated policies (the matrix's ladders; the base ones too when the scenario gives no
    /// policy) together (`PolicyEvaluator.run`). Cells on the same market share each chunk's draws
    /// and revaluation; each cell equals its own calibrate or evaluate run, bit for bit (calibrations
    /// skip the account thresholds, which the study does not read).
    ///
    /// With `sections` ≥ 2 the whole study is also run on each of that many sections of the paths
    /// (twice the work): each section calibrates its own ladders and evaluates them on its own paths,
    /// a replica of the study, so every number and every difference between two cells gets its
    /// sectioning interval (`Sectioned`), the differences paired section by section.
    public func run(settings: RunSettings, sections: Int = 0, memoryLimit: Int = AccountGroups.defaultMemoryLimit, cancellation: Cancellation? = nil,
                    progress: RunProgress? = nil) throws -> RobustnessResult {
        let start = DispatchTime.now()
        let ranges = [0..<scenario.simulation.paths] + sectionRanges(sections)
        let replicas = ranges.count
        func evaluator(_ e: Int, range r: Int, calibrations: [CalibrationResult]) throws -> PolicyEvaluator {
            var withPolicy = schedule.evaluations[e].scenario
            switch schedule.evaluations[e].policy {
            case .given(let policy): withPolicy.policy = policy
            case .calibrated(let index, let multiplier):
                let policy = calibrations[index * replicas + r].policy
                withPolicy.policy = multiplier == 1 ? policy : policy.scaled(by: multiplier)
            }
            var evaluator = try PolicyEvaluator(scenario: withPolicy, file: file)
            evaluator.paths = ranges[r]
            return evaluator
        }
        // Unit c·replicas + r: calibration c on range r; evaluations likewise.
        let calibrators = try schedule.calibrations.map { try Calibrator(scenario: $0, file: file) }
        let units = calibrators.flatMap { calibrator in ranges.map { (calibrator, $0) } }
        let riding = schedule.riding, after = schedule.afterCalibration
        let (calibrations, ridden) = try Calibrator.run(units, accountThresholds: false,
                                                        evaluating: try riding.flatMap { e in try ranges.indices.map { try evaluator(e, range: $0, calibrations: []) } },
                                                        settings: settings, memoryLimit: memoryLimit, cancellation: cancellation, progress: progress)
        let last = try after.flatMap { e in try ranges.indices.map { try evaluator(e, range: $0, calibrations: calibrations) } }
        let evaluated = last.isEmpty ? [] : try PolicyEvaluator.run(last, settings: settings, memoryLimit: memoryLimit, cancellation: cancellation,
                                                                    progress: progress)
        func sectioned<T>(_ results: ArraySlice<T>) -> Sectioned<T> {
            Sectioned(full: results.first!, sections: Array(results.dropFirst()), paths: scenario.simulation.paths)
        }
        func replica<T>(_ list: [T], _ index: Int) -> ArraySlice<T> { list[(index * replicas)..<((index + 1) * replicas)] }
        var outcomes = [Sectioned<RobustnessResult.Outcome>?](repeating: nil, count: schedule.evaluations.count)
        for (n, e) in riding.enumerated() { outcomes[e] = sectioned(replica(ridden, n)).map(RobustnessResult.Outcome.init) }
        for (n, e) in after.enumerated() { outcomes[e] = sectioned(replica(evaluated, n)).map(RobustnessResult.Outcome.init) }
        func section(_ s: RobustnessSchedule.Section) -> [Sectioned<RobustnessResult.Outcome>] { schedule.range(s).map { outcomes[$0]! } }
        func thresholds(_ c: Int) -> Sectioned<RobustnessResult.Thresholds> { sectioned(replica(calibrations, c)).map(RobustnessResult.Thresholds.init) }

        let modelCount = schedule.models.count, matrixRow = section(.matrix)
        let matrix = (0..<modelCount).map { i in Array(matrixRow[(i * modelCount)..<((i + 1) * modelCount)]) }
        let frontier = Array(zip(spec.multipliers, section(.frontier))).map { (multiplier: $0, outcome: $1) }
        let baseThresholds = thresholds(0)
        let sensitivity = zip(zip(schedule.bumped, schedule.bumps.map(thresholds)), section(.bumps)).map { pair, outcome in
            RobustnessResult.Bumped(bump: pair.0, thresholds: pair.1, basePolicy: outcome, base: baseThresholds)
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return RobustnessResult(scenario: scenario, paths: scenario.simulation.paths, basePolicySource: scenario.policy != nil ? "policy" : "calibrated",
                                baseThresholds: baseThresholds, base: section(.base)[0], targetBreachProbability: scenario.calibration!.breachProbability,
                                models: Self.modelNames(spec), matrix: matrix, frontier: frontier, sensitivity: sensitivity,
                                centralElasticities: RobustnessResult.centralElasticities(sensitivity, base: baseThresholds), elapsedSeconds: elapsed)
    }

    /// The matrix's model names: the tail model's, and its monitoring's and cascade model's when the
    /// study has any (`· alone`, `· cascade`, `· cascade depth×0.5 pro-rata`).
    static func modelNames(_ spec: RobustnessSpec) -> [String] {
        let monitorings = spec.monitoring.isEmpty ? [""] : spec.monitoring.map { " · \($0.name)" }
        let cascades = spec.cascades.isEmpty ? [""] : spec.cascades.map { cascade in
            guard let cascade else { return " · alone" }
            var name = " · cascade"
            if cascade.depthMultiplier != 1 { name += cascade.depthMultiplier.isFinite ? " depth×" + String(format: "%g", cascade.depthMultiplier) : " depth∞" }
            if cascade.depthCurve != CascadeSpec.defaultCurve { name += " own curve" }
            if cascade.adl != .queue { name += " \(cascade.adl.rawValue)" }
            return name
        }
        return spec.models.flatMap { model in monitorings.flatMap { m in cascades.map { model.shortLabel + m + $0 } } }
    }
}
