import CommandSupport

/// Which share of a run this process computes, as a job launcher says it in the environment — the
/// one place that reads these variables (`--slice` on the command line overrides them).
public enum Launcher {
    /// Variables that mean "this process is an MPI rank" (Open MPI, PMIx, PMI).
    public static let mpiVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"]

    /// Whether an MPI launcher started this process.
    public static func isMPIRank(_ environment: [String: String]) -> Bool { mpiVariables.contains { environment[$0] != nil } }

    /// Variables that give the ranks an MPI launcher started on this node (Open MPI, MPICH/Hydra).
    public static let localRankCountVariables = ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"]

    /// Worker threads a process uses unless told (`--threads`): the `cores` it may run on, shared
    /// among the ranks an MPI launcher started on this node, max(1, cores / local ranks) — so
    /// `mpirun -np 2` on 16 cores runs 8 threads per rank, not 16.
    /// - Parameter cores: the processors this process may use (`ProcessInfo.activeProcessorCount`).
    public static func defaultThreads(_ environment: [String: String], cores: Int) -> Int {
        let local = localRankCountVariables.lazy.compactMap { environment[$0].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }.first
        return max(1, cores / max(1, local ?? 1))
    }

    /// The slice given by a launcher, with the variables it came from. In order: Open MPI, a Slurm
    /// job array, Slurm tasks, a Kubernetes Indexed Job, an AWS Batch array job.
    /// - Parameter slices: the slice count when the launcher gives only an index (`--slices`).
    /// - Throws: `CoordinationError` for an index without a count or out of range.
    public static func slice(_ environment: [String: String], slices: Int?) throws -> (index: Int, count: Int, source: String)? {
        func int(_ name: String) -> Int? { environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        func checked(_ index: Int?, _ count: Int?, _ source: String) throws -> (Int, Int, String)? {
            guard let index else { return nil }
            guard let count = slices ?? count else {
                throw CoordinationError("\(source) gives slice \(index) but no slice count: pass --slices N", exitStatus: ExitStatus.usage)
            }
            guard count >= 1, (0..<count).contains(index) else {
                throw CoordinationError("\(source) gives slice \(index) of \(count): not a valid slice", exitStatus: ExitStatus.usage)
            }
            return (index, count, source)
        }
        if let s = try checked(int("OMPI_COMM_WORLD_RANK"), int("OMPI_COMM_WORLD_SIZE"), "OMPI_COMM_WORLD_RANK/SIZE") { return s }
        if let id = int("SLURM_ARRAY_TASK_ID") {
            let index = id - (int("SLURM_ARRAY_TASK_MIN") ?? 0)
            if let s = try checked(index, int("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_ID/COUNT") { return s }
        }
        if let s = try checked(int("SLURM_PROCID"), int("SLURM_NTASKS"), "SLURM_PROCID/NTASKS") { return s }
        if let s = try checked(int("JOB_COMPLETION_INDEX"), nil, "JOB_COMPLETION_INDEX") { return s }
        if let s = try checked(int("AWS_BATCH_JOB_ARRAY_INDEX"), int("AWS_BATCH_JOB_ARRAY_SIZE"), "AWS_BATCH_JOB_ARRAY_INDEX/SIZE") { return s }
        return nil
    }
}
