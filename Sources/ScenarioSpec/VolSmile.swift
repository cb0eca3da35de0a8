import Foundation

/// `market.smiles.<asset>` — an asset's implied-vol surface as raw SVI slices (Gatheral 2004) or an
/// expiry × moneyness or expiry × strike grid (`VolGrid`), and its dynamics under a spot move.
///
/// Slice j (expiry Tⱼ years; an SVI slice or a row of the grid) gives the total implied variance at
/// log-moneyness k = ln(K/F), F = S·e^{rT} the forward of the option's expiry T at spot S:
///   SVI: wⱼ(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²));  grid: `VolGrid.row`;  iv(k, Tⱼ) = √(wⱼ(k)/Tⱼ).
/// Between two slices, w is linear in T at fixed k (calendar-arbitrage-free when the slices do not
/// cross, which validation checks); before the first slice and after the last, the implied vol of the
/// nearest slice at the same k (w proportional to T, also calendar-free).
public struct VolSmile: Sendable, Equatable {
    /// How the smile moves when the spot moves from S to S' (the smile is not rolled in time: an
    /// option keeps reading it at its expiry T from now).
    public enum Dynamics: String, Sendable, CaseIterable {
        /// Each option keeps iv(K, T) of now: its implied vol does not move with the spot.
        case stickyStrike = "sticky-strike"
        /// Each option reads the smile at its moved log-moneyness k' = ln(K/F') = k − ln(S'/S).
        case stickyMoneyness = "sticky-moneyness"
    }

    public var asset: String
    public var dynamics: Dynamics
    /// The SVI slices, by strictly increasing expiry (empty for a grid smile).
    public var slices: [SVISlice]
    /// The moneyness × expiry grid of a grid smile (nil for SVI).
    public var grid: VolGrid?

    public init(asset: String, dynamics: Dynamics, slices: [SVISlice], grid: VolGrid? = nil) {
        self.asset = asset
        self.dynamics = dynamics
        self.slices = slices
        self.grid = grid
    }

    /// Tⱼ of the slices (SVI slices or grid rows), years.
    public var expiryYears: [Double] { grid?.expiryYears ?? slices.map(\.expiryYears) }

    /// wⱼ(k), the total variance of slice j (an SVI slice or a grid row) at log-moneyness k.
    public func sliceVariance(_ j: Int, logMoneyness k: Double) -> Double {
        grid?.row(j, k).variance ?? slices[j].totalVariance(k)
    }

    /// The slices whose weighted total variances make w(·, T) = Σ weight·wⱼ(·), by index into
    /// `expiries` (Tⱼ, years, increasing): one slice with weight T/Tⱼ outside the expiries (or 1 on a
    /// slice's expiry), else the two neighbours with the linear-in-T weights (Tⱼ₊₁ − T)/(Tⱼ₊₁ − Tⱼ) and
    /// (T − Tⱼ)/(Tⱼ₊₁ − Tⱼ).
    static func expiryWeights(_ expiries: [Double], years t: Double) -> [(index: Int, weight: Double)] {
        let first = expiries[0], last = expiries.count - 1
        if t <= first { return [(0, t == first ? 1 : t / first)] }
        if t >= expiries[last] { return [(last, t == expiries[last] ? 1 : t / expiries[last])] }
        let upper = expiries.firstIndex { $0 >= t }!
        let high = expiries[upper]
        if high == t { return [(upper, 1)] }
        let low = expiries[upper - 1], span = high - low
        return [(upper - 1, (high - t) / span), (upper, (t - low) / span)]
    }

    /// The slices' expiries as the scenario gives them, days.
    public var expiryDays: [Double] { grid?.expiryDays ?? slices.map(\.expiryDays) }

    /// The ATM-forward iv √(wⱼ(0)/Tⱼ) of each slice, annualised.
    public var atmVols: [Double] { expiryYears.enumerated().map { (sliceVariance($0.offset, logMoneyness: 0) / $0.element).squareRoot() } }

    /// `expiryWeights` of the smile's slices at T years.
    public func expiryWeights(years t: Double) -> [(index: Int, weight: Double)] { Self.expiryWeights(expiryYears, years: t) }

    /// The SVI slices of `expiryWeights` with their weights (SVI smiles only).
    public func interpolation(years t: Double) -> [(slice: SVISlice, weight: Double)] {
        expiryWeights(years: t).map { (slices[$0.index], $0.weight) }
    }

