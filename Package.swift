// swift-tools-version:6.1
import PackageDescription

/// Thresher: a parallel Monte Carlo stress-testing engine that sets the penalty thresholds of
/// crypto-derivatives venues. See README.md for the module map.
///
/// No target carries unsafe flags, so the `ThresherCore` library can be used by any package through
/// an ordinary `.package(url:from:)`. The CPU tuning of the hot loops (-Ounchecked, no dynamic
/// exclusivity checks, AVX2/FMA code for the Swift and C kernels) is passed by the Makefile
/// (`make build`, `make test`) with -Xswiftc/-Xcc; see README, "Build notes".
let package = Package(
    name: "Thresher",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "thresher", targets: ["thresher"]),
        .library(name: "ThresherCore", targets: ["WorkerPool", "Engine", "Calibration", "Reports", "ScenarioSpec", "Shocks", "Revaluation", "TailStats", "Backtest"]),
    ],
    /// `--traits MPI` (`make mpi`, `make test`): `thresher` under `mpirun` splits the paths over the
    /// ranks (Open MPI, pkg-config `ompi-c`). The default build needs no MPI.
    traits: [
        .trait(name: "MPI", description: "Run thresher under mpirun: ranks split the paths, rank 0 merges and writes the report."),
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
        .systemLibrary(
            name: "CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        .target(name: "MPIDistribution", dependencies: ["CMPI", "Engine"]),
        .target(name: "CKernels", exclude: ["derivations"]),
        .target(name: "LinearAlgebra", dependencies: ["CLapack"]),
        .target(name: "Distributions"),
        .target(name: "History", dependencies: ["LinearAlgebra"]),
        .target(name: "RandomStreams", dependencies: ["CKernels"]),
        .target(name: "ScenarioSpec", dependencies: ["Yams", "LinearAlgebra", "History"]),
        .target(name: "Shocks", dependencies: ["CKernels", "LinearAlgebra", "RandomStreams", "Distributions", "ScenarioSpec"]),
        .target(name: "TailStats", dependencies: ["CKernels"]),
        .target(name: "WorkerPool"),
        .target(name: "Revaluation", dependencies: ["CKernels", "Shocks", "ScenarioSpec", "LinearAlgebra"]),
        .target(name: "Engine", dependencies: ["CKernels", "WorkerPool", "Shocks", "Revaluation", "TailStats", "ScenarioSpec", "LinearAlgebra"]),
        .target(name: "Calibration", dependencies: ["WorkerPool", "Engine", "Shocks", "Revaluation", "TailStats", "ScenarioSpec", "Distributions"]),
        .target(name: "Backtest", dependencies: ["CKernels", "Distributions", "History", "LinearAlgebra", "RandomStreams", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool"]),
        .target(name: "Reports", dependencies: ["Backtest", "CKernels", "Engine", "Calibration", "History", "TailStats", "ScenarioSpec"]),
        .target(name: "ThresherCLI", dependencies: [
            "Backtest", "WorkerPool", "Engine", "Calibration", "History", "LinearAlgebra", "Reports", "ScenarioSpec", "Shocks",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "thresher", dependencies: [
            "LinearAlgebra", "Engine", "ThresherCLI",
            .target(name: "MPIDistribution", condition: .when(traits: ["MPI"])),
        ]),
        .executableTarget(name: "thresher-bench", dependencies: ["WorkerPool", "Engine", "LinearAlgebra", "Revaluation", "ScenarioSpec", "Shocks", "TailStats"],
                          path: "Benchmarks/ThresherBench"),
        .testTarget(name: "ThresherTests", dependencies: [
            "CKernels", "LinearAlgebra", "RandomStreams", "Distributions", "ScenarioSpec", "Shocks",
            "Revaluation", "TailStats", "WorkerPool", "Engine", "Calibration", "History", "Backtest", "Reports",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
