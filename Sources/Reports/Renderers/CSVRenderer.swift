/// The CSV form of a report: one RFC 4180 file per table that names one (`ReportTable.csvName`),
/// with the columns that have a CSV name and machine values (shortest round-trip numbers, empty
/// when not finite).
public enum CSVRenderer {
    public static func render(_ document: ReportDocument) -> [(name: String, contents: String)] {
        document.csvTables.map { table in
            let kept = table.columns.indices.filter { table.columns[$0].csvName != nil }
            return (table.csvName!, csv(header: kept.map { table.columns[$0].csvName! }, rows: table.rows.map { row in kept.map { row[$0].csv } }))
        }
    }
}

/// Comma-separated values with RFC 4180 quoting.
func csv(header: [String], rows: [[String]]) -> String {
    func field(_ s: String) -> String { s.contains(where: { ",\"\n".contains($0) }) ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s }
    return ([header] + rows).map { $0.map(field).joined(separator: ",") }.joined(separator: "\n") + "\n"
}

/// A number for CSV: shortest round-trip form, empty when not finite.
func csvNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "" }
