import Calibration
import Engine
import Foundation
import ScenarioSpec

extension StressReport {
    /// The report of `thresher stress FILE --shock … --shock-vol …` on the scenario as loaded
    /// (overrides applied, not moved): the move alone on the book as it is (`Scenario.outcome(of:)`),
    /// then the scenario's stresses from the moved market. `thresher stress` and `thresher serve`
    /// both build their report here, so their JSON is the same document.
    /// - Parameter maintenance: `Calibrator.stressSchedule(for: scenario)`, computed by the caller
    ///   (the server computes it once per load).
    public static func whatIf(_ scenario: Scenario, move: StressScenario?, echo: [String],
                              maintenance: (schedule: MarginSchedule, source: String)?, top: Int?) -> StressReport {
        var outcomes: [StressOutcome] = []
        var echo = echo
        var stressed = scenario
        if let move {
            outcomes = [scenario.outcome(of: move, maintenance: maintenance?.schedule)]
            echo += stressed.applyInstantMove(move)
            for k in stressed.stresses.indices { stressed.stresses[k].name += ", after the shock" }
        }
        outcomes += StressTest.evaluate(stressed, maintenance: maintenance?.schedule)
        return StressReport(scenario: scenario, outcomes: outcomes, overrides: echo, maintenanceSource: maintenance?.source, top: top)
    }
}
