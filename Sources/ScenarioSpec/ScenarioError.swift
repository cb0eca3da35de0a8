import CommandSupport

/// A mistake in a scenario file (or an override of it): which file, which field, which line, what is
/// wrong. Every user error in a scenario surfaces as one of these, never as a crash.
public struct ScenarioError: ThresherError, Equatable, Sendable {
    public var exitStatus: Int32 { ExitStatus.invalidScenario }
    /// The file as the user named it (or "--set" for a command-line override).
    public let file: String
    /// The field path in dotted form with 0-based list indices, e.g. `market.assets[2].vol`;
    /// empty for errors about the whole document.
    public let path: String
    /// 1-based line in the file, when known.
    public let line: Int?
    public let message: String

    public init(file: String, path: String, line: Int?, message: String) {
        self.file = file
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return path.isEmpty ? "\(location): \(message)" : "\(location): \(path): \(message)"
    }
}
