// Philox4x32-10 (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3") over LANES
// counters at a time: one counter per 64-bit lane, each 32-bit word in the low half of its lane, so
// the 32×32→64 products are single unsigned multiplies of the lanes. Shared by the uniform and the
// normal kernels.
#ifndef THRESHER_PHILOX_ROUNDS_H
#define THRESHER_PHILOX_ROUNDS_H

#include "VectorMath.h"

enum { PHILOX_ROUNDS = 10 };

/// The round keys of `seed`: key (seed low, seed high) plus r times the Weyl increments.
typedef struct {
    uint32_t key0[PHILOX_ROUNDS], key1[PHILOX_ROUNDS];
} PhiloxKeys;

KERNEL PhiloxKeys philoxKeys(uint64_t seed) {
    PhiloxKeys keys;
    keys.key0[0] = (uint32_t)seed;
    keys.key1[0] = (uint32_t)(seed >> 32);
    for (int round = 1; round < PHILOX_ROUNDS; round++) {
        keys.key0[round] = keys.key0[round - 1] + 0x9E3779B9u;
        keys.key1[round] = keys.key1[round - 1] + 0xBB67AE85u;
    }
    return keys;
}

/// The block of counters (c0, c1, c2, c3) as two 64-bit words per lane: words 0:1 and 2:3, the
/// first word of each pair in the high half.
KERNEL void philoxBlock(vulong c0, vulong c1, vulong c2, vulong c3, const PhiloxKeys *keys, vulong *first,
                        vulong *second) {
    const vulong low = splatu(0xFFFFFFFFu);
    vulong x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    #pragma clang loop unroll(full)
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
        vulong product0 = splatu(0xD2511F53u) * x0;
        vulong product1 = splatu(0xCD9E8D57u) * x2;
        vulong y0 = (product1 >> 32) ^ x1 ^ splatu(keys->key0[round]);
        vulong y2 = (product0 >> 32) ^ x3 ^ splatu(keys->key1[round]);
        x0 = y0;
        x1 = product1 & low;
        x2 = y2;
        x3 = product0 & low;
    }
    *first = (x0 << 32) | x1;
    *second = (x2 << 32) | x3;
}

/// (⌊w / 2^12⌋ + ½)·2^−52: the top 52 bits as the mantissa of a number in [1, 2), minus (1 − 2^−53).
KERNEL vdouble uniformFromWord(vulong w) {
    return fromBits((w >> 12) | splatu(0x3FF0000000000000ull)) - splat(1.0 - 0x1p-53);
}

#endif
