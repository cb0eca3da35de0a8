import CommandSupport
import Foundation
import LinearAlgebra

extension Scenario {
    /// Reads, parses and validates a scenario file (YAML or JSON).
    /// - Parameters:
    ///   - overrides: `--set PATH=VALUE` edits applied to the document before validation (after the
    ///     included sections are read, so they edit those too).
    ///   - sections: sections read from other files instead of the scenario's (`--policy FILE`,
    ///     `--market FILE`; see `IncludedSection`).
    /// - Throws: `ScenarioError` (bad content, with field path) or `ScenarioFileError` (unreadable).
    /// - Note: `sourceDigest` of the result fingerprints every file read (scenario, included
    ///   sections, CSV books, stress libraries).
    public static func load(path: String, overrides: [Override] = [], sections: [IncludedSection: String] = [:]) throws -> Scenario {
        let recorder = SourceRecorder()
        var scenario = try SourceRecorder.$current.withValue(recorder) {
            var document = try ConfigNode.parse(try readText(path), file: path)
            let sources = try document.resolveIncludes(scenarioFile: path, replacing: sections)
            for override in overrides { try document.apply(override) }
            return try Scenario(document: document, file: path, sources: sources)
        }
        scenario.sourceDigest = recorder.digest
        return scenario
    }

    /// The UTF-8 text of a scenario file.
    /// - Throws: `ScenarioFileError` (missing, unreadable, too large) or `ScenarioError` (not UTF-8
    ///   text, with the fix: UTF-16 files are named as such).
    static func readText(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) ?? FileHandle(forReadingAtPath: path)?.readDataToEndOfFile() else {
            throw ScenarioFileError(path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "no such file")
        }
        SourceRecorder.record(data)
        guard data.count <= ConfigNode.maximumDocumentBytes else {
            throw ScenarioError(file: path, path: "", line: nil, message: "the file is \(data.count >> 20) MiB; scenario files are limited to \(ConfigNode.maximumDocumentBytes >> 20) MiB")
        }
        let bytes = [UInt8](data.prefix(2))
        if bytes == [0xFF, 0xFE] || bytes == [0xFE, 0xFF] {
            throw ScenarioError(file: path, path: "", line: nil, message: "the file is UTF-16 text; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 \(path))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ScenarioError(file: path, path: "", line: nil, message: "the file is not UTF-8 text (binary data, or another encoding): a scenario is YAML or JSON saved as UTF-8")
        }
        return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    /// Validates an already-parsed document.
    /// - Parameter sources: the file each included section was read from (its errors name it).
    public init(document: ConfigNode, file: String, sources: [IncludedSection: String] = [:]) throws {
        guard case .mapping = document else {
            throw ScenarioError(file: file, path: "", line: document.line,
                                message: "the top level is \(document.kindDescription), not a mapping: a scenario is a mapping with the keys name, simulation, market and portfolio (see Scenarios/README.md)")
        }
        let p = ScalarParsers(file: file)
        let top = try FieldReader(document, file: file, path: "", known: Scenario.topLevelFields)
        name = try top.required("name", p.identifier)
        simulation = try top.required("simulation") { try Simulation(node: $0, path: $1, p) }
        market = try top.required("market") { try Market(node: $0, path: $1, ScalarParsers(file: sources[.market] ?? file)) }
        let market = self.market
        portfolio = try top.required("portfolio") { try Portfolio(node: $0, path: $1, market: market, p) }
        risk = try top.optional("risk") { try Risk(node: $0, path: $1, p) } ?? Risk(confidence: [ConfidenceLevel(value: 0.99, label: "0.99")])
        let portfolio = self.portfolio, horizonDays = simulation.horizonDays
        calibration = try top.optional("calibration") {
            try CalibrationSpec(node: $0, path: $1, market: market, portfolio: portfolio, horizonDays: horizonDays, p)
        }
        policy = try top.optional("policy") { try MarginPolicy(node: $0, path: $1, market: market, portfolio: portfolio, ScalarParsers(file: sources[.policy] ?? file)) }
        robustness = try top.optional("robustness") {
            try RobustnessSpec(node: $0, path: $1, scenarioTails: market.tails, assets: market.assets.map(\.id), horizonDays: horizonDays, p)
        }
        stresses = try Scenario.loadStresses(top: top, file: file, market: market, p)
    }

    static let topLevelFields = ["name", "simulation", "market", "portfolio", "risk", "calibration", "policy", "robustness", "stress", "stress_library"]
}

/// The scenario file itself could not be read.
public struct ScenarioFileError: ThresherError, Sendable {
    public var exitStatus: Int32 { ExitStatus.missingInput }
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

extension Simulation {
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["paths", "seed", "horizon_days"])
        paths = try r.required("paths", p.positiveInteger)
        guard paths <= Limits.paths else {
            let hours = Double(paths) / 3e6 / 3600
            throw r.error("paths", "\(paths) paths is beyond \(Limits.paths) (about \(Int(hours)) hours at 3 million paths/s); split the run (--paths, slices) or use fewer")
        }
        let seedValue = try r.optional("seed", p.integer) ?? 0
        guard seedValue >= 0 else { throw r.error("seed", "must be a whole number ≥ 0, got \(seedValue)") }
        seed = UInt64(seedValue)
        horizonDays = try r.optional("horizon_days", p.within(0, Limits.horizonDays, openLow: true, "days")) ?? 1
    }
}

