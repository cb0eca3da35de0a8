import Foundation
import History
import ScenarioSpec

/// The report of `thresher fit`: per asset the GARCH(1,1)-t estimates with robust standard errors,
/// the log-likelihood, persistence, the one-step variance forecast and its annualised vol; the
/// correlation of the standardized residuals; and the market section built from them.
public struct FitReport: CommandReport {
    public let file: String
    public let returns: String
    public let periodsPerYear: Double
    public let fits: [GARCHFit]
    /// Last price of each series (the market section's spot).
    public let spots: [Double]
    public let correlation: [[Double]]
    public let commonDays: Int

    public init(file: String, returns: String, periodsPerYear: Double, fits: [GARCHFit], spots: [Double], correlation: [[Double]], commonDays: Int) {
        self.file = file
        self.returns = returns
        self.periodsPerYear = periodsPerYear
        self.fits = fits
        self.spots = spots
        self.correlation = correlation
        self.commonDays = commonDays
    }

    /// √(σ²_{n+1}·periods per year)/100: the forecast as an annual vol (returns are in percent).
    public func annualVol(_ fit: GARCHFit) -> Double { (fit.forecastVariance * periodsPerYear).squareRoot() / 100 }

    static let parameterNames = ["mu", "omega", "alpha", "beta", "nu"]

    public var json: JSONValue {
        let assets: [JSONValue] = fits.map { f in
            let errors: JSONValue = f.standardErrors.map { e in .object(zip(Self.parameterNames, e).map { ($0, .number($1)) }) } ?? .null
            return .object([
                ("id", .string(f.id)), ("n", .integer(f.n)), ("mu", .number(f.mu)), ("omega", .number(f.omega)), ("alpha", .number(f.alpha)),
                ("beta", .number(f.beta)), ("nu", .number(f.nu)), ("loglik", .number(f.logLikelihood)), ("std_err", errors),
                ("persistence", .number(f.persistence)), ("at_stationarity_boundary", .bool(f.atStationarityBoundary)),
                ("forecast_variance", .number(f.forecastVariance)), ("annual_vol", .number(annualVol(f))),
            ])
        }
        return .object([
            ("file", .string(file)), ("model", .string("GARCH(1,1), standardized Student-t, constant mean")),
            ("returns", .string(returns == "log" ? "100·ln(Pₜ/Pₜ₋₁)" : "100·(Pₜ/Pₜ₋₁ − 1)")), ("periods_per_year", .number(periodsPerYear)),
            ("assets", .array(assets)),
            ("residual_correlation", .object([("days", .integer(commonDays)), ("matrix", .array(correlation.map { .array($0.map(JSONValue.number)) }))])),
        ])
    }

    public var document: ReportDocument {
        func se(_ f: GARCHFit, _ i: Int) -> ReportCell { f.standardErrors.map { .number($0[i], format: "%.2g") } ?? .label("—") }
        let table = ReportTable(
            csvName: "fit.csv",
            // On a narrow terminal the standard errors go first, the annual vol (the market section's) last.
            columns: [.init("asset", csv: "id"), .init("n", csv: "n"), .init("μ", csv: "mu"), .init("± se", csv: "mu_se", priority: 0), .init("ω", csv: "omega"),
                      .init("± se", csv: "omega_se", priority: 0), .init("α", csv: "alpha"), .init("± se", csv: "alpha_se", priority: 0), .init("β", csv: "beta"),
                      .init("± se", csv: "beta_se", priority: 0), .init("ν", csv: "nu"), .init("± se", csv: "nu_se", priority: 0), .init("α+β", csv: "persistence"),
                      .init("log-lik", csv: "loglik"), .init("σ²₊₁", csv: "forecast_variance"), .init("annual vol", csv: "annual_vol", priority: 2)],
            rows: fits.map { f in
                [.label(f.id), .integer(f.n), .number(f.mu, format: "%.4g"), se(f, 0), .number(f.omega, format: "%.4g"), se(f, 1),
                 .number(f.alpha, format: "%.4f"), se(f, 2), .number(f.beta, format: "%.4f"), se(f, 3), .number(f.nu, format: "%.3f"), se(f, 4),
                 .number(f.persistence, format: "%.5f"), .number(f.logLikelihood, format: "%.2f"), .number(f.forecastVariance, format: "%.4g"), .rate(annualVol(f))]
            })
        var notes = fits.filter(\.atStationarityBoundary).map {
            "\($0.id): α + β = \(String(format: "%.6f", $0.persistence)) — at the stationarity boundary (integrated GARCH): shocks to its variance do not decay and the unconditional variance does not exist; the forecast is still the one-step σ²."
        }
        if notes.isEmpty { notes = ["Every fit is stationary (α + β < 1)."] }
        var sections = [ReportSection(heading: "GARCH(1,1)-t per asset",
                                      note: "Returns in percent; robust (sandwich) standard errors, as arch reports; annual vol = √(σ²₊₁·\(Int(periodsPerYear)))/100.",
                                      blocks: [.table(table), .text(notes)])]
        if fits.count > 1 {
            sections.append(ReportSection(heading: "Correlation of the standardized residuals", note: "On the \(commonDays) days every series has a return.",
                                          blocks: [.table(ReportTable(csvName: "residual_correlation.csv", columns: [.init("", csv: "id")] + fits.map { .init($0.id, csv: $0.id) },
                                                                      rows: fits.indices.map { i in [.label(fits[i].id)] + correlation[i].map { .number($0, format: "%.3f") } }))]))
        }
        return ReportDocument(title: "Thresher fit — \(file)", context: ["\(fits.count) series from \(file), \(returns) returns between consecutive rows"],
                              sections: sections, footer: [], json: json)
    }

    /// A `market:` section for a scenario: spots (last prices), vols (annualised forecasts), each
    /// asset's ν as its marginal dof, the residual correlation, and a t-copula with ν_c the median ν.
    public var marketYAML: String {
        let dofs = fits.map(\.nu).sorted()
        return MarketWriter.yaml(
            comment: "Fitted by thresher fit from \(file): GARCH(1,1)-t per asset; vol = one-step forecast annualised over \(Int(periodsPerYear)) periods",
            assets: zip(fits, spots).map { MarketWriter.Asset(id: $0.id, spot: $1, vol: annualVol($0), dof: $0.nu) },
            correlation: correlation, tails: .tCopula(dof: dofs[dofs.count / 2]))
    }
}
