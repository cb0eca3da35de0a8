// Black–Scholes repricing of one option over the paths of a chunk (see CKernels.h for the math).
#include "KernelVariant.h"
#include <math.h>
#include "CKernels.h"
#include "VectorMath.h"

/// Hart's rational, Φ(−y) ≈ e^{−y²/2}·P(y)/Q(y): P of degree 6 and Q of degree 7 (coefficients
/// from the constant term up).
static const double hartNumerator[7] = {220.206867912376, 221.213596169931, 112.079291497871, 33.912866078383,
                                        6.37396220353165, 0.700383064443688, 3.52624965998911e-02};
static const double hartDenominator[8] = {440.413735824752, 793.826512519948, 637.333633378831, 296.564248779674,
                                          86.7807322029461, 16.064177579207, 1.75566716318264, 8.83883476483184e-02};

/// Φ(d) = ½ + d·E(d²) for |d| ≤ 1.75, E(u) = Σ_n (−u/2)^n / (n!·(2n + 1)·√(2π)) (the Taylor series of
/// the error function), economized to degree 11 in u by Chebyshev truncation on u ∈ [0, 3.0625]:
/// truncation error below 6e-16 in Φ, like Hart's rational of the other branch (`derivations/central_phi.py` computes the coefficients in
/// exact rational arithmetic). No exponential and no division.
KERNEL vdouble centralPhi(vdouble d) {
    static const double e[12] = {
        0.3989422804014323, -0.06649038006687355, 0.009973557009536487, -0.0011873282124158844,
        0.0001154346778848458, -9.44463798966107e-06, 6.659475417348809e-07, -4.120945600945793e-08,
        2.2643940295026562e-09, -1.0976769642972378e-10, 4.362630299551204e-12, -1.0616523383093055e-13};
    vdouble u = d * d, u2 = u * u, u4 = u2 * u2;
    vdouble low = fmadd(pair(e[2], e[3], u), u2, pair(e[0], e[1], u));
    vdouble middle = fmadd(pair(e[6], e[7], u), u2, pair(e[4], e[5], u));
    vdouble high = fmadd(pair(e[10], e[11], u), u2, pair(e[8], e[9], u));
    return fmadd(d, fmadd(fmadd(high, u4, middle), u4, low), splat(0.5));
}

/// e^{−y²/2}, and 0 beyond y = 37.5 (where Φ(−y) < 1e-307).
KERNEL vdouble gaussianFactor(vdouble y) {
    vlong beyond = y > splat(37.5);
    vdouble e = vexp(splat(-0.5) * vmin(y * y, splat(1406.25)));
    return laneSelect(beyond, splat(0.0), e);
}

/// Φ(d) for d = ±y: Φ(−y) = t when d ≤ 0, 1 − t when d > 0.
KERNEL vdouble fromLowerTail(vdouble d, vdouble t) { return laneSelect(d > splat(0.0), splat(1.0) - t, t); }

/// −x in the lanes of `mask`, x elsewhere.
KERNEL vdouble negateWhere(vlong mask, vdouble x) {
    return fromBits(bitsOf(x) ^ ((vulong)mask & splatu(0x8000000000000000ull)));
}

/// S'Φ(d1) − K'Φ(d2) with each Φ from its own Gaussian factor: the general form, for vectors where
/// e^{−d1²/2} underflows (|d1| > 37) and the shared-factor form below would lose the Φ(d2) term.
KERNEL vdouble separateFactorsCallForm(vdouble spot, vdouble k, vdouble d1, vdouble d2) {
    // Beyond 37.5 the Gaussian factor is 0; the clamp keeps P and Q finite for any |d|.
    vdouble y1 = vmin(vabs(d1), splat(40.0)), y2 = vmin(vabs(d2), splat(40.0));
    vdouble y1s = y1 * y1, y2s = y2 * y2, y1q = y1s * y1s, y2q = y2s * y2s;
    vdouble t1 = gaussianFactor(y1) * poly6(hartNumerator, y1, y1s, y1q) / poly7(hartDenominator, y1, y1s, y1q);
    vdouble t2 = gaussianFactor(y2) * poly6(hartNumerator, y2, y2s, y2q) / poly7(hartDenominator, y2, y2s, y2q);
    return fmadd(spot, fromLowerTail(d1, t1), -(k * fromLowerTail(d2, t2)));
}

