import ArgumentParser
import Engine
import Foundation
import Reports
import ScenarioSpec
import Shocks

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
            try writeShocks(model: model, paths: scenario.simulation.paths, settings: simulation.settings,
                            to: out, cancellation: cancellation)
        }
    }
}

/// Generates the shocks chunk by chunk in parallel and writes each chunk, transposed to path-major
/// rows, at its own offset of the output file.
func writeShocks(model: MarketModel, paths: Int, settings: RunSettings, to path: String, cancellation: Cancellation? = nil) throws {
    let output = try OutputFile(path: path)
    let header = NpyFormat.header(rows: paths, columns: model.assetCount)
    try output.write(header, at: 0)
    let plan = try ChunkPlan(totalPaths: paths, chunkSize: settings.chunkSize)
    let n = model.assetCount
    let capacity = min(settings.chunkSize, paths)
    let failure = FailureBox()
    do {
        _ = try runChunks(plan: plan, threads: settings.threads, cancellation: cancellation,
            makeState: { _ in (ShockBuffers(assetCount: n, capacity: capacity), [Double](repeating: 0, count: capacity * n)) },
            process: { state, range in
                let buffers = state.0
                model.generateStandardized(firstPath: range.lowerBound, count: range.count, into: buffers)
                for j in 0..<range.count { for i in 0..<n { state.1[j * n + i] = buffers.epsilon[i * capacity + j] } }
                do {
                    try state.1.withUnsafeBytes { bytes in
                        try output.write(UnsafeRawBufferPointer(rebasing: bytes[0..<(range.count * n * 8)]),
                                         at: header.count + range.lowerBound * n * 8)
                    }
                } catch { failure.record(error) }
            })
    } catch {
        output.discard()
        throw error
    }
    if let error = failure.error { output.discard(); throw error }
    try output.commit()
}

/// The first error thrown inside a worker, kept for the caller.
final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var first: Error?
    func record(_ error: Error) { lock.lock(); if first == nil { first = error }; lock.unlock() }
    var error: Error? { lock.lock(); defer { lock.unlock() }; return first }
}
