import Distributions
import Engine
import MonteCarlo
import WorkerPool

/// Monte Carlo confidence intervals by sectioning (Nakayama 2014, "Confidence intervals using
/// sectioning for quantiles when applying variance-reduction techniques"): the paths 0..<N are cut
/// into K sections of consecutive paths (bounds on multiples of 64), the statistic θ is computed on
/// the full sample (θ̂) and on each section (θ̂_1 … θ̂_K), and the interval is
/// θ̂ ± t_{K−1, (1+c)/2} · S/√K with S the standard deviation of the section estimates.
/// It needs no variance formula, so it covers quantile-based thresholds (the ladder, VaR/ES, the
/// penalty rate found by search) alike; its validity is asymptotic in the paths per section.
public enum Sectioning {
    /// Sections used by default (`calibrate --sections`).
    public static let defaultSections = 10
    /// Fewest paths a section may hold.
    public static let minimumSectionPaths = 1024

    /// The K section ranges of 0..<paths, or nil when a section would hold fewer than
    /// `minimumSectionPaths` paths.
    public static func ranges(paths: Int, sections k: Int) -> [Range<Int>]? {
        guard k >= 2, paths / k >= minimumSectionPaths else { return nil }
        let bounds = (0...k).map { j in j == k ? paths : (j * paths / k) / 64 * 64 }
        return (0..<k).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// θ̂ ± t_{K−1,(1+c)/2}·S/√K.
    public static func interval(full: Double, sections: [Double], confidence c: Double = 0.95) -> (low: Double, high: Double) {
        let k = Double(sections.count)
        let mean = sections.reduce(0, +) / k
        let s = (sections.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (k - 1)).squareRoot()
        let half = StudentT(dof: k - 1).quantile((1 + c) / 2) * s / k.squareRoot()
        return (full - half, full + half)
    }
}

/// A calibration with sectioning intervals on its thresholds.
public struct SectionedCalibration: Sendable {
    public let full: CalibrationResult
    public let sections: [CalibrationResult]
    public let confidence: Double

    /// The sectioning interval of one threshold, read from each result by `value`.
    public func interval(_ value: (CalibrationResult) -> Double) -> (low: Double, high: Double) {
        Sectioning.interval(full: value(full), sections: sections.map(value), confidence: confidence)
    }
}

extension Calibrator {
    /// All paths, then the `k` sections when the paths allow them (`Sectioning.ranges`).
    public func sectionedRanges(sections k: Int) -> [Range<Int>] {
        [0..<scenario.simulation.paths] + (Sectioning.ranges(paths: scenario.simulation.paths, sections: k) ?? [])
    }

    /// The calibration on all paths and on each of `sections` sections (2× the work of one run).
    /// - Returns: nil sections when the paths are too few to cut (`Sectioning.ranges`).
    public func runSectioned(sections k: Int, settings: RunSettings, confidence: Double = 0.95, memoryLimit: Int = AccountGroups.defaultMemoryLimit,
                             cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> (result: CalibrationResult, sectioned: SectionedCalibration?) {
        let results = try run(settings: settings, ranges: sectionedRanges(sections: k), memoryLimit: memoryLimit, cancellation: cancellation, progress: progress)
        guard results.count > 1 else { return (results[0], nil) }
        return (results[0], SectionedCalibration(full: results[0], sections: Array(results.dropFirst()), confidence: confidence))
    }
}
