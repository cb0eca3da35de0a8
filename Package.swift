// swift-tools-version:6.0
import PackageDescription

import Foundation

/// Thresher: a parallel Monte Carlo stress-testing engine that sets the penalty thresholds of
/// crypto-derivatives venues. See README.md for the module map.
///
/// Release builds are tuned for the hot loops: no overflow/bounds traps (-Ounchecked), no dynamic
/// exclusivity checks, and on x86-64 code for AVX2/FMA CPUs (Haswell, 2013, and later; AMD Zen).
/// `THRESHER_TARGET_CPU=x86-64 make …` builds for any x86-64 CPU instead.
#if arch(x86_64)
let targetCPU = ["-target-cpu", ProcessInfo.processInfo.environment["THRESHER_TARGET_CPU"] ?? "haswell"]
#else
let targetCPU: [String] = []
#endif
let optimise: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-enforce-exclusivity=unchecked"] + targetCPU, .when(configuration: .release))]
/// The C kernels: -O3 and the same CPU target as the Swift code.
#if arch(x86_64)
let kernelFlags = ["-O3", "-march=" + (ProcessInfo.processInfo.environment["THRESHER_TARGET_CPU"] ?? "haswell")]
#else
let kernelFlags = ["-O3"]
#endif

let package = Package(
    name: "Thresher",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "thresher", targets: ["thresher"]),
        .library(name: "ThresherCore", targets: ["Engine", "Calibration", "Reports", "ScenarioSpec", "Shocks", "Revaluation", "TailStats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLapack",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),
        .target(name: "CKernels", exclude: ["derivations"], cSettings: [.unsafeFlags(kernelFlags, .when(configuration: .release))]),
        .target(name: "LinearAlgebra", dependencies: ["CLapack"], swiftSettings: optimise),
        .target(name: "Distributions", swiftSettings: optimise),
        .target(name: "RandomStreams", dependencies: ["CKernels"], swiftSettings: optimise),
        .target(name: "ScenarioSpec", dependencies: ["Yams", "LinearAlgebra"], swiftSettings: optimise),
        .target(name: "Shocks", dependencies: ["CKernels", "LinearAlgebra", "RandomStreams", "Distributions", "ScenarioSpec"], swiftSettings: optimise),
        .target(name: "TailStats", swiftSettings: optimise),
        .target(name: "Revaluation", dependencies: ["CKernels", "Shocks", "ScenarioSpec", "LinearAlgebra"], swiftSettings: optimise),
        .target(name: "Engine", dependencies: ["Shocks", "Revaluation", "TailStats", "ScenarioSpec", "LinearAlgebra"], swiftSettings: optimise),
        .target(name: "Calibration", dependencies: ["Engine", "Shocks", "Revaluation", "TailStats", "ScenarioSpec"], swiftSettings: optimise),
        .target(name: "Reports", dependencies: ["Engine", "Calibration", "TailStats", "ScenarioSpec"], swiftSettings: optimise),
        .target(name: "ThresherCLI", dependencies: [
            "Engine", "Calibration", "LinearAlgebra", "Reports", "ScenarioSpec", "Shocks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimise),
        .executableTarget(name: "thresher", dependencies: ["ThresherCLI"], swiftSettings: optimise),
        .executableTarget(name: "thresher-bench", dependencies: ["Engine", "LinearAlgebra", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "ThresherCLI"],
                          path: "Benchmarks/ThresherBench", swiftSettings: optimise),
        .testTarget(name: "ThresherTests", dependencies: [
            "CKernels", "LinearAlgebra", "RandomStreams", "Distributions", "ScenarioSpec", "Shocks",
            "Revaluation", "TailStats", "Engine", "Calibration", "Reports", "ThresherCLI",
        ]),
    ],
    swiftLanguageModes: [.v5]
)
