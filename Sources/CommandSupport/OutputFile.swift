import Foundation

/// A file written safely: bytes go to a temporary file beside the destination, renamed over it only
/// when complete, so an interrupted or failed run never leaves a truncated file or destroys the
/// previous one. Destinations that are not regular files (`/dev/null`, a pipe) are written directly.
public final class OutputFile: @unchecked Sendable {
    public let destination: String
    private let writtenPath: String
    private let descriptor: Int32
    private var committed = false

    public struct Failure: ThresherError {
        public var exitStatus: Int32 { ExitStatus.cannotWrite }
        public let path: String
        public let reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String { "cannot write \(path): \(reason)" }
    }

    public init(path: String) throws {
        destination = path
        var status = stat()
        let special = stat(path, &status) == 0 && (status.st_mode & S_IFMT) != S_IFREG
        writtenPath = special ? path : Self.temporaryPath(for: path)
        let flags = special ? O_WRONLY : (O_WRONLY | O_CREAT | O_TRUNC)
        descriptor = open(writtenPath, flags, 0o644)
        guard descriptor >= 0 else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit {
        if !committed { discard() }
    }

    private static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    }

    /// Writes `bytes` at `offset` (thread-safe: positional writes to disjoint ranges).
    package func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: destination, reason: String(cString: strerror(errno)))
            }
            // Character devices such as /dev/null may report fewer bytes at a position: move on.
            if n == 0 { break }
            done += n
        }
    }

    public func write(_ data: Data, at offset: Int) throws {
        try data.withUnsafeBytes { try write($0, at: offset) }
    }

    /// Closes and moves the finished file into place.
    public func commit() throws {
        committed = true
        close(descriptor)
        if writtenPath != destination, rename(writtenPath, destination) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(writtenPath)
            throw Failure(path: destination, reason: reason)
        }
    }

    /// Closes and deletes the temporary file; the destination is left as it was.
    public func discard() {
        committed = true
        close(descriptor)
        if writtenPath != destination { unlink(writtenPath) }
    }

    /// Writes a whole file at once (temporary file, then rename).
    public static func write(_ data: Data, to path: String) throws {
        let file = try OutputFile(path: path)
        try file.write(data, at: 0)
        try file.commit()
    }
}
