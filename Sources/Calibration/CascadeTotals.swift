import ScenarioSpec
import TailStats

/// What cascades did on one path (`CascadePath`), in the units the totals sum.
struct CascadePathOutcome {
    /// Rounds of the instant with the most: flows executed, then accounts re-checked, until none is new.
    var rounds = 0
    /// Liquidations in all, and those only the impact of others' flows caused (endogenous).
    var liquidations = 0
    var endogenous = 0
    /// Σ gross notional closed, USD.
    var liquidatedNotional = 0.0
    /// Σ max(−E2, 0), USD.
    var deficit = 0.0
    /// The fund: paid out of it, its lowest balance less the opening one (≥ 0), whether it ran dry.
    var fundPaid = 0.0
    var fundDrawdown = 0.0
    var fundExhausted = false
    /// Per ADL rule (`CascadeSpec.DeleveragingRule.allCases` order): taken from winners, USD; accounts
    /// deleveraged; the shortfall no winner could cover.
    var deleveraged = [0.0, 0.0, 0.0]
    var deleveragedAccounts = [0, 0, 0]
    var unfunded = [0.0, 0.0, 0.0]
}

/// Mergeable totals of the cascade model (README, "Cascades") over paths: exact sums, counts and the
/// tails of the fund's drawdown, the liquidated notional and each asset's fall with and without the
/// cascade's lasting impact. Every path enters in path order per chunk (`add`), sums exactly: the same
/// for any chunking, thread count or split.
struct CascadeTotals: Sendable {
    let rule: CascadeSpec.DeleveragingRule
    /// Paths with any liquidation, with an endogenous one, with the fund exhausted, with ADL (per rule).
    var paths = 0
    var cascadePaths = 0
    var exhaustedPaths = 0
    var deleveragedPaths = [0, 0, 0]
    var liquidations = 0
    var endogenous = 0
    /// Paths by their largest round count (the last bin: `roundBins` − 1 or more).
    var rounds: [Int]
    var deficit = ExactSum()
    var fundPaid = ExactSum()
    var deleveraged = [ExactSum(), ExactSum(), ExactSum()]
    var deleveragedAccounts = [0, 0, 0]
    var unfunded = [ExactSum(), ExactSum(), ExactSum()]
    /// Per account under the spec's rule: paths on which it was deleveraged, and its haircuts, USD.
    var accountDeleveraged: [Int]
    var accountHaircut: [ExactSum]
    /// The largest |Σ deficits − paid by the fund − taken by ADL − unfunded| of a path and rule, USD:
    /// the conservation check (0 up to rounding).
    var largestImbalance = 0.0
    /// Per path: the fund's drawdown and the liquidated notional, USD.
    var fundDrawdown: TailAccumulator
    var liquidatedNotional: TailAccumulator
    /// Per asset: the fall −log(S_T/S₀) without and with the lasting impact of the cascade.
    var exogenousFall: [TailAccumulator]
    var cascadedFall: [TailAccumulator]

    static let roundBins = 17

    init(rule: CascadeSpec.DeleveragingRule, accounts: Int, assets: Int, plan: TailPlan) {
        self.rule = rule
        rounds = Array(repeating: 0, count: Self.roundBins)
        accountDeleveraged = Array(repeating: 0, count: accounts)
        accountHaircut = Array(repeating: ExactSum(), count: accounts)
        fundDrawdown = TailAccumulator(plan: plan)
        liquidatedNotional = TailAccumulator(plan: plan)
        exogenousFall = Array(repeating: TailAccumulator(plan: plan), count: assets)
        cascadedFall = Array(repeating: TailAccumulator(plan: plan), count: assets)
    }

