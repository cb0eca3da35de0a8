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
                    let shown = table.shownRows
                    text += TextTable(header: table.shownColumns.map { table.columns[$0].title }, rows: shown.rows.map { $0.map(\.text) }).rendered
                    if let omitted = shown.omitted { text += omitted + "\n" }
                case .text(let lines):
                    text += lines.joined(separator: "\n") + "\n"
                case .chart:
                    break
                }
            }
        }
        text += "\n" + (document.footer + [BuildInfo.line(at: document.generatedAt)]).joined(separator: "\n") + "\n"
        return text
    }
}

/// Text columns (the first, and any whose cells are not numbers) left-aligned, numbers right-aligned.
struct TextTable {
    let header: [String]
    let rows: [[String]]

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        let numeric = header.indices.map { c in c > 0 && rows.contains { Self.looksNumeric($0[c]) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return numeric[c] ? pad + cell : cell + pad
            }.joined(separator: "  ")
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "──")
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// "1,234", "-0.5", "12.3%", "4.0x", "n/a": a cell of a number column.
    static func looksNumeric(_ cell: String) -> Bool {
        guard let first = cell.first else { return false }
        return first.isNumber || ((first == "-" || first == "+" || first == ".") && cell.dropFirst().first?.isNumber == true) || cell == "n/a"
    }
}
