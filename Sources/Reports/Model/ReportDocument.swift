import Foundation
import TailStats

/// A command's report, independent of any output format: what was run, sections of tables,
/// charts and notes, and the machine-readable JSON document (whose field names are a contract,
/// README "JSON reports"). Each renderer (`TerminalRenderer`, `HTMLRenderer`, `CSVRenderer`,
/// `JSONRenderer`) reads only this, so a new format is one new renderer.
public struct ReportDocument {
    /// e.g. "Thresher risk report — default".
    public var title: String
    /// What the report was run on: paths, seed, horizon, tail model, overrides.
    public var context: [String]
    public var sections: [ReportSection]
    /// The answer first: the few numbers and verdicts a reader needs, above everything else.
    public var headline: [Headline] = []
    /// Closing lines (timing, the worst stress).
    public var footer: [String]
    public var json: JSONValue
    /// When the report was made (shown with the release and commit by every renderer).
    public var generatedAt = Date()

    public init(title: String, context: [String], sections: [ReportSection] = [], footer: [String] = [], json: JSONValue) {
        self.title = title
        self.context = context
        self.sections = sections
        self.footer = footer
        self.json = json
    }

    /// Every table of the report that has a CSV file name.
    public var csvTables: [ReportTable] { sections.flatMap { $0.blocks }.compactMap { if case .table(let t) = $0, t.csvName != nil { return t }; return nil } }
}

/// One line of a report's answer: a sentence and how it reads (green, amber, red, or plain).
public struct Headline {
    public enum Verdict: String {
        /// Within what was asked (a tier at its target, a model in the green zone).
        case good
        /// Worth a look: beyond noise but not a breach, or too noisy to act on.
        case warning
        /// A breach, a red zone, a fund that does not hold.
        case bad
        /// A number without a verdict.
        case neutral
    }

    public let text: String
    public let verdict: Verdict

    public init(_ text: String, _ verdict: Verdict = .neutral) {
        self.text = text
        self.verdict = verdict
    }

    /// The terminal's tag: "BREACH", "CHECK", "OK" or blank, padded to one width.
    var tag: String {
        switch verdict {
        case .good: return "OK    "
        case .warning: return "CHECK "
        case .bad: return "BREACH"
        case .neutral: return "      "
        }
    }
}

/// A titled part of a report.
public struct ReportSection {
    public var heading: String
    /// A sentence on how to read the section (definitions, units).
    public var note: String?
    public var blocks: [ReportBlock]

    public init(heading: String, note: String? = nil, blocks: [ReportBlock]) {
        self.heading = heading
        self.note = note
        self.blocks = blocks
    }
}

public enum ReportBlock {
    case table(ReportTable)
    case chart(ReportChart)
    /// Lines of prose.
    case text([String])
}

/// A table: display text for people, machine values for CSV.
public struct ReportTable {
    public struct Column {
        /// The header shown to people, e.g. "VaR 99%".
        public var title: String
        /// The CSV header, e.g. "var_0.99"; nil leaves the column out of the CSV file.
        public var csvName: String?
        /// Only in the CSV file (an interval's ends beside a cell that shows them as text).
        public var csvOnly = false
        /// How much the column matters on a narrow terminal: `TerminalRenderer` leaves out the lowest
        /// first (the rightmost of equals first) until the table fits, and says which; the first
        /// column is always kept. Default 1.
        public var priority: Int
        public init(_ title: String, csv csvName: String? = nil, priority: Int = 1) {
            self.title = title
            self.csvName = csvName
            self.priority = priority
        }

        /// A column written to the CSV file only.
        public static func csvOnly(_ csvName: String) -> Column {
            var column = Column("", csv: csvName)
            column.csvOnly = true
            return column
        }
    }

    /// The CSV file this table is written to by `--csv DIR` (nil: not written).
    public var csvName: String?
    public var columns: [Column]
    public var rows: [[ReportCell]]
    /// False for tables too long to show (CSV only).
    public var displayed: Bool
    /// The terminal and HTML show only the first `displayLimit` rows (the builder orders the rows
    /// most important first) and say how many were left out; CSV always has every row.
    public var displayLimit: Int?

