import Foundation

/// `market.smiles.<asset>.grid` — an implied-vol surface quoted on an expiry × moneyness grid, or on an
/// expiry × absolute-strike grid as exchanges publish it, the alternative to SVI slices (`VolSmile.grid`).
///
/// Row j (expiry Tⱼ = expiry_days/365 years) gives the total implied variance wⱼᵢ = ivⱼᵢ²·Tⱼ at the
/// log-moneyness nodes kⱼᵢ: kᵢ = ln mᵢ for a moneyness grid (mᵢ = K/F, the same nodes on every row), and
/// kⱼᵢ = ln(Kᵢ/Fⱼ) = ln(Kᵢ/S) − r·Tⱼ for a strike grid (Kᵢ USD, Fⱼ = S·e^{r·Tⱼ} the forward of row j's
/// expiry at the asset's spot S and the market's rate r, as `VolSmile.impliedVol(strike:years:spot:rate:)`
/// reads an option's k: each row has its own nodes, the same where r = 0). Along k, wⱼ is the monotone cubic Hermite interpolant
/// (Fritsch & Carlson 1980: C¹, monotone wherever the nodes are, so it adds no wiggle the quotes do not
/// have), with the node slopes of Fritsch & Butland (1984) — the weighted harmonic mean of the two
/// secants where they have the same sign, else 0 — and the three-point end slopes limited as in
/// scipy's PCHIP. Beyond the outer nodes wⱼ goes on linearly where the end slope rises outwards (a wing,
/// at most Lee's slope 2) and flat where it would fall (a convex kink: no negative density). A row whose
/// vols are all equal is exactly that constant total variance. Between rows w is linear in T at fixed
/// k, before the first and after the last row the nearest row's iv at the same k, as for SVI slices
/// (`VolSmile.expiryWeights`).
public struct VolGrid: Sendable, Equatable {
    /// Tⱼ·365, strictly increasing.
    public let expiryDays: [Double]
    /// mᵢ = K/F, positive and strictly increasing; nil for a strike grid.
    public let moneyness: [Double]?
    /// Kᵢ, USD, positive and strictly increasing; nil for a moneyness grid.
    public let strikes: [Double]?
    /// ivⱼᵢ, annualised: row j at expiry j, column i at moneyness (or strike) i.
    public let vols: [[Double]]
    /// Per row j, its log-moneyness nodes kⱼᵢ (see the type's description).
    let nodes: [[Double]]
    /// wⱼᵢ = ivⱼᵢ²·Tⱼ and the interpolant's slopes ∂wⱼ/∂k at the nodes.
    let variance: [[Double]]
    let slopes: [[Double]]

    /// A moneyness grid: row j's nodes are kᵢ = ln mᵢ.
    public init(expiryDays: [Double], moneyness: [Double], vols: [[Double]]) {
        let nodes = moneyness.map { log($0) }
        self.init(expiryDays: expiryDays, moneyness: moneyness, strikes: nil, nodes: expiryDays.map { _ in nodes }, vols: vols)
    }

    /// A strike grid on an asset at spot S (USD) under the rate r (annual, continuously compounded):
    /// row j's nodes are kⱼᵢ = ln(Kᵢ/S) − r·Tⱼ = ln(Kᵢ/Fⱼ).
    public init(expiryDays: [Double], strikes: [Double], vols: [[Double]], spot: Double, rate: Double) {
        let nodes = expiryDays.map { days in strikes.map { log($0 / spot) - rate * (days / 365) } }
        self.init(expiryDays: expiryDays, moneyness: nil, strikes: strikes, nodes: nodes, vols: vols)
    }

    private init(expiryDays: [Double], moneyness: [Double]?, strikes: [Double]?, nodes: [[Double]], vols: [[Double]]) {
        self.expiryDays = expiryDays
        self.moneyness = moneyness
        self.strikes = strikes
        self.vols = vols
        self.nodes = nodes
        let variance = zip(vols, expiryDays).map { row, days in row.map { $0 * $0 * (days / 365) } }
        self.variance = variance
        slopes = zip(nodes, variance).map { Self.slopes($0, $1) }
    }

    /// The columns: moneyness points or strikes.
    public var columnCount: Int { moneyness?.count ?? strikes?.count ?? 0 }

    /// Row j's log-moneyness nodes kⱼᵢ = ln(K/F) of its columns.
    public func logMoneyness(row j: Int) -> [Double] { nodes[j] }

    /// Tⱼ, years.
    public var expiryYears: [Double] { expiryDays.map { $0 / 365 } }

