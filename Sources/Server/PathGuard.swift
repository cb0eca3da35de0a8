import Foundation

/// Keeps every file a request names inside the scenario's folder: `policy`/`market` files and any
/// path inside a `--set` value (a CSV book, an include). A name is taken relative to the folder,
/// symbolic links are resolved, and anything that ends up outside (`..`, an absolute path, a link
/// that leads out) is refused with 400 — the server reads only what its operator put beside the
/// scenario, and writes no file at all.
struct PathGuard: Sendable {
    /// The scenario's folder, symbolic links resolved.
    let folder: String

    init(scenarioFile: String) {
        folder = Self.resolved(URL(fileURLWithPath: scenarioFile).deletingLastPathComponent().path)
    }

    /// The absolute path of `name` (relative to the folder) when it lies inside the folder.
    /// - Throws: `APIError` 400 naming `field`.
    func inside(_ name: String, field: String) throws -> String {
        guard !name.isEmpty, !name.contains("\0") else { throw APIError.field(field, "expected a file name") }
        let candidate = Self.resolved(name.hasPrefix("/") ? name : folder + "/" + name)
        guard candidate.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/") else {
            throw APIError(.badRequest, "\(field): '\(name)' is outside the scenario's folder; name a file beside the scenario", file: "request", path: field)
        }
        return candidate
    }

    /// Checks every path-like word of a `--set PATH=VALUE` text (a word with '/', or '..', in the
    /// value, YAML flow syntax included): each must lie inside the folder.
    func checkOverride(_ text: String, field: String) throws {
        guard let equals = text.firstIndex(of: "=") else { return }
        let separators = CharacterSet(charactersIn: " \t\n\r{}[],:\"'")
        for word in text[text.index(after: equals)...].components(separatedBy: separators)
        where word.contains("/") || word.contains("\\") || word.hasPrefix("..") || word.hasPrefix("~") {
            _ = try inside(word, field: field)
        }
    }

    /// `path` standardized, with symbolic links resolved as far as it exists.
    static func resolved(_ path: String) -> String {
        let standard = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let real = realpath(standard, nil) else { return standard }
        defer { free(real) }
        return String(cString: real)
    }
}
