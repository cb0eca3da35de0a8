import Foundation
import ScenarioSpec
import Shocks

/// The market a report was computed on, echoed so that a report can be read without its scenario
/// file: spots (after any what-if move), vols, marginal dof, the correlation matrix, the tail model
/// and the horizon.
enum Inputs {
    /// Matrices up to this many assets are printed whole; larger ones are summarised.
    static let fullMatrixLimit = 12

    static func json(_ scenario: Scenario) -> JSONValue {
        let market = scenario.market
        var tails: [(String, JSONValue)] = [("model", .string(market.tails.name))]
        if let dof = market.tails.dof { tails.append(("dof", .number(dof))) }
        if case .filteredHistorical(let history) = market.tails {
            // Fitted when the run built its market model (cached); a report of a run that never did
            // (a stress) fits it here.
            tails.append(("history", .string(history.file)))
            if let h = try? FilteredHistoricalFit.of(history) {
                tails += [("days", .integer(h.days)),
                          ("garch", .array(h.fits.indices.map { i in
                              .object([("id", .string(market.assets[i].id)), ("omega", .number(h.fits[i].omega)), ("alpha", .number(h.fits[i].alpha)),
                                       ("beta", .number(h.fits[i].beta)), ("nu", .number(h.fits[i].nu)),
                                       ("forecast_variance", .number(h.fits[i].forecastVariance)), ("annual_vol", .number(h.annualVol(i)))])
                          }))]
            }
        }
        if let cap = market.shockCap { tails.append(("cap", .number(cap))) }
        return .object(fields(scenario, tails: tails) + smilesJSON(market) + smileFactorsJSON(market))
    }

    /// `smiles`, only when the market has smiles (every other report is as before): per asset its
    /// dynamics and SVI slices or grid, as the scenario gives them.
    static func smilesJSON(_ market: Market) -> [(String, JSONValue)] {
        guard !market.smiles.isEmpty else { return [] }
        return [("smiles", .object(market.smiles.map { smile in
            guard let grid = smile.grid else {
                return (smile.asset, .object([
                    ("dynamics", .string(smile.dynamics.rawValue)),
                    ("svi", .array(smile.slices.map { s in
                        .object([("expiry_days", .number(s.expiryDays)), ("a", .number(s.a)), ("b", .number(s.b)), ("rho", .number(s.rho)),
                                 ("m", .number(s.m)), ("sigma", .number(s.sigma)),
                                 ("atm_iv", .number((s.totalVariance(0) / s.expiryYears).squareRoot()))])
                    })),
                ]))
            }
            return (smile.asset, .object([
                ("dynamics", .string(smile.dynamics.rawValue)),
                ("grid", .object([("expiry_days", .array(grid.expiryDays.map(JSONValue.number))),
                                  grid.strikes.map { ("strikes", .array($0.map(JSONValue.number))) }
                                      ?? ("moneyness", .array((grid.moneyness ?? []).map(JSONValue.number))),
                                  ("vols", .array(grid.vols.map { .array($0.map(JSONValue.number)) })),
                                  ("atm_iv", .array(smile.atmVols.map(JSONValue.number)))])),
            ]))
        }))]
    }

    /// `smile_factors`, only when the market has them (every other report is as before): per asset its
    /// skew and term factors' annualised vols and spot correlations.
    static func smileFactorsJSON(_ market: Market) -> [(String, JSONValue)] {
        guard !market.smileFactors.isEmpty else { return [] }
        return [("smile_factors", .object(market.smileFactors.map { f in
            (f.asset, .object([("skew_vol", .number(f.skewVol)), ("skew_spot_correlation", .number(f.skewSpotCorrelation)),
                               ("term_vol", .number(f.termVol)), ("term_spot_correlation", .number(f.termSpotCorrelation))]))
        }))]
    }

    private static func fields(_ scenario: Scenario, tails: [(String, JSONValue)]) -> [(String, JSONValue)] {
        let market = scenario.market
        return [
            ("horizon_days", .number(scenario.simulation.horizonDays)),
            ("rate", .number(market.rate)),
            ("tails", .object(tails)),
            ("assets", .array(market.assets.map { asset in
                .object([("id", .string(asset.id)), ("spot", .number(asset.spot)), ("vol", .number(asset.vol)),
                         ("dof", asset.dof.map(JSONValue.number) ?? .null)])
            })),
            ("correlation", .array(market.correlation.map { .array($0.map(JSONValue.number)) })),
            ("stablecoins", .array(market.stablecoins.map {
                .object([("id", .string($0.id)), ("price", .number($0.price)), ("haircut", .number($0.haircut))])
            })),
            ("vol_shocks", market.volShocks.map { .object([("vol_of_vol", .number($0.volOfVol)), ("spot_correlation", .number($0.spotCorrelation))]) } ?? .null),
        ]
    }

