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
        if let portfolioMargin { lines += portfolioMargin.yamlLines(assets: assets, notes: notes.spotRanges, volShiftNotes: notes.volShifts) }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension PortfolioMarginSpec {
    /// The `portfolio_margin:` lines of a `policy:` section (indented under it), in the form
    /// `PortfolioMarginSpec(node:…)` reads back as the same spec: the groups, then each spot range on
    /// its own line with its note — under a group's key where all its members have the same range
    /// (`notes[its first member's index]`), else under each asset's (`notes[asset index]`) — and the
    /// vol shifts as `{up, down}` where every asset has the same, else per group (members alike) and
    /// asset, each with its note (`volShiftNotes`, keyed likewise).
    func yamlLines(assets: [String], notes: [Int: String], volShiftNotes: [Int: String] = [:]) -> [String] {
        func noted(_ line: String, _ note: String?) -> String { note.map { "\(line)  # \($0)" } ?? line }
        /// Per group whose members all have the same value, and per asset outside those, key → value: (key, first index, value).
        func keyed<T: Equatable>(_ values: [T?]) -> [(key: String, index: Int, value: T)] {
            var out: [(key: String, index: Int, value: T)] = [], written = Set<Int>()
            for b in assets.indices where !written.contains(b) {
                if let group = group(of: b), let value = values[b], group.members.allSatisfy({ values[$0] == value }) {
                    out.append((group.name, b, value))
                    written.formUnion(group.members)
                } else if let value = values[b] {
                    out.append((assets[b], b, value))
                    written.insert(b)
                }
            }
            return out
        }
        var lines = ["  portfolio_margin:"]
        if !groups.isEmpty {
            lines.append("    groups:")
            lines += groups.map { "      \($0.name): [\($0.members.map { assets[$0] }.joined(separator: ", "))]" }
        }
        lines.append("    spot_range:")
        lines += keyed(spotRange).map { noted("      \($0.key): \($0.value)", notes[$0.index]) }
        lines.append("    spot_steps: \(spotSteps)")
        if let shift = volShifts.first, volShifts.allSatisfy({ $0 == shift }) {
            // One line for every asset: the notes joined, each after its asset's or group's name.
            let joined = volShiftNotes.sorted { $0.key < $1.key }.map { "\(group(of: $0.key)?.name ?? assets[$0.key]): \($0.value)" }.joined(separator: "; ")
            lines.append(noted("    vol_shift: {up: \(shift.up), down: \(shift.down)}", joined.isEmpty ? nil : joined))
        } else {
            lines.append("    vol_shift:")
            lines += keyed(volShifts.map { Optional($0) }).map { noted("      \($0.key): {up: \($0.value.up), down: \($0.value.down)}", volShiftNotes[$0.index]) }
        }
        lines.append("    dte_power: \(dtePower)")
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
    /// By asset index (a group's: its first member's): the note of its portfolio-margin spot range.
    public var spotRanges: [Int: String]
    /// By asset index likewise: the note of its portfolio-margin vol shifts (where every asset has the
    /// same shifts, written as one `{up, down}`, the notes joined there, each after its asset's or group's name).
    public var volShifts: [Int: String]

    public init(tiers: [Int: [Int: String]] = [:], liquidationPenalty: String? = nil, insuranceFund: String? = nil, spotRanges: [Int: String] = [:],
                volShifts: [Int: String] = [:]) {
        self.volShifts = volShifts
        self.tiers = tiers
        self.liquidationPenalty = liquidationPenalty
        self.insuranceFund = insuranceFund
        self.spotRanges = spotRanges
    }
}
