import Foundation
import ScenarioSpec

/// The book as the cascade's checks read it (`CascadePath`), flattened into contiguous arrays so
/// that checking 10⁵ accounts per instant touches no reference-counted storage: per account its
/// linear weights w_ab on the assets it depends on, E₀ + c_a, and whether it holds options (those are
/// checked by repricing); its positions and their tiers are the waterfall's `RequirementRows`.
struct CascadeBook: Sendable {
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
    let rows: RequirementRows

    init(waterfall w: Waterfall, assetsOf: [[Int]]) {
        let book = w.book, n = book.assetCount
        var wStart = [0], wAsset: [Int] = [], weights: [Double] = []
        var qStart = [0], qList: [Int] = [], allStart = [0], allList: [Int] = []
        for a in 0..<book.accountCount {
            for b in assetsOf[a] {
                let weight = book.linearWeights[a * n + b], positions = w.positions[a].filter { $0.asset == b }
                if weight != 0 {
                    wAsset.append(b)
                    weights.append(weight)
                }
                if weight > 0 || positions.contains(where: { $0.side == .long }) { qList.append(2 * b) }
                if weight < 0 || positions.contains(where: { $0.side == .short }) { qList.append(2 * b + 1) }
                allList += [2 * b, 2 * b + 1]
            }
            wStart.append(wAsset.count)
            qStart.append(qList.count)
            allStart.append(allList.count)
        }
        (weightStart, weightAsset, weight) = (wStart, wAsset, weights)
        (queueStart, queueList, allQueueStart, allQueueList) = (qStart, qList, allStart, allList)
        equityBase = (0..<book.accountCount).map { book.equityNow[$0] + book.linearConstants[$0] }
        hasOptions = (0..<book.accountCount).map { !book.options(ofAccount: $0).isEmpty }
        rows = w.requirementRows
    }

    /// f = E − M and the exposure D = Σ_b |w_ab|·S_b + M of account a, which holds no option, at the
    /// spots `spot` (USD): E = E₀ + c_a + Σ_b w_ab·S_b, M = Σ_q n_q·r_q(n_q) (`RequirementRows`); and
    /// `steps`, the most M can rise beyond D·reach should the notionals grow by the factor 1 + `reach`
    /// into higher tiers, Σ_q n_q·(1 + reach)·(the highest rate within reach − r_q). Within moves of the
    /// log-prices by at most δ, expm1(δ) ≤ reach, f falls by at most D·expm1(δ) + steps.
    /// - Complexity: O(positions × tiers + weights).
    @inline(__always) func linearSurplus(account a: Int, spot: UnsafePointer<Double>, reach: Double) -> (f: Double, d: Double, steps: Double) {
        var equity = equityBase[a], exposure = 0.0, requirement = 0.0, steps = 0.0
        for k in weightStart[a]..<weightStart[a + 1] {
            let value = weight[k] * spot[weightAsset[k]]
            equity += value
            exposure += abs(value)
        }
        for q in rows.positionStart[a]..<rows.positionStart[a + 1] {
            let notional = rows.perSpot[q] * spot[rows.asset[q]] + rows.fixed[q], grown = notional * (1 + reach)
            let first = rows.tierStart[q], last = rows.tierEnd[q] - 1
            guard last >= first else { continue }
            var rate = rows.rate[first], highest = rate
            for t in first..<last {
                if notional > rows.upTo[t] { rate = rows.rate[t + 1] }
                if grown > rows.upTo[t] { highest = max(highest, rows.rate[t + 1]) }
            }
            requirement += notional * rate
            steps += grown * (highest - rate)
        }
        return (equity - requirement, exposure + requirement, steps)
    }
}
