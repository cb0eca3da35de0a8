// Compiled only with the package trait MPI (`--traits MPI`): a plain `swift build` builds every
// target, and this one must then need no mpi.h.
#if MPI
import CMPI
import Foundation
import MonteCarlo

/// Thresher under `mpirun`: the ranks split the paths of every stage, rank 0 gathers their states
/// as bytes (`MPI_Gatherv`), merges them in rank order and broadcasts the merged state, so each rank
/// goes on with the same totals and rank 0 writes the one report. No arithmetic travels through MPI
/// (an `MPI_Reduce` on doubles would sum in an order MPI does not fix).
public enum MPISession {
    /// Initialises MPI when the process was started by an MPI launcher (otherwise nil: a plain
    /// run), and finalises it at exit.
    /// - Returns: the coordinator of the ranks and how to abort all of them.
    public static func start() -> (coordinator: CollectiveCoordinator, abort: @Sendable (Int32) -> Void)? {
        let environment = ProcessInfo.processInfo.environment
        guard Launcher.isMPIRank(environment) else { return nil }
        var rank: Int32 = 0, size: Int32 = 1
        guard thresher_mpi_start(&rank, &size) == 0 else {
            FileHandle.standardError.write(Data("error: MPI_Init failed\n".utf8))
            exit(70)
        }
        atexit { thresher_mpi_finish() }
        let coordinator = CollectiveCoordinator(rank: Int(rank), size: Int(size), gather: { [rank, size] in try gather($0, rank: rank, size: size) },
                                                broadcast: broadcast)
        return (coordinator, { code in thresher_mpi_abort(code) })
    }

    /// Every rank's bytes on rank 0, in rank order; nil on the other ranks.
    static func gather(_ data: Data, rank: Int32, size: Int32) throws -> [Data]? {
        var counts = [Int64](repeating: 0, count: Int(size))
        var buffer: UnsafeMutableRawPointer?
        let status = data.withUnsafeBytes { bytes in thresher_mpi_gather(bytes.baseAddress, Int64(data.count), &counts, &buffer) }
        guard status == 0 else { throw CoordinationError("MPI gather of \(data.count) bytes failed (status \(status)) on rank \(rank)") }
        guard rank == 0, let buffer else { return nil }
        defer { free(buffer) }
        var parts: [Data] = []
        var offset = 0
        for count in counts {
            parts.append(Data(bytes: buffer + offset, count: Int(count)))
            offset += Int(count)
        }
        return parts
    }

    /// Rank 0's bytes (`data`, nil elsewhere) on every rank.
    static func broadcast(_ data: Data?) throws -> Data {
        var count = Int64(data?.count ?? 0)
        if let data {
            // Rank 0 only reads its buffer (MPI_Bcast's signature wants it mutable).
            let status = data.withUnsafeBytes { bytes -> Int32 in
                var base = bytes.baseAddress.map { UnsafeMutableRawPointer(mutating: $0) }
                return thresher_mpi_broadcast(&base, &count)
            }
            guard status == 0 else { throw CoordinationError("MPI broadcast of \(count) bytes failed (status \(status))") }
            return data
        }
        var buffer: UnsafeMutableRawPointer?
        guard thresher_mpi_broadcast(&buffer, &count) == 0, let buffer else { throw CoordinationError("MPI broadcast failed") }
        defer { free(buffer) }
        return Data(bytes: buffer, count: Int(count))
    }
}
#endif
