import ScenarioSpec
import TailStats

/// How `run` (and calibrate's pass B, `Calibrator.accountGroups`) splits the accounts of a book so
/// that their tail accumulators stay within a memory budget: consecutive groups of accounts, each aggregated over all paths in its own pass (the shocks
/// regenerated for each pass, which costs little next to the revaluation). Every account's numbers
/// are those of one pass over all accounts, bit for bit, whatever the grouping.
public struct AccountGroups: Sendable, Equatable {
    /// The default budget for the accounts' tails: 512 MiB, room to spare on a 24 GiB machine with the
    /// scenario, the book and the shocks besides.
    public static let defaultMemoryLimit = 1 << 29

    /// The groups, consecutive and covering every account; one group when everything fits.
    public let ranges: [Range<Int>]

    /// - Parameters:
    ///   - memoryLimit: bytes the accounts' tails may take (`bytesPerAccount` each).
    public init(accountCount: Int, plan: TailPlan, threads: Int, memoryLimit: Int) {
        self.init(accountCount: accountCount, bytesPerAccount: Self.bytesPerAccount(plan: plan, threads: threads), memoryLimit: memoryLimit)
    }

    /// - Parameters:
    ///   - bytesPerAccount: the memory one account takes during a pass (bytes, > 0).
    ///   - memoryLimit: bytes the accounts of a group may take.
    public init(accountCount: Int, bytesPerAccount perAccount: Int, memoryLimit: Int) {
        guard accountCount > memoryLimit / perAccount else {
            ranges = [0..<accountCount]
            return
        }
        let groupSize = max(Self.alignment, memoryLimit / perAccount / Self.alignment * Self.alignment)
        let count = (accountCount + groupSize - 1) / groupSize
        // Groups of equal size (a multiple of the alignment) but the last, so that it is not a sliver.
        let size = ((accountCount + count - 1) / count + Self.alignment - 1) / Self.alignment * Self.alignment
        ranges = stride(from: 0, to: accountCount, by: size).map { $0..<min($0 + size, accountCount) }
    }

    /// The groups of `run` on a scenario's accounts (`PortfolioRun.tailPlan(for:)`).
    public init(scenario: Scenario, threads: Int, memoryLimit: Int) {
        self.init(accountCount: scenario.portfolio.accounts.count, plan: PortfolioRun.tailPlan(for: scenario), threads: threads,
                  memoryLimit: memoryLimit)
    }

    /// Group edges fall on multiples of this many accounts.
    static let alignment = 64

    /// The memory one account's tail takes during a pass on `threads` workers (bytes), an upper
    /// estimate from the accumulator's layout: per worker and for the merged total, two exact sums
    /// of 68 limbs and the accumulator itself (≈ 1.3 KB); the candidate losses, about 3K above the
    /// pilot's floor over all workers (K = `plan.capacity`) with room for the arrays to grow (×2), and
    /// one batch of slack per worker; the summary (≈ 0.5 KB).
    public static func bytesPerAccount(plan: TailPlan, threads: Int) -> Int {
        let workers = max(threads, 1)
        return (workers + 1) * 1_300 + 8 * (2 * 3 * plan.capacity + workers * 1_032) + 500
    }
}
