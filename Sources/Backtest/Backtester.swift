import CKernels
import Distributions
import Foundation
import RandomStreams
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

/// What a backtest runs: the walk-forward schedule, the models, the paths per forecast.
public struct BacktestSettings: Sendable {
    public var window: Int = 500
    public var refit: Int = 20
    public var models: [BacktestModel] = BacktestModel.allCases
    /// The level (an index into the scenario's confidence levels) whose VaR is the margin of the
    /// procyclicality study: the highest by default.
    public var marginLevel: Int?
    /// Simulated histories of the Acerbi–Székely test.
    public var esSimulations: Int = 1000
    public var threads: Int = 1
    /// Realised days from / to (days since 1970), nil for the whole history.
    public var from: Int?
    public var to: Int?

    public init() {}
}

/// One level of one model: the exception series and every test of it.
public struct LevelBacktest: Sendable {
    public let level: ConfidenceLevel
    public let valueAtRisk: [Double]
    public let expectedShortfall: [Double]
    public let hits: [Bool]
    public let coverage: CoverageTests
    public let expectedShortfallTest: ExpectedShortfallTest
    /// Over the exception days: the largest and mean excess L_t − VaR_t (USD), and the mean of
    /// L_t/ES_t (about 1 when ES is right; nil without exceptions).
    public let largestExcess: Double?
    public let meanExcess: Double?
    public let lossToShortfall: Double?
}

/// One model's backtest.
public struct ModelBacktest: Sendable {
    public let model: BacktestModel
    public let levels: [LevelBacktest]
    /// VaR at the margin level with ten-year volatilities (the floor of `AntiProcyclicalityTool.tenYearFloor`).
    public let tenYearValueAtRisk: [Double]
    public let procyclicality: [ProcyclicalityMeasures]
    /// Refits done, and the averages over them of the fitted ν (nil for gaussian) and of α + β (GARCH models).
    public let refits: Int
    public let meanDof: Double?
    public let meanPersistence: Double?
}

/// One rate of the venue's ladder (or a model's forecast rate) against the realised one-row moves of
/// its asset: an exception is an adverse move beyond the rate, 1 − S_{t+1}/S_t > rate for a long,
/// S_{t+1}/S_t − 1 > rate for a short.
public struct RateBacktest: Sendable {
    public let asset: String
    public let side: Side
    /// The ladder tier (index, notional bound) for a static rate; nil for a model's forecast.
    public let tier: Int?
    public let upTo: Double?
    /// The model whose daily forecast rate this is; nil for a static rate.
    public let model: BacktestModel?
    /// The rate (its mean over the days for a forecast).
    public let meanRate: Double
    public let coverage: CoverageTests
}

public struct BacktestResult: Sendable {
    public let scenarioName: String
    public let history: AlignedHistory
    public let settings: BacktestSettings
    public let paths: Int
    public let seed: UInt64
    public let levels: [ConfidenceLevel]
    public let marginLevel: Int
    /// Origin rows and realised days (dates of row t + 1).
    public let origins: [Int]
    public var realisedDays: [Int] { origins.map { history.days[$0 + 1] } }
    /// L_{t+1} = −(V(S_{t+1}) − V(S_t)), USD, positions held constant.
    public let realisedLosses: [Double]
    public let models: [ModelBacktest]
    /// With a `policy:` ladder: each tier's maintenance rates and each model's forecast rate
    /// (the move exceeded with probability `ladderBreachProbability`) against the realised moves.
    public let ladder: [RateBacktest]
    /// `calibration.breach_probability`, else 1 − the margin level.
    public let ladderBreachProbability: Double
    public let elapsedSeconds: Double

    /// Per level, the relative standard error of a VaR read from `paths` draws,
    /// √(α(1−α)/N) / (φ(z_α)·z_α) with z_α = Φ⁻¹(α): exact for the gaussian model and a linear book,
    /// the order of it for the others. Every day's forecast reuses the same draws (they depend on
    /// (seed, path) only), so this error is one bias shared by the whole history — it does not average
    /// out over the days; another seed moves every day's VaR by about this much, together.
    public var monteCarloRelativeError: [Double] {
        levels.map { level in
            let z = StandardNormal.quantile(level.value)
            return (level.value * (1 - level.value) / Double(paths)).squareRoot() / (StandardNormal.density(z) * z)
        }
    }
}

