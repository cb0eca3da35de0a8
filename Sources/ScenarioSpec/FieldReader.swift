import Foundation

/// Reads one mapping of the document with its field path, so that every error names the field.
/// Keys outside `known` are rejected up front, before any missing-field check, so a typo such as
/// `volatility` is reported as itself (with a suggestion) rather than as a missing `vol`.
struct FieldReader {
    let file: String
    let path: String
    let line: Int?
    private let entries: [ConfigEntry]

    init(_ node: ConfigNode, file: String, path: String, known: [String]) throws {
        guard case .mapping(let entries, let line) = node else {
            throw ScenarioError(file: file, path: path, line: node.line, message: "expected a mapping of fields, got \(node.kindDescription)")
        }
        self.file = file
        self.path = path
        self.line = line
        self.entries = entries
        try rejectUnknown(allowed: known)
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func error(_ key: String, _ message: String, node: ConfigNode? = nil) -> ScenarioError {
        ScenarioError(file: file, path: childPath(key), line: node?.line ?? line, message: message)
    }

    var keys: [String] { entries.map(\.key) }

    /// The raw node of `key`, if present.
    func node(_ key: String) -> ConfigNode? {
        entries.first { $0.key == key }?.value
    }

    /// A required field, parsed by `parse(node, path)`.
    func required<T>(_ key: String, _ parse: (ConfigNode, String) throws -> T) throws -> T {
        guard let value = node(key) else { throw error(key, "missing required field '\(key)'") }
        return try parse(value, childPath(key))
    }

    /// An optional field: nil when absent.
    func optional<T>(_ key: String, _ parse: (ConfigNode, String) throws -> T) throws -> T? {
        guard let value = node(key) else { return nil }
        return try parse(value, childPath(key))
    }

    /// Rejects any field not in `allowed`, suggesting the closest allowed one. Readers whose fields
    /// depend on another field (a position's `type`) call it again with the narrower list.
    func rejectUnknown(allowed: [String]) throws {
        for entry in entries where !allowed.contains(entry.key) {
            var message = "unknown field '\(entry.key)'"
            if let guess = closest(entry.key, among: allowed) { message += " (did you mean '\(guess)'?)" }
            message += "; allowed here: \(allowed.joined(separator: ", "))"
            throw ScenarioError(file: file, path: childPath(entry.key), line: entry.line, message: message)
        }
    }
}

/// The known name nearest to `word` by edit distance, if it is plausibly a typo of it (or shares a
/// 3-letter prefix, as `volatility` does with `vol`): the "did you mean" of field names, ids and
/// the command line's subcommands.
public func closest(_ word: String, among names: [String]) -> String? {
    let lower = word.lowercased()
    let scored = names.map { ($0, editDistance(lower, $0.lowercased())) }
    if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, best.0.count / 3) { return best.0 }
    return names.first { $0.count >= 3 && lower.hasPrefix($0.lowercased().prefix(3)) }
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where j <= b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

// MARK: - Scalar parsers: (node, path) → value, each error naming the path.

struct ScalarParsers {
    let file: String

    func fail(_ node: ConfigNode, _ path: String, _ message: String) -> ScenarioError {
        ScenarioError(file: file, path: path, line: node.line, message: message)
    }

    /// Prints "warning: FILE:LINE: PATH: message" on standard error: a value that is legal but
    /// almost surely a mistake (a volatility of 15 meant as 15 %).
    func warn(_ node: ConfigNode, _ path: String, _ message: String) {
        FileHandle.standardError.write(Data("warning: \(ScenarioError(file: file, path: path, line: node.line, message: message))\n".utf8))
    }

    /// An annualised volatility in (0, 20]; above 5 (500 %) it warns that a percentage may have been
    /// written for a fraction (`vol: 15` for 15 %).
    func volatility(_ node: ConfigNode, _ path: String) throws -> Double {
        let value = try within(0, Limits.vol, openLow: true, "(annualised)")(node, path)
        if value > Limits.plausibleVol {
            warn(node, path, "\(shortNumber(value)) is \(shortNumber(value * 100)) % a year; volatilities are fractions (0.15 for 15 %); above \(shortNumber(Limits.plausibleVol)) is almost surely a mistake")
        }
        return value
    }

    func text(_ node: ConfigNode, _ path: String) throws -> String {
        guard case .scalar(let text, _, _) = node else { throw fail(node, path, "expected a value, got \(node.kindDescription)") }
        return text
    }

    /// The text of an unquoted scalar: numbers are written without quotes (a quoted "1e6" is text).
    func numeral(_ node: ConfigNode, _ path: String) throws -> String {
        let raw = try text(node, path)
        if case .scalar(_, _, true) = node {
            throw fail(node, path, "expected a number, got the quoted text \"\(raw)\": write numbers without quotes")
        }
        return raw
    }

    /// A finite real number. YAML spellings `.inf`/`.nan`, quoted text and non-numbers are rejected.
    func number(_ node: ConfigNode, _ path: String) throws -> Double {
        let raw = try numeral(node, path)
        if raw.utf8.contains(UInt8(ascii: ".")), [".nan", ".inf", "+.inf", "-.inf"].contains(raw.lowercased()) {
            throw fail(node, path, "must be a finite number, got '\(raw)'")
        }
        guard let value = Double(raw.utf8.contains(UInt8(ascii: "_")) ? raw.replacingOccurrences(of: "_", with: "") : raw) else {
            throw fail(node, path, "expected a number, got '\(raw)'")
        }
        guard value.isFinite else { throw fail(node, path, "must be a finite number, got '\(raw)'") }
        return value
    }

