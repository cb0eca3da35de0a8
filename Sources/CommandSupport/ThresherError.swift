/// The exit statuses of `thresher` (README, "Exit codes"), from BSD's sysexits where one fits.
public enum ExitStatus {
    /// A bad command line: an unknown option, a value out of range (EX_USAGE).
    public static let usage: Int32 = 64
    /// A scenario, part file or price file that cannot be used as given (EX_DATAERR).
    public static let invalidScenario: Int32 = 65
    /// An input file that is missing or cannot be read (EX_NOINPUT).
    public static let missingInput: Int32 = 66
    /// A service the command needs cannot be reached: a results store's server (EX_UNAVAILABLE).
    public static let unavailable: Int32 = 69
    /// A numerical failure that is not the user's (EX_SOFTWARE).
    public static let internalFailure: Int32 = 70
    /// An output that cannot be written (EX_CANTCREAT).
    public static let cannotWrite: Int32 = 73
    /// Interrupted by SIGINT or SIGTERM (128 + 2).
    public static let interrupted: Int32 = 130
}

/// An error a user can cause or must be told about: its one-line message (naming the file, the
/// field and what is wrong) and the exit status the command ends with. Every module's errors
/// conform, so the command line maps them to statuses in one place, and a library user can too.
public protocol ThresherError: Error, CustomStringConvertible {
    /// The status `thresher` exits with (one of `ExitStatus`).
    var exitStatus: Int32 { get }
    /// The line printed on standard error (by default "error: " and the description).
    var diagnostic: String { get }
}

extension ThresherError {
    /// The line printed on standard error.
    public var diagnostic: String { "error: \(self)" }
}
