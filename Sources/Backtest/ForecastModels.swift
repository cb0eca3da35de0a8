import Distributions
import Foundation
import History
import LinearAlgebra
import ScenarioSpec
import Shocks
import WorkerPool

/// The models a backtest compares. Each forecasts the next row's log return of asset i as
/// R_i = (μ_i + σ_{i,t}·ε_i)/100 (percent returns), with ε the standardized innovations of N paths:
///
/// - `gaussian`: μ = 0, σ_{i,t} the sample standard deviation of the window's returns (moved daily),
///   ε ~ N(0, C) with C the window's return correlation (at each refit);
/// - `studentT`: as gaussian, ε multivariate Student-t with one ν fitted by maximum likelihood to the
///   window's standardized returns of all assets pooled (the scenario model `student-t`);
/// - `garchT`: per asset GARCH(1,1)-t (`GARCHStudentT`, arch's conventions) fitted on the window at each
///   refit, σ²_{t+1} = ω + α·(r_t − μ)² + β·σ²_t filtered daily, ε from a t-copula with ν_c the median
///   of the assets' ν, marginals standardized t(ν_i), correlation of the standardized residuals;
/// - `filteredHistorical`: the same GARCH fits and filter, ε a day of the window's standardized
///   residual vectors (each asset's rescaled to unit variance) drawn with replacement per path.
///
/// Draws depend only on (seed, path) and the fitted parameters.
public enum BacktestModel: String, CaseIterable, Sendable {
    case gaussian
    case studentT = "student-t"
    case garchT = "garch-t"
    case filteredHistorical = "filtered-historical"

    var usesGARCH: Bool { self == .garchT || self == .filteredHistorical }
}

/// Every fit one refit needs, on the window of returns ending at the block's first origin.
struct WindowFit: Sendable {
    /// Sample correlation of the window's returns.
    var correlation: [[Double]] = []
    /// ν of the pooled standardized returns (`studentT`).
    var pooledDof: Double?
    /// Per asset GARCH(1,1)-t fits, their residual correlation and the window's residual vectors,
    /// day-major (`residuals[d * n + i]`), each asset's column at unit variance.
    var garch: [GARCHFit] = []
    var residualCorrelation: [[Double]] = []
    var residuals: [Double] = []

    init(history: AlignedHistory, origin t: Int, window: Int, models: [BacktestModel]) throws {
        let n = history.assetIDs.count
        let windows = history.returns.map { Array($0[(t - window)..<t]) }
        if models.contains(.gaussian) || models.contains(.studentT) { correlation = sampleCorrelation(windows) }
        if models.contains(.studentT) { pooledDof = fitPooledDof(windows) }
        if models.contains(where: \.usesGARCH) {
            garch = try zip(history.assetIDs, windows).map { try GARCHStudentT.fit($1, id: $0, standardErrors: false) }
            var z = garch.map(\.standardizedResiduals)
            for i in 0..<n {
                let m = z[i].reduce(0, +) / Double(window)
                let sd = (z[i].reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(window)).squareRoot()
                z[i] = z[i].map { $0 / sd }
            }
            residualCorrelation = sampleCorrelation(z)
            residuals = (0..<(window * n)).map { z[$0 % n][$0 / n] }
        }
    }

    /// The model's per-asset mean (percent per row).
    func mean(_ model: BacktestModel) -> [Double] {
        model.usesGARCH ? garch.map(\.mu) : Array(repeating: 0, count: correlation.count)
    }
}

