import Foundation

/// European option prices under Black–Scholes with a continuously compounded rate r and no
/// dividends: call = S·Φ(d1) − K·e^{−rτ}·Φ(d2), put = K·e^{−rτ}·Φ(−d2) − S·Φ(−d1),
/// d1 = (ln(S/K) + (r + σ²/2)τ)/(σ√τ), d2 = d1 − σ√τ. τ in years, σ annualised; at τ ≤ 0 the
/// price is the intrinsic value.
public enum BlackScholes {
    public static func price(isCall: Bool, spot: Double, strike: Double, years tau: Double, rate: Double, vol: Double) -> Double {
        if tau <= 0 { return intrinsic(isCall: isCall, spot: spot, strike: strike) }
        let stdDev = vol * tau.squareRoot()
        let d1 = (log(spot / strike) + (rate + 0.5 * vol * vol) * tau) / stdDev
        let d2 = d1 - stdDev, discountedStrike = strike * exp(-rate * tau)
        // Φ(x) = ½·erfc(−x/√2)
        let k = 0.7071067811865475244
        if isCall {
            return spot * 0.5 * erfc(-d1 * k) - discountedStrike * 0.5 * erfc(-d2 * k)
        }
        return discountedStrike * 0.5 * erfc(d2 * k) - spot * 0.5 * erfc(d1 * k)
    }

    @inline(__always)
    public static func intrinsic(isCall: Bool, spot: Double, strike: Double) -> Double {
        isCall ? max(spot - strike, 0) : max(strike - spot, 0)
    }
}
