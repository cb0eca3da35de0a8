// Known-answer driver of the C kernels, for checking them on another architecture (run.sh builds it
// natively and for aarch64, runs the latter under qemu, and compares every line with expected.txt).
//
// Checks: Random123's Philox4x32-10 vectors on the kernels' own vector Philox (PhiloxRounds.h), the
// first vector again through thresher_philox_uniforms; then every public kernel on fixed inputs
// made without the C library (so they are the same bits everywhere), each output summarised by its
// count, an FNV-1a hash of its bits and a few values in hexadecimal: equal lines mean equal bits.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CKernels.h"
#include "PhiloxRounds.h"

static int failures = 0;

/// FNV-1a over the 64 bits of each double.
static uint64_t digest(const double *x, long n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (long i = 0; i < n; i++) {
        uint64_t b;
        memcpy(&b, &x[i], sizeof b);
        for (int k = 0; k < 8; k++) h = (h ^ ((b >> (8 * k)) & 0xFF)) * 0x100000001b3ull;
    }
    return h;
}

/// One line per output: name, count, digest, the first three values and the last.
static void report(const char *name, const double *x, long n) {
    printf("%-22s %6ld %016llx %a %a %a %a\n", name, n, (unsigned long long)digest(x, n), x[0], x[1 % n], x[2 % n],
           x[n - 1]);
}

static void philoxKnownAnswers(void) {
    static const uint32_t vectors[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
         0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
         0x24126ea1},
    };
    for (int v = 0; v < 3; v++) {
        const uint32_t *c = vectors[v];
        PhiloxKeys keys = philoxKeys((uint64_t)c[5] << 32 | c[4]);
        vulong first, second;
        philoxBlock(splatu(c[0]), splatu(c[1]), splatu(c[2]), splatu(c[3]), &keys, &first, &second);
        uint64_t expectFirst = (uint64_t)c[6] << 32 | c[7], expectSecond = (uint64_t)c[8] << 32 | c[9];
        int ok = 1;
        for (int l = 0; l < LANES; l++) ok &= first[l] == expectFirst && second[l] == expectSecond;
        printf("philox4x32-10 KAT %d   %s\n", v, ok ? "pass" : "FAIL");
        failures += !ok;
    }
    // Path 0, stream 0, seed 0: block 0 is the first vector; its word pairs are uniforms 0 and 1.
    double u[2];
    thresher_philox_uniforms(0, 0, 0, 1, 2, u, 1);
    int ok = u[0] == ((double)(0x6627e8d5e169c58dull >> 12) + 0.5) * 0x1p-52 &&
             u[1] == ((double)(0xbc57ac4c9b00dbd8ull >> 12) + 0.5) * 0x1p-52;
    printf("philox uniforms KAT   %s\n", ok ? "pass" : "FAIL");
    failures += !ok;
}

enum { COUNT = 4099, STRIDE = 4104, ROWS = 21 };

