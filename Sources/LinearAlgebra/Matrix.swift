import CLapack

/// A dense real matrix stored row-major (C order), the layout handed to CBLAS/LAPACKE with
/// `CblasRowMajor` / `LAPACK_ROW_MAJOR`.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// Entries in row-major order: element (i, j) is `elements[i * columns + j]`.
    public var elements: [Double]

    public init(rows: Int, columns: Int, elements: [Double]) {
        precondition(elements.count == rows * columns, "Matrix: \(elements.count) entries for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from its rows (all of the same length).
    public init(rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "Matrix: ragged rows")
        self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
    }

    public subscript(row: Int, column: Int) -> Double {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows, elements: elements)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    /// The product A·B through `cblas_dgemm`.
    /// - Complexity: O(rows · columns · other.columns).
    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows, "Matrix product: \(a.rows)×\(a.columns) · \(b.rows)×\(b.columns)")
        var c = [Double](repeating: 0, count: a.rows * b.columns)
        if a.rows > 0, b.columns > 0, a.columns > 0 {
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                        Int32(a.rows), Int32(b.columns), Int32(a.columns),
                        1.0, a.elements, Int32(a.columns), b.elements, Int32(b.columns),
                        0.0, &c, Int32(b.columns))
        }
        return Matrix(rows: a.rows, columns: b.columns, elements: c)
    }

    /// The largest absolute entry of A − B.
    public func maxAbsDifference(_ other: Matrix) -> Double {
        zip(elements, other.elements).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    public var description: String {
        (0..<rows).map { i in (0..<columns).map { j in "\(self[i, j])" }.joined(separator: " ") }.joined(separator: "\n")
    }
}
