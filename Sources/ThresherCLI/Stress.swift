import ArgumentParser
import Calibration
import Engine
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// `thresher stress FILE`: exact revaluation of the book under the scenario's deterministic stresses.
struct Stress: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Revalue the book exactly under the scenario's deterministic stresses (inline 'stress:' and 'stress_library').")

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var whatIf: WhatIfOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try runReportingCommand(file: file, whatIf: whatIf.value, output: output, quiet: quiet) { scenario, echo in
            var schedule = scenario.policy?.schedule
            var source = scenario.policy != nil ? "policy" : nil
            if schedule == nil, scenario.calibration != nil {
                // No policy: the maintenance ladder calibrate would set (its pass A, on the scenario's paths).
                schedule = try Calibrator(scenario: scenario).estimateLadder(settings: RunSettings()).schedule
                source = "calibrated ladder (calibrate's pass A, \(scenario.simulation.paths) paths, seed \(scenario.simulation.seed))"
            }
            return StressReport(scenario: scenario, outcomes: StressTest.evaluate(scenario, maintenance: schedule), overrides: echo,
                                maintenanceSource: source, top: output.topRows).document
        }
    }
}