/// Pearson correlation of equally long series.
func sampleCorrelation(_ series: [[Double]]) -> [[Double]] {
    let n = series.count, m = Double(series[0].count)
    let centred = series.map { s -> [Double] in let mean = s.reduce(0, +) / m; return s.map { $0 - mean } }
    let norms = centred.map { $0.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    var matrix = [[Double]](repeating: [Double](repeating: 1, count: n), count: n)
    for i in 0..<n {
        for j in 0..<n where j != i {
            var product = 0.0
            for k in centred[i].indices { product += centred[i][k] * centred[j][k] }
            matrix[i][j] = product / (norms[i] * norms[j])
        }
    }
    return matrix
}

/// The maximum-likelihood ν in (2.05, 500) of the standardized Student-t density
/// f(x) = Γ((ν+1)/2)/(Γ(ν/2)·√(π(ν−2)))·(1 + x²/(ν−2))^{−(ν+1)/2} over every window return of every
/// asset, each series standardized by its own mean and standard deviation; golden-section search
/// on ln(ν − 2).
func fitPooledDof(_ series: [[Double]]) -> Double {
    var x: [Double] = []
    for s in series {
        let m = s.reduce(0, +) / Double(s.count)
        let sd = (s.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(s.count - 1)).squareRoot()
        x += s.map { ($0 - m) / sd }
    }
    func logLikelihood(_ nu: Double) -> Double {
        let constant: Double = logGamma((nu + 1) / 2) - logGamma(nu / 2) - 0.5 * log(Double.pi * (nu - 2))
        var total = 0.0
        for v in x { total += constant - 0.5 * (nu + 1) * log1p(v * v / (nu - 2)) }
        return total
    }
    let (low, high) = (GARCHStudentT.dofBounds.low, GARCHStudentT.dofBounds.high)
    var a = log(low - 2), b = log(high - 2)
    let ratio = (5.0.squareRoot() - 1) / 2
    var c = b - ratio * (b - a), d = a + ratio * (b - a)
    var fc = logLikelihood(2 + exp(c)), fd = logLikelihood(2 + exp(d))
    for _ in 0..<80 {
        if fc > fd { b = d; d = c; fd = fc; c = b - ratio * (b - a); fc = logLikelihood(2 + exp(c)) } else { a = c; c = d; fc = fd; d = a + ratio * (b - a); fd = logLikelihood(2 + exp(d)) }
    }
    return min(high, max(low, 2 + exp((a + b) / 2)))
}

/// The standardized innovations ε of `paths` paths under `model` fitted as `fit`, asset-major
/// (`epsilon[i * paths + p]`). The correlated models go through the scenario engine's own tail models
/// (`MarketModel`: the Cholesky factor from LAPACKE, the ziggurat over Philox, the t mixing and the
/// t-copula), so the draws of path p are those of `thresher run` for the same parameters.
func innovations(_ model: BacktestModel, fit: WindowFit, template: Scenario, paths: Int, threads: Int) throws -> [Double] {
    let n = template.market.assets.count
    if model == .filteredHistorical {
        var epsilon = [Double](repeating: 0, count: n * paths)
        epsilon.withUnsafeMutableBufferPointer {
            FilteredHistoricalShocks.historicalDays(residuals: fit.residuals, assets: n, seed: template.simulation.seed, stream: .assetNormals,
                                                    firstPath: 0, count: paths, into: $0.baseAddress!, stride: paths)
        }
        return epsilon
    }
    var scenario = template
    scenario.simulation.paths = paths
    scenario.market.shockCap = nil
    scenario.market.volShocks = nil
    scenario.market.smileFactors = []
    for i in 0..<n { scenario.market.assets[i].spot = 1; scenario.market.assets[i].vol = 1; scenario.market.assets[i].dof = nil }
    switch model {
    case .gaussian:
        scenario.market.correlation = fit.correlation
        scenario.market.tails = .gaussian
    case .studentT:
        scenario.market.correlation = fit.correlation
        scenario.market.tails = .studentT(dof: fit.pooledDof!)
    default:
        scenario.market.correlation = fit.residualCorrelation
        let dofs = fit.garch.map(\.nu)
        for i in 0..<n { scenario.market.assets[i].dof = dofs[i] }
        scenario.market.tails = .tCopula(dof: dofs.sorted()[n / 2])
    }
    let market: MarketModel
    do {
        market = try MarketModel(scenario: scenario)
    } catch {  // a window whose correlation is not positive definite (collinear returns): the nearest one
        let repaired = try Matrix(rowArrays: scenario.market.correlation).nearestCorrelation().matrix
        scenario.market.correlation = (0..<n).map { i in (0..<n).map { repaired[i, $0] } }
        market = try MarketModel(scenario: scenario)
    }
    let chunk = 4096, chunks = (paths + chunk - 1) / chunk
    let pieces = parallelMap(chunks, threads: threads) { range -> [[Double]] in
        let buffers = ShockBuffers(assetCount: n, capacity: chunk)
        return range.map { c in
            let first = c * chunk, count = min(chunk, paths - first)
            market.generateStandardized(firstPath: first, count: count, into: buffers)
            return (0..<n).flatMap { i in (0..<count).map { buffers.standardizedShock(asset: i, path: $0) } }
        }
    }
    var epsilon = [Double](repeating: 0, count: n * paths)
    for (c, piece) in pieces.enumerated() {
        let first = c * chunk, count = min(chunk, paths - first)
        for i in 0..<n { for j in 0..<count { epsilon[i * paths + first + j] = piece[i * count + j] } }
    }
    return epsilon
}
