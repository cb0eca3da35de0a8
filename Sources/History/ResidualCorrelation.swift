/// The fits' standardized residuals on the days every series has a return (the days of a series'
/// returns are its price days after the first), one column per fit, in date order.
public func commonResiduals(_ fits: [GARCHFit], days: [[Int]]) -> [[Double]] {
    var common = Set(days[0].dropFirst())
    for d in days.dropFirst() { common.formIntersection(d.dropFirst()) }
    return fits.indices.map { i in
        let returnDays = Array(days[i].dropFirst())
        return returnDays.indices.filter { common.contains(returnDays[$0]) }.map { fits[i].standardizedResiduals[$0] }
    }
}

/// Pearson correlation of the fits' standardized residuals on the days every series has a return.
public func residualCorrelation(_ fits: [GARCHFit], days: [[Int]]) -> (matrix: [[Double]], commonDays: Int) {
    let columns = commonResiduals(fits, days: days)
    let k = fits.count, n = columns[0].count
    let means = columns.map { $0.reduce(0, +) / Double(max(n, 1)) }
    var matrix = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
    for i in 0..<k {
        for j in 0..<k {
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            for t in 0..<n {
                let x = columns[i][t] - means[i], y = columns[j][t] - means[j]
                sxy += x * y; sxx += x * x; syy += y * y
            }
            matrix[i][j] = i == j ? 1 : (sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0)
        }
    }
    return (matrix, n)
}
