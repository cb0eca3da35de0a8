import Foundation
import LinearAlgebra

/// GARCH(1,1) with standardized Student-t innovations and a constant mean, fitted by maximum
/// likelihood, following the conventions of the Python `arch` package so that its estimates are a
/// known answer:
///
///     r_t = μ + ε_t,   ε_t = σ_t·z_t,   z_t ~ standardized t(ν) (unit variance),
///     σ²_t = ω + α·ε²_{t−1} + β·σ²_{t−1},   σ²_0 from the backcast b (ε²_{−1} = σ²_{−1} = b),
///     b = Σ_{i<τ} w_i·(r_i − r̄)², w_i ∝ 0.94^i, τ = min(75, n),
///     ℓ_t = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(π(ν−2)) − ½ ln σ²_t − (ν+1)/2 · ln(1 + ε²_t/(σ²_t(ν−2))),
///
/// with ω > 0, α, β ≥ 0, α + β < 1 and ν in (2.05, 500). Returns are in the units given (the CLI
/// passes percent returns, as `arch` expects).
public struct GARCHFit: Sendable {
    public let id: String
    /// Returns used.
    public let n: Int
    public let mu: Double
    public let omega: Double
    public let alpha: Double
    public let beta: Double
    public let nu: Double
    public let logLikelihood: Double
    /// Robust (sandwich) standard errors of μ, ω, α, β, ν — `arch`'s default — nil when the Hessian
    /// is singular (an estimate on a boundary).
    public let standardErrors: [Double]?
    /// σ²_{n+1} = ω + α·ε²_n + β·σ²_n, in the returns' units squared.
    public let forecastVariance: Double
    /// The standardized residuals z_t = ε_t/σ_t, one per return.
    public let standardizedResiduals: [Double]
    /// The conditional variances σ²_t.
    public let variances: [Double]
    public var persistence: Double { alpha + beta }
    /// α + β within 1e-4 of 1: the data sit at the stationarity boundary (an integrated GARCH); the
    /// unconditional variance does not exist.
    public var atStationarityBoundary: Bool { persistence > 1 - 1e-4 }
}

public enum GARCHStudentT {
    /// ν is kept in this interval, as `arch` does.
    public static let dofBounds = (low: 2.05, high: 500.0)

    /// The backcast b of the initial variance (see `GARCHFit`).
    static func backcast(_ returns: [Double]) -> Double {
        let mean = returns.reduce(0, +) / Double(returns.count)
        let tau = min(75, returns.count)
        var weights = (0..<tau).map { pow(0.94, Double($0)) }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        return (0..<tau).reduce(0) { $0 + weights[$1] * (returns[$1] - mean) * (returns[$1] - mean) }
    }

    /// Σ ℓ_t at the natural parameters (μ, ω, α, β, ν); each ℓ_t into `contributions` when given.
    static func logLikelihood(_ p: [Double], returns: [Double], backcast: Double, contributions: UnsafeMutablePointer<Double>? = nil,
                              variances: UnsafeMutablePointer<Double>? = nil) -> Double {
        let (mu, omega, alpha, beta, nu) = (p[0], p[1], p[2], p[3], p[4])
        let gammaRatio: Double = lgamma((nu + 1) / 2) - lgamma(nu / 2)
        let constant: Double = gammaRatio - 0.5 * log(Double.pi * (nu - 2))
        var total = 0.0
        var previousSquare = backcast, previousVariance = backcast
        for t in returns.indices {
            let variance = omega + alpha * previousSquare + beta * previousVariance
            let e = returns[t] - mu
            let scaled: Double = e * e / (variance * (nu - 2))
            let l: Double = constant - 0.5 * log(variance) - 0.5 * (nu + 1) * log(1 + scaled)
            contributions?[t] = l
            variances?[t] = variance
            total += l
            previousSquare = e * e
            previousVariance = variance
        }
        return total
    }

