import Foundation

/// What path-wise monitoring knows of an account with several assets or options before a path: its
/// surplus today and the surplus's variance rate (`SurplusBridge`, `GridMonitoring`).
struct GridAccount: Sendable {
    /// f₀ = E − M today, USD.
    let surplusNow: Double
    /// σ_f²: the variance of the surplus f = E − M per horizon at unit path scale, from today's
    /// sensitivities d_b = ∂f/∂X_b (X_b the standardized log-move; linear weights less the
    /// requirement's rates, options by a central difference of ±0.1 % in the spot) and the
    /// correlation: σ_f² = Σ_bc d_b·d_c·ρ_bc. A path of scale s has s²·σ_f².
    let varianceRate: Double
    /// The asset of largest σ_b·√T among its assets (0 when it has none): its barrier shift is the
    /// account's (the deviation trigger's in surplus units, `SurplusBridge`).
    let widestAsset: Int

    init(account a: Int, waterfall w: Waterfall, assets: [Int], horizonYears: Double) {
        let book = w.book, n = book.assetCount, spots = w.model.spots
        var delta = [Double](repeating: 0, count: n)
        for b in assets { delta[b] = book.linearWeights[a * n + b] }
        for position in w.positions[a] {
            let s = spots[position.asset], notional = position.notional(spot: s)
            delta[position.asset] -= position.exposure.perSpot * w.schedule.tier(asset: position.asset, notional: notional).maintenance(position.side)
        }
        for leg in book.options(ofAccount: a) {
            let s = spots[leg.asset], h = 1e-3 * s, years = leg.remainingYears + horizonYears
            let up = leg.value(spot: s + h, volFactor: 1, years: years, rate: book.rate)
            let down = leg.value(spot: s - h, volFactor: 1, years: years, rate: book.rate)
            delta[leg.asset] += leg.quantity * (up - down) / (2 * h)
        }
        let d = assets.map { delta[$0] * spots[$0] * w.model.returnScales[$0] }
        let factor = w.model.choleskyFactor
        var variance = 0.0
        for (x, b) in assets.enumerated() {
            for (y, c) in assets.enumerated() {
                var rho = 0.0
                for k in 0..<n { rho += factor[b * n + k] * factor[c * n + k] }
                variance += d[x] * d[y] * rho
            }
        }
        varianceRate = variance
        surplusNow = book.equityNow[a] - w.requirement(account: a) { spots[$0] }
        widestAsset = assets.max { w.model.returnScales[$0] < w.model.returnScales[$1] } ?? 0
    }
}
