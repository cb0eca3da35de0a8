import Foundation
import RunStore

/// `thresher explain STORE RUN_A RUN_B`: each chosen metric's move split into the pieces of the
/// scenario's sections and the interaction remainder (`Attribution`).
public struct ExplainReport: CommandReport {
    public let store: String
    public let a: StoredRun
    public let b: StoredRun
    /// The common seed and paths of every re-run.
    public let seed: UInt64?
    public let paths: Int?
    public let attribution: Attribution
    /// The sections equal in both scenarios (no re-run; their piece is 0).
    public let unchanged: [String]
    public let top: Int?

    public init(store: String, a: StoredRun, b: StoredRun, seed: UInt64?, paths: Int?, attribution: Attribution, unchanged: [String], top: Int?) {
        self.store = store
        self.a = a
        self.b = b
        self.seed = seed
        self.paths = paths
        self.attribution = attribution
        self.unchanged = unchanged
        self.top = top
    }

    /// Whether the re-run of A gave A's stored numbers (same seed and paths: it should, to the bit).
    var reproduced: Bool? {
        let known = attribution.lines.compactMap { line in line.storedA.map { $0 == line.a } }
        return known.isEmpty ? nil : known.allSatisfy { $0 }
    }

    public var json: JSONValue {
        func number(_ x: Double?) -> JSONValue { x.map(JSONValue.number) ?? .null }
        return .object([
            ("store", .string(store)), ("run_a", DiffReport.runJSON(a)), ("run_b", DiffReport.runJSON(b)),
            ("common", .object([("seed", seed.map { .string(String($0)) } ?? .null), ("paths", paths.map { .integer($0) } ?? .null)])),
            ("sections", .array(attribution.sections.map(JSONValue.string))), ("unchanged_sections", .array(unchanged.map(JSONValue.string))),
            ("reproduced_a", reproduced.map(JSONValue.bool) ?? .null),
            ("metrics", .array(attribution.lines.map { line in
                .object([("scope", .string(line.scope)), ("key", .string(line.key)), ("metric", .string(line.metric)),
                         ("a", .number(line.a)), ("b", .number(line.b)), ("total", .number(line.total)),
                         ("pieces", .object(zip(attribution.sections, line.pieces).map { ($0, number($1)) })),
                         ("remainder", .number(line.remainder)), ("stored_a", number(line.storedA)), ("stored_b", number(line.storedB))])
            })),
        ])
    }

    public var document: ReportDocument {
        let s = attribution.sections
        let columns: [ReportTable.Column] = [.init("metric", csv: "scope", priority: 3), .csvOnly("key"), .csvOnly("metric"), .init("A", csv: "a"), .init("B", csv: "b"),
                                             .init("total", csv: "total", priority: 2)]
            + s.map { .init($0, csv: $0, priority: 2) } + [.init("remainder", csv: "remainder", priority: 2)]
        let rows: [[ReportCell]] = attribution.lines.map { line in
            [ReportCell(text: line.name, csv: line.scope), .label(line.key), .label(line.metric), DiffReport.cell(line.a), DiffReport.cell(line.b),
             DiffReport.cell(line.total)] + line.pieces.map(DiffReport.cell) + [DiffReport.cell(line.remainder)]
        }
        var context = [DiffReport.runLine("A", a), DiffReport.runLine("B", b),
                       "re-runs on common random numbers: seed \(seed.map(String.init) ?? "—"), \(paths.map { counted($0, "path") } ?? "the scenario's paths")"]
        if a.identity.seed != b.identity.seed || a.identity.paths != b.identity.paths {
            context.append("B was run with seed \(b.identity.seed.map(String.init) ?? "—") and \(b.identity.paths.map { counted($0, "path") } ?? "—"): its re-run here uses A's, so the total is the move without Monte Carlo noise")
        }
        var headline = [Headline(s.isEmpty ? "The two scenarios are the same: nothing to attribute." : "Sections that differ: \(s.joined(separator: ", ")).")]
        if let reproduced = reproduced {
            headline.append(reproduced ? Headline("The re-run of A reproduces its stored numbers to the bit.", .good)
                                       : Headline("The re-run of A does not reproduce its stored numbers (other --paths, another build, or changed included files).", .warning))
        }
        let note = "total = B − A (re-runs); each section's piece = (A with that section of B) − A, on the same random numbers; remainder = total − Σ pieces: the interactions between sections. Pieces plus remainder equal the total exactly."
            + (unchanged.isEmpty ? "" : " Equal in both scenarios (no piece): \(unchanged.joined(separator: ", ")).")
        var document = ReportDocument(title: "Thresher explain — run \(a.id) → run \(b.id)", context: context + ["store: \(store)"],
                                      sections: [ReportSection(heading: "Attribution of the moves", note: note,
                                                               blocks: rows.isEmpty ? [.text(["No metric moved between the re-runs."])]
                                                                 : [.table(ReportTable(csvName: "explain.csv", columns: columns, rows: rows, displayLimit: top))])],
                                      json: json)
        document.headline = headline
        return document
    }
}