extension Market {
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["rate", "assets", "correlation", "tails", "vol_shocks", "stablecoins", "smiles", "smile_factors"])
        rate = try r.optional("rate", p.within(-Limits.rate, Limits.rate, "(annual, continuously compounded)")) ?? 0
        // The ids of the assets, read ahead: a filtered-historical tail model takes their history columns.
        let declaredAssetIDs = r.node("assets").flatMap { node -> [String]? in
            guard case .sequence(let items, _) = node else { return nil }
            return items.map { item in
                guard case .mapping(let pairs, _) = item, let id = pairs.first(where: { $0.key == "id" })?.value, case .scalar(let text, _, _) = id else { return "" }
                return text
            }
        } ?? []
        let tails = try r.optional("tails") { try TailModel(node: $0, path: $1, assets: declaredAssetIDs, p) } ?? .gaussian
        self.tails = tails
        shockCap = try r.optional("tails") { node, path in
            try FieldReader(node, file: p.file, path: path, known: ["model", "dof", "cap", "history", "columns"]).optional("cap", p.within(0, 1000, openLow: true))
        } ?? nil
        assets = try r.required("assets") { node, path in
            let items = try p.nonEmptyList(node, path, of: "asset")
            var seen = Set<String>()
            return try items.map { item, itemPath in
                let asset = try Asset(node: item, path: itemPath, tails: tails, p)
                guard asset.id != "USD" else { throw p.fail(item, "\(itemPath).id", "'USD' is the quote currency, not an asset id") }
                guard seen.insert(asset.id).inserted else { throw p.fail(item, "\(itemPath).id", "duplicate asset id '\(asset.id)'") }
                return asset
            }
        }
        let count = assets.count
        if let correlationNode = r.node("correlation") {
            let checked = try CorrelationInput(node: correlationNode, path: r.childPath("correlation"), assetCount: count, p)
            correlation = checked.matrix
            correlationRepairChange = checked.repairChange
        } else if count == 1 {
            correlation = [[1]]
            correlationRepairChange = nil
        } else {
            throw r.error("correlation", "missing required field 'correlation' (needed for \(count) assets): give {matrix: [[…]]} or {uniform: ρ}")
        }
        volShocks = try r.optional("vol_shocks") { try VolShocks(node: $0, path: $1, p) }
        let assets = self.assets, rate = self.rate
        smiles = try r.optional("smiles") { try VolSmile.all(node: $0, path: $1, assets: assets, rate: rate, p) } ?? []
        smileFactors = try r.optional("smile_factors") { try SmileFactors.all(node: $0, path: $1, assets: assets, p) } ?? []
        let assetIDs = Set(assets.map(\.id))
        stablecoins = try r.optional("stablecoins") { node, path in
            var seen = Set<String>()
            return try p.list(node, path).map { item, itemPath in
                let s = try FieldReader(item, file: p.file, path: itemPath, known: ["id", "price", "haircut"])
                let id = try s.required("id", p.identifier)
                guard id != "USD", !assetIDs.contains(id) else { throw s.error("id", "'\(id)' is already the quote currency or an asset id") }
                guard seen.insert(id).inserted else { throw s.error("id", "duplicate stablecoin id '\(id)'") }
                return Stablecoin(id: id, price: try s.optional("price", p.within(0, 10, openLow: true, "USD")) ?? 1,
                                  haircut: try s.optional("haircut", p.within(0, 0.999, "(fraction of value)")) ?? 0)
            }
        } ?? []
    }
}