/// `thresher backtest`: walk forward over a price history; each day forecast the next day's loss
/// distribution of the scenario's book under each model, read VaR/ES at the scenario's levels, and
/// compare with the realised loss.
///
/// The book is valued as one account (every position and collateral of the scenario), revalued at
/// each origin's prices S_t with the engine's `Book`/`Revaluer` over a one-row horizon (h = 1 day;
/// options keep their implied vol and time to expiry: a constant-maturity position). The realised
/// loss uses the same revaluation at S_{t+1}.
///
/// Cost: the innovations ε of the N paths are drawn once per refit and model (they depend only on
/// (seed, path) and the fitted parameters, so reusing them across the days of a block is exact);
/// each day only rescales them by that day's σ_t, revalues and selects the tail. Days run in
/// parallel; every number is independent of `threads`.
public enum Backtester {
    public static func run(scenario: Scenario, history: AlignedHistory, settings: BacktestSettings,
                           cancellation: Cancellation? = nil, progress: RunProgress? = nil) throws -> BacktestResult {
        let start = Date()
        let schedule = try WalkForwardSchedule(history: history, window: settings.window, refit: settings.refit, from: settings.from, to: settings.to)
        let n = history.assetIDs.count, paths = scenario.simulation.paths, seed = scenario.simulation.seed
        let levels = scenario.risk.confidence
        let marginLevel = settings.marginLevel ?? levels.indices.max { levels[$0].value < levels[$1].value }!
        let ranks = levels.map { TailPlan.rank(level: $0.value, paths: paths) }
        let deepest = ranks.max()!
        let book = BookTemplate(scenario: scenario)
        let models = settings.models
        let moments = history.returns.map(ReturnMoments.init)
        let tenYear = tenYearStarts(history)
        let simulations = settings.esSimulations

        // Per model, per origin: VaR and ES per level, the ten-year VaR; per level the simulated tail sums.
        var valueAtRisk = models.map { _ in levels.map { _ in [Double]() } }
        var shortfall = valueAtRisk
        var tenYearVaR = models.map { _ in [Double]() }
        var simulatedSums = models.map { _ in levels.map { _ in [Double](repeating: 0, count: simulations) } }
        var realised: [Double] = []
        var dofs = models.map { _ in [Double]() }, persistences = dofs
        // The ladder's breach probability p and, per model, asset and side, the daily forecast rate:
        // 1 − e^{(μ + σ_t·q_p)/100} for a long and e^{(μ + σ_t·q_{1−p})/100} − 1 for a short, with
        // q the k-th smallest / largest of the N innovations, k = ⌈p·N⌉.
        let ladderP = scenario.calibration?.breachProbability ?? (1 - levels[marginLevel].value)
        let ladderRank = TailPlan.rank(level: 1 - ladderP, paths: paths)
        var forecastRates = models.map { _ in (0..<n).map { _ in [[Double](), [Double]()] } }

        for block in schedule.blocks {
            if cancellation?.isCancelled == true { throw WorkerPoolError.cancelled }
            let fit = try WindowFit(history: history, origin: block.first!, window: settings.window, models: models)
            let forecasts = try models.map { model -> BlockForecast in
                let epsilon = try innovations(model, fit: fit, template: scenario, paths: paths, threads: settings.threads)
                return BlockForecast(model: model, fit: fit, origins: block, history: history, moments: moments, window: settings.window, epsilon: epsilon)
            }
            for (m, model) in models.enumerated() {
                if model == .studentT { dofs[m].append(fit.pooledDof!) }
                if model.usesGARCH {
                    dofs[m].append(fit.garch.map(\.nu).sorted()[n / 2])
                    persistences[m].append(fit.garch.map(\.persistence).reduce(0, +) / Double(n))
                }
            }
            if scenario.policy != nil {
                for (m, forecast) in forecasts.enumerated() {
                    for i in 0..<n {
                        var down = (0..<paths).map { -forecast.epsilon[i * paths + $0] }, up = (0..<paths).map { forecast.epsilon[i * paths + $0] }
                        down.withUnsafeMutableBufferPointer { selectLargest(ladderRank, in: $0) }
                        up.withUnsafeMutableBufferPointer { selectLargest(ladderRank, in: $0) }
                        let low = -down[0..<ladderRank].min()!, high = up[0..<ladderRank].min()!
                        for scales in forecast.scales {
                            forecastRates[m][i][0].append(1 - exp((forecast.mean[i] + scales[i] * low) / 100))
                            forecastRates[m][i][1].append(exp((forecast.mean[i] + scales[i] * high) / 100) - 1)
                        }
                    }
                }
            }
            let blockOrigins = Array(block)
            let days = parallelMap(blockOrigins.count, threads: settings.threads) { range -> [DayOutcome] in
                let workspace = DayWorkspace(assets: n, paths: paths)
                return range.map { k in
                    let t = blockOrigins[k]
                    let dayBook = book.book(at: history.prices.map { $0[t] })
                    var outcome = DayOutcome()
                    outcome.realised = workspace.realisedLoss(dayBook, spots: history.prices.map { $0[t + 1] })
                    var resampling = PathStream(seed: seed, path: t, stream: .backtestResampling)
                    let draws = (0..<simulations).map { _ in min(paths - 1, Int(resampling.nextUniform() * Double(paths))) }
                    let spots = history.prices.map { $0[t] }
                    for forecast in forecasts {
                        workspace.losses(dayBook, spots: spots, mean: forecast.mean, scales: forecast.scales[k], epsilon: forecast.epsilon)
                        let simulated = draws.map { workspace.values[$0] }
                        let tail = workspace.largest(deepest)
                        var vars: [Double] = [], ess: [Double] = [], sums: [[Double]] = []
                        for r in ranks {
                            let v = tail[r - 1], es = tail[0..<r].reduce(0, +) / Double(r)
                            vars.append(v)
                            ess.append(es)
                            sums.append(simulated.map { es > 0 && $0 > v ? $0 / es : 0 })
                        }
                        outcome.valueAtRisk.append(vars)
                        outcome.shortfall.append(ess)
                        outcome.simulatedTerms.append(sums)
                        let tenYearScales = (0..<n).map { moments[$0].standardDeviation(tenYear[t]..<t) }
                        workspace.losses(dayBook, spots: spots, mean: forecast.mean, scales: tenYearScales, epsilon: forecast.epsilon)
                        outcome.tenYear.append(workspace.largest(ranks[marginLevel])[ranks[marginLevel] - 1])
                        progress?.advance(by: paths)
                    }
                    return [outcome]
                }.flatMap { $0 }
            }
            // Fold the days in date order: sums do not depend on how the days were split.
            for day in days {
                realised.append(day.realised)
                for m in models.indices {
                    tenYearVaR[m].append(day.tenYear[m])
                    for l in levels.indices {
                        valueAtRisk[m][l].append(day.valueAtRisk[m][l])
                        shortfall[m][l].append(day.shortfall[m][l])
                        for s in 0..<simulations { simulatedSums[m][l][s] += day.simulatedTerms[m][l][s] }
                    }
                }
            }
        }

        let realisedDays = schedule.origins.map { history.days[$0 + 1] }
        let results = models.indices.map { m -> ModelBacktest in
            let levelResults = levels.indices.map { l -> LevelBacktest in
                let v = valueAtRisk[m][l], es = shortfall[m][l]
                let hits = zip(realised, v).map { $0 > $1 }
                let p = 1 - levels[l].value
                var tailSum = 0.0, excesses: [Double] = [], ratios: [Double] = []
                for t in hits.indices where hits[t] {
                    if es[t] > 0 { tailSum += realised[t] / es[t]; ratios.append(realised[t] / es[t]) }
                    excesses.append(realised[t] - v[t])
                }
                return LevelBacktest(level: levels[l], valueAtRisk: v, expectedShortfall: es, hits: hits,
                                     coverage: CoverageTests(hits: hits, expectedRate: p),
                                     expectedShortfallTest: ExpectedShortfallTest(tailSum: tailSum, simulatedTailSums: simulatedSums[m][l], days: hits.count, tailProbability: p),
                                     largestExcess: excesses.max(), meanExcess: excesses.isEmpty ? nil : excesses.reduce(0, +) / Double(excesses.count),
                                     lossToShortfall: ratios.isEmpty ? nil : ratios.reduce(0, +) / Double(ratios.count))
            }
            let margin = valueAtRisk[m][marginLevel]
            let measures = AntiProcyclicalityTool.allCases.map { tool in
                ProcyclicalityMeasures(tool: tool, margins: tool.margins(valueAtRisk: margin, tenYearValueAtRisk: tenYearVaR[m], days: realisedDays), realisedLosses: realised)
            }
            return ModelBacktest(model: models[m], levels: levelResults, tenYearValueAtRisk: tenYearVaR[m], procyclicality: measures,
                                 refits: schedule.blocks.count, meanDof: dofs[m].isEmpty ? nil : dofs[m].reduce(0, +) / Double(dofs[m].count),
                                 meanPersistence: persistences[m].isEmpty ? nil : persistences[m].reduce(0, +) / Double(persistences[m].count))
        }
        var ladder: [RateBacktest] = []
        if let policy = scenario.policy {
            for i in 0..<n {
                let moves = schedule.origins.map { history.prices[i][$0 + 1] / history.prices[i][$0] - 1 }
                for (s, side) in [Side.long, .short].enumerated() {
                    func hits(_ rate: (Int) -> Double) -> [Bool] { moves.indices.map { side == .long ? -moves[$0] > rate($0) : moves[$0] > rate($0) } }
                    for (k, tier) in policy.schedule.tiers[i].enumerated() {
                        let rate = tier.maintenance(side)
                        ladder.append(RateBacktest(asset: history.assetIDs[i], side: side, tier: k, upTo: tier.upTo, model: nil, meanRate: rate,
                                                   coverage: CoverageTests(hits: hits { _ in rate }, expectedRate: ladderP)))
                    }
                    for (m, model) in models.enumerated() {
                        let rates = forecastRates[m][i][s]
                        ladder.append(RateBacktest(asset: history.assetIDs[i], side: side, tier: nil, upTo: nil, model: model,
                                                   meanRate: rates.reduce(0, +) / Double(rates.count),
                                                   coverage: CoverageTests(hits: hits { rates[$0] }, expectedRate: ladderP)))
                    }
                }
            }
        }
        return BacktestResult(scenarioName: scenario.name, history: history, settings: settings, paths: paths, seed: seed, levels: levels,
                              marginLevel: marginLevel, origins: schedule.origins, realisedLosses: realised, models: results,
                              ladder: ladder, ladderBreachProbability: ladderP, elapsedSeconds: Date().timeIntervalSince(start))
    }

