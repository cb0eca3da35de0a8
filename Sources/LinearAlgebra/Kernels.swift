import CLapack

/// In-place B ← L·B for a lower-triangular L (n×n, row-major) and B an n×m block of columns with
/// row stride `leadingDimension`, through `cblas_dtrmm`. Column j of B becomes L·b_j: this turns
/// independent normals into correlated ones for a whole chunk of paths in one BLAS call.
@inline(__always)
package func multiplyLowerTriangular(_ lower: UnsafePointer<Double>, order n: Int,
                                    into block: UnsafeMutablePointer<Double>, columns m: Int, leadingDimension: Int) {
    cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
                Int32(n), Int32(m), 1.0, lower, Int32(n), block, Int32(leadingDimension))
}

/// C ← α·A·B + C for row-major A (m×k), B (k×n, row stride `ldb`) and C (m×n, row stride `ldc`),
/// through `cblas_dgemm`.
@inline(__always)
package func multiplyAccumulate(_ a: UnsafePointer<Double>, rows m: Int, inner k: Int,
                               _ b: UnsafePointer<Double>, columns n: Int, ldb: Int,
                               into c: UnsafeMutablePointer<Double>, ldc: Int, alpha: Double = 1) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                alpha, a, Int32(k), b, Int32(ldb), 1.0, c, Int32(ldc))
}

/// The kernels OpenBLAS chose for this CPU when it was loaded ("Haswell", "Zen", "SkylakeX",
/// "Cooperlake", "Sandybridge", …; `OPENBLAS_CORETYPE` overrides the choice). Its kernels round the
/// products of the correlated shocks and of dense accounts differently, so reports agree to the last
/// bit only between processes that use the same core (README, "Reproducibility").
public var blasCore: String { String(cString: openblas_get_corename()) }

/// Make OpenBLAS single-threaded: the Dispatch worker pool owns the cores, each worker calls BLAS
/// on its own chunk. Only when it is not already: OpenBLAS's setter restarts a pool that was shut
/// down (see `ensureSingleThreadedBLASEnvironment`).
public func useSingleThreadedBLAS() {
    if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
}
