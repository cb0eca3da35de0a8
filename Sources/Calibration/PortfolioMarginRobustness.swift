import MonteCarlo
import ScenarioSpec
import WorkerPool

/// `robustness` of `policy.portfolio_margin` (README, "Portfolio margin"): the policy's array with
/// its spot ranges × k (`RobustnessSpec.arraySpotRange`) and with its vol shifts × k
/// (`arrayVolShift`; `PortfolioMarginSpec.bumped`), each run through `PortfolioMarginStudy` on the
/// scenario's paths and on each section of them — the same paths as the array as given (common
/// random numbers) — so that every change of an account's P(loss over its liquidation period > MM)
/// gets its paired sectioning interval.
public struct PortfolioMarginRobustness: Sendable {
    /// One bumped array: which field, its multiplier, and the study under it.
    public struct Bump: Sendable {
        /// `spot_range` or `vol_shift`.
        public let field: String
        public let multiplier: Double
        public let result: Sectioned<PortfolioMarginResult>

        /// "spot range ×0.8".
        public var label: String { field.replacingOccurrences(of: "_", with: " ") + " ×" + String(format: "%g", multiplier) }
    }

    /// The array as given, and each bump in spec order (spot ranges, then vol shifts).
    public let base: Sectioned<PortfolioMarginResult>
    public let bumps: [Bump]

    /// The bumped arrays of `scenario`'s policy, in order, with their field and multiplier.
    static func arrays(_ scenario: Scenario, spec: RobustnessSpec) -> [(field: String, multiplier: Double, array: PortfolioMarginSpec)] {
        guard let margin = scenario.policy?.portfolioMargin else { return [] }
        return spec.arraySpotRange.map { ("spot_range", $0, margin.bumped(spotRange: $0, volShift: 1)) }
            + spec.arrayVolShift.map { ("vol_shift", $0, margin.bumped(spotRange: 1, volShift: $0)) }
    }

    /// Passes over all paths: one per array (the given one and each bump), doubled by sections; 0
    /// without `policy.portfolio_margin`.
    public static func passes(_ scenario: Scenario, spec: RobustnessSpec, sections: Int) -> Int {
        guard scenario.policy?.portfolioMargin != nil else { return 0 }
        let ranges = sectionRanges(sections, paths: scenario.simulation.paths).isEmpty ? 1 : 2
        return (1 + arrays(scenario, spec: spec).count) * ranges * PortfolioMarginStudy.passes
    }

    /// The `sections` sections of the paths (none when fewer than 2 or the paths are too few).
    static func sectionRanges(_ sections: Int, paths: Int) -> [Range<Int>] { sections >= 2 ? Sectioning.ranges(paths: paths, sections: sections) ?? [] : [] }

    /// Runs the study on the array as given and on each bump, all paths and each section.
    /// - Throws: `ScenarioError` as `PortfolioMarginStudy` does (no calibration or no array).
    public init(scenario: Scenario, spec: RobustnessSpec, file: String, sections: Int, settings: RunSettings,
                cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws {
        let paths = scenario.simulation.paths
        let ranges = [0..<paths] + Self.sectionRanges(sections, paths: paths)
        func study(_ margin: PortfolioMarginSpec?) throws -> Sectioned<PortfolioMarginResult> {
            var bumped = scenario
            if let margin { bumped.policy?.portfolioMargin = margin }
            let results = try PortfolioMarginStudy(scenario: bumped, file: file).run(settings: settings, ranges: ranges, volShifts: false, cancellation: cancellation,
                                                                                        progress: progress)
            return Sectioned(full: results[0], sections: Array(results.dropFirst()), paths: paths)
        }
        base = try study(nil)
        bumps = try Self.arrays(scenario, spec: spec).map { Bump(field: $0.field, multiplier: $0.multiplier, result: try study($0.array)) }
    }
}

extension PortfolioMarginResult {
    /// The mean over accounts of P(loss over the liquidation period > MM).
    public var meanBreachProbability: Double { accounts.map(\.breachProbability).reduce(0, +) / Double(max(accounts.count, 1)) }
    /// The largest account's P(loss > MM).
    public var maxBreachProbability: Double { accounts.map(\.breachProbability).max() ?? 0 }
}
