/// A `--set PATH=VALUE` edit of the scenario document, applied before validation.
///
/// PATH is dotted: mapping keys by name; list elements by their `id` field (`market.assets.BTC.vol`,
/// `portfolio.accounts.desk-1.collateral.USD`) or by 0-based index (`market.assets.0.vol`).
/// VALUE is read as YAML, so `3e6`, `student-t` and `[0.99, 0.999]` all work. The last key may be
/// new (an optional field the file left out); every earlier segment must exist.
public struct Override: Sendable, Equatable, CustomStringConvertible {
    public let path: [String]
    public let rawValue: String
    let value: ConfigNode

    /// Parses `PATH=VALUE`.
    /// - Throws: `ScenarioError` with file "--set" when the text has no `=` or an empty path.
    public init(_ text: String) throws {
        guard let equals = text.firstIndex(of: "=") else {
            throw ScenarioError(file: "--set", path: text, line: nil, message: "expected PATH=VALUE, e.g. market.assets.BTC.vol=1.2")
        }
        let pathText = String(text[..<equals])
        rawValue = String(text[text.index(after: equals)...])
        path = pathText.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !pathText.isEmpty, !path.contains(where: \.isEmpty) else {
            throw ScenarioError(file: "--set", path: pathText, line: nil, message: "empty segment in the path")
        }
        guard !rawValue.isEmpty else {
            throw ScenarioError(file: "--set", path: pathText, line: nil, message: "missing value after '='")
        }
        let parsed = try ConfigNode.parse(rawValue, file: "--set \(text)")
        value = parsed.withoutLines
    }

    public var description: String { "\(path.joined(separator: "."))=\(rawValue)" }
}

extension ConfigNode {
    /// Applies an override in place.
    /// - Throws: `ScenarioError` naming the first segment of the path that does not exist.
    public mutating func apply(_ override: Override) throws {
        try set(override.value, at: override.path[...], walked: [], override: override)
    }

    private mutating func set(_ value: ConfigNode, at path: ArraySlice<String>, walked: [String], override: Override) throws {
        guard let head = path.first else { self = value; return }
        let here = walked + [head]
        func unknown(_ why: String) -> ScenarioError {
            ScenarioError(file: "--set", path: here.joined(separator: "."), line: nil, message: "unknown path: \(why)")
        }
        switch self {
        case .mapping(var entries, let line):
            if let index = entries.firstIndex(where: { $0.key == head }) {
                try entries[index].value.set(value, at: path.dropFirst(), walked: here, override: override)
            } else if path.count == 1 {
                entries.append(ConfigEntry(key: head, value: value, line: nil))
            } else {
                // A section the file left out (e.g. `risk` for `risk.confidence=…`): create it; the
                // schema then rejects a name that is not a field, with a suggestion.
                var section = ConfigNode.mapping([], line: nil)
                try section.set(value, at: path.dropFirst(), walked: here, override: override)
                entries.append(ConfigEntry(key: head, value: section, line: nil))
            }
            self = .mapping(entries, line: line)
        case .sequence(var items, let line):
            let byID = items.firstIndex { item in
                if case .mapping(let fields, _) = item, let id = fields.first(where: { $0.key == "id" })?.value,
                   case .scalar(let text, _, _) = id { return text == head }
                return false
            }
            guard let index = byID ?? Int(head).flatMap({ items.indices.contains($0) ? $0 : nil }) else {
                let ids = items.compactMap { item -> String? in
                    if case .mapping(let fields, _) = item, case .scalar(let text, _, _)? = fields.first(where: { $0.key == "id" })?.value { return text }
                    return nil
                }
                guard !ids.isEmpty else { throw unknown("no element with id '\(head)' (use an index 0…\(items.count - 1))") }
                let suggestion = closest(head, among: ids).map { " Did you mean '\($0)'?" } ?? ""
                let sample = ids.prefix(8).joined(separator: ", ") + (ids.count > 8 ? ", … (\(ids.count) ids)" : "")
                throw unknown("no element with id '\(head)'.\(suggestion) Ids: \(sample); or use an index 0…\(items.count - 1)")
            }
            try items[index].set(value, at: path.dropFirst(), walked: here, override: override)
            self = .sequence(items, line: line)
        case .scalar:
            throw unknown("'\(walked.joined(separator: "."))' is a value, it has no field '\(head)'")
        }
    }

    /// The same tree with line numbers dropped (an override's value has no line in the file).
    var withoutLines: ConfigNode {
        switch self {
        case .scalar(let text, _, let quoted): return .scalar(text, line: nil, quoted: quoted)
        case .mapping(let entries, _): return .mapping(entries.map { ConfigEntry(key: $0.key, value: $0.value.withoutLines, line: nil) }, line: nil)
        case .sequence(let items, _): return .sequence(items.map(\.withoutLines), line: nil)
        }
    }
}
