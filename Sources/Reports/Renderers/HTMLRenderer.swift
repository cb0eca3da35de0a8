/// The HTML form of a report: one self-contained page (inline CSS and SVG, no scripts, no network),
/// the context lines under the title, then each section with its charts and tables.
public enum HTMLRenderer {
    public static func render(_ document: ReportDocument) -> String {
        var page = HTMLPage(title: document.title, lines: document.context, headline: document.headline)
        for section in document.sections {
            var content = ""
            for block in section.blocks {
                switch block {
                case .chart(let chart): content += svg(chart)
                case .table(let table) where table.displayed:
                    let shown = table.shownRows
                    content += HTMLPage.table(header: table.shownColumns.map { table.columns[$0].title }, rows: shown.rows.map { $0.map(\.text) },
                                              classes: shown.rows.map { $0.map { $0.muted ? "muted" : $0.verdict?.rawValue ?? "" } })
                    if let omitted = shown.omitted { content += "<p class=\"note\">\(escape(omitted))</p>\n" }
                case .table: break
                case .text(let lines): content += lines.map { "<p>\(escape($0))</p>\n" }.joined()
                }
            }
            page.section(section.heading, note: section.note, content)
        }
        page.section("Run", (document.footer + [BuildInfo.line(at: document.generatedAt)]).map { "<p>\(escape($0))</p>\n" }.joined())
        return page.rendered
    }

    static func svg(_ chart: ReportChart) -> String {
        func markers(_ list: [ReportChart.Marker]) -> [SVGChart.Marker] {
            list.map { SVGChart.Marker(label: $0.label, value: $0.value, color: SVGChart.seriesColor($0.series)) }
        }
        switch chart {
        case .histogram(let histogram, let list, let title, let xLabel):
            return SVGChart.histogram(histogram, markers: markers(list), title: title, xLabel: xLabel)
        case .exceedance(let largest, let paths, let list, let title, let xLabel):
            return SVGChart.exceedance(largest, paths: paths, markers: markers(list), title: title, xLabel: xLabel)
        case .bars(let categories, let series, let title, let xLabel):
            return SVGChart.bars(categories: categories, series: series, title: title, xLabel: xLabel)
        case .intervalBars(let categories, let series, let title, let xLabel):
            return SVGChart.bars(categories: categories, series: series.map { ($0.name, $0.bars.map(\.value)) }, title: title, xLabel: xLabel,
                                 intervals: series.map { $0.bars.map(\.interval) }, faded: series.map { $0.bars.map(\.withinNoise) })
        case .thresholds(let accounts, let warn, let reduceOnly, let liquidate, let more, let title):
            let s = SVGChart.severity
            return SVGChart.bars(categories: accounts, series: [("warn", warn), ("reduce-only", reduceOnly), ("liquidate", liquidate)], title: title,
                                 xLabel: "loss, USD", colors: [s.warn, s.reduceOnly, s.liquidate], more: more)
        case .tierBreach(let series, let target, let title):
            return SVGChart.lines(series: series.map { ($0.name, $0.points.map { ($0.upTo, $0.probability) }) }, title: title,
                                  xLabel: "tier notional, USD, log scale", yLabel: "P(breach)", logX: true, logY: true,
                                  reference: ("target \(String(format: "%g", target))", target), flagged: series.map { $0.points.map(\.breaching) },
                                  flagLabel: "above target", formatY: { String(format: "%g", $0) })
        case .percentLines(let series, let title, let xLabel, let yLabel):
            return SVGChart.lines(series: series, title: title, xLabel: xLabel, yLabel: yLabel, logX: true, formatY: { String(format: "%g%%", $0) })
        case .byRound(let series, let title, let yLabel, let percent):
            return SVGChart.lines(series: series.map { ($0.name, $0.values.enumerated().map { (Double($0.offset), $0.element) }) }, title: title,
                                  xLabel: "round", yLabel: yLabel, logX: false, integerX: true,
                                  formatY: percent ? { String(format: "%g%%", $0) } : { money($0) })
        case .heatMap(let rows, let columns, let values, let reference, let withinNoise, let title, let caption):
            return SVGChart.heatMap(rows: rows, columns: columns, values: values, reference: reference, withinNoise: withinNoise, title: title, caption: caption)
        case .timeSeries(let days, let lines, let dots, let marks, let title, let yLabel):
            return SVGChart.timeSeries(days: days, lines: lines, dots: dots, marks: marks, title: title, yLabel: yLabel)
        case .trend(let series, let title, let xLabel, let yLabel):
            return SVGChart.lines(series: series.map { ($0.name, $0.points.map { ($0.x, $0.value) }) }, title: title, xLabel: xLabel, yLabel: yLabel,
                                  logX: false, integerX: true, bands: series.map { $0.points.map(\.band) }, formatY: { String(format: "%.4g", $0) })
        }
    }
}
