import ArgumentParser
import Engine
import Foundation
import Shocks
import WorkerPool

/// `thresher sample FILE --out shocks.npy`: the standardized shocks ε as a NumPy array.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write the standardized shocks ε (paths × assets, float64, C order) to a NumPy .npy file.")

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup var simulation: SimulationOptions

    @OptionGroup var whatIf: WhatIfOptions

    @Option(help: "Output .npy file (written to a temporary file, then renamed).")
    var out: String

    func run() throws {
        try reportingErrors {
            var scenario = try whatIf.load(file).scenario
            simulation.apply(to: &scenario)
            let model = try MarketModel(scenario: scenario)
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            try ShockFile.write(model: model, paths: scenario.simulation.paths, settings: simulation.settings,
                                to: out, cancellation: cancellation)
        }
    }
}
