import Foundation
import ServiceLifecycle
import MonteCarlo
import Reports
import Synchronization
import WorkerPool

/// A Monte Carlo command run for a request: queued, then running on its own thread (never on the
/// server's event loops), with its progress readable at any time and a cooperative cancel.
final class Job: Sendable {
    enum State: String, Sendable { case queued, running, done, failed, cancelled }

    let id: String
    let request: RunRequest
    let created = Date()
    let cancellation = Cancellation()
    private let status = Mutex<(state: State, progress: RunProgress?, result: Data?, error: APIError?, finished: Date?)>((.queued, nil, nil, nil, nil))

    init(id: String, request: RunRequest) {
        self.id = id
        self.request = request
    }

    var state: State { status.withLock { $0.state } }
    var result: Data? { status.withLock { $0.result } }
    var isFinished: Bool { [.done, .failed, .cancelled].contains(state) }

    /// Marks the job running; false when it was cancelled while queued.
    func begin() -> Bool {
        status.withLock { s in
            guard s.state == .queued, !cancellation.isCancelled else { s.state = .cancelled; s.finished = Date(); return false }
            s.state = .running
            return true
        }
    }

    func started(_ progress: RunProgress) { status.withLock { $0.progress = progress } }

    func finish(result: Data?, error: APIError?) {
        status.withLock { s in
            s.state = cancellation.isCancelled && result == nil ? .cancelled : (result != nil ? .done : .failed)
            s.result = result
            s.error = s.state == .failed ? error : nil
            s.finished = Date()
        }
    }

    /// Cancels a queued or running job (a no-op once it finished).
    func cancel() {
        cancellation.cancel()
        status.withLock { s in if s.state == .queued { s.state = .cancelled; s.finished = Date() } }
    }

    /// `{"id", "command", "state", "progress": {"completed", "total", "fraction"}, "error", "links"}`.
    var json: JSONValue {
        let s = status.withLock { $0 }
        let completed = s.progress?.completed ?? 0, total = s.progress?.total ?? 0
        let fraction = s.state == .done ? 1 : (total > 0 ? min(Double(completed) / Double(total), 1) : 0)
        return .object([
            ("id", .string(id)), ("command", .string(request.command)), ("state", .string(s.state.rawValue)),
            ("paths", request.paths.map(JSONValue.integer) ?? .null), ("seed", request.seed.map { .string(String($0)) } ?? .null),
            ("overrides", .array(request.overrides.map(JSONValue.string))),
            ("shock", .array(request.spotShocks.map(JSONValue.string))), ("shock_vol", .array(request.volShocks.map(JSONValue.string))),
            ("progress", .object([("completed", .integer(completed)), ("total", .integer(total)), ("fraction", .number(fraction))])),
            ("created_at", .string(ISO8601DateFormatter().string(from: created))),
            ("seconds", s.finished.map { .number($0.timeIntervalSince(created)) } ?? .null),
            ("error", s.error?.json ?? .null),
            ("links", .object([("self", .string("/api/jobs/\(id)")), ("events", .string("/api/jobs/\(id)/events")),
                               ("result", .string("/api/jobs/\(id)/result"))])),
        ])
    }
}

/// The jobs of the server: at most `maxJobs` queued or running (429 beyond), `maxRunningJobs` of
/// them running at once (each uses `threads` workers), finished ones kept for download up to
/// `keptJobs`.
final class JobQueue: Sendable {
    private let jobs = Mutex<[Job]>([])
    private let slots: DispatchSemaphore
    private let configuration: ServerConfiguration
    private let runner: MonteCarloJobRunner

    init(configuration: ServerConfiguration, runner: @escaping MonteCarloJobRunner) {
        self.configuration = configuration
        self.runner = runner
        slots = DispatchSemaphore(value: configuration.maxRunningJobs)
    }

    /// Queues `request`; its thread waits for a slot, runs the command and keeps the document.
    /// - Throws: `APIError` 429 when `maxJobs` are already queued or running.
    func submit(_ request: RunRequest) throws -> Job {
        let job = Job(id: String(UUID().uuidString.lowercased().prefix(12)), request: request)
        try jobs.withLock { list in
            let active = list.filter { !$0.isFinished }.count
            guard active < configuration.maxJobs else {
                throw APIError(.tooManyRequests, "\(active) jobs are queued or running (the limit is \(configuration.maxJobs), --max-jobs); wait for one to finish or cancel one")
            }
            list.append(job)
            let finished = list.filter(\.isFinished)
            if finished.count > configuration.keptJobs { list.removeAll { $0 === finished[0] } }
        }
        let (slots, runner, threads) = (slots, runner, configuration.threads)
        Thread.detachNewThread {
            slots.wait()
            defer { slots.signal() }
            guard job.begin() else { return }
            do {
                let data = try runner(job.request, threads, job.cancellation) { job.started($0) }
                job.finish(result: data, error: nil)
            } catch {
                job.finish(result: nil, error: APIError.from(error))
            }
        }
        return job
    }

    func job(_ id: String) throws -> Job {
        guard let job = jobs.withLock({ $0.first { $0.id == id } }) else { throw APIError(.notFound, "no job '\(id)' (finished jobs are kept while fewer than \(configuration.keptJobs))") }
        return job
    }

    var all: [Job] { jobs.withLock { $0 } }

    /// Cancels every job (the server is stopping).
    func cancelAll() { for job in all { job.cancel() } }
}

/// Cancels every job when the server begins its graceful shutdown (SIGTERM), so that a client following
/// a long job's events does not hold the shutdown until the job would have ended.
struct JobCancellation: Service {
    let jobs: JobQueue

    func run() async throws {
        try? await gracefulShutdown()
        jobs.cancelAll()
    }
}
