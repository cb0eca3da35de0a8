// Double vectors (clang vector extensions) and the branch-free elementary functions the kernels
// share. Every kernel source is compiled twice on x86-64 (see Dispatch.c): as the baseline (any
// x86-64, or the native width elsewhere) and, inside KernelsAVX2.c, for AVX2/FMA.
#ifndef THRESHER_VECTOR_MATH_H
#define THRESHER_VECTOR_MATH_H

// No implicit contraction of a·b + c: every fused multiply-add is an explicit `fmadd`, which is one
// rounding on every target (an FMA instruction, or the C library's correctly rounded fma per lane
// where the CPU has none). So the AVX2/FMA and baseline variants, and aarch64, give the same bits.
#pragma clang fp contract(off)

#include <stdint.h>
#include <string.h>

// Eight lanes: on AVX2 every operation is two independent ymm instructions, which gives the
// out-of-order core the parallelism that one polynomial's dependency chain lacks (measured on a
// Zen 1 core: 1.6× the throughput of four lanes on Philox and the exponential).
#define LANES 8
#pragma clang diagnostic ignored "-Wpsabi"
typedef double vdouble __attribute__((vector_size(LANES * 8)));
typedef int64_t vlong __attribute__((vector_size(LANES * 8)));
typedef uint64_t vulong __attribute__((vector_size(LANES * 8)));

#define KERNEL static inline __attribute__((always_inline))

KERNEL vdouble splat(double x) {
    vdouble v;
    for (int l = 0; l < LANES; l++) v[l] = x;
    return v;
}
KERNEL vulong splatu(uint64_t x) {
    vulong v;
    for (int l = 0; l < LANES; l++) v[l] = x;
    return v;
}
/// 0, 1, …, LANES − 1.
KERNEL vulong laneIndex(void) {
    vulong v;
    for (int l = 0; l < LANES; l++) v[l] = (uint64_t)l;
    return v;
}
/// a·b + c with one rounding.
KERNEL vdouble fmadd(vdouble a, vdouble b, vdouble c) { return __builtin_elementwise_fma(a, b, c); }
KERNEL vdouble vabs(vdouble x) { return __builtin_elementwise_abs(x); }
KERNEL vdouble vmin(vdouble a, vdouble b) { return __builtin_elementwise_min(a, b); }
KERNEL vdouble vsqrt(vdouble x) { return __builtin_elementwise_sqrt(x); }
KERNEL vdouble load(const double *p) { vdouble v; memcpy(&v, p, sizeof v); return v; }
KERNEL void store(double *p, vdouble v) { memcpy(p, &v, sizeof v); }
/// The first `lanes` (≤ LANES) elements at p; the other lanes hold `fill`.
KERNEL vdouble loadPartial(const double *p, long lanes, double fill) {
    if (lanes >= LANES) return load(p);
    vdouble v = splat(fill);
    for (long l = 0; l < lanes; l++) v[l] = p[l];
    return v;
}
KERNEL void storePartial(double *p, vdouble v, long lanes) {
    if (lanes >= LANES) { store(p, v); return; }
    for (long l = 0; l < lanes; l++) p[l] = v[l];
}
KERNEL vulong bitsOf(vdouble x) { vulong b; memcpy(&b, &x, sizeof b); return b; }
KERNEL vdouble fromBits(vulong b) { vdouble x; memcpy(&x, &b, sizeof x); return x; }
/// Lane-wise `mask ? a : b` for a comparison mask (all ones or all zeros per lane).
KERNEL vdouble laneSelect(vlong mask, vdouble a, vdouble b) {
    vulong m = (vulong)mask;
    return fromBits((m & bitsOf(a)) | (~m & bitsOf(b)));
}
KERNEL int anyLane(vlong mask) { return __builtin_reduce_or(mask) != 0; }

// Polynomials c0 + c1·x + … by Estrin's scheme: pairs (c_{2i} + c_{2i+1}·x) combined with x², x⁴,
// x⁸. The same operation count as Horner's rule but a dependency chain of log₂(degree) FMAs
// instead of degree of them, so the out-of-order core overlaps neighbouring vectors.
KERNEL vdouble pair(double c0, double c1, vdouble x) { return fmadd(splat(c1), x, splat(c0)); }
/// Degree 6 (c[0] … c[6]) given x, x², x⁴.
KERNEL vdouble poly6(const double c[7], vdouble x, vdouble x2, vdouble x4) {
    vdouble low = fmadd(pair(c[2], c[3], x), x2, pair(c[0], c[1], x));
    vdouble high = fmadd(splat(c[6]), x2, pair(c[4], c[5], x));
    return fmadd(high, x4, low);
}
/// Degree 7 (c[0] … c[7]) given x, x², x⁴.
KERNEL vdouble poly7(const double c[8], vdouble x, vdouble x2, vdouble x4) {
    vdouble low = fmadd(pair(c[2], c[3], x), x2, pair(c[0], c[1], x));
    vdouble high = fmadd(pair(c[6], c[7], x), x2, pair(c[4], c[5], x));
    return fmadd(high, x4, low);
}

