import Foundation
import Hummingbird
import MonteCarlo
import NIOCore
import Reports

extension ThresherServer {
    static let jobFields: Set<String> = ["command", "paths", "seed", "sections", "set", "shock", "shock_vol", "policy", "market"]
    static let jobCommands = ["run", "calibrate", "evaluate"]

    /// `/api/jobs`: submit, list, status, result, progress events, cancel (DELETE).
    func addJobRoutes(_ router: Router<BasicRequestContext>) {
        router.post("/api/jobs") { request, context in
            let job = try jobs.submit(try await jobRequest(request, context: context))
            return Response.json(job.json, status: .accepted)
        }
        router.get("/api/jobs") { _, _ in Response.json(.object([("jobs", .array(jobs.all.map(\.json)))])) }
        router.get("/api/jobs/:id") { _, context in Response.json(try jobs.job(context.parameters.require("id")).json) }
        router.get("/api/jobs/:id/result") { _, context in
            let job = try jobs.job(context.parameters.require("id"))
            guard let result = job.result else {
                throw APIError(.conflict, "job \(job.id) is \(job.state.rawValue): no result\(job.isFinished ? "" : " yet; poll /api/jobs/\(job.id) or follow /api/jobs/\(job.id)/events")")
            }
            return Response.json(result)
        }
        router.delete("/api/jobs/:id") { _, context in try cancel(context) }
        router.get("/api/jobs/:id/events") { _, context in
            let job = try jobs.job(context.parameters.require("id"))
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                // A progress event every 200 ms while the job runs, then one "end" event with its final state
                // (looked for every 20 ms, so the end is told at once).
                var sent = ContinuousClock.now - .seconds(1)
                while true {
                    let finished = job.isFinished
                    if finished || ContinuousClock.now - sent >= .milliseconds(200) {
                        let event = "event: \(finished ? "end" : "progress")\ndata: \(job.json.serialized().replacingOccurrences(of: "\n", with: ""))\n\n"
                        try await writer.write(ByteBuffer(string: event))
                        sent = ContinuousClock.now
                    }
                    if finished { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await writer.finish(nil)
            })
        }
    }

    func cancel(_ context: BasicRequestContext) throws -> Response {
        let job = try jobs.job(context.parameters.require("id"))
        job.cancel()
        return Response.json(job.json, status: .accepted)
    }

    /// The job's `RunRequest` from the body: the command and the CLI's options, files inside the folder.
    func jobRequest(_ request: Request, context: BasicRequestContext) async throws -> RunRequest {
        let fields = try await RequestFields(request, context: context, maxBytes: configuration.maxBodyBytes, known: Self.jobFields)
        guard let command = try fields.choice("command", Self.jobCommands) else { throw APIError.field("command", "missing; one of \(Self.jobCommands.joined(separator: ", "))") }
        let query = try WhatIfQuery(fields, paths: state.paths)
        var run = RunRequest(command: command, scenarioPath: URL(fileURLWithPath: state.snapshot.file).standardizedFileURL.path)
        run.paths = try fields.integer("paths", in: 1...1_000_000_000)
        run.seed = try fields.seed("seed")
        run.sections = try fields.integer("sections", in: 0...1000)
        if run.sections != nil && command != "calibrate" { throw APIError.field("sections", "only calibrate takes sections") }
        run.overrides = query.overrides
        run.spotShocks = query.spotShocks
        run.volShocks = query.volShocks
        run.policyFile = query.policyFile
        run.marketFile = query.marketFile
        return run
    }
}
