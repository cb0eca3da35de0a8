#include "BuildStamp.h"

/* The commit `thresher` was built from, overriding CKernels' weak "unknown" (CKernels/BuildInfo.c).
   Only the `thresher` executable depends on this target. Every Makefile build passes
   -I.build-commit, whose thresher_commit.h defines THRESHER_COMMIT (git rev-parse; rewritten only
   when the commit changes); `-Xcc -DTHRESHER_COMMIT='"…"'` works too. Other builds say "unknown". */
#if !defined(THRESHER_COMMIT) && defined(__has_include)
#if __has_include(<thresher_commit.h>)
#include <thresher_commit.h>
#endif
#endif
#ifndef THRESHER_COMMIT
#define THRESHER_COMMIT "unknown"
#endif

const char *thresher_build_commit(void) { return THRESHER_COMMIT; }
