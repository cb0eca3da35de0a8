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
        var text = ""
        write(to: &text, indent: indent)
        return text
    }

    /// Appends the pretty-printed text to `text` (one growing string: a report with a row per
    /// account is written in time linear in its size, not in its size times its depth).
    private func write(to text: inout String, indent: Int) {
        switch self {
        case .number(let x): text += x.isFinite ? Self.format(x) : "null"
        case .integer(let n): text += String(n)
        case .string(let s): text += Self.quote(s)
        case .bool(let b): text += b ? "true" : "false"
        case .null: text += "null"
        case .array(let items):
            if items.isEmpty { text += "[]"; return }
            if items.allSatisfy({ if case .number = $0 { return true }; if case .integer = $0 { return true }; return false }) {
                text += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { text += ", " }
                    item.write(to: &text, indent: 0)
                }
                text += "]"
                return
            }
            let pad = String(repeating: "  ", count: indent + 1)
            text += "[\n"
            for (i, item) in items.enumerated() {
                if i > 0 { text += ",\n" }
                text += pad
                item.write(to: &text, indent: indent + 1)
            }
            text += "\n" + String(repeating: "  ", count: indent) + "]"
        case .object(let fields):
            if fields.isEmpty { text += "{}"; return }
            let pad = String(repeating: "  ", count: indent + 1)
            text += "{\n"
            for (i, (key, value)) in fields.enumerated() {
                if i > 0 { text += ",\n" }
                text += pad
                text += Self.quote(key)
                text += ": "
                value.write(to: &text, indent: indent + 1)
            }
            text += "\n" + String(repeating: "  ", count: indent) + "}"
        }
    }

    /// The document as file contents.
    public var fileData: Data { Data((serialized() + "\n").utf8) }

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
    public var firstNonFinitePath: String? { nonFinitePath(prefix: "") }

    private func nonFinitePath(prefix: String) -> String? {
        switch self {
        case .number(let x): return x.isFinite ? nil : (prefix.isEmpty ? "(top level)" : prefix)
        case .integer, .string, .bool, .null: return nil
        case .array(let items):
            for (i, item) in items.enumerated() { if let found = item.nonFinitePath(prefix: "\(prefix)[\(i)]") { return found } }
            return nil
        case .object(let fields):
            for (key, value) in fields {
                if let found = value.nonFinitePath(prefix: prefix.isEmpty ? key : "\(prefix).\(key)") { return found }
            }
            return nil
        }
    }
}
