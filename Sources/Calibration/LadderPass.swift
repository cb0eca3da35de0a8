import MonteCarlo
import ScenarioSpec
import Shocks
import TailStats

/// Pass A: both tails of every asset's standardized shock.
struct ShockTails: PathAccumulator {
    /// Entry 2i holds the upper tail of −ε_i, entry 2i + 1 that of ε_i.
    var tails: [TailAccumulator]

    init(assetCount: Int, plan: TailPlan) { tails = Array(repeating: TailAccumulator(plan: plan), count: 2 * assetCount) }

    /// - Complexity: O(assets × the tails' kept sizes).
    mutating func merge(_ other: ShockTails) {
        for k in tails.indices { tails[k].merge(other.tails[k]) }
    }
}

extension ShockTails: StateCodable {
    func encode(to writer: inout StateWriter) { writer.write(each: tails) }
    mutating func decode(from reader: inout StateReader) throws { try reader.read(each: &tails, of: "shock tails") }
}

/// Pass A's pricer: the shocks themselves are the values.
struct ShockTailPricer: PathPricer {
    func makeWorkspace(capacity: Int) -> NegatedRow { NegatedRow(capacity: capacity) }

    func price(_ shocks: ShockBuffers, count: Int, workspace: NegatedRow, into accumulator: inout ShockTails) {
        for i in 0..<shocks.assetCount {
            let row = shocks.row(shocks.epsilon, asset: i)
            accumulator.tails[2 * i + 1].add(row, count: count)           // upper tail of ε
            for j in 0..<count { workspace.values[j] = -row[j] }
            accumulator.tails[2 * i].add(workspace.values, count: count)  // upper tail of −ε
        }
    }
}

/// One worker's row of negated shocks.
final class NegatedRow {
    let values: UnsafeMutablePointer<Double>
    init(capacity: Int) { values = .allocate(capacity: capacity) }
    deinit { values.deallocate() }
}

extension Calibrator {
    /// The maintenance schedule `thresher stress` flags liquidations with, and where it comes from:
    /// the scenario's `policy:`; without one, the ladder `calibrate` would set (its pass A on the
    /// scenario's paths) when there is a `calibration:` section; else none.
    public static func stressSchedule(for scenario: Scenario) throws -> (schedule: MarginSchedule, source: String)? {
        if let policy = scenario.policy { return (policy.schedule, "policy") }
        guard scenario.calibration != nil else { return nil }
        let ladder = try Calibrator(scenario: scenario).estimateLadder(settings: RunSettings())
        return (ladder.schedule, "calibrated ladder (calibrate's pass A, \(scenario.simulation.paths) paths, seed \(scenario.simulation.seed))")
    }
}
