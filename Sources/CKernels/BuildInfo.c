#include "CKernels.h"

/* The commit this binary was built from: `make build` defines THRESHER_COMMIT (git rev-parse);
   other builds say "unknown". */
#ifndef THRESHER_COMMIT
#define THRESHER_COMMIT "unknown"
#endif

const char *thresher_build_commit(void) { return THRESHER_COMMIT; }
