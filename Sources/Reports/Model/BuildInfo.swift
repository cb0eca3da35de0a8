import CKernels
import Foundation
import LinearAlgebra

/// What produced a report: the release, the commit of the build and the time it was rendered.
/// Every report carries it (JSON `thresher`, the terminal's last line, the HTML's footer).
public enum BuildInfo {
    /// The release of this build, printed by `thresher --version`.
    public static let version = "0.7.0"
    /// The git commit `make build` compiled in, or "unknown".
    public static var commit: String { String(cString: thresher_build_commit()) }
    /// The variant of the C kernels that runs, chosen at start-up from the CPU: "avx2-fma" or
    /// "baseline" (same bits; named so that a report says how it was computed).
    public static var kernels: String { String(cString: thresher_kernel_path()) }

    /// The kernels OpenBLAS chose for this CPU (`blasCore`): reports agree to the last bit only where
    /// it is the same.
    public static var blas: String { blasCore }

    /// "thresher 0.7.0 (commit 1a2b3c4d5e6f, kernels avx2-fma, OpenBLAS Haswell)": `--version`'s text.
    public static var release: String { "thresher \(version) (commit \(commit), kernels \(kernels), OpenBLAS \(blas))" }

    /// `release` and the time: "thresher 0.7.0 (commit …, kernels avx2-fma, OpenBLAS Haswell), 2026-12-02T14:10:00Z".
    public static func line(at date: Date) -> String { "\(release), \(timestamp(date))" }

    /// ISO 8601 UTC, seconds.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// The JSON `thresher` object: version, commit, kernels, blas, generated_at.
    public static func json(at date: Date) -> JSONValue {
        .object([("version", .string(version)), ("commit", .string(commit)), ("kernels", .string(kernels)), ("blas", .string(blas)),
                 ("generated_at", .string(timestamp(date)))])
    }
}