    static func section(_ scenario: Scenario) -> ReportSection {
        let market = scenario.market
        let assets = ReportTable(
            csvName: "inputs.csv",
            columns: [.init("asset", csv: "asset"), .init("spot", csv: "spot"), .init("vol", csv: "vol"), .init("dof", csv: "dof")],
            rows: market.assets.map { asset in
                [.label(asset.id), .number(asset.spot, format: "%.6g"), .rate(asset.vol),
                 asset.dof.map { .number($0, format: "%g") } ?? .label("")]
            })
        var lines = ["horizon \(scenario.simulation.horizonDays) days, rate \(rate(market.rate)), \(tailDescription(market.tails))"
                     + (market.shockCap.map { ", shocks capped at ±\($0)" } ?? "")
                     + (market.volShocks.map { ", implied-vol shocks: vol-of-vol \($0.volOfVol), spot correlation \($0.spotCorrelation)" } ?? "")]
        if !market.stablecoins.isEmpty {
            lines.append("stablecoin collateral: " + market.stablecoins.map { "\($0.id) at \($0.price) USD, haircut \(rate($0.haircut))" }.joined(separator: "; "))
        }
        // Up to four smiles a line each, more in one line (the JSON report has them all).
        if market.smiles.count > 4 {
            let dynamics = Set(market.smiles.map(\.dynamics.rawValue)).sorted().joined(separator: " or ")
            let counts = market.smiles.map(\.expiryYears.count), fewest = counts.min()!, most = counts.max()!
            let slices = fewest == most ? "\(most)" : "\(fewest)–\(most)"
            let kinds = Set(market.smiles.map { $0.grid == nil ? "SVI slice" : "grid expir" }).sorted()
            let what = kinds.map { $0 == "SVI slice" ? "SVI slice\(most == 1 ? "" : "s")" : "grid expir\(most == 1 ? "y" : "ies")" }.joined(separator: " or ")
            lines.append("implied-vol smiles on \(market.smiles.count) assets (\(dynamics)), \(slices) \(what) each (inputs.smiles of the JSON report)")
        }
        for smile in market.smiles where market.smiles.count <= 4 {
            let days = smile.expiryDays, count = days.count
            let atm = smile.atmVols.map { String(format: "%.1f%%", 100 * $0) }
            let form = smile.grid.map { "a grid of \(count) expir\(count == 1 ? "y" : "ies") × \($0.columnCount) \($0.strikes == nil ? "moneyness points K/F" : "strikes")" }
                ?? "\(count) SVI slice\(count == 1 ? "" : "s")"
            lines.append("implied-vol smile \(smile.asset): \(smile.dynamics.rawValue), \(form) "
                         + "at \(days.map { shortDays($0) }.joined(separator: ", ")) days, ATM-forward iv \(atm.joined(separator: ", "))")
        }
        for f in market.smileFactors {
            lines.append("smile factors \(f.asset): skew vol \(f.skewVol) (spot correlation \(f.skewSpotCorrelation)), term vol \(f.termVol) (spot correlation \(f.termSpotCorrelation))")
        }
        var blocks: [ReportBlock] = [.table(assets)]
        let n = market.assets.count
        if n > 1 && n <= fullMatrixLimit {
            blocks.append(.table(ReportTable(columns: [.init("correlation")] + market.assets.map { .init($0.id) },
                                             rows: market.assets.indices.map { i in
                                                 [.label(market.assets[i].id)] + market.correlation[i].map { .number($0, format: "%.2f") }
                                             })))
        } else if n > fullMatrixLimit {
            let off = (0..<n).flatMap { i in (0..<n).filter { $0 != i }.map { market.correlation[i][$0] } }
            lines.append(String(format: "correlation: %d × %d, off-diagonal min %.2f, mean %.2f, max %.2f (whole matrix in the JSON report)",
                                n, n, off.min() ?? 0, off.reduce(0, +) / Double(max(off.count, 1)), off.max() ?? 0))
        }
        // Each smile's slices as iv against K/F on K/F ∈ [e^{−1}, e], 41 points (HTML only).
        for smile in market.smiles {
            let grid = (0...40).map { -1 + Double($0) / 20 }
            blocks.append(.chart(.percentLines(series: zip(smile.expiryDays, smile.expiryYears).enumerated().map { j, expiry in
                ("\(shortDays(expiry.0)) days", grid.map { (exp($0), 100 * (smile.sliceVariance(j, logMoneyness: $0) / expiry.1).squareRoot()) })
            }, title: "Implied-vol smile of \(smile.asset) (\(smile.dynamics.rawValue))", xLabel: "strike / forward", yLabel: "implied vol, %")))
        }
        return ReportSection(heading: "Inputs", note: "The market this report was computed on (spots after any what-if move).",
                             blocks: [.text(lines)] + blocks)
    }

    /// 7 → "7", 7.5 → "7.5".
    static func shortDays(_ days: Double) -> String { days == days.rounded() ? String(Int(days)) : String(days) }
}
