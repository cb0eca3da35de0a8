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
        let pad = String(repeating: "  ", count: indent + 1), closing = String(repeating: "  ", count: indent)
        switch self {
        case .number(let x): return x.isFinite ? Self.format(x) : "null"
        case .integer(let n): return String(n)
        case .string(let s): return Self.quote(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy({ if case .number = $0 { return true }; if case .integer = $0 { return true }; return false }) {
                return "[" + items.map { $0.serialized() }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { pad + $0.serialized(indent: indent + 1) }.joined(separator: ",\n") + "\n\(closing)]"
        case .object(let fields):
            if fields.isEmpty { return "{}" }
            return "{\n" + fields.map { "\(pad)\(Self.quote($0.0)): \($0.1.serialized(indent: indent + 1))" }.joined(separator: ",\n") + "\n\(closing)}"
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
