/// `type: option` — a European option on `quantity` coins (signed), Black–Scholes with implied vol
/// `iv`, repriced on every path: P&L q·(BS(S', iv', T−h) − BS(S, iv, T)), intrinsic if T ≤ h.
/// On an asset with a smile (`market.smiles`) `iv` may be left out: the option then takes iv(K, T)
/// from the smile and moves with its dynamics; an explicit `iv` wins over the smile (a quoted option,
/// its iv constant under spot moves).
/// Margined on |q|·S on the side of its delta (a long call or a short put is long).
public struct EuropeanOption: Instrument {
    public enum Right: String, Sendable {
        case call, put
    }

    public static let typeName = "option"
    public static let fields = ["right", "strike", "expiry_days", "quantity", "iv"]
    public let asset: String
    public let right: Right
    /// Strike, USD (> 0).
    public let strike: Double
    /// Days to expiry from now (> 0).
    public let expiryDays: Double
    public let quantity: Double
    /// Implied volatility, annualised (> 0).
    public let impliedVol: Double
    /// Whether `impliedVol` was read from the asset's smile (no `iv` in the file).
    public let followsSmile: Bool

    public init(asset: String, right: Right, strike: Double, expiryDays: Double, quantity: Double, impliedVol: Double, followsSmile: Bool = false) {
        self.followsSmile = followsSmile
        self.asset = asset
        self.right = right
        self.strike = strike
        self.expiryDays = expiryDays
        self.quantity = quantity
        self.impliedVol = impliedVol
    }

    public init(asset: String, fields: InstrumentFields) throws {
        let right = Right(rawValue: try fields.choice("right", among: ["call", "put"]))!
        let strike = try fields.positive("strike"), expiryDays = try fields.days("expiry_days")
        guard let smile = fields.smile, !fields.has("iv") else {
            self.init(asset: asset, right: right, strike: strike, expiryDays: expiryDays, quantity: try fields.number("quantity"),
                      impliedVol: try fields.volatility("iv"))
            return
        }
        let iv = smile.impliedVol(strike: strike, years: expiryDays / 365)
        guard iv <= 20 else {
            throw fields.error("strike", "the smile of \(asset) gives this option an implied vol of \(iv) (over 2,000 %); give it an explicit iv or check market.smiles.\(asset)")
        }
        self.init(asset: asset, right: right, strike: strike, expiryDays: expiryDays, quantity: try fields.number("quantity"),
                  impliedVol: iv, followsSmile: true)
    }

    public func pricing(in context: PricingContext) -> [PricingComponent] {
        [.option(OptionContract(isCall: right == .call, strike: strike, expiryYears: expiryDays / 365, quantity: quantity,
                                impliedVol: impliedVol, followsSmile: followsSmile))]
    }

    public func scalingImpliedVol(by factor: Double) -> EuropeanOption {
        EuropeanOption(asset: asset, right: right, strike: strike, expiryDays: expiryDays, quantity: quantity, impliedVol: impliedVol * factor,
                       followsSmile: followsSmile)
    }

    public var margin: MarginExposure {
        MarginExposure(perSpot: abs(quantity), fixed: 0, side: (quantity >= 0) == (right == .call) ? .long : .short)
    }
}
