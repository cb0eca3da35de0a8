// Thresher's vector kernels: the hot loops of shock generation and option repricing, written once
// over eight-lane double vectors (see VectorMath.h). Every array is a row of a chunk: element j
// belongs to path j of the chunk. On x86-64 each kernel exists as an AVX2/FMA and a baseline
// variant, chosen at start-up by the CPU (thresher_kernel_path); both give the same bits.
#ifndef THRESHER_CKERNELS_H
#define THRESHER_CKERNELS_H

#include <stdint.h>

/// Philox4x32-10 uniforms of paths firstPath ..< firstPath + count, `perPath` per path:
/// out[w * rowStride + j] is uniform w of path firstPath + j.
///
/// Path p's stream is the Philox counter (block b, stream, p low 32 bits, p high 32 bits) under the
/// key (seed low, seed high); block b yields uniforms 2b (words 0, 1) and 2b + 1 (words 2, 3). A
/// 64-bit word pair w becomes u = (⌊w / 2^12⌋ + ½)·2^−52, in (0, 1), symmetric (1 − u is exact).
/// Identical to RandomStreams.PathStream.nextUniform.
void thresher_philox_uniforms(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                              double *out, long rowStride);

/// The first uniform of block `block` (words 0, 1) of the listed paths: out[c] of path
/// firstPath + paths[c], c < count — RandomStreams.PathStream(seed:path:stream:block:).nextUniform,
/// for draws keyed by a second index (an account) on the few paths that need them.
void thresher_philox_uniforms_at(uint64_t seed, uint32_t stream, uint32_t block, int64_t firstPath, const int32_t *paths,
                                 long count, double *out);

/// Standard normals of paths firstPath ..< firstPath + count, `perPath` per path: out[w * rowStride + j]
/// is normal w of path firstPath + j, made from the 64-bit word pair w of the path's Philox stream
/// (the words of thresher_philox_uniforms) by the ziggurat of Marsaglia and Tsang (2000, J. Stat.
/// Softw. 5(8)) with 512 layers: layer i = bits 0–8, sign = bit 9, m = bits 12–63; the normal is
/// ±m·x_i·2⁻⁵² when m·x_i·2⁻⁵² < x_(i+1) (99.2 % of draws, no arithmetic beyond one product).
/// The rest (wedges, the tail beyond r = 3.852) take retries from blocks of their own counters
/// (wordIndex = w, stream field 2³¹ + 256·k + stream for retry k), so a path's normals still depend
/// only on (seed, stream, path). Identical to thresher_ziggurat_normal draw by draw.
void thresher_philox_normals(uint64_t seed, uint32_t stream, int64_t firstPath, long count, long perPath,
                             double *out, long rowStride);

/// The normal that 64-bit word `word`, the stream's word pair number `wordIndex`, becomes (the
/// ziggurat of thresher_philox_normals, one draw): RandomStreams.PathStream.nextNormal.
double thresher_ziggurat_normal(uint64_t seed, uint32_t stream, uint64_t path, uint32_t wordIndex, uint64_t word);

/// out[j] = √(numerator / W_j), W_j = −2·ln(u_{0,j}·u_{1,j}⋯u_{m−1,j}) ~ χ²(2m) for m = `factors`
/// uniforms per path, u_{i,j} = uniforms[i·rowStride + j] (multiplied in that order, as
/// RandomStreams.PathStream.nextChiSquare does; the logarithm within 2 ulp of the C library's).
void thresher_chi_square_mixing(const double *uniforms, long factors, long rowStride, double numerator, double *out,
                                long count);

/// One asset's shocked spots: v = scale·epsilon[k] (the log-return σ√h·ε), logSpot[k] = logSpotNow + v,
/// spot[k] = spotNow·e^v. The exponentials here and in thresher_vol_factors are within 2 ulp (an
/// argument outside [−708, 709] gives 0 or +∞); a vector of eight elements whose arguments all lie
/// within ±1/8 takes a shorter Taylor form (within 1 ulp); vectors are aligned groups of eight.
void thresher_shocked_spots(const double *epsilon, double scale, double logSpotNow, double spotNow, double *logSpot,
                            double *spot, long count);

