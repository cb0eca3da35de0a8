import Foundation
import XCTest

/// Issue 32's browser check: every command's HTML report, rendered by headless Chromium at 1,400 px,
/// has no element wider than the page and every chart mark (rects but legend swatches, polylines,
/// paths; a dot's centre) inside its chart's plot area (`data-plot`), read back from the DOM with
/// `getBBox` — the layout the browser computes, not the SVG text (`ChartTests` checks that).
/// Skipped, saying so, where no Chromium is installed (Debian: `apt-get install chromium`).
final class BrowserTests: BinaryTestCase {
    /// Appended to the page: the problems found, written into the document's title.
    static let probe = """
        <script>
        const problems = [];
        const width = window.innerWidth;
        if (document.documentElement.scrollWidth > width + 1) problems.push('page ' + document.documentElement.scrollWidth + ' px wide');
        document.querySelectorAll('svg').forEach((svg, i) => {
          const name = (svg.querySelector('title') || {}).textContent || ('chart ' + i);
          if (svg.getBoundingClientRect().right > width + 1) problems.push(name + ': past the page');
          const plot = (svg.getAttribute('data-plot') || '').split(' ').map(Number);
          if (plot.length !== 4) { problems.push(name + ': no data-plot'); return; }
          svg.querySelectorAll('rect:not(.legend), circle, polyline, path').forEach(mark => {
            // A dot is a data point: its centre must lie inside (its radius may overhang an axis).
            const box = mark.getBBox();
            const b = mark.tagName === 'circle' ? { x: box.x + box.width / 2, y: box.y + box.height / 2, width: 0, height: 0 } : box;
            if (b.x < plot[0] - 0.5 || b.y < plot[1] - 0.5 || b.x + b.width > plot[2] + 0.5 || b.y + b.height > plot[3] + 0.5)
              problems.push(name + ': ' + mark.tagName + ' at ' + [b.x, b.y, b.width, b.height].map(v => v.toFixed(1)).join(','));
          });
        });
        document.title = 'PROBLEMS[' + problems.slice(0, 8).join(' | ') + ']' + problems.length;
        </script>
        """

    func chromium() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw XCTSkip("no Chromium (apt-get install chromium): the HTML reports were not checked in a browser")
    }

    func testReportsFitThePageAndChartMarksStayInside() throws {
        let browser = try chromium()
        let folder = try temporaryFolder()
        for (name, arguments) in ReportLayoutTests.commands(folder) {
            let report = try run(arguments + ["--html", "-"])
            XCTAssertEqual(report.status, 0, "\(name): \(report.stderr)")
            let page = "\(folder)/\(name).html"
            try report.stdout.replacingOccurrences(of: "</body>", with: Self.probe + "</body>").write(toFile: page, atomically: true, encoding: .utf8)
            // `timeout` bounds a browser that hangs; --dump-dom prints the DOM after the probe ran.
            let dom = try run(["60", browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                               "--user-data-dir=\(folder)/profile", "--dump-dom", "file://\(page)"], executable: "/usr/bin/timeout")
            XCTAssertEqual(dom.status, 0, "\(name): chromium: \(dom.stderr.suffix(500))")
            guard let start = dom.stdout.range(of: "PROBLEMS["), let end = dom.stdout.range(of: "</title>", range: start.upperBound..<dom.stdout.endIndex) else {
                XCTFail("\(name): the probe did not run: \(dom.stdout.prefix(300))")
                continue
            }
            let found = String(dom.stdout[start.lowerBound..<end.lowerBound])
            XCTAssertTrue(found.hasSuffix("]0"), "\(name): \(found)")
        }
    }
}
