import Foundation
import MonteCarlo
import ScenarioSpec
import TailStats
import XCTest
@testable import Calibration

/// The seams of the architecture hold: a liquidation process is a conformer the calibration runs
/// without edits, the writers give back what their parsers read, and a part file carries the typed
/// request that a merge runs.
final class ArchitectureTests: XCTestCase {
    /// A process that never liquidates: no liquidation, deficit, penalty income or net deficit.
    struct NeverLiquidate: LiquidationProcess {
        var draws: LiquidationDraws { .independentMove }
        func settle(_ waterfall: Waterfall, _ paths: WaterfallPaths, count m: Int, _ buffers: WaterfallBuffers) {
            for a in buffers.accounts {
                let losses = buffers.revaluer.lossRow(account: a), row = buffers.row(account: a)
                for j in 0..<m {
                    buffers.loss[row + j] = losses[j]
                    buffers.finalEquity[row + j] = waterfall.book.equityNow[a] - losses[j]
                    buffers.liquidated[row + j] = false
                    buffers.recovered[row + j] = false
                    buffers.notional[row + j] = 0
                    buffers.breachHours[row + j] = 0
                }
            }
        }
    }

    func defaultScenario(paths: Int) throws -> Scenario {
        var scenario = try Scenario.load(path: "Scenarios/default.yaml")
        scenario.simulation.paths = paths
        return scenario
    }