    public init(csvName: String? = nil, columns: [Column], rows: [[ReportCell]], displayed: Bool = true, displayLimit: Int? = nil) {
        self.csvName = csvName
        self.columns = columns
        self.rows = rows
        self.displayed = displayed
        self.displayLimit = displayLimit
    }

    /// The columns people see (all but the CSV-only ones), by index.
    public var shownColumns: [Int] { columns.indices.filter { !columns[$0].csvOnly } }

    /// The rows people see (of the shown columns), and the line that says what was left out (nil
    /// when nothing was).
    public var shownRows: (rows: [[ReportCell]], omitted: String?) {
        let kept = shownColumns
        func visible(_ rows: ArraySlice<[ReportCell]>) -> [[ReportCell]] { rows.map { row in kept.map { row[$0] } } }
        guard let limit = displayLimit, rows.count > limit else { return (visible(rows[...]), nil) }
        let whereAll = csvName.map { "every row is in \($0) (--csv DIR), --all shows them here" } ?? "--all shows every row"
        return (visible(rows.prefix(limit)), "… top \(limit) of \(rows.count) rows shown; \(whereAll)")
    }
}

/// One cell: how it reads, and its CSV field (a number as `csvNumber` writes it — an integer, or
/// 12 significant digits in shortest form —, a key, or text).
public struct ReportCell {
    public var text: String
    public var csv: String
    /// Drawn greyed in HTML: a change within Monte Carlo noise (its interval contains 0). The
    /// terminal and CSV say so in a column of their own.
    public var muted = false
    /// Coloured in HTML like the headline's verdicts: an account in breach, a tier over its target,
    /// a traffic-light zone (nil: plain).
    public var verdict: Headline.Verdict?

    public init(text: String, csv: String) {
        self.text = text
        self.csv = csv
    }

    /// Text that is the same in both forms (ids, names).
    public static func label(_ s: String) -> ReportCell { ReportCell(text: s, csv: s) }
    /// The first cells of a row of a quantity table (fund.csv, cascade.csv): a stable snake_case
    /// `key` for programs (CSV only, column `key`) and the `label` people read (column `quantity`).
    public static func quantity(_ key: String, _ label: String) -> [ReportCell] { [ReportCell(text: "", csv: key), .label(label)] }
    /// USD amounts: whole dollars with separators; full precision in CSV.
    public static func money(_ x: Double) -> ReportCell { ReportCell(text: Reports.money(x), csv: csvNumber(x)) }
    /// A USD loss (positive = loss): a negative one reads as a gain, "gain 1,870,500"; the signed
    /// loss in CSV.
    public static func loss(_ x: Double) -> ReportCell { x < 0 ? ReportCell(text: "gain " + Reports.money(-x), csv: csvNumber(x)) : money(x) }
    /// A USD amount that may be unknown (a standard error below its minimum rank): "n/a", empty in CSV.
    public static func optionalMoney(_ x: Double?) -> ReportCell { x.map(money) ?? ReportCell(text: "n/a", csv: "") }
    /// A count: grouped digits ("100,000"); a plain integer in CSV.
    public static func integer(_ n: Int) -> ReportCell { ReportCell(text: grouped(n), csv: String(n)) }
    /// A rate shown as a percentage (three decimals); the fraction in CSV.
    public static func rate(_ x: Double) -> ReportCell { ReportCell(text: Reports.rate(x), csv: csvNumber(x)) }
    /// A number shown with `format` (printf style); full precision in CSV.
    public static func number(_ x: Double, format: String) -> ReportCell { ReportCell(text: printed(format, x), csv: csvNumber(x)) }
    /// The cell coloured by `verdict` (nil: plain).
    public func flagged(_ verdict: Headline.Verdict?) -> ReportCell {
        var cell = self
        cell.verdict = verdict
        return cell
    }

    /// The cell greyed when `noise` (`muted`).
    public func muted(_ noise: Bool) -> ReportCell {
        var cell = self
        cell.muted = noise
        return cell
    }
}

