import Distributions
import Foundation

/// How a metric differs between two runs (`RunComparison`).
public struct MetricChange: Sendable {
    public enum Status: String, Sendable {
        /// The move exceeds its combined Monte Carlo error at the family-wise rate (Holm).
        case moved
        /// A move within its Monte Carlo error.
        case withinNoise = "within_noise"
        /// A move of a number without a positive standard error or interval in both runs (an
        /// input, a count, a true/false, a deterministic stress, a tail with no events): any move is
        /// reported, none is tested.
        case unscored
        /// Only in run B / only in run A.
        case appeared, vanished
    }

    public let scope: String
    public let key: String
    public let metric: String
    public let a: MetricRow?
    public let b: MetricRow?
    /// √(se_A² + se_B²) (nil: not both known).
    public let error: Double?
    /// Δ / error.
    public let z: Double?
    /// Two-sided p-value of z under no change, 2·Φ(−|z|).
    public let p: Double?
    public var status: Status

    /// B − A.
    public var delta: Double? { a.flatMap { a in b.map { $0.value - a.value } } }

    public var name: String { key.isEmpty ? "\(scope) \(metric)" : "\(scope)[\(key)] \(metric)" }
}

/// Accounts (or accounts of a stress) whose presence or failing changed between two runs.
/// Failing: `in_breach`, `liquidated` or `bankrupt` is true in any of the account's rows.
public struct AccountChanges: Sendable, Equatable {
    public var appeared: [String] = []
    public var vanished: [String] = []
    public var startedFailing: [String] = []
    public var stoppedFailing: [String] = []
    public var isEmpty: Bool { appeared.isEmpty && vanished.isEmpty && startedFailing.isEmpty && stoppedFailing.isEmpty }
}

/// Every metric that moved between run A and run B, and which moves exceed Monte Carlo noise.
///
/// Each estimate found in both runs with a positive standard error in both (`MetricRow.stdError`, else
/// the half-width of its interval `lo…hi` over z₀.₉₇₅ = 1.96; a zero one — no tail events — is no
/// error estimate) is tested: z = Δ / √(se_A² + se_B²),
/// p = 2·Φ(−|z|). The tests are corrected together by Holm's step-down method at a family-wise
/// rate `alpha`: sorted p₍₁₎ ≤ … ≤ p₍ₘ₎, the k-th is flagged while p₍ₖ₎ ≤ alpha / (m − k + 1).
/// So two runs that differ only in their seed flag any metric with probability at most `alpha`
/// (5 % by default) — for all metrics together, not each — when the standard errors are right.
/// The first threshold, for the largest |z|, is Φ⁻¹(1 − alpha / 2m) (Bonferroni's).
public struct RunComparison: Sendable {
    public let alpha: Double
    /// m: the metrics tested.
    public let tests: Int
    /// Estimates that differ (moved, within noise, unscored, appeared, vanished), most significant first.
    public let changes: [MetricChange]
    /// Inputs (`inputs` of the report) that differ.
    public let inputs: [MetricChange]
    public let accounts: AccountChanges

    public static let defaultAlpha = 0.05
    /// z₀.₉₇₅: an interval's half-width over it is its standard error.
    static let intervalZ = 1.959963984540054

    /// Bonferroni's threshold: |z| above which the largest move is flagged.
    public var firstThreshold: Double { tests == 0 ? .infinity : StandardNormal.quantile(1 - alpha / Double(2 * tests)) }

    public var moved: [MetricChange] { changes.filter { $0.status == .moved } }

    /// The standard error of a row: its own, else from its interval.
    public static func standardError(_ row: MetricRow) -> Double? {
        if let se = row.stdError { return se }
        if let lo = row.lo, let hi = row.hi { return (hi - lo) / (2 * intervalZ) }
        return nil
    }

