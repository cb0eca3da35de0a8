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

/// A CSV file of fixed-width rows, so that chunks written in parallel land at computable offsets:
/// a header line of the asset ids, then one line per path of `+d.dddddddddddddddde±XX` numbers
/// (17 significant digits: each double is read back exactly), comma-separated.
public enum ShockCSVFormat {
    /// Characters of one number.
    static let width = 23

    /// The header line: the asset ids, comma-separated.
    public static func header(assets: [String]) -> Data { Data((assets.joined(separator: ",") + "\n").utf8) }

    /// Bytes of one row of `columns` numbers, the newline included.
    public static func rowBytes(columns: Int) -> Int { columns * (width + 1) }

    /// Appends `x` in its fixed width; magnitudes below 1e-99 (a three-digit exponent; about 1e-99
    /// probability for a standardized shock) are written as 0.
    static func append(_ x: Double, to bytes: inout [UInt8]) {
        let text = String(format: "%+.16e", abs(x) < 1e-99 ? 0 : x)
        bytes.append(contentsOf: text.utf8)
    }
}

/// How `thresher sample` writes the shocks: `.npy` (float64, C order) or CSV with the asset ids as
/// header (`ShockCSVFormat`).
public enum ShockFileFormat: Sendable {
    case npy
    case csv(assets: [String])
}

/// `thresher sample`: the standardized shocks ε of every path as a paths × assets `.npy` or CSV file.
/// Chunks are generated in parallel and each is written, transposed to path-major rows, at its own
/// offset of the file; the file appears (renamed from a temporary) only when every chunk is written.
public enum ShockFile {
    /// - Throws: `OutputFile.Failure` (cannot write), `WorkerPoolError` (settings, cancellation).
    public static func write(model: MarketModel, paths: Int, settings: RunSettings, to path: String, format: ShockFileFormat = .npy,
                             cancellation: Cancellation? = nil) throws {
        let output = try OutputFile(path: path)
        let (header, csv): (Data, Bool)
        switch format {
        case .npy: (header, csv) = (NpyFormat.header(rows: paths, columns: model.assetCount), false)
        case .csv(let assets): (header, csv) = (ShockCSVFormat.header(assets: assets), true)
        }
        do {
            try output.write(header, at: 0)
            let writer = ShockRowWriter(output: output, dataOffset: header.count, csv: csv)
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

/// Writes a chunk's shocks as rows of the matrix (path-major, asset order): float64 for `.npy`,
/// fixed-width text lines for CSV.
struct ShockRowWriter: PathPricer {
    let output: OutputFile
    let dataOffset: Int
    let csv: Bool

    func makeWorkspace(capacity: Int) -> RowBuffer { RowBuffer() }

    func price(_ shocks: ShockBuffers, count: Int, workspace: RowBuffer, into outcome: inout WriteOutcome) {
        let n = shocks.assetCount, ld = shocks.capacity
        do {
            if csv {
                workspace.text.removeAll(keepingCapacity: true)
                for j in 0..<count {
                    for i in 0..<n {
                        ShockCSVFormat.append(shocks.epsilon[i * ld + j], to: &workspace.text)
                        workspace.text.append(i == n - 1 ? UInt8(ascii: "\n") : UInt8(ascii: ","))
                    }
                }
                try workspace.text.withUnsafeBytes { try output.write($0, at: dataOffset + shocks.firstPath * ShockCSVFormat.rowBytes(columns: n)) }
            } else {
                workspace.rows.removeAll(keepingCapacity: true)
                for j in 0..<count { for i in 0..<n { workspace.rows.append(shocks.epsilon[i * ld + j]) } }
                try workspace.rows.withUnsafeBytes { try output.write($0, at: dataOffset + shocks.firstPath * n * 8) }
            }
        } catch {
            if outcome.firstError == nil { outcome.firstError = error }
        }
    }
}

/// One worker's path-major rows of a chunk: numbers (`.npy`) or text (CSV).
final class RowBuffer {
    var rows: [Double] = []
    var text: [UInt8] = []
}
