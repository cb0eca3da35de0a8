import Foundation
import RunStore
import Logging
import PostgresNIO

/// A results store in a PostgreSQL database (postgres-nio), with the SQLite store's schema
/// (`StoreSchema`): a team's shared store. `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, or a
/// server on a Unix socket: `postgres://USER@/DATABASE?host=/run/postgresql` (the socket folder;
/// port 5432 unless given). Plain TCP without TLS. Each run is one transaction; concurrent writers
/// each insert theirs; the schema is created (or migrated) under an advisory lock.
public final class PostgresRunStore: ResultsStore, @unchecked Sendable {
    let url: String
    let connection: PostgresConnection
    let logger: Logger

    /// Connects and checks or creates the schema.
    /// - Throws: `StoreError.unavailable` (the server does not answer, refuses the login),
    ///   `.notAStore` (a reader on a database without Thresher's tables), `.newerSchema`.
    public init(url: String, create: Bool) throws {
        self.url = url
        var quiet = Logger(label: "thresher.store")
        quiet.logLevel = .critical
        let logger = quiet
        self.logger = logger
        let configuration = try Self.configuration(url)
        do {
            connection = try blocking { try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger) }
        } catch {
            throw StoreError.unavailable(store: Self.redacted(url), reason: Self.reason(error))
        }
        try prepareSchema(create: create)
    }

    deinit {
        let connection = self.connection
        try? blocking { try await connection.close() }
    }

    /// The connection settings of a URL.
    static func configuration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw StoreError.unavailable(store: redacted(url), reason: "not a URL postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        let user = parts.user.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let password = parts.password.flatMap { $0.removingPercentEncoding }
        let database = parts.path.count > 1 ? String(parts.path.dropFirst()) : user
        let port = parts.port ?? 5432
        if let socketFolder = parts.queryItems?.first(where: { $0.name == "host" })?.value, socketFolder.hasPrefix("/") {
            return .init(unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        guard let host = parts.host, !host.isEmpty else {
            throw StoreError.unavailable(store: redacted(url), reason: "the URL names no host (for a Unix socket add ?host=/socket/folder)")
        }
        return .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
    }

    /// The URL without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "***"
        return parts.string ?? url
    }

    /// A postgres-nio error as a sentence (its server message when there is one).
    static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T) throws -> T {
        let connection = self.connection, logger = self.logger
        do {
            return try blocking { try await body(connection, logger) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.cannotWrite(store: Self.redacted(url), reason: Self.reason(error))
        }
    }

    func prepareSchema(create: Bool) throws {
        let store = Self.redacted(url)
        let version: Int? = try run { connection, logger in
            try await connection.query("BEGIN", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(351235)", logger: logger)
            var version: Int?
            for try await exists in try await connection.query("SELECT to_regclass('store_info') IS NOT NULL", logger: logger).decode(Bool.self) where exists {
                for try await text in try await connection.query("SELECT value FROM store_info WHERE name = 'schema_version'", logger: logger).decode(String.self) {
                    version = Int(text) ?? 0
                }
                version = version ?? 0
            }
            if let found = version, found > StoreSchema.version {
                var writer = "unknown"
                for try await text in try await connection.query("SELECT value FROM store_info WHERE name = 'written_by'", logger: logger).decode(String.self) { writer = text }
                try await connection.query("ROLLBACK", logger: logger)
                throw StoreError.newerSchema(store: store, found: found, known: StoreSchema.version, writtenBy: writer)
            }
            if version == nil && !create {
                try await connection.query("ROLLBACK", logger: logger)
                throw StoreError.notAStore(store: store, reason: "the database has no Thresher tables (no store_info); a store is made by the first --store")
            }
            for index in (version ?? 0)..<StoreSchema.migrations.count {
                for sql in StoreSchema.migrations[index] {
                    try await connection.query(PostgresQuery(unsafeSQL: sql.replacingOccurrences(of: "AUTOID", with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")), logger: logger)
                }
                let next = String(index + 1), writer = StoreWriter.version
                try await connection.query("INSERT INTO store_info (name, value) VALUES ('schema_version', \(next)) ON CONFLICT (name) DO UPDATE SET value = excluded.value", logger: logger)
                try await connection.query("INSERT INTO store_info (name, value) VALUES ('written_by', \(writer)) ON CONFLICT (name) DO UPDATE SET value = excluded.value", logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
            return version
        }
        _ = version
    }

    public func record(_ identity: RunIdentity, report: Data) throws -> Int64 {
        let rows = MetricFlattener.rows(of: try ReportTree.parse(report))
        let values = StoreRow.run(identity, report: report)
        let pause = ProcessInfo.processInfo.environment["THRESHER_STORE_TEST_PAUSE"].flatMap(Double.init)
        return try run { connection, logger in
            var binds = PostgresBindings()
            for value in values {
                switch value {
                case .text(let s): binds.append(s)
                case .integer(let n): binds.append(n)
                case .real(let x): binds.append(x)
                case .null: binds.appendNull()
                }
            }
            let columns = StoreSchema.runColumns
            let insert = "INSERT INTO runs (\(columns.joined(separator: ", "))) VALUES (\(columns.indices.map { "$\($0 + 1)" }.joined(separator: ", "))) RETURNING run_id"
            try await connection.query("BEGIN", logger: logger)
            do {
                var id: Int64 = 0
                for try await value in try await connection.query(PostgresQuery(unsafeSQL: insert, binds: binds), logger: logger).decode(Int64.self) { id = value }
                // The metrics in batches of arrays (unnest), NaN standing for NULL.
                let starts = Array(stride(from: 0, to: rows.count, by: 5_000))
                for (index, start) in starts.enumerated() {
                    if let pause, index == starts.count / 2 { StoreWriter.pauseForTest(pause) }
                    let batch = rows[start..<min(start + 5_000, rows.count)]
                    let ordinals = batch.indices.map { Int64($0) }
                    let paths = batch.map(\.path), scopes = batch.map(\.scope), keys = batch.map(\.key), metrics = batch.map(\.metric)
                    let kinds = batch.map(\.kind.rawValue), numbers = batch.map(\.value)
                    let errors = batch.map { $0.stdError ?? .nan }, lows = batch.map { $0.lo ?? .nan }, highs = batch.map { $0.hi ?? .nan }
                    try await connection.query("""
                        INSERT INTO metrics (run_id, path, ordinal, scope, key, metric, kind, value, std_error, lo, hi)
                        SELECT \(id), p, o, s, k, m, t, v, NULLIF(e, 'NaN'::float8), NULLIF(l, 'NaN'::float8), NULLIF(h, 'NaN'::float8)
                        FROM unnest(\(paths)::text[], \(ordinals)::int8[], \(scopes)::text[], \(keys)::text[], \(metrics)::text[], \(kinds)::text[],
                                    \(numbers)::float8[], \(errors)::float8[], \(lows)::float8[], \(highs)::float8[]) AS u(p, o, s, k, m, t, v, e, l, h)
                        """, logger: logger)
                }
                try await connection.query("COMMIT", logger: logger)
                return id
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    public func runs() throws -> [RunSummary] {
        try run { connection, logger in
            var out: [RunSummary] = []
            let rows = try await connection.query("SELECT run_id, command, scenario_name, scenario_sha256, seed, paths, started_at, finished_at FROM runs ORDER BY run_id", logger: logger)
            for try await (id, command, name, digest, seed, paths, started, finished) in rows.decode((Int64, String, String, String, String?, Int64?, String, String).self) {
                out.append(RunSummary(id: id, command: command, scenarioName: name, scenarioDigest: digest, seed: seed.flatMap { UInt64($0) },
                                      paths: paths.map { Int($0) }, startedAt: Timestamp.date(started), finishedAt: Timestamp.date(finished)))
            }
            return out
        }
    }

    public func run(_ id: Int64) throws -> StoredRun {
        let text: String? = try run { connection, logger in
            var found: String?
            for try await json in try await connection.query("SELECT row_to_json(r)::text FROM runs r WHERE run_id = \(id)", logger: logger).decode(String.self) { found = json }
            return found
        }
        guard let text, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw StoreError.unknownRun(store: Self.redacted(url), reference: String(id), known: try runs().map(\.id))
        }
        return StoreRow.storedRun(id: id, column: { name in
            switch object[name] {
            case let s as String: return s
            case let n as NSNumber: return n.stringValue
            default: return nil
            }
        })
    }

    public func metrics(run id: Int64) throws -> [MetricRow] {
        try fetchMetrics("SELECT run_id, path, scope, key, metric, kind, value, std_error, lo, hi FROM metrics WHERE run_id = $1 ORDER BY ordinal", [String(id)]).map(\.row)
    }

    public func series(metric: String, scope: String?, key: String?) throws -> [(run: Int64, row: MetricRow)] {
        var sql = "SELECT run_id, path, scope, key, metric, kind, value, std_error, lo, hi FROM metrics WHERE metric = $1"
        var arguments = [metric]
        if let scope { arguments.append(scope); sql += " AND scope = $\(arguments.count)" }
        if let key { arguments.append(key); sql += " AND key = $\(arguments.count)" }
        return try fetchMetrics(sql + " ORDER BY run_id, ordinal", arguments)
    }

    /// Metric rows of a query whose first argument may be a run id (text, cast by the server).
    func fetchMetrics(_ sql: String, _ arguments: [String]) throws -> [(run: Int64, row: MetricRow)] {
        let typed = sql.replacingOccurrences(of: "run_id = $1", with: "run_id = $1::bigint")
        return try run { connection, logger in
            var binds = PostgresBindings()
            for argument in arguments { binds.append(argument) }
            var out: [(run: Int64, row: MetricRow)] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: typed, binds: binds), logger: logger)
            for try await (id, path, scope, key, metric, kind, value, se, lo, hi) in rows.decode((Int64, String, String, String, String, String, Double, Double?, Double?, Double?).self) {
                out.append((id, MetricRow(path: path, scope: scope, key: key, metric: metric, kind: MetricRow.Kind(rawValue: kind) ?? .estimate,
                                          value: value, stdError: se, lo: lo, hi: hi)))
            }
            return out
        }
    }
}

/// Waits for an async body on a thread that may block (the command line's).
func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>(), done = DispatchSemaphore(value: 0)
    Task {
        do { box.result = Result<T, any Error>.success(try await body()) } catch { box.result = Result<T, any Error>.failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

/// The result of `blocking`'s task, written once before the semaphore is signalled.
final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
