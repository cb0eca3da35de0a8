import CommandSupport
import Foundation
import History
import ScenarioSpec
import Synchronization

/// The GARCH filtering of a `filtered-historical` model's price file: per asset a GARCH(1,1)-t fit
/// (`thresher fit`'s estimator) of its daily percent returns, and the joint standardized residuals
/// z_t = ε_t/σ_t of the days on which every asset has a return, each asset's column rescaled to unit
/// variance over those days (so that σ keeps its meaning).
public struct FilteredHistoricalFit: Sendable {
    /// Day-major: `residuals[d * assets + i]`.
    public let residuals: [Double]
    public let days: Int
    /// Per asset: ω, α, β (returns in percent), σ²_{n+1} the one-day forecast (percent²), ν, α + β.
    public let fits: [(omega: Double, alpha: Double, beta: Double, forecastVariance: Double, nu: Double, persistence: Double)]

    /// Returns (and days in common) a fit needs.
    public static let minimumReturns = 250

    /// √(σ²_{n+1}·365)/100: asset i's forecast as an annual vol (the scale the model applies).
    public func annualVol(_ i: Int) -> Double { (fits[i].forecastVariance * 365).squareRoot() / 100 }

    /// The fit of `history`, computed once per process for each file content and columns.
    /// - Throws: `ScenarioError` at the section's `history` field for a bad file or too few days.
    public static func of(_ history: FilteredHistory) throws -> FilteredHistoricalFit {
        let key = Key(file: history.file, columns: history.columns, digest: FNV1a64.of(history.data))
        if let known = cache.withLock({ $0[key] }) { return known }
        let fit = try FilteredHistoricalFit(history)
        cache.withLock { $0[key] = fit }
        return fit
    }

    private struct Key: Hashable {
        let file: String
        let columns: [String]
        let digest: UInt64
    }
    private static let cache = Mutex<[Key: FilteredHistoricalFit]>([:])

    private init(_ spec: FilteredHistory) throws {
        let history: PriceHistory
        do {
            history = try PriceHistory(file: spec.file, data: spec.data, columns: zip(spec.assets, spec.columns).map { ($0, $1) })
        } catch let error as HistoryError {
            throw spec.error("\(error)")
        }
        let fitted: [GARCHFit]
        do {
            fitted = try GARCHStudentT.fitEach(history, minimumReturns: Self.minimumReturns)
        } catch let error as GARCHStudentT.TooFewReturns {
            throw spec.error("\(error.id) has \(error.count) daily returns in \(spec.file); filtered historical simulation needs at least \(error.minimum)")
        }
        var columnsOfZ = commonResiduals(fitted, days: history.series.map(\.days))
        let common = columnsOfZ[0].count, n = spec.assets.count
        guard common >= Self.minimumReturns else {
            throw spec.error("the assets share \(common) days with a return in \(spec.file); filtered historical simulation needs at least \(Self.minimumReturns)")
        }
        for i in 0..<n {
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
}
