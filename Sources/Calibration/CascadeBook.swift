import Foundation
import ScenarioSpec

/// The book as the cascade's checks read it (`CascadePath`): one contiguous record per account, so
/// that a check of an account scattered in the book (the queues' due accounts) reads one or two
/// cache lines instead of a line of each of a dozen per-account arrays. Record of account a, 8-byte
/// words from `recordStart[a]`:
/// - word 0: W (its non-zero linear weights) | P (its positions) << 32;
/// - word 1: Q (its queues) | R (both directions of its assets) << 32 | 1 << 63 when it holds options
///   (those are checked by repricing);
/// - word 2: E₀ + c_a, the equity at zero spots of the linear part (`Book.linearConstants`);
/// - W pairs: w_ab (bits of the Double), b;
/// - P triples: perSpot_q, fixed_q (`RequirementRows`), and asset | first tier << 21 | end tier << 42
///   (its asset's and side's tier table, `upTo`/`rate`);
/// - Q then R queue numbers, two per word (UInt32): the directions that can lower the surplus, as
///   queues 2·asset (the asset falling) and 2·asset + 1 (rising) — falls where it is long the asset
///   (a long position or a positive linear weight), rises where it is short, both for an asset it
///   holds either way — then both directions of every asset it depends on (a tier step can lower the
///   surplus either way).
struct CascadeBook: Sendable {
    let recordStart: [Int]
    let words: [UInt64]
    /// The tier tables of `RequirementRows`: bounds and rates.
    let upTo: [Double]
    let rate: [Double]

    init(waterfall w: Waterfall, assetsOf: [[Int]]) {
        let book = w.book, n = book.assetCount, rows = w.requirementRows
        precondition(2 * n < 1 << 21 && rows.upTo.count < 1 << 21, "a cascade book packs asset and tier indices in 21 bits")
        var start: [Int] = [], words: [UInt64] = []
        start.reserveCapacity(book.accountCount + 1)
        for a in 0..<book.accountCount {
            var weights: [(Double, Int)] = [], queues: [UInt32] = [], all: [UInt32] = []
            for b in assetsOf[a] {
                let weight = book.linearWeights[a * n + b], positions = w.positions[a].filter { $0.asset == b }
                if weight != 0 { weights.append((weight, b)) }
                if weight > 0 || positions.contains(where: { $0.side == .long }) { queues.append(UInt32(2 * b)) }
                if weight < 0 || positions.contains(where: { $0.side == .short }) { queues.append(UInt32(2 * b + 1)) }
                all += [UInt32(2 * b), UInt32(2 * b + 1)]
            }
            let positions = rows.positionStart[a]..<rows.positionStart[a + 1]
            let hasOptions: UInt64 = book.options(ofAccount: a).isEmpty ? 0 : 1 << 63
            start.append(words.count)
            words.append(UInt64(weights.count) | UInt64(positions.count) << 32)
            words.append(UInt64(queues.count) | UInt64(all.count) << 32 | hasOptions)
            words.append((book.equityNow[a] + book.linearConstants[a]).bitPattern)
            for (weight, b) in weights { words += [weight.bitPattern, UInt64(b)] }
            for q in positions {
                words += [rows.perSpot[q].bitPattern, rows.fixed[q].bitPattern,
                          UInt64(rows.asset[q]) | UInt64(rows.tierStart[q]) << 21 | UInt64(rows.tierEnd[q]) << 42]
            }
            let listed = queues + all
            for k in stride(from: 0, to: listed.count, by: 2) {
                words.append(UInt64(listed[k]) | (k + 1 < listed.count ? UInt64(listed[k + 1]) << 32 : 0))
            }
        }
        start.append(words.count)
        (recordStart, self.words, upTo, rate) = (start, words, rows.upTo, rows.rate)
    }

    /// The records for the duration of `body` (`Records`: pointers into this book).
    func withRecords<R>(_ body: (Records) throws -> R) rethrows -> R {
        try words.withUnsafeBufferPointer { words in
            try recordStart.withUnsafeBufferPointer { start in
                try upTo.withUnsafeBufferPointer { upTo in
                    try rate.withUnsafeBufferPointer { rate in
                        try body(Records(words: words.baseAddress!, start: start.baseAddress!, upTo: upTo.baseAddress!, rate: rate.baseAddress!))
                    }
                }
            }
        }
    }

