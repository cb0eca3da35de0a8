import CommandSupport
import Foundation

/// `tails: {model: filtered-historical, history: FILE, columns: {ASSET: COLUMN}}` — filtered
/// historical simulation (Barone-Adesi et al. 1999; Eurex Prisma, LCH): each asset's daily percent
/// returns in FILE are filtered by a GARCH(1,1)-t fit (`thresher fit`), the days every asset has a
/// return give joint vectors of standardized residuals z_t = ε_t/σ_t, and a path draws days of them
/// with replacement, rescaled by each asset's GARCH variance simulated forward from today's forecast.
///
/// This is the section as written: the file (its bytes are read at load, so they are part of the
/// scenario's digest) and the column of each asset. Parsing the prices and fitting them is the tail
/// model's work (`Shocks.FilteredHistoricalFit`), done when the market model is built; its errors
/// name this field (`error(_:)`).
public struct FilteredHistory: Sendable, Equatable {
    /// The price file (resolved against the scenario's folder), the market's assets and the column
    /// of each.
    public let file: String
    public let assets: [String]
    public let columns: [String]
    /// The price file's bytes (decompressed, for a gzip file).
    public let data: Data
    /// Where the section was read: the scenario file and the field path of `history`.
    public let scenarioFile: String
    public let fieldPath: String

    public static func == (a: FilteredHistory, b: FilteredHistory) -> Bool { a.file == b.file && a.columns == b.columns }

    /// Reads the history's bytes (a gzip file, `prices.csv.gz`, decompressed).
    /// - Throws: `ScenarioError` at `path` when the file is missing or unreadable.
    init(file: String, columns: [String], assets: [String], path: String, scenarioFile: String) throws {
        self.file = file
        self.columns = columns
        self.assets = assets
        self.scenarioFile = scenarioFile
        fieldPath = path
        switch InputFile.contents(atPath: file) {
        case .success(let data):
            SourceRecorder.record(data)
            self.data = data
        case .failure(let failure):
            throw ScenarioError(file: scenarioFile, path: path, line: nil, message: "history: \(file): \(failure.reason)")
        }
    }

    /// A mistake in the history's content, at the field that names it.
    public func error(_ message: String) -> ScenarioError {
        ScenarioError(file: scenarioFile, path: fieldPath, line: nil, message: "history: \(message)")
    }
}
