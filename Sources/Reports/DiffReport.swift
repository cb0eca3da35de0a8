import Foundation
import RunStore

/// `thresher diff STORE RUN_A RUN_B`: every metric that moved between two stored runs, which moves
/// exceed their Monte Carlo error (`RunComparison`: Holm at a family-wise rate), the accounts that
/// appeared, vanished, started or stopped failing, and the inputs that changed.
public struct DiffReport: CommandReport {
    public let store: String
    public let a: StoredRun
    public let b: StoredRun
    public let comparison: RunComparison
    /// Rows shown in the terminal and HTML tables (nil: all).
    public let top: Int?

    public init(store: String, a: StoredRun, b: StoredRun, comparison: RunComparison, top: Int?) {
        self.store = store
        self.a = a
        self.b = b
        self.comparison = comparison
        self.top = top
    }

    /// A stored number, shown with 6 significant digits.
    static func cell(_ x: Double?) -> ReportCell { x.map { ReportCell.number($0, format: "%.6g") } ?? ReportCell(text: "—", csv: "") }

    static func runJSON(_ run: StoredRun) -> JSONValue {
        let i = run.identity
        return .object([("run_id", .integer(Int(run.id))), ("command", .string(i.command)), ("scenario", .string(i.scenarioName)),
                        ("scenario_sha256", .string(i.scenarioDigest)), ("seed", i.seed.map { .string(String($0)) } ?? .null),
                        ("paths", i.paths.map { .integer($0) } ?? .null), ("started_at", .string(BuildInfo.timestamp(i.startedAt)))])
    }

    static func runLine(_ label: String, _ run: StoredRun) -> String {
        let i = run.identity
        return "\(label): run \(run.id), \(i.command) \(i.scenarioName) (sha256 \(i.scenarioDigest.prefix(12))), seed \(i.seed.map(String.init) ?? "—"), \(i.paths.map { counted($0, "path") } ?? "no paths"), \(BuildInfo.timestamp(i.startedAt))"
    }

