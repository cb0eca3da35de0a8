import CommandSupport
import Foundation

/// The parts of a scenario that `thresher explain` swaps one at a time between two runs' scenarios:
/// the market's spots, vols, correlation and tails, the rest of the market, the portfolio, the
/// policy, the calibration settings, and everything else (simulation horizon, risk levels,
/// stresses, robustness). Together they cover every field of a scenario exactly once.
public enum ScenarioSection: String, CaseIterable, Sendable {
    case spots = "market.spots"
    case vols = "market.vols"
    case correlation = "market.correlation"
    case tails = "market.tails"
    case marketOther = "market.other"
    /// The whole market: used instead of the five above when the two scenarios' assets differ.
    case market
    case portfolio, policy, calibration, other

    /// The per-asset fields of `market.assets` each section owns (the rest of an asset is `market.other`).
    var assetFields: Set<String>? {
        switch self {
        case .spots: return ["spot"]
        case .vols: return ["vol"]
        case .tails: return ["dof"]
        default: return nil
        }
    }

    static let ownedAssetFields: Set<String> = ["id", "spot", "vol", "dof"]

    /// The sections that partition two scenarios: the fine market sections when both list the same
    /// assets in the same order, else the whole market as one.
    public static func partition(_ a: ConfigNode, _ b: ConfigNode) -> [ScenarioSection] {
        let sameAssets = assetIDs(a) == assetIDs(b)
        return sameAssets ? [.spots, .vols, .correlation, .tails, .marketOther, .portfolio, .policy, .calibration, .other]
                          : [.market, .portfolio, .policy, .calibration, .other]
    }

    static func assetIDs(_ document: ConfigNode) -> [String] {
        guard case .sequence(let items, _)? = document["market"]?["assets"] else { return [] }
        return items.map { item in
            if case .scalar(let id, _, _)? = item["id"] { return id }
            return ""
        }
    }
}

extension ConfigNode {
    /// The value of a mapping's key (nil: absent, or not a mapping).
    public subscript(_ key: String) -> ConfigNode? {
        guard case .mapping(let entries, _) = self else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// The document with `key` set to `value` (nil: removed), in place when present, appended when not.
    func setting(_ key: String, _ value: ConfigNode?) -> ConfigNode {
        guard case .mapping(var entries, let line) = self else { return self }
        if let index = entries.firstIndex(where: { $0.key == key }) {
            if let value { entries[index].value = value } else { entries.remove(at: index) }
        } else if let value {
            entries.append(ConfigEntry(key: key, value: value, line: nil))
        }
        return .mapping(entries, line: line)
    }

    /// This scenario document with `section` taken from `other` (both resolved: includes read,
    /// overrides applied). For the per-asset sections, the assets are matched by position (the
    /// partition uses them only when both list the same ids in the same order).
    public func taking(_ section: ScenarioSection, from other: ConfigNode) -> ConfigNode {
        let topLevel = ["market", "portfolio", "policy", "calibration"]
        switch section {
        case .portfolio, .policy, .calibration, .market:
            return setting(section.rawValue, other[section.rawValue])
        case .other:
            var result = self
            guard case .mapping(let mine, _) = self, case .mapping(let theirs, _) = other else { return self }
            for key in Set(mine.map(\.key)).union(theirs.map(\.key)) where !topLevel.contains(key) { result = result.setting(key, other[key]) }
            return result
        case .correlation, .tails, .marketOther, .spots, .vols:
            guard var market = self["market"], let theirs = other["market"] else { return self }
            if section == .correlation || section == .tails {
                let name = String(section.rawValue.dropFirst("market.".count))
                market = market.setting(name, theirs[name])
            }
            if section == .marketOther, case .mapping(let mine, _) = market, case .mapping(let others, _) = theirs {
                for key in Set(mine.map(\.key)).union(others.map(\.key)) where !["assets", "correlation", "tails"].contains(key) {
                    market = market.setting(key, theirs[key])
                }
            }
            if case .sequence(var assets, let line)? = market["assets"], case .sequence(let otherAssets, _)? = theirs["assets"], assets.count == otherAssets.count {
                for i in assets.indices {
                    guard case .mapping(let fields, _) = assets[i], case .mapping(let otherFields, _) = otherAssets[i] else { continue }
                    let keys = Set(fields.map(\.key)).union(otherFields.map(\.key))
                    let owned = section.assetFields.map { keys.intersection($0) }
                        ?? (section == .marketOther ? keys.subtracting(ScenarioSection.ownedAssetFields) : [])
                    for key in owned { assets[i] = assets[i].setting(key, otherAssets[i][key]) }
                }
                market = market.setting("assets", .sequence(assets, line: line))
            }
            return setting("market", market)
        }
    }

    /// Reads a scenario's text as `Scenario.load` does, without validating it: parsed, the
    /// included sections (and `sections`, e.g. `--policy FILE`) read, the overrides applied.
    /// - Parameter file: where the text was read from (included and CSV files are relative to it).
    public static func resolved(text: String, file: String, overrides: [Override], sections: [IncludedSection: String]) throws -> ConfigNode {
        var document = try ConfigNode.parse(text, file: file)
        _ = try document.resolveIncludes(scenarioFile: file, replacing: sections)
        for override in overrides { try document.apply(override) }
        return document
    }

    /// The document as block YAML that `ConfigNode.parse` reads back equal (line numbers aside):
    /// keys and quoted scalars as JSON strings, plain scalars as written.
    public var yaml: String { emit(indent: 0) + "\n" }

    private func emit(indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        func child(_ node: ConfigNode) -> String {
            switch node {
            case .scalar(let text, _, let quoted):
                // A plain scalar over several lines (a block scalar) is text: quoted, it reads back the same.
                return quoted || text.contains("\n") ? " " + jsonQuoted(text) : (text.isEmpty ? "" : " " + text)
            case .mapping(let entries, _) where entries.isEmpty: return " {}"
            case .sequence(let items, _) where items.isEmpty: return " []"
            default: return "\n" + node.emit(indent: indent + 2)
            }
        }
        switch self {
        case .scalar: return pad + child(self).dropFirst()
        case .mapping(let entries, _):
            return entries.map { pad + jsonQuoted($0.key) + ":" + child($0.value) }.joined(separator: "\n")
        case .sequence(let items, _):
            return items.map { pad + "-" + child($0) }.joined(separator: "\n")
        }
    }
}
