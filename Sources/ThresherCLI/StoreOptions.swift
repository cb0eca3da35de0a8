import ArgumentParser
import Engine
import Foundation
import Reports
import RunStore
import RunStoreBackends
import ScenarioSpec

/// `--store PATH|URL` of every command that reports numbers (run, stress, calibrate, evaluate,
/// robustness, backtest, merge): keep the run of record in a results store (README, "Results store").
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Keep this run in a results store: an SQLite file (made if missing; WAL, several writers may share it) or a postgres:// URL. One run = one transaction: its identity, scenario text, every number of its JSON report (table metrics) and the report. See README, \"Results store\".",
                               valueName: "path|url"))
    var store: String?
}

/// What `runReportingCommand` needs to store a run: where, and what the command was.
struct RunRecording {
    var location: String
    var command: String
    /// The seed and paths when the command line set them (else the scenario's).
    var seed: UInt64?
    var paths: Int?
    /// Whether the command draws paths (stress does not: no seed, no paths).
    var simulates = true

    init?(location: String?, command: String, seed: UInt64? = nil, paths: Int? = nil, simulates: Bool = true) {
        guard let location else { return nil }
        self.location = location
        self.command = command
        self.seed = seed
        self.paths = paths
        self.simulates = simulates
    }

    /// Opens the store before the work starts, so that a bad store fails at once, not after the run.
    func open() throws -> any ResultsStore {
        StoreWriter.version = BuildInfo.version
        return try RunStores.open(location, create: true)
    }

    /// The identity of a run of `scenario` from `file` with the what-ifs `whatIf` (echoed as `echo`).
    func identity(scenario: Scenario, file: String, whatIf: WhatIf, echo: [String], startedAt: Date) -> RunIdentity {
        func text(_ path: String?) -> String? { path.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } }
        return RunIdentity(
            command: command, scenarioName: scenario.name, scenarioPath: URL(fileURLWithPath: file).standardizedFileURL.path, scenarioText: text(file) ?? "",
            policyText: text(whatIf.policyFile), marketText: text(whatIf.marketFile), overrides: echo,
            arguments: Array(CommandLine.arguments.dropFirst()),
            seed: simulates ? seed ?? scenario.simulation.seed : nil, paths: simulates ? paths ?? scenario.simulation.paths : nil,
            tailModel: scenario.market.tails.name, monitoring: scenario.calibration?.monitoring.name,
            version: BuildInfo.version, commit: BuildInfo.commit, startedAt: startedAt, finishedAt: Date(),
            host: ProcessInfo.processInfo.hostName)
    }
}