    /// A parser of numbers in [low, high] (or (low, high] when `openLow`): the ranges that keep the
    /// model finite (Scenarios/README.md, "Ranges"); `unit` is named in the message.
    func within(_ low: Double, _ high: Double, openLow: Bool = false, _ unit: String = "") -> (ConfigNode, String) throws -> Double {
        { node, path in
            let value = try number(node, path)
            // Formatted only for a message (this runs once per number of a large book).
            var interval: String { "\(openLow ? "(" : "[")\(shortNumber(low)), \(shortNumber(high))]\(unit.isEmpty ? "" : " " + unit)" }
            guard openLow ? value > low : value >= low else {
                throw fail(node, path, "must be \(openLow ? ">" : "≥") \(shortNumber(low)) (allowed: \(interval)), got \(value)")
            }
            guard value <= high else {
                throw fail(node, path, "must be ≤ \(shortNumber(high)) to keep the model finite (allowed: \(interval)), got \(value)")
            }
            return value
        }
    }

    func positive(_ node: ConfigNode, _ path: String) throws -> Double {
        let value = try number(node, path)
        guard value > 0 else { throw fail(node, path, "must be > 0, got \(value)") }
        return value
    }

    func nonNegative(_ node: ConfigNode, _ path: String) throws -> Double {
        let value = try number(node, path)
        guard value >= 0 else { throw fail(node, path, "must be ≥ 0, got \(value)") }
        return value
    }

    /// A probability or confidence level strictly between 0 and 1.
    func openUnitInterval(_ node: ConfigNode, _ path: String) throws -> Double {
        let value = try number(node, path)
        guard value > 0, value < 1 else { throw fail(node, path, "must be in (0, 1), got \(value)") }
        return value
    }

    /// Degrees of freedom of a standardized t: must exceed 2 so the variance exists.
    func degreesOfFreedom(_ node: ConfigNode, _ path: String) throws -> Double {
        let value = try number(node, path)
        guard value > 2 else { throw fail(node, path, "degrees of freedom must be > 2 (finite variance), got \(value)") }
        return value
    }

    func integer(_ node: ConfigNode, _ path: String) throws -> Int {
        let raw = try numeral(node, path)
        guard let value = wholeNumber(raw) else { throw fail(node, path, "expected a whole number, got '\(raw)'") }
        return value
    }

    func positiveInteger(_ node: ConfigNode, _ path: String) throws -> Int {
        let value = try integer(node, path)
        guard value > 0 else { throw fail(node, path, "must be a whole number > 0, got \(value)") }
        return value
    }

    func identifier(_ node: ConfigNode, _ path: String) throws -> String {
        let value = try text(node, path)
        guard !value.isEmpty else { throw fail(node, path, "must not be empty") }
        return value
    }

    func list(_ node: ConfigNode, _ path: String) throws -> [(ConfigNode, String)] {
        guard case .sequence(let items, _) = node else { throw fail(node, path, "expected a list, got \(node.kindDescription)") }
        return items.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    /// A list that must hold at least one `what`.
    func nonEmptyList(_ node: ConfigNode, _ path: String, of what: String) throws -> [(ConfigNode, String)] {
        let items = try list(node, path)
        guard !items.isEmpty else { throw fail(node, path, "give at least one \(what)") }
        return items
    }

    func mapping(_ node: ConfigNode, _ path: String) throws -> [ConfigEntry] {
        guard case .mapping(let entries, _) = node else { throw fail(node, path, "expected a mapping, got \(node.kindDescription)") }
        return entries
    }

    func oneOf(_ node: ConfigNode, _ path: String, _ allowed: [String]) throws -> String {
        let value = try text(node, path)
        guard allowed.contains(value) else {
            throw fail(node, path, "unknown value '\(value)'; expected one of: \(allowed.joined(separator: ", "))")
        }
        return value
    }
}

/// A whole number as a scenario writes it, and as the command line takes it (`--paths 1e6`): digits
/// (with `_` separators allowed, `1_000_000`), or a real number that is whole (`1e6`, `2.0`) below
/// 9·10¹⁵ in magnitude; nil for anything else (`1.5`, `abc`).
public func wholeNumber(_ text: String) -> Int? {
    let cleaned = text.replacingOccurrences(of: "_", with: "")
    if let value = Int(cleaned) { return value }
    if let real = Double(cleaned), real.isFinite, real == real.rounded(), abs(real) < 9e15 { return Int(real) }
    return nil
}

/// 1e+15 → "1e15", 0.5 → "0.5", −1 → "-1".
func shortNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : String(format: "%g", x).replacingOccurrences(of: "e+", with: "e")
}

/// The ranges of scenario numbers that keep every computed value finite (Scenarios/README.md).
enum Limits {
    /// Coin quantities, contracts, strikes, notionals, USD amounts.
    static let amount = 1e15
    static let spot = (low: 1e-9, high: 1e12)
    /// Annualised volatilities (σ, iv, vol-of-vol): 2,000 %.
    static let vol = 20.0
    /// Volatilities above this (500 %) warn: almost surely a percentage written for a fraction.
    static let plausibleVol = 5.0
    static let horizonDays = 3650.0
    static let rate = 1.0
    /// Relative stress and what-if moves: +100,000 %.
    static let move = 1000.0
    static let paths = 10_000_000_000
}