/// One asset's implied-vol multipliers: ξ = correlation·epsilon[k] + weight·eta[k] (one FMA),
/// factor[k] = e^{scale·ξ} and inverse[k] = 1/factor[k]; `inverse` may be `eta` (computed in place).
void thresher_vol_factors(const double *epsilon, const double *eta, double correlation, double weight, double scale,
                          double *factor, double *inverse, long count);

/// One European option with everything that does not depend on the path precomputed.
typedef struct {
    /// 1 for a call, 0 for a put.
    int isCall;
    /// ½·iv·√τ', with τ' > 0 the years left after the horizon and iv the implied vol now.
    double halfStdDev;
    /// 1/(iv·√τ').
    double inverseStdDev;
    /// r·τ' − ln K.
    double drift;
    /// K·e^{−rτ'}.
    double discountedStrike;
    /// Contracts (negative = short) and the price now, V(S, iv, T).
    double quantity;
    double valueNow;
} ThresherOptionTerms;

/// account[j] −= P&L_j and book[j] −= P&L_j, where P&L_j = q·(V_j − V₀) and V_j is the
/// Black–Scholes price at spot S'_j = spot[j] (log S'_j = logSpot[j]) and implied vol
/// iv·f_j (f_j = volFactor[j], 1/f_j = inverseVolFactor[j]):
///   d1 = (ln S' − ln K + rτ')/(iv f √τ') + ½ iv f √τ',  d2 = d1 − iv f √τ',
///   call = S' Φ(d1) − K e^{−rτ'} Φ(d2),  put = K e^{−rτ'} Φ(−d2) − S' Φ(−d1).
/// For a vector of paths whose |d1|, |d2| are all ≤ 1.75, Φ(d) = ½ + d·E(d²) with a degree-11
/// polynomial E (no exponential, no division). Otherwise
/// Φ(−y) = e^{−y²/2}·P(y)/Q(y) for y ≥ 0 with Hart's rational (Hart et al. 1968, algorithm 5666, as
/// given by West 2005), absolute error below 5e-16 everywhere (relative below 2e-15 for y ≤ 2), and
/// one exponential and one division serve both Φ (see `price` in BlackScholes.c). Each price is
/// within 2e-15·(S' + K) of the exact value.
void thresher_subtract_option_profit(const ThresherOptionTerms *option, long count, const double *spot,
                                     const double *logSpot, const double *volFactor,
                                     const double *inverseVolFactor, double *account, double *book);

/// The smile of one option under sticky-moneyness, in units of variance over the option's τ': at a
/// path's spot S', k' = moneynessOffset − ln S' (= ln(K/F'), F' = S'·e^{rT}) and
///   v(k') = variance + Σ_{s < slices} (slope[s]·x_s + wing[s]·√(x_s² + curvature[s])),  x_s = k' − center[s],
/// the option's (iv'·√τ')² before the vol factor: κ·Σ λ_s·w_s(k') of the SVI slices s of its expiry
/// (weights λ_s), scaled by κ = iv²·τ'/w(k₀) so that v(k₀) = (iv·√τ')² at the spot now.
typedef struct {
    /// 1 or 2: the slices that make the option's expiry.
    int slices;
    /// ln K − r·T, T the years to expiry now.
    double moneynessOffset;
    /// κ·Σ λ_s·a_s.
    double variance;
    /// κ·λ_s·b_s·ρ_s, κ·λ_s·b_s, m_s and σ_s² of each slice.
    double slope[2];
    double wing[2];
    double center[2];
    double curvature[2];
} ThresherSmileTerms;

/// As thresher_subtract_option_profit, with the implied vol of every path read from the smile at the
/// path's moved log-moneyness (sticky-moneyness): σ'√τ' = √v(k'_j)·f_j (`ThresherSmileTerms`),
/// d1 = (ln S' − ln K + rτ')/(σ'√τ') + ½σ'√τ', d2 = d1 − σ'√τ'. The option's halfStdDev and
/// inverseStdDev are not used. Per path: two or three square roots and one division more.
void thresher_subtract_smile_option_profit(const ThresherOptionTerms *option, const ThresherSmileTerms *smile, long count,
                                           const double *spot, const double *logSpot, const double *volFactor,
                                           double *account, double *book);

