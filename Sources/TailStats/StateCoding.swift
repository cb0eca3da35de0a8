import CommandSupport
import Foundation

/// The exact state of a mergeable accumulator as bytes: what a slice of the paths run in another
/// process (or on another machine) hands to the process that merges the slices. Little-endian,
/// fixed-width fields; doubles as their IEEE-754 bit patterns, so a decoded state merges to the
/// same bits as the original.
public protocol StateCodable {
    /// Appends the state to `writer`.
    func encode(to writer: inout StateWriter)
    /// Replaces the state of `self` — an empty accumulator made for the same paths, which fixes
    /// the shape (plans, sizes) the bytes must match — with the decoded one.
    /// - Throws: `StateDecodingError` when the bytes are short or do not fit the shape.
    mutating func decode(from reader: inout StateReader) throws
}

/// A state's bytes do not fit the accumulator that reads them (truncated, or made by another
/// scenario or another version of the program).
public struct StateDecodingError: ThresherError {
    public var exitStatus: Int32 { ExitStatus.invalidScenario }
    public var diagnostic: String { "error: the parts do not fit this scenario: \(self)" }
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Appends fixed-width little-endian values.
public struct StateWriter {
    public private(set) var data = Data()

    public init() {}

    public mutating func write(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
    public mutating func write(_ value: Int) { write(UInt64(bitPattern: Int64(value))) }
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    public mutating func write(_ value: Bool) { data.append(value ? 1 : 0) }

    /// A count, then the doubles.
    public mutating func write(_ values: [Double]) {
        write(values.count)
        let words = values.map { $0.bitPattern.littleEndian }
        words.withUnsafeBytes { data.append(contentsOf: $0) }
    }

    public mutating func write(_ values: [Int]) {
        write(values.count)
        for v in values { write(v) }
    }

    /// A count, then the bytes.
    public mutating func write(bytes: Data) {
        write(bytes.count)
        data.append(bytes)
    }

    /// Each element's state in order (the count is the reader's to check).
    public mutating func write<T: StateCodable>(each values: [T]) {
        write(values.count)
        for v in values { v.encode(to: &self) }
    }
}

/// Reads what `StateWriter` wrote, checking every length against the bytes left.
public struct StateReader {
    private let data: Data
    public private(set) var offset: Int

    public init(_ data: Data) {
        self.data = data
        offset = data.startIndex
    }

    public var isAtEnd: Bool { offset == data.endIndex }

    public mutating func readUInt64() throws -> UInt64 {
        guard data.endIndex - offset >= 8 else { throw StateDecodingError("the state ends early (truncated)") }
        let start = offset - data.startIndex
        offset += 8
        return data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
    }

    public mutating func readInt() throws -> Int { Int(Int64(bitPattern: try readUInt64())) }
    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }

    public mutating func readBool() throws -> Bool {
        guard offset < data.endIndex else { throw StateDecodingError("the state ends early (truncated)") }
        defer { offset += 1 }
        switch data[offset] {
        case 0: return false
        case 1: return true
        default: throw StateDecodingError("a flag holds \(data[offset]), not 0 or 1")
        }
    }

    /// A count (at most the elements the remaining bytes can hold at `width` bytes each).
    public mutating func readCount(width: Int = 8, expected: Int? = nil, of what: String = "values") throws -> Int {
        let n = try readInt()
        guard n >= 0, n <= (data.endIndex - offset) / max(width, 1) else { throw StateDecodingError("a count of \(n) \(what) does not fit the bytes left (truncated?)") }
        if let expected, n != expected { throw StateDecodingError("\(n) \(what) where this scenario has \(expected)") }
        return n
    }

    public mutating func readDoubles(expected: Int? = nil, of what: String = "values") throws -> [Double] {
        let n = try readCount(expected: expected, of: what)
        let start = offset - data.startIndex
        offset += 8 * n
        return data.withUnsafeBytes { raw in
            (0..<n).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: UInt64.self))) }
        }
    }

    public mutating func readInts(expected: Int? = nil, of what: String = "counts") throws -> [Int] {
        let n = try readCount(expected: expected, of: what)
        return try (0..<n).map { _ in try readInt() }
    }

    public mutating func readBytes() throws -> Data {
        let n = try readCount(width: 1, of: "bytes")
        defer { offset += n }
        return data.subdata(in: offset..<(offset + n))
    }

    /// Decodes each element of `values` (empty accumulators of the right shape) in order.
    public mutating func read<T: StateCodable>(each values: inout [T], of what: String) throws {
        _ = try readCount(width: 1, expected: values.count, of: what)
        for k in values.indices { try values[k].decode(from: &self) }
    }
}
