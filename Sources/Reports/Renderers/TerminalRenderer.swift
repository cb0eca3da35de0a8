/// The terminal form of a report: context lines, then each section's heading, note, tables (fixed
/// width, numbers right-aligned) and prose; charts are left to the HTML report.
public enum TerminalRenderer {
    public static func render(_ document: ReportDocument) -> String {
        var text = document.context.joined(separator: "\n") + "\n"
        for section in document.sections {
            let blocks = section.blocks.filter { if case .chart = $0 { return false }; if case .table(let t) = $0 { return t.displayed }; return true }
            guard !blocks.isEmpty else { continue }
            text += "\n\(section.heading)\n"
            if let note = section.note { text += "\(note)\n" }
            for block in blocks {
                switch block {
                case .table(let table):
                    text += TextTable(header: table.columns.map(\.title), rows: table.rows.map { $0.map(\.text) }).rendered
                case .text(let lines):
                    text += lines.joined(separator: "\n") + "\n"
                case .chart:
                    break
                }
            }
        }
        if !document.footer.isEmpty { text += "\n" + document.footer.joined(separator: "\n") + "\n" }
        return text
    }
}

/// Columns right-aligned except the first.
struct TextTable {
    let header: [String]
    let rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "──")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}
