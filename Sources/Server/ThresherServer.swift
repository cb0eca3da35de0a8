import Foundation
import Hummingbird
import Logging
import MonteCarlo
import NIOCore
import Reports
import ScenarioSpec
import ServiceLifecycle

/// `thresher serve FILE`: the scenario loaded once, what-ifs answered from it, Monte Carlo commands
/// run as jobs, the page at `/` and the API's description at `/openapi.yaml` (README, "Serving
/// what-ifs").
public struct ThresherServer: Sendable {
    let configuration: ServerConfiguration
    let state: ScenarioState
    let whatIfs: WhatIfService
    let jobs: JobQueue

    /// Loads and validates `file` (the CLI's errors when it cannot be used).
    /// - Throws: `ServerSetupError` for a bind beyond loopback without a token; the load's errors.
    public init(file: String, configuration: ServerConfiguration, runner: @escaping MonteCarloJobRunner) throws {
        guard (0...65535).contains(configuration.port) else { throw ServerSetupError("--port must be 0 to 65535 (0: any free port), got \(configuration.port)") }
        guard configuration.bindsLoopback || !(configuration.token ?? "").isEmpty else {
            throw ServerSetupError("--host \(configuration.host) is reachable from other machines: set THRESHER_TOKEN to a secret bearer token first (or bind 127.0.0.1)")
        }
        self.configuration = configuration
        state = try ScenarioState(file: file)
        whatIfs = WhatIfService(state: state)
        jobs = JobQueue(configuration: configuration, runner: runner)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, cancels the jobs (their event streams end)
    /// and lets the requests in flight finish (Hummingbird's graceful shutdown under
    /// swift-service-lifecycle).
    /// - Parameter announce: receives the start line with the bound address (port 0 resolved).
    public func run(announce: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "thresher.serve")
        logger.logLevel = .notice
        let snapshot = state.snapshot
        let host = configuration.host
        let app = Application(
            router: router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeoutSeconds))),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "thresher"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                announce("thresher serve: \(snapshot.scenario.name), \(snapshot.scenario.portfolio.accounts.count) accounts (loaded in \(String(format: "%.2f", snapshot.loadSeconds)) s); listening on http://\(host.contains(":") ? "[\(host)]" : host):\(port)/")
            },
            logger: logger)
        defer { jobs.cancelAll() }
        // Shut down in reverse order: the jobs are cancelled first (their event streams end), then the
        // server drains the requests in flight.
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: app), .init(service: JobCancellation(jobs: jobs), successTerminationBehavior: .ignore)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        if let token = configuration.token, !token.isEmpty { router.add(middleware: BearerTokenMiddleware(token: Array(token.utf8))) }
        router.get("/") { _, _ in Response.body(Data(ServePage.html.utf8), type: "text/html; charset=utf-8") }
        router.get("/openapi.yaml") { _, _ in Response.body(Data(OpenAPIDocument.yaml.utf8), type: "application/yaml; charset=utf-8") }
        router.get("/healthz") { _, _ in Response.json(.object([("status", .string("ok"))])) }
        router.get("/api/scenario") { _, _ in Response.json(scenarioJSON(state.snapshot)) }
        router.post("/api/reload") { request, context in
            _ = try await RequestFields(request, context: context, maxBytes: configuration.maxBodyBytes, known: [])
            let state = state
            return Response.json(scenarioJSON(try await offload { try state.reload() }))
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/api/whatif", method: method) { request, context in try await whatIf(request, context: context) }
            router.on("/api/stress", method: method) { request, context in
                let fields = try await RequestFields(request, context: context, maxBytes: configuration.maxBodyBytes, known: WhatIfQuery.fields)
                let query = try WhatIfQuery(fields, paths: state.paths)
                let whatIfs = whatIfs
                return Response.json(try await offload { try whatIfs.stressReport(query) })
            }
        }
        addJobRoutes(router)
        return router
    }

    /// `/api/whatif`: the move's summary, the fund, a page of accounts, the cascade.
    func whatIf(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let fields = try await RequestFields(request, context: context, maxBytes: configuration.maxBodyBytes,
                                             known: WhatIfQuery.fields.union(AccountPage.fields))
        let query = try WhatIfQuery(fields, paths: state.paths)
        let page = try AccountPage(fields, maxLimit: configuration.maxPageSize)
        let (whatIfs, folder) = (whatIfs, state.paths.folder)
        return Response.json(try await offload { Data(try whatIfs.answer(query).json(page: page, query: query, folder: folder).fileData) })
    }

    /// `/api/scenario`, and the answer of a reload: what is loaded.
    func scenarioJSON(_ s: ScenarioSnapshot) -> JSONValue {
        let market = s.scenario.market
        return .object([
            ("scenario", .string(s.scenario.name)), ("file", .string(URL(fileURLWithPath: s.file).lastPathComponent)),
            ("generation", .integer(s.generation)), ("loaded_at", .string(ISO8601DateFormatter().string(from: s.loadedAt))),
            ("load_seconds", .number(s.loadSeconds)),
            ("accounts", .integer(s.scenario.portfolio.accounts.count)),
            ("positions", .integer(s.scenario.portfolio.accounts.reduce(0) { $0 + $1.positions.count })),
            ("assets", .array(market.assets.map { .object([("id", .string($0.id)), ("spot", .number($0.spot))]) })),
            ("stablecoins", .array(market.stablecoins.map { .object([("id", .string($0.id)), ("price", .number($0.price))]) })),
            ("maintenance_source", s.maintenance.map { .string($0.source) } ?? .null),
            ("insurance_fund", (s.scenario.policy?.insuranceFund ?? s.scenario.calibration?.insuranceBalance).map(JSONValue.number) ?? .null),
            ("cascade", .bool(s.cascades)),
            ("simulation", .object([("paths", .integer(s.scenario.simulation.paths)), ("seed", .string(String(s.scenario.simulation.seed)))])),
            ("limits", .object([("max_body_bytes", .integer(configuration.maxBodyBytes)), ("max_jobs", .integer(configuration.maxJobs)),
                                ("max_running_jobs", .integer(configuration.maxRunningJobs)), ("max_page", .integer(configuration.maxPageSize))])),
        ])
    }
}
