import CommandSupport
import Foundation

/// A bad price file: the message names the file, the line and the column.
public struct HistoryError: ThresherError {
    public var exitStatus: Int32 { isMissingFile ? ExitStatus.missingInput : ExitStatus.invalidScenario }
    public let file: String
    public let line: Int?
    public let column: String?
    public let message: String
    /// The file does not exist (exit 66 rather than 65).
    public let isMissingFile: Bool
    public init(file: String, line: Int?, column: String?, message: String, isMissingFile: Bool = false) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        self.isMissingFile = isMissingFile
    }
    public var description: String {
        "\(file)" + (line.map { ":\($0)" } ?? "") + (column.map { ": column '\($0)'" } ?? "") + ": " + message
    }
}

/// Daily prices of some assets from a CSV file, rows in date order. Two layouts:
/// - wide: a `Date` (or `date`) column and one column per series (`--column BTC=BTC:close`);
/// - long: columns `date,asset,close` (`--column BTC` picks the rows of asset BTC).
/// Dates are ISO (`2014-11-28`) or US (`1/4/1999`). An empty field is no price that day (before an
/// asset lists); a present one must be a positive number.
public struct PriceHistory: Sendable {
    public struct Series: Sendable {
        public let id: String
        /// Row dates (days since 1970-01-01) and prices, where the field was present.
        public let days: [Int]
        public let prices: [Double]
        /// Dates of the rows after the series' first price whose field is empty: no price that day
        /// (the return over it spans two rows).
        public let missingDays: [Int]

        /// Returns between consecutive rows with a price: percent simple returns 100·(P_t/P_{t−1} − 1),
        /// or 100·ln(P_t/P_{t−1}) with `logarithmic`. A calendar gap gives one multi-day return.
        public func returns(logarithmic: Bool = false) -> [Double] {
            (1..<max(prices.count, 1)).map { t -> Double in
                let ratio: Double = prices[t] / prices[t - 1]
                return logarithmic ? 100 * log(ratio) : 100 * (ratio - 1)
            }
        }
    }

    public let file: String
    public let series: [Series]

    /// - Parameter columns: (id, column) pairs: the wide layout's column names, or the long layout's
    ///   asset names (column nil).
    ///   A gzip-compressed file (`prices.csv.gz`) is read as it is.
    public init(file: String, columns: [(id: String, column: String?)]) throws {
        switch InputFile.contents(atPath: file) {
        case .success(let data):
            try self.init(file: file, data: data, columns: columns)
        case .failure(let failure):
            throw HistoryError(file: file, line: nil, column: nil, message: failure.reason, isMissingFile: failure == .missing)
        }
    }

    /// The prices in `data`, the (decompressed) bytes of `file` (read by the caller).
    public init(file: String, data: Data, columns: [(id: String, column: String?)]) throws {
        self.file = file
        func fail(_ line: Int?, _ column: String?, _ message: String) -> HistoryError { HistoryError(file: file, line: line, column: column, message: message) }
        guard let text = String(data: data, encoding: .utf8) else { throw fail(nil, nil, "cannot be read as UTF-8 text (a CSV file is UTF-8 text, optionally gzip-compressed)") }
        // Split on the bytes: "\r\n" is one Character to Swift, so a String split on "\n" misses it.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { bytes -> Substring in
            let line = Substring(bytes)
            return line.hasSuffix("\r") ? line.dropLast() : line
        }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw fail(1, nil, "the file is empty") }
        let header = headerLine.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let dateColumn = header.firstIndex(where: { $0.lowercased() == "date" }) else {
            throw fail(1, nil, "no Date column; the header is \(header.joined(separator: ","))")
        }
        let long = header.contains { $0.lowercased() == "asset" } && header.contains { $0.lowercased() == "close" }
        let assetColumn = header.firstIndex { $0.lowercased() == "asset" }, closeColumn = header.firstIndex { $0.lowercased() == "close" }
        var indices: [Int] = []
        if !long {
            for (id, column) in columns {
                let name = column ?? id
                guard let index = header.firstIndex(of: name) else {
                    throw fail(1, name, "no such column for \(id); the columns are \(header.joined(separator: ", "))")
                }
                indices.append(index)
            }
        }
        var days = [[Int]](repeating: [], count: columns.count), prices = [[Double]](repeating: [], count: columns.count)
        var missing = [[Int]](repeating: [], count: columns.count)
        var previous: [String: (day: Int, line: Int)] = [:]
        for (k, line) in lines.enumerated().dropFirst() {
            let number = k + 1
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else { throw fail(number, nil, "\(cells.count) fields where the header has \(header.count)") }
            guard let day = Self.day(cells[dateColumn]) else { throw fail(number, header[dateColumn], "'\(cells[dateColumn])' is not a date (YYYY-MM-DD or M/D/YYYY)") }
            let key = long ? cells[assetColumn!] : ""
            if let last = previous[key] {
                if day == last.day { throw fail(number, header[dateColumn], "duplicate date \(cells[dateColumn]) (also on line \(last.line))") }
                if day < last.day { throw fail(number, header[dateColumn], "\(cells[dateColumn]) comes after a later date (line \(last.line)): rows must be in date order") }
            }
            previous[key] = (day, number)
            for s in columns.indices {
                let index: Int
                if long {
                    guard cells[assetColumn!] == (columns[s].column ?? columns[s].id) else { continue }
                    index = closeColumn!
                } else {
                    index = indices[s]
                }
                let cell = cells[index]
                if cell.isEmpty {
                    if !days[s].isEmpty { missing[s].append(day) }
                    continue
                }
                guard let price = Double(cell), price.isFinite else { throw fail(number, header[index], "'\(cell)' is not a number") }
                guard price > 0 else { throw fail(number, header[index], "price \(cell) is not positive") }
                days[s].append(day)
                prices[s].append(price)
            }
        }
        series = columns.indices.map { Series(id: columns[$0].id, days: days[$0], prices: prices[$0], missingDays: missing[$0]) }
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD` or `M/D/YYYY`.
    public static func day(_ text: String) -> Int? {
        let iso = text.split(separator: "-"), us = text.split(separator: "/")
        let (y, m, d): (Int?, Int?, Int?)
        if iso.count == 3 { (y, m, d) = (Int(iso[0]), Int(iso[1]), Int(String(iso[2].prefix(2)))) } else if us.count == 3 { (y, m, d) = (Int(us[2]), Int(us[0]), Int(us[1])) } else { return nil }
        guard let y, let m, let d, (1...12).contains(m), (1...31).contains(d), y > 1800 else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (Howard Hinnant's civil-from-days).
public func isoDate(_ days: Int) -> String {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    return String(format: "%04d-%02d-%02d", y, m, d)
}