    /// w(k, T), total implied variance (dimensionless) at log-moneyness k and expiry T years.
    public func totalVariance(logMoneyness k: Double, years t: Double) -> Double {
        expiryWeights(years: t).reduce(0) { $0 + $1.weight * sliceVariance($1.index, logMoneyness: k) }
    }

    /// iv(k, T) = √(w(k, T)/T), annualised; outside the slices' expiries √(wⱼ(k)/Tⱼ) of the nearest slice.
    public func impliedVol(logMoneyness k: Double, years t: Double) -> Double {
        let parts = expiryWeights(years: t)
        if parts.count == 1 { return (sliceVariance(parts[0].index, logMoneyness: k) / expiryYears[parts[0].index]).squareRoot() }
        return (totalVariance(logMoneyness: k, years: t) / t).squareRoot()
    }

    /// iv now of an option of strike K (USD) and expiry T (years) on spot S with rate r: the smile at
    /// k = ln(K/(S·e^{rT})).
    public func impliedVol(strike: Double, years t: Double, spot: Double, rate: Double) -> Double {
        impliedVol(logMoneyness: log(strike / spot) - rate * t, years: t)
    }

    /// Whether w(·, T) does not depend on k (every slice it reads has b = 0, or every grid row it reads
    /// has equal vols): the option's iv is then the same under both dynamics and every twist-free move.
    public func isFlat(years t: Double) -> Bool {
        expiryWeights(years: t).allSatisfy { grid?.isFlat(row: $0.index) ?? (slices[$0.index].b == 0) }
    }
}

/// One raw SVI slice: w(k) = a + b·(ρ·(k − m) + √((k − m)² + σ²)) at expiry `expiryDays` from now.
public struct SVISlice: Sendable, Equatable {
    public var expiryDays: Double
    /// Level of total variance (dimensionless).
    public var a: Double
    /// Wing slope b ≥ 0: the wings' slopes of w are b(1 − ρ) (k → ∞) and −b(1 + ρ) (k → −∞).
    public var b: Double
    /// Skew ρ ∈ (−1, 1).
    public var rho: Double
    /// Shift m of the vertex, log-moneyness.
    public var m: Double
    /// Curvature σ > 0 at the vertex, log-moneyness.
    public var sigma: Double

    public init(expiryDays: Double, a: Double, b: Double, rho: Double, m: Double, sigma: Double) {
        self.expiryDays = expiryDays
        self.a = a
        self.b = b
        self.rho = rho
        self.m = m
        self.sigma = sigma
    }

    /// Tⱼ = expiry_days/365, years.
    public var expiryYears: Double { expiryDays / 365 }

    /// w(k), total implied variance at log-moneyness k.
    @inline(__always)
    public func totalVariance(_ k: Double) -> Double {
        let x = k - m
        return a + b * (rho * x + (x * x + sigma * sigma).squareRoot())
    }

    /// min_k w(k) = a + b·σ·√(1 − ρ²), at k = m − ρσ/√(1 − ρ²).
    public var minimumTotalVariance: Double { a + b * sigma * (1 - rho * rho).squareRoot() }

    /// Gatheral's butterfly density factor g(k) = (1 − k·w'/(2w))² − (w'²/4)·(1/w + 1/4) + w''/2 with
    /// w' = b(ρ + x/√(x² + σ²)), w'' = b·σ²/(x² + σ²)^{3/2}, x = k − m: the risk-neutral density of
    /// the slice's expiry is non-negative at k iff g(k) ≥ 0 (no butterfly arbitrage).
    public func butterflyFactor(_ k: Double) -> Double {
        let x = k - m, root = (x * x + sigma * sigma).squareRoot()
        let w = totalVariance(k), w1 = b * (rho + x / root), w2 = b * sigma * sigma / (root * root * root)
        let first = 1 - k * w1 / (2 * w)
        return first * first - w1 * w1 / 4 * (1 / w + 0.25) + w2 / 2
    }
}

extension VolSmile {
    /// The log-moneyness grid of the arbitrage checks: k ∈ [−3, 3] in 2,000 steps (2,001 points).
    public static let checkGrid: [Double] = (0...2000).map { -3 + 6 * Double($0) / 2000 }
    /// Slack of the arbitrage checks for rounding: g(k) ≥ −1e-10, w₂(k) ≥ w₁(k) − 1e-12.
    static let butterflySlack = 1e-10, calendarSlack = 1e-12

