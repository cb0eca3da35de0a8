import LinearAlgebra
import XCTest

final class LinearAlgebraTests: XCTestCase {
    func testCholeskyReproducesTheMatrix() throws {
        let a = Matrix(rowArrays: [[1, 0.8, 0.3, -0.2], [0.8, 1, 0.5, 0.1], [0.3, 0.5, 1, 0.4], [-0.2, 0.1, 0.4, 1]])
        let l = try a.choleskyLower()
        for i in 0..<4 { for j in (i + 1)..<4 { XCTAssertEqual(l[i, j], 0) } }
        XCTAssertLessThan((l * l.transposed).maxAbsDifference(a), 1e-14)
    }

    func testCholeskyNamesTheFailingLeadingMinor() {
        // The 2×2 leading minor is fine, the 3×3 one is singular-negative.
        let a = Matrix(rowArrays: [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])
        XCTAssertThrowsError(try a.choleskyLower()) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notPositiveDefinite(leadingMinor: 3))
        }
    }

    func testSymmetricEigen() throws {
        let a = Matrix(rowArrays: [[2, 1], [1, 2]])
        let (values, vectors) = try a.symmetricEigen()
        XCTAssertEqual(values[0], 1, accuracy: 1e-14)
        XCTAssertEqual(values[1], 3, accuracy: 1e-14)
        // A·v = λ·v for each column.
        for k in 0..<2 {
            let v = Matrix(rows: 2, columns: 1, elements: [vectors[0, k], vectors[1, k]])
            let av = a * v
            XCTAssertEqual(av[0, 0], values[k] * v[0, 0], accuracy: 1e-14)
            XCTAssertEqual(av[1, 0], values[k] * v[1, 0], accuracy: 1e-14)
        }
    }

    /// Higham (2002), section 4: the nearest correlation matrix to [[1,1,0],[1,1,1],[0,1,1]] is
    /// [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]] (4 decimals as published).
    func testNearestCorrelationMatchesHighamsExample() throws {
        let a = Matrix(rowArrays: [[1, 1, 0], [1, 1, 1], [0, 1, 1]])
        let repair = try a.nearestCorrelation()
        let expected = Matrix(rowArrays: [[1, 0.7607, 0.1573], [0.7607, 1, 0.7607], [0.1573, 0.7607, 1]])
        XCTAssertLessThan(repair.matrix.maxAbsDifference(expected), 1e-4)
        for i in 0..<3 { XCTAssertEqual(repair.matrix[i, i], 1, accuracy: 1e-12) }
        XCTAssertNoThrow(try repair.matrix.choleskyLower())
        XCTAssertEqual(repair.largestChange, 1 - 0.7607, accuracy: 1e-4)
    }
}
