import Foundation
import ScenarioSpec

/// The book as the cascade's checks read it (`CascadePath`), flattened into contiguous arrays so
/// that checking 10⁵ accounts per instant touches no reference-counted storage: per account its
/// positions (asset, notional per unit spot, fixed notional, side), its linear weights w_ab on the
/// assets it depends on, E₀ + c_a, and whether it holds options (those are checked by repricing).
/// Maintenance rates per asset and side come from `tierBounds`/`tierRates` as in
/// `MarginSchedule.tier`: the first tier with upTo ≥ notional, else the last.
struct CascadeBook: Sendable {
    let positionStart: [Int]
    let positionAsset: [Int]
    let positionPerSpot: [Double]
    let positionFixed: [Double]
    let positionLong: [Bool]
    let weightStart: [Int]
    let weightAsset: [Int]
    let weight: [Double]
    /// E₀ + c_a: equity at zero spots of the linear part (`Book.linearConstants`).
    let equityBase: [Double]
    let hasOptions: [Bool]
    /// The directions that can lower account a's surplus, as queues 2·asset (the asset falling) and
    /// 2·asset + 1 (rising), at queueStart[a] ..< queueStart[a + 1]: falls where it is long the asset
    /// (a long position or a positive linear weight), rises where it is short; both for an asset it
    /// holds either way. A tier step can lower the surplus either way: `allQueues` then.
    let queueStart: [Int]
    let queueList: [Int]
    /// Both directions of every asset account a depends on.
    let allQueueStart: [Int]
    let allQueueList: [Int]
    /// Per asset: its tiers at tierStart[i] ..< tierStart[i + 1]; rates interleaved long, short.
    let tierStart: [Int]
    let tierBounds: [Double]
    let tierRates: [Double]

    init(waterfall w: Waterfall, assetsOf: [[Int]]) {
        let book = w.book, n = book.assetCount
        var start = [0], asset: [Int] = [], perSpot: [Double] = [], fixed: [Double] = [], long: [Bool] = []
        var wStart = [0], wAsset: [Int] = [], weights: [Double] = []
        for a in 0..<book.accountCount {
            for position in w.positions[a] {
                asset.append(position.asset)
                perSpot.append(position.exposure.perSpot)
                fixed.append(position.exposure.fixed)
                long.append(position.side == .long)
            }
            start.append(asset.count)
            for b in assetsOf[a] where book.linearWeights[a * n + b] != 0 {
                wAsset.append(b)
                weights.append(book.linearWeights[a * n + b])
            }
            wStart.append(wAsset.count)
        }
        (positionStart, positionAsset, positionPerSpot, positionFixed, positionLong) = (start, asset, perSpot, fixed, long)
        (weightStart, weightAsset, weight) = (wStart, wAsset, weights)
        equityBase = (0..<book.accountCount).map { book.equityNow[$0] + book.linearConstants[$0] }
        hasOptions = (0..<book.accountCount).map { !book.options(ofAccount: $0).isEmpty }
        var qStart = [0], qList: [Int] = [], allStart = [0], allList: [Int] = []
        for a in 0..<book.accountCount {
            for b in assetsOf[a] {
                let weight = book.linearWeights[a * n + b], positions = w.positions[a].filter { $0.asset == b }
                if weight > 0 || positions.contains(where: { $0.side == .long }) { qList.append(2 * b) }
                if weight < 0 || positions.contains(where: { $0.side == .short }) { qList.append(2 * b + 1) }
                allList += [2 * b, 2 * b + 1]
            }
            qStart.append(qList.count)
            allStart.append(allList.count)
        }
        (queueStart, queueList, allQueueStart, allQueueList) = (qStart, qList, allStart, allList)
        var tStart = [0], bounds: [Double] = [], rates: [Double] = []
        for ladder in w.schedule.tiers {
            for tier in ladder {
                bounds.append(tier.upTo)
                rates += [tier.maintenanceLong, tier.maintenanceShort]
            }
            tStart.append(bounds.count)
        }
        (tierStart, tierBounds, tierRates) = (tStart, bounds, rates)
    }

    /// f = E − M and the exposure D = Σ_b |w_ab|·S_b + M of account a, which holds no option, at the
    /// spots `spot` (USD): E = E₀ + c_a + Σ_b w_ab·S_b, M = Σ_q n_q·r_q(n_q); and `steps`, the most M can
    /// rise beyond D·reach should the notionals grow by the factor 1 + `reach` into higher tiers,
    /// Σ_q n_q·(1 + reach)·(the highest rate within reach − r_q).
    /// Within moves of the log-prices by at most δ, expm1(δ) ≤ reach, f falls by at most
    /// D·expm1(δ) + steps.
    /// - Complexity: O(positions × tiers + weights).
    @inline(__always) func linearSurplus(account a: Int, spot: UnsafePointer<Double>, reach: Double) -> (f: Double, d: Double, steps: Double) {
        var equity = equityBase[a], exposure = 0.0, requirement = 0.0, steps = 0.0
        for k in weightStart[a]..<weightStart[a + 1] {
            let value = weight[k] * spot[weightAsset[k]]
            equity += value
            exposure += abs(value)
        }
        for q in positionStart[a]..<positionStart[a + 1] {
            let i = positionAsset[q], notional = positionPerSpot[q] * spot[i] + positionFixed[q]
            let first = tierStart[i], last = tierStart[i + 1] - 1
            guard last >= first else { continue }
            var t = first
            while t < last, tierBounds[t] < notional { t += 1 }
            let side = positionLong[q] ? 0 : 1, rate = tierRates[2 * t + side]
            requirement += notional * rate
            var highest = rate, u = t
            while u < last, notional * (1 + reach) > tierBounds[u] { u += 1; highest = max(highest, tierRates[2 * u + side]) }
            steps += notional * (1 + reach) * (highest - rate)
        }
        return (equity - requirement, exposure + requirement, steps)
    }
}
