import Foundation
import RunStore

/// `thresher history STORE --metric M`: a metric's value in each stored run that has it, with its
/// standard error and interval, as a table and (HTML) a line per scope and key with its interval as a band.
public struct HistoryReport: CommandReport {
    /// One run's value of one series.
    public struct Point: Sendable {
        public let run: RunSummary
        public let row: MetricRow
        public init(run: RunSummary, row: MetricRow) {
            self.run = run
            self.row = row
        }
    }

    public let store: String
    public let metric: String
    public let points: [Point]

    public init(store: String, metric: String, points: [Point]) {
        self.store = store
        self.metric = metric
        self.points = points
    }

    /// The band of a point: its interval, else value ± 1.96 se (nil: neither).
    static func band(_ row: MetricRow) -> (low: Double, high: Double)? {
        if let lo = row.lo, let hi = row.hi { return (lo, hi) }
        return row.stdError.map { (row.value - 1.959963984540054 * $0, row.value + 1.959963984540054 * $0) }
    }

    /// The series: one per scope and key, in order of first appearance.
    var series: [(name: String, points: [Point])] {
        var order: [String] = [], groups: [String: [Point]] = [:]
        for p in points {
            let name = p.row.key.isEmpty ? p.row.scope : "\(p.row.scope)[\(p.row.key)]"
            if groups[name] == nil { order.append(name) }
            groups[name, default: []].append(p)
        }
        return order.map { ($0, groups[$0]!) }
    }

    public var json: JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }
        return .object([("store", .string(store)), ("metric", .string(metric)), ("points", .array(points.map { p in
            .object([("run_id", .integer(Int(p.run.id))), ("command", .string(p.run.command)), ("scenario", .string(p.run.scenarioName)),
                     ("started_at", .string(BuildInfo.timestamp(p.run.startedAt))), ("seed", p.run.seed.map { .string(String($0)) } ?? .null),
                     ("scope", .string(p.row.scope)), ("key", .string(p.row.key)), ("value", .number(p.row.value)),
                     ("std_error", number(p.row.stdError)), ("lo", number(p.row.lo)), ("hi", number(p.row.hi))])
        }))])
    }

    public var document: ReportDocument {
        let rows: [[ReportCell]] = points.map { p in
            let band = Self.band(p.row)
            return [.integer(Int(p.run.id)), .label(BuildInfo.timestamp(p.run.startedAt)), .label(p.run.command), .label(p.run.scenarioName),
                    .label(p.row.key.isEmpty ? p.row.scope : "\(p.row.scope)[\(p.row.key)]"), DiffReport.cell(p.row.value), DiffReport.cell(p.row.stdError),
                    DiffReport.cell(band?.low), DiffReport.cell(band?.high)]
        }
        let table = ReportTable(csvName: "history.csv", columns: [.init("run", csv: "run_id", priority: 3), .init("started", csv: "started_at"),
                                                                 .init("command", csv: "command"), .init("scenario", csv: "scenario"),
                                                                 .init("scope[key]", csv: "scope_key", priority: 2), .init(metric, csv: "value", priority: 3),
                                                                 .init("± se", csv: "std_error", priority: 2), .init("low", csv: "lo"), .init("high", csv: "hi")],
                                rows: rows)
        let shown = series.prefix(8)
        let chart = ReportChart.trend(series: shown.map { s in
            (name: s.name, points: s.points.map { (x: Double($0.run.id), value: $0.row.value, band: Self.band($0.row)) })
        }, title: "\(metric) by run", xLabel: "run", yLabel: metric)
        let note = "Bands: the report's interval, else value ± 1.96 standard errors." + (series.count > shown.count ? " The chart draws the first \(shown.count) of \(series.count) series." : "")
        return ReportDocument(title: "Thresher history — \(metric)", context: ["store: \(store)", "\(counted(points.count, "value")) in \(counted(Set(points.map(\.run.id)).count, "run"))"],
                              sections: [ReportSection(heading: "\(metric) by run", note: note, blocks: [.chart(chart), .table(table)])], json: json)
    }
}

/// `thresher history STORE` without a metric: the stored runs, oldest first.
public struct RunListReport: CommandReport {
    public let store: String
    public let runs: [RunSummary]

    public init(store: String, runs: [RunSummary]) {
        self.store = store
        self.runs = runs
    }

    public var json: JSONValue {
        .object([("store", .string(store)), ("runs", .array(runs.map { r in
            .object([("run_id", .integer(Int(r.id))), ("command", .string(r.command)), ("scenario", .string(r.scenarioName)),
                     ("scenario_sha256", .string(r.scenarioDigest)), ("seed", r.seed.map { .string(String($0)) } ?? .null),
                     ("paths", r.paths.map { .integer($0) } ?? .null), ("started_at", .string(BuildInfo.timestamp(r.startedAt))),
                     ("finished_at", .string(BuildInfo.timestamp(r.finishedAt)))])
        }))])
    }

    public var document: ReportDocument {
        let table = ReportTable(csvName: "runs.csv", columns: [.init("run", csv: "run_id", priority: 3), .init("started", csv: "started_at", priority: 2),
                                                              .init("command", csv: "command", priority: 2), .init("scenario", csv: "scenario", priority: 2),
                                                              .init("sha256", csv: "scenario_sha256"), .init("seed", csv: "seed"), .init("paths", csv: "paths")],
                                rows: runs.map { r in
                                    [.integer(Int(r.id)), .label(BuildInfo.timestamp(r.startedAt)), .label(r.command), .label(r.scenarioName),
                                     ReportCell(text: String(r.scenarioDigest.prefix(12)), csv: r.scenarioDigest), .label(r.seed.map(String.init) ?? "—"),
                                     r.paths.map(ReportCell.integer) ?? .label("—")]
                                })
        return ReportDocument(title: "Thresher history — \(store)", context: ["\(counted(runs.count, "run")) stored"],
                              sections: [ReportSection(heading: "Runs", note: "thresher history STORE --metric M shows one metric over these runs; thresher diff STORE A B compares two.",
                                                       blocks: runs.isEmpty ? [.text(["No runs yet."])] : [.table(table)])], json: json)
    }
}
