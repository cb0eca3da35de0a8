import Foundation
import History
@testable import Reports
import XCTest

/// Issue 32, item 2: charts that hold at scale and say the truth — every mark inside its plot area,
/// a log axis where values span more than two decades, one severity palette, a chart in evaluate's
/// report.
final class ChartTests: BinaryTestCase {
    /// One `<svg>` of a page: its title, plot area (`data-plot`), scales and text.
    struct Chart {
        let title: String
        let plot: [Double]
        let xScale: String, yScale: String
        let svg: String
    }

    /// The capture groups of every match of `pattern` in `text`.
    static func matches(_ pattern: String, _ text: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
        }
    }

    static func attribute(_ name: String, _ tag: String) -> String? { matches(" \(name)=\"([^\"]*)\"", tag).first?[1] }

    static func charts(_ html: String) -> [Chart] {
        matches("<svg ([^>]*)>(.*?)</svg>", html).map { m in
            Chart(title: matches("<title>([^<]*)</title>", m[2]).first?[1] ?? "",
                  plot: (attribute("data-plot", m[1]) ?? "").split(separator: " ").compactMap { Double($0) },
                  xScale: attribute("data-x-scale", m[1]) ?? "", yScale: attribute("data-y-scale", m[1]) ?? "", svg: m[2])
        }
    }

    /// The points of a chart's marks: rect corners, circle centres, polyline points and path vertices
    /// (legend swatches left out).
    static func points(_ svg: String) -> [(Double, Double)] {
        var points: [(Double, Double)] = []
        func number(_ name: String, _ tag: String) -> Double { Double(attribute(name, tag) ?? "") ?? .nan }
        for m in matches("<rect([^>]*)/>", svg) where !m[1].contains("class=\"legend\"") {
            let x = number("x", m[1]), y = number("y", m[1])
            points += [(x, y), (x + number("width", m[1]), y + number("height", m[1]))]
        }
        for m in matches("<circle([^>]*)/>", svg) { points.append((number("cx", m[1]), number("cy", m[1]))) }
        for m in matches("<polyline points=\"([^\"]*)\"", svg) {
            points += m[1].split(separator: " ").map { p in let xy = p.split(separator: ",").map { Double($0) ?? .nan }; return (xy[0], xy[1]) }
        }
        for m in matches("<path d=\"([^\"]*)\"", svg) {
            var current = (0.0, 0.0)
            for c in matches("([MLHVhv])([^MLHVhv]*)", m[1]) {
                let n = c[2].split(separator: ",").map { Double($0) ?? .nan }
                switch c[1] {
                case "M", "L": current = (n[0], n[1])
                case "H": current.0 = n[0]
                case "V": current.1 = n[0]
                case "h": current.0 += n[0]
                default: current.1 += n[0]
                }
                points.append(current)
            }
        }
        return points
    }

    /// Every mark of every chart of `html` lies inside its chart's plot area (to the 0.1 px the SVG is written to).
    func assertMarksInside(_ html: String, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        for chart in Self.charts(html) {
            XCTAssertEqual(chart.plot.count, 4, "\(context): \(chart.title) has no data-plot", file: file, line: line)
            guard chart.plot.count == 4 else { continue }
            let outside = Self.points(chart.svg).filter { x, y in
                !(x >= chart.plot[0] - 0.15 && x <= chart.plot[2] + 0.15 && y >= chart.plot[1] - 0.15 && y <= chart.plot[3] + 0.15)
            }
            XCTAssertEqual(outside.count, 0, "\(context): \(chart.title): marks outside \(chart.plot), e.g. \(outside.prefix(3))", file: file, line: line)
        }
    }

    /// Every command's HTML report keeps its marks inside the plot areas; evaluate's report has its
    /// tier chart on a log axis; run's book has a panel of its own.
    func testEveryReportsMarksLieInsideThePlotArea() throws {
        let folder = try temporaryFolder()
        for (name, arguments) in ReportLayoutTests.commands(folder) {
            let result = try run(arguments + ["--html", "-"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let charts = Self.charts(result.stdout)
            if name != "stress" && name != "fit" { XCTAssertFalse(charts.isEmpty, "\(name) has no chart") }
            assertMarksInside(result.stdout, name)
            if name == "evaluate" {
                let tiers = try XCTUnwrap(charts.first { $0.title.hasPrefix("Breach probability by tier") }, "evaluate has no tier chart")
                XCTAssertEqual(tiers.yScale, "log")
            }
            if name == "run" { XCTAssertTrue(charts.contains { $0.title == "Book VaR and ES" }, "run: no book panel") }
        }
    }

    /// A 10⁴-account book: the thresholds chart draws 20 accounts, each with its three bars inside the
    /// axis (in breach: every threshold negative), and says how many more; one huge liquidate bar
    /// puts the thresholds on a log axis, modest ones stay linear.
    func testThresholdsAtScale() {
        let n = 10_000, shown = chartedAccounts
        let ids = (0..<shown).map { "acct-\($0)" }
        let inBreach = ReportChart.thresholds(accounts: ids, warn: (0..<shown).map { -3000 - Double($0) * 10 }, reduceOnly: (0..<shown).map { -2000 - Double($0) * 10 },
                                              liquidate: (0..<shown).map { -1000 - Double($0) * 10 }, more: n - shown, title: "in breach")
        let svg = HTMLRenderer.svg(inBreach)
        assertMarksInside(svg, "in breach")
        let bars = Self.matches("<rect([^>]*)/>", svg).filter { !$0[1].contains("legend") }
        XCTAssertEqual(bars.count, 3 * shown, "every account has its three bars")
        XCTAssertTrue(svg.contains("and \(grouped(n - shown)) more"), "the chart says how many accounts it leaves out")
        XCTAssertEqual(Self.charts(svg).first?.xScale, "linear")

        let huge = HTMLRenderer.svg(.thresholds(accounts: ["a", "b"], warn: [800, 900], reduceOnly: [1000, 1200], liquidate: [5e8, 2000], more: 0, title: "huge"))
        XCTAssertEqual(Self.charts(huge).first?.xScale, "log", "thresholds spanning five decades")
        assertMarksInside(huge, "huge")
        let modest = HTMLRenderer.svg(.thresholds(accounts: ["a"], warn: [800], reduceOnly: [1000], liquidate: [20_000], more: 0, title: "modest"))
        XCTAssertEqual(Self.charts(modest).first?.xScale, "linear", "thresholds within two decades")
    }

    /// P(liquidation) of 1e-5 beside P(breach) of 40 % gets a log y axis; probabilities within two
    /// decades keep a linear one; a daily series of losses all below zero stays inside its frame and
    /// its legend sits above the plot.
    func testLogAxesAndFrames() {
        let frontier = HTMLRenderer.svg(.percentLines(series: [("mean P(breach)", [(0.5, 40), (1, 5), (2, 0.3)]), ("mean P(liquidation)", [(0.5, 1e-3), (1, 1e-5), (2, 0)])],
                                                      title: "frontier", xLabel: "x", yLabel: "%"))
        XCTAssertEqual(Self.charts(frontier).first?.yScale, "log")
        XCTAssertTrue(frontier.contains("log scale (0 drawn at its start)"), "a zero on a log axis is said to be drawn at its start")
        assertMarksInside(frontier, "frontier")
        let narrow = HTMLRenderer.svg(.percentLines(series: [("rate", [(1e4, 1), (1e6, 8)])], title: "rates", xLabel: "x", yLabel: "%"))
        XCTAssertEqual(Self.charts(narrow).first?.yScale, "linear")
        let days = Array(18_000..<18_200)
        let series = HTMLRenderer.svg(.timeSeries(days: days, lines: [("VaR", days.map { -100 - Double($0 % 7) })], dots: ("realised", days.map { -Double($0 % 50) }),
                                                  marks: ("exceptions", [0, 199]), title: "losses", yLabel: "USD"))
        assertMarksInside(series, "time series")
        let chart = Self.charts(series)[0]
        for m in Self.matches("<rect class=\"legend\"([^>]*)/>", series) {
            XCTAssertLessThanOrEqual(Double(Self.attribute("y", m[1])!)! + 12, chart.plot[1], "legend over the plot")
        }
        // Twelve series: the legend wraps into rows, none over the plot or past the chart's left edge.
        let many = HTMLRenderer.svg(.percentLines(series: (0..<12).map { ("asset-\($0) long", [(1e4, Double($0 + 1)), (1e6, Double($0 + 2))]) },
                                                  title: "many", xLabel: "x", yLabel: "%"))
        let plot = Self.charts(many)[0].plot
        for m in Self.matches("<rect class=\"legend\"([^>]*)/>", many) {
            let x = Double(Self.attribute("x", m[1])!)!, y = Double(Self.attribute("y", m[1])!)!
            XCTAssertGreaterThanOrEqual(x, 0)
            XCTAssertTrue(y + 12 <= plot[1] || y >= plot[3], "legend swatch at y \(y) over the plot \(plot)")
        }
    }

    /// One severity palette: the thresholds' legend draws warn amber, reduce-only orange, liquidate
    /// red; evaluate's tiers above the target are drawn in that red (the lines in colours free of
    /// it); the HTML headlines use the same warning and bad colours.
    func testSeverityColoursAreConsistent() {
        let s = SVGChart.severity
        XCTAssertEqual(Set([s.warn, s.reduceOnly, s.liquidate]).count, 3)
        let svg = HTMLRenderer.svg(.thresholds(accounts: ["a"], warn: [1], reduceOnly: [2], liquidate: [3], more: 0, title: "t"))
        let legend = Dictionary(uniqueKeysWithValues: Self.matches("<rect class=\"legend\"[^>]* fill=\"([^\"]*)\"/>\\s*<text[^>]*>([^<]*)</text>", svg).map { ($0[2], $0[1]) })
        XCTAssertEqual(legend, ["warn": s.warn, "reduce-only": s.reduceOnly, "liquidate": s.liquidate])
        let tiers = HTMLRenderer.svg(.tierBreach(series: [("BTC long", [(upTo: 1e5, probability: 1e-4, breaching: false), (upTo: 1e7, probability: 0.05, breaching: true)]),
                                                          ("BTC short", [(upTo: 1e5, probability: 1e-5, breaching: false)])], target: 0.001, title: "tiers"))
        let circles = Self.matches("<circle([^>]*)/>", tiers).map { Self.attribute("fill", $0[1]) ?? "" }
        XCTAssertEqual(circles.filter { $0 == s.liquidate }.count, 1, "one breaching tier in red")
        for m in Self.matches("<polyline[^>]* stroke=\"([^\"]*)\"", tiers) { XCTAssertFalse([s.warn, s.reduceOnly, s.liquidate].contains(m[1])) }
        XCTAssertEqual(Self.charts(tiers).first?.yScale, "log")
        assertMarksInside(tiers, "tiers")
        let page = HTMLRenderer.render(ReportDocument(title: "t", context: [], json: .null))
        XCTAssertTrue(page.contains("p.warning { border-color: \(s.warn)") && page.contains("p.bad { border-color: \(s.liquidate)"))
    }

    /// A date axis labels each tick once: month starts over a quarter, every few months over two
    /// years, Januaries (as years) over a decade; never more than 8 ticks, all inside the span.
    func testDateTicksNeverRepeatALabel() throws {
        for (from, to, years) in [("2019-10-01", "2019-12-31", false), ("2018-03-19", "2020-02-29", false), ("2011-08-17", "2020-12-31", true)] {
            let first = try XCTUnwrap(PriceHistory.day(from)), last = try XCTUnwrap(PriceHistory.day(to))
            let calendar = SVGChart.calendarTicks(from: first, to: last)
            XCTAssertEqual(calendar.years, years, from)
            let labels = calendar.ticks.map { String(isoDate(Int($0)).prefix(years ? 4 : 7)) }
            XCTAssertEqual(Set(labels).count, labels.count, "\(from)…\(to): \(labels)")
            XCTAssertTrue((2...8).contains(labels.count), "\(from)…\(to): \(labels)")
            XCTAssertTrue(calendar.ticks.allSatisfy { $0 >= Double(first) && $0 <= Double(last) && isoDate(Int($0)).hasSuffix("-01") })
        }
    }
}
