import TailStats

/// `evaluate`'s waterfall under `policy.portfolio_margin` (README, "Portfolio margin"), beside the
/// ladder's on the same paths: per path and account, E1 = equity now − horizon loss is checked
/// against MM_a(S', f', τ'), the risk array's maintenance applied around the path's horizon market
/// (spots S' with the grid's moves taken around them, implied vols × the path's vol factor f', the
/// options' time to expiry τ' = τ − T); below it, the account is closed over its liquidation period
/// (an independent move over h_liq, slippage Σ I(n)·n) to E2, its deficit max(−E2, 0) and the
/// penalty min(π·N, E2⁺) go to the fund as the ladder's do. Expectations are per path, USD.
public struct RiskArrayWaterfall: Sendable {
    /// Per account (book order): MM_a now, P(liquidated at the horizon) and E[deficit].
    public let accounts: [Account]
    public let expectedLiquidations: Double
    public let expectedDeficit: Double
    public let expectedDeficitStandardError: Double
    public let expectedIncome: Double
    public let expectedIncomeStandardError: Double
    /// VaR and ES of the per-path net deficit Σ deficits − Σ penalties at the fund confidence.
    public let fund: TailSummary.Level
    /// P(net deficit > the policy's fund), nil without a fund.
    public let fundShortfallProbability: Double?

    public struct Account: Sendable {
        public let id: String
        public let maintenance: Double
        public let liquidationProbability: Double
        public let expectedDeficit: Double
    }

    /// The figures of the evaluation whose requirement was the risk array.
    init(_ e: PolicyEvaluation) {
        accounts = e.accounts.map { .init(id: $0.id, maintenance: $0.requirement, liquidationProbability: $0.liquidationProbability, expectedDeficit: $0.expectedDeficit) }
        expectedLiquidations = e.accounts.map(\.liquidationProbability).reduce(0, +)
        (expectedDeficit, expectedDeficitStandardError) = (e.expectedDeficit, e.expectedDeficitStandardError)
        (expectedIncome, expectedIncomeStandardError) = (e.expectedIncome, e.expectedIncomeStandardError)
        (fund, fundShortfallProbability) = (e.fund, e.fundShortfallProbability)
    }
}
