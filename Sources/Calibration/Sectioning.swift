import Foundation
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

/// A Monte Carlo estimate with its sectioning interval: a threshold, or a change between two cells
/// of the same paths (common random numbers).
public struct Estimate: Sendable {
    public let value: Double
    /// The `confidence` interval; nil when the paths were too few to cut into sections.
    public let interval: (low: Double, high: Double)?
    /// Paths the estimate drew (all sections together).
    public let paths: Int

    /// Half the interval's width; nil without one.
    public var halfWidth: Double? { interval.map { ($0.high - $0.low) / 2 } }

    /// For a change: its interval contains 0, so the sign is not resolved at these paths. False
    /// without an interval (nothing is known either way) and for a change that is 0 on every
    /// section (`isExactlyZero`: the input does not reach this number).
    public var withinNoise: Bool { !isExactlyZero && (interval.map { $0.low <= 0 && 0 <= $0.high } ?? false) }

    /// The estimate of a quantity that cannot be negative (a rate, a probability, a fund): its
    /// interval cut at 0 (the symmetric sectioning interval can reach below; cutting it keeps its
    /// coverage).
    public var nonNegative: Estimate {
        Estimate(value: value, interval: interval.map { (max(0, $0.low), max(0, $0.high)) }, paths: paths)
    }

    /// 0 with a zero-width interval: a change that is 0 on all paths and on every section.
    public var isExactlyZero: Bool { value == 0 && interval.map { $0.low == 0 && $0.high == 0 } == true }

    /// Paths for a half-width of `precision` × |value| (or of `absolute`, when given): the measured
    /// half-width h at N paths shrinks as 1/√N, so N·(h/target)². Nil without an interval or
    /// with a zero target.
    public func pathsNeeded(relativePrecision precision: Double, absolute: Double? = nil) -> Int? {
        guard let h = halfWidth else { return nil }
        let target = absolute ?? precision * abs(value)
        guard target > 0, target.isFinite else { return nil }
        let needed = Double(paths) * (h / target) * (h / target)
        return needed < 1e15 ? Int(needed.rounded(.up)) : nil
    }

    /// The value to the decimal place its interval supports: the second significant digit of the
    /// half-width (rounding moves the value by at most 5 % of the half-width). Unchanged without
    /// an interval or with a zero half-width.
    public var roundedToInterval: Double { roundedToInterval(value) }

    /// Any number (an end of the interval) rounded to the decimal place of `roundedToInterval`.
    public func roundedToInterval(_ x: Double) -> Double {
        guard let h = halfWidth, h > 0, h.isFinite, x.isFinite else { return x }
        let exponent = Int((log10(h)).rounded(.down)) - 1
        // Through the decimal string, so the written value is the short one (0.0039, not 0.0039000000000000003).
        let places = max(0, -exponent)
        let step = pow(10, Double(exponent))
        return Double(String(format: "%.\(places)f", (x / step).rounded() * step)) ?? x
    }
}

/// One quantity computed on all paths and on each section of them: the sectioning estimator of
/// `Sectioning`. Arithmetic on these values acts on the full estimate and on every section alike,
/// so the difference of two cells is the paired (common-random-number) difference, section by
/// section.
public struct SectionedValue: Sendable {
    public let full: Double
    /// Empty when the paths were too few for sections.
    public let sections: [Double]
    public let paths: Int
    public let confidence: Double

    public init(full: Double, sections: [Double], paths: Int, confidence: Double) {
        self.full = full
        self.sections = sections
        self.paths = paths
        self.confidence = confidence
    }

    public var estimate: Estimate {
        Estimate(value: full, interval: sections.count >= 2 ? Sectioning.interval(full: full, sections: sections, confidence: confidence) : nil,
                 paths: paths)
    }

    /// The paired difference a − b, section by section.
    public static func - (a: SectionedValue, b: SectionedValue) -> SectionedValue {
        SectionedValue(full: a.full - b.full, sections: zip(a.sections, b.sections).map { $0 - $1 }, paths: a.paths, confidence: a.confidence)
    }

    /// a·k.
    public func scaled(by k: Double) -> SectionedValue {
        SectionedValue(full: full * k, sections: sections.map { $0 * k }, paths: paths, confidence: confidence)
    }

}

/// A result (a calibration, a policy evaluation, a robustness cell) on all paths and on each
/// section of them. Reading a member reads the full-sample result; `value` gives a number's
/// sections too.
@dynamicMemberLookup
public struct Sectioned<Result: Sendable>: Sendable {
    public let full: Result
    /// Empty when the paths were too few for sections.
    public let sections: [Result]
    public let paths: Int
    public let confidence: Double

    public init(full: Result, sections: [Result], paths: Int, confidence: Double = 0.95) {
        self.full = full
        self.sections = sections
        self.paths = paths
        self.confidence = confidence
    }

    public subscript<T>(dynamicMember member: KeyPath<Result, T>) -> T { full[keyPath: member] }

    /// The same sections of another result derived from each.
    public func map<T>(_ transform: (Result) -> T) -> Sectioned<T> {
        Sectioned<T>(full: transform(full), sections: sections.map(transform), paths: paths, confidence: confidence)
    }

    /// One number of the result, on all paths and per section.
    public func value(_ read: (Result) -> Double) -> SectionedValue {
        SectionedValue(full: read(full), sections: sections.map(read), paths: paths, confidence: confidence)
    }

    /// The sectioning interval of one number of the result.
    public func estimate(_ read: (Result) -> Double) -> Estimate { value(read).estimate }

    /// The sectioning interval of a number that cannot be negative, cut at 0 (`Estimate.nonNegative`).
    public func level(_ read: (Result) -> Double) -> Estimate { value(read).estimate.nonNegative }

    /// The paired change read(self) − read(base) with its interval.
    public func change(from base: Sectioned<Result>, _ read: (Result) -> Double) -> Estimate { (value(read) - base.value(read)).estimate }

    /// The relative change θ'/θ − 1 of a number θ → θ' with the paired difference's interval in units
    /// of θ̂ (the base's full-sample value, whose own interval is reported beside it), so that it
    /// excludes 0 exactly when the paired difference does; nil when θ̂ = 0.
    public func relativeChange(from base: Sectioned<Result>, _ read: (Result) -> Double) -> Estimate? {
        relative(from: base, read)?.estimate
    }

    /// The arc elasticity (θ'/θ − 1)/r of a number θ → θ' under an input's relative change r, its
    /// interval that of `relativeChange` over r; nil when θ̂ = 0 or r is nil or 0.
    public func elasticity(from base: Sectioned<Result>, relativeChange r: Double?, _ read: (Result) -> Double) -> Estimate? {
        guard let r, r != 0 else { return nil }
        return relative(from: base, read)?.scaled(by: 1 / r).estimate
    }

    /// (θ' − θ)/θ̂ on all paths and per section; nil when θ̂ is 0 or not finite.
    private func relative(from base: Sectioned<Result>, _ read: (Result) -> Double) -> SectionedValue? {
        let b = read(base.full)
        guard b != 0, b.isFinite else { return nil }
        return (value(read) - base.value(read)).scaled(by: 1 / b)
    }
}

/// A calibration with sectioning intervals on its thresholds.
public typealias SectionedCalibration = Sectioned<CalibrationResult>

extension Sectioned where Result == CalibrationResult {
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
        return (results[0], SectionedCalibration(full: results[0], sections: Array(results.dropFirst()), paths: scenario.simulation.paths, confidence: confidence))
    }
}
