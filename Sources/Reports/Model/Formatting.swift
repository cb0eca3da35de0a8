import Foundation
import CFormatting
import Calibration
import ScenarioSpec
import Shocks

/// 0.99 → "99%", 0.999 → "99.9%".
func percent(_ x: Double) -> String {
    var text = String(format: "%.4f", x * 100)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text + "%"
}

/// Whole dollars with thousands separators; small amounts keep two decimals.
public func money(_ x: Double) -> String {
    guard x.isFinite else { return "n/a" }
    if x == 0 { return "0" }
    if abs(x) < 100 { return printed("%.2f", x) }
    // Beyond Int's range (≈ 9.2e18) whole dollars are not meaningful digits: six significant ones.
    guard abs(x) < 0x1p62 else { return printed("%.6g", x) }
    return (x < 0 ? "-" : "") + grouped(Int(abs(x).rounded()))
}

/// 1234567 → "1,234,567".
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude).utf8
    var out: [UInt8] = []
    out.reserveCapacity(digits.count + digits.count / 3 + 1)
    if n < 0 { out.append(UInt8(ascii: "-")) }
    for (i, digit) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(UInt8(ascii: ",")) }
        out.append(digit)
    }
    return String(decoding: out, as: UTF8.self)
}

/// "penalty rate ±202 % (≈ 20.5 M paths for ±10 %)" when the estimate's half-width exceeds
/// `precision` of its value (`zero`: what stands for the relative width when the value is 0), or nil.
func tooWide(_ label: String, _ e: Estimate, precision: Double, zero: String) -> String? {
    guard let h = e.halfWidth, h > precision * abs(e.value) else { return nil }
    let relative = e.value == 0 ? zero : String(format: "±%.0f %%", 100 * h / abs(e.value))
    return "\(label) \(relative)" + (e.pathsNeeded(relativePrecision: precision).map { " (≈ \(compactCount($0)) paths for \(String(format: "±%g %%", precision * 100)))" } ?? "")
}

/// 7,412,000 → "7.4 M", 41,000 → "41,000".
func compactCount(_ n: Int) -> String {
    n >= 10_000_000_000 ? String(format: "%.3g G", Double(n) / 1e9) : n >= 1_000_000 ? String(format: "%.3g M", Double(n) / 1e6) : grouped(n)
}

/// A count and its noun, grouped and in the plural unless one: "1 account", "1,204 accounts",
/// "2 stresses" (`plural` where the noun does not take "s").
public func counted(_ n: Int, _ noun: String, plural: String? = nil) -> String {
    "\(grouped(n)) \(n == 1 ? noun : plural ?? noun + "s")"
}

/// A rate as a percentage with three significant decimals.
func rate(_ x: Double) -> String { printed("%.3f%%", x * 100) }

/// `String(format: format, x)` for a format with one double conversion, through the C library's
/// printf directly (`thresher_print_double`; Foundation's `String(format:)` hands a double's
/// conversion to the same `snprintf` after parsing the format and boxing the argument itself): the
/// same text, several times faster, which matters in reports with a row per account. Text of 64
/// bytes or more falls back to `String(format:)`.
func printed(_ format: String, _ x: Double) -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        let length = thresher_print_double(buffer.baseAddress!, 64, format, x)
        guard length >= 0, length < 64 else { return String(format: format, x) }
        return String(cString: buffer.baseAddress!)
    }
}

func tailDescription(_ tails: TailModel) -> String {
    guard case .filteredHistorical(let history) = tails else { return tails.description(historyDays: nil) }
    return tails.description(historyDays: (try? FilteredHistoricalFit.of(history))?.days)
}

/// The context lines every Monte Carlo report starts with (the first is also the progress header).
public func runContext(_ scenario: Scenario, paths: Int, threads: Int?, overrides: [String]) -> [String] {
    var first = "\(scenario.name): \(grouped(paths)) paths, seed \(scenario.simulation.seed), "
    first += "horizon \(scenario.simulation.horizonDays) d, \(tailDescription(scenario.market.tails))"
    if let cap = scenario.market.shockCap { first += ", shocks capped at ±\(cap)" }
    if let threads { first += ", \(threads) threads" }
    var lines = [first]
    if !overrides.isEmpty { lines.append("overrides: \(overrides.joined(separator: ", "))") }
    if let change = scenario.market.correlationRepairChange {
        lines.append("correlation repaired to the nearest correlation matrix (largest entry change \(String(format: "%.3g", change)))")
    }
    return lines
}