    /// Whether account a holds options.
    func hasOptions(_ a: Int) -> Bool { withRecords { Records.hasOptions($0.record(a)) } }

    /// `Records.linearSurplus` of account a.
    func linearSurplus(account a: Int, spot: UnsafePointer<Double>, reach: Double) -> (f: Double, d: Double, steps: Double) {
        withRecords { $0.linearSurplus($0.record(a), spot: spot, reach: reach) }
    }

    /// The records of a `CascadeBook`, read through pointers (valid inside `withRecords`).
    struct Records {
        let words: UnsafePointer<UInt64>
        let start: UnsafePointer<Int>
        let upTo: UnsafePointer<Double>
        let rate: UnsafePointer<Double>

        /// Account a's record.
        @inline(__always) func record(_ a: Int) -> UnsafePointer<UInt64> { words + start[a] }

        @inline(__always) static func hasOptions(_ record: UnsafePointer<UInt64>) -> Bool { record[1] >> 63 != 0 }

        /// The record's queues: the directions that can lower its surplus, or (`all`) both
        /// directions of each of its assets.
        @inline(__always) static func queues(_ record: UnsafePointer<UInt64>, all: Bool) -> UnsafeBufferPointer<UInt32> {
            let counts = record[0], listed = record[1]
            let weights = Int(counts & 0xffff_ffff), positions = Int(counts >> 32)
            let lists = UnsafeRawPointer(record + (3 + 2 * weights + 3 * positions)).assumingMemoryBound(to: UInt32.self)
            let q = Int(listed & 0xffff_ffff), r = Int((listed >> 32) & 0x7fff_ffff)
            return all ? UnsafeBufferPointer(start: lists + q, count: r) : UnsafeBufferPointer(start: lists, count: q)
        }

        /// f = E − M and the exposure D = Σ_b |w_ab|·S_b + M of the account of `record`, which holds
        /// no option, at the spots `spot` (USD): E = E₀ + c_a + Σ_b w_ab·S_b, M = Σ_q n_q·r_q(n_q)
        /// (`RequirementRows`); and `steps`, the most M can rise beyond D·reach should the notionals
        /// grow by the factor 1 + `reach` into higher tiers, Σ_q n_q·(1 + reach)·(the highest rate
        /// within reach − r_q). Within moves of the log-prices by at most δ, expm1(δ) ≤ reach, f falls
        /// by at most D·expm1(δ) + steps.
        /// - Complexity: O(positions × tiers + weights).
        @inline(__always) func linearSurplus(_ record: UnsafePointer<UInt64>, spot: UnsafePointer<Double>, reach: Double)
            -> (f: Double, d: Double, steps: Double) {
            let counts = record[0]
            var equity = Double(bitPattern: record[2]), exposure = 0.0, requirement = 0.0, steps = 0.0
            var field = record + 3
            for _ in 0..<Int(counts & 0xffff_ffff) {
                let value = Double(bitPattern: field[0]) * spot[Int(field[1])]
                equity += value
                exposure += abs(value)
                field += 2
            }
            let mask: UInt64 = (1 << 21) - 1
            for _ in 0..<Int(counts >> 32) {
                let packed = field[2], first = Int((packed >> 21) & mask), last = Int(packed >> 42) - 1
                let notional = Double(bitPattern: field[0]) * spot[Int(packed & mask)] + Double(bitPattern: field[1]), grown = notional * (1 + reach)
                field += 3
                guard last >= first else { continue }
                // The bounds increase and n ≤ grown (n ≥ 0, reach ≥ 0; a NaN passes none): past the
                // first bound grown does not pass, neither passes any.
                var rate = self.rate[first], highest = rate
                for t in first..<last {
                    let bound = upTo[t]
                    guard grown > bound else { break }
                    highest = max(highest, self.rate[t + 1])
                    if notional > bound { rate = self.rate[t + 1] }
                }
                requirement += notional * rate
                steps += grown * (highest - rate)
            }
            return (equity - requirement, exposure + requirement, steps)
        }
    }
}
