// swift-tools-version:6.0
import PackageDescription

/// A package outside Thresher that uses its library, `ThresherCore`, from a tagged release by an
/// ordinary `.package(url:from:)` (no unsafe flags, no special build settings). Point it at your own
/// host of Thresher with THRESHER_PACKAGE_URL (a git URL or a local clone's path); the test
/// `ConsumerPackageTests` builds it against a tagged copy of the working tree.
// The default is a placeholder for the published repository.
let thresherURL = Context.environment["THRESHER_PACKAGE_URL"] ?? "https://github.com/thresher-risk/thresher.git"

let package = Package(
    name: "ConsumerDemo",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: thresherURL, from: "1.0.0"),
    ],
    targets: [
        .executableTarget(name: "ConsumerDemo", dependencies: [.product(name: "ThresherCore", package: "thresher")]),
    ]
)
