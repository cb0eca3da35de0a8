import Foundation
import LinearAlgebra
import ScenarioSpec

/// The market model of a scenario, compiled once and shared read-only by every worker: the
/// Cholesky factor of the correlation matrix, the tail model's sampler of the standardized shocks ε
/// (`ShockDistribution`: `GaussianShocks`, `StudentTShocks`, `TCopulaShocks`) and the per-asset constants.
///
/// Horizon log-returns are r_i = σ_i √h ε_i (h = horizon_days/365) and S'_i = S_i·e^{r_i}. With vol
/// shocks, ξ_i = ρ ε_i + √(1−ρ²) η_i (η ~ N(0, I) independent) and iv' = iv·exp(vol_of_vol·√h·ξ_i).
/// With smile factors (`SmileFactors`), an asset's skew twist and term move are
/// scale·(ρ ε_i + √(1−ρ²) ζ) with ζ ~ N(0, 1) of their own stream.
public struct MarketModel: Sendable {
    public let assetIDs: [String]
    public var assetCount: Int { assetIDs.count }
    public let seed: UInt64
    /// Annual continuously compounded rate (for repricing).
    public let rate: Double
    /// Lower Cholesky factor of the correlation matrix, n×n row-major.
    public let choleskyFactor: [Double]
    public let tails: TailModel
    /// `tails.cap`: ε is clamped to [−cap, cap] after it is drawn; nil: no cap.
    public let shockCap: Double?
    /// The tail model's sampler of ε (`ShockDistribution`).
    public let shockDistribution: any ShockDistribution
    /// Spot prices now, USD.
    public let spots: [Double]
    public let logSpots: [Double]
    /// σ_i·√h: the scale of asset i's horizon log-return.
    public let returnScales: [Double]
    /// Lognormal implied-vol shock, if the scenario has one.
    public let volShock: VolShockModel?
    /// Per asset (market order), its skew and term factors (`market.smile_factors`); nil: none. Empty
    /// when no asset has any.
    public let smileFactors: [SmileFactorModel?]
    /// Importance sampling of the mixing variable (`CalibrationSpec.importanceSampling`): each
    /// chunk's `ShockBuffers.importanceWeights` then hold the paths' likelihood ratios. nil: plain
    /// draws (always for tail models without a mixing variable).
    public let importance: ImportanceSampling?

    public struct VolShockModel: Sendable {
        /// vol_of_vol·√h.
        public let scale: Double
        public let spotCorrelation: Double
        /// √(1 − ρ²).
        public let independentWeight: Double

        /// The factor of annualised volatility `volOfVol` over `horizonYears` h: scale = volOfVol·√h.
        init(volOfVol: Double, spotCorrelation: Double, horizonYears: Double) {
            scale = volOfVol * horizonYears.squareRoot()
            self.spotCorrelation = spotCorrelation
            independentWeight = (1 - spotCorrelation * spotCorrelation).squareRoot()
        }
    }

    /// One asset's skew and term factors over the horizon: skew = skew.scale·ξ_s, term = term.scale·ξ_t.
    public struct SmileFactorModel: Sendable {
        public let skew: VolShockModel
        public let term: VolShockModel
    }

    /// Compiles the scenario's market; `horizonDays` overrides the simulation horizon (the
    /// liquidation step of the calibration uses its own horizon); `importance` draws the mixing
    /// variable by importance sampling where the tail model has one.
    public init(scenario: Scenario, horizonDays: Double? = nil, importance: ImportanceSampling? = nil) throws {
        let market = scenario.market
        let horizonYears = (horizonDays ?? scenario.simulation.horizonDays) / 365
        assetIDs = market.assets.map(\.id)
        seed = scenario.simulation.seed
        rate = market.rate
        choleskyFactor = try Matrix(rowArrays: market.correlation).choleskyLower().elements
        tails = market.tails
        shockCap = market.shockCap
        spots = market.assets.map(\.spot)
        logSpots = spots.map { log($0) }
        returnScales = market.assets.map { $0.vol * horizonYears.squareRoot() }
        volShock = market.volShocks.map { VolShockModel(volOfVol: $0.volOfVol, spotCorrelation: $0.spotCorrelation, horizonYears: horizonYears) }
        smileFactors = market.smileFactors.isEmpty ? [] : market.assets.map { asset in
            market.smileFactors.first { $0.asset == asset.id }.map {
                SmileFactorModel(skew: VolShockModel(volOfVol: $0.skewVol, spotCorrelation: $0.skewSpotCorrelation, horizonYears: horizonYears),
                                 term: VolShockModel(volOfVol: $0.termVol, spotCorrelation: $0.termSpotCorrelation, horizonYears: horizonYears))
            }
        }
        self.importance = market.tails.dof == nil ? nil : importance
        shockDistribution = try makeShockDistribution(tails: tails, market: market, seed: seed, choleskyFactor: choleskyFactor,
                                                  horizonDays: horizonDays ?? scenario.simulation.horizonDays, importance: self.importance)
    }
}
