/// Pearson correlation of the fits' standardized residuals on the days every series has a return
/// (the days of a series' returns are its price days after the first).
public func residualCorrelation(_ fits: [GARCHFit], days: [[Int]]) -> (matrix: [[Double]], commonDays: Int) {
    let k = fits.count
    var common = Set(days[0].dropFirst())
    for d in days.dropFirst() { common.formIntersection(d.dropFirst()) }
    let columns = (0..<k).map { i -> [Double] in
        let returnDays = Array(days[i].dropFirst())
        return returnDays.indices.filter { common.contains(returnDays[$0]) }.map { fits[i].standardizedResiduals[$0] }
    }
    let n = Double(common.count)
    let means = columns.map { $0.reduce(0, +) / max(n, 1) }
    var matrix = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
    for i in 0..<k {
        for j in 0..<k {
            var sxy = 0.0, sxx = 0.0, syy = 0.0
            for t in 0..<common.count {
                let x = columns[i][t] - means[i], y = columns[j][t] - means[j]
                sxy += x * y; sxx += x * x; syy += y * y
            }
            matrix[i][j] = i == j ? 1 : (sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0)
        }
    }
    return (matrix, common.count)
}
