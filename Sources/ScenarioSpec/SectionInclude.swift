/// A top-level section that may be read from its own file: the `policy:` that
/// `thresher calibrate --policy-out` writes and the `market:` that `thresher fit --out` writes.
///
/// In a scenario, `policy: {include: cal.yaml}` (the path relative to the scenario file) stands for
/// the top-level `policy:` of that file; on the command line `--policy FILE` and `--market FILE`
/// replace the scenario's section (with or without one in the file). The included file is any YAML
/// or JSON file with that top-level section (a whole scenario lends its own); its other sections
/// are ignored. Errors in the section name the included file, its line and the field path.
public enum IncludedSection: String, CaseIterable, Sendable {
    case market, policy
}

extension ConfigNode {
    /// Replaces each `SECTION: {include: FILE}` of the document, and each section of `replacing`
    /// (section → file, as the command line names it), by that file's top-level section.
    /// - Returns: the file each replaced section was read from, for the messages of its errors.
    /// - Throws: `ScenarioError` (an `include` beside other fields, an included file without the
    ///   section, or one that includes again) or `ScenarioFileError` (the file cannot be read).
    mutating func resolveIncludes(scenarioFile: String, replacing: [IncludedSection: String]) throws -> [IncludedSection: String] {
        guard case .mapping(var entries, let line) = self else { return [:] }
        var sources: [IncludedSection: String] = [:]
        for section in IncludedSection.allCases {
            let name = section.rawValue
            let index = entries.firstIndex { $0.key == name }
            let file: String
            let origin: String
            if let given = replacing[section] {
                file = given
                origin = "--\(name)"
            } else if let index, let included = try Self.includedFile(entries[index], scenarioFile: scenarioFile) {
                file = included
                origin = "\(scenarioFile):\(entries[index].line.map(String.init) ?? "?"): \(name).include"
            } else {
                continue
            }
            let value = try Self.section(section, of: file, origin: origin)
            if let index { entries[index].value = value } else { entries.append(ConfigEntry(key: name, value: value, line: nil)) }
            sources[section] = file
        }
        self = .mapping(entries, line: line)
        return sources
    }

    /// The file of `SECTION: {include: FILE}`, resolved against the scenario's folder; nil when the
    /// section is written out.
    private static func includedFile(_ entry: ConfigEntry, scenarioFile: String) throws -> String? {
        guard case .mapping(let fields, _) = entry.value, let include = fields.first(where: { $0.key == "include" }) else { return nil }
        guard fields.count == 1 else {
            throw ScenarioError(file: scenarioFile, path: "\(entry.key).include", line: include.line,
                                message: "'include' stands alone: the section is the included file's '\(entry.key):'; move the other fields (\(fields.map(\.key).filter { $0 != "include" }.joined(separator: ", "))) into that file")
        }
        guard case .scalar(let path, _, _) = include.value, !path.isEmpty else {
            throw ScenarioError(file: scenarioFile, path: "\(entry.key).include", line: include.line, message: "expected a file name, e.g. {include: cal.yaml}")
        }
        return CSVBook.resolve(path, scenarioFile)
    }

    /// The top-level `section` of `file` (`origin`: where it was named, for messages).
    private static func section(_ section: IncludedSection, of file: String, origin: String) throws -> ConfigNode {
        let name = section.rawValue
        let text: String
        do {
            text = try Scenario.readText(file)
        } catch let error as ScenarioFileError {
            throw ScenarioFileError(path: error.path, reason: "\(error.reason) (the '\(name):' section named by \(origin))")
        }
        let document = try ConfigNode.parse(text, file: file)
        let writer = section == .policy ? "thresher calibrate --policy-out" : "thresher fit --out"
        guard case .mapping(let entries, _) = document, let value = entries.first(where: { $0.key == name })?.value else {
            throw ScenarioError(file: file, path: "", line: document.line,
                                message: "has no top-level '\(name):' section (named by \(origin)); the file needs one, as \(writer) writes it")
        }
        if case .mapping(let fields, _) = value, let nested = fields.first(where: { $0.key == "include" }) {
            throw ScenarioError(file: file, path: "\(name).include", line: nested.line, message: "an included section cannot include another file: write the section out")
        }
        return value
    }
}