    /// The waterfall runs any conformer: today's process liquidates on the default book, a process
    /// that never liquidates gives zero counts, deficits and fund, on the same cells.
    func testALiquidationProcessIsAConformer() throws {
        let scenario = try defaultScenario(paths: 20_000)
        let spec = try XCTUnwrap(scenario.calibration), policy = try XCTUnwrap(scenario.policy)
        let paths = 0..<scenario.simulation.paths
        func evaluation(_ process: any LiquidationProcess) throws -> (liquidations: Int, deficit: Double, fundES: Double) {
            let waterfall = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule, process: process)
            let fund = FundPlan(rate: 0.01, balance: nil, plan: TailPlan(totalPaths: paths.count, levels: [0.999]))
            let cell = WaterfallCell(waterfall: waterfall, plan: .evaluation(breaches: [], fund: fund))
            let totals = try WaterfallCells.accumulate(groups: [[0]], paths: [paths], settings: RunSettings(threads: 2), cancellation: nil,
                                                       progress: nil) { _ in cell }[0].evaluation
            return (totals.waterfall.liquidations.reduce(0, +), totals.fund.deficit.value, totals.fund.netDeficit.summary().levels[0].expectedShortfall)
        }
        let today = try evaluation(HorizonLiquidation())
        XCTAssertGreaterThan(today.liquidations, 0, "the default book's policy liquidates on some paths")
        let never = try evaluation(NeverLiquidate())
        XCTAssertEqual(never.liquidations, 0)
        XCTAssertEqual(never.deficit, 0)
        XCTAssertEqual(never.fundES, 0)
    }

    /// `RequirementRows`' per-path sum is `Waterfall.requirement` bit for bit, for every account of
    /// the default book at spots from a tenth to ten times today's (every tier of the ladder).
    func testRequirementRowsSumIsTheWaterfallsRequirement() throws {
        let scenario = try defaultScenario(paths: 1_000)
        let spec = try XCTUnwrap(scenario.calibration), policy = try XCTUnwrap(scenario.policy)
        let waterfall = try Waterfall(scenario: scenario, spec: spec, schedule: policy.schedule)
        for factor in stride(from: 0.1, through: 10, by: 0.0371) {
            let spot = { (i: Int) in waterfall.model.spots[i] * factor * (1 + 0.01 * Double(i)) }
            for a in 0..<waterfall.book.accountCount {
                let rows = waterfall.requirementRows.requirement(account: a, spot: spot), direct = waterfall.requirement(account: a, spot: spot)
                XCTAssertEqual(rows.bitPattern, direct.bitPattern, "account \(a), spot factor \(factor)")
            }
        }
    }

    /// `policy:` written by `MarginPolicy.yaml` loads back to the same doubles (ladder, penalty, fund).
    func testPolicyWriterRoundTrips() throws {
        let scenario = try defaultScenario(paths: 20_000)
        let calibrated = try Calibrator(scenario: scenario).run(settings: RunSettings(threads: 2))
        var withoutPolicy = try String(contentsOfFile: "Scenarios/default.yaml", encoding: .utf8)
        withoutPolicy = String(withoutPolicy[..<withoutPolicy.range(of: "\npolicy:")!.lowerBound])
            + "\n" + String(withoutPolicy[withoutPolicy.range(of: "\nstress:")!.lowerBound...])
        let reloaded = try XCTUnwrap(Scenario.load(path: temporaryFile(withoutPolicy + "\n" + calibrated.policyYAML), overrides: []).policy)
        XCTAssertEqual(reloaded.liquidationPenalty, calibrated.penalty.rate)
        XCTAssertEqual(reloaded.insuranceFund, calibrated.insuranceFund.expectedShortfall)
        for (i, tiers) in calibrated.policy.schedule.tiers.enumerated() where !tiers.isEmpty {
            XCTAssertEqual(reloaded.schedule.tiers[i], tiers, "asset \(i)")
        }
    }

    /// `market:` written by `MarketWriter` loads back: spots, vols and dofs exactly, the correlation
    /// to the 6 decimals written, the tail model.
    func testMarketWriterRoundTrips() throws {
        let assets = [MarketWriter.Asset(id: "BTC", spot: 95123.456789, vol: 0.5512345678901, dof: 3.7),
                      MarketWriter.Asset(id: "ETH", spot: 3401.25, vol: 0.70123, dof: 5.25)]
        let correlation = [[1, 0.8123456789], [0.8123456789, 1]]
        let section = MarketWriter.yaml(comment: "test", assets: assets, correlation: correlation, tails: .tCopula(dof: 4.5))
        let text = "name: w\nsimulation: {paths: 1000, seed: 1, horizon_days: 1}\n" + section + """
            portfolio:
              accounts:
                - {id: a, collateral: {USD: 1000}, positions: [{type: perp, asset: BTC, quantity: 1}]}
            risk: {confidence: [0.99]}
            """
        let market = try loadScenario(text).market
        XCTAssertEqual(market.assets.map(\.spot), assets.map(\.spot))
        XCTAssertEqual(market.assets.map(\.vol), assets.map(\.vol))
        XCTAssertEqual(market.assets.map(\.dof), assets.map(\.dof))
        XCTAssertEqual(market.correlation[0][1], 0.812346, accuracy: 1e-12)
        XCTAssertEqual(market.tails, .tCopula(dof: 4.5))
    }

    /// A part file keeps its typed request byte for byte; a part with another request version is
    /// refused by name.
    func testPartFileCarriesTheRequest() throws {
        var request = RunRequest(command: "calibrate", scenarioPath: "/data/book.yaml")
        request.paths = 20_480
        request.seed = 9
        request.overrides = ["market.assets.BTC.vol=0.6"]
        request.spotShocks = ["BTC=-0.1"]
        request.sections = 4
        let part = PartFile(kind: .part, producer: "test", request: request, digest: 42, seed: 9, paths: 20_480, slice: 1, slices: 3, stage: 0,
                            resumedFrom: 0, payloads: [Data([1, 2, 3])])
        let read = try PartFile.read(part.encoded, file: "p.part")
        XCTAssertEqual(read, part)
        XCTAssertEqual(read.request, request)
        var future = request
        future.version = RunRequest.currentVersion + 1
        let foreign = PartFile(kind: .part, producer: "test", request: future, digest: 42, seed: 9, paths: 20_480, slice: 1, slices: 3, stage: 0,
                               resumedFrom: 0, payloads: [])
        XCTAssertThrowsError(try PartFile.read(foreign.encoded, file: "f.part")) { error in
            XCTAssertTrue("\(error)".contains("f.part") && "\(error)".contains("version"), "\(error)")
        }
    }
}