    /// For each row t, the first return index of the ten years (3,652 days) that end at row t.
    static func tenYearStarts(_ history: AlignedHistory) -> [Int] {
        var starts: [Int] = [], k = 0
        for t in 0..<history.rowCount {
            while k < t - 1, history.days[k + 1] < history.days[t] - 3652 { k += 1 }
            starts.append(k)
        }
        return starts
    }
}

/// One model over one refit block: its mean, each origin's scales σ_{t+1} (percent) and the innovations.
struct BlockForecast: Sendable {
    let mean: [Double]
    /// scales[k][i]: asset i's σ at the block's k-th origin.
    let scales: [[Double]]
    let epsilon: [Double]

    init(model: BacktestModel, fit: WindowFit, origins: ArraySlice<Int>, history: AlignedHistory, moments: [ReturnMoments], window: Int, epsilon: [Double]) {
        self.epsilon = epsilon
        mean = fit.mean(model)
        let n = history.assetIDs.count
        if !model.usesGARCH {
            scales = origins.map { t in (0..<n).map { moments[$0].standardDeviation((t - window)..<t) } }
            return
        }
        // σ²_{t0+1} is the fit's forecast; then σ²_{t+1} = ω + α·(r_t − μ)² + β·σ²_t day by day.
        var variance = fit.garch.map(\.forecastVariance)
        var result: [[Double]] = []
        for t in origins {
            if t > origins.first! {
                for i in 0..<n {
                    let f = fit.garch[i], e = history.returns[i][t - 1] - f.mu
                    variance[i] = f.omega + f.alpha * e * e + f.beta * variance[i]
                }
            }
            result.append(variance.map { $0.squareRoot() })
        }
        scales = result
    }
}

