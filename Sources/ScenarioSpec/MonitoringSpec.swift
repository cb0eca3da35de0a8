import Foundation

/// `calibration.liquidation.monitoring` — when the venue's liquidation engine looks at an account's
/// margin inside the simulation horizon (README, "Monitoring"):
/// - `horizon`: once, at the horizon's end (the process of every release before it);
/// - `continuous`: at every instant (centralised venues checking against the mark price);
/// - `{every: 15m}`: at t = Δt, 2Δt, …, T (Δt in minutes `m`, hours `h` or days `d`; 0 < Δt ≤ T);
/// - `{oracle: {deviation: 0.5%, heartbeat: 1h}}`: whenever the price oracle updates — when the price
///   moved by more than the deviation (relative, ≥ 0) since the last update, or when the heartbeat
///   passed (0 < heartbeat); either trigger may be left out, not both.
public enum LiquidationMonitoring: Hashable, Sendable {
    case horizon
    case continuous
    /// Discrete checks every `hours` hours.
    case every(hours: Double)
    /// An oracle with a relative deviation trigger (nil: none) and a heartbeat in hours (nil: none).
    case oracle(deviation: Double?, heartbeatHours: Double?)

    /// The monitoring when a scenario names none.
    public static let `default` = LiquidationMonitoring.continuous

    /// For reports: `horizon`, `continuous`, `every 0.25h`, `oracle 0.5%/1h`.
    public var name: String {
        switch self {
        case .horizon: return "horizon"
        case .continuous: return "continuous"
        case .every(let hours): return "every \(String(format: "%g", hours))h"
        case .oracle(let deviation, let heartbeat):
            return "oracle " + [deviation.map { String(format: "%g%%", $0 * 100) }, heartbeat.map { String(format: "%gh", $0) }].compactMap { $0 }.joined(separator: "/")
        }
    }

    /// Whether the checks fall only at the horizon's end: `horizon`, checks every Δt ≥ T, an oracle
    /// without deviation trigger whose heartbeat is ≥ T.
    public func checksOnlyAtHorizon(horizonDays: Double) -> Bool {
        switch self {
        case .horizon: return true
        case .every(let hours): return hours >= horizonDays * 24
        case .oracle(nil, let heartbeat?): return heartbeat >= horizonDays * 24
        default: return false
        }
    }

    /// The keywords of the scalar form and the keys of the mapping form.
    static let keywords = ["horizon", "continuous"]
    static let forms = ["every", "oracle"]
}

extension LiquidationMonitoring {
    /// Parses the field at `path`; `horizonDays` bounds a step or heartbeat-free check grid.
    /// - Throws: `ScenarioError` naming the field (a step longer than the horizon, a negative
    ///   deviation, an unknown keyword, a malformed duration).
    init(node: ConfigNode, path: String, horizonDays: Double, _ p: ScalarParsers) throws {
        if case .scalar = node {
            switch try p.text(node, path) {
            case "horizon": self = .horizon
            case "continuous": self = .continuous
            case let other:
                var message = "unknown monitoring '\(other)'"
                if let guess = closest(other, among: Self.keywords + Self.forms) { message += " (did you mean '\(guess)'?)" }
                throw p.fail(node, path, message + "; expected horizon, continuous, {every: 15m} or {oracle: {deviation: 0.5%, heartbeat: 1h}}")
            }
            return
        }
        let r = try FieldReader(node, file: p.file, path: path, known: Self.forms)
        guard r.keys.count == 1 else {
            throw ScenarioError(file: p.file, path: path, line: node.line, message: "give exactly one of every or oracle")
        }
        let horizonHours = horizonDays * 24
        if let step = try r.optional("every", { try Self.duration($0, $1, p) }) {
            guard step <= horizonHours else {
                throw r.error("every", "a check every \(shortNumber(step)) h is longer than the horizon (\(shortNumber(horizonHours)) h)", node: r.node("every"))
            }
            self = .every(hours: step)
            return
        }
        let oracle = try r.required("oracle") { node, path in
            try FieldReader(node, file: p.file, path: path, known: ["deviation", "heartbeat"])
        }
        let deviation = try oracle.optional("deviation") { try Self.fraction($0, $1, p) }
        let heartbeat = try oracle.optional("heartbeat") { try Self.duration($0, $1, p) }
        guard deviation != nil || heartbeat != nil else {
            throw ScenarioError(file: p.file, path: oracle.path, line: oracle.line, message: "an oracle needs a deviation, a heartbeat or both")
        }
        self = .oracle(deviation: deviation, heartbeatHours: heartbeat)
    }

    /// A duration in hours: `15m`, `90min`, `1h`, `4h`, `2d` or a bare number of hours; > 0.
    static func duration(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> Double {
        let raw = try p.text(node, path).trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, hours: Double)] = [("min", 1.0 / 60), ("m", 1.0 / 60), ("h", 1), ("d", 24)]
        let unit = units.first { raw.hasSuffix($0.suffix) }
        let digits = unit.map { String(raw.dropLast($0.suffix.count)).trimmingCharacters(in: .whitespaces) } ?? raw
        guard let value = Double(digits), value.isFinite else {
            throw p.fail(node, path, "expected a duration such as 15m, 1h or 4h, got '\(raw)'")
        }
        let hours = value * (unit?.hours ?? 1)
        guard hours > 0 else { throw p.fail(node, path, "must be a duration > 0, got '\(raw)'") }
        return hours
    }

    /// A relative move: `0.5%` or `0.005`; ≥ 0 and < 1.
    static func fraction(_ node: ConfigNode, _ path: String, _ p: ScalarParsers) throws -> Double {
        let raw = try p.text(node, path).trimmingCharacters(in: .whitespaces)
        let percent = raw.hasSuffix("%")
        guard let number = Double(percent ? String(raw.dropLast()).trimmingCharacters(in: .whitespaces) : raw), number.isFinite else {
            throw p.fail(node, path, "expected a relative move such as 0.5% or 0.005, got '\(raw)'")
        }
        let value = percent ? number / 100 : number
        guard value >= 0 else { throw p.fail(node, path, "the deviation must be ≥ 0, got '\(raw)'") }
        guard value < 1 else { throw p.fail(node, path, "the deviation must be below 100 %, got '\(raw)'") }
        return value
    }
}