extension Asset {
    init(node: ConfigNode, path: String, tails: TailModel, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["id", "spot", "vol", "dof"])
        id = try r.required("id", p.identifier)
        spot = try r.required("spot", p.within(Limits.spot.low, Limits.spot.high, "USD"))
        vol = try r.required("vol", p.volatility)
        dof = try r.optional("dof", p.degreesOfFreedom)
        if let node = r.node("dof") {
            if case .tCopula = tails {} else { p.warn(node, r.childPath("dof"), "marginal dof is used by the t-copula model only; ignored under '\(tails.name)'") }
        }
    }
}

extension VolShocks {
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["vol_of_vol", "spot_correlation"])
        volOfVol = try r.required("vol_of_vol", p.within(0, Limits.vol, "(annualised)"))
        spotCorrelation = try r.optional("spot_correlation") { node, path in
            let rho = try p.number(node, path)
            guard (-1...1).contains(rho) else { throw p.fail(node, path, "must be in [−1, 1], got \(rho)") }
            return rho
        } ?? 0
    }
}

/// `market.correlation`: `{matrix: [[…]], repair: none|nearest}` or `{uniform: ρ}`, checked and,
/// if asked, repaired to the nearest correlation matrix.
struct CorrelationInput {
    var matrix: [[Double]]
    var repairChange: Double?

    init(node: ConfigNode, path: String, assetCount n: Int, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["matrix", "uniform", "repair"])
        let repair = try r.optional("repair") { try p.oneOf($0, $1, ["none", "nearest"]) } ?? "none"
        let uniform = try r.optional("uniform", p.number)
        let explicit = try r.optional("matrix") { node, path in
            try p.list(node, path).map { row, rowPath in try p.list(row, rowPath).map { try p.number($0.0, $0.1) } }
        }
        let matrixNode = r.node("matrix")
        switch (explicit, uniform) {
        case (nil, nil):
            throw r.error("matrix", "give either 'matrix' (\(n)×\(n)) or 'uniform' (one pairwise correlation)")
        case (.some, .some):
            throw r.error("uniform", "give either 'matrix' or 'uniform', not both")
        case (nil, let rho?):
            let lowest = n > 1 ? -1 / Double(n - 1) : -1
            guard rho > lowest, rho < 1 || n == 1 else {
                throw r.error("uniform", "a uniform correlation for \(n) assets must be in (\(lowest), 1) to be positive definite, got \(rho)")
            }
            matrix = (0..<n).map { i in (0..<n).map { j in i == j ? 1 : rho } }
            repairChange = nil
            return
        case (let rows?, nil):
            matrix = rows
        }
        let matrixPath = r.childPath("matrix")
        let anchor = matrixNode ?? node
        guard matrix.count == n else {
            throw p.fail(anchor, matrixPath, "must be \(n)×\(n) (one row per asset), got \(matrix.count) rows")
        }
        for (i, row) in matrix.enumerated() where row.count != n {
            throw p.fail(anchor, "\(matrixPath)[\(i)]", "row \(i) has \(row.count) entries; expected \(n)")
        }
        for i in 0..<n {
            guard abs(matrix[i][i] - 1) <= 1e-12 else {
                throw p.fail(anchor, "\(matrixPath)[\(i)][\(i)]", "diagonal entries must be 1, got \(matrix[i][i])")
            }
            for j in 0..<n {
                guard (-1...1).contains(matrix[i][j]) else {
                    throw p.fail(anchor, "\(matrixPath)[\(i)][\(j)]", "correlations must be in [−1, 1], got \(matrix[i][j])")
                }
                guard abs(matrix[i][j] - matrix[j][i]) <= 1e-12 else {
                    throw p.fail(anchor, "\(matrixPath)[\(i)][\(j)]", "not symmetric: entry (\(i),\(j)) = \(matrix[i][j]) but (\(j),\(i)) = \(matrix[j][i])")
                }
            }
        }
        let candidate = Matrix(rowArrays: matrix)
        do {
            _ = try candidate.choleskyLower()
            repairChange = repair == "nearest" ? 0 : nil
        } catch LinearAlgebraError.notPositiveDefinite(let minor) {
            guard repair == "nearest" else {
                let smallest = (try? candidate.symmetricEigen().values.min()).flatMap { $0 }.map { String(format: ", smallest eigenvalue %.3g", $0) } ?? ""
                throw p.fail(anchor, matrixPath, "not positive definite (Cholesky stops at the leading \(minor)×\(minor) minor\(smallest)): these correlations cannot hold together; fix the matrix or set 'repair: nearest'")
            }
            let repaired = try candidate.nearestCorrelation()
            matrix = (0..<n).map { i in (0..<n).map { j in repaired.matrix[i, j] } }
            repairChange = repaired.largestChange
        }
    }
}

