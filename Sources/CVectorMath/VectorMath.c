#include "CVectorMath.h"

#include <immintrin.h>
#include <string.h>
#include <sleef.h>

#define THRESHER_ARRAY_KERNEL(name, lanes, vector, load, store, function, attributes)      \
    attributes static void name(const double *x, double *y, long n) {                    \
        long i = 0;                                                                       \
        for (; i + lanes <= n; i += lanes) store(y + i, function(load(x + i)));           \
        if (i < n) {                                                                      \
            double in[lanes] = {0}, out[lanes];                                           \
            memcpy(in, x + i, (size_t)(n - i) * sizeof(double));                          \
            store(out, function(load(in)));                                               \
            memcpy(y + i, out, (size_t)(n - i) * sizeof(double));                         \
        }                                                                                 \
    }

THRESHER_ARRAY_KERNEL(erfc_avx2, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, Sleef_erfcd4_u15avx2, __attribute__((target("avx2,fma"))))
THRESHER_ARRAY_KERNEL(exp_avx2, 4, __m256d, _mm256_loadu_pd, _mm256_storeu_pd, Sleef_expd4_u10avx2, __attribute__((target("avx2,fma"))))
THRESHER_ARRAY_KERNEL(erfc_sse2, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, Sleef_erfcd2_u15sse2, )
THRESHER_ARRAY_KERNEL(exp_sse2, 2, __m128d, _mm_loadu_pd, _mm_storeu_pd, Sleef_expd2_u10sse2, )

static int has_avx2(void) {
    static int cached = -1;
    if (cached < 0) cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cached;
}

void thresher_erfc(const double *x, double *y, long n) {
    if (has_avx2()) erfc_avx2(x, y, n); else erfc_sse2(x, y, n);
}

void thresher_exp(const double *x, double *y, long n) {
    if (has_avx2()) exp_avx2(x, y, n); else exp_sse2(x, y, n);
}
