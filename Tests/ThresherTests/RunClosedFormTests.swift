import Distributions
import Engine
import Foundation
import MonteCarlo
import RandomStreams
import Revaluation
import ScenarioSpec
import TailStats
import XCTest
@testable import Engine

/// `thresher run` on one-asset books whose loss is a monotone function of the shock, so VaR and ES
/// have closed forms (or one-dimensional integrals over the shock's quantile). Every estimate must
/// lie within 4 of its own Monte Carlo standard errors.
final class RunClosedFormTests: XCTestCase {
    let spot = 50_000.0, vol = 0.8, paths = 400_000
    var sigmaRootH: Double { vol * (1.0 / 365).squareRoot() }

    func run(tails: String, positions: String, rate: Double = 0, seed: Int = 11) throws -> TailSummary {
        let scenario = try loadScenario(scenarioText(paths: paths, seed: seed, rate: rate, tails: tails, collateral: "{USD: 0}", positions: positions))
        return try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2)).book
    }

    /// Asserts VaR and ES at every level within 4 standard errors of the exact values.
    func assertMatches(_ summary: TailSummary, exact: (Double) -> (valueAtRisk: Double, es: Double?), file: StaticString = #filePath, line: UInt = #line) {
        for level in summary.levels {
            let (v, es) = exact(level.alpha)
            guard let varError = level.valueAtRiskStandardError, let esError = level.expectedShortfallStandardError else {
                XCTFail("no standard error at \(level.alpha) (k = \(level.rank))", file: file, line: line)
                continue
            }
            XCTAssertGreaterThan(varError, 0, file: file, line: line)
            XCTAssertEqual(level.valueAtRisk, v, accuracy: 4 * varError, "VaR \(level.alpha)", file: file, line: line)
            if let es {
                XCTAssertEqual(level.expectedShortfall, es, accuracy: 4 * esError, "ES \(level.alpha)", file: file, line: line)
            }
        }
    }

    /// (1/(b−a))·∫_a^b g(u) du by the midpoint rule on 20,000 points.
    func average(from a: Double, to b: Double, _ g: (Double) -> Double) -> Double {
        let m = 20_000
        let step = (b - a) / Double(m)
        var total = 0.0
        for k in 0..<m { total += g(a + (Double(k) + 0.5) * step) }
        return total / Double(m)
    }

    /// Long perp under student-t: L = qS(1 − e^{cT}), c = σ√h·√((ν−2)/ν), T ~ t_ν.
    /// VaR_α = qS(1 − exp(c·t_ν⁻¹(1−α))); ES_α = qS(1 − E[e^{cT} | T ≤ t_ν⁻¹(1−α)]).
    func testLongPerpUnderStudentT() throws {
        let q = 3.0, nu = 4.0
        let t = StudentT(dof: nu), c = sigmaRootH * ((nu - 2) / nu).squareRoot()
        let summary = try run(tails: "{model: student-t, dof: 4}", positions: "        - {type: perp, asset: BTC, quantity: \(q)}")
        assertMatches(summary) { alpha in
            let p = 1 - alpha
            return (q * self.spot * (1 - exp(c * t.quantile(p))),
                    q * self.spot * (1 - self.average(from: 0, to: p) { exp(c * t.quantile($0)) }))
        }
    }

    /// Short perp under student-t: VaR_α = |q|S(exp(c·t_ν⁻¹(α)) − 1). (Its ES is infinite in theory —
    /// E[e^{cT}; T > x] diverges for any t — so only VaR has an exact value; ES is checked on the
    /// gaussian short perp below.)
    func testShortPerpUnderStudentT() throws {
        let q = 2.0, nu = 4.0
        let t = StudentT(dof: nu), c = sigmaRootH * ((nu - 2) / nu).squareRoot()
        let summary = try run(tails: "{model: student-t, dof: 4}", positions: "        - {type: perp, asset: BTC, quantity: -\(q)}")
        assertMatches(summary) { alpha in (q * self.spot * (exp(c * t.quantile(alpha)) - 1), nil) }
    }

    /// Gaussian short perp: L = qS(e^{sZ} − 1), ES_α = qS(e^{s²/2}·Φ(s − z_α)/(1−α) − 1).
    func testShortPerpGaussian() throws {
        let q = 2.0, s = sigmaRootH
        let summary = try run(tails: "{model: gaussian}", positions: "        - {type: perp, asset: BTC, quantity: -\(q)}")
        assertMatches(summary) { alpha in
            let z = StandardNormal.quantile(alpha)
            return (q * self.spot * (exp(s * z) - 1), q * self.spot * (exp(s * s / 2) * StandardNormal.cdf(s - z) / (1 - alpha) - 1))
        }
    }

    /// Gaussian long spot (log-normal): VaR_α = qS(1 − e^{s·z_{1−α}}),
    /// ES_α = qS(1 − e^{s²/2}·Φ(z_{1−α} − s)/(1−α)).
    func testLongSpotGaussian() throws {
        let q = 5.0, s = sigmaRootH
        let summary = try run(tails: "{model: gaussian}", positions: "        - {type: spot, asset: BTC, quantity: \(q)}")
        assertMatches(summary) { alpha in
            let z = StandardNormal.quantile(1 - alpha)
            return (q * self.spot * (1 - exp(s * z)), q * self.spot * (1 - exp(s * s / 2) * StandardNormal.cdf(z - s) / (1 - alpha)))
        }
        XCTAssertEqual(summary.mean, q * spot * (1 - exp(s * s / 2)), accuracy: 4 * summary.standardDeviation / Double(paths).squareRoot())
    }

    /// Long future with r = 5 %: L = qS(e^{rT} − e^{r(T−h)}·e^{sZ}) — linear in S', gaussian closed form.
    func testLongFutureGaussianWithRate() throws {
        let q = 4.0, s = sigmaRootH, r = 0.05, T = 90.0 / 365, h = 1.0 / 365
        let summary = try run(tails: "{model: gaussian}", positions: "        - {type: future, asset: BTC, quantity: \(q), expiry_days: 90}", rate: r)
        assertMatches(summary) { alpha in
            let z = StandardNormal.quantile(1 - alpha)
            let carry = exp(r * (T - h))
            return (q * self.spot * (exp(r * T) - carry * exp(s * z)),
                    q * self.spot * (exp(r * T) - carry * exp(s * s / 2) * StandardNormal.cdf(z - s) / (1 - alpha)))
        }
    }

    /// Long inverse perp, C contracts of V USD: C·V·(1/S − 1/S') coins = C·V·(S'/S − 1) USD, so
    /// L = C·V·(1 − e^{cT}) — the long-perp form with notional C·V.
    func testInversePerpUnderStudentT() throws {
        let contracts = 20_000.0, value = 10.0, nu = 3.5
        let t = StudentT(dof: nu), c = sigmaRootH * ((nu - 2) / nu).squareRoot()
        let summary = try run(tails: "{model: student-t, dof: 3.5}",
                              positions: "        - {type: inverse-perp, asset: BTC, contracts: \(contracts), contract_value: \(value)}")
        assertMatches(summary) { alpha in
            let p = 1 - alpha
            return (contracts * value * (1 - exp(c * t.quantile(p))),
                    contracts * value * (1 - self.average(from: 0, to: p) { exp(c * t.quantile($0)) }))
        }
    }

    /// Short put, no vol shocks, student-t ν = 5: the loss q·(P(S') − P₀) is decreasing in S', so
    /// VaR_α = |q|·(P(S'_{1−α}) − P₀) at the (1−α)-quantile spot, repriced by Black–Scholes at T − h,
    /// and ES_α = |q|·(E[P(S') | S' ≤ S'_{1−α}] − P₀).
    func testShortPutUnderStudentT() throws {
        let q = 10.0, strike = 45_000.0, iv = 0.7, nu = 5.0, expiry = 30.0 / 365, h = 1.0 / 365
        let t = StudentT(dof: nu), c = sigmaRootH * ((nu - 2) / nu).squareRoot()
        let summary = try run(tails: "{model: student-t, dof: 5}",
                              positions: "        - {type: option, asset: BTC, right: put, strike: \(strike), expiry_days: 30, quantity: -\(q), iv: \(iv)}")
        let p0 = BlackScholes.price(isCall: false, spot: spot, strike: strike, years: expiry, rate: 0, vol: iv)
        func put(_ u: Double) -> Double {
            BlackScholes.price(isCall: false, spot: spot * exp(c * t.quantile(u)), strike: strike, years: expiry - h, rate: 0, vol: iv)
        }
        assertMatches(summary) { alpha in
            let p = 1 - alpha
            return (q * (put(p) - p0), q * (self.average(from: 0, to: p, put) - p0))
        }
    }

    /// Black–Scholes itself against published values (Hull, Options, Futures and Other Derivatives,
    /// Example 15.6: S = 42, K = 40, r = 10 %, σ = 20 %, T = 0.5 → call 4.76, put 0.81).
    func testBlackScholesHullExample() {
        XCTAssertEqual(BlackScholes.price(isCall: true, spot: 42, strike: 40, years: 0.5, rate: 0.1, vol: 0.2), 4.76, accuracy: 0.005)
        XCTAssertEqual(BlackScholes.price(isCall: false, spot: 42, strike: 40, years: 0.5, rate: 0.1, vol: 0.2), 0.81, accuracy: 0.005)
        // Put–call parity: C − P = S − K·e^{−rT}.
        let c = BlackScholes.price(isCall: true, spot: 100, strike: 90, years: 0.3, rate: 0.03, vol: 0.9)
        let p = BlackScholes.price(isCall: false, spot: 100, strike: 90, years: 0.3, rate: 0.03, vol: 0.9)
        XCTAssertEqual(c - p, 100 - 90 * exp(-0.03 * 0.3), accuracy: 1e-10)
    }
}

