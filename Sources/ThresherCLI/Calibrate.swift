import ArgumentParser
import Calibration
import Engine
import Foundation
import WorkerPool
import Reports
import ScenarioSpec

/// `thresher calibrate FILE`: margin ladder, liquidation penalty, insurance fund, account thresholds.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Set the venue's thresholds: maintenance-margin ladder, liquidation penalty rate, insurance fund, account action ladder.")

    @Argument(help: "Scenario file with a 'calibration' section.")
    var file: String

    @OptionGroup var simulation: SimulationOptions

    @OptionGroup var whatIf: WhatIfOptions

    @OptionGroup var output: ReportOptions

    @Flag(help: "Print no table.")
    var quiet = false

    func run() throws {
        try runReportingCommand(file: file, whatIf: whatIf, output: output, quiet: quiet) { loaded, echo in
            var scenario = loaded
            simulation.apply(to: &scenario)
            guard scenario.calibration != nil else {
                throw ScenarioError(file: file, path: "calibration", line: nil, message: "missing section: thresher calibrate needs a 'calibration' section (see Scenarios/README.md)")
            }
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            let result = try Calibrator(scenario: scenario).run(settings: simulation.settings, cancellation: cancellation)
            return CalibrationReport(result: result, overrides: echo).document
        }
    }
}