/// The most accounts a chart draws: more would not fit a page. The rest are in the table and the
/// CSV, and the chart says how many.
let chartedAccounts = 20

/// A chart, as data; `HTMLRenderer` draws it as inline SVG.
public enum ReportChart {
    public struct Marker {
        public let label: String
        public let value: Double
        /// Index of the statistic (VaR 99 %, ES 99 %, …): the same colour in every chart.
        public let series: Int
        public init(label: String, value: Double, series: Int) {
            self.label = label
            self.value = value
            self.series = series
        }
    }

    /// A loss histogram with vertical markers.
    case histogram(Histogram, markers: [Marker], title: String, xLabel: String)
    /// P(loss > x) on a log scale from the largest losses of `paths`.
    case exceedance(largest: [Double], paths: Int, markers: [Marker], title: String, xLabel: String)
    /// One bar of `intervalBars`: a value, its interval (drawn as a whisker) and whether it is within
    /// Monte Carlo noise (drawn faded).
    public struct IntervalBar {
        public let value: Double
        public let interval: (low: Double, high: Double)?
        public let withinNoise: Bool
        public init(value: Double, interval: (low: Double, high: Double)?, withinNoise: Bool) {
            self.value = value
            self.interval = interval
            self.withinNoise = withinNoise
        }
    }

    /// Grouped horizontal bars, one group per category.
    case bars(categories: [String], series: [(name: String, values: [Double])], title: String, xLabel: String)
    /// Grouped horizontal bars with interval whiskers, those within noise faded (the tornado).
    case intervalBars(categories: [String], series: [(name: String, bars: [IntervalBar])], title: String, xLabel: String)
    /// Lines of percentages against a log-scaled x.
    case percentLines(series: [(name: String, points: [(Double, Double)])], title: String, xLabel: String, yLabel: String)
    /// Lines of values by round 0, 1, 2, … (a cascade's timeline), y in percent (`percent`) or USD.
    case byRound(series: [(name: String, values: [Double])], title: String, yLabel: String, percent: Bool)
    /// A matrix of probabilities coloured against a reference value (the target); cells marked in
    /// `withinNoise` are drawn grey (their difference from the reference is not resolved).
    case heatMap(rows: [String], columns: [String], values: [[Double]], reference: Double, withinNoise: [[Bool]], title: String, caption: String)
    /// The action ladder's loss thresholds per account (warn ≤ reduce-only ≤ liquidate), drawn in the
    /// severity palette; `more`: accounts left out of the chart.
    case thresholds(accounts: [String], warn: [Double], reduceOnly: [Double], liquidate: [Double], more: Int, title: String)
    /// Breach probability of each tier against the target: a line per asset and side over the tiers'
    /// notionals, both axes log, the target dashed, the tiers marked `breaching` drawn red.
    case tierBreach(series: [(name: String, points: [(upTo: Double, probability: Double, breaching: Bool)])], target: Double, title: String)
    /// Daily series against dates (days since 1970): lines, optional dots (one per day) and marked
    /// days (drawn on the dots).
    case timeSeries(days: [Int], lines: [(name: String, values: [Double])], dots: (name: String, values: [Double])?,
                    marks: (name: String, indices: [Int])?, title: String, yLabel: String)
    /// Lines of values against x (a run id), each point with an optional interval drawn as a band
    /// around its line (`thresher history`).
    case trend(series: [(name: String, points: [(x: Double, value: Double, band: (low: Double, high: Double)?)])], title: String, xLabel: String, yLabel: String)
}

/// The four renderings of a command's report, from its `document`.
public protocol CommandReport {
    var document: ReportDocument { get }
}

extension CommandReport {
    public var json: JSONValue { document.json }
    /// The terminal form with every column, unwrapped (as `--wide`); the CLI fits it to the terminal.
    public var table: String { TerminalRenderer.render(document) }
    public var html: String { HTMLRenderer.render(document) }
    public var csvFiles: [(name: String, contents: String)] { CSVRenderer.render(document) }
}