/// Reproducibility: report numbers do not depend on threads, chunk size or how the paths are split.
final class RunReproducibilityTests: XCTestCase {
    func summaries(_ run: PortfolioRunResult) -> [[Double]] {
        ([run.book] + run.accounts).map { s in
            [s.mean, s.standardDeviation] + s.levels.flatMap { [$0.valueAtRisk, $0.expectedShortfall, $0.valueAtRiskStandardError ?? -1, $0.expectedShortfallStandardError ?? -1] }
        }
    }

    func testIdenticalForThreadsAndChunkSizes() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = 30_000
        let run = try PortfolioRun(scenario: scenario)
        let reference = summaries(try run.run(settings: RunSettings(threads: 1, chunkSize: 1024)))
        for (threads, chunk) in [(2, 1024), (2, 512), (1, 4096), (3, 192)] {
            XCTAssertEqual(summaries(try run.run(settings: RunSettings(threads: threads, chunkSize: chunk))), reference,
                           "threads \(threads), chunk \(chunk)")
        }
        XCTAssertTrue(reference.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    func testTwoHalvesMergeToTheWholeRun() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = 20_032  // not a multiple of the chunk size: a ragged last chunk
        let run = try PortfolioRun(scenario: scenario)
        let whole = try run.aggregate(settings: RunSettings(threads: 2))
        var merged = try run.aggregate(settings: RunSettings(threads: 1, chunkSize: 256, pathRange: 0..<10_048))
        merged.merge(try run.aggregate(settings: RunSettings(threads: 2, chunkSize: 2048, pathRange: 10_048..<20_032)))
        for (a, b) in zip([whole.book] + whole.accounts, [merged.book] + merged.accounts) {
            let (x, y) = (a.summary(), b.summary())
            XCTAssertEqual(x.mean, y.mean)
            XCTAssertEqual(x.standardDeviation, y.standardDeviation)
            XCTAssertEqual(x.largestLosses, y.largestLosses)
            XCTAssertEqual(x.levels.map(\.expectedShortfall), y.levels.map(\.expectedShortfall))
        }
    }

