import ArgumentParser
import Foundation
import Reports
import RunStore
import ScenarioSpec

/// `thresher explain STORE RUN_A RUN_B`: which sections of the scenario moved each metric, by
/// re-running run A's command with one section of run B's scenario at a time, on common random
/// numbers (A's seed and paths).
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Attribute the moves between two stored runs to the scenario's sections (market spots, vols, correlation, tails, rest of the market; portfolio; policy; calibration; other) by re-running with one section swapped at a time on common random numbers; the interaction remainder is reported.",
        discussion: """
        Re-runs need no files: the stored scenario text (and --policy/--market text) of each run is read \
        with its --set overrides; the run's command line is replayed with one section of B's scenario in \
        A's. Every re-run uses A's seed and paths (or --paths). For each metric: total = f(B) − f(A); \
        piece(s) = f(A with section s of B) − f(A); remainder = total − Σ pieces (the interactions). \
        Without --metric: the metrics that diff flags between the re-runs of A and B. See README, \
        "Results store".

        Example: thresher explain runs.sqlite latest~1 latest --metric rate --scope maintenance_margin
        """)

    @OptionGroup var runs: RunPairArguments

    @OptionGroup var filter: MetricFilter

    @Option(parsing: .unconditional, help: "Re-run on this many paths instead of run A's (faster; the pieces are then of the re-runs, not of the stored runs).",
            transform: { text in
                guard let paths = wholeNumber(text), paths > 0 else { throw ValidationError("--paths must be a whole number such as 200000 or 2e5, got '\(text)'") }
                return paths
            })
    var paths: Int?

    @Option(help: "Worker threads of the re-runs. Results do not depend on it.")
    var threads: Int = defaultWorkerThreads

    @OptionGroup(title: "Reports") var output: ReportOptions

    @Flag(help: "Print no table.")
    var quiet = false

    func validate() throws {
        if threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }

    func run() throws {
        try reportingErrors {
            let (opened, a, b) = try runs.load()
            guard a.identity.command == b.identity.command else {
                throw ValidationError("run \(a.id) is a '\(a.identity.command)' and run \(b.id) a '\(b.identity.command)': explain compares two runs of one command")
            }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("thresher-explain-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let planA = try Replay(a, folder: folder, tag: "a"), planB = try Replay(b, folder: folder, tag: "b")
            let common = (seed: a.identity.seed, paths: paths ?? a.identity.paths)
            var count = 0
            func rerun(_ document: ConfigNode, shocks: [String], volShocks: [String]) throws -> [MetricRow] {
                count += 1
                if !quiet { FileHandle.standardError.write(Data("explain: re-run \(count)\n".utf8)) }
                return try planA.rerun(document, shocks: shocks, volShocks: volShocks, seed: common.seed, paths: common.paths, threads: threads,
                                       folder: folder, name: "rerun-\(count)")
            }
            let baseA = try rerun(planA.document, shocks: planA.shocks, volShocks: planA.volShocks)
            let baseB = try rerun(planB.document, shocks: planB.shocks, volShocks: planB.volShocks)
            var pieces: [(section: String, rows: [MetricRow])] = []
            var unchanged: [String] = []
            for section in ScenarioSection.partition(planA.document, planB.document) {
                let hybrid = planA.document.taking(section, from: planB.document)
                let shocks = section == .spots || section == .market ? planB.shocks : planA.shocks
                let volShocks = section == .vols || section == .market ? planB.volShocks : planA.volShocks
                if hybrid == planA.document && shocks == planA.shocks && volShocks == planA.volShocks {
                    unchanged.append(section.rawValue)
                    continue
                }
                pieces.append((section.rawValue, try rerun(hybrid, shocks: shocks, volShocks: volShocks)))
            }
            let chosen = try choose(baseA: baseA, baseB: baseB)
            let attribution = Attribution(metrics: chosen, baseA: baseA, baseB: baseB, pieces: pieces,
                                          storedA: try opened.metrics(run: a.id), storedB: try opened.metrics(run: b.id))
            let document = ExplainReport(store: runs.store, a: a, b: b, seed: common.seed, paths: common.paths, attribution: attribution,
                                         unchanged: unchanged, top: output.topRows).document
            try output.files.write(document)
            if !quiet && !output.files.replacesTable { print(output.files.terminalText(document), terminator: "") }
        }
    }

    /// The metrics to explain: those named, else those diff flags between the re-runs (else the
    /// ten largest moves).
    func choose(baseA: [MetricRow], baseB: [MetricRow]) throws -> [MetricChange] {
        let comparison = RunComparison(a: baseA, b: baseB, alpha: runs.alpha)
        if let metric = filter.metric {
            let named = comparison.changes.filter { filter.matches(scope: $0.scope, key: $0.key, metric: $0.metric) && $0.a != nil && $0.b != nil }
            guard !named.isEmpty || baseA.contains(where: { $0.metric == metric }) else {
                throw StoreError.unknownMetric(store: runs.store, metric: metric, hint: " in the re-run of A")
            }
            return named
        }
        let moved = comparison.moved
        return moved.isEmpty ? Array(comparison.changes.filter { $0.a != nil && $0.b != nil && $0.delta != 0 }.prefix(10)) : moved
    }
}

/// A stored run, ready to replay: its command line parsed again, its scenario document resolved
/// from the stored text (includes read, --set applied), its instant moves.
struct Replay {
    let command: any Rerunnable
    let document: ConfigNode
    let shocks: [String]
    let volShocks: [String]
    let scenarioPath: String

