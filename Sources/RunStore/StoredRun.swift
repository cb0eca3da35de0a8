import Foundation

/// What a run of record is: everything needed to say what was run and to run it again (README,
/// "Results store", table `runs`).
public struct RunIdentity: Sendable, Equatable {
    /// run, stress, calibrate, evaluate, robustness, backtest, merge's command.
    public var command: String
    public var scenarioName: String
    /// The scenario file as the user named it.
    public var scenarioPath: String
    /// The scenario file's text as it was read.
    public var scenarioText: String
    /// The `--policy` and `--market` files' text, when given.
    public var policyText: String?
    public var marketText: String?
    /// The what-if flags, as the report echoes them (`--set PATH=VALUE`, `--shock ASSET=MOVE`, …).
    public var overrides: [String]
    /// The whole command line after `thresher`.
    public var arguments: [String]
    public var seed: UInt64?
    public var paths: Int?
    public var tailModel: String?
    public var monitoring: String?
    public var version: String
    public var commit: String
    public var startedAt: Date
    public var finishedAt: Date
    public var host: String

    public init(command: String, scenarioName: String, scenarioPath: String, scenarioText: String, policyText: String? = nil,
                marketText: String? = nil, overrides: [String], arguments: [String], seed: UInt64?, paths: Int?, tailModel: String?,
                monitoring: String?, version: String, commit: String, startedAt: Date, finishedAt: Date, host: String) {
        self.command = command
        self.scenarioName = scenarioName
        self.scenarioPath = scenarioPath
        self.scenarioText = scenarioText
        self.policyText = policyText
        self.marketText = marketText
        self.overrides = overrides
        self.arguments = arguments
        self.seed = seed
        self.paths = paths
        self.tailModel = tailModel
        self.monitoring = monitoring
        self.version = version
        self.commit = commit
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.host = host
    }

    /// SHA-256 of the scenario text (hex).
    public var scenarioDigest: String { SHA256.hex(Data(scenarioText.utf8)) }
}

/// A run as stored: its id, identity and the JSON report it wrote.
public struct StoredRun: Sendable {
    public var id: Int64
    public var identity: RunIdentity
    /// The JSON report, exactly as `--json` writes it.
    public var report: Data

    public init(id: Int64, identity: RunIdentity, report: Data) {
        self.id = id
        self.identity = identity
        self.report = report
    }

    /// The report's numbers as metric rows.
    public func metrics() throws -> [MetricRow] { MetricFlattener.rows(of: try ReportTree.parse(report)) }
}
