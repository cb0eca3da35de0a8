import ArgumentParser
import Foundation
import RunStore
import RunStoreBackends

/// `STORE RUN_A RUN_B` and `--alpha` of `diff` and `explain`.
struct RunPairArguments: ParsableArguments {
    @Argument(help: "The results store: an SQLite file or a postgres:// URL.")
    var store: String

    @Argument(help: "The earlier run (id, latest, latest~N).")
    var runA: String

    @Argument(help: "The later run.")
    var runB: String

    @Option(help: "Family-wise false-alarm rate of the flags (Holm), in (0, 1).")
    var alpha: Double = RunComparison.defaultAlpha

    func validate() throws {
        if !(alpha > 0 && alpha < 1) { throw ValidationError("--alpha must be in (0, 1), e.g. 0.05; got \(alpha)") }
    }

    /// The store and the two runs.
    /// - Throws: `StoreError` (no store, not a store, unknown run).
    func load() throws -> (store: any ResultsStore, a: StoredRun, b: StoredRun) {
        let opened = try RunStores.open(store, create: false)
        return (opened, try opened.run(try opened.resolve(runA, store: store)), try opened.run(try opened.resolve(runB, store: store)))
    }
}

/// `--metric`, `--scope`, `--key` of `history` and `explain`: which rows of the metrics table.
struct MetricFilter: ParsableArguments {
    @Option(help: "The metric (column metric of the store), e.g. var.0.99, rate, liquidation_probability.")
    var metric: String?

    @Option(help: "Only this scope (column scope), e.g. book, accounts, maintenance_margin.")
    var scope: String?

    @Option(help: "Only this key (column key), e.g. an account id or BTC/100000.")
    var key: String?

    /// Whether a row of that scope, key and metric is selected (no --metric: every one).
    func matches(scope: String, key: String, metric: String) -> Bool {
        (self.metric == nil || self.metric == metric) && (self.scope == nil || self.scope == scope) && (self.key == nil || self.key == key)
    }
}
