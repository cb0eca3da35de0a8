import Foundation

/// Student's t distribution with ν > 0 degrees of freedom (unit scale, not standardized:
/// its variance is ν/(ν−2) for ν > 2).
///
/// Tail probabilities go through the regularized incomplete beta function,
/// P(T > x) = ½·I_{ν/(ν+x²)}(ν/2, ½) for x ≥ 0, so they keep full relative precision in the far
/// tail. The quantile inverts that by a safeguarded Newton iteration in log x, bracketed between
/// the normal quantile (below) and the power-law tail asymptote (above).
public struct StudentT: Sendable {
    /// Degrees of freedom ν.
    public let dof: Double
    /// log of the density's normalising constant, Γ((ν+1)/2) / (√(νπ) Γ(ν/2)).
    private let logNormaliser: Double
    /// log B(ν/2, ½).
    private let logBetaHalf: Double

    public init(dof: Double) {
        precondition(dof > 0, "Student-t needs dof > 0")
        self.dof = dof
        logNormaliser = logGamma((dof + 1) / 2) - logGamma(dof / 2) - 0.5 * log(dof * Double.pi)
        logBetaHalf = logBetaFunction(dof / 2, 0.5)
    }

    /// f(x) = C·(1 + x²/ν)^{−(ν+1)/2}.
    public func density(_ x: Double) -> Double {
        exp(logNormaliser - 0.5 * (dof + 1) * log1p(x * x / dof))
    }

    /// P(T > x), accurate (relative) as x → +∞.
    public func survival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        if x < 0 { return 1 - survival(-x) }
        if x == .infinity { return 0 }
        let x2 = x * x
        let denominator = dof + x2
        // I_z(ν/2, ½) with z = ν/(ν+x²), 1 − z = x²/(ν+x²), both formed without cancellation.
        return 0.5 * regularizedIncompleteBeta(x: dof / denominator, y: x2 / denominator,
                                               a: dof / 2, b: 0.5, logBeta: logBetaHalf)
    }

    /// P(T ≤ x), accurate (relative) as x → −∞.
    public func cdf(_ x: Double) -> Double { survival(-x) }

    /// The quantile T⁻¹(p) for p in (0, 1).
    public func quantile(_ p: Double) -> Double {
        p < 0.5 ? -upperQuantile(p) : upperQuantile(1 - p)
    }

    /// The x with P(T > x) = q, for q in (0, 1); accurate for tiny q (it never forms 1 − q).
    public func upperQuantile(_ q: Double) -> Double {
        guard q > 0, q < 1 else {
            if q == 0 { return .infinity }
            if q == 1 { return -.infinity }
            return .nan
        }
        if q > 0.5 { return -upperQuantile(1 - q) }
        if q == 0.5 { return 0 }
        // Bracket in y = log x. Lower: the normal quantile (t tails are heavier). Upper: the
        // asymptote S(x) ≈ C·ν^{(ν−1)/2}·x^{−ν}, which bounds S from above for every x > 0.
        var low = log(max(StandardNormal.upperQuantile(q), 1e-300))
        var high = (logNormaliser + 0.5 * (dof - 1) * log(dof) - log(q)) / dof
        if high < low { swap(&low, &high) }
        let logQ = log(q)
        var y = 0.5 * (low + high)
        for _ in 0..<200 {
            let x = exp(y)
            let tail = survival(x)
            let g = log(tail) - logQ                       // decreasing in y
            if g > 0 { low = y } else { high = y }
            let slope = -x * density(x) / tail             // dg/dy
            var next = y - g / slope
            if !(next > low && next < high) { next = 0.5 * (low + high) }
            if abs(next - y) <= 1e-15 * max(1, abs(y)) { y = next; break }
            y = next
        }
        return exp(y)
    }
}
