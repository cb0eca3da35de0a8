import TailStats

/// Expected penalty income as a function of the rate π, accumulated on a grid in one pass.
///
/// An event (a liquidation with notional N and final equity E2) yields min(π·N, E2⁺): π·N below
/// its breakpoint b = E2⁺/N and E2⁺ above. Each event adds N to the slope of every grid point
/// below b and E2⁺ to the constant of every point from b on (difference arrays, O(1) per event),
/// so income(π_g) = π_g·slope_g + constant_g. Sums are exact, hence thread-invariant.
/// (Under importance sampling each event's N and E2⁺ come weighted by its path's likelihood ratio.)
struct PenaltyGrid: Sendable, LiquidationSink {
    let step: Double
    let points: Int
    var slopeChanges: [ExactSum]
    var constantChanges: [ExactSum]

    init(maxRate: Double, points: Int) {
        self.points = points
        step = maxRate / Double(points)
        slopeChanges = Array(repeating: ExactSum(), count: points + 1)
        constantChanges = Array(repeating: ExactSum(), count: points + 1)
    }

    /// Grid point g is the rate g·step, g = 0…points. Under importance sampling the event counts
    /// with its path's likelihood ratio `weight`: w·N and w·E2⁺ (the breakpoint is the event's own).
    /// - Complexity: O(1).
    mutating func add(notional: Double, equity: Double, weight: Double) {
        let positive = max(equity, 0)
        guard notional > 0 else { return }
        let breakpoint = positive / notional
        let first = step > 0 ? min(points + 1, Int((breakpoint / step).rounded(.up))) : (breakpoint > 0 ? points + 1 : 0)
        slopeChanges[0].add(weight * notional)
        guard first <= points else { return }   // b beyond the grid: π·N at every point
        slopeChanges[first].add(-(weight * notional))
        constantChanges[first].add(weight * positive)
    }

    /// - Complexity: O(points).
    mutating func merge(_ other: PenaltyGrid) {
        for g in slopeChanges.indices {
            slopeChanges[g].merge(other.slopeChanges[g])
            constantChanges[g].merge(other.constantChanges[g])
        }
    }

    /// The smallest rate with income ≥ target, interpolated linearly inside the grid cell where it
    /// is crossed (income is concave in π, so the interpolated rate still meets the target);
    /// `reached` is false when even the largest rate falls short.
    /// - Complexity: O(points).
    func smallestRate(reaching target: Double) -> (rate: Double, reached: Bool) {
        if target <= 0 { return (0, true) }
        var slope = ExactSum(), constant = ExactSum()
        var previous = 0.0
        for g in 0...points {
            slope.merge(slopeChanges[g])
            constant.merge(constantChanges[g])
            let rate = Double(g) * step
            let income = rate * slope.value + constant.value
            if income >= target {
                if g == 0 { return (0, true) }
                let fraction = (target - previous) / (income - previous)
                return (Double(g - 1) * step + fraction * step, true)
            }
            previous = income
        }
        return (Double(points) * step, false)
    }
}

extension PenaltyGrid: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write(each: slopeChanges)
        writer.write(each: constantChanges)
    }

    mutating func decode(from reader: inout StateReader) throws {
        try reader.read(each: &slopeChanges, of: "penalty-grid points")
        try reader.read(each: &constantChanges, of: "penalty-grid points")
    }
}
