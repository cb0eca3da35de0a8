
/// How path-wise monitoring watches one account (`PathwiseLiquidation`).
enum MonitoredAccount: Sendable {
    /// Equity and requirement depend on one asset's spot S alone (linear positions and collateral in
    /// it, USD collateral): the account is below maintenance exactly when S crosses a liquidation
    /// price, `lower` (USD, below today's spot) or `upper` (above), nil where there is none.
    case oneAsset(LiquidationPrices)
    /// Several assets, no options: its surplus E − M as a Brownian bridge (`SurplusBridge`).
    case linear
    /// Options: checked on the monitoring grid (`GridMonitoring`).
    case grid
    /// Below maintenance today: liquidated at t = 0 at today's spots on every path.
    case inBreach
}

/// The liquidation prices of a one-asset account and its equity as a function of the spot.
struct LiquidationPrices: Sendable {
    let asset: Int
    /// E(S) = equity now + weight·S + constant: the book's linear P&L at S (`Book.linearWeights`).
    let weight: Double
    let constant: Double
    let lower: Double?
    let upper: Double?

    @inline(__always) func equity(_ equityNow: Double, spot: Double) -> Double { equityNow + weight * spot + constant }
}

extension MonitoredAccount {
    /// Whether the account is watched through its surplus (`GridAccount`).
    var isSurplusMonitored: Bool {
        switch self {
        case .linear, .grid: return true
        case .oneAsset, .inBreach: return false
        }
    }

    /// Classifies account a of the waterfall and, for a one-asset account, solves for its
    /// liquidation prices: f(S) = E(S) − M(S), M(S) = Σ_q (perSpot_q·S + fixed_q)·r_q(notional) is
    /// piecewise linear in S with its pieces cut where a position's notional crosses a tier bound;
    /// on each piece f = α + β·S, so the nearest S below (above) today's spot where f < 0 is found
    /// piece by piece from today's spot outwards, exactly (the end of a piece where a higher tier
    /// starts, or the piece's root −α/β).
    /// - Complexity: O(positions × tiers) per piece, O(positions × tiers) pieces.
    init(account a: Int, waterfall w: Waterfall) {
        let book = w.book, n = book.assetCount
        let spots = w.model.spots
        let equityNow = book.equityNow[a]
        if equityNow < w.requirement(account: a, spot: { spots[$0] }) { self = .inBreach; return }
        var assets = Set(w.positions[a].map(\.asset))
        for i in 0..<n where book.linearWeights[a * n + i] != 0 { assets.insert(i) }
        guard book.options(ofAccount: a).isEmpty else { self = .grid; return }
        guard assets.count <= 1 else { self = .linear; return }
        guard let asset = assets.first else {
            self = .oneAsset(LiquidationPrices(asset: 0, weight: 0, constant: 0, lower: nil, upper: nil))
            return
        }
        let positions = w.positions[a]
        let weight = book.linearWeights[a * n + asset], constant = book.linearConstants[a]
        var cuts: [Double] = []
        for position in positions where position.exposure.perSpot > 0 {
            for tier in w.schedule.tiers[asset].dropLast() {
                let s = (tier.upTo - position.exposure.fixed) / position.exposure.perSpot
                if s > 0, s.isFinite { cuts.append(s) }
            }
        }
        cuts.sort()
        // f = α + β·S on the piece holding `inside`.
        func piece(_ inside: Double) -> (alpha: Double, beta: Double) {
            var alpha = equityNow + constant, beta = weight
            for position in positions {
                let rate = w.schedule.tier(asset: asset, notional: position.notional(spot: inside)).maintenance(position.side)
                alpha -= position.exposure.fixed * rate
                beta -= position.exposure.perSpot * rate
            }
            return (alpha, beta)
        }
        let spot = spots[asset]
        var lower: Double?, high = spot
        for low in cuts.filter({ $0 < spot }).reversed() + [0] where lower == nil {
            let f = piece(0.5 * (low + high))
            if f.alpha + f.beta * high < 0 { lower = high } else if f.alpha + f.beta * low < 0 { lower = -f.alpha / f.beta }
            high = low
        }
        var upper: Double?, low = spot
        for cut in cuts.filter({ $0 > spot }) + [.infinity] where upper == nil {
            let f = piece(cut.isFinite ? 0.5 * (low + cut) : 2 * low + 1)
            if f.alpha + f.beta * low < 0 { upper = low } else if f.beta < 0, -f.alpha / f.beta < cut { upper = -f.alpha / f.beta }
            low = cut
        }
        self = .oneAsset(LiquidationPrices(asset: asset, weight: weight, constant: constant, lower: lower.flatMap { $0 > 0 ? $0 : nil }, upper: upper))
    }
}
