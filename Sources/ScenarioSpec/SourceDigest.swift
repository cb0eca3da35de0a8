import CommandSupport
import Foundation

/// The fingerprint of every file a scenario was read from (the scenario itself, its CSV books, the
/// stress libraries it names), in the order read: two processes that load the same files get the
/// same digest, so slices of one run made on different machines can be checked to belong together.
final class SourceRecorder: @unchecked Sendable {
    /// The recorder of the load in progress on this task, if any.
    @TaskLocal static var current: SourceRecorder?

    private var hash = FNV1a64()

    /// Records a file's bytes (with its length, so that concatenations differ).
    static func record(_ data: Data) {
        guard let recorder = current else { return }
        recorder.hash.add(UInt64(data.count))
        recorder.hash.add(data)
    }

    var digest: UInt64 { hash.value }
}
