#ifndef THRESHER_BUILD_STAMP_H
#define THRESHER_BUILD_STAMP_H

/// The git commit this `thresher` was built from (the Makefile's stamp), or "unknown"; it overrides
/// the weak definition of the same function in CKernels, through which Swift reads it.
const char *thresher_build_commit(void);

#endif