/// What one day produces, per model (and level).
struct DayOutcome: Sendable {
    var realised = 0.0
    var valueAtRisk: [[Double]] = []
    var shortfall: [[Double]] = []
    var simulatedTerms: [[[Double]]] = []
    var tenYear: [Double] = []
}

/// The scenario's book as one account, rebuilt at each origin's spots.
struct BookTemplate: Sendable {
    let scenario: Scenario

    init(scenario: Scenario) {
        var s = scenario
        var whole = s.portfolio.accounts[0]
        whole.id = "book"
        whole.collateral = s.portfolio.accounts.flatMap(\.collateral)
        whole.positions = s.portfolio.accounts.flatMap(\.positions)
        s.portfolio.accounts = [whole]
        s.simulation.horizonDays = 1
        self.scenario = s
    }

    func book(at spots: [Double]) -> Book {
        var s = scenario
        for i in spots.indices { s.market.assets[i].spot = spots[i] }
        return Book(scenario: s)
    }
}

/// A worker's buffers: one chunk of shocked spots and the N losses of the day.
final class DayWorkspace {
    static let chunk = 4096
    let assets: Int
    let paths: Int
    let buffers: ShockBuffers
    var values: [Double]

    init(assets: Int, paths: Int) {
        self.assets = assets
        self.paths = paths
        buffers = ShockBuffers(assetCount: assets, capacity: min(Self.chunk, paths))
        values = [Double](repeating: 0, count: paths)
    }