/// The price for one vector of paths; `isCall` is a constant of each instantiation.
///
/// When every lane has |d1|, |d2| ≤ 1.75 (most vectors of near-the-money options: neighbouring paths
/// move d by a fraction of a unit), S'Φ(d1) − K'Φ(d2) straight from `centralPhi`. Otherwise, with
/// t_i = Φ(−|d_i|) = e^{−d_i²/2}·R(|d_i|), R = P/Q, and K'·e^{−d2²/2} = S'·e^{−d1²/2} (because
/// d2² = d1² − 2 ln(S'/K')), the call is
///   S'Φ(d1) − K'Φ(d2) = S'·[d1 > 0] − K'·[d2 > 0] + S'·e^{−d1²/2}·(g1·R(|d1|) − g2·R(|d2|)),
/// g_i = −1 where d_i > 0, else +1: one exponential and one division per path for both Φ. A put is
/// minus the same expression at (−d1, −d2).
KERNEL vdouble priceAt(const ThresherOptionTerms *o, int isCall, vdouble spot, vdouble d1, vdouble d2) {
    if (!isCall) { d1 = -d1; d2 = -d2; }
    vdouble k = splat(o->discountedStrike);
    vdouble y1 = vabs(d1), y2 = vabs(d2);
    vdouble callForm;
    if (!anyLane(__builtin_elementwise_max(y1, y2) > splat(1.75))) {
        callForm = fmadd(spot, centralPhi(d1), -(k * centralPhi(d2)));
    } else if (__builtin_expect(anyLane(y1 > splat(37.0)), 0)) {
        callForm = separateFactorsCallForm(spot, k, d1, d2);
    } else {
        vdouble e1 = vexp(splat(-0.5) * (y1 * y1));
        vdouble y1s = y1 * y1, y2s = y2 * y2, y1q = y1s * y1s, y2q = y2s * y2s;
        vdouble p1 = poly6(hartNumerator, y1, y1s, y1q), q1 = poly7(hartDenominator, y1, y1s, y1q);
        vdouble p2 = poly6(hartNumerator, y2, y2s, y2q), q2 = poly7(hartDenominator, y2, y2s, y2q);
        vlong above1 = d1 > splat(0.0), above2 = d2 > splat(0.0);
        // g1·P1/Q1 − g2·P2/Q2 over the common denominator
        vdouble ratios = fmadd(negateWhere(above1, p1), q2, -(negateWhere(above2, p2) * q1)) / (q1 * q2);
        vdouble intrinsic = laneSelect(above1, spot, splat(0.0)) - laneSelect(above2, k, splat(0.0));
        callForm = fmadd(spot * e1, ratios, intrinsic);
    }
    return isCall ? callForm : -callForm;
}

/// The price at the terms' implied vol times the path's factor f: ½σ'√τ' = halfStdDev·f and
/// (ln S' − ln K + rτ')/(σ'√τ') from inverseStdDev and 1/f.
KERNEL vdouble price(const ThresherOptionTerms *o, int isCall, vdouble spot, vdouble logSpot, vdouble factor,
                     vdouble inverseFactor) {
    vdouble half = splat(o->halfStdDev) * factor;               // ½σ'√τ'
    vdouble d1 = fmadd((logSpot + splat(o->drift)) * inverseFactor, splat(o->inverseStdDev), half);
    return priceAt(o, isCall, spot, d1, d1 - (half + half));
}

