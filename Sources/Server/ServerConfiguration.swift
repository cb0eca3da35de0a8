import Foundation
import MonteCarlo
import WorkerPool

/// How `thresher serve` listens and what it allows: the address, the bearer token, and the limits
/// that keep one client from starving the others.
public struct ServerConfiguration: Sendable {
    /// Address to bind; 127.0.0.1 by default. Anything but a loopback address needs `token`.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (the start line names it).
    public var port = 8080
    /// The bearer token every `/api` request must carry (`THRESHER_TOKEN`); nil: none asked.
    public var token: String?
    /// Largest request body accepted, bytes (413 beyond).
    public var maxBodyBytes = 1 << 20
    /// Monte Carlo jobs running at once; further jobs wait in the queue.
    public var maxRunningJobs = 1
    /// Jobs queued or running at once (429 beyond); finished jobs are kept, the oldest dropped past `keptJobs`.
    public var maxJobs = 8
    /// Finished jobs whose results are kept for download.
    public var keptJobs = 32
    /// Worker threads of a Monte Carlo job (the CLI's `--threads`).
    public var threads = defaultThreadCount
    /// Largest page of accounts a what-if returns.
    public var maxPageSize = 1000
    /// Seconds an idle connection is kept open (a slow or silent client is cut off after it).
    public var idleTimeoutSeconds: Int64 = 30

    public init() {}

    /// Whether `host` is a loopback address, reachable from this machine only.
    public var bindsLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.") }
}

/// What `serve` cannot start with: a bind beyond loopback without a token, a port out of range.
public struct ServerSetupError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs one Monte Carlo command (`run`, `calibrate`, `evaluate`) as the command line does and returns
/// its `--json` document: given by the `thresher` command (ThresherCLI), so that a job's numbers are
/// the CLI's by construction. `started` receives the progress counter once the total work is known.
public typealias MonteCarloJobRunner = @Sendable (_ request: RunRequest, _ threads: Int, _ cancellation: Cancellation,
                                                  _ started: @Sendable (RunProgress) -> Void) throws -> Data
