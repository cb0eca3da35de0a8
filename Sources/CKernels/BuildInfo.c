#include "CKernels.h"

/* The commit this binary was built from: "unknown" here, a weak definition. The `thresher`
   executable links the BuildStamp target, whose strong definition (Sources/BuildStamp) carries the
   commit the Makefile stamped — so a new commit recompiles that one file and relinks, and nothing
   that imports CKernels is rebuilt. */
__attribute__((weak)) const char *thresher_build_commit(void) { return "unknown"; }
