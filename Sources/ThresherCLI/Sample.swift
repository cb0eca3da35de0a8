import ArgumentParser
import Engine
import Foundation
import Shocks
import WorkerPool

/// `thresher sample FILE --out shocks.npy|shocks.csv`: the standardized shocks ε as a NumPy array or
/// a CSV table with the asset ids as header.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write the standardized shocks ε (paths × assets) to a NumPy .npy file (float64, C order) or a CSV file (asset ids as header).",
        discussion: """
        Example: thresher sample Scenarios/default.yaml --paths 100000 --out shocks.csv
        (python: numpy.load('shocks.npy') or pandas.read_csv('shocks.csv')).
        """)

    @Argument(help: "Scenario file.")
    var file: String

    @OptionGroup(title: "Monte Carlo") var simulation: SimulationOptions

    @OptionGroup(title: "Scenario and what-ifs") var whatIf: WhatIfOptions

    @Option(help: "Output file, .npy or .csv (written to a temporary file, then renamed).")
    var out: String

    func validate() throws {
        let ext = URL(fileURLWithPath: out).pathExtension.lowercased()
        guard ["npy", "csv"].contains(ext) else {
            throw ValidationError("--out must name a .npy or a .csv file, got '\(out)'")
        }
    }

    func run() throws {
        try reportingErrors {
            var scenario = try whatIf.load(file).scenario
            simulation.apply(to: &scenario)
            let model = try MarketModel(scenario: scenario)
            let cancellation = Cancellation()
            let interrupt = installInterruptHandler(cancellation)
            defer { interrupt.cancel() }
            let csv = URL(fileURLWithPath: out).pathExtension.lowercased() == "csv"
            try ShockFile.write(model: model, paths: scenario.simulation.paths, settings: simulation.settings, to: out,
                                format: csv ? .csv(assets: scenario.market.assets.map(\.id)) : .npy, cancellation: cancellation)
        }
    }
}
