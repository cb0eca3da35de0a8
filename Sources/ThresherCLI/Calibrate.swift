import ArgumentParser
import Calibration
import CommandSupport
import Foundation
import Reports
import ScenarioSpec

/// `thresher calibrate FILE`: margin ladder, liquidation penalty, insurance fund, account thresholds.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Set the venue's thresholds: maintenance-margin ladder, liquidation penalty rate, insurance fund, account action ladder.")

    @Argument(help: "Scenario file with a 'calibration' section.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    @Option(help: "Sections K of the paths for the Monte Carlo confidence intervals of every threshold (sectioning; doubles the work); 0 turns them off.")
    var sections: Int = Sectioning.defaultSections

    @Option(name: .customLong("policy-out"), help: "Write the calibrated ladder, penalty rate and fund (ES) as a 'policy:' section to this YAML file, for 'stress' and later runs.")
    var policyOut: String?

    func run() throws {
        var sectioned: Bool = false
        try runMonteCarloCommand(file: file, options: options, command: "calibrate", digestOptions: ["--sections \(sections)"],
                                 label: "calibration: \(Calibrator.passes) passes") { scenario in
            _ = try Calibrator(scenario: scenario, file: file)
            sectioned = sections >= 2 && Sectioning.ranges(paths: scenario.simulation.paths, sections: sections) != nil
            return Calibrator.passes * (sectioned ? 2 : 1)
        } compute: { scenario, echo, settings, cancellation, progress in
            let (result, intervals) = try Calibrator(scenario: scenario, file: file).runSectioned(sections: sectioned ? sections : 0, settings: settings,
                                                                                      cancellation: cancellation, progress: progress)
            if let policyOut, settings.coordinator?.ownsOutput ?? true { try OutputFile.write(Data(result.policyYAML.utf8), to: policyOut) }
            if sections >= 2 && intervals == nil {
                FileHandle.standardError.write(Data("warning: \(scenario.simulation.paths) paths are too few for \(sections) sections of ≥ \(Sectioning.minimumSectionPaths) paths: no confidence intervals\n".utf8))
            }
            return CalibrationReport(result: result, overrides: echo, top: options.output.topRows, sectioned: intervals).document
        }
    }
}
