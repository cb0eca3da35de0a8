import Foundation


/// Makes OpenBLAS single-threaded for the whole process.
///
/// Thresher calls BLAS only inside its own Dispatch workers, one chunk each, so OpenBLAS's thread
/// pool has nothing to do; but the pthread build starts that pool when the library loads, and its
/// idle threads spin (sched_yield) for about 0.1 s on the cores the workers need (measured: 62 → 49
/// ns per shock draw on W1). So, unless OPENBLAS_NUM_THREADS is set (then it is obeyed):
/// - when the library exports `blas_thread_shutdown_` (OpenBLAS's own pool teardown, which its
///   fork handler uses), the pool is set to one thread and its workers are joined at once;
/// - otherwise the process sets OPENBLAS_NUM_THREADS=1 and re-executes itself, since the pool size
///   is read when the library loads, before `main` (≈ 10 ms more start-up).
public func ensureSingleThreadedBLASEnvironment() {
    guard getenv("OPENBLAS_NUM_THREADS") == nil else { return }
    if let shutdown = dlsym(dlopen(nil, RTLD_NOW), "blas_thread_shutdown_") {
        useSingleThreadedBLAS()
        _ = unsafeBitCast(shutdown, to: (@convention(c) () -> Int32).self)()
        return
    }
    setenv("OPENBLAS_NUM_THREADS", "1", 1)
    let arguments = CommandLine.unsafeArgv
    execv("/proc/self/exe", arguments)
    // execv returns only on failure (no /proc): carry on with the pool as it is.
}