    static func changeJSON(_ c: MetricChange) -> JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }
        return .object([("scope", .string(c.scope)), ("key", .string(c.key)), ("metric", .string(c.metric)), ("a", number(c.a?.value)), ("b", number(c.b?.value)),
                        ("delta", number(c.delta)), ("se_a", number(c.a.flatMap(RunComparison.standardError))),
                        ("se_b", number(c.b.flatMap(RunComparison.standardError))), ("combined_se", number(c.error)), ("z", number(c.z)),
                        ("p", number(c.p)), ("status", .string(c.status.rawValue))])
    }

    public var json: JSONValue {
        let c = comparison, acc = c.accounts
        return .object([
            ("store", .string(store)), ("run_a", Self.runJSON(a)), ("run_b", Self.runJSON(b)),
            ("test", .object([("method", .string("holm")), ("family_wise_alpha", .number(c.alpha)), ("tests", .integer(c.tests)),
                              ("first_threshold_z", c.tests == 0 ? .null : .number(c.firstThreshold)),
                              ("standard_error", .string("the report's (normal p-value), else (hi - lo) / (2 * t(0.975, K - 1)) of its K-section interval (Student-t p-value, Welch degrees of freedom)"))])),
            ("moved", .integer(c.moved.count)),
            ("metrics", .array(c.changes.map(Self.changeJSON))),
            ("accounts", .object([("appeared", .array(acc.appeared.map(JSONValue.string))), ("vanished", .array(acc.vanished.map(JSONValue.string))),
                                  ("started_failing", .array(acc.startedFailing.map(JSONValue.string))),
                                  ("stopped_failing", .array(acc.stoppedFailing.map(JSONValue.string)))])),
            ("inputs", .array(c.inputs.map(Self.changeJSON))),
        ])
    }

    public var document: ReportDocument {
        let c = comparison, acc = c.accounts
        let rule = c.tests == 0
            ? "No metric has a standard error in both runs: no move could be tested against noise."
            : "A move is flagged when |Δ| exceeds its combined Monte Carlo error √(se_A² + se_B²) by Holm's step-down test over the \(c.tests) metrics with an error in both runs, at a family-wise false-alarm rate of \(percent(c.alpha)) (for all of them together; the largest move needs |z| > \(String(format: "%.2f", c.firstThreshold)))."
        var headline = [Headline(c.moved.isEmpty ? "No metric moved beyond Monte Carlo noise." : "\(counted(c.moved.count, "metric")) moved beyond Monte Carlo noise.",
                                 c.moved.isEmpty ? .good : .warning)]
        if !acc.startedFailing.isEmpty { headline.append(Headline("Started failing: \(acc.startedFailing.joined(separator: ", ")).", .bad)) }
        if !acc.stoppedFailing.isEmpty { headline.append(Headline("Stopped failing: \(acc.stoppedFailing.joined(separator: ", ")).", .good)) }
        if !acc.appeared.isEmpty || !acc.vanished.isEmpty {
            headline.append(Headline("Accounts: \(acc.appeared.count) appeared, \(acc.vanished.count) vanished."))
        }
        if !c.inputs.isEmpty { headline.append(Headline("\(counted(c.inputs.count, "input")) changed.")) }
        let columns: [ReportTable.Column] = [.init("metric", csv: "scope", priority: 3), .csvOnly("key"), .csvOnly("metric"), .init("A", csv: "a", priority: 2),
                                             .init("B", csv: "b", priority: 2), .init("Δ", csv: "delta", priority: 2), .init("± se", csv: "combined_se"),
                                             .init("z", csv: "z"), .init("status", csv: "status", priority: 2)]
        let rows: [[ReportCell]] = c.changes.map { m in
            [ReportCell(text: m.name, csv: m.scope), .label(m.key), .label(m.metric), Self.cell(m.a?.value), Self.cell(m.b?.value), Self.cell(m.delta),
             Self.cell(m.error), m.z.map { .number($0, format: "%.2f") } ?? ReportCell(text: "—", csv: ""),
             ReportCell.label(m.status.rawValue.replacingOccurrences(of: "_", with: " "))
                 .flagged(m.status == .moved ? .warning : nil)].enumerated().map { $0.offset == 0 || m.status != .withinNoise ? $0.element : $0.element.muted(true) }
        }
        var sections = [ReportSection(heading: "Metrics that differ", note: rule + " Within-noise moves are greyed; 'unscored': a number without a standard error (an input echo, a count, a true/false, a deterministic stress), reported but not tested.",
                                      blocks: rows.isEmpty ? [.text(["Every metric is equal in both runs."])]
                                        : [.table(ReportTable(csvName: "diff.csv", columns: columns, rows: rows, displayLimit: top))])]
        let accountRows = [("appeared", acc.appeared), ("vanished", acc.vanished), ("started failing", acc.startedFailing), ("stopped failing", acc.stoppedFailing)]
            .flatMap { change, ids in ids.map { [ReportCell.label($0), ReportCell.label(change)] } }
        sections.append(ReportSection(heading: "Accounts", note: "Failing: in breach of maintenance, or liquidated or bankrupt in a stress.",
                                      blocks: accountRows.isEmpty ? [.text(["The same accounts in both runs, failing the same."])]
                                        : [.table(ReportTable(csvName: "diff_accounts.csv", columns: [.init("account", csv: "account"), .init("change", csv: "change")], rows: accountRows))]))
        if !c.inputs.isEmpty {
            sections.append(ReportSection(heading: "Inputs that changed", blocks: [.table(ReportTable(
                csvName: "diff_inputs.csv", columns: [.init("input", csv: "input"), .init("A", csv: "a"), .init("B", csv: "b")],
                rows: c.inputs.map { [ReportCell.label(($0.key.isEmpty ? "" : "\($0.key) ") + $0.metric), Self.cell($0.a?.value), Self.cell($0.b?.value)] }))]))
        }
        var document = ReportDocument(title: "Thresher diff — run \(a.id) → run \(b.id)", context: [Self.runLine("A", a), Self.runLine("B", b), "store: \(store)"],
                                      sections: sections, json: json)
        document.headline = headline
        return document
    }
}
