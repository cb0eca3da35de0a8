// ConsumerDemo SCENARIO [PATHS]: loads a scenario with ThresherCore, runs the Monte Carlo revaluation
// and the stresses, and prints the book's VaR/ES at every level and each stress's book loss, one
// `key value` line each (full precision, for the test that compares them with Thresher's own run).
import Engine
import Foundation
import MonteCarlo
import ScenarioSpec

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: ConsumerDemo SCENARIO [PATHS]\n".utf8))
    exit(64)
}
do {
    var scenario = try Scenario.load(path: arguments[1])
    if arguments.count >= 3, let paths = Int(arguments[2]) { scenario.simulation.paths = paths }
    let result = try PortfolioRun(scenario: scenario).run(settings: RunSettings(threads: 2))
    print("paths \(result.paths)")
    for (level, summary) in zip(scenario.risk.confidence, result.book.levels) {
        print("var \(level.label) \(String(format: "%.17g", summary.valueAtRisk))")
        print("es \(level.label) \(String(format: "%.17g", summary.expectedShortfall))")
    }
    for outcome in StressTest.evaluate(scenario) {
        print("stress \(outcome.stress.name) \(String(format: "%.17g", outcome.bookLoss))")
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(65)
}
