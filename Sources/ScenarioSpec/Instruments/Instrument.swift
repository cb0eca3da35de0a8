/// A tradable position type of a scenario's book, defined in one place: how it is written in the
/// file, what the revaluation kernels price for it, and how the venue margins it.
///
/// Adding an instrument is one new file with a conforming type plus its line in
/// `InstrumentRegistry.all`; the loader, the book, stresses and the calibration waterfall use only
/// this protocol. Everything an instrument prices is expressed in the kernels' vocabulary
/// (`PricingComponent`): a part linear in the shocked spot (one matrix product per chunk for all
/// accounts), or a European option repriced by Black–Scholes on every path.
public protocol Instrument: Sendable {
    /// The `type:` of the position in the file, e.g. "perp".
    static var typeName: String { get }
    /// Its fields besides `type` and `asset`, e.g. ["quantity"].
    static var fields: [String] { get }
    /// Parses the fields of one position (`asset` already checked to be a market asset).
    init(asset: String, fields: InstrumentFields) throws
    /// The id of the underlying asset.
    var asset: String { get }
    /// What the kernels price over the horizon, in the market `context`.
    func pricing(in context: PricingContext) -> [PricingComponent]
    /// How the venue margins the position: its notional at a spot and the side it loses on.
    var margin: MarginExposure { get }
    /// The same position after an implied-vol move iv ← iv·factor (what-ifs); instruments without
    /// an implied vol return themselves.
    func scalingImpliedVol(by factor: Double) -> Self
    /// True when the contract's P&L is paid in coins of its asset (coin-margined contracts), false
    /// when it is paid in USD; a what-if settles the P&L of a move in this currency.
    var settlesInCoin: Bool { get }
}

extension Instrument {
    public func scalingImpliedVol(by factor: Double) -> Self { self }
    public var settlesInCoin: Bool { false }
}

/// An asset's smile with the spot S and rate r it is read at now: iv(K, T) at k = ln(K/(S·e^{rT})).
public struct SmileQuote: Sendable {
    public let smile: VolSmile
    public let spot: Double
    public let rate: Double

    public func impliedVol(strike: Double, years: Double) -> Double {
        smile.impliedVol(strike: strike, years: years, spot: spot, rate: rate)
    }
}

/// The market an instrument is priced in: its asset's spot now, the rate and the risk horizon.
public struct PricingContext: Sendable {
    /// Spot now, USD.
    public let spot: Double
    /// Annual continuously compounded rate.
    public let rate: Double
    /// Risk horizon h, years.
    public let horizonYears: Double

    public init(spot: Double, rate: Double, horizonYears: Double) {
        self.spot = spot
        self.rate = rate
        self.horizonYears = horizonYears
    }
}

/// One priced part of a position.
public enum PricingComponent: Sendable, Equatable {
    /// P&L over the horizon = weight·S' + constant (USD, S' the shocked spot); `valueNow` is the
    /// part's value in equity now (USD: a spot holding's q·S, zero for a contract marked to market).
    case linear(weight: Double, constant: Double, valueNow: Double)
    /// A European option, P&L = q·(BS(S', iv', T − h) − BS(S, iv, T)); intrinsic once T ≤ h.
    case option(OptionContract)
}

/// A European option on `quantity` coins (signed: negative is short).
public struct OptionContract: Sendable, Equatable {
    public let isCall: Bool
    /// Whether the option's iv is read from its asset's smile (`market.smiles`) and moves with the
    /// smile's dynamics; false: its own flat `iv`, constant under spot moves.
    public let followsSmile: Bool
    /// Strike, USD.
    public let strike: Double
    /// Time to expiry T from now, years.
    public let expiryYears: Double
    public let quantity: Double
    /// Black–Scholes implied volatility, annualised.
    public let impliedVol: Double

    public init(isCall: Bool, strike: Double, expiryYears: Double, quantity: Double, impliedVol: Double, followsSmile: Bool = false) {
        self.isCall = isCall
        self.followsSmile = followsSmile
        self.strike = strike
        self.expiryYears = expiryYears
        self.quantity = quantity
        self.impliedVol = impliedVol
    }
}

/// Which way a position loses: a long loses when the price falls, a short when it rises.
public enum Side: String, Sendable {
    case long, short
}

/// A position as the venue margins it: notional = perSpot·S + fixed (USD) at spot S, and its side.
public struct MarginExposure: Sendable, Equatable {
    /// Notional per unit of spot: |q| for a position on q coins.
    public let perSpot: Double
    /// Notional independent of the spot, USD: |C|·V for inverse contracts.
    public let fixed: Double
    public let side: Side

    public init(perSpot: Double, fixed: Double, side: Side) {
        self.perSpot = perSpot
        self.fixed = fixed
        self.side = side
    }

    /// A position on `quantity` coins (signed): notional |q|·S, long when q ≥ 0.
    public static func coins(_ quantity: Double) -> MarginExposure {
        MarginExposure(perSpot: abs(quantity), fixed: 0, side: quantity >= 0 ? .long : .short)
    }

    @inline(__always) public func notional(spot: Double) -> Double { perSpot * spot + fixed }
}

/// The fields of one position in the file, read with their field paths so that every mistake names
/// the file, the line and the field (`portfolio.accounts[2].positions[0].strike`).
public struct InstrumentFields {
    let reader: FieldReader
    let parsers: ScalarParsers
    /// The smile of the position's asset, with its spot and rate now; nil when it has none.
    public let smile: SmileQuote?

    init(reader: FieldReader, parsers: ScalarParsers, smile: SmileQuote? = nil) {
        self.reader = reader
        self.parsers = parsers
        self.smile = smile
    }

    /// Whether the field is present.
    public func has(_ key: String) -> Bool { reader.node(key) != nil }
    /// An error at field `key` of the position (its line, else the position's).
    public func error(_ key: String, _ message: String) -> ScenarioError { reader.error(key, message, node: reader.node(key)) }

    /// A required number with |x| ≤ 1e15 (quantities, strikes, contract values: finite products).
    public func number(_ key: String) throws -> Double { try reader.required(key, parsers.within(-Limits.amount, Limits.amount)) }
    /// A required number in (0, 1e15].
    public func positive(_ key: String) throws -> Double { try reader.required(key, parsers.within(0, Limits.amount, openLow: true)) }
    /// A required number in [0, 1e15].
    public func nonNegative(_ key: String) throws -> Double { try reader.required(key, parsers.within(0, Limits.amount)) }
    /// A required annualised volatility in (0, 20] (above 5, 500 %, with a warning).
    public func volatility(_ key: String) throws -> Double { try reader.required(key, parsers.volatility) }
    /// A required number of days in (0, 36500] (`allowZero`: [0, 36500]).
    public func days(_ key: String, allowZero: Bool = false) throws -> Double {
        try reader.required(key, parsers.within(0, 10 * Limits.horizonDays, openLow: !allowZero, "days"))
    }
    /// A required word, one of `allowed`.
    public func choice(_ key: String, among allowed: [String]) throws -> String {
        try reader.required(key) { try parsers.oneOf($0, $1, allowed) }
    }
}
