/// One number of a stored report: a row of the store's long `metrics` table (README, "Results
/// store"). Every number and true/false of the JSON report is one row, found again by `path`.
public struct MetricRow: Sendable, Equatable {
    /// What the number is, so that queries can keep the estimates apart from the rest.
    public enum Kind: String, Sendable, CaseIterable {
        /// A result of the run (a VaR, a tier's rate, an account's liquidation probability, …).
        case estimate
        /// A standard error, also attached to its estimate as `stdError`.
        case stdError = "std_error"
        /// An end of a confidence interval, also attached to its estimate as `lo`/`hi` when its
        /// estimate is found.
        case interval
        /// An input the report echoes (under `inputs`: spots, vols, correlation, tails).
        case input
        /// A fact of the run itself: paths, seed, threads, timings (top-level numbers, `thresher`).
        case run
    }

    /// RFC 6901 JSON Pointer of the number in the stored report, e.g. `/accounts/2/var/0.99`.
    public var path: String
    /// Where the number belongs: the report's top-level section or list, e.g. `book`, `accounts`,
    /// `maintenance_margin`, `stresses.accounts`; `run` for the top-level numbers.
    public var scope: String
    /// Which element of a list: its id, name or asset, with tier, side etc. joined by `/` (e.g.
    /// `basis-desk`, `BTC/100000`, `BTC/250000/long`); "" outside lists.
    public var key: String
    /// The number's name inside its element, dotted, e.g. `var.0.99`, `thresholds.warn`, `long`.
    public var metric: String
    public var kind: Kind
    /// The number (a true/false is 1/0).
    public var value: Double
    /// Its Monte Carlo standard error, where the report gives one.
    public var stdError: Double?
    /// Its confidence interval, where the report gives one.
    public var lo: Double?
    public var hi: Double?

    public init(path: String, scope: String, key: String, metric: String, kind: Kind, value: Double,
                stdError: Double? = nil, lo: Double? = nil, hi: Double? = nil) {
        self.path = path
        self.scope = scope
        self.key = key
        self.metric = metric
        self.kind = kind
        self.value = value
        self.stdError = stdError
        self.lo = lo
        self.hi = hi
    }

    /// The identity of the metric across runs: scope, key and metric ("accounts[basis-desk] var.0.99").
    public var name: String { key.isEmpty ? "\(scope) \(metric)" : "\(scope)[\(key)] \(metric)" }
}
