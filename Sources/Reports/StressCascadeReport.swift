import Calibration
import Foundation
import ScenarioSpec

/// The report of `thresher stress --cascade` (`StressCascade`): per stress, a sentence ("BTC −10 %
/// became −17 % after 4 rounds; …"), the timeline round by round (prices, accounts liquidated, the
/// fund, ADL under the venue's rule), ADL under each rule with its conservation check, and charts of
/// the price moves and the fund by round. CSV: cascades.csv (one row per stress),
/// cascade_rounds.csv (one row per round), cascade_adl.csv, cascade_liquidations.csv (every
/// liquidation).
public struct StressCascadeReport: CommandReport {
    public let scenario: Scenario
    public let cascades: [StressCascade]
    public let overrides: [String]

    public init(scenario: Scenario, cascades: [StressCascade], overrides: [String] = []) {
        self.scenario = scenario
        self.cascades = cascades
        self.overrides = overrides
    }

    var assetIDs: [String] { scenario.market.assets.map(\.id) }
    var accountIDs: [String] { scenario.portfolio.accounts.map(\.id) }

    /// "$41.2 M", "$3.41 B", "$12,345".
    static func shortMoney(_ x: Double) -> String {
        let sign = x < 0 ? "−" : "", a = abs(x)
        if a >= 1e9 { return sign + String(format: "$%.3g B", a / 1e9) }
        if a >= 1e6 { return sign + String(format: "$%.3g M", a / 1e6) }
        return sign + "$" + money(a)
    }

    /// "−10 %", "+2.5 %", "−17.3 %".
    static func move(_ x: Double) -> String {
        let text = String(format: "%.3g", abs(x) * 100)
        return (x < 0 ? "−" : x > 0 ? "+" : "") + text + " %"
    }

    /// The stress's summary: "BTC −10 % became −17.2 % after 4 rounds; 3,412 accounts liquidated;
    /// the fund paid $41 M and ran out in round 3; 212 accounts deleveraged (queue)". The assets named
    /// are the three the cascade moved most (all moved in the market's order when at most three).
    public func sentence(_ c: StressCascade) -> String {
        guard !c.rounds.isEmpty else { return "\(c.stress.name): nobody liquidated; prices stay at the stress's move." }
        let extra = c.finalMove.indices.filter { c.finalMove[$0] != c.exogenousMove[$0] }
        let named = extra.sorted { abs(c.finalMove[$0] - c.exogenousMove[$0]) > abs(c.finalMove[$1] - c.exogenousMove[$1]) }.prefix(3).sorted()
        let moves = named.map { "\(assetIDs[$0]) \(Self.move(c.exogenousMove[$0])) became \(Self.move(c.finalMove[$0]))" }
        var parts = [(moves.isEmpty ? "prices did not move" : moves.joined(separator: ", "))
            + (extra.count > named.count ? " (and \(extra.count - named.count) more)" : "")
            + " after \(c.rounds.count) round\(c.rounds.count == 1 ? "" : "s")"]
        parts.append("\(grouped(c.accountsLiquidated)) account\(c.accountsLiquidated == 1 ? "" : "s") liquidated (\(Self.shortMoney(c.liquidatedNotional)) notional)")
        var fund = "the fund paid \(Self.shortMoney(c.fundPaid))"
        if let round = c.fundRanOutRound { fund += " and ran out in round \(round)" } else { fund += ", \(Self.shortMoney(c.fundBalance)) left" }
        parts.append(fund)
        let venue = c.venue
        if venue.taken > 0 || venue.unfunded > 0 {
            parts.append("\(counted(venue.accounts, "account")) deleveraged (\(venue.rule.rawValue), \(Self.shortMoney(venue.taken)))"
                + (venue.unfunded > 0 ? ", \(Self.shortMoney(venue.unfunded)) unfunded" : ""))
        }
        return "\(c.stress.name): " + parts.joined(separator: "; ")
    }

