import Foundation
import Yams

/// A parsed YAML or JSON document before it is given meaning: a tree of scalars, mappings (with
/// key order kept) and sequences, each with the 1-based line it came from. Overrides (`--set`)
/// edit this tree; the schema reader turns it into a `Scenario`.
public indirect enum ConfigNode: Sendable, Equatable {
    /// A value as written; `quoted` when the file wrote it in quotes ('…' or "…"), which makes it text
    /// (a quoted "1e6" is not a number).
    case scalar(String, line: Int?, quoted: Bool = false)
    case mapping([ConfigEntry], line: Int?)
    case sequence([ConfigNode], line: Int?)

    public var line: Int? {
        switch self {
        case .scalar(_, let line, _), .mapping(_, let line), .sequence(_, let line): return line
        }
    }

    /// A short name for error messages: "a mapping", "a list", or the scalar itself.
    var kindDescription: String {
        switch self {
        case .scalar(let text, _, _): return "'\(text)'"
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
    /// Largest scenario text accepted, bytes (large books belong in CSV files).
    public static let maximumDocumentBytes = 64 << 20
    /// Deepest nesting of mappings and lists accepted (a scenario needs about 6).
    public static let maximumDepth = 32

    /// Parses YAML text (JSON is read through the same parser: JSON is a subset of YAML's flow
    /// syntax; a `.json` file must also be strict JSON), keeping line numbers. Anchors and aliases
    /// are rejected where they are defined, before anything is expanded, so an alias bomb costs
    /// no more than its text.
    /// - Throws: `ScenarioError` naming the file and the line, with the cause and the fix.
    public static func parse(_ text: String, file: String) throws -> ConfigNode {
        func fail(_ line: Int?, _ message: String) -> ScenarioError { ScenarioError(file: file, path: "", line: line, message: message) }
        guard text.utf8.count <= maximumDocumentBytes else {
            throw fail(nil, "the file is \(text.utf8.count >> 20) MiB; scenario files are limited to \(maximumDocumentBytes >> 20) MiB")
        }
        if let nul = text.firstIndex(of: "\u{0}") {
            throw fail(text[..<nul].filter { $0 == "\n" }.count + 1, "the file holds binary data (a NUL byte): a scenario is YAML or JSON text")
        }
        if file.lowercased().hasSuffix(".json") {
            if let line = Self.trailingCommaLine(in: text) {
                throw fail(line, "not valid JSON: a trailing comma before '}' or ']'; remove it (or save the scenario as .yaml)")
            }
            do {
                _ = try JSONSerialization.jsonObject(with: Data(text.utf8))
            } catch {
                throw fail(nil, "not valid JSON (\(Self.jsonProblem(error))): fix the syntax, or save the scenario as .yaml")
            }
        }
        let parser: Parser
        let root: Node?
        do {
            // The basic resolver tags every scalar as a string: no regex per scalar (the readers parse numbers
            // themselves, with field paths), which makes large books load several times faster.
            parser = try Parser(yaml: text, resolver: .basic)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            throw fail(error.line, error.problemText(in: text))
        }
        guard let root else {
            let blank = text.allSatisfy(\.isWhitespace)
            throw fail(nil, blank ? "the file is empty: a scenario needs name, simulation, market and portfolio (see Scenarios/README.md)"
                                  : "the file holds only comments: a scenario needs name, simulation, market and portfolio (see Scenarios/README.md)")
        }
        // The parser owns the anchors the nodes point to (weakly): keep it alive while reading them.
        return try withExtendedLifetime(parser) { try ConfigNode(root, file: file, depth: 0) }
    }

    init(_ node: Node, file: String, depth: Int) throws {
        let line = node.mark.map { $0.line }
        guard depth < Self.maximumDepth else {
            throw ScenarioError(file: file, path: "", line: line, message: "nesting deeper than \(Self.maximumDepth) levels: a scenario needs only a few")
        }
        let anchored: Bool
        switch node {
        case .scalar(let scalar): anchored = scalar.anchor != nil
        case .mapping(let mapping): anchored = mapping.anchor != nil
        case .sequence(let sequence): anchored = sequence.anchor != nil
        case .alias: anchored = true
        }
        guard !anchored else {
            throw ScenarioError(file: file, path: "", line: line, message: "YAML anchors (&name) and aliases (*name) are not accepted: write the values out")
        }
        switch node {
        case .scalar(let scalar):
            self = .scalar(scalar.string, line: line, quoted: scalar.style == .singleQuoted || scalar.style == .doubleQuoted)
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
                                        message: "duplicate key '\(keyScalar.string)': each key may appear once in a mapping; remove or rename one")
                }
                entries.append(ConfigEntry(key: keyScalar.string, value: try ConfigNode(value, file: file, depth: depth + 1), line: keyLine))
            }
            self = .mapping(entries, line: line)
        case .sequence(let sequence):
            self = .sequence(try sequence.map { try ConfigNode($0, file: file, depth: depth + 1) }, line: line)
        case .alias:
            fatalError("rejected above")
        }
    }

    /// The line of the first `,` followed (after white space) by `}` or `]` outside strings: valid
    /// YAML flow syntax and accepted by some JSON readers, but not JSON.
    static func trailingCommaLine(in text: String) -> Int? {
        var line = 1, inString = false, escaped = false, commaLine: Int?
        for ch in text.unicodeScalars {
            if ch == "\n" { line += 1 }
            if inString {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inString = false }
                continue
            }
            switch ch {
            case "\"": inString = true; commaLine = nil
            case ",": commaLine = line
            case "}", "]": if let commaLine { return commaLine }
            case " ", "\t", "\n", "\r": break
            default: commaLine = nil
            }
        }
        return nil
    }

    /// JSONSerialization's reason, without the framework's boilerplate.
    static func jsonProblem(_ error: Error) -> String {
        let info = (error as NSError).userInfo
        return (info["NSDebugDescription"] as? String) ?? error.localizedDescription
    }
}

extension YamlError {
    /// The 1-based line of a scanner/parser error, when libyaml reported one.
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }

    /// The problem and how to fix it, without libyaml's echo of the whole document.
    func problemText(in text: String) -> String {
        switch self {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let offending = mark.line >= 1 && mark.line <= lines.count ? lines[mark.line - 1] : ""
            if offending.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                return "a tab indents line \(mark.line): YAML indents with spaces only; replace the tabs with spaces"
            }
            if problem.contains("Maximum nesting level") {
                return "nesting too deep (line \(mark.line)): a scenario needs only a few levels of lists and mappings"
            }
            if problem.contains("undefined alias") {
                return "YAML aliases (*name) are not accepted (line \(mark.line), column \(mark.column)): write the values out"
            }
            let where_ = "line \(mark.line), column \(mark.column)"
            if let context { return "malformed YAML/JSON: \(problem) \(context.text) (\(where_))" }
            return "malformed YAML/JSON: \(problem) (\(where_))"
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return "duplicate key \(keys) (line \(context.mark.line)): each key may appear once in a mapping; remove or rename one"
        case .reader(let problem, _, _, _):
            return "the text cannot be read (\(problem)): save the file as UTF-8"
        default:
            return "malformed YAML/JSON"
        }
    }
}
