/// What-ifs without editing the file: `--set PATH=VALUE` overrides of the document and
/// `--shock ASSET=MOVE` instant relative spot moves, applied in that order.
public struct WhatIf: Sendable {
    /// `PATH=VALUE` texts (see `Override`).
    public var overrides: [String]
    /// `ASSET=MOVE` texts: S ← S·(1 + MOVE), MOVE > −1.
    public var spotShocks: [String]

    public init(overrides: [String] = [], spotShocks: [String] = []) {
        self.overrides = overrides
        self.spotShocks = spotShocks
    }

    /// Loads the scenario with every override and shock applied; returns it with the echo lines
    /// that reports print.
    /// - Throws: `ScenarioError` (bad override, shock or content; file "--set" or "--shock" for the
    ///   command-line texts) or `ScenarioFileError`.
    public func load(path: String) throws -> (scenario: Scenario, echo: [String]) {
        var scenario = try Scenario.load(path: path, overrides: overrides.map { try Override($0) })
        var echo = overrides.map { "--set \($0)" }
        for shock in spotShocks { echo.append(try scenario.applySpotShock(shock)) }
        return (scenario, echo)
    }
}

extension Scenario {
    /// Applies `ASSET=MOVE` to the market (S ← S·(1 + MOVE)); positions are unchanged, so the book is
    /// then valued from the moved market. Returns the echo line.
    /// - Throws: `ScenarioError` with file "--shock" for a malformed text, an unknown asset or MOVE ≤ −1.
    public mutating func applySpotShock(_ shock: String) throws -> String {
        guard let equals = shock.firstIndex(of: "="), let move = Double(shock[shock.index(after: equals)...]) else {
            throw ScenarioError(file: "--shock", path: shock, line: nil, message: "expected ASSET=MOVE with MOVE a number, e.g. BTC=-0.2")
        }
        let id = String(shock[..<equals])
        guard let index = market.assetIndex(id) else {
            throw ScenarioError(file: "--shock", path: id, line: nil,
                                message: "unknown asset '\(id)'; known assets: \(market.assets.map(\.id).joined(separator: ", "))")
        }
        guard move > -1, move.isFinite else {
            throw ScenarioError(file: "--shock", path: id, line: nil, message: "a relative spot move must be > −1, got \(move)")
        }
        let before = market.assets[index].spot
        market.assets[index].spot = before * (1 + move)
        return "--shock \(id)=\(move) (spot \(before) → \(market.assets[index].spot))"
    }
}
