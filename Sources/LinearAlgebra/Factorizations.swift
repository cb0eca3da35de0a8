import CLapack
import CommandSupport

/// A failure reported by LAPACK, translated from its `info` code.
public enum LinearAlgebraError: ThresherError, Equatable {
    public var exitStatus: Int32 { ExitStatus.internalFailure }
    /// `dpotrf` found the leading minor of this order (1-based) not positive: the matrix is not
    /// positive definite.
    case notPositiveDefinite(leadingMinor: Int)
    /// `dsyevd` did not converge (`info` > 0).
    case eigenNoConvergence(info: Int)
    /// LAPACK rejected an argument (`info` < 0); a bug, never the user's input.
    case illegalArgument(routine: String, position: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let k):
            return "not positive definite: the leading minor of order \(k) is not positive"
        case .eigenNoConvergence(let info):
            return "symmetric eigendecomposition did not converge (dsyevd info = \(info))"
        case .illegalArgument(let routine, let position):
            return "\(routine): illegal value in argument \(position)"
        }
    }
}

extension Matrix {
    /// The lower-triangular Cholesky factor L with A = L·Lᵀ, by LAPACK `dpotrf` (upper triangle of
    /// the result zeroed).
    /// - Throws: `LinearAlgebraError.notPositiveDefinite(leadingMinor:)` naming the failing minor.
    /// - Complexity: O(n³/3).
    public func choleskyLower() throws -> Matrix {
        precondition(rows == columns, "Cholesky needs a square matrix")
        var factor = self
        let n = Int32(rows)
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), n, &factor.elements, n)
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(leadingMinor: Int(info)) }
        if info < 0 { throw LinearAlgebraError.illegalArgument(routine: "dpotrf", position: Int(-info)) }
        for i in 0..<rows { for j in (i + 1)..<max(columns, i + 1) { factor[i, j] = 0 } }
        return factor
    }

    /// Eigenvalues (ascending) and orthonormal eigenvectors (the columns of `vectors`) of a
    /// symmetric matrix, by LAPACK `dsyevd` (divide and conquer). Only the lower triangle is read.
    /// - Complexity: O(n³).
    public func symmetricEigen() throws -> (values: [Double], vectors: Matrix) {
        precondition(rows == columns, "eigendecomposition needs a square matrix")
        var vectors = self
        var values = [Double](repeating: 0, count: rows)
        let n = Int32(rows)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "L")),
                                  n, &vectors.elements, n, &values)
        if info > 0 { throw LinearAlgebraError.eigenNoConvergence(info: Int(info)) }
        if info < 0 { throw LinearAlgebraError.illegalArgument(routine: "dsyevd", position: Int(-info)) }
        return (values, vectors)
    }
}

extension Matrix {
    /// The inverse of a symmetric positive-definite matrix, by LAPACK `dpotrf` + `dpotri`.
    /// - Throws: `LinearAlgebraError.notPositiveDefinite(leadingMinor:)`.
    public func inverseOfPositiveDefinite() throws -> Matrix {
        var inverse = try choleskyLower()
        let n = Int32(rows)
        let info = LAPACKE_dpotri(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), n, &inverse.elements, n)
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(leadingMinor: Int(info)) }
        if info < 0 { throw LinearAlgebraError.illegalArgument(routine: "dpotri", position: Int(-info)) }
        for i in 0..<rows { for j in (i + 1)..<columns { inverse[i, j] = inverse[j, i] } }
        return inverse
    }
}
