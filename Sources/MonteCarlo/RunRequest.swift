import Foundation

/// What fixes the numbers of a Monte Carlo command, as a typed, versioned value: the command, the
/// scenario file and every option that changes a number or the sequence of stages. Each part file
/// stores it (JSON), so `thresher merge` runs the command again from the parts alone — no command
/// line is kept or parsed. Options that only change where output goes or how fast it runs (threads,
/// chunk size, report files, `--top`) are not in it: a merge takes its own.
public struct RunRequest: Codable, Equatable, Sendable {
    /// The format of the stored request; a part with another version is refused by name.
    public static let currentVersion = 1

    public var version = RunRequest.currentVersion
    /// run, calibrate, evaluate or robustness.
    public var command: String
    /// The scenario file, absolute.
    public var scenarioPath: String
    /// `--paths`, `--seed` (nil: the scenario's).
    public var paths: Int?
    public var seed: UInt64?
    /// `--set`, `--shock` and `--shock-vol`, in the order given.
    public var overrides: [String] = []
    public var spotShocks: [String] = []
    public var volShocks: [String] = []
    /// `--policy FILE`, `--market FILE`, absolute (nil: the scenario's own sections).
    public var policyFile: String?
    public var marketFile: String?
    /// calibrate: `--sections`.
    public var sections: Int?
    /// `--memory-limit` in bytes (it fixes the account groups of run and of calibrate's pass B, hence
    /// the stages).
    public var memoryLimit: Int?

    public init(command: String, scenarioPath: String) {
        self.command = command
        self.scenarioPath = scenarioPath
    }

    /// The stored bytes: JSON with sorted keys, so equal requests have equal bytes.
    public var encoded: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding a struct of strings and numbers cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// - Throws: `PartFileError` naming `file` for bytes that are not a request of this version.
    public static func decode(_ data: Data, file: String) throws -> RunRequest {
        struct Versioned: Decodable { let version: Int }
        guard let versioned = try? JSONDecoder().decode(Versioned.self, from: data) else {
            throw PartFileError(file: file, reason: "its run request cannot be read")
        }
        guard versioned.version == currentVersion else {
            throw PartFileError(file: file, reason: "its run request has version \(versioned.version); this thresher reads version \(currentVersion): merge with the thresher that wrote it")
        }
        do {
            return try JSONDecoder().decode(RunRequest.self, from: data)
        } catch {
            throw PartFileError(file: file, reason: "its run request cannot be read: \(error)")
        }
    }
}
