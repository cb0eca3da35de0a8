// Runtime CPU dispatch of the kernels: the public `thresher_*` functions call the variant chosen
// once, at start-up, from the CPU's features (see KernelVariant.h for how the variants are built).
// Both variants give the same bits: no implicit contraction, and every fused multiply-add an
// explicit one (VectorMath.h), which the baseline computes with the C library's correctly rounded fma.
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"

/// Every dispatched kernel (the names KernelVariant.h renames).
#define THRESHER_KERNELS(X)                                                                                          \
    X(philox_uniforms) X(philox_uniforms_at) X(philox_normals) X(ziggurat_normal) X(chi_square_mixing) X(shocked_spots) \
    X(vol_factors) X(subtract_option_profit) X(subtract_smile_option_profit) X(linear_losses) X(block_statistics)    \
    X(values_above) X(linear_tail) X(count_beyond)

#define DECLARE_BASELINE(name) extern __typeof__(thresher_##name) thresher_##name##_baseline;
THRESHER_KERNELS(DECLARE_BASELINE)

/// One variant: its name (thresher_kernel_path) and its functions.
typedef struct {
    const char *name;
#define FIELD(name) __typeof__(thresher_##name) *name;
    THRESHER_KERNELS(FIELD)
} KernelTable;

#define BASELINE_ENTRY(name) .name = thresher_##name##_baseline,
static const KernelTable baselineKernels = {.name = "baseline", THRESHER_KERNELS(BASELINE_ENTRY)};

#if defined(__x86_64__)
#define DECLARE_AVX2(name) extern __typeof__(thresher_##name) thresher_##name##_avx2;
THRESHER_KERNELS(DECLARE_AVX2)
#define AVX2_ENTRY(name) .name = thresher_##name##_avx2,
static const KernelTable avx2Kernels = {.name = "avx2-fma", THRESHER_KERNELS(AVX2_ENTRY)};

/// Whether this CPU (and its OS, which must save the ymm registers) runs AVX2 and FMA code. A build
/// for such CPUs (-march=haswell) knows it at compile time.
static int cpuHasAVX2FMA(void) {
#if defined(__AVX2__) && defined(__FMA__)
    return 1;
#else
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
}
#endif

/// The variant for this CPU, or the baseline when THRESHER_KERNELS=baseline.
static const KernelTable *bestKernels(void) {
    const char *forced = getenv("THRESHER_KERNELS");
    if (forced != NULL && strcmp(forced, "baseline") == 0) return &baselineKernels;
#if defined(__x86_64__)
    if (cpuHasAVX2FMA()) return &avx2Kernels;
#endif
    return &baselineKernels;
}

static const KernelTable *_Atomic chosen;

/// The chosen variant (chosen on first use if a constructor called a kernel before ours ran; two
/// threads racing there choose the same).
static inline const KernelTable *kernels(void) {
    const KernelTable *table = atomic_load_explicit(&chosen, memory_order_acquire);
    if (__builtin_expect(table != NULL, 1)) return table;
    table = bestKernels();
    atomic_store_explicit(&chosen, table, memory_order_release);
    return table;
}

__attribute__((constructor)) static void chooseKernels(void) { (void)kernels(); }

const char *thresher_kernel_path(void) { return kernels()->name; }

int thresher_select_kernel_path(const char *name) {
    const KernelTable *table = NULL;
    if (strcmp(name, "baseline") == 0) table = &baselineKernels;
#if defined(__x86_64__)
    if (strcmp(name, "avx2-fma") == 0 && cpuHasAVX2FMA()) table = &avx2Kernels;
#endif
    if (strcmp(name, "auto") == 0) table = bestKernels();
    if (table == NULL) return 0;
    atomic_store_explicit(&chosen, table, memory_order_release);
    return 1;
}

void thresher_philox_uniforms(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                              double *out, long rowStride) {
    kernels()->philox_uniforms(seed, stream, firstPath, count, perPath, out, rowStride);
}

void thresher_philox_uniforms_at(uint64_t seed, uint32_t stream, uint32_t block, int64_t firstPath, const int32_t *paths,
                                 long count, double *out) {
    kernels()->philox_uniforms_at(seed, stream, block, firstPath, paths, count, out);
}

void thresher_philox_normals(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                             double *out, long rowStride) {
    kernels()->philox_normals(seed, stream, firstPath, count, perPath, out, rowStride);
}

double thresher_ziggurat_normal(uint64_t seed, uint32_t stream, uint64_t path, uint32_t wordIndex, uint64_t word) {
    return kernels()->ziggurat_normal(seed, stream, path, wordIndex, word);
}

void thresher_chi_square_mixing(const double *uniforms, long factors, long rowStride, double numerator, double *out,
                                long count) {
    kernels()->chi_square_mixing(uniforms, factors, rowStride, numerator, out, count);
}

void thresher_shocked_spots(const double *epsilon, double scale, double logSpotNow, double spotNow, double *logSpot,
                            double *spot, long count) {
    kernels()->shocked_spots(epsilon, scale, logSpotNow, spotNow, logSpot, spot, count);
}

void thresher_vol_factors(const double *epsilon, const double *eta, double correlation, double weight, double scale,
                          double *factor, double *inverse, long count) {
    kernels()->vol_factors(epsilon, eta, correlation, weight, scale, factor, inverse, count);
}

void thresher_subtract_option_profit(const ThresherOptionTerms *option, long count, const double *spot,
                                     const double *logSpot, const double *volFactor,
                                     const double *inverseVolFactor, double *account, double *book) {
    kernels()->subtract_option_profit(option, count, spot, logSpot, volFactor, inverseVolFactor, account, book);
}

void thresher_subtract_smile_option_profit(const ThresherOptionTerms *option, const ThresherSmileTerms *smile, long count,
                                           const double *spot, const double *logSpot, const double *volFactor,
                                           double *account, double *book) {
    kernels()->subtract_smile_option_profit(option, smile, count, spot, logSpot, volFactor, account, book);
}

void thresher_linear_losses(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                            long terms, double constant, double *loss) {
    kernels()->linear_losses(count, spot, rowStride, assets, weights, terms, constant, loss);
}

void thresher_block_statistics(const double *values, long count, double *sums, double *squares) {
    kernels()->block_statistics(values, count, sums, squares);
}

long thresher_values_above(const double *values, long count, double threshold, double *out) {
    return kernels()->values_above(values, count, threshold, out);
}

long thresher_linear_tail(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                          long terms, double constant, double threshold, double *sums, double *squares,
                          double *above) {
    return kernels()->linear_tail(count, spot, rowStride, assets, weights, terms, constant, threshold, sums, squares,
                                  above);
}

long thresher_count_beyond(const double *values, long count, double bound, int above) {
    return kernels()->count_beyond(values, count, bound, above);
}
