import ArgumentParser
import Calibration
import Engine
import Foundation
import Reports

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
            let maintenance = try Calibrator.stressSchedule(for: scenario)
            return StressReport(scenario: scenario, outcomes: StressTest.evaluate(scenario, maintenance: maintenance?.schedule), overrides: echo,
                                maintenanceSource: maintenance?.source, top: output.topRows).document
        }
    }
}
