import Distributions
import Foundation

/// A likelihood-ratio statistic with its asymptotic χ²(k) p-value.
public struct LikelihoodRatio: Sendable, Equatable {
    public let statistic: Double
    public let degreesOfFreedom: Int
    /// P(χ²_k ≥ statistic): erfc(√(s/2)) for k = 1, e^{−s/2} for k = 2 (closed forms).
    public var pValue: Double { degreesOfFreedom == 1 ? erfc((statistic / 2).squareRoot()) : exp(-statistic / 2) }
}

/// The Basel traffic-light zone of an exception count: green while P(X ≤ x) < 95 %, yellow while it
/// is < 99.99 %, red from there (X ~ Binomial(N, p)); Basel's 250-day, 99 % table is 0–4 / 5–9 / 10+.
public enum TrafficLight: String, Sendable {
    case green, yellow, red

    public init(cumulativeProbability: Double) {
        self = cumulativeProbability < 0.95 ? .green : cumulativeProbability < 0.9999 ? .yellow : .red
    }
}

/// The frequency tests of a VaR exception ("hit") series I_1 … I_N at expected rate p = 1 − α:
///
/// - Kupiec's proportion of failures, x = Σ I_t:
///   LR_POF = −2·[(N−x)·ln(1−p) + x·ln p] + 2·[(N−x)·ln(1−x/N) + x·ln(x/N)] ~ χ²(1);
/// - Christoffersen's independence test on the transitions n_ij (I_{t−1} = i, I_t = j, N − 1 of them),
///   π_01 = n01/(n00+n01), π_11 = n11/(n10+n11), π = (n01+n11)/(N−1):
///   LR_ind = −2·[(n00+n10)·ln(1−π) + (n01+n11)·ln π]
///            + 2·[n00·ln(1−π_01) + n01·ln π_01 + n10·ln(1−π_11) + n11·ln π_11] ~ χ²(1);
/// - conditional coverage LR_cc = LR_POF + LR_ind ~ χ²(2) (as MATLAB's `varbacktest` adds them);
/// - the traffic light from P(X ≤ x), X ~ Binomial(N, p), and the type-I probability P(X ≥ x).
///
/// 0·ln 0 = 0 throughout, so no count of zero gives NaN.
public struct CoverageTests: Sendable {
    public let days: Int
    public let exceptions: Int
    public let expectedRate: Double
    /// (n00, n01, n10, n11).
    public let transitions: (n00: Int, n01: Int, n10: Int, n11: Int)
    public let proportionOfFailures: LikelihoodRatio
    public let independence: LikelihoodRatio
    public let conditionalCoverage: LikelihoodRatio
    /// P(X ≤ x).
    public let cumulativeProbability: Double
    /// P(X ≥ x): the chance of at least this many exceptions from a correct model.
    public let typeIProbability: Double
    public let trafficLight: TrafficLight

    public var observedRate: Double { days > 0 ? Double(exceptions) / Double(days) : 0 }

    public init(hits: [Bool], expectedRate p: Double) {
        var n = (0, 0, 0, 0)
        for t in hits.indices.dropFirst() {
            switch (hits[t - 1], hits[t]) {
            case (false, false): n.0 += 1
            case (false, true): n.1 += 1
            case (true, false): n.2 += 1
            case (true, true): n.3 += 1
            }
        }
        self.init(days: hits.count, exceptions: hits.filter { $0 }.count, transitions: n, expectedRate: p)
    }

