import CKernels
import Foundation
import Revaluation
import Shocks

/// The risk array across the paths of a chunk at once (README, "Portfolio margin"): the requirement
/// `RiskArray.maintenance(account:around:)` at every path's horizon market, each option repriced on
/// every point of the array by the Black–Scholes vector kernel of `run` (`Revaluer`) over the chunk's
/// paths — one kernel call per option, point and vol row instead of one scalar price per path.
///
/// Numbers: the kernel's prices are within 2e-15·(S' + K) of the scalar `OptionLeg.value`
/// (`VectorKernelTests.testBlackScholesKernelMatchesScalarPrices`), its ln S' is ln S + ln(1 + m)
/// rather than ln(S·(1 + m)), and the P&L is summed in another order, so a requirement differs from
/// the scalar `charge` in the last bits only (`PortfolioMarginTests.testVectorisedArrayIsTheScalarCharge`,
/// 1e-12 relative). A path's numbers depend only on its aligned group of eight paths of the chunk
/// (README, "Reproducibility"): the same bits at any thread count, chunk size and slice.
extension RiskArray {
    /// MM_a on each path j < `count` of a chunk: the array applied around the horizon market of
    /// `horizon` — spot S_bj, ln S_bj, vol factor f_bj and 1/f_bj of `horizon`'s rows, the options'
    /// time to expiry τ' (`yearsAfterHorizon` 0) — written to `required[j]`, USD. Per asset b of the
    /// account, with B_j = Σ_legs q·V(S_j, iv(S_j)·f_j, τ') the positions' value there:
    ///   loss_j(m, row) = weight·(B_j − w_ab·S_j·m − Σ_legs q·V(S_j(1 + m), iv(S_j(1 + m))·f_j·u_row, τ')),
    /// u_row = 1 + shift_row·d (`volShift`, with b's shifts `spec.volShifts[b]`), IM_bj = max(max over points of loss_j, c_Δ·|Δ_bj|·S_j)
    /// + c_short·Σ_{short legs} |q|·S_j, and MM_aj = f·Σ_b IM_bj. Δ_bj (`OptionLeg.delta`, scalar per
    /// path) is computed only when c_Δ > 0.
    /// - Complexity: O(count × points × a's options), in vector kernel calls of `count` paths.
    func maintenance(account a: Int, around horizon: ShockBuffers, count m: Int, rows: RiskArrayRows,
                     into required: UnsafeMutablePointer<Double>) {
        precondition(m <= rows.capacity && horizon.capacity == rows.capacity)
        let n = book.assetCount, rate = book.rate, accountLegs = book.options(ofAccount: a)
        required.update(repeating: 0, count: m)
        rows.sink.update(repeating: 0, count: m)
        for b in assetsOf[a] {
            guard let points = policyPoints[b] else { continue }
            let spot = horizon.row(horizon.spot, asset: b), logSpot = horizon.row(horizon.logSpot, asset: b)
            let factor = horizon.row(horizon.volFactor, asset: b), inverse = horizon.row(horizon.inverseVolFactor, asset: b)
            let weight = book.linearWeights[a * n + b]
            let shift = spec.volShifts[b]
            let legs = accountLegs.filter { $0.asset == b }.map { leg -> ChunkLeg in
                let years = leg.remainingYears
                guard years > 0 else { return ChunkLeg(leg, years: years, rate: rate, valueNow: 0) }
                return ChunkLeg(leg, years: years, rate: rate, up: 1 + volShift(up: true, years: years, shift: shift), down: 1 + volShift(up: false, years: years, shift: shift), valueNow: 0)
            }
            // B_j, the positions' value at the path's market: the kernel subtracts q·V from 0.
            let base = rows.base
            base.update(repeating: 0, count: m)
            for i in legs.indices {
                legs[i].subtract(scale: 0, count: m, spot: spot, logSpot: logSpot, factor: factor, inverse: inverse, into: base, rows: rows)
            }
            for j in 0..<m { base[j] = -base[j] }
            let worst = rows.worst
            worst.update(repeating: -.infinity, count: m)
            // The points in runs of the same spot move (a grid step's vol rows, at most 3): each move's
            // spots, and a grid smile's iv there, once.
            var start = 0
            while start < points.count {
                var end = start + 1
                while end < points.count && end - start < 3 && points[end].spotMove == points[start].spotMove { end += 1 }
                let move = 1 + points[start].spotMove, logMove = log(move)
                for j in 0..<m {
                    rows.moved[j] = spot[j] * move
                    rows.logMoved[j] = logSpot[j] + logMove
                }
                let run = points[start..<end]
                for r in 0..<run.count {
                    let acc = rows.accumulator(r)
                    for j in 0..<m { acc[j] = base[j] - weight * (rows.moved[j] - spot[j]) }
                }
                for i in legs.indices {
                    legs[i].prepare(count: m, spot: rows.moved, logSpot: rows.logMoved, factor: factor, inverse: inverse, rows: rows)
                    for (r, point) in run.enumerated() {
                        legs[i].subtract(scale: point.vol > 0 ? 1 : (point.vol < 0 ? 2 : 0), prepared: true, count: m, spot: rows.moved, logSpot: rows.logMoved,
                                     factor: factor, inverse: inverse, into: rows.accumulator(r), rows: rows)
                    }
                }
                for (r, point) in run.enumerated() {
                    let acc = rows.accumulator(r)
                    for j in 0..<m {
                        let loss = point.weight * acc[j]
                        if loss > worst[j] { worst[j] = loss }
                    }
                }
                start = end
            }
            // The minimums, option by option (per path in the legs' order, as `charge` sums them).
            let delta = rows.delta, shortNotional = rows.shortNotional
            for j in 0..<m { (delta[j], shortNotional[j]) = (weight, 0) }
            for i in legs.indices {
                let option = legs[i].leg, q = option.quantity, years = legs[i].years
                if spec.netDeltaCharge != 0 {
                    for j in 0..<m { delta[j] += q * option.delta(spot: spot[j], years: years, rate: rate, volFactor: factor[j]) }
                }
                if q < 0 { for j in 0..<m { shortNotional[j] += -q * spot[j] } }
            }
            for j in 0..<m {
                let netDelta = spec.netDeltaCharge != 0 ? spec.netDeltaCharge * abs(delta[j]) * spot[j] : 0
                required[j] += max(worst[j], netDelta) + spec.shortOptionCharge * shortNotional[j]
            }
        }
        for j in 0..<m { required[j] = spec.maintenanceFraction * required[j] }
    }
}