    init(_ run: StoredRun, folder: String, tag: String) throws {
        let i = run.identity
        var arguments = i.arguments
        if arguments.first == "merge" || arguments.isEmpty {
            arguments = [i.command, i.scenarioPath] + (i.seed.map { ["--seed", String($0)] } ?? []) + (i.paths.map { ["--paths", String($0)] } ?? [])
        }
        guard let parsed = try? Thresher.parseAsRoot(arguments), let command = parsed as? any Rerunnable else {
            throw ValidationError("run \(run.id) is a '\(i.command)': explain re-runs run, calibrate, evaluate, robustness and stress")
        }
        self.command = command
        let whatIf = command.whatIfOptions
        shocks = whatIf.shocks
        volShocks = whatIf.volShocks
        scenarioPath = i.scenarioPath
        var sections: [IncludedSection: String] = [:]
        for (section, text) in [(IncludedSection.policy, i.policyText), (.market, i.marketText)] {
            guard let text else { continue }
            let path = "\(folder)/\(tag)-\(section.rawValue).yaml"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            sections[section] = path
        }
        document = try ConfigNode.resolved(text: i.scenarioText, file: i.scenarioPath, overrides: whatIf.edits.overrides.map { try Override($0) },
                                           sections: sections)
    }

    /// Runs this run's command on `document` (written beside the stored scenario's path when that
    /// folder can be written, so that its relative CSV books resolve; else in `folder`) with the
    /// moves, seed and paths given; returns the report's metrics.
    func rerun(_ document: ConfigNode, shocks: [String], volShocks: [String], seed: UInt64?, paths: Int?, threads: Int,
               folder: String, name: String) throws -> [MetricRow] {
        let beside = URL(fileURLWithPath: scenarioPath).deletingLastPathComponent().path
        let home = FileManager.default.isWritableFile(atPath: beside) ? beside : folder
        let file = "\(home)/.thresher-explain-\(UUID().uuidString).yaml"
        try Data(document.yaml.utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let json = "\(folder)/\(name).json"
        var command = self.command
        command.prepareRerun(file: file, json: json, seed: seed, paths: paths, threads: threads, shocks: shocks, volShocks: volShocks)
        try command.run()
        return MetricFlattener.rows(of: try ReportTree.parse(try Data(contentsOf: URL(fileURLWithPath: json))))
    }
}

/// A command `explain` can replay with another scenario file and only a JSON report.
protocol Rerunnable: ParsableCommand {
    var whatIfOptions: WhatIfOptions { get }
    /// Points the command at `file`, writes only the JSON report to `json`, quietly, storing
    /// nothing; the scenario's edits are already in `file`, the instant moves are `shocks`.
    mutating func prepareRerun(file: String, json: String, seed: UInt64?, paths: Int?, threads: Int, shocks: [String], volShocks: [String])
}

extension ReportOptions {
    mutating func onlyJSON(_ json: String) {
        files.json = json
        files.html = nil
        files.csv = nil
    }
}

extension WhatIfOptions {
    mutating func onlyMoves(shocks: [String], volShocks: [String]) {
        edits.overrides = []
        edits.policy = nil
        edits.market = nil
        self.shocks = shocks
        self.volShocks = volShocks
    }
}

extension MonteCarloOptions {
    mutating func prepareRerun(json: String, seed: UInt64?, paths: Int?, threads: Int, shocks: [String], volShocks: [String]) {
        output.onlyJSON(json)
        quiet = true
        store.store = nil
        simulation.seed = seed
        simulation.paths = paths
        simulation.threads = threads
        whatIf.onlyMoves(shocks: shocks, volShocks: volShocks)
    }
}

/// Run, calibrate, evaluate, robustness: a scenario file and the Monte Carlo options.
protocol RerunnableMonteCarloCommand: Rerunnable {
    var file: String { get set }
    var options: MonteCarloOptions { get set }
}

extension RerunnableMonteCarloCommand {
    var whatIfOptions: WhatIfOptions { options.whatIf }
    mutating func prepareRerun(file: String, json: String, seed: UInt64?, paths: Int?, threads: Int, shocks: [String], volShocks: [String]) {
        self.file = file
        options.prepareRerun(json: json, seed: seed, paths: paths, threads: threads, shocks: shocks, volShocks: volShocks)
    }
}

extension Run: RerunnableMonteCarloCommand {}
extension Evaluate: RerunnableMonteCarloCommand {}
extension Robustness: RerunnableMonteCarloCommand {}

extension Calibrate: RerunnableMonteCarloCommand {
    mutating func prepareRerun(file: String, json: String, seed: UInt64?, paths: Int?, threads: Int, shocks: [String], volShocks: [String]) {
        self.file = file
        policyOut = nil
        options.prepareRerun(json: json, seed: seed, paths: paths, threads: threads, shocks: shocks, volShocks: volShocks)
    }
}

extension Stress: Rerunnable {
    var whatIfOptions: WhatIfOptions { whatIf }
    mutating func prepareRerun(file: String, json: String, seed: UInt64?, paths: Int?, threads: Int, shocks: [String], volShocks: [String]) {
        self.file = file
        output.onlyJSON(json)
        quiet = true
        store.store = nil
        whatIf.onlyMoves(shocks: shocks, volShocks: volShocks)
    }
}