/// σ'√τ' before the vol factor, √v(k') of `ThresherSmileTerms`, for one vector of paths.
KERNEL vdouble smileStdDev(const ThresherSmileTerms *s, int twoSlices, vdouble logSpot) {
    vdouble k = splat(s->moneynessOffset) - logSpot;
    vdouble x = k - splat(s->center[0]);
    vdouble v = fmadd(splat(s->slope[0]), x, splat(s->variance));
    v = fmadd(splat(s->wing[0]), vsqrt(fmadd(x, x, splat(s->curvature[0]))), v);
    if (twoSlices) {
        vdouble y = k - splat(s->center[1]);
        v = fmadd(splat(s->slope[1]), y, v);
        v = fmadd(splat(s->wing[1]), vsqrt(fmadd(y, y, splat(s->curvature[1]))), v);
    }
    return vsqrt(v);
}

KERNEL void subtractProfit(const ThresherOptionTerms *o, int isCall, long count, const double *spot,
                           const double *logSpot, const double *volFactor, const double *inverseVolFactor,
                           double *account, double *book) {
    vdouble q = splat(o->quantity), qValueNow = splat(o->quantity * o->valueNow);
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        vdouble v = price(o, isCall, loadPartial(spot + j, lanes, 1.0), loadPartial(logSpot + j, lanes, 0.0),
                          loadPartial(volFactor + j, lanes, 1.0), loadPartial(inverseVolFactor + j, lanes, 1.0));
        vdouble profit = fmadd(q, v, -qValueNow);
        storePartial(account + j, loadPartial(account + j, lanes, 0.0) - profit, lanes);
        storePartial(book + j, loadPartial(book + j, lanes, 0.0) - profit, lanes);
    }
}

KERNEL void subtractSmileProfit(const ThresherOptionTerms *o, const ThresherSmileTerms *s, int isCall, int twoSlices, long count,
                                const double *spot, const double *logSpot, const double *volFactor, double *account,
                                double *book) {
    vdouble q = splat(o->quantity), qValueNow = splat(o->quantity * o->valueNow);
    for (long j = 0; j < count; j += LANES) {
        long lanes = count - j < LANES ? count - j : LANES;
        vdouble logS = loadPartial(logSpot + j, lanes, 0.0);
        vdouble stdDev = smileStdDev(s, twoSlices, logS) * loadPartial(volFactor + j, lanes, 1.0);   // σ'√τ'
        vdouble half = splat(0.5) * stdDev;
        vdouble d1 = (logS + splat(o->drift)) / stdDev + half;
        vdouble v = priceAt(o, isCall, loadPartial(spot + j, lanes, 1.0), d1, d1 - stdDev);
        vdouble profit = fmadd(q, v, -qValueNow);
        storePartial(account + j, loadPartial(account + j, lanes, 0.0) - profit, lanes);
        storePartial(book + j, loadPartial(book + j, lanes, 0.0) - profit, lanes);
    }
}

void thresher_subtract_smile_option_profit(const ThresherOptionTerms *option, const ThresherSmileTerms *smile, long count,
                                           const double *spot, const double *logSpot, const double *volFactor,
                                           double *account, double *book) {
    int two = smile->slices == 2;
    if (option->isCall) {
        if (two) subtractSmileProfit(option, smile, 1, 1, count, spot, logSpot, volFactor, account, book);
        else subtractSmileProfit(option, smile, 1, 0, count, spot, logSpot, volFactor, account, book);
    } else {
        if (two) subtractSmileProfit(option, smile, 0, 1, count, spot, logSpot, volFactor, account, book);
        else subtractSmileProfit(option, smile, 0, 0, count, spot, logSpot, volFactor, account, book);
    }
}

void thresher_subtract_option_profit(const ThresherOptionTerms *option, long count, const double *spot,
                                     const double *logSpot, const double *volFactor,
                                     const double *inverseVolFactor, double *account, double *book) {
    if (option->isCall) {
        subtractProfit(option, 1, count, spot, logSpot, volFactor, inverseVolFactor, account, book);
    } else {
        subtractProfit(option, 0, count, spot, logSpot, volFactor, inverseVolFactor, account, book);
    }
}