    /// values[p] ← the book's loss on path p: S'_i = S_i·exp((μ_i + σ_i·ε_ip)/100).
    func losses(_ book: Book, spots: [Double], mean: [Double], scales: [Double], epsilon: [Double]) {
        let revaluer = Revaluer(book: book, capacity: buffers.capacity)
        let ld = buffers.capacity
        epsilon.withUnsafeBufferPointer { e in
            values.withUnsafeMutableBufferPointer { out in
                var first = 0
                while first < paths {
                    let count = min(ld, paths - first)
                    buffers.beginChunk(firstPath: first, count: count)
                    for i in 0..<assets {
                        let drift = mean[i] / 100
                        thresher_shocked_spots(e.baseAddress! + i * paths + first, scales[i] / 100, log(spots[i]) + drift, spots[i] * exp(drift),
                                               buffers.row(buffers.logSpot, asset: i), buffers.row(buffers.spot, asset: i), count)
                    }
                    revaluer.beginChunk(buffers)
                    revaluer.revalue(buffers, accounts: 0..<1)
                    let row = revaluer.lossRow(account: 0)
                    for j in 0..<count { out[first + j] = row[j] }
                    first += count
                }
            }
        }
    }

    /// The k largest of `values`, descending (reorders `values`).
    func largest(_ k: Int) -> [Double] {
        values.withUnsafeMutableBufferPointer { selectLargest(k, in: $0) }
        return values[0..<k].sorted(by: >)
    }

    /// The book's loss when the spots move to `spots` (no vol change).
    func realisedLoss(_ book: Book, spots: [Double]) -> Double {
        let revaluer = Revaluer(book: book, capacity: buffers.capacity)
        buffers.beginChunk(firstPath: 0, count: 1)
        buffers.setDeterministicState(column: 0, spots: spots, volFactors: Array(repeating: 1, count: assets))
        revaluer.beginChunk(buffers)
        revaluer.revalue(buffers, accounts: 0..<1)
        return revaluer.lossRow(account: 0)[0]
    }
}
