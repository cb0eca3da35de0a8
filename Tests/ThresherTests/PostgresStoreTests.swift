import Foundation
import XCTest
@testable import RunStore
@testable import RunStoreBackends

/// A throwaway PostgreSQL server for the store tests (Debian's `postgresql`, which `make test`
/// installs when it can): `initdb` into a temporary folder, `pg_ctl start` listening only on a Unix
/// socket in that folder, stopped and removed at the end. Run as root, the server runs as the
/// `postgres` user (PostgreSQL refuses root).
final class ThrowawayPostgres {
    let folder: String
    let bin: String
    let asRoot: Bool
    /// `postgres://thresher@/postgres?host=FOLDER`.
    var url: String { "postgres://thresher@/postgres?host=\(folder)" }

    /// - Throws: `XCTSkip` where PostgreSQL's server programs are not installed.
    init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }).first(where: {
            FileManager.default.isExecutableFile(atPath: "/usr/lib/postgresql/\($0)/bin/initdb")
        }) else {
            throw XCTSkip("PostgreSQL's server is not installed (Debian package postgresql; make test installs it when it can): the PostgreSQL store tests are skipped")
        }
        bin = "/usr/lib/postgresql/\(version)/bin"
        asRoot = getuid() == 0
        folder = "/tmp/thresher-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        if asRoot { try FileManager.default.setAttributes([.ownerAccountName: "postgres"], ofItemAtPath: folder) }
        try server(["initdb", "-D", "\(folder)/data", "-U", "thresher", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try server(["pg_ctl", "-D", "\(folder)/data", "-l", "\(folder)/log", "-w", "-o", "-k \(folder) -c listen_addresses='' -c fsync=off", "start"])
    }

    /// Runs a server program (as `postgres` when root), its output to a file. Spawned with
    /// posix_spawn and waitpid, not `Process`: Foundation's `Process` waits for descriptors that the
    /// server pg_ctl starts keeps open, and would never see pg_ctl end.
    @discardableResult
    func server(_ arguments: [String]) throws -> String {
        let log = "\(folder)/\(arguments[0])-\(UUID().uuidString.prefix(6)).out"
        let program = (asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + ["\(bin)/\(arguments[0])"] + arguments.dropFirst()
        let line = program.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ") + " >'\(log)' 2>&1 </dev/null"
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", line].map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0, status: Int32 = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0 else { throw XCTSkip("cannot start /bin/sh") }
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else { throw XCTSkip("PostgreSQL could not be started here (\(arguments[0]): \(text.suffix(300))): the PostgreSQL store tests are skipped") }
        return text
    }

    /// Runs SQL with psql.
    func sql(_ statement: String) throws -> String {
        try server(["psql", "-h", folder, "-U", "thresher", "-d", "postgres", "-At", "-c", statement])
    }

    func stop() {
        _ = try? server(["pg_ctl", "-D", "\(folder)/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The PostgreSQL store: the same schema and numbers as SQLite, concurrent and killed writers, the
/// schema guard, history and diff over a URL.
final class PostgresStoreTests: BinaryTestCase {
    let scenario = "Scenarios/default.yaml"

    func startServer() throws -> ThrowawayPostgres {
        let server = try ThrowawayPostgres()
        addTeardownBlock { server.stop() }
        return server
    }

    /// The same runs stored in PostgreSQL and SQLite read back equal: identity, every metric row to
    /// the bit but the timings, each the stored report's; history and diff read the URL as the file.
    func testPostgresStoreHoldsWhatSQLiteHolds() throws {
        let server = try startServer(), folder = try temporaryFolder(), file = folder + "/runs.sqlite"
        for seed in [1, 2] {
            for store in [server.url, file] {
                let r = try run(["calibrate", scenario, "--paths", "20000", "--seed", "\(seed)", "--store", store, "--quiet"])
                XCTAssertEqual(r.status, 0, r.stderr)
            }
        }
        let pg = try PostgresRunStore(url: server.url, create: false), lite = try SQLiteRunStore(path: file, create: false)
        XCTAssertEqual(try pg.runs().map(\.id), [1, 2])
        for id in [Int64(1), 2] {
            let (p, l) = (try pg.run(id), try lite.run(id))
            XCTAssertEqual(p.identity.scenarioDigest, l.identity.scenarioDigest)
            XCTAssertEqual(p.identity.seed, l.identity.seed)
            XCTAssertEqual(p.identity.arguments.count, l.identity.arguments.count)
            let (pm, lm) = (try pg.metrics(run: id), try lite.metrics(run: id))
            XCTAssertEqual(pm.count, lm.count)
            // Two processes: only the timings (kind run: elapsed_seconds, paths_per_second) differ.
            XCTAssertEqual(pm.filter { $0.kind != .run }, lm.filter { $0.kind != .run }, "every row, value, error and interval equal")
            XCTAssertEqual(pm, try p.metrics(), "the rows are the stored report's")
        }
        XCTAssertEqual(try server.sql("SELECT count(*) FROM metrics WHERE scope = 'maintenance_margin' AND metric = 'rate' AND std_error IS NOT NULL AND lo <= hi"), "48\n")
        let diff = try run(["diff", server.url, "1", "2", "--json", "-"])
        XCTAssertEqual(diff.status, 0, diff.stderr)
        let local = try run(["diff", file, "1", "2", "--json", "-"])
        func moved(_ text: String) throws -> Int? { (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["moved"] as? Int }
        XCTAssertEqual(try moved(diff.stdout), try moved(local.stdout))
        let history = try run(["history", server.url, "--metric", "rate", "--scope", "maintenance_margin", "--key", "BTC/100000"])
        XCTAssertEqual(history.status, 0, history.stderr)
        XCTAssertTrue(history.stdout.contains("maintenance_margin[BTC/100000]"), history.stdout)
    }

    /// Two writers at once both land; a writer killed mid-transaction leaves no trace; a store whose
    /// schema_version is above this build's is refused (65) and left as it is.
    func testPostgresConcurrentKilledAndNewerWriters() throws {
        let server = try startServer()
        var processes: [Process] = []
        for seed in [1, 2] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["run", scenario, "--paths", "5000", "--seed", "\(seed)", "--store", server.url, "--quiet"]
            process.environment = ProcessInfo.processInfo.environment.merging(["THRESHER_STORE_TEST_PAUSE": "1"]) { $1 }
            process.standardError = FileHandle.nullDevice
            processes.append(process)
        }
        for process in processes { try process.run() }
        for process in processes { process.waitUntilExit() }
        XCTAssertEqual(processes.map(\.terminationStatus), [0, 0])
        XCTAssertEqual(try server.sql("SELECT count(*) FROM runs"), "2\n")
        let metrics = try server.sql("SELECT count(*) FROM metrics")

        try killMidWrite(["calibrate", scenario, "--paths", "5000", "--store", server.url, "--quiet"])
        XCTAssertEqual(try server.sql("SELECT count(*) FROM runs"), "2\n")
        XCTAssertEqual(try server.sql("SELECT count(*) FROM metrics"), metrics)

        _ = try server.sql("UPDATE store_info SET value = '99' WHERE name = 'schema_version'")
        let newer = try run(["run", scenario, "--paths", "2000", "--store", server.url])
        XCTAssertEqual(newer.status, 65, newer.stderr)
        XCTAssertTrue(newer.stderr.contains("schema version 99"), newer.stderr)
        XCTAssertEqual(try server.sql("SELECT count(*) FROM runs"), "2\n")
    }
}
