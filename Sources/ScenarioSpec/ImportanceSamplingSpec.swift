import Foundation

/// `calibration.importance_sampling` — rare-event sampling of the mixing variable of the Student-t
/// and t-copula tail models (README, "Importance sampling"; Glasserman, Heidelberger & Shahabuddin,
/// "Portfolio value-at-risk with heavy-tailed risk factors", Math. Finance 2002).
///
/// Each path draws its χ²(ν) mixing variable W from a defensive mixture: with probability
/// `plainShare` the model's own law, otherwise W/v (v = `varianceScale`: every shock of the path,
/// inside the horizon and over the liquidation period, is √v times wider). The path then carries the
/// likelihood ratio w = 1 / (p₀ + (1 − p₀)·v^{ν/2}·e^{−(v − 1)·W′/2}) of the W′ it drew, bounded by
/// 1/p₀, and every estimator of `calibrate`, `evaluate` and `robustness` is weighted by it.
///
///     importance_sampling: on                                   # the defaults below
///     importance_sampling: {variance_scale: 16, plain_share: 0.1}
public struct ImportanceSampling: Sendable, Hashable {
    /// v > 1: the widened component's shock variance over the model's.
    public var varianceScale: Double
    /// p₀ in (0, 1): the share of paths drawn from the model's own law (bounds every weight by 1/p₀).
    public var plainShare: Double

    public static let defaultVarianceScale = 16.0
    public static let defaultPlainShare = 0.1

    public init(varianceScale: Double = Self.defaultVarianceScale, plainShare: Double = Self.defaultPlainShare) {
        self.varianceScale = varianceScale
        self.plainShare = plainShare
    }

    /// The likelihood ratio f(W′)/g(W′) of a path whose mixing variable is W′ ~ g, the mixture of
    /// χ²(ν) (share p₀) and χ²(ν)/v: 1 / (p₀ + (1 − p₀)·v^{ν/2}·exp(−(v − 1)·W′/2)).
    @inline(__always) public func weight(mixingVariable w: Double, dof: Double) -> Double {
        let widened: Double = pow(varianceScale, 0.5 * dof) * exp(-0.5 * (varianceScale - 1) * w)
        return 1 / (plainShare + (1 - plainShare) * widened)
    }
}

extension ImportanceSampling {
    /// Parses `calibration.importance_sampling` at `path`: `on`, or a mapping of `variance_scale`
    /// (in (1, 1000]) and `plain_share` (in (0, 1)).
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        self.init()
        if case .scalar = node {
            guard try p.text(node, path) == "on" else { throw p.fail(node, path, "expected a mapping {variance_scale, plain_share} (or 'on' for the defaults)") }
            return
        }
        let r = try FieldReader(node, file: p.file, path: path, known: ["variance_scale", "plain_share"])
        varianceScale = try r.optional("variance_scale") { node, path in
            let value = try p.number(node, path)
            guard value > 1, value <= 1000 else { throw p.fail(node, path, "must be in (1, 1000] (the widened shocks' variance over the model's), got \(value)") }
            return value
        } ?? Self.defaultVarianceScale
        plainShare = try r.optional("plain_share", p.openUnitInterval) ?? Self.defaultPlainShare
    }
}

extension Scenario {
    /// The calibration's importance sampling where it applies: tail models with a mixing variable
    /// (`student-t`, `t-copula`); nil otherwise (a robustness cell under gaussian tails runs plain).
    public var activeImportanceSampling: ImportanceSampling? { market.tails.dof == nil ? nil : calibration?.importanceSampling }
}
