@testable import Calibration
import Foundation
import MonteCarlo
import Revaluation
import ScenarioSpec
import Shocks
import TailStats
import XCTest

/// BTC with `smile` (SVI, a grid by moneyness or by strike) under `dynamics`, ETH flat; on BTC a
/// perp, two options reading the smile, one with its own iv and one that expires inside the
/// 2-day horizon; on ETH a perp and a short call.
func riskArrayScenario(smile: String, dynamics: String, paths: Int = 2_000, accounts: Int = 1) -> String {
    let positions = """
            - {type: perp, asset: BTC, quantity: 2}
            - {type: option, asset: BTC, right: put, strike: 45000, expiry_days: 30, quantity: -5}
            - {type: option, asset: BTC, right: call, strike: 56000, expiry_days: 10, quantity: 3}
            - {type: option, asset: BTC, right: call, strike: 50000, expiry_days: 90, quantity: -1, iv: 0.55}
            - {type: option, asset: BTC, right: put, strike: 52000, expiry_days: 1, quantity: 2}
            - {type: perp, asset: ETH, quantity: -10}
            - {type: option, asset: ETH, right: call, strike: 3200, expiry_days: 20, quantity: -15, iv: 0.7}
    """
    var text = scenarioText(paths: paths, horizonDays: 2, assets: "    - {id: BTC, spot: 50000, vol: 0.8}\n    - {id: ETH, spot: 3000, vol: 0.9}",
                            correlation: "{uniform: 0.6}", tails: "{model: student-t, dof: 4}",
                            volShocks: "{vol_of_vol: 1.0, spot_correlation: -0.5}", collateral: "{USD: 60000}", positions: positions)
    text = text.replacingOccurrences(of: "  tails:", with: "  smiles:\n    BTC: {dynamics: \(dynamics), \(smile)}\n  tails:")
    if accounts > 1 {
        // More accounts: the same book at other collaterals.
        let book = text.components(separatedBy: "    - id: acct\n")[1].components(separatedBy: "risk:")[0]
        let more = (1..<accounts).map { "    - id: acct\($0)\n" + book.replacingOccurrences(of: "{USD: 60000}", with: "{USD: \(60000 + 15000 * $0)}") }
        text = text.replacingOccurrences(of: "risk:", with: more.joined() + "risk:")
    }
    return text + """

    calibration:
      breach_probability: 0.01
      liquidation: {horizon_hours: 4, depth: {BTC: 50000000, ETH: 20000000}, impact: 0.5}
      tiers: [1000000]
    policy:
      ladder:
        "*":
          - {up_to: 1000000, maintenance: 0.05, initial: 0.1}
      portfolio_margin: {spot_range: {BTC: 0.2, ETH: 0.25}, spot_steps: 5, vol_shift: {up: 0.4, down: 0.25}, dte_power: 0.5, extended: [{spot: 1.0, vol: up, weight: 0.3}, {spot: -0.2, vol: up, weight: 0.5}, {spot: -0.6, weight: 0.4}], minimum: {net_delta: 0.05, short_option: 0.01}, maintenance_fraction: 0.5}
    """
}

/// The smiles of `riskArrayScenario`: an SVI surface and the same grid by moneyness and by strike (BTC at 50,000, r = 0).
let riskArraySmiles = [
    ("SVI", "svi: [{expiry_days: 30, a: 0.02, b: 0.15, rho: -0.4, m: 0.02, sigma: 0.2}, {expiry_days: 90, a: 0.06, b: 0.2, rho: -0.35, m: 0.03, sigma: 0.25}]"),
    ("grid by moneyness", "grid: {expiry_days: [30, 90], moneyness: [0.8, 1, 1.25], vols: [[0.7, 0.5, 0.6], [0.66, 0.52, 0.58]]}"),
    ("grid by strike", "grid: {expiry_days: [30, 90], strikes: [40000, 50000, 62500], vols: [[0.7, 0.5, 0.6], [0.66, 0.52, 0.58]]}"),
]