int main(void) {
    philoxKnownAnswers();
    double *rows = calloc(ROWS * STRIDE, sizeof(double)), *out = calloc(3 * STRIDE, sizeof(double));
    const int64_t firstPath = ((int64_t)1 << 32) - 2000;
    thresher_philox_uniforms(7, 3, firstPath, COUNT, 10, rows, STRIDE);
    report("uniforms", rows, 10 * STRIDE);
    int32_t listed[COUNT];
    long listedCount = 0;
    for (int32_t j = 0; j < COUNT; j++) if (j % 3 != 1) listed[listedCount++] = j;
    thresher_philox_uniforms_at(7, 8, 2 * COUNT, firstPath, listed, listedCount, out);
    report("listed uniforms", out, listedCount);
    for (long factors = 1; factors <= 10; factors += 9) {
        thresher_chi_square_mixing(rows, factors, STRIDE, 2.0 * factors, out, COUNT);
        report(factors == 1 ? "chi-square mixing 1" : "chi-square mixing 10", out, COUNT);
    }
    thresher_philox_normals(0xFEED, 0, firstPath, COUNT, ROWS, rows, STRIDE);
    report("normals", rows, ROWS * STRIDE);
    double zig[3 * 512];
    for (uint64_t layer = 0; layer < 512; layer++) {
        const uint64_t m[3] = {1ull << 40, 1ull << 51, (1ull << 52) - 1};
        for (int k = 0; k < 3; k++) zig[3 * layer + k] = thresher_ziggurat_normal(3, 0, layer, 7, m[k] << 12 | layer);
    }
    report("ziggurat branches", zig, 3 * 512);
    // Exponents from −800 to 800 (the short Taylor form, the vector e^x, the ends beyond ±708).
    enum { N = 8002 };
    static double x[N], spot[N], logSpot[N], factor[N], inverse[N], strikes[N], logStrikes[N];
    for (long i = 0; i < N; i++) x[i] = i < 4000 ? (i / 3999.0 - 0.5) / 4 : -800 + 1600 * ((i - 4000) / 4001.0);
    thresher_shocked_spots(x, 0.9, 4.5, 90, logSpot, spot, N);
    report("shocked spots", spot, N);
    report("log spots", logSpot, N);
    for (long i = 0; i < N; i++) strikes[i] = x[N - 1 - i] / 100;
    thresher_vol_factors(x, strikes, -0.5, 0.8, 0.01, factor, inverse, N);
    report("vol factors", factor, N);
    report("inverse vol factors", inverse, N);
    // Option P&L at spots S·2^k/16 (exact logs: k·ln2/16 from one product), calls and puts, near and
    // far from the money, and a vol at which e^{−d1²/2} underflows.
    for (long i = 0; i < N; i++) {
        strikes[i] = 100.0 * (1 + (i % 241 - 120) / 128.0);
        logStrikes[i] = 4.605170185988092 + (i % 241 - 120) / 128.0;
    }
    const double vols[3][2] = {{0.05, 1.0 / 365}, {0.6, 0.5}, {60.0, 2.0}};
    for (int isCall = 0; isCall < 2; isCall++) {
        for (int v = 0; v < 3; v++) {
            double iv = vols[v][0], root = v == 0 ? 0.05234239225902136 : v == 1 ? 0.7071067811865476 : 1.4142135623730951;
            ThresherOptionTerms terms = {isCall, 0.5 * iv * root, 1 / (iv * root), 0.03 * vols[v][1] - 4.605170185988092,
                                         100 * 0.99, -3, 7.5};
            for (long i = 0; i < N; i++) spot[i] = 1, logSpot[i] = 1;
            thresher_subtract_option_profit(&terms, N, strikes, logStrikes, factor, inverse, spot, logSpot);
            char name[32];
            snprintf(name, sizeof name, "option %s vol %g", isCall ? "call" : "put", iv);
            report(name, spot, N);
        }
    }
    const int32_t assets[3] = {2, 0, 3};
    const double weights[3] = {1.5, -0.25, 3.0};
    enum { BLOCKS = (COUNT + 63) / 64 };
    double sums[BLOCKS], squares[BLOCKS], *above = calloc(COUNT + 8, sizeof(double));
    thresher_linear_losses(COUNT, rows, STRIDE, assets, weights, 3, 0.5, out);
    report("linear losses", out, COUNT);
    thresher_block_statistics(out, COUNT, sums, squares);
    report("block sums", sums, BLOCKS);
    report("block squares", squares, BLOCKS);
    long kept = thresher_values_above(out, COUNT, 2, above);
    report("values above", above, kept);
    long fusedKept = thresher_linear_tail(COUNT, rows, STRIDE, assets, weights, 3, 0.5, 2, sums, squares, above);
    report("linear tail sums", sums, BLOCKS);
    report("linear tail above", above, fusedKept);
    // The tails' integer and bit-level kernels: the linear losses (both signs, one magnitude, as a
    // tail's) sorted; the 1,000 largest selected (reported sorted, as a set); their block sums added
    // exactly (the limbs, as doubles, are the same integers everywhere).
    double *sorted = calloc(COUNT, sizeof(double)), *scratch = calloc(COUNT, sizeof(double));
    memcpy(sorted, out, COUNT * sizeof(double));
    thresher_sort_descending(sorted, COUNT, scratch);
    report("radix sort", sorted, COUNT);
    memcpy(scratch, out, COUNT * sizeof(double));
    double *selected = calloc(COUNT, sizeof(double));
    thresher_select_largest(scratch, COUNT, 1000, selected);
    thresher_sort_descending(scratch, 1000, selected);
    report("radix selection", scratch, 1000);
    int64_t limbs[68] = {0};
    thresher_exact_sum_add(limbs, sums, BLOCKS);
    thresher_exact_sum_add(limbs, out, COUNT);
    double limbValues[68];
    for (int k = 0; k < 68; k++) limbValues[k] = (double)limbs[k];
    report("exact sum limbs", limbValues, 68);
    fprintf(stderr, "kernel path: %s; %s\n", thresher_kernel_path(), failures ? "KAT FAILED" : "KATs pass");
    return failures != 0;
}
