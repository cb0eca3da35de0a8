import Foundation

/// `type: future` — a dated future on `quantity` coins (signed) expiring in `expiry_days`, marked at
/// F = S·e^{rT}. Worth zero now; P&L q·(S'·e^{r·max(T−h,0)} − S·e^{rT}).
public struct DatedFuture: Instrument {
    public static let typeName = "future"
    public static let fields = ["quantity", "expiry_days"]
    public let asset: String
    public let quantity: Double
    /// Days to expiry from now (≥ 0).
    public let expiryDays: Double

    public init(asset: String, quantity: Double, expiryDays: Double) {
        self.asset = asset
        self.quantity = quantity
        self.expiryDays = expiryDays
    }

    public init(asset: String, fields: InstrumentFields) throws {
        self.init(asset: asset, quantity: try fields.number("quantity"), expiryDays: try fields.days("expiry_days", allowZero: true))
    }

    public func pricing(in context: PricingContext) -> [PricingComponent] {
        let t = expiryDays / 365, r = context.rate
        return [.linear(weight: quantity * exp(r * max(t - context.horizonYears, 0)),
                        constant: -(quantity * context.spot * exp(r * t)), valueNow: 0)]
    }

    public var margin: MarginExposure { .coins(quantity) }
}
