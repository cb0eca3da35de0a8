import CommandSupport
import Foundation

/// `portfolio: {positions: positions.csv, balances: balances.csv}` — a book as an exchange exports
/// it: one row per position (`account,type,asset` and the columns its type needs:
/// `quantity,strike,expiry_days,right,iv,contracts,contract_value`, empty where unused) and one row
/// per balance (`account,currency,amount`). Paths are relative to the scenario file. Accounts come in
/// the order of their first row in balances.csv, then in positions.csv; positions and balances in
/// file order — so a YAML book listed in that order gives the same numbers bit for bit. Every error
/// names the file, the line and the column. A gzip-compressed file (`positions.csv.gz`) is read as it is.
enum CSVBook {
    static let positionColumns = ["account", "type", "asset"] + Array(InstrumentRegistry.allFields.dropFirst(2))
    static let balanceColumns = ["account", "currency", "amount"]

    /// - Parameter generatedBy: `portfolio.generated_by`, the command that writes CSV files a
    ///   repository does not ship; a missing file's error names it.
    static func accounts(positions: String?, balances: String?, scenarioFile: String, market: Market, generatedBy: String? = nil) throws -> [Account] {
        var accounts: [Account] = []
        var index: [String: Int] = [:]
        func account(_ id: String) -> Int {
            if let i = index[id] { return i }
            index[id] = accounts.count
            accounts.append(Account(id: id, collateral: [], positions: []))
            return accounts.count - 1
        }
        if let balances {
            let file = resolve(balances, scenarioFile)
            let p = ScalarParsers(file: file)
            for row in try rows(file, columns: balanceColumns, generatedBy: generatedBy) {
                let r = try FieldReader(row, file: file, path: "", known: balanceColumns)
                let id = try r.required("account", p.identifier)
                let currency = try r.required("currency") { node, path in
                    let c = try p.identifier(node, path)
                    guard c == "USD" || market.assetIndex(c) != nil || market.stablecoinIndex(c) != nil else {
                        throw p.fail(node, path, "unknown currency '\(c)'; use USD, a stablecoin of market.stablecoins or one of: \(market.assets.map(\.id).joined(separator: ", "))")
                    }
                    return c
                }
                let amount = try r.required("amount", p.within(0, Limits.amount))
                accounts[account(id)].collateral.append((currency: currency, amount: amount))
            }
        }
        if let positions {
            let file = resolve(positions, scenarioFile)
            let p = ScalarParsers(file: file)
            for row in try rows(file, columns: positionColumns, generatedBy: generatedBy) {
                let r = try FieldReader(row, file: file, path: "", known: positionColumns)
                let id = try r.required("account", p.identifier)
                guard case .mapping(let cells, let line) = row else { continue }
                let fields = ConfigNode.mapping(cells.filter { $0.key != "account" }, line: line)
                accounts[account(id)].positions.append(try Position(node: fields, path: "", market: market, p))
            }
        }
        return accounts
    }

    static func resolve(_ path: String, _ scenarioFile: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: scenarioFile).deletingLastPathComponent().appendingPathComponent(path).path
    }

    /// The data rows of a CSV file as mappings of their non-empty cells (header names → values),
    /// each cell carrying its line (a gzip file decompressed first). Quoted cells ("a,b", "" for a quote) are read as RFC 4180 says.
    /// - Parameter generatedBy: the command that writes the file, named when it is missing.
    static func rows(_ file: String, columns allowed: [String], generatedBy: String? = nil) throws -> [ConfigNode] {
        let data: Data
        switch InputFile.contents(atPath: file) {
        case .success(let bytes): data = bytes
        case .failure(let failure):
            let generator = failure == .missing ? generatedBy.map { ": it is generated, not shipped; run \($0)" } : nil
            throw ScenarioError(file: file, path: "", line: nil, message: failure.reason + (generator ?? ""))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: file, path: "", line: nil, message: "cannot be read as UTF-8 text (a CSV book is UTF-8 text, optionally gzip-compressed)")
        }
        SourceRecorder.record(data)
        // Lines split on the bytes (fast on millions of rows); a trailing "\r" is dropped by `cells`.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let headerLine = lines.first else { throw ScenarioError(file: file, path: "", line: 1, message: "the file is empty: it needs a header row (\(allowed.joined(separator: ",")))") }
        let header = try cells(headerLine, file: file, line: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        for (c, name) in header.enumerated() where !allowed.contains(name) {
            throw ScenarioError(file: file, path: "", line: 1, message: "column \(c + 1) '\(name)' is not a column of this file; columns: \(allowed.joined(separator: ", "))")
        }
        var seen = Set<String>()
        for name in header where !seen.insert(name).inserted {
            throw ScenarioError(file: file, path: "", line: 1, message: "column '\(name)' appears twice")
        }
        var rows: [ConfigNode] = []
        rows.reserveCapacity(lines.count - 1)
        for (offset, raw) in lines.dropFirst().enumerated() {
            let line = offset + 2
            if raw.allSatisfy({ $0 == "\r" || $0 == " " }) { continue }
            let values = try cells(raw, file: file, line: line)
            guard values.count == header.count else {
                throw ScenarioError(file: file, path: "", line: line, message: "\(values.count) cells, but the header has \(header.count) columns")
            }
            var entries: [ConfigEntry] = []
            for (name, value) in zip(header, values) where !value.isEmpty {
                entries.append(ConfigEntry(key: name, value: .scalar(value, line: line), line: line))
            }
            rows.append(.mapping(entries, line: line))
        }
        return rows
    }

    /// The cells of one CSV line (a trailing \r dropped, cells trimmed of spaces outside quotes),
    /// read byte by byte.
    static func cells(_ line: Substring, file: String, line number: Int) throws -> [String] {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\""), space = UInt8(ascii: " "), cr = UInt8(ascii: "\r")
        var bytes = Array(line.utf8)
        if bytes.last == cr { bytes.removeLast() }
        var cells: [String] = []
        var i = 0
        while true {
            var cell: [UInt8] = []
            while i < bytes.count, bytes[i] == space { i += 1 }
            if i < bytes.count, bytes[i] == quote {
                i += 1
                var closed = false
                while i < bytes.count {
                    if bytes[i] == quote {
                        if i + 1 < bytes.count, bytes[i + 1] == quote { cell.append(quote); i += 2; continue }
                        closed = true; i += 1; break
                    }
                    cell.append(bytes[i]); i += 1
                }
                guard closed else { throw ScenarioError(file: file, path: "", line: number, message: "a quoted cell is not closed") }
                while i < bytes.count, bytes[i] != comma { i += 1 }
            } else {
                let start = i
                while i < bytes.count, bytes[i] != comma { i += 1 }
                var end = i
                while end > start, bytes[end - 1] == space { end -= 1 }
                cell = Array(bytes[start..<end])
            }
            cells.append(String(decoding: cell, as: UTF8.self))
            guard i < bytes.count else { return cells }
            i += 1   // the comma
        }
    }
}
