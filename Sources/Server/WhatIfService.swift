import Calibration
import Engine
import Foundation
import Reports
import ScenarioSpec
import Synchronization

/// A what-if as asked: the CLI's `--shock`, `--shock-vol`, `--set`, `--policy`, `--market` texts
/// (files relative to the scenario's folder, checked by `PathGuard`) and whether to run the cascade.
struct WhatIfQuery: Sendable {
    var spotShocks: [String] = []
    var volShocks: [String] = []
    var overrides: [String] = []
    var policyFile: String?
    var marketFile: String?
    /// nil: run the cascade when the scenario enables it (`calibration.liquidation.cascade`).
    var cascade: Bool?

    static let fields: Set<String> = ["shock", "shock_vol", "set", "policy", "market", "cascade"]

    init(_ fields: RequestFields, paths: PathGuard) throws {
        spotShocks = try fields.strings("shock")
        volShocks = try fields.strings("shock_vol")
        overrides = try fields.strings("set")
        for (k, text) in overrides.enumerated() { try paths.checkOverride(text, field: "set[\(k)]") }
        policyFile = try fields.string("policy").map { try paths.inside($0, field: "policy") }
        marketFile = try fields.string("market").map { try paths.inside($0, field: "market") }
        cascade = try fields.bool("cascade")
    }

    /// The edits and moves as the library's value (the CLI's `WhatIfOptions.value`).
    var whatIf: WhatIf { WhatIf(overrides: overrides, spotShocks: spotShocks, volShocks: volShocks, policyFile: policyFile, marketFile: marketFile) }

    /// Whether the scenario must be read again (an override or another file's section).
    var editsScenario: Bool { !overrides.isEmpty || policyFile != nil || marketFile != nil }

    /// The query string that asks the same what-if (for the links of an answer).
    func queryString(relativeTo folder: String) -> String {
        func relative(_ path: String) -> String { path.hasPrefix(folder + "/") ? String(path.dropFirst(folder.count + 1)) : path }
        let pairs = spotShocks.map { ("shock", $0) } + volShocks.map { ("shock_vol", $0) } + overrides.map { ("set", $0) }
            + [policyFile.map { ("policy", relative($0)) }, marketFile.map { ("market", relative($0)) }, cascade.map { ("cascade", "\($0)") }].compactMap { $0 }
        return pairs.map { "\($0.0)=\(Self.escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~*")) ?? text
    }

    /// The cache's key: every text in order (the same texts give the same numbers).
    var key: String { [spotShocks, volShocks, overrides, [policyFile ?? "", marketFile ?? "", cascade.map { "\($0)" } ?? ""]].map { $0.joined(separator: "\u{1}") }.joined(separator: "\u{2}") }
}

/// The answer to one what-if: who fails under the move (the first stress of `thresher stress
/// --shock …`, computed by the same function), the insurance fund against the shortfall, and the
/// cascade the move sets off when asked.
struct WhatIfAnswer: Sendable {
    let snapshot: ScenarioSnapshot
    /// The scenario the move was applied to (the snapshot's, or re-read with the request's edits).
    let scenario: Scenario
    let echo: [String]
    let outcome: StressOutcome
    let maintenanceSource: String?
    /// `thresher stress --cascade`'s document for the move alone; nil: not run.
    let cascade: JSONValue?
    let seconds: Double
}

/// Computes what-ifs on the loaded snapshot (no reload, no re-parse of the book unless the request
/// edits the scenario) and keeps the last answers, so that paging through the accounts of one
/// answer costs a sort, not a revaluation.
final class WhatIfService: Sendable {
    let state: ScenarioState
    private let recent = Mutex<[(key: String, answer: WhatIfAnswer)]>([])
    static let cacheSize = 8

    init(state: ScenarioState) { self.state = state }

    func answer(_ query: WhatIfQuery) throws -> WhatIfAnswer {
        let snapshot = state.snapshot
        let key = "\(snapshot.generation)\u{3}" + query.key
        if let hit = recent.withLock({ $0.first { $0.key == key }?.answer }) { return hit }
        let answer = try compute(query, snapshot: snapshot)
        recent.withLock { list in
            list.removeAll { $0.key == key }
            list.insert((key, answer), at: 0)
            if list.count > Self.cacheSize { list.removeLast() }
        }
        return answer
    }

    /// The scenario (re-read with the edits when there are any), the move, the outcome, the cascade.
    func compute(_ query: WhatIfQuery, snapshot: ScenarioSnapshot) throws -> WhatIfAnswer {
        let start = Date()
        var scenario = snapshot.scenario, echo: [String] = [], maintenance = snapshot.maintenance
        if query.editsScenario {
            (scenario, echo) = try query.whatIf.loadUnmoved(path: snapshot.file)
            maintenance = try Calibrator.stressSchedule(for: scenario)
        }
        let move = try query.whatIf.instantMove(market: scenario.market) ?? Self.noMove
        let outcome = scenario.outcome(of: move, maintenance: maintenance?.schedule, book: query.editsScenario ? nil : snapshot.instantBook)
        var cascade: JSONValue?
        if query.cascade ?? (scenario.calibration?.cascade != nil && scenario.policy != nil) {
            var alone = scenario
            alone.stresses = [move]
            cascade = StressCascadeReport(scenario: alone, cascades: try StressCascade.run(alone, file: snapshot.file), overrides: echo).json
        }
        return WhatIfAnswer(snapshot: snapshot, scenario: scenario, echo: echo, outcome: outcome, maintenanceSource: maintenance?.source,
                            cascade: cascade, seconds: Date().timeIntervalSince(start))
    }

    /// The book as it is: no move (who fails now).
    static let noMove = StressScenario(name: "no move", spotMoves: [:], volMoves: [:], horizonDays: 0, origin: "what-if")

    /// The full `thresher stress FILE --shock … --json` document for the query.
    func stressReport(_ query: WhatIfQuery) throws -> Data {
        let snapshot = state.snapshot
        var scenario = snapshot.scenario, echo: [String] = [], maintenance = snapshot.maintenance
        if query.editsScenario {
            (scenario, echo) = try query.whatIf.loadUnmoved(path: snapshot.file)
            maintenance = try Calibrator.stressSchedule(for: scenario)
        }
        let report = StressReport.whatIf(scenario, move: try query.whatIf.instantMove(market: scenario.market), echo: echo,
                                         maintenance: maintenance, top: 20)
        var document = ReportDocument(title: "", context: [], json: report.json)
        document.generatedAt = Date()
        if let path = report.json.firstNonFinitePath {
            throw APIError(.unprocessableContent, "the report's '\(path)' is not a finite number: the scenario's magnitudes overflow double precision")
        }
        return JSONRenderer.render(document)
    }
}