    /// From the counts alone (a published example gives N, x and the transitions).
    public init(days: Int, exceptions x: Int, transitions n: (Int, Int, Int, Int), expectedRate p: Double) {
        self.days = days
        exceptions = x
        expectedRate = p
        transitions = n
        let N = Double(days), X = Double(x)
        let observed = days > 0 ? X / N : 0
        let pof = -2 * (xlogy(N - X, 1 - p) + xlogy(X, p)) + 2 * (xlogy(N - X, 1 - observed) + xlogy(X, observed))
        proportionOfFailures = LikelihoodRatio(statistic: max(0, pof), degreesOfFreedom: 1)
        let (n00, n01, n10, n11) = (Double(n.0), Double(n.1), Double(n.2), Double(n.3))
        let pairs = n00 + n01 + n10 + n11
        let pi01 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0, pi11 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0
        let pi = pairs > 0 ? (n01 + n11) / pairs : 0
        let ind = -2 * (xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi))
            + 2 * (xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11))
        independence = LikelihoodRatio(statistic: max(0, ind), degreesOfFreedom: 1)
        conditionalCoverage = LikelihoodRatio(statistic: proportionOfFailures.statistic + independence.statistic, degreesOfFreedom: 2)
        cumulativeProbability = binomialCDF(x, trials: days, probability: p)
        typeIProbability = x == 0 ? 1 : 1 - binomialCDF(x - 1, trials: days, probability: p)
        trafficLight = TrafficLight(cumulativeProbability: cumulativeProbability)
    }
}

/// x·ln y with 0·ln 0 = 0.
@inline(__always) func xlogy(_ x: Double, _ y: Double) -> Double { x == 0 ? 0 : x * log(y) }

/// P(X ≤ k) for X ~ Binomial(n, p): the probabilities summed in logs from 0 to k (exact to ≈ 1e-14
/// for the n of a backtest; the complement side is summed when it is the shorter).
public func binomialCDF(_ k: Int, trials n: Int, probability p: Double) -> Double {
    if k < 0 { return 0 }
    if k >= n { return 1 }
    if p <= 0 { return 1 }
    if p >= 1 { return 0 }
    let logN: Double = logGamma(Double(n) + 1), lp: Double = log(p), lq: Double = log1p(-p)
    func pmf(_ i: Int) -> Double {
        let logChoose: Double = logN - logGamma(Double(i) + 1) - logGamma(Double(n - i) + 1)
        return exp(logChoose + Double(i) * lp + Double(n - i) * lq)
    }
    let mode = Int(Double(n) * p)
    if k <= mode { return min(1, (0...k).reduce(0) { $0 + pmf($1) }) }
    return max(0, 1 - ((k + 1)...n).reduce(0) { $0 + pmf($1) })
}

/// Acerbi and Székely's (2014) second test of Expected Shortfall, in losses (positive = loss):
///
///     Z₂ = 1 − Σ_t L_t·I_t / (T·p·ES_t),   I_t = 1{L_t > VaR_t},   p = 1 − α,
///
/// E[Z₂] = 0 when the forecasts are right; negative values mean the tail is heavier than forecast.
/// The test is one-sided: reject at 5 % when Z₂ is below the 5 % quantile of Z₂ under the forecasts
/// themselves, which the backtest simulates by drawing each day's loss from that day's forecast paths.
public struct ExpectedShortfallTest: Sendable {
    public let statistic: Double
    /// The 5 % quantile of the simulated Z₂ (reject below it).
    public let criticalValue: Double
    /// The fraction of simulated Z₂ at or below the observed one.
    public let pValue: Double
    public let simulations: Int

    public var rejected: Bool { statistic < criticalValue }

    /// Z₂ from the sum Σ_t L_t·I_t/ES_t over T days.
    public static func statistic(tailSum: Double, days: Int, tailProbability p: Double) -> Double {
        1 - tailSum / (Double(days) * p)
    }

    /// - Parameter simulatedTailSums: Σ_t L*_t·I*_t/ES_t of each simulated history.
    public init(tailSum: Double, simulatedTailSums: [Double], days: Int, tailProbability p: Double) {
        let observed = Self.statistic(tailSum: tailSum, days: days, tailProbability: p)
        statistic = observed
        let simulated = simulatedTailSums.map { Self.statistic(tailSum: $0, days: days, tailProbability: p) }.sorted()
        simulations = simulated.count
        criticalValue = simulated.isEmpty ? .nan : simulated[max(0, Int((0.05 * Double(simulated.count)).rounded(.up)) - 1)]
        pValue = simulated.isEmpty ? .nan : Double(simulated.filter { $0 <= observed }.count) / Double(simulated.count)
    }
}
