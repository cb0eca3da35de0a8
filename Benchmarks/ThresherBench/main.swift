// thresher-bench: per-stage timings and the dgemm baseline of Benchmarks/README.md.
//
//   thresher-bench stages FILE [--paths N] [--chunk C]   shock generation, pricing and aggregation
//                                                         timed separately, single-threaded, in ns per
//                                                         path-asset and per path-position
//   thresher-bench dgemm FILE [--paths N] [--threads T]  cblas_dgemm alone on the shapes `run` uses for
//                                                         the book's linear part (accounts × assets ×
//                                                         paths, in the same account blocks and chunks)
import Dispatch
import Foundation
import LinearAlgebra
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import WorkerPool

ensureSingleThreadedBLASEnvironment()

func seconds(_ start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

func option(_ name: String, in arguments: [String]) -> Int? {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
    return Int(arguments[i + 1])
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let scenarioFile = arguments.dropFirst(2).first else {
    print("usage: thresher-bench stages|dgemm FILE [--paths N] [--chunk C] [--threads T]")
    exit(64)
}
var scenario = try Scenario.load(path: scenarioFile)
if let paths = option("--paths", in: arguments) { scenario.simulation.paths = paths }
let paths = scenario.simulation.paths
let chunk = option("--chunk", in: arguments) ?? ChunkPlan.defaultChunkSize
useSingleThreadedBLAS()

switch arguments[1] {
case "stages":
    let model = try MarketModel(scenario: scenario)
    let book = Book(scenario: scenario)
    let shocks = ShockBuffers(assetCount: model.assetCount, capacity: chunk)
    let revaluer = Revaluer(book: book, capacity: chunk)
    var accounts = Array(repeating: TailAccumulator(plan: TailPlan(totalPaths: paths, levels: scenario.risk.confidence.map(\.value))),
                         count: book.accountCount + 1)
    var shockTime = 0.0, pricingTime = 0.0, aggregationTime = 0.0
    var first = 0
    while first < paths {
        let count = min(chunk, paths - first)
        var start = DispatchTime.now()
        model.generate(firstPath: first, count: count, into: shocks)
        shockTime += seconds(start)
        start = DispatchTime.now()
        revaluer.revalue(shocks)
        pricingTime += seconds(start)
        start = DispatchTime.now()
        for a in 0..<book.accountCount { accounts[a].add(revaluer.lossRow(account: a), count: count) }
        accounts[book.accountCount].add(revaluer.bookLosses, count: count)
        aggregationTime += seconds(start)
        first += count
    }
    let positions = scenario.portfolio.accounts.reduce(0) { $0 + $1.positions.count }
    let n = Double(paths)
    print("""
    \(scenario.name): \(paths) paths, \(model.assetCount) assets, \(positions) positions (\(book.options.count) options), \(book.accountCount) accounts, chunk \(chunk), 1 thread
      shock generation  \(String(format: "%7.3f", shockTime)) s  \(String(format: "%6.2f", shockTime / (n * Double(model.assetCount)) * 1e9)) ns per path-asset
      pricing           \(String(format: "%7.3f", pricingTime)) s  \(String(format: "%6.2f", pricingTime / (n * Double(max(positions, 1))) * 1e9)) ns per path-position
      aggregation       \(String(format: "%7.3f", aggregationTime)) s  \(String(format: "%6.2f", aggregationTime / (n * Double(book.accountCount + 1)) * 1e9)) ns per path-account
    """)
case "dgemm":
    let threads = option("--threads", in: arguments) ?? defaultThreadCount
    let book = Book(scenario: scenario)
    let n = book.assetCount, accounts = book.accountCount
    let block = max(8, 32_768 / chunk)
    let plan = try ChunkPlan(totalPaths: paths, chunkSize: chunk)
    let start = DispatchTime.now()
    _ = try runChunks(plan: plan, threads: threads, makeWorkspace: { DgemmBuffers(assets: n, block: block, chunk: chunk) },
                      makePartial: { () }, process: { range, buffers, _ in
        book.linearWeights.withUnsafeBufferPointer { w in
            for first in stride(from: 0, to: accounts, by: block) {
                let rows = min(block, accounts - first)
                multiplyAccumulate(w.baseAddress! + first * n, rows: rows, inner: n, buffers.spots, columns: range.count, ldb: chunk,
                                   into: buffers.out, ldc: chunk, alpha: -1)
            }
        }
    })
    let elapsed = seconds(start)
    let flops = 2.0 * Double(accounts) * Double(n) * Double(paths)
    print("\(scenario.name): cblas_dgemm alone, \(accounts) accounts × \(n) assets × \(paths) paths in blocks of \(block) accounts × \(chunk) paths, \(threads) threads: \(String(format: "%.3f", elapsed)) s (\(String(format: "%.1f", flops / elapsed / 1e9)) GFLOP/s)")
default:
    print("unknown mode \(arguments[1]); use stages or dgemm")
    exit(64)
}

/// One worker's operands of the dgemm baseline: shocked spots (all ones) and a block of losses.
final class DgemmBuffers {
    let spots: UnsafeMutablePointer<Double>
    let out: UnsafeMutablePointer<Double>
    init(assets n: Int, block: Int, chunk: Int) {
        spots = .allocate(capacity: n * chunk)
        spots.initialize(repeating: 1, count: n * chunk)
        out = .allocate(capacity: block * chunk)
        out.initialize(repeating: 0, count: block * chunk)
    }
    deinit {
        spots.deallocate()
        out.deallocate()
    }
}
