import Foundation

/// `market.smile_factors.<asset>` — Monte Carlo factors that twist the asset's implied vols over the
/// horizon h (years) the way a stress's `skew` and `term` do (`StressScenario.skewMoves`, `termMoves`):
/// on each path, skew = skew_vol·√h·ξ_s and term = term_vol·√h·ξ_t with
///   ξ_s = ρ_s·ε + √(1 − ρ_s²)·ζ_s,  ξ_t = ρ_t·ε + √(1 − ρ_t²)·ζ_t,
/// ε the asset's standardized spot shock and ζ_s, ζ_t independent standard normals (their own Philox
/// stream); every option of the asset then has iv' = max(iv(S') + skew·k' + term·√(30/T_days), 1 %)·f,
/// k' = ln(K/(S'·e^{rT})), T_days = 365·T the days to expiry now and f the `vol_shocks` factor.
public struct SmileFactors: Sendable, Equatable {
    public var asset: String
    /// Annualised volatility of the skew twist, vol per unit of log-moneyness per √year (0: none).
    public var skewVol: Double
    /// ρ_s between the asset's spot shock and its skew twist, in [−1, 1].
    public var skewSpotCorrelation: Double
    /// Annualised volatility of the term-structure move, vol at 30 days to expiry per √year (0: none).
    public var termVol: Double
    /// ρ_t between the asset's spot shock and its term move, in [−1, 1].
    public var termSpotCorrelation: Double
}

extension SmileFactors {
    /// `market.smile_factors`: a mapping from asset id to its factors, assets in file order.
    static func all(node: ConfigNode, path: String, assets: [Asset], _ p: ScalarParsers) throws -> [SmileFactors] {
        try p.mapping(node, path).map { entry in
            let entryPath = "\(path).\(entry.key)"
            guard assets.contains(where: { $0.id == entry.key }) else {
                throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(assets.map(\.id).joined(separator: ", "))")
            }
            let r = try FieldReader(entry.value, file: p.file, path: entryPath,
                                    known: ["skew_vol", "skew_spot_correlation", "term_vol", "term_spot_correlation"])
            func correlation(_ node: ConfigNode, _ path: String) throws -> Double {
                let rho = try p.number(node, path)
                guard (-1...1).contains(rho) else { throw p.fail(node, path, "must be in [−1, 1], got \(rho)") }
                return rho
            }
            let skewVol = try r.optional("skew_vol", p.within(0, Limits.vol, "(annualised)"))
            let termVol = try r.optional("term_vol", p.within(0, Limits.vol, "(annualised)"))
            guard skewVol != nil || termVol != nil else {
                throw p.fail(entry.value, entryPath, "give skew_vol, term_vol or both (the annualised volatilities of the skew twist and of the term-structure move)")
            }
            return SmileFactors(asset: entry.key, skewVol: skewVol ?? 0, skewSpotCorrelation: try r.optional("skew_spot_correlation", correlation) ?? 0,
                                termVol: termVol ?? 0, termSpotCorrelation: try r.optional("term_spot_correlation", correlation) ?? 0)
        }
    }
}
