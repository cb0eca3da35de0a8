/// The store's tables (README, "Results store"), as SQL that SQLite and PostgreSQL both read, in
/// numbered migrations. `store_info.schema_version` is the number of the last one applied; a
/// store with a higher number was written by a newer Thresher and is refused.
public enum StoreSchema {
    /// The schema version this build writes and reads.
    public static let version = 1

    /// The migrations, in order: `migrations[i]` takes a store from version i to i + 1. `AUTOID`
    /// stands for the dialect's auto-numbered key.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE store_info (
              name TEXT PRIMARY KEY,
              value TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE runs (
              run_id AUTOID,
              command TEXT NOT NULL,
              scenario_name TEXT NOT NULL,
              scenario_path TEXT NOT NULL,
              scenario_sha256 TEXT NOT NULL,
              scenario_text TEXT NOT NULL,
              policy_text TEXT,
              market_text TEXT,
              overrides TEXT NOT NULL,
              arguments TEXT NOT NULL,
              seed TEXT,
              paths BIGINT,
              tail_model TEXT,
              monitoring TEXT,
              thresher_version TEXT NOT NULL,
              thresher_commit TEXT NOT NULL,
              started_at TEXT NOT NULL,
              finished_at TEXT NOT NULL,
              host TEXT NOT NULL,
              report_json TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE metrics (
              run_id BIGINT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
              path TEXT NOT NULL,
              ordinal BIGINT NOT NULL,
              scope TEXT NOT NULL,
              key TEXT NOT NULL,
              metric TEXT NOT NULL,
              kind TEXT NOT NULL,
              value DOUBLE PRECISION NOT NULL,
              std_error DOUBLE PRECISION,
              lo DOUBLE PRECISION,
              hi DOUBLE PRECISION,
              PRIMARY KEY (run_id, path)
            )
            """,
            "CREATE INDEX metrics_by_name ON metrics (metric, scope, key)",
        ],
    ]

    /// The columns of `runs` a run is written with, in order (all but `run_id`).
    static let runColumns = ["command", "scenario_name", "scenario_path", "scenario_sha256", "scenario_text", "policy_text", "market_text",
                             "overrides", "arguments", "seed", "paths", "tail_model", "monitoring", "thresher_version", "thresher_commit",
                             "started_at", "finished_at", "host", "report_json"]

    static let metricColumns = ["run_id", "path", "ordinal", "scope", "key", "metric", "kind", "value", "std_error", "lo", "hi"]
}
