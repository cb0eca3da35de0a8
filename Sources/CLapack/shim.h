// CBLAS and LAPACKE from the system's OpenBLAS (Debian: libopenblas-dev, liblapacke-dev).
// Reached only through the LinearAlgebra module's Swift wrappers.
#include <cblas.h>
#include <lapacke.h>
