import MonteCarlo
import ScenarioSpec

/// How the calibrations and evaluations of one run (`Calibrator.run`, `PolicyEvaluator.run`: the
/// bumps, models and sections of `thresher robustness`, the sections of `calibrate`) are held in
/// memory: each holds a `Waterfall` with per-account arrays, so a 10⁵-account book's dozens of
/// cells would take gigabytes together. They run in consecutive batches whose waterfalls fit within
/// `--memory-limit`, each batch its own stages (one draw of the chunks per batch and market); every
/// result is the one the cell gives alone, bit for bit, in any batch. One batch for a run spread over
/// processes or a slice of the paths (as `run`'s account groups: the stages stay the same for
/// every process).
enum WaterfallBatches {
    /// An estimate of the bytes a waterfall of `scenario` holds (`Waterfall`): per account the
    /// dense linear weights (8 bytes per asset) and 400 bytes of per-account arrays (the book's
    /// equity and constants, the margined positions' and the path-wise process's per-account lists,
    /// the monitored account), per position 100 (the requirement rows, the margined position, its
    /// asset in the process's lists), per option leg 400. W4 (10⁵ accounts, 20 assets, 2·10⁵
    /// positions): 76 MB estimated, ≈ 68 MB measured (peak RSS of robustness in one batch against one
    /// cell at a time, Benchmarks/README.md).
    static func bytes(_ scenario: Scenario) -> Int {
        let accounts = scenario.portfolio.accounts.count, assets = scenario.market.assets.count
        var positions = 0, options = 0
        for account in scenario.portfolio.accounts {
            positions += account.positions.count
            for position in account.positions where position.instrument is EuropeanOption { options += 1 }
        }
        return accounts * (8 * assets + 400) + positions * 100 + options * 400
    }

    /// Consecutive ranges of the cells of `scenarios` whose estimated waterfalls (`bytes`) sum to at
    /// most `memoryLimit` (a cell alone where it exceeds it); one range for a coordinated run or a
    /// slice of the paths.
    static func ranges(_ scenarios: [Scenario], settings: RunSettings, memoryLimit: Int) -> [Range<Int>] {
        guard settings.coordinator == nil, settings.pathRange == nil else { return scenarios.isEmpty ? [] : [scenarios.indices] }
        // Cells of one book (the bumps, models and sections of a study share the portfolio's
        // storage) are sized once (all of them are alive here, so equal storage is the same book).
        var sizes: [[Int]: Int] = [:]
        var ranges: [Range<Int>] = [], start = 0, held = 0
        for (k, scenario) in scenarios.enumerated() {
            let storage = scenario.portfolio.accounts.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
            let book = [storage, scenario.market.assets.count]
            let size = sizes[book] ?? bytes(scenario)
            sizes[book] = size
            if k > start, held + size > memoryLimit {
                ranges.append(start..<k)
                (start, held) = (k, 0)
            }
            held += size
        }
        if start < scenarios.count { ranges.append(start..<scenarios.count) }
        return ranges
    }
}
