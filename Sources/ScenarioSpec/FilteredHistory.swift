import Foundation
import History

/// `tails: {model: filtered-historical, history: FILE, columns: {ASSET: COLUMN}}` — filtered
/// historical simulation (Barone-Adesi et al. 1999; Eurex Prisma, LCH): each asset's daily percent
/// returns in FILE are filtered by a GARCH(1,1)-t fit (`thresher fit`), the days every asset has a
/// return give joint vectors of standardized residuals z_t = ε_t/σ_t (one historical day for all
/// assets, keeping their dependence), and a path draws days of them with replacement, rescaled by
/// each asset's GARCH variance simulated forward from today's forecast (see `FilteredHistoricalShocks`).
public struct FilteredHistory: Sendable, Equatable {
    /// The price file (resolved against the scenario's folder) and the column of each asset.
    public let file: String
    public let columns: [String]
    /// Joint standardized residuals, day-major: `residuals[d * assets + i]`, each asset's column
    /// rescaled to unit variance over the common days.
    public let residuals: [Double]
    public let days: Int
    /// Per asset: ω, α, β (returns in percent) and σ²_{n+1}, the one-day forecast (percent²).
    public let fits: [(omega: Double, alpha: Double, beta: Double, forecastVariance: Double, nu: Double, persistence: Double)]

    public static func == (a: FilteredHistory, b: FilteredHistory) -> Bool { a.file == b.file && a.columns == b.columns }

    /// Reads the history and fits every asset.
    /// - Throws: `ScenarioError` at `path` for a bad file or too few days.
    init(file: String, columns: [String], assets: [String], path: String, scenarioFile: String) throws {
        self.file = file
        self.columns = columns
        func fail(_ message: String) -> ScenarioError { ScenarioError(file: scenarioFile, path: path, line: nil, message: message) }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw fail("history: \(file): " + (FileManager.default.fileExists(atPath: file) ? "cannot be read (permissions?)" : "no such file"))
        }
        SourceRecorder.record(data)
        let history: PriceHistory
        do {
            history = try PriceHistory(file: file, data: data, columns: zip(assets, columns).map { ($0, $1) })
        } catch let error as HistoryError {
            throw fail("history: \(error)")
        }
        var fitted: [GARCHFit] = []
        for series in history.series {
            let returns = series.returns()
            guard returns.count >= 250 else { throw fail("history: \(series.id) has \(returns.count) daily returns in \(file); filtered historical simulation needs at least 250") }
            fitted.append(try GARCHStudentT.fit(returns, id: series.id))
        }
        var columnsOfZ = commonResiduals(fitted, days: history.series.map(\.days))
        let common = columnsOfZ[0].count, n = assets.count
        guard common >= 250 else { throw fail("history: the assets share \(common) days with a return in \(file); filtered historical simulation needs at least 250") }
        for i in 0..<n {  // unit variance over the days drawn, so σ keeps its meaning
            let m = columnsOfZ[i].reduce(0, +) / Double(common)
            let sd = (columnsOfZ[i].reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(common)).squareRoot()
            columnsOfZ[i] = columnsOfZ[i].map { $0 / sd }
        }
        var matrix = [Double](repeating: 0, count: common * n)
        for d in 0..<common { for i in 0..<n { matrix[d * n + i] = columnsOfZ[i][d] } }
        residuals = matrix
        days = common
        fits = fitted.map { ($0.omega, $0.alpha, $0.beta, $0.forecastVariance, $0.nu, $0.persistence) }
    }

    /// √(σ²_{n+1}·365)/100: asset i's forecast as an annual vol (the scale the model applies).
    public func annualVol(_ i: Int) -> Double { (fits[i].forecastVariance * 365).squareRoot() / 100 }
}
