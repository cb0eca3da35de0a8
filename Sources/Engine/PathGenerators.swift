import MonteCarlo
import Shocks

/// The horizon market states of a scenario's paths: ε, log S', S' and (with vol shocks) the
/// implied-vol multipliers, by `MarketModel.generate`.
public struct MarketStates: PathGenerator {
    public let model: MarketModel
    public init(model: MarketModel) { self.model = model }
    public func makePaths(capacity: Int) -> ShockBuffers { ShockBuffers(assetCount: model.assetCount, capacity: capacity) }
    public func generate(_ paths: Range<Int>, into buffer: ShockBuffers) {
        model.generate(firstPath: paths.lowerBound, count: paths.count, into: buffer)
    }
}

/// The standardized shocks ε alone of one set of streams (`sample`, the margin ladder).
public struct StandardizedShocks: PathGenerator {
    public let model: MarketModel
    public let draw: MarketModel.Draw
    public init(model: MarketModel, draw: MarketModel.Draw = .horizon) {
        self.model = model
        self.draw = draw
    }
    public func makePaths(capacity: Int) -> ShockBuffers { ShockBuffers(assetCount: model.assetCount, capacity: capacity) }
    public func generate(_ paths: Range<Int>, into buffer: ShockBuffers) {
        model.generateStandardized(firstPath: paths.lowerBound, count: paths.count, into: buffer, draw: draw)
    }
}
