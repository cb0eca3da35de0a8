/// Scans a row of one-byte flags (`Bool`, or `UInt8` 0/1) for the set ones, eight at a time: in the
/// waterfall's rows most flags are clear (most account-paths are neither liquidated nor near a breach).
enum FlagScan {
    /// The first j in `start ..< end` with flags[j] ≠ 0; `end` where none is.
    @inline(__always) static func next(_ flags: UnsafeRawPointer, from start: Int, to end: Int) -> Int {
        var j = start
        while j + 8 <= end {
            // Each flag is one byte, 0 or 1: the first set byte holds the lowest set bit.
            let word = UInt64(littleEndian: flags.loadUnaligned(fromByteOffset: j, as: UInt64.self))
            if word != 0 { return j + word.trailingZeroBitCount / 8 }
            j += 8
        }
        while j < end, flags.load(fromByteOffset: j, as: UInt8.self) == 0 { j += 1 }
        return j
    }

    /// 1 for true, 0 for false — the Bool's own byte, so no branch: flags combined with `&` and `|`
    /// rather than `&&` and `||` keep a loop over paths vectorisable, and a count summed from them
    /// does not branch (`x ? 1 : 0` compiled to a branch in a compaction loop, mispredicted at random).
    @inline(__always) static func flag(_ x: Bool) -> UInt8 { unsafeBitCast(x, to: UInt8.self) }
}
