// The per-account hot loops of `run` on exchange-size books: linear losses from a few exposures and
// the block statistics the tail accumulators fold in.
#include <math.h>
#include "CKernels.h"
#include "VectorMath.h"

void thresher_linear_losses(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                            long terms, double constant, double *loss) {
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        vdouble v = splat(constant);
        for (long k = 0; k < terms; k++) v -= splat(weights[k]) * loadPartial(spot + assets[k] * rowStride + j, lanes, 0.0);
        storePartial(loss + j, v, lanes);
    }
}

/// Lanes 0…7 combined as ((0+4)+(2+6))+((1+5)+(3+7)): a fixed tree, the same for every block.
KERNEL double laneSum(vdouble v) {
    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

KERNEL double laneMax(vdouble v) {
    double m = v[0];
    for (int l = 1; l < LANES; l++) m = v[l] > m ? v[l] : m;
    return m;
}

void thresher_block_statistics(const double *values, long count, double *sums, double *squares, double *maxima) {
    // v·v rounded on its own, then added: the same roundings with and without FMA units.
#pragma clang fp contract(off)
    for (long first = 0, b = 0; first < count; first += THRESHER_STATISTICS_BLOCK, b++) {
        long end = first + THRESHER_STATISTICS_BLOCK < count ? first + THRESHER_STATISTICS_BLOCK : count;
        vdouble sum = splat(0.0), square = splat(0.0), maximum = splat(-INFINITY);
        for (long j = first; j < end; j += LANES) {
            long lanes = end - j < LANES ? end - j : LANES;
            vdouble v = loadPartial(values + j, lanes, 0.0);
            sum += v;
            square += v * v;
            maximum = __builtin_elementwise_max(maximum, lanes < LANES ? loadPartial(values + j, lanes, -INFINITY) : v);
        }
        sums[b] = laneSum(sum);
        squares[b] = laneSum(square);
        maxima[b] = laneMax(maximum);
    }
}

long thresher_values_above(const double *values, long count, double threshold, double *out) {
    long kept = 0;
    for (long j = 0; j < count; j++) {
        out[kept] = values[j];
        kept += values[j] > threshold;
    }
    return kept;
}