/// The risk array across a chunk's paths by the vector kernels (`RiskArray.maintenance(account:around:count:rows:into:)`,
/// `PortfolioMarginPricer`) against the scalar reference (`RiskArray.charge`, `OptionLeg.value`), and the
/// array's waterfall and pass with options and smiles at other thread counts and chunk sizes.
final class RiskArrayVectorTests: XCTestCase {
    func scenario(smile: String, dynamics: String, paths: Int = 2_000, accounts: Int = 1) -> String {
        riskArrayScenario(smile: smile, dynamics: dynamics, paths: paths, accounts: accounts)
    }

    let smiles = riskArraySmiles

    /// On 45 paths (a partial vector at the end) of spots from −45 % to +60 % and vol factors 0.6 … 1.6
    /// set by hand, the vectorised MM_a of every path equals the scalar `maintenance(account:around:)`
    /// (`charge` per asset, `OptionLeg.value` per point) at that path's market to 1e-12 relative, for an
    /// SVI smile and grids by moneyness and by strike under both dynamics (grid points, vol rows, an
    /// extended move on a grid move, an option expired at the horizon, the minimums).
    func testVectorisedArrayIsTheScalarCharge() throws {
        let m = 45, capacity = 64
        for (name, smile) in smiles {
            for dynamics in ["sticky-strike", "sticky-moneyness"] {
                let loaded = try loadScenario(scenario(smile: smile, dynamics: dynamics))
                let array = RiskArray(spec: loaded.policy!.portfolioMargin!, scenario: loaded)
                let state = ShockBuffers(assetCount: 2, capacity: capacity)
                var markets: [[(spot: Double, factor: Double)]] = []
                for j in 0..<m {
                    let x = Double(j) / Double(m - 1)
                    let btc = (spot: 50000 * (0.55 + 1.05 * x), factor: 0.6 + (Double(j * 7 % m) / Double(m - 1)))
                    let eth = (spot: 3000 * (1.4 - 0.7 * x), factor: 1.6 - x)
                    markets.append([btc, eth])
                    state.setDeterministicState(column: j, spots: [btc.spot, eth.spot], volFactors: [btc.factor, eth.factor])
                }
                let rows = RiskArrayRows(capacity: capacity)
                let required = UnsafeMutablePointer<Double>.allocate(capacity: capacity)
                defer { required.deallocate() }
                array.maintenance(account: 0, around: state, count: m, rows: rows, into: required)
                var largest = 0.0
                for j in 0..<m {
                    let scalar = array.maintenance(account: 0) { RiskArray.AssetMarket(spot: markets[j][$0].spot, volFactor: markets[j][$0].factor, yearsAfterHorizon: 0) }
                    XCTAssertGreaterThan(scalar, 0)
                    XCTAssertEqual(required[j], scalar, accuracy: 1e-12 * scalar, "\(name) \(dynamics) path \(j)")
                    largest = max(largest, abs(required[j] - scalar) / scalar)
                }
                print("vectorised risk array against scalar charge, \(name), \(dynamics): largest relative difference \(largest)")
            }
        }
    }

