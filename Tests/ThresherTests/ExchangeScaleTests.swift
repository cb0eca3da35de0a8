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
        for key in whole.keys.sorted() {
            let a = try JSONSerialization.data(withJSONObject: whole[key]!, options: [.sortedKeys, .fragmentsAllowed])
            let b = try JSONSerialization.data(withJSONObject: grouped[key] ?? NSNull(), options: [.sortedKeys, .fragmentsAllowed])
            XCTAssertEqual(a, b, "\(key): a run in groups of 64 accounts reports the same numbers")
        }
        for bad in ["0", "12", "lots", "-1G", "1.5"] {
            let result = try run(["run", file, "--quiet", "--memory-limit", bad])
            XCTAssertEqual(result.status, 64, bad)
            XCTAssertTrue(result.stderr.contains("--memory-limit"), result.stderr)
        }
    }
}
