import CFormatting
/// The CSV form of a report: one RFC 4180 file per table that names one (`ReportTable.csvName`),
/// with the columns that have a CSV name and machine values (integers as integers, other numbers
/// in shortest round-trip form, fractions rather than percentages, empty when not finite). Headers
/// are ASCII snake_case keys (`csvKey`), so pandas and Excel read every file as data.
public enum CSVRenderer {
    public static func render(_ document: ReportDocument) -> [(name: String, contents: String)] {
        document.csvTables.map { table in
            let kept = table.columns.indices.filter { table.columns[$0].csvName != nil }
            return (table.csvName!, csv(header: kept.map { csvKey(table.columns[$0].csvName!) }, rows: table.rows.map { row in kept.map { row[$0].csv } }))
        }
    }

    /// Greek letters and signs spelled out in keys.
    static let spelled: [Character: String] = ["ν": "nu", "μ": "mu", "σ": "sigma", "ρ": "rho", "α": "alpha", "β": "beta", "ω": "omega",
                                               "×": "x", "−": "minus", "%": "pct"]

    /// `name` as an ASCII snake_case key: the letters of `spelled` spelled out; every other
    /// character but ASCII letters, digits and "." (the decimal point of a level, "var_0.99") a "_",
    /// runs of "_" merged, none at either end. "student-t ν=4.0" → "student_t_nu_4.0". The command's
    /// own keys are lower case; an asset id keeps its case ("price_BTC"), as in the id columns.
    static func csvKey(_ name: String) -> String {
        var key = ""
        for ch in name {
            let piece = spelled[ch].map { "_\($0)_" } ?? (ch.isASCII && (ch.isLetter || ch.isNumber || ch == ".") ? String(ch) : "_")
            for c in piece where !(c == "_" && (key.isEmpty || key.last == "_")) { key.append(c) }
        }
        while key.last == "_" { key.removeLast() }
        return key.isEmpty ? "column" : key
    }
}

/// Comma-separated values with RFC 4180 quoting.
func csv(header: [String], rows: [[String]]) -> String {
    func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s }
    return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
}

/// A number for CSV, empty when not finite: rounded to 12 significant digits, then an integral
/// value below 2⁵³ as an integer ("100000", not "100000.0", so a column of tiers or counts reads as
/// integers) and any other in shortest round-trip form. The rounding removes float noise — a
/// product of decimal inputs (0.1 × 3,531.12 = 353.11199999999997 → 353.112), a sum of a day's
/// position values (−10135.9999999999 → −10136), days × rate (0.9200000000000008 → 0.92) — and
/// changes no value by more than 5e-13 of itself, far below any Monte Carlo or input precision;
/// the JSON report keeps every bit.
func csvNumber(_ x: Double) -> String {
    guard x.isFinite else { return "" }
    let rounded = thresher_round_to_significant_digits(x, 12)
    if rounded == rounded.rounded(), abs(rounded) < 0x1p53 { return String(Int64(rounded)) }
    return "\(rounded)"
}
