/// `type: inverse-perp` — a coin-margined inverse perpetual: `contracts` (signed) of
/// `contract_value` USD each. P&L C·V·(1/S − 1/S') coins = C·V·(S'/S − 1) USD at S': linear in S'.
/// Its margin notional is |C|·V USD whatever the spot.
public struct InversePerpetual: Instrument {
    public static let typeName = "inverse-perp"
    public static let fields = ["contracts", "contract_value"]
    public let asset: String
    public let contracts: Double
    /// USD per contract (> 0).
    public let contractValue: Double

    public init(asset: String, contracts: Double, contractValue: Double) {
        self.asset = asset
        self.contracts = contracts
        self.contractValue = contractValue
    }

    public init(asset: String, fields: InstrumentFields) throws {
        self.init(asset: asset, contracts: try fields.number("contracts"), contractValue: try fields.positive("contract_value"))
    }

    public func pricing(in context: PricingContext) -> [PricingComponent] {
        [.linear(weight: contracts * contractValue / context.spot, constant: -(contracts * contractValue), valueNow: 0)]
    }

    /// P&L C·V·(1/S − 1/S') is paid in coins.
    public var settlesInCoin: Bool { true }

    public var margin: MarginExposure {
        MarginExposure(perSpot: 0, fixed: abs(contracts) * contractValue, side: contracts >= 0 ? .long : .short)
    }
}
