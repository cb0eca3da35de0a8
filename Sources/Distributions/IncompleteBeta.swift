import Foundation

/// The regularized incomplete beta function I_x(a, b) = B(x; a, b)/B(a, b), for a, b > 0.
///
/// Evaluated by the continued fraction of Didonato–Morris / Numerical Recipes §6.4 with the modified
/// Lentz algorithm, on whichever of I_x(a, b) and 1 − I_{1−x}(b, a) converges fast
/// (x < (a+1)/(a+b+2)). Both x and y = 1 − x are taken as arguments so that callers can pass a
/// complement they computed without cancellation (the t tail needs that); `logBeta` = log B(a, b)
/// is passed in because it only depends on (a, b) and is computed once by the caller.
///
/// The direct branch keeps full *relative* precision when I_x(a, b) is tiny, which is what makes
/// Student-t tail probabilities accurate down to 1e-300.
public func regularizedIncompleteBeta(x: Double, y: Double, a: Double, b: Double, logBeta: Double) -> Double {
    if x <= 0 { return 0 }
    if y <= 0 { return 1 }
    if x < (a + 1) / (a + b + 2) {
        return incompleteBetaFront(x: x, y: y, a: a, b: b, logBeta: logBeta) * incompleteBetaFraction(x: x, a: a, b: b) / a
    }
    return 1 - incompleteBetaFront(x: x, y: y, a: a, b: b, logBeta: logBeta) * incompleteBetaFraction(x: y, a: b, b: a) / b
}

/// log B(a, b) = log Γ(a) + log Γ(b) − log Γ(a + b).
public func logBetaFunction(_ a: Double, _ b: Double) -> Double {
    logGamma(a) + logGamma(b) - logGamma(a + b)
}

/// log Γ(x) for x > 0, through the re-entrant `lgamma_r` (plain `lgamma` writes a global).
public func logGamma(_ x: Double) -> Double {
    var sign: Int32 = 0
    return lgamma_r(x, &sign)
}

/// x^a · y^b / B(a, b), computed in logs.
@inline(__always)
private func incompleteBetaFront(x: Double, y: Double, a: Double, b: Double, logBeta: Double) -> Double {
    exp(a * log(x) + b * log(y) - logBeta)
}

/// The continued fraction 1/(1+ d1/(1+ d2/(1+ …))) of I_x(a, b), modified Lentz; converges for
/// x < (a+1)/(a+b+2) in O(√max(a, b)) terms.
private func incompleteBetaFraction(x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    let qab = a + b, qap = a + 1, qam = a - 1
    var c = 1.0
    var d = 1 - qab * x / qap
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...1000 {
        let m = Double(m), m2 = 2 * m
        var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        h *= delta
        if abs(delta - 1) < 2e-16 { break }
    }
    return h
}
