extension MarginPolicy {
    /// The policy as a scenario `policy:` section (YAML) in the form `PolicySpec` reads back: the
    /// ladder of every asset that has one (`assets[i]` names `schedule.tiers[i]`), each tier's
    /// maintenance long/short (and initial, where given), the penalty rate and the fund, where given.
    /// Numbers are written with Swift's shortest round-trip form, so loading the section gives back
    /// the same doubles.
    /// - Parameter comment: a first line `# comment`, or nil for none.
    public func yaml(assets: [String], comment: String?) -> String {
        var lines = (comment.map { ["# \($0)"] } ?? []) + ["policy:", "  ladder:"]
        for (asset, tiers) in zip(assets, schedule.tiers) where !tiers.isEmpty {
            lines.append("    \(asset):")
            for tier in tiers {
                let initial = tier.initial.map { ", initial: \($0)" } ?? ""
                lines.append("      - {up_to: \(tier.upTo), maintenance: {long: \(tier.maintenanceLong), short: \(tier.maintenanceShort)}\(initial)}")
            }
        }
        if let liquidationPenalty { lines.append("  liquidation_penalty: \(liquidationPenalty)") }
        if let insuranceFund { lines.append("  insurance_fund: \(insuranceFund)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
