import Foundation
@testable import Reports
import XCTest

/// Issue 32, items 3–6: terminal tables fit the terminal, CSV files read as data, `fit` writes every
/// report format, and `--html -` writes to standard output.
final class ReportLayoutTests: BinaryTestCase {
    static let history = "Tests/Fixtures/history/bitstamp-btc-eth-ltc-daily.csv"

    /// Every command's report, each with `--csv` into its own folder: (name, arguments).
    static func commands(_ folder: String) -> [(name: String, arguments: [String])] {
        let backtest = ["backtest", "Scenarios/backtest/bitstamp-majors.yaml", "--history", Self.history, "--column", "BTC=BTC:close",
                        "--column", "ETH=ETH:close", "--column", "LTC=LTC:close", "--paths", "500", "--window", "100", "--refit", "50",
                        "--from", "2019-10-01", "--to", "2019-12-31", "--es-simulations", "100"]
        return [
            ("run", ["run", "Scenarios/default.yaml", "--paths", "2000"]),
            ("stress", ["stress", "Scenarios/default.yaml"]),
            ("stress-cascade", ["stress", "Scenarios/default.yaml", "--cascade"]),
            ("calibrate", ["calibrate", "Scenarios/default.yaml", "--paths", "2000"]),
            ("evaluate", ["evaluate", "Scenarios/default.yaml", "--paths", "2000"]),
            ("robustness", ["robustness", "Scenarios/default.yaml", "--paths", "2000"]),
            ("backtest", backtest),
            ("fit", ["fit", Self.history, "--column", "BTC=BTC:close", "--column", "ETH=ETH:close"]),
        ].map { ($0.0, $0.1 + ["--csv", "\(folder)/\($0.0)"]) }
    }

