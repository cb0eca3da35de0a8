// The few MPI calls Thresher makes, as functions Swift can call: MPI_COMM_WORLD, MPI_BYTE and
// friends are macros over incomplete globals in Open MPI's mpi.h, which Swift cannot import.
// Every collective is on MPI_COMM_WORLD with errors returned (not fatal), rank 0 the root.
#include <mpi.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/// MPI_Init (once) and this process's rank and the world size; 0 on success.
static inline int thresher_mpi_start(int *rank, int *size) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized && MPI_Init(NULL, NULL) != MPI_SUCCESS) return -1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (MPI_Comm_rank(MPI_COMM_WORLD, rank) != MPI_SUCCESS) return -1;
    if (MPI_Comm_size(MPI_COMM_WORLD, size) != MPI_SUCCESS) return -1;
    return 0;
}

static inline void thresher_mpi_finish(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

/// Ends every rank of the job with `code`.
static inline void thresher_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

/// Gathers every rank's bytes on rank 0, in rank order: `counts[r]` and one malloc'd buffer `*out`
/// (the caller frees it) on rank 0. MPI_Gatherv when the total fits MPI's int counts; otherwise
/// each rank's bytes in 1 GiB messages. 0 on success.
static inline int thresher_mpi_gather(const void *bytes, int64_t count, int64_t *counts, void **out) {
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (MPI_Gather(&count, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    int64_t total = 0;
    if (rank == 0) {
        for (int r = 0; r < size; r++) total += counts[r];
        *out = malloc(total > 0 ? (size_t)total : 1);
        if (*out == NULL) return -2;
    }
    int small = total <= INT_MAX;
    if (MPI_Bcast(&small, 1, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    if (small) {
        int *receive = NULL, *displacements = NULL;
        if (rank == 0) {
            receive = malloc(sizeof(int) * (size_t)size);
            displacements = malloc(sizeof(int) * (size_t)size);
            int64_t offset = 0;
            for (int r = 0; r < size; r++) { receive[r] = (int)counts[r]; displacements[r] = (int)offset; offset += counts[r]; }
        }
        int status = MPI_Gatherv(bytes, (int)count, MPI_BYTE, rank == 0 ? *out : NULL, receive, displacements, MPI_BYTE, 0, MPI_COMM_WORLD);
        free(receive);
        free(displacements);
        return status == MPI_SUCCESS ? 0 : -1;
    }
    const int64_t piece = (int64_t)1 << 30;
    if (rank == 0) {
        char *target = (char *)*out;
        for (int64_t k = 0; k < count; k += piece) memcpy(target + k, (const char *)bytes + k, (size_t)(count - k < piece ? count - k : piece));
        target += count;
        for (int r = 1; r < size; r++) {
            for (int64_t k = 0; k < counts[r]; k += piece) {
                int n = (int)(counts[r] - k < piece ? counts[r] - k : piece);
                if (MPI_Recv(target + k, n, MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
            }
            target += counts[r];
        }
    } else {
        for (int64_t k = 0; k < count; k += piece) {
            int n = (int)(count - k < piece ? count - k : piece);
            if (MPI_Send((const char *)bytes + k, n, MPI_BYTE, 0, 7, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
        }
    }
    return 0;
}

/// Rank 0's bytes to every rank: on rank 0 `*bytes`/`*count` are read, elsewhere they are set
/// to a malloc'd copy (the caller frees it). 0 on success.
static inline int thresher_mpi_broadcast(void **bytes, int64_t *count) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (MPI_Bcast(count, 1, MPI_INT64_T, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    if (rank != 0) {
        *bytes = malloc(*count > 0 ? (size_t)*count : 1);
        if (*bytes == NULL) return -2;
    }
    const int64_t piece = (int64_t)1 << 30;
    for (int64_t k = 0; k < *count; k += piece) {
        int n = (int)(*count - k < piece ? *count - k : piece);
        if (MPI_Bcast((char *)*bytes + k, n, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    }
    return 0;
}
