import Distributions
import XCTest

/// Reference values computed with mpmath at 40–50 digits (betainc, ncdf, findroot) and
/// scipy.stats.t.isf 1.17.
final class DistributionsTests: XCTestCase {
    func testNormalQuantileAgainstHighPrecisionValues() {
        let cases: [(Double, Double)] = [
            (0.975, 1.9599639845400539), (0.3, -0.52440051270804082), (0.9999, 3.7190164854557084),
            (1e-10, -6.3613409024040562), (1e-20, -9.2623400897984075737), (1e-300, -37.047096299361199237),
        ]
        for (p, x) in cases {
            XCTAssertEqual(StandardNormal.quantile(p), x, accuracy: 4e-15 * max(1, abs(x)), "p = \(p)")
        }
        XCTAssertEqual(StandardNormal.upperQuantile(1e-20), 9.2623400897984075737, accuracy: 1e-13)
    }

    func testStudentTTailProbabilitiesAreRelativelyAccurate() {
        let cases: [(dof: Double, x: Double, tail: Double)] = [
            (4, 3.7469473879792, 0.0099999999999999734), (3, 100, 1.1022609615924556e-6),
            (5, 1e4, 9.4901662287588064e-20), (4, 1e8, 2.999999999999998e-32), (2.5, 0.3, 0.39367118574759861),
            (30, 8, 3.1329112378503795e-9), (3, 1e-3, 0.49963244748473047),
        ]
        for c in cases {
            let value = StudentT(dof: c.dof).survival(c.x)
            XCTAssertEqual(value / c.tail, 1, accuracy: 1e-12, "ν = \(c.dof), x = \(c.x)")
            XCTAssertEqual(StudentT(dof: c.dof).cdf(-c.x) / c.tail, 1, accuracy: 1e-12)
        }
        // Closed forms: ν = 1 (Cauchy) P(T > x) = atan(1/x)/π; ν = 2: ½(1 − x/√(2+x²)).
        for x in [0.5, 3.0, 1e3, 1e9] {
            XCTAssertEqual(StudentT(dof: 1).survival(x) / (atan(1 / x) / Double.pi), 1, accuracy: 1e-12)
            let nu2 = 1 / ((2 + x * x).squareRoot() * ((2 + x * x).squareRoot() + x))
            XCTAssertEqual(StudentT(dof: 2).survival(x) / nu2, 1, accuracy: 1e-12)
        }
    }

    func testStudentTQuantiles() {
        let cases: [(dof: Double, q: Double, x: Double)] = [
            (4, 0.01, 3.746947387979197), (4, 0.001, 7.1731822197823085), (3, 1e-12, 10331.108244292486),
            (6, 1e-6, 17.830314500655491), (2.5, 0.3, 0.597307738252318), (50, 1e-9, 7.305270603258702),
        ]
        for c in cases {
            let t = StudentT(dof: c.dof)
            XCTAssertEqual(t.upperQuantile(c.q) / c.x, 1, accuracy: 1e-12, "ν = \(c.dof), q = \(c.q)")
            XCTAssertEqual(t.quantile(c.q) / -c.x, 1, accuracy: 1e-12)
        }
        // Round trip deep in the tail.
        let t = StudentT(dof: 4)
        for q in [1e-200, 1e-50, 1e-15, 0.2, 0.49] {
            XCTAssertEqual(t.survival(t.upperQuantile(q)) / q, 1, accuracy: 1e-12, "q = \(q)")
        }
    }
}
