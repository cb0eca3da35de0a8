// Philox4x32-10 over LANES paths at a time: one path per 64-bit lane, each 32-bit word in the low
// half of its lane, so the 32×32→64 products are single unsigned multiplies of the lanes.
#include "CKernels.h"
#include "VectorMath.h"

enum { ROUNDS = 10 };
static const uint32_t multiplier0 = 0xD2511F53u, multiplier1 = 0xCD9E8D57u;
static const uint32_t weyl0 = 0x9E3779B9u, weyl1 = 0xBB67AE85u;

/// The four 64-bit words (high:low word pairs) of one Philox block for four counters.
KERNEL void philoxBlock(vulong c0, vulong c1, vulong c2, vulong c3, const uint32_t key0[ROUNDS],
                        const uint32_t key1[ROUNDS], vulong *first, vulong *second) {
    const vulong low = splatu(0xFFFFFFFFu);
    vulong x0 = c0, x1 = c1, x2 = c2, x3 = c3;
    #pragma clang loop unroll(full)
    for (int round = 0; round < ROUNDS; round++) {
        vulong product0 = splatu(multiplier0) * x0;
        vulong product1 = splatu(multiplier1) * x2;
        vulong y0 = (product1 >> 32) ^ x1 ^ splatu(key0[round]);
        vulong y2 = (product0 >> 32) ^ x3 ^ splatu(key1[round]);
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

void thresher_philox_uniforms(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                              double *out, long rowStride) {
    uint32_t key0[ROUNDS], key1[ROUNDS];
    key0[0] = (uint32_t)seed;
    key1[0] = (uint32_t)(seed >> 32);
    for (int round = 1; round < ROUNDS; round++) {
        key0[round] = key0[round - 1] + weyl0;
        key1[round] = key1[round - 1] + weyl1;
    }
    for (long j = 0; j < count; j += LANES) {
        vulong path = splatu((uint64_t)(firstPath + j)) + laneIndex();
        vulong pathLow = path & splatu(0xFFFFFFFFu), pathHigh = path >> 32;
        long lanes = count - j < LANES ? count - j : LANES;
        for (long w = 0; w < perPath; w += 2) {
            vulong first, second;
            philoxBlock(splatu((uint64_t)(w / 2)), splatu(stream), pathLow, pathHigh, key0, key1, &first, &second);
            storePartial(out + w * rowStride + j, uniformFromWord(first), lanes);
            if (w + 1 < perPath) storePartial(out + (w + 1) * rowStride + j, uniformFromWord(second), lanes);
        }
    }
}
