import Foundation

/// `calibration.liquidation.cascade` — liquidations that move the market (README, "Cascades"). Its
/// presence turns cascades on; every field has a default:
///
///     cascade:
///       depth: 1                # market depth for the impact of liquidation flow, × liquidation.depth; `infinite`: none
///       depth_curve:            # depth left as the asset falls from today's spot (drawdown → fraction), linear between points
///         - {drawdown: 0%, depth: 1}
///         - {drawdown: 5%, depth: 0.5}
///         - {drawdown: 10%, depth: 0.2}
///         - {drawdown: 15%, depth: 0.1}
///       permanent: 0.67         # share of each impact that stays; the rest decays
///       decay: 1h               # e-folding time of the transient share
///       steps: 24               # instants per horizon at which flows are executed and accounts re-checked
///       adl: queue              # queue | pro-rata | socialized
public struct CascadeSpec: Sendable, Hashable {
    /// How the shortfall the insurance fund cannot pay is taken from winners.
    public enum DeleveragingRule: String, Sendable, Hashable, CaseIterable {
        /// Opposite positions ranked by profit × effective leverage (Binance, Bybit, Hyperliquid),
        /// each taken up to its profit, in rank order.
        case queue
        /// Opposite positions share the shortfall in proportion to their notional, each at most its profit.
        case proRata = "pro-rata"
        /// All accounts in profit share the shortfall in proportion to their profit.
        case socialized
    }

    /// One point of the depth curve: at `drawdown` (1 − S/S₀, ≥ 0) the book holds `fraction` of its depth.
    public struct DepthPoint: Sendable, Hashable {
        public let drawdown: Double
        public let fraction: Double
        public init(drawdown: Double, fraction: Double) {
            self.drawdown = drawdown
            self.fraction = fraction
        }
    }

    /// Multiplier of `liquidation.depth` for the market impact of liquidation flow (> 0; ∞: no impact).
    public var depthMultiplier: Double
    /// Depth left as a function of the asset's drawdown, points with increasing drawdowns from 0.
    public var depthCurve: [DepthPoint]
    /// Share of each impact that is permanent, in [0, 1].
    public var permanentShare: Double
    /// e-folding time of the transient share, hours (> 0).
    public var decayHours: Double
    /// Instants per horizon (≥ 1).
    public var steps: Int
    public var adl: DeleveragingRule

    /// The default curve: 2025-10-10, BTC fell ≈ 14.5 % while depth near mid fell by more than 90 %
    /// (Kaiko), hence 10 % of the depth at a 15 % drawdown; halving by 5 % and a fifth at 10 % are our
    /// interpolation of that day's minutes (bids only at the 4 % and 10 % bands).
    public static let defaultCurve = [DepthPoint(drawdown: 0, fraction: 1), DepthPoint(drawdown: 0.05, fraction: 0.5),
                                      DepthPoint(drawdown: 0.10, fraction: 0.2), DepthPoint(drawdown: 0.15, fraction: 0.1)]
    /// About two thirds of a metaorder's peak impact stays once it is done (Bouchaud, Bonart, Donier &
    /// Gould, "Trades, Quotes and Prices", 2018, ch. 12).
    public static let defaultPermanentShare = 0.67

    public init(depthMultiplier: Double = 1, depthCurve: [DepthPoint] = CascadeSpec.defaultCurve, permanentShare: Double = CascadeSpec.defaultPermanentShare,
                decayHours: Double = 1, steps: Int = 24, adl: DeleveragingRule = .queue) {
        self.depthMultiplier = depthMultiplier
        self.depthCurve = depthCurve
        self.permanentShare = permanentShare
        self.decayHours = decayHours
        self.steps = steps
        self.adl = adl
    }

    /// f(d): the depth left at drawdown d, linear between the curve's points, flat beyond its last.
    public func depthFraction(drawdown d: Double) -> Double {
        guard d > depthCurve[0].drawdown else { return depthCurve[0].fraction }
        for (low, high) in zip(depthCurve, depthCurve.dropFirst()) where d <= high.drawdown {
            return low.fraction + (high.fraction - low.fraction) * (d - low.drawdown) / (high.drawdown - low.drawdown)
        }
        return depthCurve[depthCurve.count - 1].fraction
    }
}

