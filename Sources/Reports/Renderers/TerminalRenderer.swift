/// The terminal form of a report: context lines, then each section's heading, note, tables (fixed
/// width, numbers right-aligned) and prose; charts are left to the HTML report.
///
/// With a `width` (the terminal's, `TerminalWidth.current`), prose is wrapped at it and each table is
/// fitted to it: columns are left out, lowest `ReportTable.Column.priority` first, then the widest
/// text column is shortened with "…", and a line under the table names what was left out. Without
/// one (`--wide`) nothing is wrapped, left out or shortened.
public enum TerminalRenderer {
    public static func render(_ document: ReportDocument, width: Int? = nil) -> String {
        func prose(_ lines: [String]) -> String { lines.flatMap { wrap($0, width: width) }.map { $0 + "\n" }.joined() }
        var text = prose(document.context)
        if !document.headline.isEmpty { text += "\n" + prose(document.headline.map { "\($0.tag) \($0.text)" }) }
        for section in document.sections {
            let blocks = section.blocks.filter { if case .chart = $0 { return false }; if case .table(let t) = $0 { return t.displayed }; return true }
            guard !blocks.isEmpty else { continue }
            text += "\n" + prose([section.heading])
            if let note = section.note { text += prose([note]) }
            for block in blocks {
                switch block {
                case .table(let table):
                    let shown = table.shownRows
                    let fitted = TextTable(header: table.shownColumns.map { table.columns[$0].title }, rows: shown.rows.map { $0.map(\.text) })
                        .fitted(to: width, priorities: table.shownColumns.map { table.columns[$0].priority })
                    text += fitted.table.rendered
                    text += prose([fitted.leftOut, shown.omitted].compactMap { $0 })
                case .text(let lines):
                    text += prose(lines)
                case .chart:
                    break
                }
            }
        }
        text += "\n" + prose(document.footer + [BuildInfo.line(at: document.generatedAt)])
        return text
    }

    /// `line` broken at its newlines and at spaces into lines of at most `width` characters (a word
    /// longer than that stands alone); continuation lines are indented by two spaces. Nil width:
    /// the line as it is.
    static func wrap(_ line: String, width: Int?) -> [String] {
        guard let width, line.count > width else { return [line] }
        if line.contains("\n") { return line.split(separator: "\n", omittingEmptySubsequences: false).flatMap { wrap(String($0), width: width) } }
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            let indent = lines.isEmpty ? "" : "  "
            if current.isEmpty {
                current = indent + word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = "  " + word
            }
        }
        lines.append(current)
        return lines
    }
}

/// Text columns (the first, and any whose cells are not numbers) left-aligned, numbers right-aligned.
struct TextTable {
    let header: [String]
    let rows: [[String]]

    /// Characters between two columns.
    static let gap = 2

    /// The width of each column: its widest cell or header.
    var widths: [Int] { header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 } }

    /// The width of the rendered lines.
    var width: Int { widths.reduce(0, +) + Self.gap * max(header.count - 1, 0) }

    var rendered: String {
        let widths = widths
        let numeric = header.indices.map { c in c > 0 && rows.contains { Self.looksNumeric($0[c]) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return numeric[c] ? pad + cell : cell + pad
            }.joined(separator: String(repeating: " ", count: Self.gap))
        }
        let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: String(repeating: "─", count: Self.gap))
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// This table within `width` characters: columns left out by `priorities` (lowest first, the
    /// rightmost of equals first; never the first column), then the widest text column shortened
    /// with "…" (never below 8 characters), with the line that says what was left out (nil when
    /// nothing was). Nil width: the table as it is.
    /// - Complexity: O(columns² · rows).
    func fitted(to width: Int?, priorities: [Int]) -> (table: TextTable, leftOut: String?) {
        guard let width, self.width > width else { return (self, nil) }
        var kept = Array(header.indices)
        var table = self
        let order = header.indices.dropFirst().sorted { priorities[$0] != priorities[$1] ? priorities[$0] < priorities[$1] : $0 > $1 }
        var dropped: [Int] = []
        for c in order where table.width > width && kept.count > 2 {
            kept.removeAll { $0 == c }
            dropped.append(c)
            table = TextTable(header: kept.map { header[$0] }, rows: rows.map { row in kept.map { row[$0] } })
        }
        var shortened = false
        while table.width > width {
            let widths = table.widths
            let text = table.header.indices.filter { c in !table.rows.contains { Self.looksNumeric($0[c]) } && widths[c] > 8 }
            guard let widest = text.max(by: { widths[$0] < widths[$1] }) else { break }
            let limit = max(8, widths[widest] - (table.width - width))
            func cut(_ s: String) -> String { s.count > limit ? String(s.prefix(limit - 1)) + "…" : s }
            table = TextTable(header: table.header.enumerated().map { $0.offset == widest ? cut($0.element) : $0.element },
                              rows: table.rows.map { $0.enumerated().map { $0.offset == widest ? cut($0.element) : $0.element } })
            shortened = true
        }
        var notes: [String] = []
        if !dropped.isEmpty {
            // A title that several columns share ("± se") is named with the column before it.
            let names = dropped.sorted().map { c in
                header.filter { $0 == header[c] }.count > 1 ? "\(header[c]) of \(header[c - 1])" : header[c]
            }
            notes.append("left out to fit \(width) columns: \(names.joined(separator: ", "))")
        }
        if shortened { notes.append("long text shortened with …") }
        guard !notes.isEmpty else { return (table, nil) }
        return (table, notes.joined(separator: "; ") + " (--wide shows everything; the CSV and HTML reports have it)")
    }

    /// "1,234", "-0.5", "12.3%", "4.0x", "n/a": a cell of a number column.
    static func looksNumeric(_ cell: String) -> Bool {
        guard let first = cell.first else { return false }
        return first.isNumber || ((first == "-" || first == "+" || first == ".") && cell.dropFirst().first?.isNumber == true) || cell == "n/a"
    }
}