/// One option of a chunk's vectorised revaluation: its kernel terms at τ for each of its three vol
/// scales (the risk array's flat, up and down rows, u = 1, 1 + up·d, 1 + down·d; all 1 for a plain
/// revaluation), its P&L taken against `valueNow` (0 for the risk array's sums of q·V). No heap
/// storage of its own: copies cost no reference counting beyond the leg's smile.
struct ChunkLeg {
    let leg: OptionLeg
    /// τ, years to expiry; ≤ 0: expired, priced at its intrinsic value.
    let years: Double
    private let terms: (ThresherOptionTerms, ThresherOptionTerms, ThresherOptionTerms)
    /// SVI under sticky-moneyness: the smile kernel's terms per scale (`OptionLeg.smileKernelTerms`).
    private let smileTerms: (ThresherSmileTerms, ThresherSmileTerms, ThresherSmileTerms)?
    /// A grid smile under sticky-moneyness: iv(S') is read per path in Swift (`prepare`).
    let readsGrid: Bool
    let valueNow: Double

    init(_ leg: OptionLeg, years: Double, rate: Double, up: Double = 1, down: Double = 1, valueNow: Double) {
        self.leg = leg
        self.years = years
        self.valueNow = valueNow
        let live = max(years, 1e-300)   // the terms of an expired option are never read
        func scaled(_ u: Double) -> ThresherOptionTerms { leg.kernelTerms(years: live, rate: rate, volScale: u, valueNow: valueNow) }
        terms = (scaled(1), scaled(up), scaled(down))
        if years > 0, let flat = leg.smileKernelTerms(years: years, volScale: 1) {
            smileTerms = (flat, leg.smileKernelTerms(years: years, volScale: up)!, leg.smileKernelTerms(years: years, volScale: down)!)
        } else {
            smileTerms = nil
        }
        readsGrid = years > 0 && leg.smile != nil && smileTerms == nil
    }