    /// wⱼ(k) and ∂wⱼ/∂k of row j at log-moneyness k. On [kⱼᵢ, kⱼᵢ₊₁] (row j's nodes), h = kᵢ₊₁ − kᵢ, t = (k − kᵢ)/h:
    /// w = wᵢ + (3t² − 2t³)·(wᵢ₊₁ − wᵢ) + h·((t³ − 2t² + t)·dᵢ + (t³ − t²)·dᵢ₊₁) (exactly wᵢ on a flat row).
    public func row(_ j: Int, _ k: Double) -> (variance: Double, slope: Double) {
        let x = nodes[j], w = variance[j], d = slopes[j], last = x.count - 1
        if k <= x[0] { let s = min(d[0], 0); return (w[0] + s * (k - x[0]), s) }
        if k >= x[last] { let s = max(d[last], 0); return (w[last] + s * (k - x[last]), s) }
        var low = 0, high = last
        while high - low > 1 {
            let middle = (low + high) / 2
            if x[middle] <= k { low = middle } else { high = middle }
        }
        let h = x[high] - x[low], t = (k - x[low]) / h, t2 = t * t, t3 = t2 * t, rise = w[high] - w[low]
        let value = w[low] + (3 * t2 - 2 * t3) * rise + h * ((t3 - 2 * t2 + t) * d[low] + (t3 - t2) * d[high])
        let slope = (6 * (t - t2) * rise) / h + (3 * t2 - 4 * t + 1) * d[low] + (3 * t2 - 2 * t) * d[high]
        return (value, slope)
    }

    /// Whether row j's vols are all equal (its total variance does not depend on k).
    func isFlat(row j: Int) -> Bool { vols[j].allSatisfy { $0 == vols[j][0] } }

    /// The node slopes dᵢ of the monotone interpolant through (xᵢ, yᵢ) (see the type's description);
    /// two nodes: the secant at both.
    static func slopes(_ x: [Double], _ y: [Double]) -> [Double] {
        let n = x.count
        let h = (0..<n - 1).map { x[$0 + 1] - x[$0] }, secant = (0..<n - 1).map { (y[$0 + 1] - y[$0]) / h[$0] }
        guard n > 2 else { return [secant[0], secant[0]] }
        var d = [Double](repeating: 0, count: n)
        for i in 1..<n - 1 where secant[i - 1] * secant[i] > 0 {
            let w1 = 2 * h[i] + h[i - 1], w2 = h[i] + 2 * h[i - 1]
            d[i] = (w1 + w2) / (w1 / secant[i - 1] + w2 / secant[i])
        }
        d[0] = endSlope(h[0], h[1], secant[0], secant[1])
        d[n - 1] = endSlope(h[n - 2], h[n - 3], secant[n - 2], secant[n - 3])
        return d
    }

    /// The three-point end slope ((2h₀ + h₁)·δ₀ − h₀·δ₁)/(h₀ + h₁), 0 where its sign is not δ₀'s, and
    /// 3δ₀ where δ₀ and δ₁ differ in sign and it exceeds 3|δ₀| (monotonicity).
    static func endSlope(_ h0: Double, _ h1: Double, _ s0: Double, _ s1: Double) -> Double {
        let d = ((2 * h0 + h1) * s0 - h0 * s1) / (h0 + h1)
        if d.signum != s0.signum { return 0 }
        if s0.signum != s1.signum && abs(d) > 3 * abs(s0) { return 3 * s0 }
        return d
    }
}

private extension Double {
    /// −1, 0 or 1.
    var signum: Int { self > 0 ? 1 : (self < 0 ? -1 : 0) }
}

extension VolGrid {
    /// Slack of the butterfly check for rounding, in units of the call-price slope ∂c/∂K (dimensionless).
    static let butterflySlack = 1e-9

    /// The undiscounted call price per unit forward at log-moneyness k and total variance w:
    /// c = Φ(d1) − e^k·Φ(d2), d1 = −k/√w + √w/2, d2 = d1 − √w (Black's formula with F = 1, K = e^k).
    static func forwardCall(_ k: Double, variance w: Double) -> Double {
        let root = w.squareRoot(), d1 = -k / root + 0.5 * root, d2 = d1 - root
        return 0.5 * erfc(-d1 * 0.7071067811865475244) - exp(k) * 0.5 * erfc(-d2 * 0.7071067811865475244)
    }

