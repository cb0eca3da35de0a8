import Foundation
import Yams

/// A parsed YAML or JSON document before it is given meaning: a tree of scalars, mappings (with
/// key order kept) and sequences, each with the 1-based line it came from. Overrides (`--set`)
/// edit this tree; the schema reader turns it into a `Scenario`.
public indirect enum ConfigNode: Sendable, Equatable {
    case scalar(String, line: Int?)
    case mapping([ConfigEntry], line: Int?)
    case sequence([ConfigNode], line: Int?)

    public var line: Int? {
        switch self {
        case .scalar(_, let line), .mapping(_, let line), .sequence(_, let line): return line
        }
    }

    /// A short name for error messages: "a mapping", "a list", or the scalar itself.
    var kindDescription: String {
        switch self {
        case .scalar(let text, _): return "'\(text)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        }
    }
}

/// One `key: value` entry of a mapping.
public struct ConfigEntry: Sendable, Equatable {
    public var key: String
    public var value: ConfigNode
    public var line: Int?
}

extension ConfigNode {
    /// Parses YAML text (JSON is read through the same parser: JSON is a subset of YAML's flow
    /// syntax), keeping line numbers.
    /// - Throws: `ScenarioError` naming the file and the line of the syntax error.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        let root: Node?
        do {
            // The basic resolver tags every scalar as a string: no regex per scalar (the readers parse numbers
            // themselves, with field paths), which makes large books load several times faster.
            root = try Yams.compose(yaml: text, .basic)
        } catch let error as YamlError {
            throw ScenarioError(file: file, path: "", line: error.line,
                                message: "malformed YAML/JSON: \(error.problemText)")
        }
        guard let root else {
            throw ScenarioError(file: file, path: "", line: nil, message: "the file is empty")
        }
        return try ConfigNode(root, file: file)
    }

    init(_ node: Node, file: String) throws {
        let line = node.mark.map { $0.line }
        switch node {
        case .scalar(let scalar):
            self = .scalar(scalar.string, line: line)
        case .mapping(let mapping):
            var entries: [ConfigEntry] = []
            var seen = Set<String>()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ScenarioError(file: file, path: "", line: key.mark?.line, message: "mapping keys must be plain names")
                }
                let keyLine = key.mark.map { $0.line }
                if !seen.insert(keyScalar.string).inserted {
                    throw ScenarioError(file: file, path: keyScalar.string, line: keyLine,
                                        message: "duplicate key '\(keyScalar.string)'")
                }
                entries.append(ConfigEntry(key: keyScalar.string, value: try ConfigNode(value, file: file), line: keyLine))
            }
            self = .mapping(entries, line: line)
        case .sequence(let sequence):
            self = .sequence(try sequence.map { try ConfigNode($0, file: file) }, line: line)
        case .alias:
            throw ScenarioError(file: file, path: "", line: line, message: "YAML aliases are not supported")
        }
    }
}

extension YamlError {
    /// The 1-based line of a scanner/parser error, when libyaml reported one.
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): return mark.line
        default: return nil
        }
    }

    /// The problem without libyaml's echo of the whole document.
    var problemText: String {
        switch self {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let where_ = "line \(mark.line), column \(mark.column)"
            if let context { return "\(problem) \(context.text) (\(where_))" }
            return "\(problem) (\(where_))"
        default:
            return "\(self)"
        }
    }
}