    public var json: JSONValue {
        let spec = cascades.first?.spec ?? scenario.calibration?.cascade ?? CascadeSpec()
        let ids = assetIDs, accounts = accountIDs
        func prices(_ p: [Double]) -> JSONValue { .object(zip(ids, p).map { ($0, .number($1)) }) }
        return .object([
            ("scenario", .string(scenario.name)),
            ("overrides", .array(overrides.map(JSONValue.string))),
            ("inputs", Inputs.json(scenario)),
            ("cascade_model", .object([
                ("source", .string(scenario.calibration?.cascade == nil ? "defaults" : "calibration.liquidation.cascade")),
                ("depth_multiplier", spec.depthMultiplier.isFinite ? .number(spec.depthMultiplier) : .string("infinite")),
                ("depth_curve", .array(spec.depthCurve.map { .object([("drawdown", .number($0.drawdown)), ("depth", .number($0.fraction))]) })),
                ("permanent", .number(spec.permanentShare)), ("adl", .string(spec.adl.rawValue)),
            ])),
            ("fund_opening", .number(cascades.first?.fundOpening ?? scenario.policy?.insuranceFund ?? 0)),
            ("penalty_rate", .number(cascades.first?.penaltyRate ?? scenario.policy?.liquidationPenalty ?? 0)),
            ("stresses", .array(cascades.map { c in
                .object([
                    ("name", .string(c.stress.name)), ("origin", .string(c.stress.origin)), ("summary", .string(sentence(c))),
                    ("spot_moves", StressReport.movesJSON(c.stress.spotMoves)), ("vol_moves", StressReport.movesJSON(c.stress.volMoves)),
                    ("rounds_count", .integer(c.rounds.count)),
                    ("accounts_liquidated", .integer(c.accountsLiquidated)),
                    ("liquidated_notional", .number(c.liquidatedNotional)),
                    ("deficit", .number(c.deficit)), ("fund_paid", .number(c.fundPaid)), ("fund_balance", .number(c.fundBalance)),
                    ("fund_ran_out_round", c.fundRanOutRound.map(JSONValue.integer) ?? .null),
                    ("assets", .array(ids.indices.map { i in
                        .object([("asset", .string(ids[i])), ("spot", .number(c.spots[i])), ("exogenous_move", .number(c.exogenousMove[i])),
                                 ("final_move", .number(c.finalMove[i])), ("final_price", .number(c.finalPrices[i]))])
                    })),
                    ("round_0", .object([("prices", prices(c.shockedPrices)), ("fund_balance", .number(c.fundOpening))])),
                    ("rounds", .array(c.rounds.map { r in
                        .object([
                            ("round", .integer(r.round)), ("prices", prices(r.prices)),
                            ("accounts_liquidated", .integer(r.liquidations.count)),
                            ("liquidated", .array(r.liquidations.map { .string(accounts[$0.account]) })),
                            ("liquidated_notional", .number(r.liquidatedNotional)), ("deficit", .number(r.deficit)),
                            ("penalties", .number(r.penalties)), ("fund_paid", .number(r.fundPaid)), ("shortfall", .number(r.shortfall)),
                            ("fund_balance", .number(r.fundBalance)),
                            ("adl", .array(CascadeSpec.DeleveragingRule.allCases.indices.map { k in
                                .object([("rule", .string(CascadeSpec.DeleveragingRule.allCases[k].rawValue)), ("taken", .number(r.adlTaken[k])),
                                         ("accounts", .integer(r.adlAccounts[k]))])
                            })),
                        ])
                    })),
                    ("adl", .array(zip(c.deleveraging, c.conservationError).map { d, error in
                        .object([("rule", .string(d.rule.rawValue)), ("venue", .bool(d.rule == c.spec.adl)), ("taken", .number(d.taken)),
                                 ("accounts", .integer(d.accounts)), ("unfunded", .number(d.unfunded)), ("conservation_error", .number(error)),
                                 ("haircuts", .array(d.haircuts.map { .object([("account", .string(accounts[$0.account])), ("amount", .number($0.amount))]) }))])
                    })),
                    ("liquidations", .array(c.rounds.flatMap { r in
                        r.liquidations.map { l in
                            .object([("round", .integer(r.round)), ("account", .string(accounts[l.account])), ("equity", .number(l.equity)),
                                     ("maintenance", .number(l.maintenance)), ("notional", .number(l.notional)), ("slippage", .number(l.slippage)),
                                     ("final_equity", .number(l.finalEquity))])
                        }
                    })),
                ])
            })),
        ])
    }

