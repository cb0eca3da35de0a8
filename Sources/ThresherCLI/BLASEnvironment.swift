import Foundation

/// Makes OpenBLAS single-threaded for the whole process.
///
/// Thresher calls BLAS only inside its own Dispatch workers, one chunk each, so OpenBLAS's thread
/// pool has nothing to do; but the pthread build starts that pool when the library loads, and its
/// idle threads spin (sched_yield) on the cores the workers need (measured: 62 → 49 ns per shock
/// draw on W1). The pool size is read from OPENBLAS_NUM_THREADS at load time, before `main`, so when
/// it is unset the process sets it and re-executes itself once. Set the variable yourself to
/// override it.
public func ensureSingleThreadedBLASEnvironment() {
    guard getenv("OPENBLAS_NUM_THREADS") == nil else { return }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    let arguments = CommandLine.unsafeArgv
    execv("/proc/self/exe", arguments)
    // execv returns only on failure (no /proc): carry on with the pool as it is.
}
