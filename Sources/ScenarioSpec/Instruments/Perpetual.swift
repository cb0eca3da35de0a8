/// `type: perp` — a linear USD-settled perpetual on `quantity` coins (signed). Marked to market, so
/// worth zero now; P&L q·(S' − S) (funding is not modelled over the horizon).
public struct Perpetual: Instrument {
    public static let typeName = "perp"
    public static let fields = ["quantity"]
    public let asset: String
    public let quantity: Double

    public init(asset: String, quantity: Double) {
        self.asset = asset
        self.quantity = quantity
    }

    public init(asset: String, fields: InstrumentFields) throws {
        self.init(asset: asset, quantity: try fields.number("quantity"))
    }

    public func pricing(in context: PricingContext) -> [PricingComponent] {
        [.linear(weight: quantity, constant: -(quantity * context.spot), valueNow: 0)]
    }

    public var margin: MarginExposure { .coins(quantity) }
}