    /// Natural parameters from unconstrained θ: μ = θ₀, ω = e^θ₁, α + β = s(θ₂), α = (α+β)·s(θ₃),
    /// ν = 2.05 + 497.95·s(θ₄), s the logistic function.
    static func natural(_ theta: [Double]) -> [Double] {
        func s(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let persistence = s(theta[2]), share = s(theta[3])
        return [theta[0], exp(theta[1]), persistence * share, persistence * (1 - share),
                dofBounds.low + (dofBounds.high - dofBounds.low) * s(theta[4])]
    }

    static func unconstrained(_ p: [Double]) -> [Double] {
        func logit(_ x: Double) -> Double { log(x / (1 - x)) }
        let persistence = p[2] + p[3]
        return [p[0], log(p[1]), logit(persistence), logit(p[2] / persistence),
                logit((p[4] - dofBounds.low) / (dofBounds.high - dofBounds.low))]
    }

    /// Returns a fit needs at least (`fit`'s minimum; a caller may ask for more).
    public static let minimumReturns = 100

    /// A series with fewer returns than a fit needs.
    public struct TooFewReturns: Error {
        public let id: String
        public let count: Int
        public let minimum: Int
    }

    /// The fit of every series of `history`, in order, from the returns between its consecutive
    /// rows (percent, or log with `logarithmic`), each series needing `minimumReturns` of them
    /// (`thresher fit`: 100; filtered historical simulation: 250).
    /// - Throws: `TooFewReturns` for the first series short of returns.
    public static func fitEach(_ history: PriceHistory, logarithmic: Bool = false, minimumReturns: Int = minimumReturns) throws -> [GARCHFit] {
        try history.series.map { series in
            let returns = series.returns(logarithmic: logarithmic)
            guard returns.count >= minimumReturns else { throw TooFewReturns(id: series.id, count: returns.count, minimum: minimumReturns) }
            return try fit(returns, id: series.id)
        }
    }

    /// The maximum-likelihood fit of `returns` (at least 100); `standardErrors: false` skips the
    /// sandwich (the backtest re-fits hundreds of windows and reports none).
    public static func fit(_ returns: [Double], id: String, standardErrors: Bool = true) throws -> GARCHFit {
        let b = backcast(returns)
        let n = Double(returns.count)
        let mean = returns.reduce(0, +) / n
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        func objective(_ theta: [Double]) -> Double {
            let value = -logLikelihood(natural(theta), returns: returns, backcast: b)
            return value.isFinite ? value : .greatestFiniteMagnitude
        }
        // Several starts (as arch tries a grid); the best optimum wins.
        var best: (theta: [Double], value: Double)?
        for (alpha, beta) in [(0.05, 0.9), (0.1, 0.85), (0.1, 0.6), (0.2, 0.75)] {
            for nu in [5.0, 10.0] {
                let start = unconstrained([mean, variance * (1 - alpha - beta), alpha, beta, nu])
                let result = minimizeBFGS(objective, from: start)
                if best == nil || result.value < best!.value { best = result }
            }
        }
        let p = natural(best!.theta)
        var contributions = [Double](repeating: 0, count: returns.count)
        var variances = [Double](repeating: 0, count: returns.count)
        let loglik = contributions.withUnsafeMutableBufferPointer { c in
            variances.withUnsafeMutableBufferPointer { v in logLikelihood(p, returns: returns, backcast: b, contributions: c.baseAddress, variances: v.baseAddress) }
        }
        let last = returns.count - 1
        let forecast = p[1] + p[2] * (returns[last] - p[0]) * (returns[last] - p[0]) + p[3] * variances[last]
        let residuals = returns.indices.map { (returns[$0] - p[0]) / variances[$0].squareRoot() }
        return GARCHFit(id: id, n: returns.count, mu: p[0], omega: p[1], alpha: p[2], beta: p[3], nu: p[4], logLikelihood: loglik,
                        standardErrors: standardErrors ? robustStandardErrors(p, returns: returns, backcast: b) : nil, forecastVariance: forecast,
                        standardizedResiduals: residuals, variances: variances)
    }

    /// √diag(H⁻¹ G H⁻¹): H the Hessian of −Σℓ_t and G = Σ s_t s_tᵀ the outer product of the scores,
    /// both by central differences at the estimate (the sandwich `arch` reports by default).
    static func robustStandardErrors(_ p: [Double], returns: [Double], backcast b: Double) -> [Double]? {
        let k = p.count, n = returns.count
        let steps = p.map { 1e-5 * max(abs($0), 1e-3) }
        func contributions(_ q: [Double]) -> [Double] {
            var c = [Double](repeating: 0, count: n)
            c.withUnsafeMutableBufferPointer { _ = logLikelihood(q, returns: returns, backcast: b, contributions: $0.baseAddress) }
            return c
        }
        func shifted(_ i: Int, _ di: Double, _ j: Int = 0, _ dj: Double = 0) -> [Double] {
            var q = p
            q[i] += di * steps[i]
            q[j] += dj * steps[j]
            return q
        }
        func total(_ q: [Double]) -> Double { -logLikelihood(q, returns: returns, backcast: b) }
        var scores = [[Double]](repeating: [], count: k)
        for i in 0..<k {
            let up = contributions(shifted(i, 1)), down = contributions(shifted(i, -1))
            scores[i] = (0..<n).map { (up[$0] - down[$0]) / (2 * steps[i]) }
        }
        var hessian = Matrix(rows: k, columns: k, elements: Array(repeating: 0, count: k * k))
        var outer = hessian
        for i in 0..<k {
            for j in i..<k {
                let h = (total(shifted(i, 1, j, 1)) - total(shifted(i, 1, j, -1)) - total(shifted(i, -1, j, 1)) + total(shifted(i, -1, j, -1)))
                    / (4 * steps[i] * steps[j])
                hessian[i, j] = h
                hessian[j, i] = h
                var g = 0.0
                for t in 0..<n { g += scores[i][t] * scores[j][t] }
                outer[i, j] = g
                outer[j, i] = g
            }
        }
        guard let inverse = try? hessian.inverseOfPositiveDefinite() else { return nil }
        var errors: [Double] = []
        for i in 0..<k {
            var v = 0.0
            for a in 0..<k { for c in 0..<k { v += inverse[i, a] * outer[a, c] * inverse[c, i] } }
            errors.append(v.squareRoot())
        }
        return errors
    }
}

/// Minimizes f by BFGS with central-difference gradients and a backtracking (Armijo) line search.
/// Stops when a step no longer lowers f by 1e-12 relative, or after `iterations` steps.
func minimizeBFGS(_ f: ([Double]) -> Double, from start: [Double], iterations: Int = 400) -> (theta: [Double], value: Double) {
    let k = start.count
    func gradient(_ x: [Double]) -> [Double] {
        (0..<k).map { i in
            let h = 1e-6 * max(1, abs(x[i]))
            var up = x, down = x
            up[i] += h
            down[i] -= h
            return (f(up) - f(down)) / (2 * h)
        }
    }
    var x = start, value = f(x), g = gradient(x)
    var inverse = (0..<k).map { i in (0..<k).map { $0 == i ? 1.0 : 0.0 } }
    for _ in 0..<iterations {
        var direction = (0..<k).map { i in -(0..<k).reduce(0) { $0 + inverse[i][$1] * g[$1] } }
        var slope = zip(direction, g).reduce(0) { $0 + $1.0 * $1.1 }
        if slope >= 0 {  // not a descent direction: restart from steepest descent
            inverse = (0..<k).map { i in (0..<k).map { $0 == i ? 1.0 : 0.0 } }
            direction = g.map { -$0 }
            slope = -g.reduce(0) { $0 + $1 * $1 }
        }
        var step = 1.0, candidate = x, candidateValue = value
        while step > 1e-12 {
            candidate = zip(x, direction).map { $0 + step * $1 }
            candidateValue = f(candidate)
            if candidateValue <= value + 1e-4 * step * slope { break }
            step *= 0.5
        }
        if step <= 1e-12 || value - candidateValue <= 1e-12 * max(1, abs(value)) {
            if candidateValue < value { x = candidate; value = candidateValue }
            break
        }
        let newGradient = gradient(candidate)
        let s = zip(candidate, x).map { $0 - $1 }, y = zip(newGradient, g).map { $0 - $1 }
        let sy = zip(s, y).reduce(0) { $0 + $1.0 * $1.1 }
        x = candidate
        value = candidateValue
        g = newGradient
        guard sy > 1e-16 else { continue }
        let hy = (0..<k).map { i in (0..<k).reduce(0) { $0 + inverse[i][$1] * y[$1] } }
        let yhy = zip(y, hy).reduce(0) { $0 + $1.0 * $1.1 }
        for i in 0..<k {
            for j in 0..<k {
                inverse[i][j] += (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy
            }
        }
    }
    return (x, value)
}