    /// For a grid smile only: `rows.pathFactor`[j] = g_j = iv(S'_j)·f_j/iv and `rows.pathInverse`[j] =
    /// 1/g_j, the multiplier of the flat-iv kernel at the option's iv now (as `Revaluer` prices it).
    func prepare(count m: Int, spot: UnsafePointer<Double>, logSpot: UnsafePointer<Double>, factor: UnsafePointer<Double>,
                 inverse: UnsafePointer<Double>, rows: RiskArrayRows) {
        guard readsGrid, let smile = leg.smile else { return }
        let iv = leg.impliedVol
        for j in 0..<m {
            let vol = smile.impliedVol(logSpot: logSpot[j]) * factor[j]
            rows.pathFactor[j] = vol / iv
            rows.pathInverse[j] = iv / vol
        }
    }

    /// acc[j] −= q·(V_j − valueNow) over j < m, V_j the option's price at spot S'_j = spot[j] (ln S'_j =
    /// logSpot[j]) and implied vol iv(S'_j)·f_j·u (f_j = factor[j], 1/f_j = inverse[j], u its scale
    /// number `scale`: 0 flat, 1 up, 2 down), with τ = `years` (at τ ≤ 0 the intrinsic value, by scalar code). A grid smile's
    /// multipliers come from `prepare` (called here unless `prepared`).
    func subtract(scale: Int, prepared: Bool = false, count m: Int, spot: UnsafePointer<Double>, logSpot: UnsafePointer<Double>,
                  factor: UnsafePointer<Double>, inverse: UnsafePointer<Double>, into acc: UnsafeMutablePointer<Double>, rows: RiskArrayRows) {
        guard years > 0 else {
            let q = leg.quantity
            for j in 0..<m { acc[j] -= q * (BlackScholes.intrinsic(isCall: leg.isCall, spot: spot[j], strike: leg.strike) - valueNow) }
            return
        }
        if readsGrid && !prepared { prepare(count: m, spot: spot, logSpot: logSpot, factor: factor, inverse: inverse, rows: rows) }
        withUnsafePointer(to: scale == 0 ? terms.0 : (scale == 1 ? terms.1 : terms.2)) { option in
            if let smileTerms {
                withUnsafePointer(to: scale == 0 ? smileTerms.0 : (scale == 1 ? smileTerms.1 : smileTerms.2)) { smile in
                    thresher_subtract_smile_option_profit(option, smile, m, spot, logSpot, factor, acc, rows.sink)
                }
            } else if readsGrid {
                thresher_subtract_option_profit(option, m, spot, logSpot, rows.pathFactor, rows.pathInverse, acc, rows.sink)
            } else {
                thresher_subtract_option_profit(option, m, spot, logSpot, factor, inverse, acc, rows.sink)
            }
        }
    }
}

/// One worker's rows of `capacity` paths for the risk array across a chunk (`RiskArray.maintenance(account:around:count:rows:into:)`)
/// and the portfolio-margin pass (`PortfolioMarginPricer`): allocated once.
final class RiskArrayRows {
    let capacity: Int
    private let storage: UnsafeMutablePointer<Double>
    /// B_j, the worst loss so far, the moved spots S_j(1 + m) and their logs, a grid smile's path
    /// multipliers g_j and 1/g_j, vol factors of 1, and the kernels' second output (discarded).
    let base, worst, moved, logMoved, pathFactor, pathInverse, ones, sink: UnsafeMutablePointer<Double>
    /// Per path, the net delta Δ_bj (coins) and the short options' notional Σ |q|·S_j (USD).
    let delta, shortNotional: UnsafeMutablePointer<Double>
    /// −profit of the points of one spot move, one row per vol row.
    private let accumulators: UnsafeMutablePointer<Double>

    init(capacity: Int) {
        self.capacity = capacity
        storage = .allocate(capacity: 13 * capacity)
        (base, worst, moved, logMoved) = (storage, storage + capacity, storage + 2 * capacity, storage + 3 * capacity)
        (pathFactor, pathInverse, ones, sink) = (storage + 4 * capacity, storage + 5 * capacity, storage + 6 * capacity, storage + 7 * capacity)
        (delta, shortNotional) = (storage + 8 * capacity, storage + 9 * capacity)
        accumulators = storage + 10 * capacity
        ones.initialize(repeating: 1, count: capacity)
    }

    deinit { storage.deallocate() }

    /// The accumulator of the r-th point (0 … 2) of a spot move's run.
    @inline(__always) func accumulator(_ r: Int) -> UnsafeMutablePointer<Double> { accumulators + r * capacity }
}
