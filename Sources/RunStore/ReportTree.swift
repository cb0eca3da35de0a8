import Foundation

/// A JSON report read back with its key order kept, for flattening into metrics. The numbers are
/// parsed by `Double(_:)` (correctly rounded), so a number written by `JSONValue` in its shortest
/// round-trip form reads back bit for bit.
public indirect enum ReportTree: Sendable, Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case array([ReportTree])
    case object([(String, ReportTree)])

    public static func == (a: ReportTree, b: ReportTree) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)): return x == y || (x.isNaN && y.isNaN)
        case let (.string(x), .string(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The field `name` of an object (nil: absent, or not an object).
    public subscript(_ name: String) -> ReportTree? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == name }?.1
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var number: Double? { if case .number(let x) = self { return x }; return nil }

    /// Parses JSON text (UTF-8).
    /// - Throws: `ReportTree.SyntaxError` with the byte offset.
    public static func parse(_ data: Data) throws -> ReportTree {
        var parser = Parser(bytes: [UInt8](data))
        let value = try parser.value()
        parser.skipSpace()
        guard parser.at == parser.bytes.count else { throw SyntaxError(offset: parser.at, expected: "the end of the document") }
        return value
    }

    public struct SyntaxError: Error, CustomStringConvertible {
        public let offset: Int
        public let expected: String
        public var description: String { "not JSON: expected \(expected) at byte \(offset)" }
    }
}

/// A recursive-descent JSON parser (RFC 8259) over bytes.
private struct Parser {
    let bytes: [UInt8]
    var at = 0

    mutating func skipSpace() {
        while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
    }

    mutating func value() throws -> ReportTree {
        skipSpace()
        guard at < bytes.count else { throw ReportTree.SyntaxError(offset: at, expected: "a value") }
        switch bytes[at] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard at + expected.count <= bytes.count, Array(bytes[at..<at + expected.count]) == expected else {
            throw ReportTree.SyntaxError(offset: at, expected: "'\(word)'")
        }
        at += expected.count
    }

    mutating func number() throws -> Double {
        let start = at
        while at < bytes.count, "+-0123456789.eE".utf8.contains(bytes[at]) { at += 1 }
        guard at > start, let x = Double(String(decoding: bytes[start..<at], as: UTF8.self)) else {
            throw ReportTree.SyntaxError(offset: start, expected: "a number")
        }
        return x
    }

    mutating func string() throws -> String {
        at += 1
        var out = [UInt8]()
        while at < bytes.count {
            let c = bytes[at]
            at += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard at < bytes.count else { break }
            let e = bytes[at]
            at += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), at + 1 < bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") {
                    at += 2
                    let low = try hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            default: out.append(e)
            }
        }
        throw ReportTree.SyntaxError(offset: at, expected: "the end of a string")
    }

    mutating func hex4() throws -> UInt32 {
        guard at + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16) else {
            throw ReportTree.SyntaxError(offset: at, expected: "four hex digits")
        }
        at += 4
        return v
    }

    mutating func array() throws -> ReportTree {
        at += 1
        var items: [ReportTree] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard at < bytes.count else { throw ReportTree.SyntaxError(offset: at, expected: "',' or ']'") }
            at += 1
            if bytes[at - 1] == UInt8(ascii: "]") { return .array(items) }
            guard bytes[at - 1] == UInt8(ascii: ",") else { throw ReportTree.SyntaxError(offset: at - 1, expected: "',' or ']'") }
        }
    }

    mutating func object() throws -> ReportTree {
        at += 1
        var fields: [(String, ReportTree)] = []
        skipSpace()
        if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(fields) }
        while true {
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw ReportTree.SyntaxError(offset: at, expected: "a field name") }
            let name = try string()
            skipSpace()
            guard at < bytes.count, bytes[at] == UInt8(ascii: ":") else { throw ReportTree.SyntaxError(offset: at, expected: "':'") }
            at += 1
            fields.append((name, try value()))
            skipSpace()
            guard at < bytes.count else { throw ReportTree.SyntaxError(offset: at, expected: "',' or '}'") }
            at += 1
            if bytes[at - 1] == UInt8(ascii: "}") { return .object(fields) }
            guard bytes[at - 1] == UInt8(ascii: ",") else { throw ReportTree.SyntaxError(offset: at - 1, expected: "',' or '}'") }
        }
    }
}
