/// Every instrument a scenario may hold, by its `type:` name. A new instrument is one file with a
/// type conforming to `Instrument` and one line here.
public enum InstrumentRegistry {
    public static let all: [any Instrument.Type] = [
        SpotHolding.self,
        Perpetual.self,
        DatedFuture.self,
        InversePerpetual.self,
        EuropeanOption.self,
    ]

    /// The instrument type named `typeName`, if any.
    public static func instrument(named typeName: String) -> (any Instrument.Type)? {
        all.first { $0.typeName == typeName }
    }

    static var typeNames: [String] { all.map { $0.typeName } }
    /// Every field any position type has (for the first, type-independent check of a position).
    static let allFields: [String] = ["type", "asset"] + Set(all.flatMap { $0.fields }).sorted()
}
