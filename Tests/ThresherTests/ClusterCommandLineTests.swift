import Foundation
import MonteCarlo
import XCTest

/// Slices, parts and merges through the `thresher` binary, and MPI launches with `mpirun`: the
/// merged report equals the single-process one number for number; bad parts and dead ranks give
/// a clear error, a non-zero exit and no report.
final class ClusterCommandLineTests: BinaryTestCase {
    var folder: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        folder = NSTemporaryDirectory() + "thresher-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The report's numbers without what differs between any two runs (timings, timestamps).
    func numbers(_ path: String) throws -> NSDictionary {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw XCTSkip("not a JSON object") }
        for key in ["elapsed_seconds", "paths_per_second", "thresher", "threads"] { json[key] = nil }
        return json as NSDictionary
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    let scenario = "Scenarios/default.yaml"

    /// Slices [0, n) of `command` written as parts, stage after stage, then merged; returns the
    /// merge's result.
    func runSliced(_ command: String, slices n: Int, options: [String], stages: Int) throws -> (status: Int32, stdout: String, stderr: String) {
        var resume: [String] = []
        for stage in 1...stages {
            for i in 0..<n {
                let part = try run([command, scenario, "--slice", "\(i)/\(n)", "--partial", "\(folder!)/s\(stage)-{slice}.part", "--threads", "1"] + resume + options)
                XCTAssertEqual(part.status, 0, part.stderr)
                XCTAssertTrue(part.stderr.contains("stage \(stage) written"), part.stderr)
            }
            let parts = (0..<n).map { "\(folder!)/s\(stage)-\($0).part" }
            let last = stage == stages
            let merge = try run(["merge"] + parts.reversed() + resume + (last ? ["--json", "\(folder!)/merged.json", "--quiet"] : ["--state-out", "\(folder!)/s\(stage).state"]))
            if last { return merge }
            XCTAssertEqual(merge.status, 0, merge.stderr)
            resume = ["--resume", "\(folder!)/s\(stage).state"]
        }
        fatalError("unreachable")
    }

    func testMergedSlicesEqualTheSingleProcessReport() throws {
        let single = try run(["run", scenario, "--paths", "30000", "--json", "\(folder!)/single.json", "--quiet"])
        XCTAssertEqual(single.status, 0, single.stderr)
        let merged = try runSliced("run", slices: 4, options: ["--paths", "30000"], stages: 1)
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(try numbers("\(folder!)/merged.json"), try numbers("\(folder!)/single.json"))

        let options = ["--paths", "20480", "--shock", "BTC=-0.1", "--sections", "4"]
        XCTAssertEqual(try run(["calibrate", scenario, "--json", "\(folder!)/single.json", "--quiet"] + options).status, 0)
        let calibrated = try runSliced("calibrate", slices: 3, options: options, stages: 3)
        XCTAssertEqual(calibrated.status, 0, calibrated.stderr)
        XCTAssertEqual(try numbers("\(folder!)/merged.json"), try numbers("\(folder!)/single.json"))
    }

    /// `merge` needs only the parts: the run's what-ifs, seed and paths come from the request they
    /// carry, and the merge is run from another directory with no option but where to write.
    func testMergeRunsFromThePartsAlone() throws {
        let options = ["--paths", "12800", "--seed", "7", "--set", "market.assets.BTC.vol=0.6", "--shock", "ETH=-0.2", "--shock-vol", "*=0.3"]
        let single = try run(["evaluate", scenario, "--json", "\(folder!)/single.json", "--quiet"] + options)
        XCTAssertEqual(single.status, 0, single.stderr)
        for i in 0..<2 {
            let part = try run(["evaluate", scenario, "--slice", "\(i)/2", "--partial", "\(folder!)/e-\(i).part"] + options)
            XCTAssertEqual(part.status, 0, part.stderr)
        }
        let merged = try run(["merge", "\(folder!)/e-0.part", "\(folder!)/e-1.part", "--json", "\(folder!)/merged.json", "--quiet"],
                             directory: NSTemporaryDirectory())
        XCTAssertEqual(merged.status, 0, merged.stderr)
        XCTAssertEqual(try numbers("\(folder!)/merged.json"), try numbers("\(folder!)/single.json"))
        // evaluate has one stage: asking for a merged state says that none is needed.
        let state = try run(["merge", "\(folder!)/e-0.part", "\(folder!)/e-1.part", "--quiet", "--state-out", "\(folder!)/e.state"])
        XCTAssertEqual(state.status, 0, state.stderr)
        XCTAssertTrue(state.stderr.contains("needs no further stage"), state.stderr)
        XCTAssertFalse(exists("\(folder!)/e.state"))
    }

