import Engine
import Foundation
import Reports

/// One page of the accounts of a what-if: filtered (who fails, or all), searched by id, sorted by a
/// column, then `offset`/`limit` — so a 10⁵-account book answers with a summary and the page shown,
/// not 10⁵ objects. Each row is the stress report's account entry (`StressReport.accountJSON`).
struct AccountPage {
    enum Filter: String, CaseIterable { case failing, liquidated, bankrupt, all }
    enum Column: String, CaseIterable { case risk, id, loss, equity_after, maintenance, shortfall }

    var filter = Filter.failing
    var search = ""
    var sort = Column.risk
    var descending = false
    var offset = 0
    var limit = 100

    static let fields: Set<String> = ["filter", "search", "sort", "order", "offset", "limit"]

    init() {}

    init(_ fields: RequestFields, maxLimit: Int) throws {
        filter = try fields.choice("filter", Filter.allCases.map(\.rawValue)).flatMap(Filter.init) ?? .failing
        search = try fields.string("search") ?? ""
        sort = try fields.choice("sort", Column.allCases.map(\.rawValue)).flatMap(Column.init) ?? .risk
        descending = try fields.choice("order", ["asc", "desc"]).map { $0 == "desc" } ?? [.loss, .shortfall].contains(sort)
        offset = try fields.integer("offset", in: 0...Int(Int32.max)) ?? 0
        limit = try fields.integer("limit", in: 0...maxLimit) ?? 100
    }

    /// The accounts that pass the filter and search, in the page's order.
    /// - Complexity: O(n + m log m), m the accounts that pass.
    func select(_ o: StressOutcome, ids: [String]) -> [Int] {
        var chosen: [Int] = []
        for a in ids.indices {
            let passes: Bool
            switch filter {
            case .all: passes = true
            case .bankrupt: passes = o.isBankrupt(account: a)
            case .liquidated: passes = o.isLiquidated(account: a) ?? false
            case .failing: passes = o.isBankrupt(account: a) || (o.isLiquidated(account: a) ?? false)
            }
            if passes && (search.isEmpty || ids[a].localizedCaseInsensitiveContains(search)) { chosen.append(a) }
        }
        if sort == .id {
            chosen.sort { descending ? ids[$0] > ids[$1] : ids[$0] < ids[$1] }
            return chosen
        }
        let key: [Double] = chosen.map { a in
            switch sort {
            case .risk: return o.equityAfter[a] - (o.maintenanceAfter?[a] ?? 0)
            case .loss: return o.accountLosses[a]
            case .equity_after: return o.equityAfter[a]
            case .maintenance: return o.maintenanceAfter?[a] ?? 0
            case .shortfall: return o.shortfall(account: a)
            case .id: return 0
            }
        }
        let order = key.indices.sorted { key[$0] != key[$1] ? (key[$0] < key[$1]) != descending : chosen[$0] < chosen[$1] }
        return order.map { chosen[$0] }
    }

    /// `{"total", "matching", "filter", "search", "sort", "order", "offset", "limit", "rows"}`.
    func json(_ o: StressOutcome, ids: [String]) -> JSONValue {
        let chosen = select(o, ids: ids)
        let rows = chosen.dropFirst(min(offset, chosen.count)).prefix(limit)
        return .object([
            ("total", .integer(ids.count)), ("matching", .integer(chosen.count)), ("filter", .string(filter.rawValue)),
            ("search", .string(search)), ("sort", .string(sort.rawValue)), ("order", .string(descending ? "desc" : "asc")),
            ("offset", .integer(offset)), ("limit", .integer(limit)),
            ("rows", .array(rows.map { StressReport.accountJSON(o, account: $0, id: ids[$0]) })),
        ])
    }
}

extension WhatIfAnswer {
    /// The answer's JSON: the move's summary (the stress report's fields), the fund, a page of
    /// accounts, the cascade, and links to this answer and to the full `stress` report.
    func json(page: AccountPage, query: WhatIfQuery, folder: String) -> JSONValue {
        let fund = scenario.policy?.insuranceFund ?? scenario.calibration?.insuranceBalance
        let shortfall = outcome.totalShortfall
        let queryString = query.queryString(relativeTo: folder)
        let pageQuery = "filter=\(page.filter.rawValue)&sort=\(page.sort.rawValue)&order=\(page.descending ? "desc" : "asc")&offset=\(page.offset)&limit=\(page.limit)"
            + (page.search.isEmpty ? "" : "&search=\(WhatIfQuery.escape(page.search))")
        let fundJSON: JSONValue = fund.map { balance in
            JSONValue.object([("balance", .number(balance)), ("total_shortfall", .number(shortfall)), ("left", .number(balance - shortfall)),
                              ("holds", .bool(shortfall <= balance))])
        } ?? .null
        let selfLink: String = "/api/whatif?" + [queryString, pageQuery].filter { !$0.isEmpty }.joined(separator: "&")
        let reportLink: String = "/api/stress" + (queryString.isEmpty ? "" : "?" + queryString)
        let links: JSONValue = .object([("self", .string(selfLink)), ("report", .string(reportLink))])
        let fields: [(String, JSONValue)] = [
            ("scenario", .string(scenario.name)), ("generation", .integer(snapshot.generation)),
            ("overrides", .array(echo.map(JSONValue.string))),
            ("maintenance_source", maintenanceSource.map(JSONValue.string) ?? .null),
            ("stress", .object(StressReport.summaryFields(outcome))),
            ("fund", fundJSON),
            ("accounts", page.json(outcome, ids: query.editsScenario ? scenario.portfolio.accounts.map(\.id) : snapshot.accountIDs)),
            ("cascade", cascade ?? .null),
            ("links", links),
            ("seconds", .number(seconds)),
        ]
        return .object(fields)
    }
}
