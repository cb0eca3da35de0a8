// The per-account hot loops of `run` on exchange-size books: linear losses from a few exposures and
// the block statistics and tail candidates the tail accumulators fold in.
#include "KernelVariant.h"
#include <math.h>
#if THRESHER_HAS_AVX2
#include <immintrin.h>
#endif
#include "CKernels.h"
#include "VectorMath.h"

/// constant − Σ_k weights[k]·spot[assets[k]·rowStride + j …], eight paths from j (`lanes` valid),
/// one fused multiply-add per term (the rounding -march=haswell's contraction gave before).
KERNEL vdouble linearLoss(const double *spot, long rowStride, const int32_t *assets, const double *weights, long terms,
                          double constant, long j, long lanes) {
    vdouble v = splat(constant);
    for (long k = 0; k < terms; k++) {
        v = fmadd(splat(-weights[k]), loadPartial(spot + assets[k] * rowStride + j, lanes, 0.0), v);
    }
    return v;
}

void thresher_linear_losses(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                            long terms, double constant, double *loss) {
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        storePartial(loss + j, linearLoss(spot, rowStride, assets, weights, terms, constant, j, lanes), lanes);
    }
}

/// Lanes 0…7 combined as ((0+4)+(2+6))+((1+5)+(3+7)): a fixed tree, the same for every block.
KERNEL double laneSum(vdouble v) {
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

/// The running statistics of one block.
typedef struct { vdouble sum, square; } BlockStatistics;

KERNEL BlockStatistics blockStart(void) {
    BlockStatistics s = {splat(0.0), splat(0.0)};
    return s;
}

/// Folds eight values in (lanes ≥ `lanes` ignored): v·v rounded on its own, then added (no
/// contraction, VectorMath.h), so the same roundings with and without FMA units.
KERNEL void blockAdd(BlockStatistics *s, vdouble v, long lanes) {
    if (lanes < LANES) v = laneSelect((vlong)laneIndex() < (vlong)splatu((uint64_t)lanes), v, splat(0.0));
    s->sum += v;
    s->square += v * v;
}

KERNEL void blockFinish(const BlockStatistics *s, long b, double *sums, double *squares) {
    sums[b] = laneSum(s->sum);
    squares[b] = laneSum(s->square);
}

#if THRESHER_HAS_AVX2
/// For each 4-bit mask m of four doubles, the 32-bit word indices that move the doubles whose bit
/// is set to the front, in order (the rest: word 0).
static const int32_t leftPack[16][8] __attribute__((aligned(32))) = {
    {0, 0, 0, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0, 0, 0}, {2, 3, 0, 0, 0, 0, 0, 0}, {0, 1, 2, 3, 0, 0, 0, 0},
    {4, 5, 0, 0, 0, 0, 0, 0}, {0, 1, 4, 5, 0, 0, 0, 0}, {2, 3, 4, 5, 0, 0, 0, 0}, {0, 1, 2, 3, 4, 5, 0, 0},
    {6, 7, 0, 0, 0, 0, 0, 0}, {0, 1, 6, 7, 0, 0, 0, 0}, {2, 3, 6, 7, 0, 0, 0, 0}, {0, 1, 2, 3, 6, 7, 0, 0},
    {4, 5, 6, 7, 0, 0, 0, 0}, {0, 1, 4, 5, 6, 7, 0, 0}, {2, 3, 4, 5, 6, 7, 0, 0}, {0, 1, 2, 3, 4, 5, 6, 7},
};

/// Four values: those above t written to out + kept (four doubles are written), branch-free.
KERNEL long keepAbove4(__m256d v, __m256d t, double *out, long kept) {
    int mask = _mm256_movemask_pd(_mm256_cmp_pd(v, t, _CMP_GT_OQ));
    __m256i index = _mm256_load_si256((const __m256i *)leftPack[mask]);
    _mm256_storeu_pd(out + kept, _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(v), index)));
    return kept + __builtin_popcount(mask);
}
#endif

/// Appends the lanes of v above `threshold` (of the first `lanes`) to out, in order, writing up
/// to LANES doubles at out + kept; returns the new count.
KERNEL long keepAbove(vdouble v, long lanes, double threshold, double *out, long kept) {
    if (lanes < LANES) v = laneSelect((vlong)laneIndex() < (vlong)splatu((uint64_t)lanes), v, splat(-INFINITY));
#if THRESHER_HAS_AVX2
    __m256d t = _mm256_set1_pd(threshold), low, high;
    memcpy(&low, &v, sizeof low);
    memcpy(&high, (const char *)&v + sizeof low, sizeof high);
    kept = keepAbove4(low, t, out, kept);
    return keepAbove4(high, t, out, kept);
#else
    for (int l = 0; l < LANES; l++) {
        out[kept] = v[l];
        kept += v[l] > threshold;
    }
    return kept;
#endif
}

void thresher_block_statistics(const double *values, long count, double *sums, double *squares) {
    for (long first = 0, b = 0; first < count; first += THRESHER_STATISTICS_BLOCK, b++) {
        long end = first + THRESHER_STATISTICS_BLOCK < count ? first + THRESHER_STATISTICS_BLOCK : count;
        BlockStatistics s = blockStart();
        for (long j = first; j < end; j += LANES) {
            long lanes = end - j < LANES ? end - j : LANES;
            blockAdd(&s, loadPartial(values + j, lanes, 0.0), lanes);
        }
        blockFinish(&s, b, sums, squares);
    }
}

long thresher_values_above(const double *values, long count, double threshold, double *out) {
    long kept = 0;
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        kept = keepAbove(loadPartial(values + j, lanes, -INFINITY), lanes, threshold, out, kept);
    }
    return kept;
}

long thresher_count_beyond(const double *values, long count, double bound, int above) {
    // Lane counts of −1 per hit (a comparison mask), summed at the end: no branch per value.
    vlong hits = (vlong)splatu(0);
    vdouble limit = splat(bound);
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        // Partial lanes hold the bound itself, which is neither below nor above it.
        vdouble v = loadPartial(values + j, lanes, bound);
        hits += above ? (vlong)(v > limit) : (vlong)(v < limit);
    }
    return -__builtin_reduce_add(hits);
}

long thresher_linear_tail(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                          long terms, double constant, double threshold, double *sums, double *squares,
                          double *above) {
    long kept = 0;
    for (long first = 0, b = 0; first < count; first += THRESHER_STATISTICS_BLOCK, b++) {
        long end = first + THRESHER_STATISTICS_BLOCK < count ? first + THRESHER_STATISTICS_BLOCK : count;
        BlockStatistics s = blockStart();
        for (long j = first; j < end; j += LANES) {
            long lanes = end - j < LANES ? end - j : LANES;
            vdouble v = linearLoss(spot, rowStride, assets, weights, terms, constant, j, lanes);
            blockAdd(&s, v, lanes);
            kept = keepAbove(v, lanes, threshold, above, kept);
        }
        blockFinish(&s, b, sums, squares);
    }
    return kept;
}
