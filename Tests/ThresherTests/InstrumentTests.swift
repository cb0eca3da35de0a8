import Foundation
import Revaluation
import ScenarioSpec
import TailStats
import WorkerPool
import XCTest

/// The instrument registry and the pool's chunk alignment, checked against their definitions.
final class InstrumentTests: XCTestCase {
    /// Chunk edges must fall on the tail aggregators' exact-sum blocks, or totals would depend on
    /// the chunk size.
    func testChunkAlignmentIsTheAggregatorBlock() {
        XCTAssertEqual(ChunkPlan.alignment, TailAccumulator.blockSize)
    }

    /// The chunk size without `--chunk-size`: 1,024 paths for books of fewer than 1,024 accounts; for
    /// more, the largest multiple of 1,024 up to 8,192 that leaves every thread 8 chunks, never
    /// below 1,024 — and always a multiple of the aggregators' block.
    func testAutomaticChunkSize() {
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 100_000, threads: 2, accounts: 1_023), 1_024)
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 100_000, threads: 2, accounts: 100_000), 6_144)
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 1_000_000, threads: 2, accounts: 10_000), 8_192)
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 100_000, threads: 16, accounts: 100_000), 1_024)
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 20_000, threads: 2, accounts: 10_000), 1_024)
        XCTAssertEqual(ChunkPlan.automaticChunkSize(paths: 1, threads: 1, accounts: 5_000), 1_024)
        for paths in [1, 5_000, 65_536, 100_000, 10_000_000] {
            for threads in [1, 2, 3, 16] {
                let size = ChunkPlan.automaticChunkSize(paths: paths, threads: threads, accounts: 50_000)
                XCTAssertEqual(size % ChunkPlan.alignment, 0)
                XCTAssertTrue((1_024...8_192).contains(size))
                if size > 1_024 { XCTAssertGreaterThanOrEqual(paths / size, 8 * threads) }
            }
        }
    }

    /// The waterfall commands' default chunk: 1,024, but small enough that every thread has a chunk
    /// when the paths are fewer than threads × 1,024 — a multiple of 64, never below 64.
    func testBalancedChunkSize() {
        XCTAssertEqual(ChunkPlan.balancedChunkSize(paths: 1_000, threads: 2), 512)
        XCTAssertEqual(ChunkPlan.balancedChunkSize(paths: 10_000, threads: 16), 640)
        XCTAssertEqual(ChunkPlan.balancedChunkSize(paths: 4_096, threads: 2), 1_024)
        XCTAssertEqual(ChunkPlan.balancedChunkSize(paths: 1, threads: 8), 64)
        for paths in [1, 63, 1_000, 2_047, 2_048, 50_000] {
            for threads in [1, 2, 3, 16] {
                let size = ChunkPlan.balancedChunkSize(paths: paths, threads: threads)
                XCTAssertEqual(size % ChunkPlan.alignment, 0)
                XCTAssertTrue((64...1_024).contains(size))
                let chunks = (paths + size - 1) / size
                XCTAssertGreaterThanOrEqual(chunks, min(threads, (paths + 63) / 64), "\(paths) paths, \(threads) threads")
            }
        }
    }

    func testRegisteredTypeNamesAreUniqueAndAnUnknownTypeIsNamed() throws {
        let names = InstrumentRegistry.all.map { $0.typeName }
        XCTAssertEqual(Set(names).count, names.count)
        XCTAssertNil(InstrumentRegistry.instrument(named: "swaption"))
        let unknown = scenarioText(positions: "        - {type: swaption, asset: BTC, quantity: 1}")
        assertRejected(unknown, path: "portfolio.accounts[0].positions[0].type", mentioning: "inverse-perp")
    }

    /// The compiled book from pricing components against hand formulas: equity now and the linear
    /// P&L weights (spot q·S in equity; future weight q·e^{r(T−h)}, constant −q·S·e^{rT}; inverse
    /// weight C·V/S, constant −C·V).
    func testBookCompilesEachInstrumentsComponents() throws {
        let positions = """
                - {type: spot, asset: BTC, quantity: 2}
                - {type: future, asset: BTC, quantity: -3, expiry_days: 73}
                - {type: inverse-perp, asset: BTC, contracts: 1000, contract_value: 100}
        """
        let scenario = try loadScenario(scenarioText(horizonDays: 7.3, rate: 0.05, collateral: "{USD: 1000}", positions: positions))
        let book = Book(scenario: scenario)
        let s = 50_000.0, r = 0.05, h = 7.3 / 365, t = 73.0 / 365
        XCTAssertEqual(book.equityNow[0], 1000 + 2 * s, accuracy: 1e-9)
        let weight = 2 + -3 * exp(r * (t - h)) + 1000 * 100 / s
        let constant = -2 * s + 3 * s * exp(r * t) - 1000 * 100
        XCTAssertEqual(book.linearWeights[0], weight, accuracy: 1e-12 * abs(weight))
        XCTAssertEqual(book.linearConstants[0], constant, accuracy: 1e-9 * abs(constant))
        let margins = scenario.portfolio.accounts[0].positions.map(\.instrument.margin)
        XCTAssertEqual(margins.map(\.side), [.long, .short, .long])
        XCTAssertEqual(margins[2].notional(spot: 1), 100_000)
        XCTAssertEqual(margins[1].notional(spot: s), 3 * s)
    }
}
