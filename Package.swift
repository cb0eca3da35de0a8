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
        .library(name: "ThresherCore", targets: ["CommandSupport", "WorkerPool", "MonteCarlo", "Engine", "Calibration", "Reports", "ScenarioSpec", "Shocks", "Revaluation", "TailStats", "Backtest"]),
    ],
    /// `--traits MPI` (`make mpi`, `make test`): `thresher` under `mpirun` splits the paths over the
    /// ranks (Open MPI, pkg-config `ompi-c`). The default build needs no MPI.
    traits: [
        .trait(name: "MPI", description: "Run thresher under mpirun: ranks split the paths, rank 0 merges and writes the report."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // `thresher serve` (Sources/Server): HTTP on SwiftNIO, graceful shutdown on SIGTERM.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0", traits: ["FullFoundation"]),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        // The results store (`--store`, history, diff, explain): SQLite through GRDB (Debian's libsqlite3-dev).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // A team's shared results store (`--store postgres://…`): PostgreSQL through postgres-nio.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
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
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(name: "CKernels", exclude: ["derivations"]),
        // The commit of the `thresher` executable (the Makefile's .build-commit/thresher_commit.h),
        // apart from CKernels so that a new commit rebuilds one C file, not every module above it.
        .target(name: "BuildStamp"),
        .target(name: "CFormatting"),
        .target(name: "CommandSupport", dependencies: ["CZlib"]),
        .target(name: "Distributions"),
        .target(name: "LinearAlgebra", dependencies: ["CLapack", "CommandSupport"]),
        .target(name: "RandomStreams", dependencies: ["CKernels"]),
        .target(name: "History", dependencies: ["CommandSupport", "LinearAlgebra"]),
        .target(name: "ScenarioSpec", dependencies: ["CommandSupport", "LinearAlgebra", "Yams"]),
        .target(name: "Shocks", dependencies: ["CKernels", "CommandSupport", "Distributions", "History", "LinearAlgebra", "RandomStreams", "ScenarioSpec"]),
        .target(name: "Revaluation", dependencies: ["CKernels", "Distributions", "LinearAlgebra", "ScenarioSpec", "Shocks"]),
        .target(name: "WorkerPool", dependencies: ["CommandSupport"]),
        .target(name: "TailStats", dependencies: ["CKernels", "CommandSupport"]),
        .target(name: "MonteCarlo", dependencies: ["CommandSupport", "LinearAlgebra", "TailStats", "WorkerPool"]),
        // CMPI only with the trait: a build without MPI never looks for Open MPI (no pkg-config
        // warning about ompi-c on a machine without it).
        .target(name: "MPICoordination", dependencies: [.target(name: "CMPI", condition: .when(traits: ["MPI"])), "MonteCarlo"]),
        .target(name: "Engine", dependencies: ["CKernels", "CommandSupport", "MonteCarlo", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool"]),
        .target(name: "Calibration", dependencies: ["CKernels", "Distributions", "Engine", "MonteCarlo", "RandomStreams", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool"]),
        .target(name: "Backtest", dependencies: ["CKernels", "Distributions", "History", "LinearAlgebra", "RandomStreams", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool"]),
        // The results store's model: runs of record, their metrics, comparison and attribution (no database).
        .target(name: "RunStore", dependencies: ["CommandSupport", "Distributions"]),
        // The stores themselves: SQLite (GRDB) and PostgreSQL (postgres-nio), one schema.
        .target(name: "RunStoreBackends", dependencies: ["RunStore", .product(name: "GRDB", package: "GRDB.swift"),
                                                         .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log")]),
        .target(name: "Reports", dependencies: ["Backtest", "CFormatting", "CKernels", "Calibration", "CommandSupport", "Engine", "History", "LinearAlgebra", "RunStore", "ScenarioSpec", "Shocks", "TailStats"]),
        // `thresher serve`: the what-ifs and Monte Carlo jobs over HTTP, and the risk desk's page.
        .target(name: "Server", dependencies: [
            "Calibration", "CommandSupport", "Engine", "MonteCarlo", "Reports", "Revaluation", "ScenarioSpec", "WorkerPool",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "ThresherCLI", dependencies: [
            "Backtest", "Server", "Calibration", "CommandSupport", "Engine", "History", "MonteCarlo", "Reports", "RunStore", "RunStoreBackends", "ScenarioSpec", "Shocks", "WorkerPool",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "thresher", dependencies: [
            "BuildStamp", "CKernels", "LinearAlgebra", "ThresherCLI",
            .target(name: "MPICoordination", condition: .when(traits: ["MPI"])),
        ]),
        .executableTarget(name: "thresher-bench", dependencies: ["LinearAlgebra", "Revaluation", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool"],
                          path: "Benchmarks/ThresherBench"),
        .testTarget(name: "ThresherTests", dependencies: [
            "Backtest", "CKernels", "CZlib", "Calibration", "CommandSupport", "Distributions", "Engine", "History", "LinearAlgebra", "MonteCarlo", "RandomStreams",
            "Reports", "Revaluation", "RunStore", "RunStoreBackends", "ScenarioSpec", "Shocks", "TailStats", "WorkerPool",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
