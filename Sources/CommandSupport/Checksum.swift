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
