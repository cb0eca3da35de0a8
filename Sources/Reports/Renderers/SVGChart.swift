import Foundation
import History
import TailStats

/// Inline SVG charts for the HTML report: plain SVG 1.1, no scripts, no external resources.
/// Every chart has a title, labelled axes with units and a legend (above the plot, never on the data)
/// where it has more than one series. Each `<svg>` carries its plot area as `data-plot="x0 y0 x1 y1"`
/// and its scales as `data-x-scale`/`data-y-scale` ("linear" or "log"): every mark (rect, circle,
/// polyline, path; legend swatches have class "legend") lies inside the plot area. An axis of values
/// that are never negative and span more than two decades is logarithmic (`spansDecades`).
enum SVGChart {
    static let width = 720.0, height = 320.0
    static let margin = (left: 90.0, right: 20.0, top: 52.0, bottom: 56.0)
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    /// The action ladder's severities, the same in every chart and in the HTML headlines (warning,
    /// bad): warn amber, reduce-only orange, liquidate (and a breach of the target) red.
    static let severity = (warn: "#e0a100", reduceOnly: "#ef6c00", liquidate: "#c62828")
    /// Series colours for lines drawn beside severity marks: the palette without its reds and oranges.
    static let calmPalette = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]

    /// Colour of the s-th statistic (VaR 99 %, ES 99 %, …), the same in every chart; the first
    /// palette entry is kept for the data itself (histogram, empirical tail, single series).
    static func seriesColor(_ s: Int) -> String { palette[1 + s % (palette.count - 1)] }

    struct Marker {
        let label: String
        let value: Double
        let color: String
    }

    /// Loss histogram with vertical VaR/ES markers.
    static func histogram(_ h: Histogram, markers: [Marker], title: String, xLabel: String) -> String {
        let maxCount = Double(h.counts.max() ?? 1)
        let xs = Axis(low: h.lower, high: h.upper, pixels: (margin.left, width - margin.right))
        let ys = Axis(low: 0, high: maxCount * 1.08 / Double(h.total), pixels: (height - margin.bottom, margin.top))
        var body = ""
        for (k, count) in h.counts.enumerated() where count > 0 {
            let x0 = xs.map(h.lower + Double(k) * h.binWidth), x1 = xs.map(h.lower + Double(k + 1) * h.binWidth)
            let y = ys.map(Double(count) / Double(h.total))
            body += rect(x0, y, max(x1 - x0 - 0.5, 0.5), height - margin.bottom - y, fill: "#9ecae1")
        }
        body += markerLines(markers, axis: xs)
        return frame(title: title, xAxis: xs, yAxis: ys, xLabel: xLabel, yLabel: "fraction of paths per bin", body: body,
                     legend: markers.map { ($0.label, $0.color) }, formatY: { String(format: "%.3g", $0) })
    }

    /// P(loss > x) on a log scale, from the retained tail: the i-th largest of N losses has
    /// exceedance probability i/N.
    static func exceedance(_ largest: [Double], paths: Int, markers: [Marker], title: String, xLabel: String) -> String {
        guard largest.count > 1 else { return "" }
        var points: [(Double, Double)] = []
        var rank = 1
        while rank <= largest.count {
            points.append((largest[rank - 1], log10(Double(rank) / Double(paths))))
            rank = max(rank + 1, Int(Double(rank) * 1.05))
        }
        if points.last?.0 != largest.last { points.append((largest[largest.count - 1], log10(Double(largest.count) / Double(paths)))) }
        // The x range holds the whole retained tail and every marker (the lowest level's VaR sits
        // near the smallest retained loss).
        let finiteMarkers = markers.map(\.value).filter(\.isFinite)
        let xs = Axis(low: min(points.map(\.0).min()!, finiteMarkers.min() ?? .infinity),
                      high: max(points.map(\.0).max()!, finiteMarkers.max() ?? -.infinity), pixels: (margin.left, width - margin.right))
        var ys = Axis(low: floor(points.map(\.1).min()!), high: ceil(points.map(\.1).max()!), pixels: (height - margin.bottom, margin.top), integerTicks: true)
        ys.log = true
        let path = points.map { "\(f(xs.map($0.0))),\(f(ys.map($0.1)))" }.joined(separator: " ")
        var body = "<polyline points=\"\(path)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\"/>\n"
        body += markerLines(markers, axis: xs)
        return frame(title: title, xAxis: xs, yAxis: ys, xLabel: xLabel, yLabel: "P(loss > x), log scale", body: body,
                     legend: [("empirical tail", "#1f77b4")] + markers.map { ($0.label, $0.color) },
                     formatY: { "1e\(Int($0))" })
    }

    /// Horizontal grouped bars: one group per category, one bar per series.
    /// Grouped horizontal bars; with `intervals`, a whisker from low to high on each bar, and bars in
    /// `faded` drawn at a third of their opacity (within noise). The axis spans the values and the
    /// whiskers up to twice the largest value's size; a whisker beyond that ends in an arrow at the
    /// edge (one noisy threshold must not flatten every other bar).
    /// `colors`: one per series (default: the statistics' `seriesColor`); `more`: categories left out,
    /// said in a last row ("… and K more"). Values that are never negative and span more than two
    /// decades get a log axis starting at the smallest value's decade (zero drawn at its start).
    static func bars(categories: [String], series: [(name: String, values: [Double])], title: String, xLabel: String,
                     intervals: [[(low: Double, high: Double)?]] = [], faded: [[Bool]] = [], colors: [String]? = nil, more: Int = 0) -> String {
        let values = series.flatMap(\.values).filter(\.isFinite)
        let log = spansDecades(values)
        let reach = 2 * (values.map(abs).max() ?? 0)
        let ends = intervals.flatMap { $0.compactMap { $0 }.flatMap { [$0.low, $0.high] } }.filter(\.isFinite)
            .map { reach > 0 ? max(-reach, min(reach, $0)) : $0 }
        let rowHeight = 14.0 * Double(series.count) + 10
        let top = margin.top + 4
        let chartHeight = top + margin.bottom + rowHeight * Double(categories.count) + (more > 0 ? 20 : 0)
        let left = min(320, 16 + 6.6 * Double(categories.map(\.count).max() ?? 10))
        let xs = log ? decadeAxis(values, pixels: (left, width - margin.right)) : paddedAxis(values + ends, pixels: (left, width - margin.right))
        let t = scale(log: log)
        // A position on the axis, clamped to it.
        func position(_ v: Double) -> Double { xs.map(max(xs.low, min(xs.high, t(v)))) }
        let base = log ? pow(10, xs.low) : 0
        var body = ""
        for (c, category) in categories.enumerated() {
            let rowTop = top + Double(c) * rowHeight
            body += text(category, x: left - 6, y: rowTop + rowHeight / 2 + 4, anchor: "end")
            for (s, item) in series.enumerated() where item.values[c].isFinite {
                let x0 = position(min(base, item.values[c])), x1 = position(max(base, item.values[c])), y = rowTop + 4 + Double(s) * 14
                let fade = s < faded.count && faded[s][c]
                body += rect(x0, y, max(x1 - x0, 0.5), 12, fill: colors?[s] ?? seriesColor(s), opacity: fade ? 0.3 : 1)
                if s < intervals.count, let interval = intervals[s][c], interval.low.isFinite, interval.high.isFinite {
                    let interval = (low: t(interval.low), high: t(interval.high))
                    let a = xs.map(max(xs.low, interval.low)), b = xs.map(min(xs.high, interval.high)), mid = y + 6
                    // A cap at an end inside the axis, an arrow at an end cut by it.
                    func end(_ x: Double, cut: Bool, direction: Double) -> String {
                        cut ? "M\(f(x - 5 * direction)),\(f(mid - 4))L\(f(x)),\(f(mid))L\(f(x - 5 * direction)),\(f(mid + 4))" : "M\(f(x)),\(f(mid - 4))v8"
                    }
                    body += "<path d=\"M\(f(a)),\(f(mid))H\(f(b))\(end(a, cut: interval.low < xs.low, direction: -1))\(end(b, cut: interval.high > xs.high, direction: 1))\" stroke=\"#222\" fill=\"none\"/>\n"
                }
            }
        }
        if more > 0 { body += text("… and \(grouped(more)) more (table, CSV)", x: left, y: top + rowHeight * Double(categories.count) + 14, anchor: "start") }
        return frame(title: title, xAxis: xs, yAxis: nil, xLabel: log ? "\(xLabel), \(logScale(values))" : xLabel, yLabel: "", body: body,
                     legend: series.enumerated().map { ($0.element.name, colors?[$0.offset] ?? seriesColor($0.offset)) },
                     chartHeight: chartHeight, leftEdge: left, formatX: log ? { money(pow(10, $0)) } : nil)
    }

    /// Lines with a dot at each point. y is logarithmic where the values span decades
    /// (`spansDecades`) or, with `logY`, wherever one is positive; a value at or below the axis's
    /// start is drawn on it. `reference`: a dashed horizontal line (a target); `flagged[s][i]`:
    /// points drawn as larger red dots (the series then take `calmPalette`, free of red); `bands[s][i]`:
    /// an interval around point i of series s, drawn as a translucent band over each run of points that have one.
    static func lines(series: [(name: String, points: [(Double, Double)])], title: String, xLabel: String, yLabel: String,
                      logX: Bool, integerX: Bool = false, logY: Bool = false, reference: (label: String, value: Double)? = nil,
                      flagged: [[Bool]] = [], flagLabel: String = "", bands: [[(low: Double, high: Double)?]] = [],
                      formatY: @escaping (Double) -> String) -> String {
        let all = series.flatMap(\.points)
        guard !all.isEmpty else { return "" }
        let tx: (Double) -> Double = logX ? { log10($0) } : { $0 }
        var xs = Axis(low: all.map { tx($0.0) }.min()!, high: all.map { tx($0.0) }.max()!, pixels: (margin.left, width - margin.right),
                      integerTicks: logX || integerX)
        xs.log = logX
        // A log axis spanning less than two decades has one or two powers of ten: tick the data's x
        // instead, every k-th of them where more than ten would crowd the axis (a smile's 41 strikes).
        if logX && xs.high - xs.low < 2 {
            let ticks = Array(Set(all.map { tx($0.0) })).sorted(), step = (ticks.count + 9) / 10
            xs.explicitTicks = Swift.stride(from: 0, to: ticks.count, by: step).map { ticks[$0] }
        }
        let yValues = all.map(\.1) + (reference.map { [$0.value] } ?? []) + bands.flatMap { $0.compactMap { $0 }.flatMap { [$0.low, $0.high] } }
        let log = spansDecades(yValues) || (logY && yValues.contains { $0 > 0 && $0.isFinite })
        let yPixels = (height - margin.bottom, margin.top)
        let ys = log ? decadeAxis(yValues, pixels: yPixels) : paddedAxis(yValues, pixels: yPixels)
        let ty = scale(log: log)
        func y(_ v: Double) -> Double { ys.map(max(ys.low, min(ys.high, ty(v)))) }
        let colors = flagged.isEmpty ? series.indices.map(seriesColor) : series.indices.map { calmPalette[$0 % calmPalette.count] }
        var body = ""
        if let reference {
            body += "<line x1=\"\(f(xs.pixels.0))\" y1=\"\(f(y(reference.value)))\" x2=\"\(f(xs.pixels.1))\" y2=\"\(f(y(reference.value)))\" stroke=\"#333\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n"
        }
        for (s, item) in series.enumerated() where s < bands.count {
            body += bandPolygons(item.points.map { tx($0.0) }, bands[s], x: { xs.map($0) }, y: y, color: colors[s])
        }
        for (s, item) in series.enumerated() {
            body += "<polyline points=\"\(item.points.map { "\(f(xs.map(tx($0.0)))),\(f(y($0.1)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(colors[s])\" stroke-width=\"2\"/>\n"
            for (i, p) in item.points.enumerated() {
                let flag = s < flagged.count && flagged[s][i]
                let ring = flag ? " stroke=\"#000\"" : ""
                body += "<circle cx=\"\(f(xs.map(tx(p.0))))\" cy=\"\(f(y(p.1)))\" r=\"\(flag ? 5 : 3)\" fill=\"\(flag ? severity.liquidate : colors[s])\"\(ring)/>\n"
            }
        }
        var legend = series.enumerated().map { ($0.element.name, colors[$0.offset]) }
        if let reference { legend.append((reference.label, "#333")) }
        if flagged.contains(where: { $0.contains(true) }) { legend.append((flagLabel, severity.liquidate)) }
        return frame(title: title, xAxis: xs, yAxis: ys, xLabel: xLabel, yLabel: log ? "\(yLabel), \(logScale(yValues))" : yLabel, body: body, legend: legend,
                     formatX: logX ? { money(pow(10, $0)) } : integerX ? { String(format: "%.0f", $0) } : nil,
                     formatY: log ? { formatY(pow(10, $0)) } : formatY)
    }

    /// Translucent polygons between the lows and highs of each run of consecutive points with a band
    /// (a lone point's band is a short vertical bar).
    static func bandPolygons(_ xs: [Double], _ bands: [(low: Double, high: Double)?], x: (Double) -> Double, y: (Double) -> Double, color: String) -> String {
        var out = "", run: [(x: Double, low: Double, high: Double)] = []
        func flush() {
            defer { run = [] }
            guard !run.isEmpty else { return }
            if run.count == 1 {
                out += "<line x1=\"\(f(x(run[0].x)))\" y1=\"\(f(y(run[0].low)))\" x2=\"\(f(x(run[0].x)))\" y2=\"\(f(y(run[0].high)))\" stroke=\"\(color)\" stroke-width=\"6\" stroke-opacity=\"0.25\"/>\n"
                return
            }
            let upper = run.map { "\(f(x($0.x))),\(f(y($0.high)))" }, lower = run.reversed().map { "\(f(x($0.x))),\(f(y($0.low)))" }
            out += "<polygon class=\"band\" points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.2\" stroke=\"none\"/>\n"
        }
        for (i, band) in bands.enumerated() where i < xs.count {
            if let band { run.append((xs[i], band.low, band.high)) } else { flush() }
        }
        flush()
        return out
    }

    /// Daily series against the date: each line thinned to at most ~1,500 points (the margin series
    /// are smooth), the dots as one path of round caps, the marked days as black rings on their dots.
    static func timeSeries(days: [Int], lines: [(name: String, values: [Double])], dots: (name: String, values: [Double])?,
                           marks: (name: String, indices: [Int])?, title: String, yLabel: String) -> String {
        guard days.count > 1 else { return "" }
        let values = (lines.flatMap(\.values) + (dots?.values ?? [])).filter(\.isFinite)
        var xs = Axis(low: Double(days.first!), high: Double(days.last!), pixels: (margin.left, width - margin.right))
        let calendar = calendarTicks(from: days.first!, to: days.last!)
        xs.explicitTicks = calendar.ticks
        let ys = paddedAxis(values, pixels: (height - margin.bottom, margin.top))
        func point(_ t: Int, _ v: Double) -> String { "\(f(xs.map(Double(days[t])))),\(f(ys.map(v)))" }
        var body = ""
        if let dots {
            let moves = dots.values.indices.filter { dots.values[$0].isFinite }.map { "M\(point($0, dots.values[$0]))h0" }.joined()
            body += "<path d=\"\(moves)\" stroke=\"#9e9e9e\" stroke-width=\"2.5\" stroke-linecap=\"round\" fill=\"none\"/>\n"
        }
        let step = max(1, days.count / 1500)
        for (s, line) in lines.enumerated() {
            let kept = Array(stride(from: 0, to: days.count, by: step)) + (((days.count - 1) % step == 0) ? [] : [days.count - 1])
            let points = kept.filter { line.values[$0].isFinite }.map { point($0, line.values[$0]) }.joined(separator: " ")
            body += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(seriesColor(s))\" stroke-width=\"1.5\"/>\n"
        }
        if let marks, let dots {
            for t in marks.indices where dots.values[t].isFinite {
                body += "<circle cx=\"\(f(xs.map(Double(days[t]))))\" cy=\"\(f(ys.map(dots.values[t])))\" r=\"3.5\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1.5\"/>\n"
            }
        }
        var legend = lines.enumerated().map { ($0.element.name, seriesColor($0.offset)) }
        if let dots { legend.append((dots.name, "#9e9e9e")) }
        if let marks { legend.append(("\(marks.name) (\(marks.indices.count))", "#000000")) }
        return frame(title: title, xAxis: xs, yAxis: ys, xLabel: "date", yLabel: yLabel, body: body, legend: legend,
                     formatX: { String(isoDate(Int($0)).prefix(calendar.years ? 4 : 7)) }, formatY: { money($0) })
    }

    /// Ticks for a date axis (days since 1970): the first days of months within [first, last], every
    /// k-th month for the smallest k of 1, 2, 3, 6, 12, 24, 60 that leaves at most 8 (k ≥ 12: Januaries),
    /// so that no two ticks carry the same label; `years` when k ≥ 12 (labelled YYYY, else YYYY-MM).
    static func calendarTicks(from first: Int, to last: Int) -> (ticks: [Double], years: Bool) {
        let start = isoDate(first).split(separator: "-").compactMap { Int($0) }
        guard start.count == 3 else { return ([], false) }
        var (year, month) = (start[0], start[1])
        var starts: [(year: Int, month: Int, day: Int)] = []
        if start[2] == 1 { starts.append((year, month, first)) }
        while true {
            month += 1
            if month > 12 { (year, month) = (year + 1, 1) }
            guard let day = PriceHistory.day(String(format: "%04d-%02d-01", year, month)), day <= last else { break }
            starts.append((year, month, day))
        }
        for k in [1, 2, 3, 6, 12, 24, 60] {
            let picked = starts.filter { k < 12 ? ($0.month - 1) % k == 0 : $0.month == 1 && $0.year % (k / 12) == 0 }
            if picked.count <= 8 { return (picked.map { Double($0.day) }, k >= 12) }
        }
        return (starts.filter { $0.month == 1 && $0.year % 10 == 0 }.map { Double($0.day) }, true)
    }

    /// A matrix of probabilities as coloured cells: white at `reference` (the target), red up to ten
    /// times above it, blue down to ten times below (log scale), each cell labelled with its value.
    static func heatMap(rows: [String], columns: [String], values: [[Double]], reference: Double, withinNoise: [[Bool]] = [], title: String,
                        caption: String) -> String {
        let cell = (width: min(120.0, (width - 200) / Double(max(columns.count, 1))), height: 30.0)
        let left = max(130, min(200, 16 + 7.5 * Double(rows.map(\.count).max() ?? 10))), top = margin.top + 40
        let chartHeight = top + cell.height * Double(rows.count) + 56
        var svg = svgOpen(height: chartHeight, plot: (left, top, left + cell.width * Double(columns.count), top + cell.height * Double(rows.count)),
                          scales: ("linear", "linear"))
        svg += "<title>\(escape(title))</title>\n" + text(title, x: width / 2, y: 20, anchor: "middle", weight: "bold", size: 14)
        svg += text("evaluated under →", x: left, y: top - 24, anchor: "start") + text("calibrated under ↓", x: 8, y: top - 6, anchor: "start")
        for (j, name) in columns.enumerated() { svg += text(name, x: left + (Double(j) + 0.5) * cell.width, y: top - 6, anchor: "middle") }
        for (i, name) in rows.enumerated() {
            let y = top + Double(i) * cell.height
            svg += text(name, x: left - 6, y: y + cell.height / 2 + 4, anchor: "end")
            for (j, v) in values[i].enumerated() {
                let x = left + Double(j) * cell.width
                let t = v > 0 && reference > 0 ? max(-1, min(1, log10(v / reference))) : -1
                let fade = Int(255 * (1 - abs(t)))
                let noise = i < withinNoise.count && withinNoise[i][j]
                let color = noise ? "rgb(236,236,236)" : t >= 0 ? "rgb(255,\(fade),\(fade))" : "rgb(\(fade),\(fade),255)"
                svg += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(cell.width - 2))\" height=\"\(f(cell.height - 2))\" fill=\"\(color)\" stroke=\"\(i == j ? "#333" : "none")\"/>\n"
                svg += "<text x=\"\(f(x + cell.width / 2))\" y=\"\(f(y + cell.height / 2 + 4))\" text-anchor=\"middle\" fill=\"\(noise ? "#777" : abs(t) > 0.6 ? "#fff" : "#000")\">\(String(format: "%.3g", v))</text>\n"
            }
        }
        // The caption wraps at the chart's width.
        var line = "", y = chartHeight - 30
        for word in caption.split(separator: " ") {
            if Double(line.count + word.count) * 6.4 > width - 16 { svg += text(line, x: 8, y: y, anchor: "start"); line = ""; y += 15 }
            line += (line.isEmpty ? "" : " ") + word
        }
        svg += text(line, x: 8, y: y, anchor: "start")
        return svg + "</svg>\n"
    }

    // MARK: - Building blocks

    /// Whether `values` are never negative and their positive ones span more than two decades: a
    /// linear axis would flatten the small ones (a 1e-5 probability beside 40 %, warn beside a huge
    /// liquidate), so the axis is logarithmic.
    static func spansDecades(_ values: [Double]) -> Bool {
        let finite = values.filter(\.isFinite)
        guard finite.allSatisfy({ $0 >= 0 }), let low = finite.filter({ $0 > 0 }).min(), let high = finite.max() else { return false }
        return high / low > 100
    }

    /// How a log axis is labelled: "log scale", and where zeros are drawn if `values` have any.
    static func logScale(_ values: [Double]) -> String {
        values.contains(0) ? "log scale (0 drawn at its start)" : "log scale"
    }

    /// Data to axis units: log10 on a log axis (−∞ at or below zero, which callers clamp to the axis's start).
    static func scale(log: Bool) -> (Double) -> Double {
        log ? { $0 > 0 ? log10($0) : -.infinity } : { $0 }
    }

    /// A log axis in whole decades around the positive `values` (in log10 units).
    static func decadeAxis(_ values: [Double], pixels: (Double, Double)) -> Axis {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        var axis = Axis(low: floor(log10(positive.min() ?? 1)), high: ceil(log10(positive.max() ?? 10)), pixels: pixels, integerTicks: true)
        axis.log = true
        return axis
    }

    /// A linear axis over `values` and zero, 5 % wider on each side that has data away from zero
    /// (all-negative values end at zero, not short of it).
    static func paddedAxis(_ values: [Double], pixels: (Double, Double)) -> Axis {
        let finite = values.filter(\.isFinite)
        let low = min(0, finite.min() ?? 0), high = max(0, finite.max() ?? 0), pad = 0.05 * (high - low)
        return Axis(low: low < 0 ? low - pad : 0, high: high > 0 ? high + pad : 0, pixels: pixels)
    }

    /// The opening `<svg>` tag with the plot area (x0 y0 x1 y1, pixels) and the x and y scales as data attributes.
    static func svgOpen(height chartHeight: Double, plot: (Double, Double, Double, Double), scales: (x: String, y: String)) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(chartHeight))\" viewBox=\"0 0 \(f(width)) \(f(chartHeight))\" font-family=\"sans-serif\" font-size=\"12\" role=\"img\" data-plot=\"\(f(plot.0)) \(f(plot.1)) \(f(plot.2)) \(f(plot.3))\" data-x-scale=\"\(scales.x)\" data-y-scale=\"\(scales.y)\">\n"
    }

    /// A linear axis from data to pixels with "nice" ticks.
    struct Axis {
        let low: Double, high: Double
        let pixels: (Double, Double)
        var integerTicks = false
        /// Whether the axis's units are log10 of the data's (a log scale, labelled in the data's units).
        var log = false
        /// Ticks to draw instead of the "nice" ones.
        var explicitTicks: [Double]?

        init(low: Double, high: Double, pixels: (Double, Double), integerTicks: Bool = false) {
            self.low = low
            self.high = high > low ? high : low + 1
            self.pixels = pixels
            self.integerTicks = integerTicks
        }

        func map(_ v: Double) -> Double { pixels.0 + (v - low) / (high - low) * (pixels.1 - pixels.0) }

        var ticks: [Double] {
            if let explicitTicks { return explicitTicks }
            let span = high - low
            var step = pow(10, floor(log10(span / 5)))
            for factor in [2.0, 5.0, 10.0] where span / step > 7 { step = pow(10, floor(log10(span / 5))) * factor }
            if integerTicks { step = max(1, step.rounded()) }
            var tick = ceil(low / step) * step, result: [Double] = []
            while tick <= high + 1e-9 * span { result.append(tick); tick += step }
            return result
        }
    }

    static func frame(title: String, xAxis: Axis, yAxis: Axis?, xLabel: String, yLabel: String, body: String,
                      legend: [(String, String)], chartHeight: Double = height, leftEdge: Double = margin.left,
                      formatX: ((Double) -> String)? = nil, formatY: ((Double) -> String) = { String(format: "%.3g", $0) }) -> String {
        let bottom = chartHeight - margin.bottom
        // The legend in right-aligned rows as wide as the plot: the first above the plot, any further
        // ones below the x-axis label (the chart grows to hold them). 7.4 px a character of 12 px
        // sans-serif: a swatch never covers the label before it.
        var legendRows: [[(label: String, color: String, width: Double)]] = [[]]
        for (label, color) in legend {
            let entry = (label: label, color: color, width: 28 + Double(label.count) * 7.4)
            if !legendRows[legendRows.count - 1].isEmpty && legendRows[legendRows.count - 1].map(\.width).reduce(0, +) + entry.width > width - margin.right - 8 {
                legendRows.append([])
            }
            legendRows[legendRows.count - 1].append(entry)
        }
        var svg = svgOpen(height: chartHeight + 18 * Double(legendRows.count - 1), plot: (leftEdge, margin.top, width - margin.right, bottom),
                          scales: (xAxis.log ? "log" : "linear", yAxis.map { $0.log ? "log" : "linear" } ?? "none"))
        svg += "<title>\(escape(title))</title>\n"
        svg += text(title, x: width / 2, y: 20, anchor: "middle", weight: "bold", size: 14)
        svg += "<line x1=\"\(f(leftEdge))\" y1=\"\(f(bottom))\" x2=\"\(f(width - margin.right))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
        for tick in xAxis.ticks {
            let x = xAxis.map(tick)
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(bottom))\" x2=\"\(f(x))\" y2=\"\(f(bottom + 5))\" stroke=\"#333\"/>\n"
            let label = formatX?(tick) ?? money(tick)
            // A label that would cross the right edge ends at its tick instead of centring on it.
            let overflows = x + 3.5 * Double(label.count) > width - 2
            svg += text(label, x: x, y: bottom + 18, anchor: overflows ? "end" : "middle")
        }
        svg += text(xLabel, x: (leftEdge + width - margin.right) / 2, y: chartHeight - 14, anchor: "middle")
        if let yAxis {
            svg += "<line x1=\"\(f(leftEdge))\" y1=\"\(f(margin.top))\" x2=\"\(f(leftEdge))\" y2=\"\(f(bottom))\" stroke=\"#333\"/>\n"
            for tick in yAxis.ticks {
                let y = yAxis.map(tick)
                svg += "<line x1=\"\(f(leftEdge - 5))\" y1=\"\(f(y))\" x2=\"\(f(width - margin.right))\" y2=\"\(f(y))\" stroke=\"#ddd\"/>\n"
                svg += text(formatY(tick), x: leftEdge - 8, y: y + 4, anchor: "end")
            }
            svg += "<text x=\"16\" y=\"\(f((margin.top + bottom) / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f((margin.top + bottom) / 2)))\">\(escape(yLabel))</text>\n"
        }
        svg += body
        for (k, row) in legendRows.enumerated() {
            var x = width - margin.right - row.map(\.width).reduce(0, +)
            let y = k == 0 ? margin.top - 20 : chartHeight + 18 * Double(k - 1)
            for entry in row {
                svg += rect(x, y, 12, 12, fill: entry.color, attributes: " class=\"legend\"") + text(entry.label, x: x + 16, y: y + 10, anchor: "start")
                x += entry.width
            }
        }
        return svg + "</svg>\n"
    }

    static func markerLines(_ markers: [Marker], axis: Axis) -> String {
        markers.filter { $0.value.isFinite && $0.value >= axis.low && $0.value <= axis.high }.map { m in
            "<line x1=\"\(f(axis.map(m.value)))\" y1=\"\(f(margin.top + 14))\" x2=\"\(f(axis.map(m.value)))\" y2=\"\(f(height - margin.bottom))\" stroke=\"\(m.color)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
        }.joined()
    }

    static func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, fill: String, opacity: Double = 1, attributes: String = "") -> String {
        let faded = opacity < 1 ? " fill-opacity=\"\(opacity)\"" : ""
        return "<rect\(attributes) x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" fill=\"\(fill)\"\(faded)/>\n"
    }

    static func text(_ s: String, x: Double, y: Double, anchor: String, weight: String = "normal", size: Int = 12) -> String {
        "<text x=\"\(f(x))\" y=\"\(f(y))\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" font-size=\"\(size)\">\(escape(s))</text>\n"
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }
}

/// Escapes text for HTML/SVG content and attributes.
func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
}