    /// Assets drawn in a price chart at most.
    static let chartAssets = 6

    /// The indices (ascending) of the `count` assets whose final move differs most from the stress's
    /// own move in any cascade (all of them when there are no more).
    static func mostMoved(_ cascades: [StressCascade], count: Int) -> [Int] {
        guard let first = cascades.first, first.spots.count > count else { return cascades.first.map { Array($0.spots.indices) } ?? [] }
        let amplification = first.spots.indices.map { i in cascades.map { abs($0.finalMove[i] - $0.exogenousMove[i]) }.max() ?? 0 }
        return Array(amplification.indices.sorted { amplification[$0] != amplification[$1] ? amplification[$0] > amplification[$1] : $0 < $1 }.prefix(count)).sorted()
    }

    var sections: [ReportSection] {
        let ids = assetIDs, accounts = accountIDs
        // The terminal and HTML keep to about 100 columns; the CSV has every column.
        func summary(csv: Bool) -> ReportTable {
            let columns: [(column: ReportTable.Column, shown: Bool)] = [
                (.init("stress", csv: "stress"), true), (.init("rounds", csv: "rounds"), true), (.init("liquidated", csv: "accounts_liquidated"), true),
                (.init("notional", csv: "liquidated_notional_usd"), true), (.init("deficit", csv: "deficit_usd"), true),
                (.init("fund paid", csv: "fund_paid_usd"), true), (.init("fund left", csv: "fund_balance_usd"), false),
                (.init("ran out in round", csv: "fund_ran_out_round"), false), (.init("ADL taken", csv: "adl_taken_usd"), true),
                (.init("deleveraged", csv: "accounts_deleveraged"), false), (.init("unfunded", csv: "unfunded_usd"), true),
            ]
            let keep = columns.map { csv || $0.shown }
            return ReportTable(
                csvName: csv ? "cascades.csv" : nil,
                columns: zip(columns, keep).filter(\.1).map(\.0.column),
                rows: cascades.map { c in
                    let cells: [ReportCell] = [.label(c.stress.name), ReportCell.integer(c.rounds.count), ReportCell.integer(c.accountsLiquidated),
                                               .money(c.liquidatedNotional), .money(c.deficit), .money(c.fundPaid), .money(c.fundBalance),
                                               c.fundRanOutRound.map(ReportCell.integer) ?? .label(""),
                                               .money(c.venue.taken), ReportCell.integer(c.venue.accounts), .money(c.venue.unfunded)]
                    return zip(cells, keep).filter(\.1).map(\.0)
                },
                displayed: !csv)
        }
        // The terminal and HTML show each asset's move from today; cascade_rounds.csv has the price too.
        // The terminal and HTML show the `shownAssets` whose cascade moved them most beyond the stress,
        // and the round's liquidations, fund and ADL; cascade_rounds.csv has every asset and column.
        let shownAssets = Self.mostMoved(cascades, count: 3)
        func timeline(csv: Bool) -> ReportTable {
            var priceColumns: [ReportTable.Column] = []
            for (i, id) in ids.enumerated() where csv || shownAssets.contains(i) {
                priceColumns += csv ? [.init(id, csv: "move_\(id)"), .init(id, csv: "price_\(id)")] : [.init(id)]
            }
            let detail: [ReportTable.Column] = csv ? [.init("deficit", csv: "deficit_usd"), .init("fund paid", csv: "fund_paid_usd"), .init("shortfall", csv: "shortfall_usd")] : []
            return ReportTable(
                csvName: csv ? "cascade_rounds.csv" : nil,
                columns: [.init("stress", csv: "stress"), .init("round", csv: "round")] + priceColumns
                    + [.init("liquidated", csv: "accounts_liquidated"), .init("notional", csv: "liquidated_notional_usd")] + detail
                    + [.init("fund", csv: "fund_balance_usd"), .init("ADL (venue)", csv: "adl_taken_usd"), .init("hit", csv: "accounts_deleveraged")],
                rows: cascades.flatMap { c -> [[ReportCell]] in
                    let venue = CascadeSpec.DeleveragingRule.allCases.firstIndex(of: c.spec.adl)!
                    func priceCells(_ p: [Double]) -> [ReportCell] {
                        p.indices.filter { csv || shownAssets.contains($0) }.flatMap { i -> [ReportCell] in
                            let m = p[i] / c.spots[i] - 1, shown = ReportCell(text: Self.move(m), csv: csvNumber(m))
                            return csv ? [shown, .number(p[i], format: "%g")] : [shown]
                        }
                    }
                    let zero: [ReportCell] = [.label(c.stress.name), ReportCell.integer(0)] + priceCells(c.shockedPrices)
                        + [ReportCell.integer(0), .money(0)] + (csv ? [.money(0), .money(0), .money(0)] : []) + [.money(c.fundOpening), .money(0), ReportCell.integer(0)]
                    return [zero] + c.rounds.map { r in
                        [.label(c.stress.name), ReportCell.integer(r.round)] + priceCells(r.prices)
                            + [ReportCell.integer(r.liquidations.count), .money(r.liquidatedNotional)]
                            + (csv ? [.money(r.deficit), .money(r.fundPaid), .money(r.shortfall)] : [])
                            + [.money(r.fundBalance), .money(r.adlTaken[venue]), ReportCell.integer(r.adlAccounts[venue])]
                    }
                },
                displayed: !csv)
        }
        let adl = ReportTable(
            csvName: "cascade_adl.csv",
            columns: [.init("stress", csv: "stress"), .init("ADL rule", csv: "rule"), .init("taken from winners", csv: "taken_usd"),
                      .init("accounts", csv: "accounts"), .init("unfunded", csv: "unfunded_usd"),
                      .init("deficits − paid − taken − unfunded", csv: "conservation_error_usd")],
            rows: cascades.filter { $0.deficit > $0.fundPaid }.flatMap { c in
                zip(c.deleveraging, c.conservationError).map { d, error -> [ReportCell] in
                    [.label(c.stress.name), .label(d.rule.rawValue + (d.rule == c.spec.adl ? " (venue)" : "")), .money(d.taken),
                     ReportCell.integer(d.accounts), .money(d.unfunded), ReportCell(text: String(format: "%.2g", error), csv: csvNumber(error))]
                }
            })
        let liquidations = ReportTable(
            csvName: "cascade_liquidations.csv",
            columns: [.init("stress", csv: "stress"), .init("round", csv: "round"), .init("account", csv: "account"), .init("equity", csv: "equity_usd"),
                      .init("maintenance", csv: "maintenance_usd"), .init("notional", csv: "notional_usd"), .init("slippage", csv: "slippage_usd"),
                      .init("equity after close", csv: "final_equity_usd")],
            rows: cascades.flatMap { c in
                c.rounds.flatMap { r in
                    r.liquidations.map { l -> [ReportCell] in
                        [.label(c.stress.name), ReportCell.integer(r.round), .label(accounts[l.account]), .money(l.equity), .money(l.maintenance),
                         .money(l.notional), .money(l.slippage), .money(l.finalEquity)]
                    }
                }
            },
            displayed: false)
        var charts: [ReportBlock] = []
        for c in cascades where !c.rounds.isEmpty {
            let path = [c.shockedPrices] + c.rounds.map(\.prices)
            // At most `chartAssets` lines: those the cascade moved most beyond the stress.
            let moved = Self.mostMoved([c], count: Self.chartAssets).filter { i in path.contains { $0[i] != c.spots[i] } }
            let more = ids.count > Self.chartAssets ? " (the \(moved.count) the cascade moved most)" : ""
            charts.append(.chart(.byRound(series: moved.map { i in (ids[i], path.map { 100 * ($0[i] / c.spots[i] - 1) }) },
                                          title: "\(c.stress.name): price by round, % from today\(more)", yLabel: "% from today", percent: true)))
            charts.append(.chart(.byRound(series: [("fund balance", [c.fundOpening] + c.rounds.map(\.fundBalance))],
                                          title: "\(c.stress.name): insurance fund by round", yLabel: "USD", percent: false)))
        }
        let model = cascades.first.map { c in
            c.isDefaultSpec ? "the scenario has no calibration.liquidation.cascade: the defaults (depth × 1, the default depth curve, adl: queue)"
                : "calibration.liquidation.cascade (depth × \(c.spec.depthMultiplier.isFinite ? String(format: "%g", c.spec.depthMultiplier) : "∞"), adl: \(c.spec.adl.rawValue))"
        } ?? ""
        return [
            ReportSection(heading: "Cascades",
                          note: "Each stress moves spots (and implied vols) at once; then, round by round at the same instant, every account below maintenance is liquidated at the round's prices less its slippage, its flow moves prices by the square-root law at the depth left, the fund takes penalties and pays deficits, and what it cannot pay is auto-deleveraged. Model: \(model).",
                          blocks: [.text(cascades.map(sentence)), .table(summary(csv: false)), .table(summary(csv: true))]),
            ReportSection(heading: "Round by round",
                          note: "Round 0: the stress's move. Prices after each round's flows, % from today, of the assets the cascade moved most beyond the stress (every asset's move and price, and each round's deficit, fund paid and shortfall, in cascade_rounds.csv); the fund after the round; ADL taken under the venue's rule at the round's end, and the accounts hit.",
                          blocks: [.table(timeline(csv: false)), .table(timeline(csv: true))] + charts),
            ReportSection(heading: "Auto-deleveraging by rule",
                          note: "What the fund could not pay, taken from winners under each rule on the same cascade (queue and pro-rata from the opposite side of the bankrupt positions, socialized from every account in profit); the last column is the conservation check, deficits = fund paid + taken + unfunded. Every liquidation is in cascade_liquidations.csv.",
                          blocks: (adl.rows.isEmpty ? [.text(["The fund paid every deficit: nothing to deleverage under any rule."])] : [.table(adl)]) + [.table(liquidations)]),
        ]
    }