    /// The portfolio-margin pass's kernel (`PortfolioMarginPricer`) on 45 paths of ε set by hand: each
    /// pair's loss over the liquidation period equals the scalar slippage − (w·ΔS + Σ q·(V(S'', iv(S''),
    /// τ − h_ab) − V₀)) (`OptionLeg.value`) to 1e-12 of the pair's gross option notional, under both
    /// dynamics and every smile.
    func testPortfolioMarginPassIsTheScalarRevaluation() throws {
        let m = 45, capacity = 64
        for (name, smile) in smiles {
            for dynamics in ["sticky-strike", "sticky-moneyness"] {
                let loaded = try loadScenario(scenario(smile: smile, dynamics: dynamics))
                let study = try PortfolioMarginStudy(scenario: loaded)
                let pricer = PortfolioMarginPricer(study: study)
                let workspace = pricer.makeWorkspace(capacity: capacity)
                let state = ShockBuffers(assetCount: 2, capacity: capacity)
                for j in 0..<m {
                    state.setDeterministicState(column: j, spots: [50000, 3000], volFactors: [1, 1])
                    state.epsilon[j] = -12 + 24 * Double(j) / Double(m - 1)
                    state.epsilon[capacity + j] = 9 - 18 * Double(j * 11 % m) / Double(m - 1)
                }
                var totals = PortfolioMarginTotals(accounts: 1, pairs: 2, plan: TailPlan(totalPaths: m, levels: [0.99]), weighted: false)
                pricer.price(state, count: m, workspace: workspace, into: &totals)
                let book = study.array.book
                for (k, b) in study.array.assetsOf[0].enumerated() {
                    let spot = study.array.spots[b], years = study.liquidationYears[0][k], scale = loaded.market.assets[b].vol * years.squareRoot()
                    let legs = book.options(ofAccount: 0).filter { $0.asset == b }
                    let notional = legs.reduce(0) { $0 + abs($1.quantity) * ($1.strike + spot) }
                    for j in 0..<m {
                        let moved = spot * exp(scale * state.epsilon[b * capacity + j])
                        var profit = book.linearWeights[b] * (moved - spot)
                        for leg in legs {
                            profit += leg.quantity * (leg.value(spot: moved, volFactor: 1, years: study.array.yearsNow(leg) - years, rate: book.rate) - leg.valueNow)
                        }
                        XCTAssertEqual(workspace.values[k * capacity + j], study.slippages[0][k] - profit, accuracy: 1e-12 * notional, "\(name) \(dynamics) asset \(b) path \(j)")
                    }
                }
            }
        }
    }

    /// The waterfall under the array and the portfolio-margin pass on a book of options with a smile
    /// (vol shocks on, Student-t tails, three accounts) give the same bits at 1 and 2 threads and
    /// chunks of 64, 192 and 1,024 paths: every figure of `underRiskArray` and every account's
    /// P(breach).
    func testArrayWaterfallWithOptionsIsTheSameBitsAtAnyThreadsAndChunk() throws {
        for (name, smile) in [smiles[0], smiles[2]] {
            let loaded = try loadScenario(scenario(smile: smile, dynamics: "sticky-moneyness", paths: 3_000, accounts: 3))
            let evaluator = try PolicyEvaluator(scenario: loaded, file: "test")
            let study = try PortfolioMarginStudy(scenario: loaded)
            let reference = try XCTUnwrap(evaluator.run(settings: RunSettings(threads: 2)).underRiskArray)
            let referenceStudy = try study.run(settings: RunSettings(threads: 2), ranges: [0..<3_000])[0]
            XCTAssertGreaterThan(reference.expectedLiquidations, 0, "the test should liquidate on some paths")
            for settings in [RunSettings(threads: 1, chunkSize: 64), RunSettings(threads: 2, chunkSize: 192), RunSettings(threads: 1, chunkSize: 1_024)] {
                let other = try XCTUnwrap(evaluator.run(settings: settings).underRiskArray)
                XCTAssertEqual(other.expectedDeficit.bitPattern, reference.expectedDeficit.bitPattern, name)
                XCTAssertEqual(other.expectedIncome.bitPattern, reference.expectedIncome.bitPattern, name)
                XCTAssertEqual(other.fund.valueAtRisk.bitPattern, reference.fund.valueAtRisk.bitPattern, name)
                XCTAssertEqual(other.fund.expectedShortfall.bitPattern, reference.fund.expectedShortfall.bitPattern, name)
                for (a, b) in zip(other.accounts, reference.accounts) {
                    XCTAssertEqual(a.liquidationProbability.bitPattern, b.liquidationProbability.bitPattern, name)
                    XCTAssertEqual(a.expectedDeficit.bitPattern, b.expectedDeficit.bitPattern, name)
                    XCTAssertEqual(a.maintenance.bitPattern, b.maintenance.bitPattern, name)
                }
                let otherStudy = try study.run(settings: settings, ranges: [0..<3_000])[0]
                for (a, b) in zip(otherStudy.accounts, referenceStudy.accounts) {
                    XCTAssertEqual(a.breachProbability.bitPattern, b.breachProbability.bitPattern, name)
                }
                for (a, b) in zip(otherStudy.ranges, referenceStudy.ranges) {
                    XCTAssertEqual(a.calibrated.bitPattern, b.calibrated.bitPattern, name)
                }
            }
        }
    }
}
