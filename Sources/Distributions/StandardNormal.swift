import Foundation

/// The standard normal distribution N(0, 1).
///
/// The CDF goes through the C library's `erfc`, which keeps full relative precision in both tails;
/// the quantile is Wichura's algorithm AS 241 (PPND16), accurate to about 1e-16 relative.
public enum StandardNormal {
    /// Φ(x) = ½·erfc(−x/√2). Accurate in the lower tail (x → −∞).
    @inlinable public static func cdf(_ x: Double) -> Double { 0.5 * erfc(-x * 0.7071067811865475244) }

    /// 1 − Φ(x) = ½·erfc(x/√2). Accurate in the upper tail (x → +∞).
    @inlinable public static func survival(_ x: Double) -> Double { 0.5 * erfc(x * 0.7071067811865475244) }

    /// φ(x) = exp(−x²/2)/√(2π).
    @inlinable public static func density(_ x: Double) -> Double { 0.3989422804014326779 * exp(-0.5 * x * x) }

    /// Φ⁻¹(p) for p in (0, 1); −∞ at 0, +∞ at 1, NaN outside [0, 1].
    ///
    /// Wichura (1988), Algorithm AS 241, Applied Statistics 37(3): 477–484: three rational
    /// approximations (central |p − ½| ≤ 0.425, intermediate r = √(−log min(p, 1−p)) ≤ 5, far tail).
    public static func quantile(_ p: Double) -> Double {
        guard p > 0, p < 1 else {
            if p == 0 { return -.infinity }
            if p == 1 { return .infinity }
            return .nan
        }
        let q = p - 0.5
        if abs(q) <= 0.425 { return centralQuantile(q) }
        let tail = q < 0 ? p : 1 - p
        let x = lowerTailQuantileMagnitude(tail)
        return q < 0 ? -x : x
    }

    /// AS 241's central branch, Φ⁻¹(½ + q) for |q| ≤ 0.425: q·A(r)/B(r), r = 0.180625 − q², degree 7.
    @inline(__always) static func centralQuantile(_ q: Double) -> Double {
        let r = 0.180625 - q * q
        let num = (((((((2.5090809287301226727e+3 * r + 3.3430575583588128105e+4) * r
            + 6.7265770927008700853e+4) * r + 4.5921953931549871457e+4) * r
            + 1.3731693765509461125e+4) * r + 1.9715909503065514427e+3) * r
            + 1.3314166789178437745e+2) * r + 3.3871328727963666080e+0)
        let den = (((((((5.2264952788528545610e+3 * r + 2.8729085735721942674e+4) * r
            + 3.9307895800092710610e+4) * r + 2.1213794301586595867e+4) * r
            + 5.3941960214247511077e+3) * r + 6.8718700749205790830e+2) * r
            + 4.2313330701600911252e+1) * r + 1.0)
        return q * num / den
    }

    /// The x ≥ 0 with 1 − Φ(x) = q, for q in (0, ½]: the upper-tail quantile, accurate for tiny q
    /// (it never forms 1 − q).
    @inlinable public static func upperQuantile(_ q: Double) -> Double {
        q < 0.075 ? lowerTailQuantileMagnitude(q) : -quantile(q)
    }

    /// |Φ⁻¹(t)| for a tail probability t in (0, 0.075]: AS 241's two tail branches.
    @usableFromInline static func lowerTailQuantileMagnitude(_ t: Double) -> Double {
        var r = (-log(t)).squareRoot()
        if r <= 5 {
            r -= 1.6
            let num = (((((((7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                + 2.41780725177450611770e-1) * r + 1.27045825245236838258e+0) * r
                + 3.64784832476320460504e+0) * r + 5.76949722146069140550e+0) * r
                + 4.63033784615654529590e+0) * r + 1.42343711074968357734e+0)
            let den = (((((((1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                + 1.51986665636164571966e-2) * r + 1.48103976427480074590e-1) * r
                + 6.89767334985100004550e-1) * r + 1.67638483018380384940e+0) * r
                + 2.05319162663775882187e+0) * r + 1.0)
            return num / den
        }
        r -= 5
        let num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
            + 1.24266094738807843860e-3) * r + 2.65321895265761230930e-2) * r
            + 2.96560571828504891230e-1) * r + 1.78482653991729133580e+0) * r
            + 5.46378491116411436990e+0) * r + 6.65790464350110377720e+0)
        let den = (((((((2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
            + 1.84631831751005468180e-5) * r + 7.86869131145613259100e-4) * r
            + 1.48753612908506148525e-2) * r + 1.36929880922735805310e-1) * r
            + 5.99832206555887937690e-1) * r + 1.0)
        return num / den
    }
}
