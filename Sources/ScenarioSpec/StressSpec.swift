import Foundation

/// One deterministic stress: relative spot and implied-vol moves and the time that passes.
/// S' = S·(1 + spot move), iv' = iv·(1 + vol move); assets not named move by the `*` entry if the
/// stress has one, else not at all.
public struct StressScenario: Sendable, Equatable {
    public var name: String
    /// Relative spot move per asset id, > −1; key "*" applies to every asset not named.
    public var spotMoves: [String: Double]
    /// Relative implied-vol change per asset id, > −1; key "*" as above.
    public var volMoves: [String: Double]
    /// Smile twist per asset id (key "*" as above): iv ← iv + skew·k at log-moneyness k = ln(K/F'),
    /// vol per unit of log-moneyness (negative: puts gain vol).
    public var skewMoves: [String: Double] = [:]
    /// Term-structure move per asset id (key "*" as above): iv ← iv + term·√(30/T_days), the vol added
    /// at 30 days to expiry (shorter expiries move more).
    public var termMoves: [String: Double] = [:]
    /// Days that pass (nil: the scenario's simulation.horizon_days).
    public var horizonDays: Double?
    /// Where the stress comes from: "inline" or the library name.
    public var origin: String

    public init(name: String, spotMoves: [String: Double], volMoves: [String: Double] = [:], horizonDays: Double? = nil, origin: String = "inline") {
        self.name = name
        self.spotMoves = spotMoves
        self.volMoves = volMoves
        self.horizonDays = horizonDays
        self.origin = origin
    }

    public func spotMove(_ asset: String) -> Double { spotMoves[asset] ?? spotMoves["*"] ?? 0 }
    public func volMove(_ asset: String) -> Double { volMoves[asset] ?? volMoves["*"] ?? 0 }
    public func skewMove(_ asset: String) -> Double { skewMoves[asset] ?? skewMoves["*"] ?? 0 }
    public func termMove(_ asset: String) -> Double { termMoves[asset] ?? termMoves["*"] ?? 0 }
    /// Whether the stress twists any smile (`skew` or `term`).
    public var twistsSmiles: Bool { !skewMoves.isEmpty || !termMoves.isEmpty }
}

/// Where `stress_library` names are looked up, first match wins, each folder once:
/// 1. the scenario's folder and its `stress/` subfolder;
/// 2. every folder of `$THRESHER_STRESS_LIBRARY` (a `:`-separated list);
/// 3. the install location `<prefix>/share/thresher/stress` beside `<prefix>/bin/thresher`
///    (`make install PREFIX=…`);
/// 4. the source tree's `Scenarios/stress` above the executable (a build in `.build/`).
public enum StressLibrary {
    public static func searchPaths(scenarioFile: String) -> [String] {
        var paths: [String] = []
        let scenarioDirectory = URL(fileURLWithPath: scenarioFile).deletingLastPathComponent()
        paths.append(scenarioDirectory.path)
        paths.append(scenarioDirectory.appendingPathComponent("stress").path)
        if let custom = ProcessInfo.processInfo.environment["THRESHER_STRESS_LIBRARY"] {
            paths += custom.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let executable = URL(fileURLWithPath: executablePath).resolvingSymlinksInPath()
        let binDirectory = executable.deletingLastPathComponent()
        paths.append(binDirectory.deletingLastPathComponent().appendingPathComponent("share/thresher/stress").path)
        var directory = binDirectory
        for _ in 0..<4 {
            directory.deleteLastPathComponent()
            let candidate = directory.appendingPathComponent("Scenarios/stress").path
            if FileManager.default.fileExists(atPath: candidate) { paths.append(candidate); break }
        }
        var seen = Set<String>()
        return paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }.filter { seen.insert($0).inserted }
    }

    /// The running executable (the main bundle's, falling back to argv[0]).
    static var executablePath: String {
        Bundle.main.executablePath ?? CommandLine.arguments.first ?? ""
    }

    /// The file of library `name`, or nil.
    public static func locate(_ name: String, scenarioFile: String) -> String? {
        for directory in searchPaths(scenarioFile: scenarioFile) {
            for ext in ["yaml", "yml", "json"] {
                let path = "\(directory)/\(name).\(ext)"
                if FileManager.default.fileExists(atPath: path) { return path }
            }
        }
        return nil
    }

