import Foundation
import RunStore
import GRDB

/// A results store in one SQLite file (GRDB), in WAL mode: readers never block the writer, and
/// writers (several merges, several jobs' rank 0) queue on the file's lock for up to
/// `busyTimeout` seconds. Each run is written in one transaction, so a run killed mid-write
/// leaves nothing (SQLite rolls the transaction back on the next open).
public final class SQLiteRunStore: ResultsStore {
    /// How long a writer waits for another's transaction to end.
    public static let busyTimeout: TimeInterval = 120

    let path: String
    let pool: DatabasePool

    /// Opens (with `create`, makes) the store at `path` and brings its schema up to this build's.
    /// - Throws: `StoreError`: missing (readers), not an SQLite file or not a store, newer schema.
    public init(path: String, create: Bool) throws {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create { throw StoreError.missing(store: path) }
        if exists { try Self.checkHeader(path) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "thresher-store"
        let lock = Self.creationLock(path)
        defer { lock.map(Self.release) }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw Self.mapped(error, store: path, writing: create)
        }
        try prepareSchema(create: create)
    }

    /// Opening and preparing the store, one process at a time: an exclusive `flock` on the file
    /// `<store>.lock` beside it, held until the schema is this build's. Two first writers of a new
    /// store otherwise race (measured: 7 of 30 pairs failed): both find no schema and both create it
    /// ("table store_info already exists"), or one's switch of the new file to WAL meets the other's
    /// and fails at once instead of waiting. The runs themselves are written under SQLite's own lock.
    /// - Returns: the lock's descriptor, or nil where the file cannot be made (a read-only folder:
    ///   the store is then opened without it). Where the file system refuses `flock` (some network
    ///   file systems) the descriptor is returned unlocked, and the store opens as it did before.
    static func creationLock(_ path: String) -> Int32? {
        let descriptor = open(path + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
        return descriptor
    }

    static func release(_ descriptor: Int32) {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// A file that is not empty must start with SQLite's header.
    static func checkHeader(_ path: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw StoreError.notAStore(store: path, reason: "it is a folder; name a file, e.g. \(path)/runs.sqlite")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError.notAStore(store: path, reason: "the file cannot be read (permissions?)") }
        defer { try? handle.close() }
        let header = handle.readData(ofLength: 16)
        if !header.isEmpty && header != Data("SQLite format 3\0".utf8) {
            throw StoreError.notAStore(store: path, reason: "the file is not an SQLite database")
        }
    }

    /// Checks the schema version, refuses a foreign database, applies the missing migrations.
    func prepareSchema(create: Bool) throws {
        do {
            let (version, writtenBy, tables) = try pool.read { db -> (Int?, String, Int) in
                let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'") ?? 0
                guard try db.tableExists("store_info") else { return (nil, "", tables) }
                let version = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE name = 'schema_version'").flatMap { Int($0) }
                let writer = try String.fetchOne(db, sql: "SELECT value FROM store_info WHERE name = 'written_by'") ?? "unknown"
                return (version ?? 0, writer, tables)
            }
            if let version, version > StoreSchema.version {
                throw StoreError.newerSchema(store: path, found: version, known: StoreSchema.version, writtenBy: writtenBy)
            }
            if version == nil {
                if tables > 0 { throw StoreError.notAStore(store: path, reason: "an SQLite database without Thresher's tables (no store_info); name a new file") }
                if !create { throw StoreError.notAStore(store: path, reason: "an empty database with no runs") }
            }
            if version == StoreSchema.version { return }
            var migrator = DatabaseMigrator()
            for (index, statements) in StoreSchema.migrations.enumerated() {
                migrator.registerMigration("v\(index + 1)") { db in
                    for sql in statements { try db.execute(sql: sql.replacingOccurrences(of: "AUTOID", with: "INTEGER PRIMARY KEY AUTOINCREMENT")) }
                    try db.execute(sql: "INSERT INTO store_info (name, value) VALUES ('schema_version', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                                   arguments: [String(index + 1)])
                    try db.execute(sql: "INSERT INTO store_info (name, value) VALUES ('written_by', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                                   arguments: [StoreWriter.version])
                }
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.mapped(error, store: path, writing: create)
        }
    }

    public func record(_ identity: RunIdentity, report: Data) throws -> Int64 {
        let rows = try MetricFlattener.rows(of: ReportTree.parse(report))
        let pause = ProcessInfo.processInfo.environment["THRESHER_STORE_TEST_PAUSE"].flatMap(Double.init)
        do {
            return try pool.write { db in
                try db.execute(sql: "INSERT INTO runs (\(StoreSchema.runColumns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: StoreSchema.runColumns.count).joined(separator: ", ")))",
                               arguments: StatementArguments(StoreRow.run(identity, report: report).map { $0.databaseValue }))
                let id = db.lastInsertedRowID
                let insert = try db.makeStatement(sql: "INSERT INTO metrics (\(StoreSchema.metricColumns.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
                for (index, row) in rows.enumerated() {
                    if let pause, index == rows.count / 2 { StoreWriter.pauseForTest(pause) }
                    try insert.execute(arguments: [id, row.path, index, row.scope, row.key, row.metric, row.kind.rawValue, row.value, row.stdError, row.lo, row.hi])
                }
                return id
            }
        } catch {
            throw Self.mapped(error, store: path, writing: true)
        }
    }

    public func runs() throws -> [RunSummary] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT run_id, command, scenario_name, scenario_sha256, seed, paths, started_at, finished_at FROM runs ORDER BY run_id").map { r in
                RunSummary(id: r["run_id"], command: r["command"], scenarioName: r["scenario_name"], scenarioDigest: r["scenario_sha256"],
                           seed: (r["seed"] as String?).flatMap { UInt64($0) }, paths: r["paths"],
                           startedAt: Timestamp.date(r["started_at"]), finishedAt: Timestamp.date(r["finished_at"]))
            }
        }
    }

    public func run(_ id: Int64) throws -> StoredRun {
        let found = try reading { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE run_id = ?", arguments: [id]) }
        guard let r = found else { throw StoreError.unknownRun(store: path, reference: String(id), known: try runs().map(\.id)) }
        return StoreRow.storedRun(id: id, column: { name in
            switch (r[name] as DatabaseValue).storage {
            case .null: return nil
            case .int64(let n): return String(n)
            case .double(let x): return "\(x)"
            case .string(let s): return s
            case .blob(let data): return String(decoding: data, as: UTF8.self)
            }
        })
    }

    public func metrics(run id: Int64) throws -> [MetricRow] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM metrics WHERE run_id = ? ORDER BY ordinal", arguments: [id]).map { r in StoreRow.metric(column: { r[$0] as DatabaseValue }) }
        }
    }

    public func series(metric: String, scope: String?, key: String?) throws -> [(run: Int64, row: MetricRow)] {
        var sql = "SELECT * FROM metrics WHERE metric = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [metric]
        if let scope { sql += " AND scope = ?"; arguments.append(scope) }
        if let key { sql += " AND key = ?"; arguments.append(key) }
        sql += " ORDER BY run_id, ordinal"
        return try reading { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { r in (r["run_id"], StoreRow.metric(column: { r[$0] as DatabaseValue })) }
        }
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw Self.mapped(error, store: path, writing: false) }
    }

    /// A GRDB error as the store's: not a database, locked too long, cannot write.
    static func mapped(_ error: any Error, store: String, writing: Bool) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? DatabaseError else { return .cannotWrite(store: store, reason: "\(error)") }
        switch error.resultCode {
        case .SQLITE_NOTADB: return .notAStore(store: store, reason: "the file is not an SQLite database")
        case .SQLITE_CORRUPT: return .notAStore(store: store, reason: "the database is damaged (\(error.message ?? "corrupt"))")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .cannotWrite(store: store, reason: "another process held the store locked for over \(Int(busyTimeout)) s")
        default:
            let reason = error.message ?? "\(error)"
            return writing ? .cannotWrite(store: store, reason: reason) : .notAStore(store: store, reason: reason)
        }
    }
}
