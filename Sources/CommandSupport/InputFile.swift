import CZlib
import Foundation

/// The bytes of an input file (a price history, a CSV book), decompressed when the file is gzip
/// (it starts with the gzip magic bytes 1f 8b, whatever its name: `prices.csv.gz` is read as it is).
/// Concatenated gzip members are read one after another, as `gunzip` does.
public enum InputFile {
    /// Largest decompressed size accepted, bytes: a few bytes of gzip can expand a thousandfold, so
    /// a corrupt or hostile file stops here rather than exhausting memory.
    public static let maximumDecompressedBytes = 16 << 30

    /// Why a file's bytes could not be had.
    public enum Failure: Error, Equatable, Sendable {
        /// No file at the path.
        case missing
        /// The file exists but cannot be opened (permissions, a folder).
        case unreadable
        /// The gzip stream is damaged or truncated; the text is zlib's reason.
        case corrupt(String)
        /// The file decompresses to more than `maximumDecompressedBytes`.
        case tooLarge

        /// A phrase for messages: "no such file", "is gzip but cannot be decompressed (…)".
        public var reason: String {
            switch self {
            case .missing: return "no such file"
            case .unreadable: return "cannot be read (permissions?)"
            case .corrupt(let why): return "is gzip-compressed but cannot be decompressed (\(why)): check the download, or gunzip it to see"
            case .tooLarge: return "decompresses to more than \(InputFile.maximumDecompressedBytes >> 30) GiB"
            }
        }
    }

    /// The file's bytes, decompressed if they are gzip.
    public static func contents(atPath path: String) -> Result<Data, Failure> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(FileManager.default.fileExists(atPath: path) ? .unreadable : .missing)
        }
        return isGzip(data) ? gunzip(data) : .success(data)
    }

    /// Whether `data` starts with the gzip magic bytes.
    public static func isGzip(_ data: Data) -> Bool { data.count >= 2 && data[data.startIndex] == 0x1F && data[data.startIndex + 1] == 0x8B }

    /// Inflates every gzip member of `data`.
    /// - Complexity: O(compressed + decompressed bytes).
    public static func gunzip(_ data: Data) -> Result<Data, Failure> {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer around a deflate stream with the largest window.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return .failure(.corrupt("zlib cannot start")) }
        defer { inflateEnd(&stream) }
        var output = Data()
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        let input = [UInt8](data)
        return input.withUnsafeBufferPointer { source -> Result<Data, Failure> in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(chunk)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    output.append(out.baseAddress!, count: chunk - Int(stream.avail_out))
                    return status
                }
                guard output.count <= maximumDecompressedBytes else { return .failure(.tooLarge) }
                switch status {
                case Z_STREAM_END:
                    // Another member follows (`cat a.gz b.gz`), or the end.
                    guard stream.avail_in > 0 else { return .success(output) }
                    guard inflateReset(&stream) == Z_OK else { return .failure(.corrupt("cannot read the next gzip member")) }
                case Z_OK:
                    continue
                case Z_BUF_ERROR where stream.avail_in == 0:
                    return .failure(.corrupt("the file ends inside the compressed data (truncated)"))
                default:
                    return .failure(.corrupt(stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"))
                }
            }
        }
    }
}
