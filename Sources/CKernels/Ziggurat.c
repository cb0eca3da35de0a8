// Standard normals straight from Philox words by Marsaglia and Tsang's ziggurat (see CKernels.h).
#include "KernelVariant.h"
#include "CKernels.h"
#include "PhiloxRounds.h"
#include "ZigguratTables.h"

/// A draw that missed the fast test, set aside with what its retries need.
typedef struct {
    uint64_t word, path;
    uint32_t wordIndex;
    double *out;
} SlowDraw;

/// A word's layer i (bits 0–8) and its sign (bit 9, moved to a double's sign bit).
KERNEL vulong layerOf(vulong word) { return word & splatu(0x1FF); }
KERNEL vulong signOf(vulong word) { return (word << 54) & splatu(0x8000000000000000ull); }

/// ±m·x_i/2⁵² from a word (layer i = bits 0–8, sign = bit 9, m = bits 12–63), and in `missed` the
/// lanes outside the layer's inner rectangle (m ≥ threshold[i]).
KERNEL vdouble fastNormal(vulong word, vlong *missed) {
    vulong layer = layerOf(word), magnitude = word >> 12;
    vdouble scale;
    vulong threshold;
    for (int l = 0; l < LANES; l++) {
        scale[l] = zigguratScale[layer[l]];
        threshold[l] = zigguratThreshold[layer[l]];
    }
    *missed = (vlong)(magnitude >= threshold);
    // m < 2⁵² as a double: bits(2⁵² + m) − 2⁵², exact.
    vdouble m = fromBits(magnitude | splatu(0x4330000000000000ull)) - splat(0x1p52);
    return fromBits(bitsOf(m * scale) ^ signOf(word));
}

/// Finishes set-aside draws, LANES at a time: a lane whose draw is done takes the next one. Retry k
/// (k = 1, 2, …) of a draw reads the Philox block (wordIndex, 2³¹ + 256·k + stream, path low, path
/// high): its first word pair A and its second B. A draw in layer i ≥ 1 (a wedge) is accepted when
/// f(x_i) + u_B·(f(x_(i+1)) − f(x_i)) < e^{−x²/2}; otherwise A is its next word, tested from the
/// start. A draw in the base layer beyond r samples the tail, t = −ln(u_A)/r and y = −ln(u_B), until
/// 2y > t², and returns ±(r + t) (Marsaglia 1964). Exact: every retry uses fresh random bits.
static void resolveSlowDraws(const PhiloxKeys *keys, uint32_t stream, const SlowDraw *draws, long count) {
    vulong word = splatu(0), path = splatu(0), wordIndex = splatu(0), retry = splatu(0);
    vlong active = (vlong)splatu(0), inTail = (vlong)splatu(0);
    long slot[LANES], next = 0;
    for (;;) {
        for (int l = 0; l < LANES && next < count; l++) {
            if (active[l]) continue;
            word[l] = draws[next].word;
            path[l] = draws[next].path;
            wordIndex[l] = draws[next].wordIndex;
            retry[l] = 0;
            inTail[l] = 0;
            active[l] = -1;
            slot[l] = next++;
        }
        if (!anyLane(active)) return;
        vlong missed;
        vdouble x = fastNormal(word, &missed);
        vulong layer = layerOf(word);
        vlong fast = ~inTail & ~missed;
        retry += splatu(1);
        vulong a, b;
        philoxBlock(wordIndex, splatu(0x80000000u + (uint64_t)stream) + (retry << 8), path & splatu(0xFFFFFFFFu),
                    path >> 32, keys, &a, &b);
        vdouble uA = uniformFromWord(a), uB = uniformFromWord(b);
        vlong tail = inTail | (vlong)(layer == splatu(0));
        vlong done = fast;
        vdouble value = x;
        if (anyLane(tail & ~fast)) {
            vdouble t = -vlog(uA) * splat(1.0 / zigguratTailStart), y = -vlog(uB);
            vdouble tailValue = fromBits(bitsOf(splat(zigguratTailStart) + t) ^ signOf(word));
            done |= tail & ((y + y) > t * t);
            value = laneSelect(tail & ~fast, tailValue, x);
        }
        vdouble lowDensity, highDensity;
        for (int l = 0; l < LANES; l++) {
            lowDensity[l] = zigguratDensity[layer[l]];
            highDensity[l] = zigguratDensity[layer[l] + 1];
        }
        done |= ~tail & (fmadd(uB, highDensity - lowDensity, lowDensity) < vexp(splat(-0.5) * (x * x)));
        for (int l = 0; l < LANES; l++) {
            if (active[l] && done[l]) *draws[slot[l]].out = value[l];
        }
        active &= ~done;
        word = ((vulong)tail & word) | (~(vulong)tail & a);   // a rejected wedge starts again from A
        inTail = tail;
    }
}

/// Lanes of a comparison mask as bits.
KERNEL unsigned laneBits(vlong mask) {
    unsigned bits = 0;
    for (int l = 0; l < LANES; l++) bits |= (unsigned)(mask[l] & 1) << l;
    return bits;
}

void thresher_philox_normals(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                             double *out, long rowStride) {
    const PhiloxKeys keys = philoxKeys(seed);
    enum { BATCH = 64 };
    SlowDraw slow[BATCH];
    long slowCount = 0;
    for (long j = 0; j < count; j += LANES) {
        vulong path = splatu((uint64_t)(firstPath + j)) + laneIndex();
        vulong pathLow = path & splatu(0xFFFFFFFFu), pathHigh = path >> 32;
        long lanes = count - j < LANES ? count - j : LANES;
        for (long w = 0; w < perPath; w += 2) {
            vulong words[2];
            philoxBlock(splatu((uint64_t)(w / 2)), splatu(stream), pathLow, pathHigh, &keys, &words[0], &words[1]);
            for (long h = 0; h < 2 && w + h < perPath; h++) {
                vlong missed;
                double *row = out + (w + h) * rowStride + j;
                storePartial(row, fastNormal(words[h], &missed), lanes);
                if (__builtin_expect(!anyLane(missed), 1)) continue;   // 94 % of steps
                for (unsigned bits = laneBits(missed) & ((1u << lanes) - 1); bits; bits &= bits - 1) {
                    int l = __builtin_ctz(bits);
                    slow[slowCount++] = (SlowDraw){words[h][l], path[l], (uint32_t)(w + h), row + l};
                    if (slowCount == BATCH) {
                        resolveSlowDraws(&keys, stream, slow, slowCount);
                        slowCount = 0;
                    }
                }
            }
        }
    }
    if (slowCount > 0) resolveSlowDraws(&keys, stream, slow, slowCount);
}

double thresher_ziggurat_normal(uint64_t seed, uint32_t stream, uint64_t path, uint32_t wordIndex, uint64_t word) {
    double x;
    vlong missed;
    vdouble fast = fastNormal(splatu(word), &missed);
    if (!missed[0]) return fast[0];
    const PhiloxKeys keys = philoxKeys(seed);
    SlowDraw draw = {word, path, wordIndex, &x};
    resolveSlowDraws(&keys, stream, &draw, 1);
    return x;
}
