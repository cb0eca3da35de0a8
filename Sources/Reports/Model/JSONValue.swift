import CommandSupport
import Foundation

/// A JSON document with key order kept, so reports read in the order they are documented.
/// Non-finite numbers are written as `null` (JSON has no NaN).
public indirect enum JSONValue: Sendable, Equatable {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }

    /// Pretty-printed text (two-space indent), ending in a newline at the top level.
    public func serialized(indent: Int = 0) -> String {
        var bytes: [UInt8] = []
        write(to: &bytes, indent: indent)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the pretty-printed text's UTF-8 to `text` (one growing buffer: a report with a row per
    /// account is written in time linear in its size, not in its size times its depth).
    private func write(to text: inout [UInt8], indent: Int) {
        switch self {
        case .number(let x): text += (x.isFinite ? Self.format(x) : "null").utf8
        case .integer(let n): text += String(n).utf8
        case .string(let s): text += Self.quote(s).utf8
        case .bool(let b): text += (b ? "true" : "false").utf8
        case .null: text += "null".utf8
        case .array(let items):
            if items.isEmpty { text += "[]".utf8; return }
            if items.allSatisfy({ if case .number = $0 { return true }; if case .integer = $0 { return true }; return false }) {
                text.append(UInt8(ascii: "["))
                for (i, item) in items.enumerated() {
                    if i > 0 { text += ", ".utf8 }
                    item.write(to: &text, indent: 0)
                }
                text.append(UInt8(ascii: "]"))
                return
            }
            text += "[\n".utf8
            for (i, item) in items.enumerated() {
                if i > 0 { text += ",\n".utf8 }
                Self.pad(&text, indent + 1)
                item.write(to: &text, indent: indent + 1)
            }
            text.append(UInt8(ascii: "\n"))
            Self.pad(&text, indent)
            text.append(UInt8(ascii: "]"))
        case .object(let fields):
            if fields.isEmpty { text += "{}".utf8; return }
            text += "{\n".utf8
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { text += ",\n".utf8 }
                Self.pad(&text, indent + 1)
                text += Self.quote(key).utf8
                text += ": ".utf8
                value.write(to: &text, indent: indent + 1)
            }
            text.append(UInt8(ascii: "\n"))
            Self.pad(&text, indent)
            text.append(UInt8(ascii: "}"))
        }
    }

    /// Two spaces per level.
    private static func pad(_ text: inout [UInt8], _ levels: Int) {
        text.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * levels))
    }

    /// The document as file contents.
    public var fileData: Data {
        var bytes: [UInt8] = []
        write(to: &bytes, indent: 0)
        bytes.append(UInt8(ascii: "\n"))
        return Data(bytes)
    }

    /// Shortest round-trip decimal form; integers without a trailing ".0".
    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    static func quote(_ s: String) -> String { jsonQuoted(s) }
}

extension JSONValue {
    /// The path (e.g. `book.var.0.99`, `accounts[3].loss`) of the first NaN or infinite number, or
    /// nil when every number is finite. A report with one must not be written (exit 70).
    public var firstNonFinitePath: String? {
        guard let reversed = nonFinitePathComponents() else { return nil }
        var path = ""
        for component in reversed.reversed() {
            switch component {
            case .key(let key): path += path.isEmpty ? key : ".\(key)"
            case .index(let i): path += "[\(i)]"
            }
        }
        return path.isEmpty ? "(top level)" : path
    }

    private enum PathComponent {
        case key(String)
        case index(Int)
    }

    /// The components of the path to the first non-finite number, innermost first; nil when every
    /// number is finite. (Strings are made only on the way out of a find, not for every node.)
    private func nonFinitePathComponents() -> [PathComponent]? {
        switch self {
        case .number(let x): return x.isFinite ? nil : []
        case .integer, .string, .bool, .null: return nil
        case .array(let items):
            for (i, item) in items.enumerated() {
                if var found = item.nonFinitePathComponents() { found.append(.index(i)); return found }
            }
            return nil
        case .object(let fields):
            for (key, value) in fields {
                if var found = value.nonFinitePathComponents() { found.append(.key(key)); return found }
            }
            return nil
        }
    }
}