    public var document: ReportDocument {
        var context = ["\(scenario.name): \(counted(cascades.count, "deterministic stress", plural: "deterministic stresses")) with liquidation cascades at one instant (no time passes), \(counted(scenario.portfolio.accounts.count, "account"))"]
        if !overrides.isEmpty { context.append("overrides: \(overrides.joined(separator: ", "))") }
        if let c = cascades.first {
            context.append("fund \(money(c.fundOpening)), penalty \(percent(c.penaltyRate)), cascade model \(c.isDefaultSpec ? "defaults (no liquidation.cascade)" : "from calibration.liquidation.cascade")")
        }
        var footer: [String] = []
        if let worst = cascades.max(by: { $0.fundPaid + $0.venue.taken < $1.fundPaid + $1.venue.taken }), worst.deficit > 0 {
            footer.append("largest deficit: \(worst.stress.name), \(money(worst.deficit)) (fund paid \(money(worst.fundPaid)))")
        } else if cascades.isEmpty {
            footer.append("no stresses: add a 'stress:' list or 'stress_library: [grid-16]' to the scenario")
        }
        return ReportDocument(title: "Thresher stress cascades — \(scenario.name)", context: context,
                              sections: (cascades.isEmpty ? [] : sections) + [Inputs.section(scenario)], footer: footer, json: json)
    }
}