    public init(a: [MetricRow], b: [MetricRow], alpha: Double = RunComparison.defaultAlpha) {
        self.alpha = alpha
        func index(_ rows: [MetricRow], _ kind: MetricRow.Kind) -> [String: MetricRow] {
            Dictionary(rows.filter { $0.kind == kind }.map { ("\($0.scope)\u{1}\($0.key)\u{1}\($0.metric)", $0) }, uniquingKeysWith: { first, _ in first })
        }
        var changes: [MetricChange] = []
        var tested: [Int] = []
        let ia = index(a, .estimate), ib = index(b, .estimate)
        for name in Set(ia.keys).union(ib.keys).sorted() {
            let ra = ia[name], rb = ib[name]
            let row = ra ?? rb!
            guard let ra, let rb else {
                changes.append(MetricChange(scope: row.scope, key: row.key, metric: row.metric, a: ra, b: rb, error: nil, z: nil, p: nil,
                                            status: ra == nil ? .appeared : .vanished))
                continue
            }
            let errors = [Self.standardError(ra), Self.standardError(rb)].compactMap { $0 }
            let error = errors.count == 2 ? (errors[0] * errors[0] + errors[1] * errors[1]).squareRoot() : nil
            let delta = rb.value - ra.value
            // A zero standard error (no tail events in the sample) is no error estimate: not tested.
            if let error, errors.allSatisfy({ $0 > 0 }), error.isFinite {
                let z = delta / error
                tested.append(changes.count)
                changes.append(MetricChange(scope: row.scope, key: row.key, metric: row.metric, a: ra, b: rb, error: error, z: z,
                                            p: 2 * StandardNormal.survival(abs(z)), status: .withinNoise))
            } else if delta != 0 {
                changes.append(MetricChange(scope: row.scope, key: row.key, metric: row.metric, a: ra, b: rb, error: error, z: nil, p: nil, status: .unscored))
            }
        }
        // Holm's step-down over the tested metrics.
        let m = tested.count
        let order = tested.sorted { changes[$0].p! < changes[$1].p! }
        for (k, i) in order.enumerated() {
            guard changes[i].p! <= alpha / Double(m - k) else { break }
            changes[i].status = .moved
        }
        tests = m
        let rank: [MetricChange.Status: Int] = [.moved: 0, .appeared: 1, .vanished: 2, .unscored: 3, .withinNoise: 4]
        self.changes = changes.filter { $0.status != .withinNoise || $0.delta != 0 }.sorted { x, y in
            if rank[x.status]! != rank[y.status]! { return rank[x.status]! < rank[y.status]! }
            if let zx = x.z, let zy = y.z, abs(zx) != abs(zy) { return abs(zx) > abs(zy) }
            return x.name < y.name
        }
        let inA = index(a, .input), inB = index(b, .input)
        inputs = Set(inA.keys).union(inB.keys).sorted().compactMap { name in
            let ra = inA[name], rb = inB[name], row = ra ?? rb!
            if let ra, let rb, ra.value == rb.value { return nil }
            return MetricChange(scope: row.scope, key: row.key, metric: row.metric, a: ra, b: rb, error: nil, z: nil, p: nil,
                                status: ra == nil ? .appeared : rb == nil ? .vanished : .unscored)
        }
        accounts = Self.accountChanges(a, b)
    }

    static let failingMetrics: Set<String> = ["in_breach", "liquidated", "bankrupt"]

    /// The accounts of each run (rows of a scope `accounts` or `….accounts`, labelled by their key,
    /// with the scope in front outside `accounts`) and the failing ones.
    static func accounts(_ rows: [MetricRow]) -> (all: Set<String>, failing: Set<String>) {
        var all = Set<String>(), failing = Set<String>()
        for row in rows where row.kind == .estimate && (row.scope == "accounts" || row.scope.hasSuffix(".accounts")) {
            let label = row.scope == "accounts" ? row.key : "\(row.scope): \(row.key)"
            all.insert(label)
            if failingMetrics.contains(row.metric) && row.value == 1 { failing.insert(label) }
        }
        return (all, failing)
    }

    static func accountChanges(_ a: [MetricRow], _ b: [MetricRow]) -> AccountChanges {
        let (allA, failA) = accounts(a), (allB, failB) = accounts(b)
        return AccountChanges(appeared: allB.subtracting(allA).sorted(), vanished: allA.subtracting(allB).sorted(),
                              startedFailing: failB.subtracting(failA).intersection(allA).sorted(),
                              stoppedFailing: failA.subtracting(failB).intersection(allB).sorted())
    }
}
