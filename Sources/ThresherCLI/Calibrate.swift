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

    @Option(name: .customLong("policy-out"), help: "Write the calibrated ladder, penalty rate and fund (ES) as a 'policy:' section to this YAML file, for 'stress' and later runs.")
    var policyOut: String?

    @Flag(help: "Print no table and no progress bar.")
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
            let progress = RunProgress(total: Calibrator.passes * scenario.simulation.paths)
            let bar = ProgressBar(progress: progress, quiet: quiet || output.json == "-",
                                  header: runHeader(scenario, threads: simulation.settings.threads) + ", calibration: \(Calibrator.passes) passes")
            defer { bar?.finish() }
            let result = try Calibrator(scenario: scenario).run(settings: simulation.settings, cancellation: cancellation, progress: progress)
            if let policyOut { try OutputFile.write(Data(result.policyYAML.utf8), to: policyOut) }
            return CalibrationReport(result: result, overrides: echo, top: output.topRows).document
        }
    }
}
