extension MarginPolicy {
    /// The policy as a scenario `policy:` section (YAML) in the form `PolicySpec` reads back: the
    /// ladder of every asset that has one (`assets[i]` names `schedule.tiers[i]`), each tier's
    /// maintenance long/short (and initial, where given), the penalty rate and the fund, where given.
    /// Numbers are written with Swift's shortest round-trip form, so loading the section gives back
    /// the same doubles.
    /// - Parameters:
    ///   - comment: a first line `# comment`, or nil for none.
    ///   - notes: comments at the end of the lines they describe (e.g. each value's interval).
    public func yaml(assets: [String], comment: String?, notes: PolicyNotes = PolicyNotes()) -> String {
        var lines = (comment.map { ["# \($0)"] } ?? []) + ["policy:", "  ladder:"]
        func noted(_ line: String, _ note: String?) -> String { note.map { "\(line)  # \($0)" } ?? line }
        for (i, (asset, tiers)) in zip(assets, schedule.tiers).enumerated() where !tiers.isEmpty {
            lines.append("    \(asset):")
            for (t, tier) in tiers.enumerated() {
                let initial = tier.initial.map { ", initial: \($0)" } ?? ""
                lines.append(noted("      - {up_to: \(tier.upTo), maintenance: {long: \(tier.maintenanceLong), short: \(tier.maintenanceShort)}\(initial)}",
                                   notes.tiers[i]?[t]))
            }
        }
        if let liquidationPenalty { lines.append(noted("  liquidation_penalty: \(liquidationPenalty)", notes.liquidationPenalty)) }
        if let insuranceFund { lines.append(noted("  insurance_fund: \(insuranceFund)", notes.insuranceFund)) }
        if let portfolioMargin { lines += portfolioMargin.yamlLines(assets: assets, notes: notes.spotRanges) }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension PortfolioMarginSpec {
    /// The `portfolio_margin:` lines of a `policy:` section (indented under it), each asset's range on
    /// its own line with its note (`notes[asset index]`).
    func yamlLines(assets: [String], notes: [Int: String]) -> [String] {
        var lines = ["  portfolio_margin:", "    spot_range:"]
        for (i, asset) in assets.enumerated() {
            guard let range = spotRange[i] else { continue }
            let line = "      \(asset): \(range)"
            lines.append(notes[i].map { "\(line)  # \($0)" } ?? line)
        }
        lines += ["    spot_steps: \(spotSteps)", "    vol_shift: {up: \(volUp), down: \(volDown)}", "    dte_power: \(dtePower)"]
        if !extended.isEmpty {
            let rows = ["down", "flat", "up"]
            lines.append("    extended:")
            lines += extended.map { "      - {spot: \($0.spotMove), vol: \(rows[$0.vol + 1]), weight: \($0.weight)}" }
        }
        lines += ["    minimum: {net_delta: \(netDeltaCharge), short_option: \(shortOptionCharge)}", "    maintenance_fraction: \(maintenanceFraction)"]
        return lines
    }
}

/// Comments that `MarginPolicy.yaml` writes at the end of the lines they describe.
public struct PolicyNotes: Sendable {
    /// By asset index, then tier index.
    public var tiers: [Int: [Int: String]]
    public var liquidationPenalty: String?
    public var insuranceFund: String?
    /// By asset index: the note of its portfolio-margin spot range.
    public var spotRanges: [Int: String]

    public init(tiers: [Int: [Int: String]] = [:], liquidationPenalty: String? = nil, insuranceFund: String? = nil, spotRanges: [Int: String] = [:]) {
        self.tiers = tiers
        self.liquidationPenalty = liquidationPenalty
        self.insuranceFund = insuranceFund
        self.spotRanges = spotRanges
    }
}
