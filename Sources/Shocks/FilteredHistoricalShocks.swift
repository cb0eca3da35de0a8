import Foundation
import RandomStreams

/// `tails: {model: filtered-historical, …}` — for path p, days u_1 … u_m drawn uniformly with
/// replacement from the history's D joint residual vectors (stream `draw.normals` of path p alone),
/// and for each asset the GARCH recursion run forward from today's forecast:
///
///     r_d = σ_d·z_{u_d},  σ²_1 = σ²_{n+1} (the fit's forecast),  σ²_{d+1} = ω + α·r²_d + β·σ²_d,
///
/// in percent; the horizon's log-return is R = Σ_d r_d/100 over m = ⌊h⌋ whole days plus √(h − m)·r
/// of one more day for a fractional remainder (h in days; below one day R = √h·r_1/100). The
/// market model applies S' = S·e^{σ√(h/365)·ε}, so ε = R/(σ√(h/365)) with σ the asset's `vol`: the
/// scale is the GARCH forecast's, whatever `vol` says. The liquidation move of the calibration
/// (`draw: .liquidation`) draws one day's z_u itself (unit variance by construction), which the
/// waterfall scales by `vol`·√h_liq — set `vol` to the forecast (`thresher fit --out` does).
public struct FilteredHistoricalShocks: ShockDistribution {
    let history: FilteredHistoricalFit
    let seed: UInt64
    let horizonDays: Double
    let vols: [Double]

    public func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw) {
        let n = vols.count, ld = buffers.capacity, days = history.days
        if draw == .liquidation {
            Self.historicalDays(residuals: history.residuals, assets: n, seed: seed, stream: draw.normals, firstPath: firstPath, count: count,
                                into: buffers.epsilon, stride: ld)
            return
        }
        let wholeDays = Int(horizonDays.rounded(.down)), remainder = horizonDays - Double(wholeDays)
        var variance = [Double](repeating: 0, count: n), total = [Double](repeating: 0, count: n)
        let scales = vols.map { $0 * (horizonDays / 365).squareRoot() }
        for j in 0..<count {
            var stream = PathStream(seed: seed, path: firstPath + j, stream: draw.normals)
            func day() -> Int { Self.day(&stream, days: days) }
            for i in 0..<n { variance[i] = history.fits[i].forecastVariance; total[i] = 0 }
            for d in 0..<(wholeDays + (remainder > 0 ? 1 : 0)) {
                let u = day()
                let weight = d < wholeDays ? 1 : remainder.squareRoot()
                for i in 0..<n {
                    let r = variance[i].squareRoot() * history.residuals[u * n + i]
                    total[i] += weight * r
                    let f = history.fits[i]
                    variance[i] = f.omega + f.alpha * r * r + f.beta * variance[i]
                }
            }
            for i in 0..<n { buffers.epsilon[i * ld + j] = total[i] / 100 / scales[i] }
        }
    }

    /// One historical day per path: ε of path p is the joint residual vector of day
    /// u = min(D − 1, ⌊U·D⌋), U the first uniform of path p's stream `stream` — the draw of the
    /// liquidation move above, and the backtest's filtered-historical innovations.
    /// - Parameters:
    ///   - residuals: D days × `assets`, day-major; `epsilon[i * stride + j]` receives asset i of
    ///     path `firstPath + j`, j < `count`.
    public static func historicalDays(residuals: [Double], assets n: Int, seed: UInt64, stream: StreamID, firstPath: Int, count: Int,
                                      into epsilon: UnsafeMutablePointer<Double>, stride: Int) {
        let days = residuals.count / n
        for j in 0..<count {
            var path = PathStream(seed: seed, path: firstPath + j, stream: stream)
            let u = day(&path, days: days)
            for i in 0..<n { epsilon[i * stride + j] = residuals[u * n + i] }
        }
    }

    /// A day drawn uniformly from D: min(D − 1, ⌊U·D⌋), U the stream's next uniform.
    @inline(__always) static func day(_ stream: inout PathStream, days: Int) -> Int { min(days - 1, Int(stream.nextUniform() * Double(days))) }
}
