import Foundation
import History

/// The days every asset of a backtest has a price, from a `PriceHistory`: the common rows, their
/// prices, and the log returns between consecutive common rows in percent,
/// r_t = 100·ln(P_t/P_{t−1}) (a calendar gap, or a day one asset did not trade, gives one return).
public struct AlignedHistory: Sendable {
    public let file: String
    public let assetIDs: [String]
    /// Dates of the common rows (days since 1970-01-01).
    public let days: [Int]
    /// prices[asset][row].
    public let prices: [[Double]]
    /// returns[asset][k]: the return from row k to row k + 1, percent.
    public let returns: [[Double]]

    public var rowCount: Int { days.count }

    /// A step between consecutive common rows longer than this many calendar days is a gap in the
    /// history (an exchange's longest ordinary closure, a long weekend, is 4 days).
    public static let gapDays = 4

    /// Consecutive common rows more than `gapDays` calendar days apart (days since 1970): the move
    /// over each is one return, tested as one day.
    public var gaps: [(from: Int, to: Int)] {
        zip(days, days.dropFirst()).filter { $1 - $0 > Self.gapDays }.map { (from: $0, to: $1) }
    }

    /// Per asset, the dates inside the common rows' span whose price field is empty: the day is
    /// dropped for every asset, and the next return spans it.
    public let missingDays: [(asset: String, days: [Int])]

    /// What a backtest should say about the history: its gaps and its dropped days, with the dates
    /// (at most `limit` of each, then a count). Empty for a history without either.
    public func warnings(limit: Int = 10) -> [String] {
        func listed(_ items: [String]) -> String {
            items.prefix(limit).joined(separator: ", ") + (items.count > limit ? " and \(items.count - limit) more" : "")
        }
        var lines: [String] = []
        let gaps = self.gaps
        if !gaps.isEmpty {
            lines.append("\(file): \(gaps.count) gap\(gaps.count == 1 ? "" : "s") of more than \(Self.gapDays) days between rows, each tested as one day's return: "
                         + listed(gaps.map { "\(isoDate($0.from)) → \(isoDate($0.to)) (\($0.to - $0.from) days)" }))
        }
        for (asset, missing) in missingDays where !missing.isEmpty {
            lines.append("\(file): \(asset) has an empty price on \(missing.count) day\(missing.count == 1 ? "" : "s"), dropped for every asset (the next return spans it): "
                         + listed(missing.map(isoDate)))
        }
        return lines
    }

    public init(_ history: PriceHistory) {
        file = history.file
        assetIDs = history.series.map(\.id)
        var common = Set(history.series.first?.days ?? [])
        for series in history.series.dropFirst() { common.formIntersection(series.days) }
        days = common.sorted()
        prices = history.series.map { series in
            let index = Dictionary(uniqueKeysWithValues: zip(series.days, series.prices))
            return common.sorted().map { index[$0]! }
        }
        returns = prices.map { p in (1..<max(p.count, 1)).map { 100 * log(p[$0] / p[$0 - 1]) } }
        let rows = days
        missingDays = history.series.map { series in
            (series.id, rows.isEmpty ? [] : series.missingDays.filter { $0 > rows[0] && $0 < rows[rows.count - 1] })
        }
    }
}

/// One walk-forward schedule: forecasts are made at origin rows t (the window's last row) for the loss
/// from row t to row t + 1; the parameters are re-fitted on the `window` returns up to t at the first
/// origin and every `refit` origins after it, and the volatility filter moves daily in between.
public struct WalkForwardSchedule: Sendable {
    public let window: Int
    public let refit: Int
    /// Origin rows t, in order (window ≤ t ≤ rows − 2).
    public let origins: [Int]

    /// The origins in blocks that share one fit.
    public var blocks: [ArraySlice<Int>] {
        stride(from: 0, to: origins.count, by: refit).map { origins[$0..<min($0 + refit, origins.count)] }
    }

    /// - Parameters:
    ///   - from, to: the first and last date (days since 1970) of the realised days, nil for all.
    /// - Throws: `HistoryError` when the history is too short for the window.
    public init(history: AlignedHistory, window: Int, refit: Int, from: Int? = nil, to: Int? = nil) throws {
        self.window = window
        self.refit = refit
        let rows = history.rowCount
        guard rows >= window + 2 else {
            throw HistoryError(file: history.file, line: nil, column: nil,
                               message: "\(rows) rows where \(history.assetIDs.joined(separator: ", ")) all have a price; a --window of \(window) returns needs at least \(window + 2) (the window, its first price and one day to test)")
        }
        origins = (window...(rows - 2)).filter { t in
            let day = history.days[t + 1]
            return (from.map { day >= $0 } ?? true) && (to.map { day <= $0 } ?? true)
        }
        guard !origins.isEmpty else {
            throw HistoryError(file: history.file, line: nil, column: nil,
                               message: "no day to test between the dates asked (the history runs \(isoDate(history.days[0])) to \(isoDate(history.days[rows - 1])); the first testable day is \(isoDate(history.days[window + 1])))")
        }
    }
}

/// Prefix sums of one asset's returns and squares: the sample standard deviation of any range in O(1).
struct ReturnMoments: Sendable {
    let sums: [Double]
    let squares: [Double]

    init(_ returns: [Double]) {
        var s = [0.0], q = [0.0]
        for r in returns { s.append(s.last! + r); q.append(q.last! + r * r) }
        sums = s
        squares = q
    }

    /// The sample standard deviation (n − 1) of returns[range].
    func standardDeviation(_ range: Range<Int>) -> Double {
        let n = Double(range.count)
        let s = sums[range.upperBound] - sums[range.lowerBound], q = squares[range.upperBound] - squares[range.lowerBound]
        return (max(0, q - s * s / n) / (n - 1)).squareRoot()
    }
}