    /// Folds in a chunk's paths: their outcomes, per-path rows (`CascadeChunk`) and per-account ADL.
    /// - Complexity: O(count × assets + the chunk's deleveraged accounts).
    mutating func add(_ chunk: CascadeChunk, count m: Int) {
        for j in 0..<m {
            let o = chunk.outcomes[j]
            rounds[min(o.rounds, Self.roundBins - 1)] += 1
            if o.liquidations > 0 { paths += 1 }
            if o.endogenous > 0 { cascadePaths += 1 }
            if o.fundExhausted { exhaustedPaths += 1 }
            liquidations += o.liquidations
            endogenous += o.endogenous
            deficit.add(o.deficit)
            fundPaid.add(o.fundPaid)
            for r in 0..<3 {
                if o.deleveragedAccounts[r] > 0 { deleveragedPaths[r] += 1 }
                deleveraged[r].add(o.deleveraged[r])
                deleveragedAccounts[r] += o.deleveragedAccounts[r]
                unfunded[r].add(o.unfunded[r])
                largestImbalance = max(largestImbalance, abs(o.deficit - o.fundPaid - o.deleveraged[r] - o.unfunded[r]))
            }
        }
        for (account, haircut) in chunk.haircuts {
            accountDeleveraged[account] += 1
            accountHaircut[account].add(haircut)
        }
        fundDrawdown.add(chunk.fundDrawdown, count: m)
        liquidatedNotional.add(chunk.liquidatedNotional, count: m)
        for i in exogenousFall.indices {
            exogenousFall[i].add(chunk.exogenousFall + i * chunk.capacity, count: m)
            cascadedFall[i].add(chunk.cascadedFall + i * chunk.capacity, count: m)
        }
    }

    /// - Complexity: O(accounts + assets × the tails' kept sizes).
    mutating func merge(_ other: CascadeTotals) {
        paths += other.paths
        cascadePaths += other.cascadePaths
        exhaustedPaths += other.exhaustedPaths
        liquidations += other.liquidations
        endogenous += other.endogenous
        for b in rounds.indices { rounds[b] += other.rounds[b] }
        deficit.merge(other.deficit)
        fundPaid.merge(other.fundPaid)
        largestImbalance = max(largestImbalance, other.largestImbalance)
        for r in 0..<3 {
            deleveragedPaths[r] += other.deleveragedPaths[r]
            deleveraged[r].merge(other.deleveraged[r])
            deleveragedAccounts[r] += other.deleveragedAccounts[r]
            unfunded[r].merge(other.unfunded[r])
        }
        for a in accountDeleveraged.indices {
            accountDeleveraged[a] += other.accountDeleveraged[a]
            accountHaircut[a].merge(other.accountHaircut[a])
        }
        fundDrawdown.merge(other.fundDrawdown)
        liquidatedNotional.merge(other.liquidatedNotional)
        for i in exogenousFall.indices {
            exogenousFall[i].merge(other.exogenousFall[i])
            cascadedFall[i].merge(other.cascadedFall[i])
        }
    }
}

extension CascadeTotals: StateCodable {
    func encode(to writer: inout StateWriter) {
        writer.write([paths, cascadePaths, exhaustedPaths, liquidations, endogenous] + deleveragedPaths + deleveragedAccounts)
        writer.write(rounds)
        writer.write(largestImbalance)
        writer.write(each: [deficit, fundPaid] + deleveraged + unfunded)
        writer.write(accountDeleveraged)
        writer.write(each: accountHaircut)
        writer.write(each: [fundDrawdown, liquidatedNotional] + exogenousFall + cascadedFall)
    }

    mutating func decode(from reader: inout StateReader) throws {
        let counts = try reader.readInts(expected: 11, of: "cascade counts")
        (paths, cascadePaths, exhaustedPaths, liquidations, endogenous) = (counts[0], counts[1], counts[2], counts[3], counts[4])
        deleveragedPaths = Array(counts[5..<8])
        deleveragedAccounts = Array(counts[8..<11])
        rounds = try reader.readInts(expected: Self.roundBins, of: "round bins")
        largestImbalance = try reader.readDouble()
        var sums = [deficit, fundPaid] + deleveraged + unfunded
        try reader.read(each: &sums, of: "cascade sums")
        (deficit, fundPaid) = (sums[0], sums[1])
        deleveraged = Array(sums[2..<5])
        unfunded = Array(sums[5..<8])
        accountDeleveraged = try reader.readInts(expected: accountDeleveraged.count, of: "accounts")
        try reader.read(each: &accountHaircut, of: "accounts")
        var tails = [fundDrawdown, liquidatedNotional] + exogenousFall + cascadedFall
        try reader.read(each: &tails, of: "cascade tails")
        let n = exogenousFall.count
        (fundDrawdown, liquidatedNotional) = (tails[0], tails[1])
        exogenousFall = Array(tails[2..<(2 + n)])
        cascadedFall = Array(tails[(2 + n)...])
    }
}

