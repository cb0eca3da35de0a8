import Engine
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec
import XCTest

/// Hostile and absurd input (issue 18): the hand-made corpus through the binary, and a seeded
/// mutation fuzzer over the shipped scenarios in-process. Nothing may hang (5 s per input), crash,
/// or report a non-finite number with exit 0.
final class HostileInputTests: XCTestCase {
    static let corpus = "Tests/Fixtures/hostile"
    static let timeLimit = 5.0

    /// Every corpus file gives its expected exit code within 5 s, a one-line message naming the file
    /// when it fails, and only finite numbers when it succeeds.
    func testHostileCorpus() throws {
        let binary = try thresherBinary()
        let expected = try String(contentsOfFile: Self.corpus + "/EXPECTED", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertGreaterThan(expected.count, 20)
        for entry in expected {
            let (name, code) = (entry[0], Int32(entry[1])!)
            let out = NSTemporaryDirectory() + "hostile-\(UUID().uuidString).json"
            defer { try? FileManager.default.removeItem(atPath: out) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", "\(Self.corpus)/\(name)", "--paths", "2000", "--quiet", "--json", out]
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            let start = Date()
            try process.run()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            XCTAssertLessThan(Date().timeIntervalSince(start), Self.timeLimit, name)
            XCTAssertEqual(process.terminationStatus, code, "\(name): \(stderr)")
            let errors = stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            if code == 0 {
                let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any]
                let book = try XCTUnwrap(report?["book"] as? [String: Any], name)
                for key in ["var", "es"] {
                    XCTAssertTrue((book[key] as? [String: Any])?.values.allSatisfy { ($0 as? Double)?.isFinite == true } == true, "\(name): \(key)")
                }
            } else {
                XCTAssertEqual(errors.count, 1, "\(name): \(stderr)")
                XCTAssertTrue(errors.first?.contains(name) == true, "\(name): the message must name the file: \(stderr)")
                XCTAssertFalse(stderr.contains("Fatal") || stderr.count > 600, "\(name): \(stderr)")
            }
        }
    }

    /// Seeded mutations of the shipped scenarios (numbers replaced by extreme values, lines deleted,
    /// duplicated, swapped or tab-indented, texts truncated, anchors and deep nesting inserted): each
    /// mutant is rejected with a `ScenarioError`, or runs (at ≤ 1,024 paths) to a report whose
    /// numbers are all finite or that the CLI refuses as non-finite (exit 70) — within 5 s, without
    /// a crash. THRESHER_FUZZ_CASES (default 1,000; `make fuzz` runs 100,000) sets the number of mutants.
    func testMutationFuzzer() throws {
        let cases = Int(ProcessInfo.processInfo.environment["THRESHER_FUZZ_CASES"] ?? "") ?? 1000
        let sources = try ["Scenarios/default.yaml", "Scenarios/examples/btc-eth-book.yaml"].map { try String(contentsOfFile: $0, encoding: .utf8) }
        var random = SplitMix64(seed: 20261202)
        var outcomes = [String: Int]()
        for index in 0..<cases {
            let mutant = Mutator.mutate(sources[index % sources.count], &random)
            let file = temporaryFile(mutant)
            defer { try? FileManager.default.removeItem(atPath: file) }
            let start = Date()
            let outcome: String
            do {
                var scenario = try Scenario.load(path: file)
                scenario.simulation.paths = min(scenario.simulation.paths, 1024)
                let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
                let json = RunReport(result: result, stresses: StressTest.evaluate(scenario)).json
                outcome = json.firstNonFinitePath == nil ? "ran" : "non-finite (exit 70)"
            } catch is ScenarioError {
                outcome = "rejected"
            } catch {
                outcome = "other: \(type(of: error))"
            }
            outcomes[outcome, default: 0] += 1
            XCTAssertLessThan(Date().timeIntervalSince(start), Self.timeLimit, "mutant \(index) took too long:\n\(mutant)")
            XCTAssertFalse(outcome.hasPrefix("other"), "mutant \(index): \(outcome)\n\(mutant)")
        }
        XCTAssertGreaterThan(outcomes["rejected", default: 0], 0)
        XCTAssertGreaterThan(outcomes["ran", default: 0], 0, "\(outcomes)")
    }
}

/// Text mutations of a scenario.
enum Mutator {
    static let values = ["0", "-0", "-1", "1e308", "-1e308", "1e-320", ".nan", ".inf", "\"1e6\"", "1e12", "2.0000001", "[]", "{}",
                         "~", "true", "18446744073709551617", "0x10", "1_000", "' '"]

    static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let operations = 1 + Int(random.next() % 3)
        for _ in 0..<operations {
            let i = Int(random.next() % UInt64(lines.count))
            switch random.next() % 8 {
            case 0, 1:   // replace a number on the line by an extreme value
                if let range = lines[i].range(of: #"-?[0-9][0-9._e+-]*"#, options: .regularExpression) {
                    lines[i].replaceSubrange(range, with: values[Int(random.next() % UInt64(values.count))])
                }
            case 2: lines.remove(at: i); if lines.isEmpty { lines = [""] }
            case 3: lines.insert(lines[i], at: i)
            case 4: lines[i] = "\t" + lines[i]
            case 5: lines.swapAt(i, Int(random.next() % UInt64(lines.count)))
            case 6: lines[i] += random.next() % 2 == 0 ? " &a" : " *a"
            default: lines[i] = lines[i].replacingOccurrences(of: ": ", with: ": " + String(repeating: "[", count: 40))
            }
        }
        let joined = lines.joined(separator: "\n")
        guard random.next() % 10 == 0 else { return joined }
        return String(joined.prefix(Int(random.next() % UInt64(max(joined.count, 1)))))
    }
}
