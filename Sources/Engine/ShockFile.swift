import CommandSupport
import Foundation
import MonteCarlo
import Shocks
import TailStats
import WorkerPool

/// The NumPy `.npy` format, version 1.0, for a C-order little-endian float64 matrix
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html): the magic string,
/// a header dict padded with spaces to a multiple of 64 bytes, then the raw data.
public enum NpyFormat {
    /// The header bytes for a rows × columns `<f8` array.
    public static func header(rows: Int, columns: Int) -> Data {
        var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(rows), \(columns)), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        let padding = (64 - (prefix + dict.utf8.count + 1) % 64) % 64
        dict += String(repeating: " ", count: padding) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(dict.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}

/// `thresher sample`: the standardized shocks ε of every path as a paths × assets `.npy` file.
/// Chunks are generated in parallel and each is written, transposed to path-major rows, at its own
/// offset of the file; the file appears (renamed from a temporary) only when every chunk is written.
public enum ShockFile {
    /// - Throws: `OutputFile.Failure` (cannot write), `WorkerPoolError` (settings, cancellation).
    public static func write(model: MarketModel, paths: Int, settings: RunSettings, to path: String,
                             cancellation: Cancellation? = nil) throws {
        let output = try OutputFile(path: path)
        let header = NpyFormat.header(rows: paths, columns: model.assetCount)
        do {
            try output.write(header, at: 0)
            let writer = ShockRowWriter(output: output, dataOffset: header.count)
            let result = try MonteCarloModel(generator: StandardizedShocks(model: model), pricer: writer)
                .accumulate(paths: 0..<paths, settings: settings, makeAccumulator: { WriteOutcome() }, cancellation: cancellation)
            if let error = result.firstError { throw error }
        } catch {
            output.discard()
            throw error
        }
        try output.commit()
    }
}

/// The first write error of the workers, if any.
struct WriteOutcome: PathAccumulator {
    var firstError: (any Error)?
    mutating func merge(_ other: WriteOutcome) {
        if firstError == nil { firstError = other.firstError }
    }
    /// `sample` writes its file in one process: its outcome never travels.
    func encode(to writer: inout StateWriter) { writer.write(firstError == nil) }
    mutating func decode(from reader: inout StateReader) throws { throw StateDecodingError("sample runs in one process") }
}

/// Writes a chunk's shocks as rows of the `.npy` matrix (path-major, asset order).
struct ShockRowWriter: PathPricer {
    let output: OutputFile
    let dataOffset: Int

    func makeWorkspace(capacity: Int) -> RowBuffer { RowBuffer() }

    func price(_ shocks: ShockBuffers, count: Int, workspace: RowBuffer, into outcome: inout WriteOutcome) {
        let n = shocks.assetCount, ld = shocks.capacity
        workspace.rows.removeAll(keepingCapacity: true)
        for j in 0..<count { for i in 0..<n { workspace.rows.append(shocks.epsilon[i * ld + j]) } }
        do {
            try workspace.rows.withUnsafeBytes { try output.write($0, at: dataOffset + shocks.firstPath * n * 8) }
        } catch {
            if outcome.firstError == nil { outcome.firstError = error }
        }
    }
}

/// One worker's path-major rows of a chunk.
final class RowBuffer {
    var rows: [Double] = []
}