    /// Slices from a launcher's environment: a Slurm array with a non-zero first index.
    func testSlicesFromTheLaunchersEnvironment() throws {
        for id in 4...6 {
            let part = try run(["run", scenario, "--paths", "10000", "--partial", "\(folder!)/a-{slice}.part"],
                               environment: ["SLURM_ARRAY_TASK_ID": "\(id)", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"])
            XCTAssertEqual(part.status, 0, part.stderr)
            XCTAssertTrue(part.stderr.contains("slice \(id - 4)/3"), part.stderr)
        }
        XCTAssertEqual(try run(["merge", "\(folder!)/a-0.part", "\(folder!)/a-1.part", "\(folder!)/a-2.part", "--json", "\(folder!)/m.json", "--quiet"]).status, 0)
        XCTAssertEqual(try run(["run", scenario, "--paths", "10000", "--json", "\(folder!)/s.json", "--quiet"]).status, 0)
        XCTAssertEqual(try numbers("\(folder!)/m.json"), try numbers("\(folder!)/s.json"))
        let noCount = try run(["run", scenario, "--paths", "10000", "--partial", "\(folder!)/k.part"], environment: ["JOB_COMPLETION_INDEX": "2"])
        XCTAssertEqual(noCount.status, 64)
        XCTAssertTrue(noCount.stderr.contains("--slices"), noCount.stderr)
        let noPartial = try run(["run", scenario, "--paths", "10000"], environment: ["SLURM_PROCID": "1", "SLURM_NTASKS": "2"])
        XCTAssertEqual(noPartial.status, 64)
        XCTAssertTrue(noPartial.stderr.contains("--partial"), noPartial.stderr)
    }

    /// Missing, duplicated, truncated, corrupted and foreign parts, and a later stage without its
    /// state: exit 65, a message naming the file and the fault, and no report.
    func testBadPartsAreRefused() throws {
        for i in 0..<3 {
            XCTAssertEqual(try run(["run", scenario, "--paths", "10000", "--slice", "\(i)/3", "--partial", "\(folder!)/p\(i).part"]).status, 0)
        }
        XCTAssertEqual(try run(["run", scenario, "--paths", "10000", "--seed", "99", "--slice", "2/3", "--partial", "\(folder!)/foreign.part"]).status, 0)
        let p = (0..<3).map { "\(folder!)/p\($0).part" }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p[2]))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: "\(folder!)/truncated.part"))
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: "\(folder!)/flipped.part"))
        try Data("{\"not\": \"a part\"}".utf8).write(to: URL(fileURLWithPath: "\(folder!)/report.json"))
        let report = "\(folder!)/out.json"
        let cases: [([String], String)] = [
            ([p[0], p[1]], "missing: 2/3"),
            ([p[0], p[1], p[1], p[2]], "also in"),
            ([p[0], p[1], "\(folder!)/truncated.part"], "truncated"),
            ([p[0], p[1], "\(folder!)/flipped.part"], "checksum"),
            ([p[0], p[1], "\(folder!)/foreign.part"], "not of one run"),
            ([p[0], p[1], "\(folder!)/report.json"], "not a thresher part"),
        ]
        for (parts, fragment) in cases {
            let merge = try run(["merge"] + parts + ["--json", report, "--quiet"])
            XCTAssertEqual(merge.status, 65, "\(parts): \(merge.stderr)")
            XCTAssertTrue(merge.stderr.contains(fragment), "expected '\(fragment)': \(merge.stderr)")
            XCTAssertFalse(exists(report), "a report was written from bad parts \(parts)")
        }
        XCTAssertEqual(try run(["merge", "\(folder!)/nowhere.part"]).status, 66)
        // A first stage's parts merged without --state-out for the stages that follow.
        for i in 0..<2 {
            XCTAssertEqual(try run(["calibrate", scenario, "--paths", "6400", "--slice", "\(i)/2", "--partial", "\(folder!)/e\(i).part"]).status, 0)
        }
        let stateless = try run(["merge", "\(folder!)/e0.part", "\(folder!)/e1.part", "--json", report])
        XCTAssertEqual(stateless.status, 64, stateless.stderr)
        XCTAssertTrue(stateless.stderr.contains("--state-out"), stateless.stderr)
        XCTAssertFalse(exists(report))
    }

    // MARK: MPI

    /// mpirun, or a skip (a failure under `make test`, which installs Open MPI and builds with it).
    func mpirun() throws -> String {
        let version = try run(["--version"]).stdout
        let path = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path, version.contains("with MPI") else {
            if ProcessInfo.processInfo.environment["THRESHER_REQUIRE_MPI"] != nil { XCTFail("make test needs mpirun and a thresher built with --traits MPI") }
            throw XCTSkip("needs mpirun and a thresher built with --traits MPI (make test)")
        }
        return path
    }

    func mpi(_ ranks: Int, _ arguments: [String], more: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)", binary] + arguments + more, executable: try mpirun(),
                environment: ["OMPI_MCA_rmaps_base_oversubscribe": "1"])
    }

    func testMPIRanksWriteTheSingleProcessReport() throws {
        _ = try mpirun()
        for (command, options) in [("run", ["--paths", "30000"]), ("calibrate", ["--paths", "20480", "--sections", "4"])] {
            XCTAssertEqual(try run([command, scenario, "--json", "\(folder!)/single.json", "--quiet"] + options).status, 0)
            for ranks in [1, 2, 4] {
                let out = "\(folder!)/mpi-\(command)-\(ranks).json"
                let result = try mpi(ranks, [command, scenario, "--json", out, "--quiet", "--threads", "1"] + options)
                XCTAssertEqual(result.status, 0, result.stderr)
                XCTAssertEqual(try numbers(out), try numbers("\(folder!)/single.json"), "\(command) at \(ranks) ranks")
            }
        }
    }

    /// Commands that do not split run on rank 0 alone: one report (or line) under `mpirun -np 2`,
    /// as from one process, and exit 0.
    func testCommandsThatDoNotSplitRunOnRankZeroAlone() throws {
        _ = try mpirun()
        for arguments in [["stress", scenario], ["validate", scenario]] {
            let single = try run(arguments)
            XCTAssertEqual(single.status, 0, single.stderr)
            let title = try XCTUnwrap(single.stdout.split(separator: "\n").first.map(String.init))
            let ranks = try mpi(2, arguments)
            XCTAssertEqual(ranks.status, 0, ranks.stderr)
            XCTAssertEqual(ranks.stdout.components(separatedBy: title).count - 1, 1, "\(arguments[0]) under mpirun -np 2:\n\(ranks.stdout)")
        }
        let usage = try mpi(2, ["stress"])
        XCTAssertEqual(usage.status, 64)
        XCTAssertEqual(usage.stderr.components(separatedBy: "Usage:").count - 1, 1, usage.stderr)
    }

    /// Without --threads each rank takes its share of the cores, max(1, cores / local ranks).
    func testThreadsFollowTheRanksOnTheNode() throws {
        XCTAssertEqual(Launcher.defaultThreads([:], cores: 16), 16)
        XCTAssertEqual(Launcher.defaultThreads(["OMPI_COMM_WORLD_LOCAL_SIZE": "4"], cores: 16), 4)
        XCTAssertEqual(Launcher.defaultThreads(["MPI_LOCALNRANKS": "3"], cores: 16), 5)
        XCTAssertEqual(Launcher.defaultThreads(["OMPI_COMM_WORLD_LOCAL_SIZE": "4"], cores: 2), 1)
        _ = try mpirun()
        let out = "\(folder!)/threads.json"
        let result = try mpi(2, ["run", scenario, "--paths", "10000", "--json", out, "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let report = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        let threads = try XCTUnwrap(report["threads"] as? Int)
        XCTAssertLessThanOrEqual(threads, max(1, ProcessInfo.processInfo.activeProcessorCount / 2), "each of 2 ranks on this node")
    }

    /// A rank that dies, and a rank that reads other files: non-zero exit, no report.
    func testADeadOrForeignRankStopsTheRunWithoutAReport() throws {
        let out = "\(folder!)/never.json"
        let dead = try mpi(1, ["run", scenario, "--paths", "200000", "--json", out, "--quiet"], more: [":", "-np", "1", "/bin/false"])
        XCTAssertNotEqual(dead.status, 0)
        XCTAssertFalse(exists(out), "a report was written without every rank's paths")
        let other = "\(folder!)/other.yaml"
        try String(contentsOfFile: scenario, encoding: .utf8).replacingOccurrences(of: "seed: 42", with: "seed: 43").write(toFile: other, atomically: true, encoding: .utf8)
        let foreign = try mpi(1, ["run", scenario, "--paths", "10000", "--json", out, "--quiet"],
                              more: [":", "-np", "1", binary, "run", other, "--paths", "10000", "--json", out, "--quiet"])
        XCTAssertNotEqual(foreign.status, 0)
        XCTAssertTrue(foreign.stderr.contains("digest"), foreign.stderr)
        XCTAssertFalse(exists(out))
    }
}
