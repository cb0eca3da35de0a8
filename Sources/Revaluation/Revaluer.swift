import CKernels
import Foundation
import LinearAlgebra
import Shocks

/// Per-worker revaluation of one chunk: the loss of every account on every path of the chunk.
///
/// Accounts are revalued in blocks of `accountsPerBlock` so that a block's losses
/// (accountsPerBlock × chunk) stay in cache while the tail aggregators read them; the book's loss
/// is accumulated alongside. Buffers are allocated once.
public final class Revaluer {
    public let book: Book
    public let capacity: Int
    public let accountsPerBlock: Int
    /// Loss (USD, positive = loss) of account `block.lowerBound + r` on chunk path j at `r * capacity + j`.
    package let losses: UnsafeMutablePointer<Double>
    /// Book loss per chunk path: complete once every account block of the chunk has been revalued.
    package let bookLosses: UnsafeMutablePointer<Double>
    /// The accounts whose losses `losses` holds.
    public private(set) var block: Range<Int> = 0..<0
    /// Per chunk path, an option's vol multiplier iv'/iv and its reciprocal (`subtractPathVolOptionProfit`).
    private let pathFactor: UnsafeMutablePointer<Double>
    private let pathInverse: UnsafeMutablePointer<Double>

    /// - Parameter accountsPerBlock: accounts revalued at a time (default: all of them).
    public init(book: Book, capacity: Int, accountsPerBlock: Int? = nil) {
        self.book = book
        self.capacity = capacity
        self.accountsPerBlock = max(1, min(accountsPerBlock ?? book.accountCount, book.accountCount))
        losses = .allocate(capacity: self.accountsPerBlock * capacity)
        bookLosses = .allocate(capacity: capacity)
        pathFactor = .allocate(capacity: capacity)
        pathInverse = .allocate(capacity: capacity)
    }

    deinit {
        losses.deallocate()
        bookLosses.deallocate()
        pathFactor.deallocate()
        pathInverse.deallocate()
    }

    /// The row of account `a` (which must be in `block`).
    @inline(__always) package func lossRow(account a: Int) -> UnsafeMutablePointer<Double> {
        losses + (a - block.lowerBound) * capacity
    }

    /// Revalues every account of the chunk (they must fit in one block).
    public func revalue(_ shocks: ShockBuffers) {
        precondition(accountsPerBlock >= book.accountCount)
        beginChunk(shocks)
        revalue(shocks, accounts: 0..<book.accountCount)
    }

    /// Starts a chunk: the book's linear loss, −w·S' − c over the chunk (options follow per block).
    public func beginChunk(_ shocks: ShockBuffers) {
        precondition(shocks.capacity == capacity)
        let m = shocks.count
        for j in 0..<m { bookLosses[j] = -book.bookConstant }
        book.bookWeights.withUnsafeBufferPointer { w in
            multiplyAccumulate(w.baseAddress!, rows: 1, inner: book.assetCount, shocks.spot, columns: m, ldb: capacity,
                               into: bookLosses, ldc: capacity, alpha: -1)
        }
    }

    /// Losses of the accounts in `accounts` (at most `accountsPerBlock`). The linear part,
    /// L = −W·S' − c: an account with few exposures (`Book.hasSparseExposures`) from those alone,
    /// each run of consecutive dense accounts in one `cblas_dgemm`. Then each option of those
    /// accounts subtracts its P&L from its account's row and from the book's.
    /// - Parameter sparseLinearApart: leave the rows of the accounts with `Book.hasSparseLinearLoss`
    ///   unset (their caller takes their losses straight from the shocks).
    public func revalue(_ shocks: ShockBuffers, accounts: Range<Int>, sparseLinearApart: Bool = false) {
        precondition(accounts.count <= accountsPerBlock)
        block = accounts
        let m = shocks.count
        var denseStart = accounts.lowerBound
        book.exposureAssets.withUnsafeBufferPointer { assets in
            book.exposureWeights.withUnsafeBufferPointer { weights in
                for a in accounts where book.hasSparseExposures(a) {
                    revalueDense(shocks, accounts: denseStart..<a)
                    denseStart = a + 1
                    if sparseLinearApart && book.hasSparseLinearLoss(a) { continue }
                    let first = book.exposureStart[a]
                    thresher_linear_losses(m, shocks.spot, capacity, assets.baseAddress! + first, weights.baseAddress! + first,
                                           book.exposureStart[a + 1] - first, -book.linearConstants[a], lossRow(account: a))
                }
            }
        }
        revalueDense(shocks, accounts: denseStart..<accounts.upperBound)
        for leg in book.options[book.optionStart[accounts.lowerBound]..<book.optionStart[accounts.upperBound]] {
            subtractOptionProfit(leg, shocks: shocks, account: lossRow(account: leg.account), book: bookLosses)
        }
    }

