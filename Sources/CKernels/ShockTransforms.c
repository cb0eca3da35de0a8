// The Student-t mixing scale and the exponentials of shock generation, over rows of a chunk.
#include "KernelVariant.h"
#include <math.h>
#include "CKernels.h"
#include "VectorMath.h"

void thresher_chi_square_mixing(const double *uniforms, long factors, long rowStride, double numerator, double *out,
                                long count) {
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        vdouble product = loadPartial(uniforms + j, lanes, 0.5);
        for (long m = 1; m < factors; m++) product *= loadPartial(uniforms + m * rowStride + j, lanes, 0.5);
        storePartial(out + j, vsqrt(splat(numerator) / (splat(-2.0) * vlog(product))), lanes);
    }
}

/// e^v for any v: the short Taylor form when every lane is within ±1/8, else the vector
/// exponential, or the C library's per lane (0 or +∞ at the ends) in the rare vector with a lane
/// beyond ±708.
KERNEL vdouble expAnyRange(vdouble v) {
    vdouble magnitude = vabs(v);
    if (!anyLane(magnitude > splat(0.125))) return vexpSmall(v);
    if (__builtin_expect(anyLane(magnitude > splat(708.0)), 0)) {
        vdouble e;
        for (int l = 0; l < LANES; l++) e[l] = exp(v[l]);
        return e;
    }
    return vexp(v);
}

void thresher_shocked_spots(const double *epsilon, double scale, double logSpotNow, double spotNow, double *logSpot,
                            double *spot, long count) {
    for (long k = 0; k < count; k += LANES) {
        long lanes = count - k < LANES ? count - k : LANES;
        vdouble v = splat(scale) * loadPartial(epsilon + k, lanes, 0.0);
        storePartial(logSpot + k, splat(logSpotNow) + v, lanes);
        storePartial(spot + k, splat(spotNow) * expAnyRange(v), lanes);
    }
}

void thresher_vol_factors(const double *epsilon, const double *eta, double correlation, double weight, double scale,
                          double *factor, double *inverse, long count) {
    for (long k = 0; k < count; k += LANES) {
        long lanes = count - k < LANES ? count - k : LANES;
        vdouble xi = fmadd(splat(correlation), loadPartial(epsilon + k, lanes, 0.0),
                           splat(weight) * loadPartial(eta + k, lanes, 0.0));
        vdouble e = expAnyRange(splat(scale) * xi);
        storePartial(factor + k, e, lanes);
        storePartial(inverse + k, splat(1.0) / e, lanes);
    }
}