extension CascadeSpec {
    static let keys = ["depth", "depth_curve", "permanent", "decay", "steps", "adl"]

    /// Parses `calibration.liquidation.cascade` at `path`.
    /// - Throws: `ScenarioError` naming the field (an unknown key or rule, a depth ≤ 0, a curve that
    ///   does not start at drawdown 0 or whose drawdowns do not increase, a fraction outside (0, 1],
    ///   a permanent share outside [0, 1], a decay ≤ 0, steps < 1).
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        self.init()
        if case .scalar = node {
            guard try p.text(node, path) == "on" else { throw p.fail(node, path, "expected a mapping of cascade settings (or 'on' for the defaults)") }
            return
        }
        let r = try FieldReader(node, file: p.file, path: path, known: Self.keys)
        depthMultiplier = try r.optional("depth") { node, path in
            if case .scalar = node, try p.text(node, path) == "infinite" { return .infinity }
            return try p.within(0, 1e6, openLow: true)(node, path)
        } ?? 1
        depthCurve = try r.optional("depth_curve") { node, path in
            var points: [DepthPoint] = []
            for (item, itemPath) in try p.nonEmptyList(node, path, of: "depth point") {
                let point = try FieldReader(item, file: p.file, path: itemPath, known: ["drawdown", "depth"])
                let drawdown = try point.required("drawdown") { try Self.share($0, $1, p, "drawdown", allowsOne: false) }
                let fraction = try point.required("depth") { try Self.share($0, $1, p, "depth fraction", allowsOne: true) }
                guard fraction > 0 else { throw point.error("depth", "the depth left must be > 0, got \(fraction)", node: point.node("depth")) }
                if let last = points.last, drawdown <= last.drawdown {
                    throw point.error("drawdown", "drawdowns must increase: \(shortNumber(drawdown)) follows \(shortNumber(last.drawdown))", node: point.node("drawdown"))
                }
                if points.isEmpty, drawdown != 0 {
                    throw point.error("drawdown", "the curve starts at drawdown 0, got \(shortNumber(drawdown))", node: point.node("drawdown"))
                }
                points.append(DepthPoint(drawdown: drawdown, fraction: fraction))
            }
            return points
        } ?? Self.defaultCurve
        permanentShare = try r.optional("permanent") { try Self.share($0, $1, p, "permanent share", allowsOne: true) } ?? Self.defaultPermanentShare
        decayHours = try r.optional("decay") { try LiquidationMonitoring.duration($0, $1, p) } ?? 1
        steps = try r.optional("steps", p.positiveInteger) ?? 24
        guard steps <= 10_000 else { throw r.error("steps", "at most 10000 instants per horizon, got \(steps)", node: r.node("steps")) }
        adl = try r.optional("adl") { node, path in
            DeleveragingRule(rawValue: try p.oneOf(node, path, DeleveragingRule.allCases.map(\.rawValue)))!
        } ?? .queue
    }

    /// A share in [0, 1] (`allowsOne`) or [0, 1): `5%` or `0.05`.
    static func share(_ node: ConfigNode, _ path: String, _ p: ScalarParsers, _ what: String, allowsOne: Bool) throws -> Double {
        let raw = try p.text(node, path).trimmingCharacters(in: .whitespaces)
        let percent = raw.hasSuffix("%")
        guard let number = Double(percent ? String(raw.dropLast()).trimmingCharacters(in: .whitespaces) : raw), number.isFinite else {
            throw p.fail(node, path, "expected a \(what) such as 5% or 0.05, got '\(raw)'")
        }
        let value = percent ? number / 100 : number
        guard value >= 0, allowsOne ? value <= 1 : value < 1 else {
            throw p.fail(node, path, "the \(what) must be in [0, 1\(allowsOne ? "]" : ")"), got '\(raw)'")
        }
        return value
    }
}
