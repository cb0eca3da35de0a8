#include "CKernels.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void thresher_return_large_blocks_to_system(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}