    /// L = −W·S' − c for consecutive accounts of the block: their rows set to −c, then one
    /// `cblas_dgemm` with α = −1 over their rows of W.
    private func revalueDense(_ shocks: ShockBuffers, accounts: Range<Int>) {
        guard !accounts.isEmpty else { return }
        let m = shocks.count, ld = capacity, n = book.assetCount
        for a in accounts {
            let row = lossRow(account: a)
            let c = -book.linearConstants[a]
            for j in 0..<m { row[j] = c }
        }
        book.linearWeights.withUnsafeBufferPointer { w in
            multiplyAccumulate(w.baseAddress! + accounts.lowerBound * n, rows: accounts.count, inner: n, shocks.spot, columns: m,
                               ldb: ld, into: lossRow(account: accounts.lowerBound), ldc: ld, alpha: -1)
        }
    }

    /// Subtracts the P&L of `options` (indices into `book.options`, in order) from the book's
    /// losses alone: what `revalue` adds to the book for those options' accounts, without their rows.
    public func subtractBookOptions(_ shocks: ShockBuffers, options: Range<Int>) {
        for leg in book.options[options] { subtractOptionProfit(leg, shocks: shocks, account: losses, book: bookLosses) }
    }

    /// account[j] −= P&L_j and book[j] −= P&L_j with P&L_j = q·(V(S'_j, iv·f_j, τ') − V₀), for one
    /// option over the chunk: the Black–Scholes vector kernel (iv = iv(S'_j) from the smile under
    /// sticky-moneyness, in the kernel for SVI and per path for a grid, `subtractPathVolOptionProfit`,
    /// as when the chunk twists the asset's smile), or the intrinsic value once expired.
    @inline(__always)
    private func subtractOptionProfit(_ leg: OptionLeg, shocks: ShockBuffers, account: UnsafeMutablePointer<Double>, book: UnsafeMutablePointer<Double>) {
        let m = shocks.count
        let spot = shocks.row(shocks.spot, asset: leg.asset)
        if leg.remainingYears <= 0 {
            let q = leg.quantity, v0 = leg.valueNow
            for j in 0..<m {
                let profit = q * (BlackScholes.intrinsic(isCall: leg.isCall, spot: spot[j], strike: leg.strike) - v0)
                account[j] -= profit
                book[j] -= profit
            }
            return
        }
        if shocks.twistsSmile[leg.asset] { return subtractPathVolOptionProfit(leg, twisted: true, shocks: shocks, account: account, book: book) }
        if let smile = leg.smileTerms {
            withUnsafePointer(to: leg.terms) { terms in
                withUnsafePointer(to: smile) { smile in
                    thresher_subtract_smile_option_profit(terms, smile, m, spot, shocks.row(shocks.logSpot, asset: leg.asset),
                                                          shocks.row(shocks.volFactor, asset: leg.asset), account, book)
                }
            }
            return
        }
        if leg.smile != nil { return subtractPathVolOptionProfit(leg, twisted: false, shocks: shocks, account: account, book: book) }
        withUnsafePointer(to: leg.terms) { terms in
            thresher_subtract_option_profit(terms, m, spot, shocks.row(shocks.logSpot, asset: leg.asset),
                                            shocks.row(shocks.volFactor, asset: leg.asset),
                                            shocks.row(shocks.inverseVolFactor, asset: leg.asset), account, book)
        }
    }

    /// As `subtractOptionProfit` with path j's implied vol computed here: iv'_j = iv(S'_j)·f_j (iv(S'_j)
    /// the smile's under sticky-moneyness, else the leg's iv) or, `twisted` by the chunk's smile factors
    /// (`ShockBuffers.smileMoves`), iv'_j = max(iv(S'_j) + skew_j·k'_j + term_j·√(30/T_days), 0.01)·f_j
    /// (`OptionLeg.twistedVol`; k'_j = ln K − rT − ln S'_j); priced by the flat-iv kernel at the leg's iv
    /// now with the multiplier g_j = iv'_j/iv and 1/g_j. Per path: one division and, under
    /// sticky-moneyness, the smile's iv(S'_j) in Swift.
    private func subtractPathVolOptionProfit(_ leg: OptionLeg, twisted: Bool, shocks: ShockBuffers, account: UnsafeMutablePointer<Double>,
                                             book: UnsafeMutablePointer<Double>) {
        let m = shocks.count, i = leg.asset, n = shocks.assetCount
        let logSpot = shocks.row(shocks.logSpot, asset: i), volFactor = shocks.row(shocks.volFactor, asset: i)
        let skew = shocks.smileMoves + i * capacity, term = shocks.smileMoves + (n + i) * capacity
        let offset = log(leg.strike) - self.book.rate * leg.expiryYears, termScale = leg.termScale, iv = leg.impliedVol
        if let smile = leg.smile {
            for j in 0..<m { pathFactor[j] = smile.impliedVol(logSpot: logSpot[j]) }
        } else {
            pathFactor.initialize(repeating: iv, count: m)
        }
        for j in 0..<m {
            let base = twisted ? max(pathFactor[j] + skew[j] * (offset - logSpot[j]) + term[j] * termScale, OptionLeg.twistedVolFloor) : pathFactor[j]
            let vol = base * volFactor[j]
            pathFactor[j] = vol / iv
            pathInverse[j] = iv / vol
        }
        withUnsafePointer(to: leg.terms) { terms in
            thresher_subtract_option_profit(terms, m, shocks.row(shocks.spot, asset: i), logSpot, pathFactor, pathInverse, account, book)
        }
    }
}
