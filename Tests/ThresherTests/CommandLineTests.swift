import Foundation
import Reports
import XCTest

/// The `thresher` binary end to end: documented exit codes, messages naming the field, and outputs
/// that are never left half-written.
final class CommandLineTests: BinaryTestCase {
    func testExitCodes() throws {
        let bad = temporaryFile(scenarioText(assets: "    - {id: BTC, spot: 50000, vol: -1}"))
        let invalid = try run(["validate", bad])
        XCTAssertEqual(invalid.status, 65)
        XCTAssertTrue(invalid.stderr.contains("market.assets[0].vol"), invalid.stderr)
        XCTAssertFalse(invalid.stderr.contains("Fatal"))
        XCTAssertEqual(try run(["run", "/nonexistent.yaml"]).status, 66)
        XCTAssertEqual(try run(["run", "Scenarios/default.yaml", "--threads", "0"]).status, 64)
        XCTAssertEqual(try run(["run", "Scenarios/default.yaml", "--chunk-size", "100"]).status, 64)
        XCTAssertEqual(try run(["run", "Scenarios/default.yaml", "--paths", "1000", "--json", "/nonexistent/dir/x.json", "--quiet"]).status, 73)
        let override = try run(["run", "Scenarios/default.yaml", "--paths", "1000", "--set", "market.assets.NOPE.vol=1"])
        XCTAssertEqual(override.status, 65)
        XCTAssertTrue(override.stderr.contains("market.assets.NOPE"), override.stderr)
        XCTAssertEqual(try run(["validate", "Scenarios/default.yaml"]).status, 0)
    }

    /// A scenario outside the repository finds `stress_library` names with an installed binary
    /// (PREFIX/bin/thresher + PREFIX/share/thresher/stress, as `make install` lays them out), in its
    /// own folder, and in `$THRESHER_STRESS_LIBRARY`; a missing name lists each folder once.
    func testStressLibrariesAreFoundWithAnInstalledBinary() throws {
        let root = NSTemporaryDirectory() + "thresher-install-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/prefix/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/prefix/share/thresher/stress", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: root) }
        try fm.copyItem(atPath: binary, toPath: root + "/prefix/bin/thresher")
        for name in ["historical", "grid-16"] {
            try fm.copyItem(atPath: "Scenarios/stress/\(name).yaml", toPath: root + "/prefix/share/thresher/stress/\(name).yaml")
        }
        let scenario = root + "/work/book.yaml"
        try (scenarioText(paths: 1000) + "\nstress_library: [historical]\n").write(toFile: scenario, atomically: true, encoding: .utf8)
        func stress(_ file: String, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
            try run(["stress", file, "--json", "-"], executable: root + "/prefix/bin/thresher", directory: root + "/work", environment: environment)
        }
        let installed = try stress(scenario)
        XCTAssertEqual(installed.status, 0, installed.stderr)
        XCTAssertTrue(installed.stdout.contains("2020-03-12 Black Thursday"))
        // A library in the scenario's folder, and one from the environment's list.
        try "stresses:\n  - {name: local-drop, spot: {\"*\": -0.1}}\n".write(toFile: root + "/work/mine.yaml", atomically: true, encoding: .utf8)
        try fm.createDirectory(atPath: root + "/shared", withIntermediateDirectories: true)
        try "stresses:\n  - {name: shared-rally, spot: {\"*\": 0.1}}\n".write(toFile: root + "/shared/team.yaml", atomically: true, encoding: .utf8)
        try (scenarioText(paths: 1000) + "\nstress_library: [mine, team]\n").write(toFile: scenario, atomically: true, encoding: .utf8)
        let both = try stress(scenario, environment: ["THRESHER_STRESS_LIBRARY": "/nonexistent:" + root + "/shared"])
        XCTAssertEqual(both.status, 0, both.stderr)
        XCTAssertTrue(both.stdout.contains("local-drop") && both.stdout.contains("shared-rally"))
        try (scenarioText(paths: 1000) + "\nstress_library: [nowhere]\n").write(toFile: scenario, atomically: true, encoding: .utf8)
        let missing = try stress(scenario)
        XCTAssertEqual(missing.status, 65)
        XCTAssertTrue(missing.stderr.contains("share/thresher/stress"), missing.stderr)
        let listed = missing.stderr.components(separatedBy: "looked in: ").last ?? ""
        let folders = listed.trimmingCharacters(in: .whitespacesAndNewlines.union(CharacterSet(charactersIn: ")"))).components(separatedBy: ", ")
        XCTAssertEqual(folders.count, Set(folders).count, "duplicate folders: \(folders)")
    }

    /// A failed run leaves an existing output file untouched.
    func testFailedRunKeepsThePreviousOutput() throws {
        let path = NSTemporaryDirectory() + "keep-\(UUID().uuidString).json"
        try "previous".write(toFile: path, atomically: true, encoding: .utf8)
        let bad = temporaryFile(scenarioText(paths: -1))
        XCTAssertEqual(try run(["run", bad, "--json", path]).status, 65)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "previous")
    }

    /// `--json -` writes the JSON to standard output (no table, no file named "-"); `--version` answers.
    func testJSONToStandardOutputAndVersion() throws {
        let result = try run(["run", "Scenarios/default.yaml", "--paths", "2000", "--json", "-"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["paths"] as? Int, 2000)
        let provenance = object?["thresher"] as? [String: Any]
        XCTAssertEqual(provenance?["version"] as? String, BuildInfo.version)
        XCTAssertNotNil(provenance?["commit"] as? String)
        XCTAssertEqual((provenance?["generated_at"] as? String)?.hasSuffix("Z"), true)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "-"))
        let version = try run(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("thresher "), version.stdout)
    }

    /// The JSON report's numbers are identical for --threads 1 and 2.
    func testJSONIsThreadInvariant() throws {
        var reports: [String] = []
        for threads in ["1", "2"] {
            let path = NSTemporaryDirectory() + "run-\(threads)-\(UUID().uuidString).json"
            XCTAssertEqual(try run(["run", "Scenarios/default.yaml", "--paths", "20000", "--threads", threads, "--json", path, "--quiet"]).status, 0)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            reports.append(text.split(separator: "\n").filter { !$0.contains("elapsed") && !$0.contains("per_second") && !$0.contains("\"threads\"") && !$0.contains("generated_at") }.joined(separator: "\n"))
        }
        XCTAssertEqual(reports[0], reports[1])
        XCTAssertTrue(reports[0].contains("\"var\""))
    }
}
