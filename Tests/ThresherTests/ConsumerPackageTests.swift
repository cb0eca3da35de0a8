import Engine
import Foundation
import MonteCarlo
import ScenarioSpec
import XCTest

/// `ThresherCore` used as a dependency: the working tree's package files are committed to a fresh git
/// repository tagged 1.0.0, `Examples/ConsumerDemo` is built against it by an ordinary
/// `.package(url:from:)` (debug, none of the Makefile's tuning flags), run, and its numbers compared
/// with the same run in this process.
final class ConsumerPackageTests: XCTestCase {
    func testConsumerPackageBuildsAgainstATaggedCopyAndAgreesWithThresher() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let work = NSTemporaryDirectory() + "thresher-consumer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: work) }
        let scenarioPath = root + "/Scenarios/default.yaml"
        let paths = 20_000
        let script = """
        set -eu
        mkdir -p '\(work)/thresher'
        cp -R '\(root)/Package.swift' '\(root)/Sources' '\(work)/thresher/'
        cd '\(work)/thresher'
        git init -q && git add -A
        git -c user.name=test -c user.email=test@localhost commit -q -m release && git tag 1.0.0
        cp -R '\(root)/Examples/ConsumerDemo' '\(work)/demo'
        cd '\(work)/demo'
        THRESHER_PACKAGE_URL='\(work)/thresher' swift build >'\(work)/build.log' 2>&1 || { tail -40 '\(work)/build.log'; exit 1; }
        .build/debug/ConsumerDemo '\(scenarioPath)' \(paths)
        """
        let (status, output) = try runShell(script)
        XCTAssertEqual(status, 0, output)
        guard status == 0 else { return }

        var scenario = try Scenario.load(path: scenarioPath)
        scenario.simulation.paths = paths
        let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
        var expected: [String: Double] = [:]
        for (level, summary) in zip(scenario.risk.confidence, result.book.levels) {
            expected["var \(level.label)"] = summary.valueAtRisk
            expected["es \(level.label)"] = summary.expectedShortfall
        }
        for outcome in StressTest.evaluate(scenario) { expected["stress \(outcome.stress.name)"] = outcome.bookLoss }

        var seen = 0
        for line in output.split(separator: "\n") where !line.hasPrefix("paths") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let key = String(line[..<space])
            guard let reference = expected[key] else { XCTFail("unexpected line from the consumer: \(line)"); continue }
            // The consumer builds the C kernels without -march (no FMA contraction): last-bit differences only.
            XCTAssertEqual(value, reference, accuracy: 1e-12 * abs(reference), key)
            seen += 1
        }
        XCTAssertEqual(seen, expected.count, output)
        XCTAssertTrue(output.contains("paths \(paths)"), output)
    }
}

/// Runs a bash script; returns its exit status and its standard output and error together.
private func runShell(_ script: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["-c", script]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
