/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random
/// numbers: as easy as 1, 2, 3" (SC'11), as specified by Random123.
///
/// A pure function of a 128-bit counter and a 64-bit key: ten rounds of
/// (hi, lo) = mulhilo(M, x) Feistel steps with the Weyl key schedule (W0, W1). Bit-identical to
/// Random123's `philox4x32_R(10, ctr, key)` (checked against its known-answer vectors).
public enum Philox4x32 {
    public static let multiplier0: UInt32 = 0xD251_1F53
    public static let multiplier1: UInt32 = 0xCD9E_8D57
    public static let weyl0: UInt32 = 0x9E37_79B9
    public static let weyl1: UInt32 = 0xBB67_AE85

    /// One block: four 32-bit outputs for counter (c0, c1, c2, c3) under key (k0, k1).
    @inline(__always)
    public static func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32,
                             key k0: UInt32, _ k1: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var x0 = c0, x1 = c1, x2 = c2, x3 = c3
        var key0 = k0, key1 = k1
        for round in 0..<10 {
            if round > 0 { key0 &+= weyl0; key1 &+= weyl1 }
            let product0 = UInt64(multiplier0) &* UInt64(x0)
            let product1 = UInt64(multiplier1) &* UInt64(x2)
            let y0 = UInt32(truncatingIfNeeded: product1 >> 32) ^ x1 ^ key0
            let y1 = UInt32(truncatingIfNeeded: product1)
            let y2 = UInt32(truncatingIfNeeded: product0 >> 32) ^ x3 ^ key1
            let y3 = UInt32(truncatingIfNeeded: product0)
            x0 = y0; x1 = y1; x2 = y2; x3 = y3
        }
        return (x0, x1, x2, x3)
    }
}
