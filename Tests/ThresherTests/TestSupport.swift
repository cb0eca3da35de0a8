import Foundation
import ScenarioSpec
import XCTest

/// Writes `text` to a fresh temporary file with the given extension and returns its path.
func temporaryFile(_ text: String, extension ext: String = "yaml") -> String {
    let path = NSTemporaryDirectory() + "thresher-test-\(UUID().uuidString).\(ext)"
    // Not inside precondition(): release tests build with -Ounchecked, which drops its condition.
    let written = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    if !written { fatalError("cannot write \(path)") }
    return path
}

/// Parses and validates a scenario held in a string.
func loadScenario(_ yaml: String, overrides: [String] = []) throws -> Scenario {
    try Scenario.load(path: temporaryFile(yaml), overrides: overrides.map { try Override($0) })
}

/// Asserts that loading fails with a ScenarioError whose field path is `path` and whose message
/// contains `fragment`.
func assertRejected(_ yaml: String, path: String, mentioning fragment: String = "", overrides: [String] = [],
                    file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try loadScenario(yaml, overrides: overrides)
        XCTFail("accepted a bad scenario; expected an error at \(path)", file: file, line: line)
    } catch let error as ScenarioError {
        XCTAssertEqual(error.path, path, "\(error)", file: file, line: line)
        XCTAssertTrue(error.description.contains(path), "message does not name the field: \(error)", file: file, line: line)
        if !fragment.isEmpty {
            XCTAssertTrue(error.message.contains(fragment), "message lacks '\(fragment)': \(error)", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error type: \(error)", file: file, line: line)
    }
}

/// A one-account scenario with the given assets block, correlation, tails, vol shocks, smile factors and positions.
func scenarioText(paths: Int = 200_000, seed: Int = 7, horizonDays: Double = 1, rate: Double = 0,
                  assets: String = "    - {id: BTC, spot: 50000, vol: 0.8}",
                  correlation: String = "", tails: String = "{model: gaussian}", volShocks: String = "", smileFactors: String = "",
                  collateral: String = "{USD: 1000000}",
                  positions: String = "        - {type: perp, asset: BTC, quantity: 1}",
                  confidence: String = "[0.99, 0.999]") -> String {
    """
    name: test
    simulation: {paths: \(paths), seed: \(seed), horizon_days: \(horizonDays)}
    market:
      rate: \(rate)
      assets:
    \(assets)
    \(correlation.isEmpty ? "" : "  correlation: \(correlation)")
      tails: \(tails)
    \(volShocks.isEmpty ? "" : "  vol_shocks: \(volShocks)")
    \(smileFactors.isEmpty ? "" : "  smile_factors: \(smileFactors)")
    portfolio:
      accounts:
        - id: acct
          collateral: \(collateral)
          positions:
    \(positions)
    risk: {confidence: \(confidence)}
    """
}

// MARK: - Statistics used by the tests

/// The Kolmogorov–Smirnov statistic D = sup |F_n(x) − F(x)| of a sample against a CDF.
func kolmogorovSmirnov(_ sample: [Double], cdf: (Double) -> Double) -> Double {
    let sorted = sample.sorted()
    let n = Double(sorted.count)
    var d = 0.0
    for (i, x) in sorted.enumerated() {
        let f = cdf(x)
        d = max(d, Double(i + 1) / n - f, f - Double(i) / n)
    }
    return d
}

/// The asymptotic 1 % critical value of the one-sample KS statistic, 1.6276/√n.
func kolmogorovSmirnovCritical1Percent(_ n: Int) -> Double { 1.6276 / Double(n).squareRoot() }

/// Kendall's τ-a of two samples, O(n²).
func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
    var concordant = 0, discordant = 0
    for i in 0..<x.count {
        for j in (i + 1)..<x.count {
            let s = (x[i] - x[j]) * (y[i] - y[j])
            if s > 0 { concordant += 1 } else if s < 0 { discordant += 1 }
        }
    }
    let pairs = Double(x.count * (x.count - 1) / 2)
    return Double(concordant - discordant) / pairs
}

func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

func variance(_ x: [Double]) -> Double {
    let m = mean(x)
    return x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
}

func correlation(_ x: [Double], _ y: [Double]) -> Double {
    let mx = mean(x), my = mean(y)
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for k in x.indices { sxy += (x[k] - mx) * (y[k] - my); sxx += (x[k] - mx) * (x[k] - mx); syy += (y[k] - my) * (y[k] - my) }
    return sxy / (sxx * syy).squareRoot()
}

/// The `thresher` built with these tests: the one beside the test bundle (whatever `--build-path`
/// built them; `make test` uses .build-test), else `.build/release` or `.build/debug`.
/// - Throws: `XCTSkip` when no `thresher` is built.
func thresherBinary() throws -> String {
    let beside = Bundle.main.executableURL.map { $0.deletingLastPathComponent().appendingPathComponent("thresher").path }
    guard let found = ([beside].compactMap { $0 } + [".build/release/thresher", ".build/debug/thresher"])
        .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw XCTSkip("build the thresher executable first (make test does)")
    }
    return found
}

/// A test case that runs the `thresher` binary (`make test` builds it first).
class BinaryTestCase: XCTestCase {
    var binary: String!

    override func setUpWithError() throws {
        binary = try thresherBinary()
    }

    /// A fresh folder, removed at the end of the test.
    func temporaryFolder() throws -> String {
        let folder = NSTemporaryDirectory() + "thresher-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func run(_ arguments: [String], executable: String? = nil, directory: String? = nil,
             environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? binary)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile(), stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
