import ArgumentParser
import Calibration
import CommandSupport
import Engine
import Foundation
import MonteCarlo
import Reports
import ScenarioSpec

/// `thresher calibrate FILE`: margin ladder, liquidation penalty, insurance fund, account thresholds.
struct Calibrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Set the venue's thresholds: maintenance-margin ladder, liquidation penalty rate, insurance fund, account action ladder.",
        discussion: """
        Example: thresher calibrate Scenarios/default.yaml --paths 200000 --policy-out cal.yaml
        then:    thresher evaluate Scenarios/default.yaml --policy cal.yaml
        """)

    @Argument(help: "Scenario file with a 'calibration' section.")
    var file: String

    @OptionGroup var options: MonteCarloOptions

    @OptionGroup(title: "Monte Carlo") var memory: MemoryOptions

    @Option(help: "Sections K of the paths for the Monte Carlo confidence intervals of every threshold (sectioning; doubles the work); 0 turns them off.")
    var sections: Int = Sectioning.defaultSections

    @Option(name: .customLong("policy-out"), help: "Write the calibrated ladder, penalty rate and fund (ES) as a 'policy:' section to this YAML file, for 'stress' and later runs: each threshold rounded to what its interval supports, the interval beside it as a comment.")
    var policyOut: String?

    @Option(help: "Relative precision (a fraction) a threshold's interval must reach to be acted on; wider ones get the paths they need.")
    var precision: Double = Presentation.defaultPrecision

    func run() throws {
        var request = memory.request(options.request(Self.name, file: file))
        request.sections = sections
        var presentation = options.presentation(policyOut: policyOut)
        presentation.precision = try Presentation.validPrecision(precision)
        try MonteCarloCommands.execute(Self.self, request, file: file, presentation: presentation, coordination: .local(options.slicing))
    }
}

extension Calibrate: MonteCarloCommand {
    static let name = "calibrate"
    static func label(_ request: RunRequest) -> String { "calibration: \(Calibrator.passes) passes" }

    /// The sections of the confidence intervals, when the paths allow them (≥ 2 of enough paths).
    static func effectiveSections(_ request: RunRequest, scenario: Scenario) -> Int {
        let sections = request.sections ?? Sectioning.defaultSections
        return sections >= 2 && Sectioning.ranges(paths: scenario.simulation.paths, sections: sections) != nil ? sections : 0
    }

    static func passes(_ request: RunRequest, scenario: Scenario, file: String, presentation: Presentation) throws -> Int {
        let calibrator = try Calibrator(scenario: scenario, file: file)
        let sections = effectiveSections(request, scenario: scenario)
        return calibrator.passes(ranges: calibrator.sectionedRanges(sections: sections), threads: presentation.threads,
                                 memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit) * (sections > 0 ? 2 : 1)
            + (scenario.policy?.portfolioMargin != nil ? PortfolioMarginStudy.passes * (sections > 0 ? 2 : 1) : 0)
    }

    static func compute(_ request: RunRequest, scenario: Scenario, file: String, echo: [String], run: MonteCarloRun,
                        presentation: Presentation) throws -> ReportDocument {
        let (result, intervals) = try Calibrator(scenario: scenario, file: file).runSectioned(sections: effectiveSections(request, scenario: scenario),
                                                                                              settings: run.settings,
                                                                                              memoryLimit: request.memoryLimit ?? AccountGroups.defaultMemoryLimit,
                                                                                              cancellation: run.cancellation,
                                                                                              progress: run.progress)
        // A portfolio-margined policy: its risk array's spot ranges and vol-shift scales calibrated too (one more pass).
        var margin: PortfolioMarginReport?
        if scenario.policy?.portfolioMargin != nil {
            let ranges = [0..<scenario.simulation.paths] + (Sectioning.ranges(paths: scenario.simulation.paths, sections: effectiveSections(request, scenario: scenario)) ?? [])
            let results = try PortfolioMarginStudy(scenario: scenario, file: file).run(settings: run.settings, ranges: ranges, cancellation: run.cancellation,
                                                                                        progress: run.progress)
            margin = PortfolioMarginReport(result: results[0], sections: Array(results.dropFirst()))
        }
        if let policyOut = presentation.policyOut, run.ownsOutput {
            // The calibrated ranges (a group's under its key), the vol shifts as given with their calibrated scales as comments.
            var array: (spec: PortfolioMarginSpec, notes: [Int: String], volShiftNotes: [Int: String])?
            if let margin, let spec = scenario.policy?.portfolioMargin { array = margin.calibratedArray(spec, assets: scenario.market.assets.map(\.id)) }
            let yaml = intervals?.policyYAML(portfolioMargin: array?.spec, spotRangeNotes: array?.notes ?? [:], volShiftNotes: array?.volShiftNotes ?? [:])
                ?? result.policyYAML(portfolioMargin: array?.spec, spotRangeNotes: array?.notes ?? [:], volShiftNotes: array?.volShiftNotes ?? [:])
            try OutputFile.write(Data(yaml.utf8), to: policyOut)
        }
        let asked = request.sections ?? Sectioning.defaultSections
        if asked >= 2 && intervals == nil {
            FileHandle.standardError.write(Data("warning: \(scenario.simulation.paths) paths are too few for \(asked) sections of ≥ \(Sectioning.minimumSectionPaths) paths: no confidence intervals\n".utf8))
        }
        var document = CalibrationReport(result: result, overrides: echo, top: presentation.output.topRows, sectioned: intervals,
                                         precision: presentation.precision).document
        if let margin { document.append(margin) }
        return document
    }
}
