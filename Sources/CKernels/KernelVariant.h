// The names under which a kernel source's public functions are compiled. Each kernel source
// (Philox.c, Ziggurat.c, ShockTransforms.c, BlackScholes.c, LinearTails.c) includes this first and
// is compiled twice on x86-64: on its own, as the baseline variant (`thresher_*_baseline`, code for
// the build's target CPU), and inside KernelsAVX2.c, which defines THRESHER_AVX2_VARIANT, under
// target("avx2,fma") (`thresher_*_avx2`). Dispatch.c defines the public `thresher_*` functions,
// which call the variant chosen once from the CPU's features.
#ifndef THRESHER_KERNEL_VARIANT_H
#define THRESHER_KERNEL_VARIANT_H

#if defined(THRESHER_AVX2_VARIANT)
#define THRESHER_VARIANT(name) thresher_##name##_avx2
#else
#define THRESHER_VARIANT(name) thresher_##name##_baseline
#endif

/// Whether this variant may use AVX2 intrinsics (<immintrin.h>): the AVX2 variant, or a baseline
/// compiled with -march=haswell or later.
#if defined(THRESHER_AVX2_VARIANT) || defined(__AVX2__)
#define THRESHER_HAS_AVX2 1
#else
#define THRESHER_HAS_AVX2 0
#endif

// Keep in step with THRESHER_KERNELS in Dispatch.c.
#define thresher_philox_uniforms THRESHER_VARIANT(philox_uniforms)
#define thresher_philox_uniforms_at THRESHER_VARIANT(philox_uniforms_at)
#define thresher_philox_normals THRESHER_VARIANT(philox_normals)
#define thresher_ziggurat_normal THRESHER_VARIANT(ziggurat_normal)
#define thresher_chi_square_mixing THRESHER_VARIANT(chi_square_mixing)
#define thresher_shocked_spots THRESHER_VARIANT(shocked_spots)
#define thresher_vol_factors THRESHER_VARIANT(vol_factors)
#define thresher_subtract_option_profit THRESHER_VARIANT(subtract_option_profit)
#define thresher_subtract_smile_option_profit THRESHER_VARIANT(subtract_smile_option_profit)
#define thresher_linear_losses THRESHER_VARIANT(linear_losses)
#define thresher_block_statistics THRESHER_VARIANT(block_statistics)
#define thresher_values_above THRESHER_VARIANT(values_above)
#define thresher_linear_tail THRESHER_VARIANT(linear_tail)
#define thresher_count_beyond THRESHER_VARIANT(count_beyond)

#endif
