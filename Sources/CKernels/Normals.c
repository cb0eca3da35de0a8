// Standard normals by inversion (AS 241), the Student-t mixing scale and the exponentials of shock
// generation, over rows of a chunk.
#include <math.h>
#include "CKernels.h"
#include "VectorMath.h"

/// AS 241's central branch, Φ⁻¹(½ + q) = q·A(r)/B(r), r = 0.180625 − q², for |q| ≤ 0.425.
KERNEL vdouble centralQuantile(vdouble q) {
    static const double a[8] = {3.3871328727963666080e+0, 1.3314166789178437745e+2, 1.9715909503065514427e+3,
                                1.3731693765509461125e+4, 4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.0, 4.2313330701600911252e+1, 6.8718700749205790830e+2, 5.3941960214247511077e+3,
                                2.1213794301586595867e+4, 3.9307895800092710610e+4, 2.8729085735721942674e+4,
                                5.2264952788528545610e+3};
    vdouble r = splat(0.180625) - q * q;
    vdouble r2 = r * r, r4 = r2 * r2;
    return q * poly7(a, r, r2, r4) / poly7(b, r, r2, r4);
}

/// |Φ⁻¹(t)| for tail probabilities t in (0, 0.075]: AS 241's rationals in r = √(−ln t), the first
/// for r ≤ 5, the second (evaluated only when a lane needs it) beyond.
KERNEL vdouble tailQuantileMagnitude(vdouble t) {
    static const double a[8] = {1.42343711074968357734e+0, 4.63033784615654529590e+0, 5.76949722146069140550e+0,
                                3.64784832476320460504e+0, 1.27045825245236838258e+0, 2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double b[8] = {1.0, 2.05319162663775882187e+0, 1.67638483018380384940e+0, 6.89767334985100004550e-1,
                                1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
    static const double farA[8] = {6.65790464350110377720e+0, 5.46378491116411436990e+0, 1.78482653991729133580e+0,
                                   2.96560571828504891230e-1, 2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                   2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double farB[8] = {1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
                                   7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7,
                                   2.04426310338993978564e-15};
    vdouble r = vsqrt(-vlog(t));
    vdouble s = r - splat(1.6), s2 = s * s, s4 = s2 * s2;
    vdouble x = poly7(a, s, s2, s4) / poly7(b, s, s2, s4);
    vlong far = r > splat(5.0);
    if (__builtin_expect(anyLane(far), 0)) {
        s = r - splat(5.0), s2 = s * s, s4 = s2 * s2;
        x = select(far, poly7(farA, s, s2, s4) / poly7(farB, s, s2, s4), x);
    }
    return x;
}

/// Two passes: the central rational for every element (≈ 85 % of them are central) while the
/// others are set aside (index and uniform), then the tail rationals over those, four at a time.
void thresher_normal_quantiles(double *values, long count) {
    enum { BATCH = 512 };
    long index[BATCH + LANES];
    double uniform[BATCH + LANES];
    for (long start = 0; start < count; start += BATCH) {
        long end = start + BATCH < count ? start + BATCH : count;
        long tails = 0;
        for (long k = start; k < end; k += LANES) {
            long lanes = end - k < LANES ? end - k : LANES;
            vdouble u = loadPartial(values + k, lanes, 0.5);
            vdouble q = u - splat(0.5);
            storePartial(values + k, centralQuantile(q), lanes);
            for (long l = 0; l < lanes; l++) {
                index[tails] = k + l;
                uniform[tails] = u[l];
                tails += fabs(q[l]) > 0.425;
            }
        }
        for (long t = 0; t < tails; t += LANES) {
            long lanes = tails - t < LANES ? tails - t : LANES;
            vdouble u = splat(0.25);
            for (long l = 0; l < lanes; l++) u[l] = uniform[t + l];
            vlong lower = u < splat(0.5);
            vdouble magnitude = tailQuantileMagnitude(select(lower, u, splat(1.0) - u));
            vdouble z = select(lower, -magnitude, magnitude);
            for (long l = 0; l < lanes; l++) values[index[t + l]] = z[l];
        }
    }
}

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

void thresher_scaled_exp(const double *x, double scale, double multiplier, double *y, long count) {
    for (long k = 0; k < count; k += LANES) {
        long lanes = count - k < LANES ? count - k : LANES;
        storePartial(y + k, splat(multiplier) * expAnyRange(splat(scale) * loadPartial(x + k, lanes, 0.0)), lanes);
    }
}

void thresher_exp_and_reciprocal(const double *x, double scale, double *y, double *inverse, long count) {
    for (long k = 0; k < count; k += LANES) {
        long lanes = count - k < LANES ? count - k : LANES;
        vdouble e = expAnyRange(splat(scale) * loadPartial(x + k, lanes, 0.0));
        storePartial(y + k, e, lanes);
        storePartial(inverse + k, splat(1.0) / e, lanes);
    }
}
