import Foundation

/// The exact laws of a standard Brownian bridge X on [0, 1] from X(0) = 0 to X(1) = c (unit
/// variance per unit time; a path of scale s is handled by dividing barriers and ends by s).
/// Reflection principle, for a level b ≤ min(0, c): P(min X ≤ b | c) = exp(−2·b·(b − c)); the
/// first time X reaches b has the law of `firstPassageTime`. Upper levels follow by X → −X.
enum BridgeExtremes {
    /// The bridge's minimum drawn by inversion of its law with the uniform u ∈ (0, 1):
    /// m = (c − √(c² − 2 ln u))/2 ≤ min(0, c); P(m ≤ b) = exp(−2b(b − c)) for b ≤ min(0, c).
    @inline(__always) static func minimum(end c: Double, uniform u: Double) -> Double {
        0.5 * (c - (c * c - 2 * log(u)).squareRoot())
    }

    /// The bridge's maximum: M = (c + √(c² − 2 ln u))/2 ≥ max(0, c).
    @inline(__always) static func maximum(end c: Double, uniform u: Double) -> Double {
        0.5 * (c + (c * c - 2 * log(u)).squareRoot())
    }

    /// The first time τ the bridge reaches b < 0, given that it does, drawn exactly from one standard
    /// normal ν and one uniform v ∈ (0, 1). With t = τ, the law of τ given the hit has density
    /// ∝ t^{−3/2}(1 − t)^{−1/2}·exp(−b²/(2t) − (c − b)²/(2(1 − t))); with U = τ/(1 − τ) it is
    /// ∝ U^{−3/2}·exp(−b²/(2U) − (c − b)²·U/2): the inverse Gaussian law IG(μ = |b|/|c − b|, λ = b²).
    /// U is drawn by Michael, Schucany & Haas (1976): y = ν², x = μ + μ²y/(2λ) − (μ/(2λ))·√(4μλy + μ²y²),
    /// U = x if v ≤ μ/(μ + x), else μ²/x (c = b: the Lévy law U = b²/ν²); τ = U/(1 + U). A level
    /// at or above 0 is reached at once (τ = 0).
    static func firstPassageTime(level b: Double, end c: Double, normal: Double, uniform v: Double) -> Double {
        guard b < 0 else { return 0 }
        let y = normal * normal, lambda = b * b
        guard c != b else { let u = lambda / y; return u.isFinite ? u / (1 + u) : 1 }
        let mu = -b / abs(c - b)
        let x = mu + mu * mu * y / (2 * lambda) - mu / (2 * lambda) * (4 * mu * lambda * y + mu * mu * y * y).squareRoot()
        let u = v <= mu / (mu + x) ? x : mu * mu / x
        return u.isFinite ? u / (1 + u) : 1
    }

    /// Where the bridge is after it stood at `from` at time t₀ and `move` more time passed (both in
    /// horizon units), given its end c at 1 — continuing as a Brownian motion past the horizon: the
    /// mean and standard deviation of X(t₀ + move), unit scale.
    /// - within the horizon (t₀ + move ≤ 1): mean from + (c − from)·move/(1 − t₀), variance
    ///   move·(1 − t₀ − move)/(1 − t₀) (a bridge from `from` to c);
    /// - past it: mean c, variance t₀ + move − 1.
    @inline(__always) static func continuation(from x: Double, at t0: Double, move: Double, end c: Double) -> (mean: Double, deviation: Double) {
        let rest = 1 - t0
        guard t0 + move < 1, rest > 0 else { return (c, max(0, t0 + move - 1).squareRoot()) }
        return (x + (c - x) * move / rest, (move * (rest - move) / rest).squareRoot())
    }

    /// Broadie, Glasserman & Kou (1997): a barrier checked every Δt behaves like a continuous one
    /// moved away from the start by β₁·σ·√Δt, β₁ = −ζ(½)/√(2π) ≈ 0.5826.
    static let discreteShift = 0.5826
}
