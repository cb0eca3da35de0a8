import Foundation
import ScenarioSpec
import XCTest
@testable import Calibration

/// The waterfall's shortcuts (issue 28, item 5) must change no bit: the requirement rows, with and
/// without the chunk's spot range, against the schedule's tier rule; the eight-at-a-time flag scan
/// against a plain one; and the crossing screen on u's exponent against exp itself.
final class WaterfallScreenTests: XCTestCase {
    /// A fixed linear congruential generator, so that every run tests the same cases.
    struct Draws {
        var state: UInt64
        mutating func uniform() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return (Double(state >> 11) + 0.5) / Double(1 << 53)
        }
    }

    /// 300 accounts of one to three positions on three assets (a four-tier ladder with a short rate of
    /// its own, one tier, three tiers), linear and inverse, sized so that many straddle a bound over
    /// the chunk; 301 paths of spots, one asset with a NaN and an infinite path, one with a row all NaN.
    func testRequirementRowsWithTheSpotRangeMatchTheFullSelectsBitForBit() {
        var draws = Draws(state: 28_005)
        let ladders: [[MarginTier]] = [
            [MarginTier(upTo: 100_000, maintenanceLong: 0.01, maintenanceShort: 0.01),
             MarginTier(upTo: 1_000_000, maintenanceLong: 0.025, maintenanceShort: 0.03),
             MarginTier(upTo: 5_000_000, maintenanceLong: 0.05, maintenanceShort: 0.06),
             MarginTier(upTo: 20_000_000, maintenanceLong: 0.1, maintenanceShort: 0.125)],
            [MarginTier(upTo: 1e12, maintenanceLong: 0.02, maintenanceShort: 0.02)],
            [MarginTier(upTo: 50_000, maintenanceLong: 0.015, maintenanceShort: 0.02),
             MarginTier(upTo: 500_000, maintenanceLong: 0.04, maintenanceShort: 0.05),
             MarginTier(upTo: 2_000_000, maintenanceLong: 0.08, maintenanceShort: 0.09)],
        ]
        let spots = [100.0, 2_000.0, 5.0], assets = spots.count
        var positions: [[MarginedPosition]] = []
        for _ in 0..<300 {
            var account: [MarginedPosition] = []
            for _ in 0..<(1 + Int(draws.uniform() * 3)) {
                let asset = Int(draws.uniform() * Double(assets)), side: Side = draws.uniform() < 0.6 ? .long : .short
                let notional = exp(log(10_000.0) + draws.uniform() * log(5_000.0))   // 10k … 50M USD
                let exposure = draws.uniform() < 0.8 ? MarginExposure(perSpot: notional / spots[asset], fixed: 0, side: side)
                                                    : MarginExposure(perSpot: 0, fixed: notional, side: side)
                account.append(MarginedPosition(asset: asset, exposure: exposure))
            }
            positions.append(account)
        }
        let schedule = MarginSchedule(tiers: ladders), rows = RequirementRows(positions: positions, schedule: schedule)
        let m = 301, stride = 304
        let spot = UnsafeMutablePointer<Double>.allocate(capacity: assets * stride)
        defer { spot.deallocate() }
        for i in 0..<assets {
            for j in 0..<m { spot[i * stride + j] = spots[i] * exp(0.25 * (draws.uniform() - 0.5)) }
        }
        spot[0 * stride + 17] = .nan
        spot[0 * stride + 200] = .infinity
        for j in 0..<m { spot[2 * stride + j] = .nan }
        let lowest = UnsafeMutablePointer<Double>.allocate(capacity: assets), highest = UnsafeMutablePointer<Double>.allocate(capacity: assets)
        defer { lowest.deallocate(); highest.deallocate() }
        for i in 0..<assets { (lowest[i], highest[i]) = RequirementRows.extremes(spot + i * stride, count: m) }
        XCTAssertEqual(lowest[2], .infinity)
        XCTAssertEqual(highest[0], .infinity)

        let full = UnsafeMutablePointer<Double>.allocate(capacity: m), ranged = UnsafeMutablePointer<Double>.allocate(capacity: m)
        let notional = UnsafeMutablePointer<Double>.allocate(capacity: m), rate = UnsafeMutablePointer<Double>.allocate(capacity: m)
        defer { for row in [full, ranged, notional, rate] { row.deallocate() } }
        var straddling = 0
        for a in positions.indices {
            rows.fill(full, account: a, spot: spot, stride: stride, count: m, scratch: (notional, rate))
            rows.fill(ranged, account: a, spot: spot, stride: stride, count: m, scratch: (notional, rate),
                      spotRange: (UnsafePointer(lowest), UnsafePointer(highest)))
            for j in 0..<m {
                XCTAssertEqual(full[j].bitPattern, ranged[j].bitPattern, "account \(a), path \(j)")
                // Against the schedule's own rule (`MarginSchedule.tier`: the first tier with
                // up_to ≥ n, else the last), summed in the same order. A NaN's sign bit follows the
                // machine's operand order, which no report shows: NaNs compare as NaN.
                let reference = positions[a].reduce(0.0) { total, position in
                    let n = position.notional(spot: spot[position.asset * stride + j])
                    return total + n * schedule.tier(asset: position.asset, notional: n).maintenance(position.side)
                }
                XCTAssert(reference.isNaN ? full[j].isNaN : full[j].bitPattern == reference.bitPattern, "account \(a), path \(j)")
            }
        }
        // Both cases occur: positions whose notional crosses a tier bound within the chunk (the
        // selects kept) and positions within one tier (one rate).
        for position in positions.joined() where position.asset == 0 {
            let low = position.notional(spot: lowest[0]), high = position.notional(spot: spots[0] * exp(0.125))
            straddling += ladders[0].contains { low < $0.upTo && $0.upTo < high } ? 1 : 0
        }
        XCTAssertGreaterThan(straddling, 5)
        XCTAssertLessThan(straddling, positions.joined().filter { $0.asset == 0 }.count - 5)
    }

    func testTheFlagScanFindsEverySetFlagInOrder() {
        var draws = Draws(state: 8)
        for density in [0.0, 0.003, 0.1, 0.5, 1.0] {
            let count = 203
            let flags = (0..<count).map { _ in draws.uniform() < density }
            for start in [0, 1, 7, 8, 9, 100, 202, 203] {
                for end in [start, min(count, start + 1), min(count, start + 13), count] where end >= start {
                    var found: [Int] = []
                    flags.withUnsafeBufferPointer { buffer in
                        var j = FlagScan.next(UnsafeRawPointer(buffer.baseAddress!), from: start, to: end)
                        while j < end { found.append(j); j = FlagScan.next(UnsafeRawPointer(buffer.baseAddress!), from: j + 1, to: end) }
                    }
                    XCTAssertEqual(found, (start..<end).filter { flags[$0] }, "density \(density), \(start)..<\(end)")
                }
            }
        }
    }

    /// Wherever the screen says "no breach", u ≥ exp(x) indeed; and it does say so for most u when
    /// exp(x) is small (else it would screen nothing).
    func testTheCrossingScreenNeverRejectsABreach() {
        var draws = Draws(state: 40)
        var rejected = 0
        for k in 0..<200_000 {
            let x = -40 * draws.uniform() * draws.uniform()
            // Uniforms of every binade down to 2⁻⁵², and u at exp(x) itself and one ulp either side.
            let u: Double
            switch k % 4 {
            case 0: u = draws.uniform()
            case 1: u = draws.uniform() * exp2(-52 * draws.uniform())
            case 2: u = exp(x)
            default: u = draws.uniform() < 0.5 ? exp(x).nextUp : exp(x).nextDown
            }
            if !SurplusBridge.mayBreach(uniform: u, exponent: x) {
                rejected += k % 4 == 0 ? 1 : 0
                XCTAssertFalse(u < exp(x), "u \(u), x \(x)")
            }
        }
        XCTAssertTrue(SurplusBridge.mayBreach(uniform: 0, exponent: -39.9))
        XCTAssertTrue(SurplusBridge.mayBreach(uniform: 1.0.nextDown, exponent: 0))
        XCTAssertFalse(SurplusBridge.mayBreach(uniform: 0.5, exponent: -5))
        // Of the 50,000 plain uniforms, where exp(x) is mostly far below u.
        XCTAssertGreaterThan(rejected, 40_000)
    }
}
