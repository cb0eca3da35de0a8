import Distributions

/// `tails: {model: t-copula, dof: ν_c}` — y = L z / √(W/ν_c), u_i = T_{ν_c}(y_i), and
/// ε_i = √((ν_i−2)/ν_i)·T_{ν_i}⁻¹(u_i) for an asset with its own `dof` ν_i, else Φ⁻¹(u_i). The map
/// goes through the smaller tail probability, so it keeps full precision at u = 1 − 10⁻¹⁵.
struct TCopulaShocks: ShockDistribution {
    let normals: CorrelatedNormals
    let dof: Double
    let copula: StudentT
    let marginals: [MarginalTail]

    /// How a copula uniform becomes asset i's standardized shock.
    enum MarginalTail: Sendable {
        case normal
        case student(StudentT, scale: Double)

        /// The standardized shock whose upper tail probability is `tail` (≤ ½), as a magnitude.
        @inline(__always) func upperQuantile(_ tail: Double) -> Double {
            switch self {
            case .normal: return StandardNormal.upperQuantile(tail)
            case .student(let t, let scale): return scale * t.upperQuantile(tail)
            }
        }
    }

    /// - Parameter marginalDegrees: each asset's marginal dof (> 2), nil for a normal marginal.
    init(normals: CorrelatedNormals, dof: Double, marginalDegrees: [Double?]) {
        self.normals = normals
        self.dof = dof
        copula = StudentT(dof: dof)
        marginals = marginalDegrees.map { degrees in
            guard let degrees else { return .normal }
            return .student(StudentT(dof: degrees), scale: ((degrees - 2) / degrees).squareRoot())
        }
    }

    func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw) {
        normals.fill(buffers, firstPath: firstPath, count: count, draw: draw)
        normals.fillMixing(dof: dof, numerator: dof, firstPath: firstPath, count: count, draw: draw, buffers: buffers)
        let ld = buffers.capacity
        for i in 0..<normals.assetCount {
            let row = buffers.epsilon + i * ld
            let marginal = marginals[i]
            for j in 0..<count {
                let y = row[j] * buffers.mixing[j]
                // u = T_νc(y); map through the marginal on the smaller tail: no 1 − u cancellation.
                let magnitude = marginal.upperQuantile(copula.survival(abs(y)))
                row[j] = y < 0 ? -magnitude : magnitude
            }
        }
    }
}