/// One account's linear losses over a chunk: loss[j] = constant − Σ_k weights[k]·spot[assets[k]·rowStride + j]
/// for j < count, the terms subtracted in order k = 0 … terms − 1, each by one fused multiply-add
/// (one rounding per term on every CPU). `spot` is the chunk's shocked-spot matrix, one row of `rowStride` paths per asset.
void thresher_linear_losses(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                            long terms, double constant, double *loss);

/// Paths per block of thresher_block_statistics (TailAccumulator.blockSize).
#define THRESHER_STATISTICS_BLOCK 64

/// Per block b of 64 consecutive values (the last block may be shorter): sums[b] and squares[b] are
/// the sum and the sum of squares of values[64b ..< min(64b + 64, count)].
/// Eight lanes (lane l takes the values j ≡ l mod 8) combined in a fixed tree, squares not fused
/// with their sum: a pure function of the block's values.
void thresher_block_statistics(const double *values, long count, double *sums, double *squares);

/// Copies the values greater than `threshold` to `out`, in order; returns how many. Branch-free:
/// groups of values are written whole and the index advances past those kept, so `out` needs room
/// for `count` + 8.
long thresher_values_above(const double *values, long count, double threshold, double *out);

/// Adds `count` finite doubles exactly to the 68 limbs of an `ExactSum` (its fixed-point layout:
/// 2⁻¹⁰⁷⁴ at bit 14 of limb 0, 32 bits a limb, three limbs per addend); returns how many values were
/// not finite (skipped). Integer arithmetic: the same limbs on every variant and in every order.
long thresher_exact_sum_add(int64_t *limbs, const double *values, long count);

/// Sorts `count` values in place, largest first, by their bits (a radix sort; `scratch` holds
/// `count` values, overwritten). The same order as any correct sort, −0 placed after +0; NaNs are
/// not allowed. Not dispatched: the same code on every variant.
void thresher_sort_descending(double *values, long count, double *scratch);

/// Rearranges `values` so that its first k are its k largest, in no order (the rest is overwritten),
/// by a radix selection on their bits; `scratch` holds `count` values. NaNs are not allowed.
void thresher_select_largest(double *values, long count, long k, double *scratch);

/// The number of the `count` values below `bound` (`above` = 0) or above it (`above` ≠ 0): the
/// paths whose standardized shock crosses a breach threshold. Exact (an integer count), so the same
/// on every path and variant.
long thresher_count_beyond(const double *values, long count, double bound, int above);

/// thresher_linear_losses, thresher_block_statistics and thresher_values_above in one pass, the
/// losses never stored: for one account's `count` paths (a batch of blocks starting on a block
/// edge), the blocks' sums and squares, and the losses above `threshold` in `above` (room
/// for `count` + 8, in path order); returns how many. The same numbers as the three calls.
long thresher_linear_tail(long count, const double *spot, long rowStride, const int32_t *assets, const double *weights,
                          long terms, double constant, double threshold, double *sums, double *squares, double *above);

/// The git commit of the build ("unknown" unless `make build` defined it).
const char *thresher_build_commit(void);

/// Which variant of the kernels runs: "avx2-fma" (x86-64 CPUs with AVX2 and FMA, chosen at start-up
/// from the CPU's features) or "baseline" (any CPU: the build's own target; on x86-64 without
/// -march, SSE2 with the C library's fma). Both give the same bits. THRESHER_KERNELS=baseline in the
/// environment at start-up forces the baseline.
const char *thresher_kernel_path(void);

/// Switches the kernels to the variant `name` ("avx2-fma", "baseline", or "auto" for the CPU's
/// best), for tests that compare the two: returns 1, or 0 (and changes nothing) when this CPU or
/// build has no such variant. Not for use while kernels run on other threads.
int thresher_select_kernel_path(const char *name);

/// Makes blocks of 1 MiB and more come from and go back to the system (mmap) at a fixed threshold
/// (glibc; elsewhere nothing). glibc otherwise raises its threshold after each large free, and a long
/// run whose chunks allocate and free arrays of tens of MB (a cascade's liquidations) keeps the freed
/// blocks in its arenas: its peak RSS creeps up with the path count. Call once, before any work.
void thresher_return_large_blocks_to_system(void);

/// Asks the CPU to bring the cache line at `address` into every cache level ahead of a read: a hint
/// with no effect on any result (the cascade's visits of accounts scattered in the book,
/// `CascadePath`). Inline, so that it costs one instruction.
static inline void thresher_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
