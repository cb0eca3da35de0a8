/// `tails: {model: student-t, dof: ν}` — ε = √((ν−2)/ν) · L z / √(W/ν) = L z · √((ν−2)/W), one
/// W ~ χ²(ν) per path shared by all assets (ν > 2, so ε has unit variance).
struct StudentTShocks: ShockDistribution {
    let normals: CorrelatedNormals
    let dof: Double

    func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw) {
        normals.fill(buffers, firstPath: firstPath, count: count, draw: draw)
        normals.fillMixing(dof: dof, numerator: dof - 2, firstPath: firstPath, count: count, draw: draw, buffers: buffers)
        let ld = buffers.capacity
        for i in 0..<normals.assetCount {
            let row = buffers.epsilon + i * ld
            for j in 0..<count { row[j] *= buffers.mixing[j] }
        }
    }
}
