#ifndef THRESHER_CVECTORMATH_H
#define THRESHER_CVECTORMATH_H

/// Elementwise math over arrays through SLEEF's vectorised functions (libsleef-dev): AVX2 (4 lanes)
/// when the CPU has AVX2 and FMA, else SSE2 (2 lanes). The ragged end of an array is padded to a
/// full vector, so every element goes through the same code whatever the array length: results
/// do not depend on how paths are grouped into chunks.

/// y[i] = erfc(x[i]), i < n; SLEEF u15: max error 1.5 ulp.
void thresher_erfc(const double *x, double *y, long n);

/// y[i] = exp(x[i]), i < n; SLEEF u10: max error 1.0 ulp.
void thresher_exp(const double *x, double *y, long n);

#endif
