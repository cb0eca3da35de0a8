import Foundation
import LinearAlgebra
import Shocks

/// Per-worker revaluation of one chunk: fills the loss of every account on every path of the chunk.
/// Owns its buffers (allocated once); `losses` is accounts × capacity, account-major, so each
/// account's losses over the chunk are contiguous for the tail aggregators.
public final class Revaluer {
    public let book: Book
    public let capacity: Int
    /// Loss (USD, positive = loss) of account a on chunk path j at `a * capacity + j`.
    public let losses: UnsafeMutablePointer<Double>
    /// Book loss per chunk path (sum over accounts).
    public let bookLosses: UnsafeMutablePointer<Double>

    public init(book: Book, capacity: Int) {
        self.book = book
        self.capacity = capacity
        losses = .allocate(capacity: max(book.accountCount, 1) * capacity)
        bookLosses = .allocate(capacity: capacity)
    }

    deinit {
        losses.deallocate()
        bookLosses.deallocate()
    }

    /// Revalues the chunk held in `shocks`: P&L = W·S' + c by one `cblas_dgemm`, then each option,
    /// then losses = −P&L and the book total.
    public func revalue(_ shocks: ShockBuffers) {
        let m = shocks.count, ld = capacity, accounts = book.accountCount
        precondition(shocks.capacity == capacity)
        // P&L starts at c, then += W (accounts × assets) · S' (assets × m).
        for a in 0..<accounts {
            let row = losses + a * ld
            let c = book.linearConstants[a]
            for j in 0..<m { row[j] = c }
        }
        book.linearWeights.withUnsafeBufferPointer { w in
            multiplyAccumulate(w.baseAddress!, rows: accounts, inner: book.assetCount, shocks.spot, columns: m, ldb: ld,
                               into: losses, ldc: ld)
        }
        for leg in book.options {
            addOptionProfit(leg, shocks: shocks, into: losses + leg.account * ld)
        }
        for j in 0..<m { bookLosses[j] = 0 }
        for a in 0..<accounts {
            let row = losses + a * ld
            for j in 0..<m {
                row[j] = -row[j]
                bookLosses[j] += row[j]
            }
        }
    }

    /// pnl[j] += q·(V(S'_j, iv·f_j, τ') − V₀) for one option over the chunk.
    @inline(__always)
    private func addOptionProfit(_ leg: OptionLeg, shocks: ShockBuffers, into pnl: UnsafeMutablePointer<Double>) {
        let m = shocks.count
        let spot = shocks.row(shocks.spot, asset: leg.asset)
        let q = leg.quantity, v0 = leg.valueNow
        if leg.remainingYears <= 0 {
            for j in 0..<m { pnl[j] += q * (BlackScholes.intrinsic(isCall: leg.isCall, spot: spot[j], strike: leg.strike) - v0) }
            return
        }
        let logSpot = shocks.row(shocks.logSpot, asset: leg.asset)
        let volFactor = shocks.row(shocks.volFactor, asset: leg.asset)
        let tau = leg.remainingYears, rootTau = leg.rootRemaining, iv = leg.impliedVol
        let drift = leg.rateTimesRemaining - leg.logStrike, discounted = leg.discountedStrike
        for j in 0..<m {
            let vol = iv * volFactor[j]
            let stdDev = vol * rootTau
            let d1 = (logSpot[j] + drift + 0.5 * vol * vol * tau) / stdDev
            let price = BlackScholes.price(isCall: leg.isCall, spot: spot[j], discountedStrike: discounted, d1: d1, d2: d1 - stdDev)
            pnl[j] += q * (price - v0)
        }
    }
}
