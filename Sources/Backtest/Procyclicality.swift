import Foundation

/// The anti-procyclicality tools of EMIR Art. 28 (RTS 153/2013), applied to a daily margin series
/// M_t = VaR_t (the book's forecast VaR at the margin level):
///
/// - `baseline`: M_t = VaR_t;
/// - `buffer`: a 25 % buffer that is used up while margins rise and rebuilt as they fall:
///   M_t = max(VaR_t, min(1.25·VaR_t, M_{t−1})), M_0 = 1.25·VaR_0;
/// - `stressedWeight`: 25 % weight on stressed observations, M_t = 0.75·VaR_t + 0.25·S_t with S_t the
///   largest VaR forecast over the trailing ten years (3,652 calendar days) of the backtest;
/// - `tenYearFloor`: M_t = max(VaR_t, VaR¹⁰ʸ_t), VaR¹⁰ʸ the same model's VaR with each asset's
///   volatility estimated over the trailing ten years of returns (fewer where the history is shorter).
public enum AntiProcyclicalityTool: String, CaseIterable, Sendable {
    case baseline
    case buffer = "buffer-25"
    case stressedWeight = "stressed-weight-25"
    case tenYearFloor = "ten-year-floor"

    /// One-line definition for reports, with the lookbacks a backtest really had: the stressed
    /// weight's maximum runs over at most ten years of the backtest (`backtestDays` calendar days
    /// from its first to its last day), the floor's vols over at most ten years of the history
    /// (`historyDays`).
    public func definition(backtestDays: Int, historyDays: Int) -> String {
        func span(_ days: Int) -> String {
            days >= 3652 ? "10 y" : days >= 730 ? String(format: "%.1f y", Double(days) / 365.25) : "\(days) d"
        }
        switch self {
        case .baseline: return "M = VaR"
        case .buffer: return "M = max(VaR, min(1.25·VaR, M₋₁))"
        case .stressedWeight: return "M = 0.75·VaR + 0.25·max VaR over the last \(span(backtestDays))"
        case .tenYearFloor: return "M = max(VaR, VaR with vols over the last \(span(historyDays)))"
        }
    }

    /// The margin series.
    /// - Parameters:
    ///   - valueAtRisk: VaR_t per backtest day.
    ///   - tenYearValueAtRisk: VaR¹⁰ʸ_t per day (used by `tenYearFloor`).
    ///   - days: each day's date (days since 1970), for the ten-year lookback of `stressedWeight`.
    public func margins(valueAtRisk: [Double], tenYearValueAtRisk: [Double], days: [Int]) -> [Double] {
        switch self {
        case .baseline:
            return valueAtRisk
        case .buffer:
            var result: [Double] = []
            for v in valueAtRisk { result.append(max(v, min(1.25 * v, result.last ?? 1.25 * v))) }
            return result
        case .stressedWeight:
            // Trailing maximum over a 3,652-day window: a monotone deque of indices.
            var result: [Double] = [], deque: [Int] = [], head = 0
            for t in valueAtRisk.indices {
                while deque.count > head, valueAtRisk[deque.last!] <= valueAtRisk[t] { deque.removeLast() }
                deque.append(t)
                while days[deque[head]] < days[t] - 3652 { head += 1 }
                result.append(0.75 * valueAtRisk[t] + 0.25 * valueAtRisk[deque[head]])
            }
            return result
        case .tenYearFloor:
            return zip(valueAtRisk, tenYearValueAtRisk).map { max($0, $1) }
        }
    }
}

/// How procyclical a margin series is, and what it costs (CPMI-IOSCO / ESMA measures):
/// peak-to-trough ratio max M / min M, the largest one-day and 30-day relative increases
/// M_t/M_{t−k} − 1 (over days where M_{t−k} > 0), the mean margin, and the exceptions
/// (days where the realised loss exceeded the margin).
public struct ProcyclicalityMeasures: Sendable {
    public let tool: AntiProcyclicalityTool
    public let margins: [Double]
    public let mean: Double
    public let peak: Double
    public let trough: Double
    /// nil when the trough is ≤ 0 (a book whose margin vanishes).
    public let peakToTrough: Double?
    public let largestOneDayIncrease: Double?
    public let largestThirtyDayIncrease: Double?
    public let exceptions: Int

    public init(tool: AntiProcyclicalityTool, margins: [Double], realisedLosses: [Double]) {
        self.tool = tool
        self.margins = margins
        mean = margins.reduce(0, +) / Double(max(margins.count, 1))
        peak = margins.max() ?? 0
        trough = margins.min() ?? 0
        peakToTrough = trough > 0 ? peak / trough : nil
        func largestIncrease(_ lag: Int) -> Double? {
            guard margins.count > lag else { return nil }
            var best: Double?
            for t in lag..<margins.count where margins[t - lag] > 0 {
                let change = margins[t] / margins[t - lag] - 1
                if best == nil || change > best! { best = change }
            }
            return best
        }
        largestOneDayIncrease = largestIncrease(1)
        largestThirtyDayIncrease = largestIncrease(30)
        exceptions = zip(realisedLosses, margins).filter { $0 > $1 }.count
    }
}
