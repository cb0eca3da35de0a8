/// Turns a JSON report into `MetricRow`s: every number and true/false, with its scope, key and
/// name, and its standard error and interval where the report gives them.
///
/// Rules (README, "Results store"):
/// - a top-level number is scope `run`; `inputs` and `thresher` are kinds `input` and `run`;
/// - a top-level object or list names the scope; each list of objects below adds its name, and
///   its element's key is its identity fields (`id`, `name`, `account`, `asset`, `tier`, `side`, …)
///   joined by `/`, or its index;
/// - a standard error is the sibling field `F_stderr` (or `F_se`) of a number `F`, with the same
///   sub-path, or a field `stderr` that follows its number;
/// - an interval is a pair `[lo, hi]` under `confidence_intervals`, matched to the estimate of the
///   same key whose dotted name ends with the interval's.
public enum MetricFlattener {
    /// The identity fields of a list element, in the order they are joined into its key.
    static let identityFields = ["id", "name", "account", "bump", "label", "asset", "tier", "up_to", "side", "multiplier", "model"]

    public static func rows(of report: ReportTree) -> [MetricRow] {
        var walker = Walker()
        guard case .object(let fields) = report else { return [] }
        for (name, value) in fields {
            let kind: MetricRow.Kind = name == "inputs" || name == "overrides" ? .input : name == "thresher" ? .run : .estimate
            switch value {
            case .number, .bool:
                walker.walk(value, Context(pointer: [name], scope: ["run"], key: [], metric: [name], kind: .run))
            default:
                walker.walk(value, Context(pointer: [name], scope: [name], key: [], metric: [], kind: kind))
            }
        }
        walker.attachIntervals()
        return walker.rows
    }

    struct Context {
        var pointer: [String]
        var scope: [String]
        var key: [String]
        var metric: [String]
        var kind: MetricRow.Kind

        func child(_ name: String) -> Context {
            var c = self
            c.pointer.append(name)
            c.metric.append(name)
            return c
        }

        var path: String { "/" + pointer.map { $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined(separator: "/") }
    }

    struct Walker {
        var rows: [MetricRow] = []
        /// Row index by JSON pointer.
        var byPath: [String: Int] = [:]

        mutating func walk(_ node: ReportTree, _ c: Context) {
            switch node {
            case .number(let x): add(x, c)
            case .bool(let b): add(b ? 1 : 0, c)
            case .string, .null: return
            case .object(let fields):
                let start = rows.count
                for (name, value) in fields { walk(value, c.child(name)) }
                pairStandardErrors(fields, c, rowsFrom: start)
            case .array(let items):
                let objects = !items.isEmpty && items.allSatisfy { if case .object = $0 { return true }; return false }
                let interval = c.pointer.first == "confidence_intervals" && items.count == 2 && items.allSatisfy { $0.number != nil }
                for (i, item) in items.enumerated() {
                    var e = c
                    e.pointer.append(String(i))
                    if objects {
                        e.scope += e.metric
                        e.metric = []
                        e.key.append(MetricFlattener.identity(item) ?? String(i))
                    } else {
                        if e.metric.isEmpty { e.metric = ["[\(i)]"] } else { e.metric[e.metric.count - 1] += "[\(i)]" }
                        if interval { e.kind = .interval }
                    }
                    walk(item, e)
                }
            }
        }

        mutating func add(_ value: Double, _ c: Context) {
            byPath[c.path] = rows.count
            rows.append(MetricRow(path: c.path, scope: c.scope.joined(separator: "."), key: c.key.joined(separator: "/"),
                                  metric: c.metric.joined(separator: "."), kind: c.kind, value: value))
        }

        /// Attaches `F_stderr` / `F_se` (same sub-path) and a `stderr` that follows `F` to the rows of `F`.
        mutating func pairStandardErrors(_ fields: [(String, ReportTree)], _ c: Context, rowsFrom start: Int) {
            let names = Set(fields.map(\.0))
            for (index, (name, _)) in fields.enumerated() {
                var base: String?
                for suffix in ["_stderr", "_se"] where name.hasSuffix(suffix) {
                    let stem = String(name.dropLast(suffix.count))
                    if names.contains(stem) { base = stem }
                }
                if name == "stderr", let previous = fields[..<index].last(where: { $0.1.number != nil }) { base = previous.0 }
                guard let base else { continue }
                let errorPrefix = c.child(name).path, valuePrefix = c.child(base).path
                for i in start..<rows.count where rows[i].path == errorPrefix || rows[i].path.hasPrefix(errorPrefix + "/") {
                    let rest = rows[i].path.dropFirst(errorPrefix.count)
                    guard let target = byPath[valuePrefix + rest] else { continue }
                    rows[target].stdError = rows[i].value
                    rows[i].kind = .stdError
                }
            }
        }

        /// Attaches each `[lo, hi]` under `confidence_intervals` to its estimate: same key, the scope
        /// without `confidence_intervals.`, and a dotted name that is or ends with the interval's
        /// (at top level: `insurance_fund.var`, or `liquidation_penalty_rate` for scope
        /// `liquidation_penalty`, metric `rate`). Left unattached when no single estimate matches.
        mutating func attachIntervals() {
            let lows = rows.indices.filter { rows[$0].kind == .interval && rows[$0].path.hasSuffix("/0") }
            let byKey = Dictionary(grouping: rows.indices.filter { rows[$0].kind == .estimate && !rows[$0].scope.hasPrefix("confidence_intervals") },
                                   by: { rows[$0].key })
            for low in lows {
                guard let high = byPath[String(rows[low].path.dropLast(2)) + "/1"] else { continue }
                let r = rows[low]
                let name = String(r.metric.dropLast(3))
                let scope = r.scope == "confidence_intervals" ? "" : String(r.scope.dropFirst("confidence_intervals.".count))
                let candidates = (byKey[r.key] ?? []).filter { i in
                    let e = rows[i]
                    if scope.isEmpty {
                        let full = e.scope + "." + e.metric
                        return full == name || e.scope + "_" + e.metric == name || (e.metric == name && e.scope != "run")
                    }
                    return e.scope == scope && (e.metric == name || e.metric.hasSuffix("." + name))
                }
                guard candidates.count == 1 else { continue }
                rows[candidates[0]].lo = r.value
                rows[candidates[0]].hi = rows[high].value
            }
        }
    }

    /// The key of a list element: its identity fields joined by `/` (nil: it has none).
    static func identity(_ element: ReportTree) -> String? {
        var parts: [String] = []
        for field in identityFields {
            let text: String?
            switch element[field] {
            case .string(let s)?: text = s
            case .number(let x)?: text = x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
            default: text = nil
            }
            if let text, parts.last != text { parts.append(text) }
        }
        return parts.isEmpty ? nil : parts.joined(separator: "/")
    }
}
