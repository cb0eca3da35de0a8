import Foundation

/// FNV-1a, 64 bits: a fast fingerprint of bytes (not a cryptographic hash: it tells apart
/// different inputs made by mistake, not forgeries).
public struct FNV1a64: Sendable, Equatable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var h = value
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01B3
        }
        value = h
    }

    public mutating func add(_ data: Data) { data.withUnsafeBytes { add($0) } }
    public mutating func add(_ text: String) { add(Data(text.utf8)) }
    public mutating func add(_ word: UInt64) { withUnsafeBytes(of: word.littleEndian) { add($0) } }

    public static func of(_ data: Data) -> UInt64 {
        var h = FNV1a64()
        h.add(data)
        return h.value
    }
}

/// The fingerprint of every file a scenario was read from (the scenario itself, its CSV books, the
/// stress libraries it names), in the order read: two processes that load the same files get the
/// same digest, so slices of one run made on different machines can be checked to belong together.
final class SourceRecorder: @unchecked Sendable {
    /// The recorder of the load in progress on this task, if any.
    @TaskLocal static var current: SourceRecorder?

    private var hash = FNV1a64()

    /// Records a file's bytes (with its length, so that concatenations differ).
    static func record(_ data: Data) {
        guard let recorder = current else { return }
        recorder.hash.add(UInt64(data.count))
        recorder.hash.add(data)
    }

    var digest: UInt64 { hash.value }
}
