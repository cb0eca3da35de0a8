// Philox4x32-10 uniforms for the paths of a chunk, or for listed paths of it (see CKernels.h).
#include "KernelVariant.h"
#include "CKernels.h"
#include "PhiloxRounds.h"

void thresher_philox_uniforms(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                              double *out, long rowStride) {
    PhiloxKeys keys = philoxKeys(seed);
    for (long j = 0; j < count; j += LANES) {
        vulong path = splatu((uint64_t)(firstPath + j)) + laneIndex();
        vulong pathLow = path & splatu(0xFFFFFFFFu), pathHigh = path >> 32;
        long lanes = count - j < LANES ? count - j : LANES;
        for (long w = 0; w < perPath; w += 2) {
            vulong first, second;
            philoxBlock(splatu((uint64_t)(w / 2)), splatu(stream), pathLow, pathHigh, &keys, &first, &second);
            storePartial(out + w * rowStride + j, uniformFromWord(first), lanes);
            if (w + 1 < perPath) storePartial(out + (w + 1) * rowStride + j, uniformFromWord(second), lanes);
        }
    }
}

void thresher_philox_uniforms_at(uint64_t seed, uint32_t stream, uint32_t block, int64_t firstPath, const int32_t *paths,
                                 long count, double *out) {
    PhiloxKeys keys = philoxKeys(seed);
    for (long c = 0; c < count; c += LANES) {
        long lanes = count - c < LANES ? count - c : LANES;
        vulong path;
        for (long l = 0; l < LANES; l++) path[l] = (uint64_t)(firstPath + paths[c + (l < lanes ? l : 0)]);
        vulong first, second;
        philoxBlock(splatu(block), splatu(stream), path & splatu(0xFFFFFFFFu), path >> 32, &keys, &first, &second);
        storePartial(out + c, uniformFromWord(first), lanes);
    }
}