    /// Loads a library file: `{description, source, stresses: [...]}`. Library stresses may name
    /// assets the scenario lacks (the library is shared): those moves are ignored.
    static func load(_ name: String, path: String, market: Market) throws -> [StressScenario] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, path: "", line: nil, message: "stress library '\(name)' cannot be read")
        }
        SourceRecorder.record(data)
        let document = try ConfigNode.parse(text, file: path)
        let p = ScalarParsers(file: path)
        let r = try FieldReader(document, file: path, path: "", known: ["description", "source", "stresses"])
        return try r.required("stresses") { node, path in
            try p.list(node, path).map { try StressScenario(node: $0.0, path: $0.1, market: market, origin: name, strictAssets: false, p) }
        }
    }
}

extension StressScenario {
    init(node: ConfigNode, path: String, market: Market, origin: String, strictAssets: Bool, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["name", "spot", "vol", "skew", "term", "horizon_days", "description"])
        name = try r.required("name", p.identifier)
        func moves(_ key: String, _ what: String, within limit: Double? = nil) throws -> [String: Double] {
            try r.optional(key) { node, path in
                var moves: [String: Double] = [:]
                for entry in try p.mapping(node, path) {
                    let entryPath = "\(path).\(entry.key)"
                    let stablecoinMove = key == "spot" && market.stablecoinIndex(entry.key) != nil
                    if entry.key != "*", market.assetIndex(entry.key) == nil, !stablecoinMove {
                        guard !strictAssets else {
                            throw p.fail(entry.value, entryPath, "unknown asset '\(entry.key)'; known assets: \(market.assets.map(\.id).joined(separator: ", ")) (or * for all)")
                        }
                        continue
                    }
                    let move = try p.number(entry.value, entryPath)
                    if let limit {
                        guard abs(move) <= limit else {
                            throw p.fail(entry.value, entryPath, "a \(what) move is an implied vol added (annualised), within ±\(shortNumber(limit)); got \(move)")
                        }
                        moves[entry.key] = move
                        continue
                    }
                    guard move > -1, move <= Limits.move else {
                        throw p.fail(entry.value, entryPath, "a relative \(what) move must be > −1 (−100 %) and ≤ \(shortNumber(Limits.move)) (+100,000 %), got \(move)")
                    }
                    moves[entry.key] = move
                }
                return moves
            } ?? [:]
        }
        spotMoves = try moves("spot", "spot")
        volMoves = try moves("vol", "implied-vol")
        skewMoves = try moves("skew", "skew", within: Limits.plausibleVol)
        termMoves = try moves("term", "term-structure", within: Limits.plausibleVol)
        horizonDays = try r.optional("horizon_days", p.within(0, Limits.horizonDays, "days"))
        self.origin = origin
    }
}

extension Scenario {
    /// Inline `stress:` entries followed by those of every `stress_library` name, in file order.
    static func loadStresses(top: FieldReader, file: String, market: Market, _ p: ScalarParsers) throws -> [StressScenario] {
        var stresses = try top.optional("stress") { node, path in
            try p.list(node, path).map { try StressScenario(node: $0.0, path: $0.1, market: market, origin: "inline", strictAssets: true, p) }
        } ?? []
        let libraries = try top.optional("stress_library") { node, path in try p.list(node, path).map { (try p.identifier($0.0, $0.1), $0.0, $0.1) } } ?? []
        for (name, node, path) in libraries {
            guard let location = StressLibrary.locate(name, scenarioFile: file) else {
                throw p.fail(node, path, "no stress library named '\(name)' (looked in: \(StressLibrary.searchPaths(scenarioFile: file).joined(separator: ", ")))")
            }
            stresses += try StressLibrary.load(name, path: location, market: market)
        }
        var seen = Set<String>()
        for stress in stresses where !seen.insert(stress.name).inserted {
            throw ScenarioError(file: file, path: "stress", line: top.node("stress")?.line, message: "duplicate stress name '\(stress.name)'")
        }
        return stresses
    }
}