/// 1/2!, 1/3!, …, 1/12!: the coefficients of (e^r − 1 − r)/r².
static const double expTaylor[11] = {1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
                                     1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};

/// e^x for x in [−708, 709] (no overflow or underflow handling: callers clamp or check).
///
/// Cody–Waite reduction x = k·ln2 + r, |r| ≤ ln2/2, with ln2 split in a 32-bit head and its tail
/// so k·ln2_hi is exact; e^r by its Taylor polynomial to degree 12 (truncation ≤ 2e-17 relative,
/// Estrin's scheme); 2^k put straight into the exponent field. Error ≤ 2 ulp.
/// k = round(x/ln2) comes from adding 1.5·2^52 (whose low mantissa bits then hold k).
KERNEL vdouble vexp(vdouble x) {
    const double shifter = 0x1.8p52;
    vdouble shifted = fmadd(x, splat(1.4426950408889634074), splat(shifter));
    vdouble k = shifted - splat(shifter);
    vdouble r = fmadd(k, splat(-6.93147180369123816490e-01), x);
    r = fmadd(k, splat(-1.90821492927058770002e-10), r);
    vdouble r2 = r * r, r4 = r2 * r2;
    // e^r = 1 + r + r²·Q(r), Q(r) = Σ_{i=2}^{12} r^{i−2}/i!: the small terms carry the rounding.
    vdouble q = fmadd(fmadd(splat(expTaylor[10]), r2, pair(expTaylor[8], expTaylor[9], r)), r4 * r4,
                      poly7(expTaylor, r, r2, r4));
    vdouble p = splat(1.0) + fmadd(r2, q, r);
    // bits(shifted) = bits(1.5·2^52) + k; 2^k has exponent field k + 1023.
    vulong scale = (bitsOf(shifted) - bitsOf(splat(shifter)) + splatu(1023)) << 52;
    return p * fromBits(scale);
}

/// e^x for |x| ≤ 1/8, without range reduction: 1 + x + x²·Q(x), Q the Taylor polynomial to x^10
/// (truncation ≤ 3e-18 relative). Error ≤ 1 ulp. The shocks of one horizon are mostly this small.
KERNEL vdouble vexpSmall(vdouble x) {
    vdouble x2 = x * x, x4 = x2 * x2;
    vdouble q = fmadd(splat(expTaylor[8]), x4 * x4, poly7(expTaylor, x, x2, x4));
    return splat(1.0) + fmadd(x2, q, x);
}

/// ln x for normal positive x.
///
/// x = 2^e·m with m in [√½, √2); ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, by its
/// odd series to s^21 (truncation ≤ 1e-17); ln x = e·ln2 + ln m. Error ≤ 2 ulp.
KERNEL vdouble vlog(vdouble x) {
    vulong bits = bitsOf(x);
    vdouble m = fromBits((bits & splatu(0x000FFFFFFFFFFFFFull)) | splatu(0x3FF0000000000000ull)); // [1, 2)
    // The biased exponent (11 bits) as a double: bits(2^52) + E, minus 2^52, minus the bias.
    vdouble e = fromBits((bits >> 52) | splatu(0x4330000000000000ull)) - splat(0x1p52 + 1023.0);
    vlong high = m > splat(1.41421356237309504880);
    m = laneSelect(high, m * splat(0.5), m);
    e = laneSelect(high, e + splat(1.0), e);
    vdouble s = (m - splat(1.0)) / (m + splat(1.0));
    vdouble s2 = s * s;
    vdouble s4 = s2 * s2, s8 = s4 * s4;
    // ln m = 2s + s³·Σ_{i=0}^{9} 2/(2i+3)·s^{2i}
    static const double low[8] = {2.0 / 3, 2.0 / 5, 2.0 / 7, 2.0 / 9, 2.0 / 11, 2.0 / 13, 2.0 / 15, 2.0 / 17};
    vdouble p = fmadd(pair(2.0 / 19, 2.0 / 21, s2), s8 * s8, poly7(low, s2, s4, s8));
    vdouble lnm = fmadd(s * s2, p, s + s);
    return fmadd(e, splat(6.93147180369123816490e-01), fmadd(e, splat(1.90821492927058770002e-10), lnm));
}

#endif
