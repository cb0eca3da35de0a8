/// A scenario file, parsed and validated: the market model, the book, and what to report.
/// Field names follow the file format documented in `Scenarios/README.md`.
public struct Scenario: Sendable {
    public var name: String
    public var simulation: Simulation
    public var market: Market
    public var portfolio: Portfolio
    public var risk: Risk
    /// Inputs of `thresher calibrate`, if the file has a `calibration:` section.
    public var calibration: CalibrationSpec?
    /// The margin policy the venue runs, if the file has a `policy:` section.
    public var policy: MarginPolicy?
    /// What `thresher robustness` varies, if the file has a `robustness:` section.
    public var robustness: RobustnessSpec?
    /// Deterministic stresses: the inline `stress:` list, then each `stress_library` in order.
    public var stresses: [StressScenario]
    /// Fingerprint (FNV-1a) of the files the scenario was loaded from, 0 when built in code
    /// (`Scenario.load`).
    public var sourceDigest: UInt64 = 0
}

/// `simulation:` — how many paths, which seed, which horizon.
public struct Simulation: Sendable {
    /// Number of Monte Carlo paths N (> 0).
    public var paths: Int
    /// Seed of the Philox streams; the draws of path p depend only on (seed, p).
    public var seed: UInt64
    /// Risk horizon in calendar days (> 0); pricing uses h = horizon_days/365 years.
    public var horizonDays: Double
    public var horizonYears: Double { horizonDays / 365 }
}

/// `market:` — assets, their dependence and their tails.
public struct Market: Sendable, Equatable {
    /// Annual continuously compounded rate used for discounting and forwards.
    public var rate: Double
    public var assets: [Asset]
    /// The validated correlation matrix (repaired if the file asked for `repair: nearest`).
    public var correlation: [[Double]]
    /// Largest entry change made by `repair: nearest`; nil when no repair was asked or needed.
    public var correlationRepairChange: Double?
    public var tails: TailModel
    /// `tails.cap` C: standardized shocks are clamped to [−C, C] (every moment of the loss then
    /// exists); nil: no cap.
    public var shockCap: Double?
    public var volShocks: VolShocks?

    /// `market.stablecoins`: USD-pegged collateral currencies (not simulated; they move only in stresses
    /// and what-ifs that name them).
    public var stablecoins: [Stablecoin] = []

    /// `market.smiles`: the implied-vol smiles of the assets that have one, in file order (empty: every
    /// option is priced at its own flat `iv`).
    public var smiles: [VolSmile] = []

    /// `market.smile_factors`: the Monte Carlo skew and term factors of the assets that have them, in
    /// file order (empty: the Monte Carlo moves no smile's shape).
    public var smileFactors: [SmileFactors] = []

    /// The smile of asset `id`, if the market has one.
    public func smile(of id: String) -> VolSmile? { smiles.first { $0.asset == id } }

    public func assetIndex(_ id: String) -> Int? { assets.firstIndex { $0.id == id } }
    public func stablecoinIndex(_ id: String) -> Int? { stablecoins.firstIndex { $0.id == id } }
}

/// A USD stablecoin held as collateral: its price now (1 at the peg) and the venue's haircut.
/// Collateral of q coins counts q·price·(1 − haircut) USD in equity; a de-peg move m (stress `spot`
/// entry or `--shock USDT=m`) changes the price to price·(1 + m). Constant in the Monte Carlo.
public struct Stablecoin: Sendable, Equatable {
    public var id: String
    /// USD per coin now (default 1).
    public var price: Double
    /// Fraction of the value the venue does not count, in [0, 1).
    public var haircut: Double

    /// The equity value of `amount` coins at `price`, USD.
    public func collateralValue(_ amount: Double, price: Double? = nil) -> Double { amount * (price ?? self.price) * (1 - haircut) }
}

/// One asset: spot in USD and annualised log-return volatility.
public struct Asset: Sendable, Equatable {
    public var id: String
    /// Spot price now, USD (> 0).
    public var spot: Double
    /// Annualised volatility of log returns σ (> 0).
    public var vol: Double
    /// Marginal degrees of freedom under the t-copula (> 2); nil means a normal marginal.
    public var dof: Double?
}

/// `market.vol_shocks` — lognormal implied-vol shocks correlated with the spot shock.
public struct VolShocks: Sendable, Equatable {
    /// Annualised volatility of log implied vol.
    public var volOfVol: Double
    /// ρ between an asset's spot shock ε_i and its vol shock ξ_i, in [−1, 1].
    public var spotCorrelation: Double
}

/// `portfolio:` — the accounts of the book.
public struct Portfolio: Sendable {
    public var accounts: [Account]
}

public struct Account: Sendable {
    public var id: String
    /// Collateral by currency: "USD" or an asset id, amounts ≥ 0 (coins valued at the shocked spot).
    public var collateral: [(currency: String, amount: Double)]
    public var positions: [Position]
}

/// One position of an account: an instrument of `InstrumentRegistry` (quantities are signed:
/// negative is short).
public struct Position: Sendable {
    public let instrument: any Instrument

    public init(_ instrument: any Instrument) { self.instrument = instrument }

    /// The id of the underlying asset.
    public var asset: String { instrument.asset }
    /// The position's `type:` in the file.
    public var typeName: String { type(of: instrument).typeName }
}

/// `risk:` — confidence levels of VaR and ES.
public struct Risk: Sendable {
    public var confidence: [ConfidenceLevel]
}

/// A confidence level α in (0, 1), with its spelling in the file (report keys use it: "0.99").
public struct ConfidenceLevel: Sendable, Equatable {
    public var value: Double
    public var label: String
    public init(value: Double, label: String) {
        self.value = value
        self.label = label
    }
}
