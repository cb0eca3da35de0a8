import Foundation
import ScenarioSpec

/// The maintenance-margin ladder: for each asset and tier notional n, the rate a venue charges.
///
/// With h_liq(n) = horizon_hours/(24·365)·(1 + n/depth) years, impact I(n) = k·σ·√(1/365)·√(n/depth)
/// and r = σ·√h_liq·ε (ε the asset's standardized shock under the scenario's tail model):
/// MMR_long(n) = q_{1−p}(1 − e^r) + I(n) = 1 − e^{σ√h_liq·ε_p} + I(n),
/// MMR_short(n) = q_{1−p}(e^r − 1) + I(n) = e^{σ√h_liq·ε_{1−p}} − 1 + I(n),
/// where ε_p is the p-quantile of ε (estimated by Monte Carlo). `rate` = max(long, short).
public struct MarginLadder: Sendable {
    public struct Rung: Sendable {
        public let asset: String
        public let tier: Double
        public let long: Double
        public let short: Double
        public var rate: Double { max(long, short) }
        /// Monte Carlo standard error of `rate` (delta method on the quantile's standard error); nil
        /// when the quantile's tail rank is too small to give one.
        public let standardError: Double?
        public let liquidationHours: Double
        /// I(n), the impact part of the rate.
        public let impact: Double
    }

    public let tiers: [Double]
    /// rungs[asset index][tier index]; empty for assets with no market depth (nothing held).
    public let rungs: [[Rung]]

    /// Builds the ladder from the p- and (1−p)-quantiles of each asset's standardized shock.
    /// - Parameters:
    ///   - lowerQuantiles: ε_p per asset (nil where the asset has no depth), with standard error.
    ///   - upperQuantiles: ε_{1−p} per asset, with standard error.
    public init(scenario: Scenario, spec: CalibrationSpec,
                lowerQuantiles: [(value: Double, standardError: Double?)?], upperQuantiles: [(value: Double, standardError: Double?)?]) {
        tiers = spec.tiers
        rungs = scenario.market.assets.enumerated().map { i, asset in
            guard let depth = spec.depth[asset.id], let low = lowerQuantiles[i], let high = upperQuantiles[i] else { return [] }
            let impact = LiquidationCost(spec: spec, vol: asset.vol, depth: depth)
            return spec.tiers.map { tier in
                let scale = asset.vol * impact.horizonYears(notional: tier).squareRoot()
                let i = impact.rate(notional: tier)
                let long = 1 - exp(scale * low.value) + i
                let short = exp(scale * high.value) - 1 + i
                let error = long >= short ? low.standardError.map { scale * exp(scale * low.value) * $0 }
                                          : high.standardError.map { scale * exp(scale * high.value) * $0 }
                return Rung(asset: asset.id, tier: tier, long: long, short: short, standardError: error,
                            liquidationHours: impact.horizonYears(notional: tier) * 24 * 365, impact: i)
            }
        }
    }

    /// The ladder as a margin schedule (maintenance rates only): the one place the tier of a position
    /// is looked up (waterfall, `stress`'s "who fails", `evaluate`).
    public var schedule: MarginSchedule {
        MarginSchedule(tiers: rungs.map { $0.map { MarginTier(upTo: $0.tier, maintenanceLong: $0.long, maintenanceShort: $0.short) } })
    }
}

/// Liquidation time and market impact of closing a position of notional n in one asset.
public struct LiquidationCost: Sendable {
    let baseYears: Double
    let depth: Double
    /// k·σ·√(1/365).
    let impactScale: Double

    public init(spec: CalibrationSpec, vol: Double, depth: Double) {
        baseYears = spec.liquidationHorizonHours / (24 * 365)
        self.depth = depth
        impactScale = spec.impact * vol * (1.0 / 365).squareRoot()
    }

    /// h_liq(n) = horizon_hours/(24·365)·(1 + n/depth), years.
    @inline(__always) public func horizonYears(notional n: Double) -> Double { baseYears * (1 + n / depth) }

    /// I(n) = k·σ·√(1/365)·√(n/depth), a fraction of notional.
    @inline(__always) public func rate(notional n: Double) -> Double { impactScale * (n / depth).squareRoot() }
}