/// What cascades did over the paths (README, "Cascades"): `thresher evaluate` under
/// `calibration.liquidation.cascade`. Expectations are per path; probabilities are fractions of paths.
public struct CascadeSummary: Sendable {
    /// Per ADL rule, on the same paths.
    public struct Deleveraging: Sendable {
        public let rule: CascadeSpec.DeleveragingRule
        /// P(the rule deleveraged anyone on a path).
        public let probability: Double
        /// E[taken from winners], USD.
        public let expectedVolume: Double
        /// E[accounts deleveraged].
        public let expectedAccounts: Double
        /// E[shortfall no winner could cover], USD.
        public let expectedUnfunded: Double
    }

    /// One asset's fall −log(S_T/S₀) at the fund confidence, without and with the cascade's lasting impact.
    public struct Amplification: Sendable {
        public let asset: String
        public let exogenousFall: Double
        public let cascadedFall: Double
        /// cascadedFall / exogenousFall (nil when the exogenous fall is not positive).
        public var ratio: Double? { exogenousFall > 0 ? cascadedFall / exogenousFall : nil }
    }

    public let spec: CascadeSpec
    public let paths: Int
    public let confidence: Double
    /// P(a liquidation on the path), P(an endogenous one: the cascade added to it).
    public let liquidationProbability: Double
    public let cascadeProbability: Double
    /// E[liquidations], E[endogenous liquidations].
    public let expectedLiquidations: Double
    public let expectedEndogenous: Double
    /// Paths by the largest number of rounds at one instant (last bin: that many or more).
    public let rounds: [Int]
    /// Liquidated notional per path, USD: mean, VaR and ES at `confidence`.
    public let liquidatedNotional: TailSummary.Level
    public let expectedLiquidatedNotional: Double
    /// The fund along the path: opening balance, drawdown (opening − lowest) VaR/ES, P(exhausted).
    public let fundOpening: Double
    public let fundDrawdown: TailSummary.Level
    public let fundExhaustedProbability: Double
    public var fundExhaustedStandardError: Double { PolicyEvaluation.binomialStandardError(fundExhaustedProbability, paths: paths) }
    /// E[deficit], E[paid by the fund], USD.
    public let expectedDeficit: Double
    public let expectedFundPaid: Double
    public let deleveraging: [Deleveraging]
    public let amplification: [Amplification]
    /// The conservation check: the largest |Σ deficits − paid by the fund − taken by ADL − unfunded|
    /// of any path under any rule, USD (rounding only).
    public let largestImbalance: Double
}

extension CascadeTotals {
    func summary(spec: CascadeSpec, paths: Int, confidence: Double, fundOpening: Double, assets: [String]) -> CascadeSummary {
        let n = Double(paths)
        let deleveraging = CascadeSpec.DeleveragingRule.allCases.enumerated().map { r, rule in
            CascadeSummary.Deleveraging(rule: rule, probability: Double(deleveragedPaths[r]) / n, expectedVolume: deleveraged[r].value / n,
                                        expectedAccounts: Double(deleveragedAccounts[r]) / n, expectedUnfunded: unfunded[r].value / n)
        }
        let amplification = assets.indices.map { i in
            CascadeSummary.Amplification(asset: assets[i], exogenousFall: exogenousFall[i].summary(retainingLosses: false).levels[0].valueAtRisk,
                                         cascadedFall: cascadedFall[i].summary(retainingLosses: false).levels[0].valueAtRisk)
        }
        let notional = liquidatedNotional.summary(retainingLosses: false)
        return CascadeSummary(spec: spec, paths: paths, confidence: confidence, liquidationProbability: Double(self.paths) / n,
                              cascadeProbability: Double(cascadePaths) / n, expectedLiquidations: Double(liquidations) / n,
                              expectedEndogenous: Double(endogenous) / n, rounds: rounds, liquidatedNotional: notional.levels[0],
                              expectedLiquidatedNotional: notional.mean, fundOpening: fundOpening,
                              fundDrawdown: fundDrawdown.summary(retainingLosses: false).levels[0],
                              fundExhaustedProbability: Double(exhaustedPaths) / n, expectedDeficit: deficit.value / n,
                              expectedFundPaid: fundPaid.value / n, deleveraging: deleveraging, amplification: amplification,
                              largestImbalance: largestImbalance)
    }
}
