#include <stdint.h>
#include <string.h>
#include "CKernels.h"

// Least-significant-digit radix sort of the doubles' bit patterns, 8 bits a pass. A double's bits,
// with every bit flipped when it is negative and only the sign flipped when it is not, order as
// unsigned integers the way the doubles do (−0 just below +0); their complement orders them
// largest first. All eight digits' counts come from one read; a pass whose digit is the same for
// every value (the leading bytes of a tail of similar losses) is skipped. No comparison branches, so
// no mispredictions: on W4's tails (about a thousand losses each) a third of a comparison sort's time.

static inline uint64_t descending_key(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint64_t ascending = (bits >> 63) ? ~bits : bits ^ 0x8000000000000000ULL;
    return ~ascending;
}

static inline double value_of_key(uint64_t key) {
    uint64_t ascending = ~key;
    uint64_t bits = (ascending >> 63) ? ascending ^ 0x8000000000000000ULL : ~ascending;
    double x;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static void insertion_descending(double *v, long n) {
    for (long i = 1; i < n; i++) {
        double x = v[i];
        long j = i;
        while (j > 0 && v[j - 1] < x) { v[j] = v[j - 1]; j--; }
        v[j] = x;
    }
}

void thresher_sort_descending(double *values, long count, double *scratch) {
    if (count < 64) { insertion_descending(values, count); return; }
    uint64_t *keys = (uint64_t *)values, *other = (uint64_t *)scratch;
    // Two sets of counts, for the even and the odd keys, summed after: the leading digits of a
    // tail's keys fall in one or two buckets, and one set's increments of a bucket wait on each other.
    long counts[8][256], odd[8][256];
    memset(counts, 0, sizeof counts);
    memset(odd, 0, sizeof odd);
    long i = 0;
    for (; i + 2 <= count; i += 2) {
        uint64_t key = descending_key(values[i]), next = descending_key(values[i + 1]);
        keys[i] = key;
        keys[i + 1] = next;
        for (int d = 0; d < 8; d++) {
            counts[d][(key >> (8 * d)) & 0xFF]++;
            odd[d][(next >> (8 * d)) & 0xFF]++;
        }
    }
    for (; i < count; i++) {
        uint64_t key = descending_key(values[i]);
        keys[i] = key;
        for (int d = 0; d < 8; d++) counts[d][(key >> (8 * d)) & 0xFF]++;
    }
    for (int d = 0; d < 8; d++) for (int b = 0; b < 256; b++) counts[d][b] += odd[d][b];
    for (int d = 0; d < 8; d++) {
        long *c = counts[d];
        // Skipped when one bucket holds every value: the order is already right for this digit.
        if (c[(keys[0] >> (8 * d)) & 0xFF] == count) continue;
        long offset = 0;
        for (int b = 0; b < 256; b++) { long n = c[b]; c[b] = offset; offset += n; }
        for (long j = 0; j < count; j++) {
            uint64_t key = keys[j];
            other[c[(key >> (8 * d)) & 0xFF]++] = key;
        }
        uint64_t *swap = keys; keys = other; other = swap;
    }
    if (keys != (uint64_t *)values) memcpy(values, keys, (size_t)count * sizeof(uint64_t));
    for (long i = 0; i < count; i++) values[i] = value_of_key(((uint64_t *)values)[i]);
}

// Most-significant-digit radix selection on the same keys: digit by digit from the top, the bucket
// that holds the k-th smallest key (the k-th largest value) is found from a histogram of the keys
// still in play, and only that bucket's keys stay in play. The keys of a tail share their leading
// bytes, so the first passes keep everything and the third or fourth leaves a handful.
void thresher_select_largest(double *values, long count, long k, double *scratch) {
    if (k <= 0 || k >= count) return;
    uint64_t *play = (uint64_t *)scratch;
    // The bits where every key agrees (a tail's sign, exponent and leading mantissa bits) decide
    // nothing: the digits above the highest bit where two keys differ are skipped.
    uint64_t any = 0, all = ~0ULL;
    for (long i = 0; i < count; i++) {
        uint64_t key = descending_key(values[i]);
        play[i] = key;
        any |= key;
        all &= key;
    }
    if (any == all) return;   // every value the same: any k of them are the k largest
    long inPlay = count, need = k;
    int top = (63 - __builtin_clzll(any ^ all)) / 8;
    uint64_t below = ~0ULL >> (8 * (7 - top));   // the bits of the digits top … 0
    uint64_t low = all & ~below, high = low | below;   // the keys in play lie in [low, high]
    for (int d = top; d >= 0; d--) {
        // Four histograms, one per key of every four, summed after: most keys fall in a few
        // buckets, and one histogram's increments of the same bucket wait on each other.
        long counts[256], partial[4][256];
        memset(partial, 0, sizeof partial);
        int shift = 8 * d;
        long i = 0;
        for (; i + 4 <= inPlay; i += 4) {
            partial[0][(play[i] >> shift) & 0xFF]++;
            partial[1][(play[i + 1] >> shift) & 0xFF]++;
            partial[2][(play[i + 2] >> shift) & 0xFF]++;
            partial[3][(play[i + 3] >> shift) & 0xFF]++;
        }
        for (; i < inPlay; i++) partial[0][(play[i] >> shift) & 0xFF]++;
        for (int b = 0; b < 256; b++) counts[b] = partial[0][b] + partial[1][b] + partial[2][b] + partial[3][b];
        long before = 0;
        int b = 0;
        while (before + counts[b] < need) { before += counts[b]; b++; }
        need -= before;
        uint64_t digitMask = 0xFFULL << shift;
        low = (low & ~digitMask) | ((uint64_t)b << shift);
        high = (high & ~digitMask) | ((uint64_t)b << shift);
        if (counts[b] != inPlay) {
            long kept = 0;
            for (long i = 0; i < inPlay; i++) { uint64_t key = play[i]; play[kept] = key; kept += ((key >> shift) & 0xFF) == (uint64_t)b; }
            inPlay = kept;
        }
        if (need == inPlay) break;   // the whole bucket is taken
    }
    // Every key below `low`, then the first `need` of those in [low, high] (equal keys when all 8
    // digits ran), in their order. Branch-free: each value is written and the count advanced only
    // when it is taken (a tail's keys fall either side of `low` at random, so a branch mispredicts).
    long out = 0, taken = 0;
    double *front = scratch;   // the keys are no longer needed
    for (long i = 0; i < count; i++) {
        uint64_t key = descending_key(values[i]);
        long under = key < low, within = (key >= low) & (key <= high) & (taken < need);
        front[out] = values[i];
        out += under | within;
        taken += within;
    }
    memcpy(values, front, (size_t)k * sizeof(double));
}
