import Distributions
import Foundation

/// The exact laws of a standard Brownian bridge X on [0, 1] from X(0) = 0 to X(1) = c (unit
/// variance per unit time; a path of scale s is handled by dividing barriers and ends by s).
/// Reflection principle, for a level b ≤ min(0, c):
///
///     P(min X ≤ b | c) = exp(−2·b·(b − c)),
///
/// and, with τ_b the first time X reaches b (conditioning on X(t) = y and reflecting at b),
///
///     F_b(t) = P(τ_b ≤ t | c) = Φ((b − t·c)/√(t(1−t))) + P(min X ≤ b | c)·Φ((b + t·(c − 2b))/√(t(1−t))),
///
/// which rises from 0 at t = 0 to P(min X ≤ b | c) at t = 1. Upper levels follow by X → −X.
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

    /// P(min X ≤ b | c): exp(−2b(b − c)) for b ≤ min(0, c), 1 otherwise.
    static func minimumProbability(level b: Double, end c: Double) -> Double {
        b >= min(0, c) ? 1 : exp(-2 * b * (b - c))
    }

    /// F_b(t) above, for 0 < t < 1 and b < 0 (for c ≤ b the factor exp(−2b(b − c)) exceeds 1 and
    /// F_b(1) = 1; it is capped at e⁷⁰⁰, where its Φ factor is 0 anyway).
    static func firstPassageCDF(_ t: Double, level b: Double, end c: Double) -> Double {
        let spread = (t * (1 - t)).squareRoot()
        let reflected = StandardNormal.cdf((b + t * (c - 2 * b)) / spread)
        return StandardNormal.cdf((b - t * c) / spread) + (reflected == 0 ? 0 : exp(min(700, -2 * b * (b - c))) * reflected)
    }

    /// The first time the bridge reaches b, given that it does (min X ≤ b): the t ∈ [0, 1] with
    /// F_b(t) = v·F_b(1), v ∈ (0, 1) a uniform — exact inversion by 50 bisections (|error| < 10⁻¹⁵ of
    /// the horizon). A level at or above min(0, c) is reached at once (b ≥ 0: t = 0), or, for
    /// 0 > b ≥ c, found by the same inversion of the bridge that ends below it.
    static func firstPassageTime(level b: Double, end c: Double, uniform v: Double) -> Double {
        guard b < 0 else { return 0 }
        let target = v * minimumProbability(level: b, end: c)
        var low = 0.0, high = 1.0
        for _ in 0..<50 {
            let mid = 0.5 * (low + high)
            if firstPassageCDF(mid, level: b, end: c) < target { low = mid } else { high = mid }
        }
        return 0.5 * (low + high)
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
