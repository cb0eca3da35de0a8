import ArgumentParser
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
        try runReportingCommand(file: file, whatIf: whatIf, output: output, quiet: quiet) { scenario, echo in
            StressReport(scenario: scenario, outcomes: StressTest.evaluate(scenario), overrides: echo).document
        }
    }
}
