#include <stdint.h>
#include <string.h>
#include "CKernels.h"

// ExactSum's addition of a batch (Sources/TailStats/ExactSum.swift): x = ±m·2^e, m < 2⁵³, placed at
// bit p = e + 1088 of the fixed-point accumulator and split into the three 32-bit pieces of
// m·2^(p mod 32), added to (or subtracted from) limbs ⌊p/32⌋ … ⌊p/32⌋ + 2. Integer arithmetic, so
// the limbs are the same whatever the order and whichever code adds them.
long thresher_exact_sum_add(int64_t *limbs, const double *values, long count) {
    long nonFinite = 0;
    for (long i = 0; i < count; i++) {
        uint64_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        uint64_t exponentBits = (bits >> 52) & 0x7FF;
        uint64_t mantissa = bits & ((1ULL << 52) - 1);
        if (exponentBits == 0x7FF) { nonFinite++; continue; }
        if ((bits << 1) == 0) continue;   // ±0
        long exponent;
        if (exponentBits == 0) exponent = -1074; else { mantissa |= 1ULL << 52; exponent = (long)exponentBits - 1075; }
        long position = exponent + 1088;
        int64_t *limb = limbs + (position >> 5);
        unsigned __int128 wide = (unsigned __int128)mantissa << (position & 31);
        int64_t p0 = (int64_t)(uint64_t)(wide & 0xFFFFFFFFu), p1 = (int64_t)(uint64_t)((wide >> 32) & 0xFFFFFFFFu), p2 = (int64_t)(uint64_t)(wide >> 64);
        // Negated by the sign's mask (0 or −1) rather than a branch: block sums of losses change
        // sign at random, and the mispredicted branch cost more than the addition. The limbs are
        // written through a volatile pointer so that the three stay 8-byte additions: paired into
        // one 16-byte load and store, the next value's load one limb over cannot be forwarded from
        // them and stalls.
        int64_t sign = -(int64_t)(bits >> 63);
        volatile int64_t *target = limb;
        target[0] += (p0 ^ sign) - sign;
        target[1] += (p1 ^ sign) - sign;
        target[2] += (p2 ^ sign) - sign;
    }
    return nonFinite;
}
