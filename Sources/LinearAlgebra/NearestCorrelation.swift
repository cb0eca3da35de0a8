/// The result of a nearest-correlation repair.
public struct CorrelationRepair: Sendable {
    /// The repaired matrix: symmetric, unit diagonal, positive definite.
    public let matrix: Matrix
    /// max |repaired − original| over all entries.
    public let largestChange: Double
    /// Alternating-projection iterations used.
    public let iterations: Int
}

extension Matrix {
    /// The nearest correlation matrix in the Frobenius norm, by Higham's alternating projections
    /// with Dykstra's correction (N. J. Higham, "Computing the nearest correlation matrix — a problem
    /// from finance", IMA J. Numer. Anal. 22 (2002) 329–343).
    ///
    /// Alternates the projection onto the positive semidefinite cone (eigenvalues clipped at
    /// `minimumEigenvalue`, through `dsyevd`) with the projection onto unit-diagonal matrices. The
    /// floor `minimumEigenvalue` > 0 keeps the result strictly positive definite, so its Cholesky
    /// factor exists.
    /// - Precondition: the matrix is square and symmetric.
    public func nearestCorrelation(minimumEigenvalue: Double = 1e-8, tolerance: Double = 1e-12,
                                   maxIterations: Int = 1000) throws -> CorrelationRepair {
        precondition(rows == columns, "nearest correlation needs a square matrix")
        let n = rows
        var y = self
        var correction = Matrix(rows: n, columns: n, elements: Array(repeating: 0, count: n * n))
        var iterations = 0
        for iteration in 1...maxIterations {
            iterations = iteration
            var r = y
            for k in 0..<r.elements.count { r.elements[k] -= correction.elements[k] }
            let x = try r.projectedOntoPSD(floor: minimumEigenvalue)
            for k in 0..<r.elements.count { correction.elements[k] = x.elements[k] - r.elements[k] }
            var next = x
            for i in 0..<n { next[i, i] = 1 }
            let change = next.maxAbsDifference(y)
            y = next
            if change < tolerance { break }
        }
        // The unit-diagonal projection can leave the smallest eigenvalue a hair below the floor;
        // one final PSD projection with unit-diagonal rescaling guarantees positive definiteness.
        y = try y.projectedOntoPSD(floor: minimumEigenvalue).rescaledToUnitDiagonal()
        return CorrelationRepair(matrix: y, largestChange: y.maxAbsDifference(self), iterations: iterations)
    }

    /// V·max(Λ, floor)·Vᵀ, symmetrised.
    private func projectedOntoPSD(floor: Double) throws -> Matrix {
        let (values, vectors) = try symmetricEigen()
        let n = rows
        var scaled = vectors
        for j in 0..<n {
            let lambda = max(values[j], floor)
            for i in 0..<n { scaled[i, j] *= lambda }
        }
        var result = scaled * vectors.transposed
        for i in 0..<n { for j in 0..<i { let mean = 0.5 * (result[i, j] + result[j, i]); result[i, j] = mean; result[j, i] = mean } }
        return result
    }

    /// D^{-1/2}·A·D^{-1/2} with D = diag(A).
    private func rescaledToUnitDiagonal() -> Matrix {
        var result = self
        for i in 0..<rows {
            for j in 0..<columns { result[i, j] = self[i, j] / (self[i, i] * self[j, j]).squareRoot() }
        }
        return result
    }
}
