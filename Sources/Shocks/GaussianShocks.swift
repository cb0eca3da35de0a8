/// `tails: {model: gaussian}` — ε = L z.
struct GaussianShocks: ShockDistribution {
    let normals: CorrelatedNormals

    func fill(_ buffers: ShockBuffers, firstPath: Int, count: Int, draw: MarketModel.Draw) {
        normals.fill(buffers, firstPath: firstPath, count: count, draw: draw)
    }
}
