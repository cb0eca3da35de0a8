// zlib from the system (Debian: zlib1g-dev), for reading gzip-compressed inputs.
// Reached only through CommandSupport's InputFile.
#include <zlib.h>