    /// Parses and validates `grid` at `path` on an asset at spot `spot` (USD) under the market's
    /// `rate`: the shapes and ranges — exactly one of `moneyness` (K/F) and `strikes` (USD, nodes
    /// kⱼᵢ = ln(Kᵢ/S) − r·Tⱼ) — Lee's wing bound on the extrapolated rows, then on the check grid
    /// k ∈ [−3, 3] (`VolSmile.checkGrid`) butterfly arbitrage (each row's call prices c(K), K = e^k, must
    /// fall with slope in [−1, 0] and be convex: each secant slope at least the previous one less
    /// `butterflySlack`) and calendar arbitrage (each row's total variance at least the previous row's
    /// less `VolSmile.calendarSlack`), naming the row.
    init(node: ConfigNode, path: String, spot: Double, rate: Double, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["expiry_days", "moneyness", "strikes", "vols"])
        /// The list of `key`: at least `minimum` numbers, each read by `parse`, strictly increasing.
        func increasing(_ key: String, minimum: Int, what: String, _ parse: @escaping (ConfigNode, String) throws -> Double) throws -> [Double] {
            try r.required(key) { node, listPath in
                let items = try p.list(node, listPath)
                guard items.count >= minimum else { throw p.fail(node, listPath, "give at least \(minimum == 1 ? "one" : "two") \(what)") }
                var values: [Double] = []
                for (item, itemPath) in items {
                    let value = try parse(item, itemPath)
                    if let previous = values.last, value <= previous {
                        throw p.fail(item, itemPath, "\(key) must be strictly increasing; \(shortNumber(value)) follows \(shortNumber(previous))")
                    }
                    values.append(value)
                }
                return values
            }
        }
        let days = try increasing("expiry_days", minimum: 1, what: "expiry in days", p.within(0, 10 * Limits.horizonDays, openLow: true, "days"))
        let byStrike = r.node("strikes") != nil
        if byStrike && r.node("moneyness") != nil {
            throw r.error("strikes", "give either moneyness (K/F) or strikes (USD) for the grid's columns, not both", node: r.node("strikes"))
        }
        guard byStrike || r.node("moneyness") != nil else {
            throw r.error("moneyness", "missing required field 'moneyness' (the columns' K/F; or give strikes, in USD)")
        }
        let columns = byStrike
            ? try increasing("strikes", minimum: 2, what: "strikes in USD (the smile is interpolated between them)", p.positive)
            : try increasing("moneyness", minimum: 2, what: "moneyness points K/F (the smile is interpolated between them)",
                             p.within(0, 100, openLow: true, "(strike over forward, K/F)"))
        let column = byStrike ? "strike" : "moneyness point"
        let vols = try r.required("vols") { node, listPath in
            let rows = try p.list(node, listPath)
            guard rows.count == days.count else {
                throw p.fail(node, listPath, "give one row of vols per expiry: \(days.count) expiries, \(rows.count) rows")
            }
            return try rows.map { row, rowPath in
                let items = try p.list(row, rowPath)
                guard items.count == columns.count else {
                    throw p.fail(row, rowPath, "give one vol per \(column): \(columns.count) \(column)s, \(items.count) vols")
                }
                return try items.map { try p.volatility($0.0, $0.1) }
            }
        }
        if byStrike {
            self.init(expiryDays: days, strikes: columns, vols: vols, spot: spot, rate: rate)
        } else {
            self.init(expiryDays: days, moneyness: columns, vols: vols)
        }
        let rowNodes = try p.list(r.node("vols")!, r.childPath("vols"))
        for (j, (rowNode, rowPath)) in rowNodes.enumerated() {
            func fail(_ message: String) -> ScenarioError { p.fail(rowNode, rowPath, message) }
            /// Where the check fails: K/F, and for a strike grid the strike K = Fⱼ·e^k (USD) too.
            func place(_ k: Double) -> String {
                let ratio = "K/F = \(String(format: "%.4f", exp(k)))"
                return byStrike ? "K = \(shortNumber(spot * exp(k + rate * days[j] / 365))) (\(ratio))" : ratio
            }
            let left = -min(slopes[j][0], 0), right = max(slopes[j][nodes[j].count - 1], 0)
            guard max(left, right) <= 2 else {
                throw fail("Lee's wing bound fails: the extrapolated total variance grows by \(String(format: "%.4g", max(left, right))) per unit of log-moneyness beyond the \(left > right ? "lowest" : "highest") \(column) (at most 2); add \(column)s further out or flatten the outer vols")
            }
            let prices = VolSmile.checkGrid.map { Self.forwardCall($0, variance: row(j, $0).variance) }
            var previousSlope = -Double.infinity
            for i in 1..<prices.count {
                let k0 = VolSmile.checkGrid[i - 1], k1 = VolSmile.checkGrid[i]
                let slope = (prices[i] - prices[i - 1]) / (exp(k1) - exp(k0))
                guard slope <= Self.butterflySlack, slope >= -1 - Self.butterflySlack else {
                    throw fail("call-spread arbitrage: the call price of \(shortNumber(days[j])) days \(slope > 0 ? "rises" : "falls faster than the strike") (slope \(String(format: "%.4g", slope)) per unit of K/F) near \(place(k1))")
                }
                guard slope >= previousSlope - Self.butterflySlack else {
                    throw fail("butterfly arbitrage: the call price of \(shortNumber(days[j])) days is not convex in the strike near \(place(k0)) (slope \(String(format: "%.6g", previousSlope)) then \(String(format: "%.6g", slope)): a negative density); smooth the vols around it")
                }
                previousSlope = slope
            }
            if j > 0, let k = VolSmile.checkGrid.first(where: { row(j, $0).variance < row(j - 1, $0).variance - VolSmile.calendarSlack }) {
                throw fail("calendar arbitrage: total variance w(k) = \(String(format: "%.6g", row(j, k).variance)) at k = ln(K/F) = \(String(format: "%.4f", k)) is below \(path).vols[\(j - 1)]'s \(String(format: "%.6g", row(j - 1, k).variance)) (w must not fall as expiry grows)")
            }
        }
    }
}
