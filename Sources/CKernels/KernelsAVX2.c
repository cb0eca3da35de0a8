// The AVX2/FMA variant of every kernel (`thresher_*_avx2`), compiled into every x86-64 build by
// target attributes rather than a command-line -march, so that a plain `swift build -c release`
// carries it; Dispatch.c calls it on CPUs with AVX2 and FMA (Haswell, 2013, and later; AMD Zen).
// The kernel sources are included whole: the same code as the baseline variant, other instructions.
#if defined(__x86_64__)

// The system headers first, outside the target region (their functions keep their own targets).
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define THRESHER_AVX2_VARIANT 1
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "Philox.c"
#include "Ziggurat.c"
#include "ShockTransforms.c"
#include "BlackScholes.c"
#include "LinearTails.c"
#pragma clang attribute pop

#endif
