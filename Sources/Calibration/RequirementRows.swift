import ScenarioSpec

/// The maintenance requirement of every account along a row of paths, flattened from the positions
/// and the schedule so that the per-path work is a multiply-add and a few compares. Position q (the
/// accounts' positions in order) has notional n = perSpot_q·S + fixed_q and the rate of its side in
/// the first tier of its asset with up_to ≥ n (the last tier above the ladder): since the bounds
/// increase, the tier's index is the number of bounds below n, capped at the last tier.
struct RequirementRows: Sendable {
    /// Positions of account a: positionStart[a]..<positionStart[a + 1].
    let positionStart: [Int]
    let asset: [Int]
    let perSpot: [Double]
    let fixed: [Double]
    /// Tiers of position q: bounds upTo[tierStart[q]..<tierEnd[q]] and its side's rates. The tables
    /// are its asset's and side's, stored once (2 × assets tables, not one per position): a 10⁵-account
    /// book's rows take 5 words per position whatever the ladders' lengths.
    let tierStart: [Int]
    let tierEnd: [Int]
    let upTo: [Double]
    let rate: [Double]

    init(positions: [[MarginedPosition]], schedule: MarginSchedule) {
        // The first tier of each side's table of each asset.
        var upTo: [Double] = [], rate: [Double] = [], firstTier: [Side: [Int]] = [:]
        for side in [Side.long, .short] {
            firstTier[side] = schedule.tiers.map { tiers in
                let first = upTo.count
                upTo += tiers.map(\.upTo)
                rate += tiers.map { $0.maintenance(side) }
                return first
            }
        }
        var positionStart = [0], asset: [Int] = [], perSpot: [Double] = [], fixed: [Double] = []
        var tierStart: [Int] = [], tierEnd: [Int] = []
        let count = positions.reduce(0) { $0 + $1.count }
        positionStart.reserveCapacity(positions.count + 1)
        asset.reserveCapacity(count); tierStart.reserveCapacity(count); tierEnd.reserveCapacity(count)
        perSpot.reserveCapacity(count); fixed.reserveCapacity(count)
        for account in positions {
            for position in account {
                asset.append(position.asset)
                perSpot.append(position.exposure.perSpot)
                fixed.append(position.exposure.fixed)
                let first = firstTier[position.side]![position.asset]
                tierStart.append(first)
                tierEnd.append(first + schedule.tiers[position.asset].count)
            }
            positionStart.append(asset.count)
        }
        (self.positionStart, self.asset, self.perSpot, self.fixed) = (positionStart, asset, perSpot, fixed)
        (self.tierStart, self.tierEnd, self.upTo, self.rate) = (tierStart, tierEnd, upTo, rate)
    }

    /// Σ_q n_q·r_q(n_q) over account a's positions in order, n_q at the spots `spot(asset)`: one path
    /// of `fill`, the same sum as `Waterfall.requirement(account:spot:)`.
    @inline(__always) func requirement(account a: Int, spot: (Int) -> Double) -> Double {
        var total = 0.0
        for q in positionStart[a]..<positionStart[a + 1] {
            let notional = perSpot[q] * spot(asset[q]) + fixed[q]
            var r = rate[tierStart[q]]
            for t in tierStart[q]..<(tierEnd[q] - 1) where notional > upTo[t] { r = rate[t + 1] }
            total = total + notional * r
        }
        return total
    }

    /// requirement[j] = Σ_q n_q·r_q(n_q) over account a's positions in order, n_q at the spots
    /// spot[asset·stride + j], for j < m — the same sum, in the same order, as
    /// `Waterfall.requirement(account:spot:)`.
    ///
    /// `spotRange`, where given, holds each asset's lowest and highest spot over the m paths (NaNs
    /// left out). n = perSpot·S + fixed with perSpot ≥ 0 is non-decreasing in S, rounding included, so
    /// each path passes at least the bounds that n at the lowest spot passes and at most those that n
    /// at the highest passes: when both pass the same bounds, every path has that tier's rate (one
    /// pass, no selects), and otherwise the bounds the highest does not pass are skipped. A NaN
    /// notional gives a NaN term whatever its rate. The bits are those of the full selects.
    func fill(_ requirement: UnsafeMutablePointer<Double>, account a: Int, spot: UnsafePointer<Double>, stride: Int, count m: Int,
              scratch: (notional: UnsafeMutablePointer<Double>, rate: UnsafeMutablePointer<Double>),
              spotRange: (lowest: UnsafePointer<Double>, highest: UnsafePointer<Double>)? = nil) {
        requirement.update(repeating: 0, count: m)
        let (notional, rate) = scratch
        upTo.withUnsafeBufferPointer { upTo in
            self.rate.withUnsafeBufferPointer { rates in
                for q in positionStart[a]..<positionStart[a + 1] {
                    let row = spot + asset[q] * stride, scale = perSpot[q], offset = fixed[q]
                    let first = tierStart[q], last = tierEnd[q] - 1
                    // The tiers of the chunk's extreme notionals: one rate for all paths, or the
                    // bounds some path may pass.
                    var passed = last
                    if let spotRange, scale >= 0 {
                        let low = Self.tier(notional: scale * spotRange.lowest[asset[q]] + offset, first: first, last: last, upTo: upTo, rates: rates)
                        let high = Self.tier(notional: scale * spotRange.highest[asset[q]] + offset, first: first, last: last, upTo: upTo, rates: rates)
                        if let low, let high, low.passed == high.passed {
                            let only = high.rate
                            for j in 0..<m { requirement[j] = requirement[j] + (scale * row[j] + offset) * only }
                            continue
                        }
                        if let high { passed = high.beyond }
                    }
                    for j in 0..<m { notional[j] = scale * row[j] + offset }
                    rate.update(repeating: rates[first], count: m)
                    // Branch-free selects, one bound at a time: past bound t, the rate of tier t + 1.
                    for t in first..<passed {
                        let bound = upTo[t], next = rates[t + 1]
                        for j in 0..<m { rate[j] = notional[j] > bound ? next : rate[j] }
                    }
                    for j in 0..<m { requirement[j] = requirement[j] + notional[j] * rate[j] }
                }
            }
        }
    }

    /// The lowest and highest of `count` spots, NaNs left out (+∞ and −∞ when all are NaN): the
    /// `spotRange` of `fill`.
    static func extremes(_ spots: UnsafePointer<Double>, count: Int) -> (lowest: Double, highest: Double) {
        var lowest = Double.infinity, highest = -Double.infinity
        for spot in UnsafeBufferPointer(start: spots, count: count) {
            if spot < lowest { lowest = spot }
            if spot > highest { highest = spot }
        }
        return (lowest, highest)
    }

    /// The selects of one notional n over bounds first..<last: how many it passes, the rate they
    /// leave (the rate after the last bound passed), and one past the last bound passed (`first`
    /// where none is); nil for a NaN notional.
    @inline(__always)
    private static func tier(notional n: Double, first: Int, last: Int, upTo: UnsafeBufferPointer<Double>, rates: UnsafeBufferPointer<Double>)
        -> (passed: Int, rate: Double, beyond: Int)? {
        guard !n.isNaN else { return nil }
        var passed = 0, rate = rates[first], beyond = first
        for t in first..<last where n > upTo[t] { passed += 1; rate = rates[t + 1]; beyond = t + 1 }
        return (passed, rate, beyond)
    }
}