    /// At COLUMNS=100 no line of any command's terminal report is wider than 100 characters; with
    /// --wide the stress report's tables are wider (nothing was left out); every CSV file's header
    /// is ASCII snake_case and its columns parse with one type each.
    func testTerminalReportsFitAndCSVFilesAreData() throws {
        let folder = try temporaryFolder()
        for (name, arguments) in Self.commands(folder) {
            let result = try run(arguments, environment: ["COLUMNS": "100"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let wide = result.stdout.split(separator: "\n").filter { $0.count > 100 }
            XCTAssertEqual(wide, [], "\(name): lines wider than COLUMNS=100")
            let files = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/\(name)").filter { $0.hasSuffix(".csv") }
            XCTAssertFalse(files.isEmpty, name)
            for file in files { try checkCSV("\(folder)/\(name)/\(file)") }
        }
        let stress = try run(["stress", "Scenarios/default.yaml", "--wide"], environment: ["COLUMNS": "100"])
        XCTAssertTrue(stress.stdout.split(separator: "\n").contains { $0.count > 100 }, "--wide keeps every column")
        XCTAssertFalse(stress.stdout.contains("left out to fit"))
        let narrow = try run(["stress", "Scenarios/default.yaml"], environment: ["COLUMNS": "100"])
        XCTAssertTrue(narrow.stdout.contains("left out to fit 100 columns"), narrow.stdout)
    }

    /// Integer columns: counts written as integers ("100000", not "100000.0").
    static let integerColumns: Set<String> = [
        "n", "days", "exceptions", "accounts_liquidated", "accounts_bankrupt", "accounts_deleveraged", "round", "rounds", "paths_needed",
        "paths_to_resolve", "fund_ran_out_round",
    ]

    /// `path`'s header is ASCII snake_case (letters, digits, "_", and "." in a level such as var_0.99;
    /// upper case only in an asset id such as price_BTC), its
    /// rows as long as the header, each column either numeric in every non-empty field or text, the
    /// count columns integers, and no number written with float noise ("…99999999997").
    func checkCSV(_ path: String) throws {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.first).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let file = URL(fileURLWithPath: path).lastPathComponent
        for name in header {
            XCTAssertNotNil(name.range(of: "^[A-Za-z][A-Za-z0-9_.]*$", options: .regularExpression), "\(file): header '\(name)' is not ASCII snake_case")
        }
        let rows = lines.dropFirst().map(fields)
        for row in rows { XCTAssertEqual(row.count, header.count, "\(file): \(row)") }
        for (c, name) in header.enumerated() {
            let values = rows.map { c < $0.count ? $0[c] : "" }.filter { !$0.isEmpty }
            let numeric = values.filter { Double($0) != nil }
            if !numeric.isEmpty {
                XCTAssertEqual(numeric.count, values.count, "\(file): column \(name) mixes numbers and text: \(values.prefix(5))")
            }
            if Self.integerColumns.contains(name) {
                for value in values { XCTAssertNotNil(Int(value), "\(file): \(name) = '\(value)' is not an integer") }
            }
            for value in numeric {
                XCTAssertFalse(value.hasSuffix(".0"), "\(file): \(name) = '\(value)': an integral number written as a float")
                let digits = value.split(separator: "e")[0].filter(\.isNumber).drop { $0 == "0" }
                let mantissa = digits.reversed().drop { $0 == "0" }
                XCTAssertLessThanOrEqual(mantissa.count, 12, "\(file): \(name) = '\(value)': float noise")
            }
        }
    }

    /// The fields of one CSV line (RFC 4180 quoting).
    func fields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var characters = Array(line)[...]
        while let ch = characters.popFirst() {
            if quoted {
                if ch == "\"" {
                    if characters.first == "\"" { current.append("\""); characters.removeFirst() } else { quoted = false }
                } else {
                    current.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        return fields + [current]
    }

    /// `fit` writes HTML and CSV like every command; `--html -` and `--json -` write to standard
    /// output instead of the table; both at once is a usage error.
    func testFitReportsAndHTMLToStandardOutput() throws {
        let folder = try temporaryFolder()
        let fit = try run(["fit", Self.history, "--column", "BTC=BTC:close", "--column", "ETH=ETH:close",
                           "--html", folder + "/fit.html", "--csv", folder + "/csv"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let html = try String(contentsOfFile: folder + "/fit.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>GARCH(1,1)-t per asset</h2>"), html)
        let fitCSV = try String(contentsOfFile: folder + "/csv/fit.csv", encoding: .utf8)
        XCTAssertTrue(fitCSV.hasPrefix("id,n,mu,mu_se,"), fitCSV)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/csv/residual_correlation.csv"))

        let toStdout = try run(["fit", Self.history, "--column", "BTC=BTC:close", "--html", "-"])
        XCTAssertEqual(toStdout.status, 0, toStdout.stderr)
        XCTAssertTrue(toStdout.stdout.hasPrefix("<!DOCTYPE html>"), String(toStdout.stdout.prefix(200)))
        XCTAssertTrue(toStdout.stdout.hasSuffix("</html>\n"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"))

        let run = try run(["run", "Scenarios/default.yaml", "--paths", "1000", "--html", "-"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.hasPrefix("<!DOCTYPE html>"))
        XCTAssertFalse(run.stdout.contains("paths/s\n2"), "no table after the page")
        let both = try self.run(["run", "Scenarios/default.yaml", "--paths", "1000", "--html", "-", "--json", "-"])
        XCTAssertEqual(both.status, 64, both.stderr)
    }

    /// `merge` reports the merge's own time, not a merge speed in paths/s; `run` its paths/s; a
    /// one-account book says why its row repeats the book's.
    func testMergeStatesItsTime() throws {
        let folder = try temporaryFolder()
        for i in 0..<2 {
            let part = try run(["run", "Scenarios/default.yaml", "--paths", "2000", "--slice", "\(i)/2", "--partial", "\(folder)/p\(i).part"])
            XCTAssertEqual(part.status, 0, part.stderr)
        }
        let merged = try run(["merge", "\(folder)/p0.part", "\(folder)/p1.part"], environment: ["COLUMNS": "100"])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertTrue(merged.stdout.contains("merged the slices' parts in"), merged.stdout)
        XCTAssertFalse(merged.stdout.contains("paths/s"), merged.stdout)
        let single = try run(["run", "Scenarios/default.yaml", "--paths", "2000"])
        XCTAssertFalse(single.stdout.contains("the book has one account"))
        let one = try run(["run", "Scenarios/examples/btc-eth-book.yaml", "--paths", "2000"])
        XCTAssertTrue(one.stdout.contains("BOOK and desk-1 are the same: the book has one account."), one.stdout)
        XCTAssertNotNil(single.stdout.range(of: #"[\d.,]+( M)? paths/s"#, options: .regularExpression), single.stdout)
    }

    /// A table too wide for its width loses its lowest-priority column first (the rightmost of
    /// equals), never the first, and says which; `nil` width keeps everything; prose wraps at spaces.
    func testFittingDropsLowestPriorityAndWraps() {
        let table = ReportTable(columns: [.init("name"), .init("keep", priority: 2), .init("detail", priority: 0), .init("value")],
                                rows: [[.label("a"), .label("12345678"), .label(String(repeating: "x", count: 30)), .money(1234)]])
        let document = ReportDocument(title: "t", context: [String(repeating: "word ", count: 40)],
                                      sections: [ReportSection(heading: "h", blocks: [.table(table)])], json: .null)
        let narrow = TerminalRenderer.render(document, width: 40)
        XCTAssertTrue(narrow.split(separator: "\n").allSatisfy { $0.count <= 40 }, narrow)
        XCTAssertFalse(narrow.contains("xxxx"))
        XCTAssertTrue(narrow.contains("keep") && narrow.contains("1,234"))
        XCTAssertTrue(narrow.contains("left out to fit 40 columns: detail"), narrow)
        let wide = TerminalRenderer.render(document, width: nil)
        XCTAssertTrue(wide.contains(String(repeating: "x", count: 30)))
        XCTAssertFalse(wide.contains("left out"))
        XCTAssertEqual(TerminalRenderer.wrap("aa bb cc dd", width: 5), ["aa bb", "  cc", "  dd"])
    }

    /// Counts read in the singular for one; a column that repeats one number says why.
    func testPluralsAndRepeatedValues() {
        XCTAssertEqual(counted(1, "account"), "1 account")
        XCTAssertEqual(counted(10_000, "account"), "10,000 accounts")
        XCTAssertEqual(counted(1, "stress", plural: "stresses"), "1 stress")
        XCTAssertNotNil(RobustnessReport.sameDeficitReason([412.5, 412.5, 412.5]))
        XCTAssertNil(RobustnessReport.sameDeficitReason([412.5, 300, 412.5]))
    }

    /// CSV keys are ASCII snake_case; counts are integers; integral numbers carry no ".0".
    func testCSVKeysAndNumbers() {
        XCTAssertEqual(CSVRenderer.csvKey("student-t ν=4.0"), "student_t_nu_4.0")
        XCTAssertEqual(CSVRenderer.csvKey("vol ×0.8"), "vol_x_0.8")
        XCTAssertEqual(CSVRenderer.csvKey("var_0.99"), "var_0.99")
        XCTAssertEqual(ReportCell.integer(100_000).csv, "100000")
        XCTAssertEqual(ReportCell.integer(100_000).text, "100,000")
        XCTAssertEqual(csvNumber(100_000), "100000")
        XCTAssertEqual(csvNumber(0.1), "0.1")
        XCTAssertEqual(csvNumber(-2.5), "-2.5")
        XCTAssertEqual(csvNumber(.infinity), "")
        XCTAssertEqual(csvNumber(0.1 * 3531.12), "353.112")
        XCTAssertEqual(csvNumber(0.2134687499999999), "0.21346875")
        XCTAssertEqual(csvNumber(92 * (1 - 0.99)), "0.92")
        XCTAssertEqual(csvNumber(1.0 / 3), "0.333333333333")
        XCTAssertEqual(csvNumber(1e-300), "1e-300")
    }

    /// The reports' printf path (`printed`, C's snprintf) writes what Foundation's `String(format:)`
    /// writes, and the CSV rounding (`csvNumber`) reads back what Foundation's text of %.12g reads:
    /// 20,000 seeded doubles of both signs over the whole exponent range, ±0, subnormals, the
    /// halfway cases of two decimals, and grouped digits at every length.
    func testPrintedNumbersAreFoundationsText() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 { state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return state }
        var values: [Double] = [0, -0.0, 0x1p-1074, -0x1p-1074, .greatestFiniteMagnitude, 0.125, 0.375, 2.675, 1.005, 99.995, -99.995, 1e15, 123_456_789.5]
        for _ in 0..<10_000 { values.append(Double(bitPattern: next())) }
        for _ in 0..<10_000 { values.append((Double(next() >> 11) / 0x1p53 - 0.5) * pow(10, Double(next() % 24) - 6)) }
        for x in values where x.isFinite {
            for format in ["%.2f", "%.6g", "%.3f%%", "%.12g", "%.4f"] {
                XCTAssertEqual(printed(format, x), String(format: format, x), "\(format) of \(x.bitPattern)")
            }
            let expected = Double(String(format: "%.12g", x))!
            let rounded = csvNumber(x)
            XCTAssertEqual(rounded, expected == expected.rounded() && abs(expected) < 0x1p53 ? String(Int64(expected)) : "\(expected)", "csv of \(x.bitPattern)")
        }
        for (n, text) in [(0, "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (-12_345, "-12,345"), (123_456, "123,456"), (1_234_567, "1,234,567"),
                          (Int.min, "-9,223,372,036,854,775,808")] {
            XCTAssertEqual(grouped(n), text)
        }
    }

    /// A report's first non-finite number is named by its path, built only when one is found; the
    /// JSON text is the same as the recursive rendering's (two-space indent, number arrays on one line).
    func testJSONPathsAndText() {
        let document = JSONValue.object([("a", .number(1)), ("b", .array([.object([("c", .number(2))]), .object([("c", .number(.nan))])]))])
        XCTAssertEqual(document.firstNonFinitePath, "b[1].c")
        XCTAssertEqual(JSONValue.array([.number(1), .number(.infinity)]).firstNonFinitePath, "[1]")
        XCTAssertEqual(JSONValue.number(.nan).firstNonFinitePath, "(top level)")
        XCTAssertNil(JSONValue.object([("x", .array([.integer(3), .null]))]).firstNonFinitePath)
        let text = JSONValue.object([("id", .string("a\"b")), ("v", .array([.number(1.5), .integer(2)])), ("o", .object([])),
                                     ("n", .array([.object([("k", .bool(true))])]))]).serialized()
        XCTAssertEqual(text, "{\n  \"id\": \"a\\\"b\",\n  \"v\": [1.5, 2],\n  \"o\": {},\n  \"n\": [\n    {\n      \"k\": true\n    }\n  ]\n}")
    }
}