    /// - Parameters: spot: the asset's spot now (USD) and rate: the market's, for a grid by strike.
    init(asset: String, node: ConfigNode, path: String, spot: Double, rate: Double, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["dynamics", "svi", "grid"])
        let dynamics = try r.required("dynamics") { try Dynamics(rawValue: p.oneOf($0, $1, Dynamics.allCases.map(\.rawValue)))! }
        if let gridNode = r.node("grid") {
            if r.node("svi") != nil { throw r.error("grid", "give either svi slices or a grid, not both") }
            self.init(asset: asset, dynamics: dynamics, slices: [], grid: try VolGrid(node: gridNode, path: r.childPath("grid"), spot: spot, rate: rate, p))
            return
        }
        guard r.node("svi") != nil else { throw r.error("svi", "missing required field 'svi' (SVI slices; or give a grid)") }
        let items = try r.required("svi") { try p.nonEmptyList($0, $1, of: "SVI slice {expiry_days, a, b, rho, m, sigma} (or give a grid)") }
        var slices: [SVISlice] = []
        for (index, (item, itemPath)) in items.enumerated() {
            let s = try FieldReader(item, file: p.file, path: itemPath, known: ["expiry_days", "a", "b", "rho", "m", "sigma"])
            let slice = SVISlice(expiryDays: try s.required("expiry_days", p.within(0, 10 * Limits.horizonDays, openLow: true, "days")),
                                 a: try s.required("a", p.within(-Limits.vol, Limits.vol)),
                                 b: try s.required("b", p.within(0, 2)),
                                 rho: try s.required("rho") { node, path in
                                     let rho = try p.number(node, path)
                                     guard rho > -1, rho < 1 else { throw p.fail(node, path, "SVI rho must be in (−1, 1), got \(rho)") }
                                     return rho
                                 },
                                 m: try s.required("m", p.within(-3, 3)),
                                 sigma: try s.required("sigma", p.within(0, 10, openLow: true)))
            if let previous = slices.last, slice.expiryDays <= previous.expiryDays {
                throw s.error("expiry_days", "SVI slices must be in strictly increasing expiry_days; \(shortNumber(slice.expiryDays)) follows \(shortNumber(previous.expiryDays))")
            }
            guard slice.minimumTotalVariance > 0 else {
                throw s.error("a", "the slice's total variance falls to a + b·σ·√(1 − ρ²) = \(slice.minimumTotalVariance) ≤ 0 (an implied vol of 0 or an imaginary one); raise a")
            }
            // Roger Lee's moment formula: the wings of w grow at most like 2|k|.
            guard slice.b * (1 + abs(slice.rho)) <= 2 else {
                throw s.error("b", "Lee's wing bound b·(1 + |ρ|) ≤ 2 fails: \(slice.b * (1 + abs(slice.rho))) (the wings of total variance grow faster than 2|k|, an arbitrage)")
            }
            if let k = Self.checkGrid.first(where: { slice.butterflyFactor($0) < -Self.butterflySlack }) {
                throw ScenarioError(file: p.file, path: itemPath, line: item.line,
                                    message: "butterfly arbitrage: Gatheral's g(k) = \(String(format: "%.4g", slice.butterflyFactor(k))) < 0 at k = ln(K/F) = \(String(format: "%.4f", k)) (a negative density); lower b or raise sigma")
            }
            if let previous = slices.last, let k = Self.checkGrid.first(where: { slice.totalVariance($0) < previous.totalVariance($0) - Self.calendarSlack }) {
                throw ScenarioError(file: p.file, path: itemPath, line: item.line,
                                    message: "calendar arbitrage: total variance w(k) = \(String(format: "%.6g", slice.totalVariance(k))) at k = \(String(format: "%.4f", k)) is below \(path).svi[\(index - 1)]'s \(String(format: "%.6g", previous.totalVariance(k))) (w must not fall as expiry grows)")
            }
            slices.append(slice)
        }
        self.init(asset: asset, dynamics: dynamics, slices: slices)
    }

    /// `market.smiles`: a mapping from asset id to its smile, assets in file order; `rate` the
    /// market's (a grid by strike reads its forwards from it).
    static func all(node: ConfigNode, path: String, assets: [Asset], rate: Double, _ p: ScalarParsers) throws -> [VolSmile] {
        try p.mapping(node, path).map { entry in
            let entryPath = "\(path).\(entry.key)"
            guard let asset = assets.first(where: { $0.id == entry.key }) else {
                throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(assets.map(\.id).joined(separator: ", "))")
            }
            return try VolSmile(asset: entry.key, node: entry.value, path: entryPath, spot: asset.spot, rate: rate, p)
        }
    }
}
