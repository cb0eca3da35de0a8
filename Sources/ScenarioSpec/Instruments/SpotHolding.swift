/// `type: spot` — a holding of `quantity` coins (signed). Worth q·S now; P&L q·(S' − S).
public struct SpotHolding: Instrument {
    public static let typeName = "spot"
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
        [.linear(weight: quantity, constant: -(quantity * context.spot), valueNow: quantity * context.spot)]
    }

    public var margin: MarginExposure { .coins(quantity) }
}