extension Portfolio {
    init(node: ConfigNode, path: String, market: Market, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["accounts", "positions", "balances", "generated_by"])
        let positions = try r.optional("positions", p.identifier), balances = try r.optional("balances", p.identifier)
        let generatedBy = try r.optional("generated_by", p.text)
        if positions != nil || balances != nil {
            guard r.node("accounts") == nil else {
                throw r.error("accounts", "give the book either as 'accounts' or as CSV files ('positions', 'balances'), not both")
            }
            accounts = try CSVBook.accounts(positions: positions, balances: balances, scenarioFile: p.file, market: market, generatedBy: generatedBy)
            guard !accounts.isEmpty else { throw r.error(positions != nil ? "positions" : "balances", "the CSV files hold no rows") }
            return
        }
        accounts = try r.required("accounts") { node, path in
            let items = try p.nonEmptyList(node, path, of: "account")
            var seen = Set<String>()
            return try items.map { item, itemPath in
                let account = try Account(node: item, path: itemPath, market: market, p)
                guard seen.insert(account.id).inserted else { throw p.fail(item, "\(itemPath).id", "duplicate account id '\(account.id)'") }
                return account
            }
        }
    }
}

extension Account {
    init(node: ConfigNode, path: String, market: Market, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["id", "collateral", "positions"])
        id = try r.required("id", p.identifier)
        collateral = try r.optional("collateral") { node, path in
            try p.mapping(node, path).map { entry in
                let entryPath = "\(path).\(entry.key)"
                guard entry.key == "USD" || market.assetIndex(entry.key) != nil || market.stablecoinIndex(entry.key) != nil else {
                    throw p.fail(entry.value, entryPath, "collateral in unknown currency '\(entry.key)'; use USD, a stablecoin of market.stablecoins or one of: \(market.assets.map(\.id).joined(separator: ", "))")
                }
                return (entry.key, try p.within(0, Limits.amount)(entry.value, entryPath))
            }
        } ?? []
        positions = try r.optional("positions") { node, path in
            try p.list(node, path).map { try Position(node: $0.0, path: $0.1, market: market, p) }
        } ?? []
    }
}

extension Position {
    /// Reads `type` and `asset`, then the instrument's own fields (`InstrumentRegistry`).
    init(node: ConfigNode, path: String, market: Market, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: InstrumentRegistry.allFields)
        let type = try r.required("type") { try p.oneOf($0, $1, InstrumentRegistry.typeNames) }
        let asset = try r.required("asset") { node, path in
            let id = try p.identifier(node, path)
            guard market.assetIndex(id) != nil else {
                throw p.fail(node, path, "unknown asset '\(id)'; known assets: \(market.assets.map(\.id).joined(separator: ", "))")
            }
            return id
        }
        let instrument = InstrumentRegistry.instrument(named: type)!
        try r.rejectUnknown(allowed: ["type", "asset"] + instrument.fields)
        let spot = market.assets[market.assetIndex(asset)!].spot
        let smile = market.smile(of: asset).map { SmileQuote(smile: $0, spot: spot, rate: market.rate) }
        self.init(try instrument.init(asset: asset, fields: InstrumentFields(reader: r, parsers: p, smile: smile)))
    }
}

extension Risk {
    init(node: ConfigNode, path: String, _ p: ScalarParsers) throws {
        let r = try FieldReader(node, file: p.file, path: path, known: ["confidence"])
        confidence = try r.required("confidence") { node, path in
            let items = try p.nonEmptyList(node, path, of: "confidence level")
            var levels: [ConfidenceLevel] = []
            for (item, itemPath) in items {
                let value = try p.openUnitInterval(item, itemPath)
                guard !levels.contains(where: { $0.value == value }) else { throw p.fail(item, itemPath, "duplicate confidence level \(value)") }
                levels.append(ConfidenceLevel(value: value, label: try p.text(item, itemPath)))
            }
            return levels
        }
    }
}
