import Calibration
import Engine
import Foundation
import Revaluation
import ScenarioSpec
import Synchronization

/// The scenario as loaded once (the CSV book parsed, the maintenance schedule known) and what is
/// reused by every what-if; replaced whole by a reload, so a request in flight keeps the snapshot it
/// started with.
public struct ScenarioSnapshot: Sendable {
    /// The scenario file as the operator named it (for messages, as the CLI's `FILE`).
    public let file: String
    /// The scenario without overrides or moves.
    public let scenario: Scenario
    /// `thresher stress`'s schedule of "who fails" and where it comes from (nil: none known).
    public let maintenance: (schedule: MarginSchedule, source: String)?
    /// The book compiled at horizon 0, on which every instant move is revalued (`StressTest.book`).
    public let instantBook: Book
    /// The account ids, in book order.
    public let accountIDs: [String]
    /// Counts up with every reload.
    public let generation: Int
    public let loadedAt: Date
    /// Seconds the load took.
    public let loadSeconds: Double

    /// Loads and validates `file` as `thresher stress FILE` does.
    static func load(_ file: String, generation: Int) throws -> ScenarioSnapshot {
        let start = Date()
        let (scenario, _) = try WhatIf().loadUnmoved(path: file)
        let maintenance = try Calibrator.stressSchedule(for: scenario)
        let book = StressTest.book(scenario, horizonDays: 0)
        return ScenarioSnapshot(file: file, scenario: scenario, maintenance: maintenance, instantBook: book, accountIDs: book.accountIDs, generation: generation,
                                loadedAt: Date(), loadSeconds: Date().timeIntervalSince(start))
    }

    /// Whether the scenario runs cascades (`calibration.liquidation.cascade`, with a `policy:`).
    var cascades: Bool { scenario.calibration?.cascade != nil && scenario.policy != nil }
}

/// The current snapshot, swapped atomically by `reload`.
final class ScenarioState: Sendable {
    private let current: Mutex<ScenarioSnapshot>
    /// One reload at a time.
    private let reloading = Mutex<Bool>(false)
    let paths: PathGuard

    init(file: String) throws {
        current = Mutex(try ScenarioSnapshot.load(file, generation: 1))
        paths = PathGuard(scenarioFile: file)
    }

    var snapshot: ScenarioSnapshot { current.withLock { $0 } }

    /// Reads the scenario and its CSV book again (the positions and balances of a new export).
    /// On an error the snapshot in use stays.
    /// - Throws: the load's error; `APIError` 409 while another reload runs.
    func reload() throws -> ScenarioSnapshot {
        guard reloading.withLock({ busy in defer { busy = true }; return !busy }) else {
            throw APIError(.conflict, "a reload is already under way")
        }
        defer { reloading.withLock { $0 = false } }
        let old = snapshot
        let new = try ScenarioSnapshot.load(old.file, generation: old.generation + 1)
        current.withLock { $0 = new }
        return new
    }
}
