/// `thresher explain`'s arithmetic: each metric's move between the re-runs of A and B, split into
/// one piece per scenario section swapped alone, and the interaction remainder.
///
/// total = f(B) − f(A); piece(s) = f(A with section s of B) − f(A); remainder = total − Σ pieces,
/// rounded so that the pieces summed in section order plus the remainder give the total to the last
/// bit. A section whose re-run lacks the metric (an account the swapped portfolio does not have)
/// has no piece; the remainder takes its part.
public struct Attribution: Sendable {
    public struct Line: Sendable {
        public let scope: String
        public let key: String
        public let metric: String
        /// The metric in the re-runs of A and B.
        public let a: Double
        public let b: Double
        /// The metric as stored with runs A and B (nil: not stored).
        public let storedA: Double?
        public let storedB: Double?
        /// One per section of `Attribution.sections`.
        public let pieces: [Double?]
        public let remainder: Double
        public var total: Double { b - a }
        public var name: String { key.isEmpty ? "\(scope) \(metric)" : "\(scope)[\(key)] \(metric)" }
    }

    /// The sections swapped (those that differ between the two scenarios), in order.
    public let sections: [String]
    public let lines: [Line]

    public init(metrics: [MetricChange], baseA: [MetricRow], baseB: [MetricRow], pieces: [(section: String, rows: [MetricRow])],
                storedA: [MetricRow], storedB: [MetricRow]) {
        func index(_ rows: [MetricRow]) -> [String: Double] {
            Dictionary(rows.filter { $0.kind == .estimate }.map { ("\($0.scope)\u{1}\($0.key)\u{1}\($0.metric)", $0.value) }, uniquingKeysWith: { first, _ in first })
        }
        let a = index(baseA), b = index(baseB), sa = index(storedA), sb = index(storedB)
        let hybrids = pieces.map { index($0.rows) }
        sections = pieces.map(\.section)
        lines = metrics.compactMap { change in
            let name = "\(change.scope)\u{1}\(change.key)\u{1}\(change.metric)"
            guard let va = a[name], let vb = b[name] else { return nil }
            let parts = hybrids.map { hybrid in hybrid[name].map { $0 - va } }
            return Line(scope: change.scope, key: change.key, metric: change.metric, a: va, b: vb, storedA: sa[name], storedB: sb[name],
                        pieces: parts, remainder: Self.remainder(total: vb - va, pieces: parts.compactMap { $0 }))
        }
    }

    /// total − Σ pieces, nudged by an ulp at a time until (Σ pieces in order) + remainder == total.
    static func remainder(total: Double, pieces: [Double]) -> Double {
        let sum = pieces.reduce(0, +)
        var r = total - sum
        for _ in 0..<8 where sum + r != total { r = sum + r < total ? r.nextUp : r.nextDown }
        return r
    }
}
