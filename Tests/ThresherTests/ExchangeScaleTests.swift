import Calibration
import CKernels
import Engine
import Foundation
import MonteCarlo
import TailStats
import XCTest

/// Issue 16: account groups under a memory limit, sparse exposures and the fused tail kernel.
final class ExchangeScaleTests: XCTestCase {
    /// A six-asset book of `count` accounts of every kind the revaluer tells apart: one or two perps
    /// (sparse, straight into the tail), four to six assets (dense rows in a dgemm), an option
    /// (a row, priced), coin collateral and inverse perps. Quantities vary with the account index.
    static func mixedBook(accounts count: Int, paths: Int = 20_032) -> String {
        let ids = ["BTC", "ETH", "SOL", "BNB", "XRP", "DOGE"], spots = [95_000.0, 3_400, 180, 620, 2.2, 0.32]
        var lines = ["""
            name: mixed
            simulation: {paths: \(paths), seed: 11, horizon_days: 1}
            market:
              rate: 0.03
              assets:
            """]
        for (i, id) in ids.enumerated() { lines.append("    - {id: \(id), spot: \(spots[i]), vol: \(0.5 + 0.1 * Double(i))}") }
        lines.append("  correlation: {uniform: 0.5}\n  tails: {model: student-t, dof: 4}\n  vol_shocks: {vol_of_vol: 0.8, spot_correlation: -0.4}")
        lines.append("portfolio:\n  accounts:")
        for a in 0..<count {
            let size = Double(1 + (a * 7919) % 97), sign = a % 3 == 0 ? -1.0 : 1.0
            var positions: [String] = []
            let kind = a % 5
            let held = kind == 1 ? 5 : (kind == 0 ? 1 : 2)
            for k in 0..<held {
                let i = (a + k) % ids.count
                positions.append("{type: perp, asset: \(ids[i]), quantity: \(sign * size * 10_000 / spots[i])}")
            }
            if kind == 2 { positions.append("{type: option, asset: BTC, right: put, strike: 90000, expiry_days: 30, quantity: \(-size / 10), iv: 0.6}") }
            if kind == 3 { positions.append("{type: inverse-perp, asset: BTC, contracts: \(Int(size) * 10), contract_value: 100}") }
            let collateral = kind == 4 ? "{USD: \(size * 2_000), ETH: \(size / 50)}" : "{USD: \(size * 3_000)}"
            lines.append("    - {id: a\(a), collateral: \(collateral), positions: [\(positions.joined(separator: ", "))]}")
        }
        lines.append("risk: {confidence: [0.99, 0.999]}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Every statistic of a run, as bit patterns.
    static func fingerprint(_ result: PortfolioRunResult) -> [UInt64] {
        ([result.book] + result.accounts).flatMap { tail in
            [tail.mean, tail.standardDeviation].map(\.bitPattern) + tail.levels.flatMap {
                [$0.valueAtRisk, $0.expectedShortfall, $0.valueAtRiskStandardError ?? -1, $0.expectedShortfallStandardError ?? -1].map(\.bitPattern)
            }
        } + result.book.largestLosses.map(\.bitPattern) + result.bookHistogram.counts.map { UInt64($0) }
    }

    /// A book run in groups of accounts (1 MiB for the tails: groups of 64) gives the numbers of one
    /// pass over all accounts, bit for bit, at any thread count and chunk size.
    func testAccountGroupsAreBitIdenticalToOnePass() throws {
        let scenario = try loadScenario(Self.mixedBook(accounts: 300))
        let run = try PortfolioRun(scenario: scenario)
        XCTAssertGreaterThan((0..<300).filter { run.book.hasSparseLinearLoss($0) }.count, 50, "sparse accounts go straight into their tails")
        XCTAssertGreaterThan((0..<300).filter { !run.book.hasSparseExposures($0) }.count, 50, "dense accounts go through dgemm")
        let whole = try run.run(settings: RunSettings(threads: 2), memoryLimit: .max)
        XCTAssertEqual(run.accountGroups(settings: RunSettings(threads: 2), memoryLimit: .max).ranges, [0..<300])
        let small = 1 << 20
        let groups = run.accountGroups(settings: RunSettings(threads: 2), memoryLimit: small).ranges
        XCTAssertGreaterThanOrEqual(groups.count, 4)
        XCTAssertEqual(groups.first?.lowerBound, 0)
        XCTAssertEqual(groups.last?.upperBound, 300)
        for (g, h) in zip(groups, groups.dropFirst()) { XCTAssertEqual(g.upperBound, h.lowerBound) }
        for settings in [RunSettings(threads: 2), RunSettings(threads: 1, chunkSize: 192), RunSettings(threads: 3, chunkSize: 4096)] {
            let grouped = try run.run(settings: settings, memoryLimit: small)
            XCTAssertEqual(Self.fingerprint(grouped), Self.fingerprint(whole), "threads \(settings.threads), chunk \(settings.chunkSize)")
        }
        XCTAssertEqual(whole.accounts.count, 300)
        XCTAssertTrue(whole.accounts.allSatisfy(\.largestLosses.isEmpty), "account summaries keep no tail arrays")
        XCTAssertFalse(whole.book.largestLosses.isEmpty)
    }

    /// The group plan: equal groups on multiples of 64 accounts within the budget, one group when
    /// the tails fit.
    func testGroupPlan() {
        let plan = TailPlan(totalPaths: 100_000, levels: [0.99, 0.999])
        let perAccount = AccountGroups.bytesPerAccount(plan: plan, threads: 2)
        XCTAssertEqual(AccountGroups(accountCount: 1_000, plan: plan, threads: 2, memoryLimit: 1_000 * perAccount).ranges, [0..<1_000])
        let groups = AccountGroups(accountCount: 100_000, plan: plan, threads: 2, memoryLimit: 1 << 30).ranges
        let fewest = (100_000 * perAccount + (1 << 30) - 1) / (1 << 30)
        XCTAssertTrue((fewest...fewest + 1).contains(groups.count), "\(groups.count) groups where \(fewest) hold the tails")
        for g in groups {
            XCTAssertLessThanOrEqual(g.count * perAccount, 1 << 30)
            XCTAssertEqual(g.lowerBound % 64, 0)
        }
        XCTAssertEqual(groups.map(\.count).reduce(0, +), 100_000)
        XCTAssertLessThanOrEqual(groups.map(\.count).max()! - groups.map(\.count).min()!, 64 * groups.count, "no sliver at the end")
        XCTAssertEqual(AccountGroups(accountCount: 10, plan: plan, threads: 2, memoryLimit: 1).ranges, [0..<10], "groups of at least 64")
        XCTAssertEqual(AccountGroups(accountCount: 200, plan: plan, threads: 2, memoryLimit: 1).ranges, [0..<64, 64..<128, 128..<192, 192..<200])
    }

    /// The fused kernel gives exactly the losses, block statistics and candidates of the three
    /// separate kernels; the losses are −c − Σ w·S within rounding.
    func testFusedLinearTailKernel() {
        let count = 1_000, stride = 1_024, assets: [Int32] = [3, 0, 5], weights = [2.5, -1.25, 1e-3], constant = 123.0
        var spot = [Double](repeating: 0, count: 6 * stride)
        for k in spot.indices { spot[k] = 100 + 50 * sin(Double(k) * 0.37) }
        var losses = [Double](repeating: 0, count: count)
        thresher_linear_losses(count, spot, stride, assets, weights, 3, constant, &losses)
        for j in 0..<count {
            let direct = constant - (2.5 * spot[3 * stride + j] - 1.25 * spot[j] + 1e-3 * spot[5 * stride + j])
            XCTAssertEqual(losses[j], direct, accuracy: 1e-12 * 500)
        }
        let blocks = (count + 63) / 64, threshold = losses.sorted()[count - 37]
        var sums = [Double](repeating: 0, count: blocks), squares = sums
        var above = [Double](repeating: 0, count: count + 8)
        thresher_block_statistics(losses, count, &sums, &squares)
        let kept = thresher_values_above(losses, count, threshold, &above)
        XCTAssertEqual(kept, 36)
        XCTAssertEqual(Array(above[0..<kept]), losses.filter { $0 > threshold }, "in path order")
        var fusedSums = [Double](repeating: 0, count: blocks), fusedSquares = fusedSums
        var fusedAbove = [Double](repeating: 0, count: count + 8)
        let fusedKept = thresher_linear_tail(count, spot, stride, assets, weights, 3, constant, threshold, &fusedSums, &fusedSquares, &fusedAbove)
        XCTAssertEqual(fusedKept, kept)
        XCTAssertEqual(fusedSums.map(\.bitPattern), sums.map(\.bitPattern))
        XCTAssertEqual(fusedSquares.map(\.bitPattern), squares.map(\.bitPattern))
        XCTAssertEqual(Array(fusedAbove[0..<kept]).map(\.bitPattern), Array(above[0..<kept]).map(\.bitPattern))
        for b in 0..<blocks {
            let block = losses[(64 * b)..<min(64 * b + 64, count)]
            XCTAssertEqual(sums[b], block.reduce(0, +), accuracy: 1e-12 * block.map(abs).reduce(0, +))
            XCTAssertEqual(squares[b], block.map { $0 * $0 }.reduce(0, +), accuracy: 1e-12 * block.map { $0 * $0 }.reduce(0, +))
        }
    }

    /// Calibrate's pass B under a 1 MiB limit goes in several groups of accounts (on multiples of
    /// 64) and gives the thresholds of one group, bit for bit, at any thread count and chunk size.
    func testCalibrationAccountGroupsAreBitIdenticalToOneGroup() throws {
        let scenario = try loadScenario(Self.mixedBook(accounts: 300, paths: 4_096) + Self.calibrationSections)
        let calibrator = try Calibrator(scenario: scenario)
        let all = [0..<4_096]
        XCTAssertEqual(calibrator.passes(ranges: all, threads: 2, memoryLimit: .max), 3)
        XCTAssertGreaterThanOrEqual(calibrator.passes(ranges: all, threads: 2, memoryLimit: 1 << 20), 5, "pass B in groups of 64 accounts")
        func fingerprint(_ result: CalibrationResult) -> [UInt64] {
            let penalty = result.penalty, fund = result.insuranceFund
            return [penalty.rate, penalty.expectedIncome, penalty.expectedDeficit, penalty.expectedIncomeStandardError,
                    penalty.expectedDeficitStandardError, fund.valueAtRisk, fund.expectedShortfall, fund.adlProbability ?? -1].map(\.bitPattern)
                + result.accounts.flatMap { [$0.liquidationProbability, $0.expectedDeficit, $0.warn, $0.reduceOnly, $0.liquidate].map(\.bitPattern) }
        }
        let whole = try calibrator.run(settings: RunSettings(threads: 2), memoryLimit: .max)
        XCTAssertEqual(whole.accounts.count, 300)
        for settings in [RunSettings(threads: 2), RunSettings(threads: 1, chunkSize: 192), RunSettings(threads: 3, chunkSize: 4096)] {
            let grouped = try calibrator.run(settings: settings, memoryLimit: 1 << 20)
            XCTAssertEqual(fingerprint(grouped), fingerprint(whole), "threads \(settings.threads), chunk \(settings.chunkSize)")
        }
    }
}

/// `thresher run --memory-limit`: the same report in groups of accounts, bad sizes are usage errors.
final class MemoryLimitCommandLineTests: BinaryTestCase {
    func testMemoryLimitGivesTheSameReport() throws {
        let file = temporaryFile(ExchangeScaleTests.mixedBook(accounts: 200, paths: 8_192))
        func report(_ extra: [String]) throws -> [String: Any] {
            let json = temporaryFile("", extension: "json")
            let result = try run(["run", file, "--quiet", "--json", json] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
            for key in ["elapsed_seconds", "paths_per_second", "thresher"] { object[key] = nil }
            return object
        }
        let whole = try report([]), grouped = try report(["--memory-limit", "1M"])
        XCTAssertEqual((whole["accounts"] as! [Any]).count, 200)
        try assertSameReport(whole, grouped, "a run in groups of 64 accounts reports the same numbers")
        for bad in ["0", "12", "lots", "-1G", "1.5"] {
            let result = try run(["run", file, "--quiet", "--memory-limit", bad])
            XCTAssertEqual(result.status, 64, bad)
            XCTAssertTrue(result.stderr.contains("--memory-limit"), result.stderr)
        }
    }

    /// `calibrate` (with sections) and `evaluate` under a 1 MiB limit — calibrate's pass B in groups
    /// of 64 accounts — and with chunks of 4,096 paths (blocks of 64 accounts within each chunk)
    /// report what they report in one group, bit for bit.
    func testCalibrateAndEvaluateUnderAMemoryLimit() throws {
        let file = temporaryFile(ExchangeScaleTests.mixedBook(accounts: 300, paths: 8_192) + ExchangeScaleTests.calibrationSections)
        func report(_ command: String, _ extra: [String]) throws -> [String: Any] {
            let json = temporaryFile("", extension: "json")
            let result = try run([command, file, "--quiet", "--json", json] + extra)
            XCTAssertEqual(result.status, 0, result.stderr)
            var object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
            for key in ["elapsed_seconds", "paths_per_second", "thresher", "threads"] { object[key] = nil }
            return object
        }
        for command in ["calibrate", "evaluate"] {
            let whole = try report(command, ["--memory-limit", "1G"])
            XCTAssertEqual((whole["accounts"] as! [Any]).count, 300, command)
            for extra in [["--memory-limit", "1M"], ["--memory-limit", "1M", "--chunk-size", "4096", "--threads", "3"]] {
                try assertSameReport(whole, try report(command, extra), "\(command) \(extra)")
            }
        }
    }

    private func assertSameReport(_ whole: [String: Any], _ other: [String: Any], _ message: String) throws {
        XCTAssertEqual(Set(whole.keys), Set(other.keys), message)
        for key in whole.keys.sorted() {
            let a = try JSONSerialization.data(withJSONObject: whole[key]!, options: [.sortedKeys, .fragmentsAllowed])
            let b = try JSONSerialization.data(withJSONObject: other[key] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
            XCTAssertEqual(a, b, "\(key): \(message)")
        }
    }
}

extension ExchangeScaleTests {
    /// `calibration:` and `policy:` for `mixedBook`: depth for its six assets, a two-tier ladder.
    static let calibrationSections = """
        calibration:
          breach_probability: 0.01
          liquidation: {horizon_hours: 4, depth: {BTC: 50000000, ETH: 20000000, SOL: 8000000, BNB: 5000000, XRP: 6000000, DOGE: 4000000}, impact: 0.5}
          tiers: [100000, 1000000]
          penalty: {coverage: 1.0, max_rate: 0.05}
          insurance_fund: {confidence: 0.99, balance: 100000}
        policy:
          ladder:
            "*":
              - {up_to: 100000, maintenance: 0.02, initial: 0.04}
              - {up_to: 1000000, maintenance: 0.05, initial: 0.1}
          liquidation_penalty: 0.01
          insurance_fund: 100000

        """
}