    /// Account tails kept above the pilot's floors are the tails kept without floors, bit for bit; a
    /// floor above the K-th largest loss is reported as an incomplete tail (the run then aggregates
    /// again without floors).
    func testPilotFloorsDoNotChangeTheTails() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = 60_032
        let run = try PortfolioRun(scenario: scenario)
        let pilot = run.pilot(threads: 2)
        XCTAssertGreaterThan(pilot.accountFloors.filter(\.isFinite).count, 2, "the pilot sets floors at this size")
        let settings = RunSettings(threads: 2)
        let floored = try run.aggregate(settings: settings, histogram: pilot.histogram, accountFloors: pilot.accountFloors,
                                        cancellation: nil, progress: nil)
        let plain = try run.aggregate(settings: settings, histogram: pilot.histogram, accountFloors: nil, cancellation: nil, progress: nil)
        for (a, b) in zip(floored.accounts, plain.accounts) {
            XCTAssertTrue(a.hasCompleteTail)
            let (x, y) = (a.summary(), b.summary())
            XCTAssertEqual(x.largestLosses, y.largestLosses)
            XCTAssertEqual(x.mean, y.mean)
            XCTAssertEqual(x.levels.map(\.valueAtRiskStandardError), y.levels.map(\.valueAtRiskStandardError))
        }
        let tooHigh = plain.accounts.map { $0.summary().largestLosses[50] }
        let short = try run.aggregate(settings: settings, histogram: pilot.histogram, accountFloors: tooHigh, cancellation: nil, progress: nil)
        XCTAssertTrue(short.accounts.allSatisfy { !$0.hasCompleteTail })
    }

    /// Merging a floored accumulator with one without a floor keeps the tail exact (the merged floor
    /// is the higher one).
    func testMergeAcrossDifferentFloors() {
        let plan = TailPlan(totalPaths: 20_032, levels: [0.99])
        var stream = PathStream(seed: 3, path: 0, stream: .assetNormals)
        let losses = (0..<20_032).map { _ in stream.nextNormal() }
        let floor = losses.sorted(by: >)[600]
        var floored = TailAccumulator(plan: plan, floor: floor), plain = TailAccumulator(plan: plan)
        var reference = TailAccumulator(plan: plan)
        losses.withUnsafeBufferPointer { all in
            floored.add(all.baseAddress!, count: 10_048)
            plain.add(all.baseAddress! + 10_048, count: 9_984)
            reference.add(all.baseAddress!, count: 20_032)
        }
        plain.merge(floored)
        XCTAssertEqual(plain.floor, floor)
        XCTAssertTrue(plain.hasCompleteTail)
        XCTAssertEqual(plain.summary().largestLosses, reference.summary().largestLosses)
        XCTAssertEqual(plain.summary().levels.map(\.expectedShortfall), reference.summary().levels.map(\.expectedShortfall))
    }

    /// A tail kept without moments (calibrate's account tails) gives the VaRs of the full summary by
    /// selection — the k-th largest loss, k = ⌈(1−α)·n⌉, checked against a sort of all losses — fed in
    /// chunks and merged, and NaN where the tail holds fewer than k.
    func testValuesAtRiskWithoutMomentsAreTheSummarysOrderStatistics() {
        var stream = PathStream(seed: 11, path: 0, stream: .assetNormals)
        let losses = (0..<12_800).map { _ in stream.nextNormal() * 1_000 }
        let plan = TailPlan(totalPaths: losses.count, levels: [0.95, 0.99])
        var first = TailAccumulator(plan: plan, moments: false), second = TailAccumulator(plan: plan, moments: false)
        var full = TailAccumulator(plan: plan)
        losses.withUnsafeBufferPointer { all in
            for start in stride(from: 0, to: 6_400, by: 1_024) { first.add(all.baseAddress! + start, count: min(1_024, 6_400 - start)) }
            second.add(all.baseAddress! + 6_400, count: 6_400)
            full.add(all.baseAddress!, count: losses.count)
        }
        first.merge(second)
        XCTAssertFalse(first.keepsMoments)
        let sorted = losses.sorted(by: >)
        XCTAssertEqual(first.valuesAtRisk(), [sorted[640 - 1], sorted[128 - 1]])
        XCTAssertEqual(first.valuesAtRisk(), full.summary().levels.map(\.valueAtRisk))
        XCTAssertTrue(TailAccumulator(plan: plan, moments: false).valuesAtRisk().allSatisfy(\.isNaN))
        // A floor above all but 100 losses leaves fewer than k = 128 and 640 in the tail.
        var floored = TailAccumulator(plan: plan, floor: sorted[100], moments: false)
        floored.add(losses)
        XCTAssertFalse(floored.hasCompleteTail)
        XCTAssertTrue(floored.valuesAtRisk().allSatisfy(\.isNaN))
    }

    /// Small tail samples: no standard error below the documented ranks (k = 1: the ES formula
    /// would say 0), a flag beyond the sample, and at the smallest reported ranks the ±1.96·SE
    /// intervals still cover the exact normal VaR/ES: over 400 seeds (N = 5,000, α = 99 %, k = 50)
    /// the coverage must exceed 86 % for ES and 88 % for VaR — about 4 binomial standard errors
    /// below the 92 % / 94 % measured over 2,000 seeds (README, "Small tail samples").
    func testSmallTailSamplesReportNoErrorAndCoverAboveTheMinimumRank() {
        func summary(seed: UInt64, paths: Int, level: Double) -> TailSummary.Level {
            var stream = PathStream(seed: seed, path: 0, stream: .assetNormals)
            var accumulator = TailAccumulator(plan: TailPlan(totalPaths: paths, levels: [level]))
            accumulator.add((0..<paths).map { _ in stream.nextNormal() })
            return accumulator.summary().levels[0]
        }
        let one = summary(seed: 1, paths: 100, level: 0.99)
        XCTAssertEqual(one.rank, 1)
        XCTAssertNil(one.valueAtRiskStandardError)
        XCTAssertNil(one.expectedShortfallStandardError)
        XCTAssertFalse(one.beyondSample)
        XCTAssertTrue(summary(seed: 1, paths: 100, level: 0.999).beyondSample)
        let twenty = summary(seed: 1, paths: 2_000, level: 0.99)
        XCTAssertNotNil(twenty.valueAtRiskStandardError)
        XCTAssertNil(twenty.expectedShortfallStandardError)
        let q = StandardNormal.quantile(0.99), es = StandardNormal.density(q) / 0.01
        var varCovered = 0, esCovered = 0
        let seeds = 400
        for seed in 0..<seeds {
            let level = summary(seed: UInt64(100 + seed), paths: 5_000, level: 0.99)
            XCTAssertEqual(level.rank, 50)
            if abs(level.valueAtRisk - q) <= 1.96 * level.valueAtRiskStandardError! { varCovered += 1 }
            if abs(level.expectedShortfall - es) <= 1.96 * level.expectedShortfallStandardError! { esCovered += 1 }
        }
        XCTAssertGreaterThan(Double(varCovered) / Double(seeds), 0.88)
        XCTAssertGreaterThan(Double(esCovered) / Double(seeds), 0.86)
    }

    /// The book loss is the sum of the account losses path by path, so its mean is the sum of theirs.
    func testBookMeanIsTheSumOfAccountMeans() throws {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = 10_000
        let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
        XCTAssertEqual(result.book.mean, result.accounts.reduce(0) { $0 + $1.mean }, accuracy: 1e-6 * result.book.standardDeviation)
    }
}
