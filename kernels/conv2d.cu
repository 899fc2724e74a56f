// conv2d.cu: 2-D convolution on the GPU as implicit GEMMs, with shared-memory tiling.
//
// Layouts are PyTorch's: x (N, C_in, H, W), weight (C_out, C_in / groups, KH, KW),
// y (N, C_out, OH, OW), all contiguous. Three kernels, each a matrix product C = A B computed
// group by group without ever building the A or B matrix in memory ("implicit" GEMM):
//
//   forward          y[co, pixel]   = sum over k = (ci, r, s)   of  w[co, k]  * x_patch[k, pixel]
//   backward-data    gx[ci, pixel]  = sum over k = (co, r, s)   of  w[co, ci, r, s] * gy[co, pixel - tap]
//                    (also conv_transpose2d's forward)
//   backward-weight  gw[co, j]      = sum over k = (n, oh, ow)  of  gy[co, k] * x_patch[j, k],  j = (ci, r, s)
//
// A block owns a TM x TN tile of C. It walks K in chunks of TK: the block's threads gather the
// TM x TK slice of A and the TK x TN slice of B into __shared__ memory, wait (__syncthreads), then
// each thread multiplies its MICRO x MICRO piece of the tile out of shared memory, and waits
// again before the next chunk overwrites the tiles. The next chunk is fetched into registers while
// the current one is multiplied (`gemm_k_loop`), so global-memory latency overlaps arithmetic. Each
// thread's piece is strided across the tile (rows tm, tm + TM/MICRO, ...), so a warp's stores land
// on consecutive pixels.
//
// Tiles: "wide" 64 x 64 outputs, K chunks of 16, 256 threads of 4 x 4 outputs; "narrow" 16 x 256,
// also 256 threads, for products with at most 16 rows; "skinny" 4 x 512, 128 threads each owning
// four columns, for at most 4 rows (an RGB or grey image's gradient, a 1-channel output). Shared
// memory per block: 8 / 16 KB (float / double) wide, 17 / 34 KB narrow, 16 / 32 KB skinny.
// ptxas (sm_80, sm_90): at most 128 registers (CONV_MIN_BLOCKS 2), no spills (tests/kernels/test_ptx.py).
//
// Deterministic by construction: every output element is summed by exactly one thread, in a fixed
// k order, with no atomics. Backward-data is a gather over the taps that reach each input pixel
// (a block works on one stride phase, so it visits only those taps); backward-weight gives each
// weight element to one thread. When a product has too few tiles to
// fill the GPU (large K, small M x N), the host splits K into `splits` fixed slices: each writes
// its own partial result, and conv2d_sum_splits adds the slices in order 0, 1, 2, ...
//
// The same file compiles with g++ against cuda_emulation.h, so CI checks it without a GPU.
#if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
#include "cuda_emulation.h"
#endif

// Tile shapes (TM x TN outputs per block, TK-deep K chunks). "wide" serves most layers; "narrow"
// serves products with few rows (M <= 16) and "skinny" those with at most 4 (an image's gradient,
// a 1-channel critic output), where a taller tile would be mostly idle. The emulated build shrinks
// them with -D.
#ifndef CONV_WIDE_TM
#define CONV_WIDE_TM 64
#endif
#ifndef CONV_WIDE_TN
#define CONV_WIDE_TN 64
#endif
#ifndef CONV_WIDE_TK
#define CONV_WIDE_TK 16
#endif
#ifndef CONV_NARROW_TM
#define CONV_NARROW_TM 16
#endif
#ifndef CONV_NARROW_TN
#define CONV_NARROW_TN 256
#endif
#ifndef CONV_NARROW_TK
#define CONV_NARROW_TK 16
#endif
#ifndef CONV_SKINNY_TM
#define CONV_SKINNY_TM 4
#endif
#ifndef CONV_SKINNY_TN
#define CONV_SKINNY_TN 512
#endif
#ifndef CONV_SKINNY_TK
#define CONV_SKINNY_TK 8
#endif
#ifndef CONV_SUM_THREADS
#define CONV_SUM_THREADS 256
#endif
// Blocks per SM that ptxas must leave room for (launch bounds), which caps registers per thread:
// 2 (at most 128 for 256 threads) keeps everything in registers without spilling, float64 too.
// Measured on an H100 (each setting compiled and timed with CUDA events on five DCGAN geometries
// at batch 256, forward + both gradients): 1, 2, 3 gave 3.66, 3.62, 3.58 ms, within noise; 3
// spills in float64.
#ifndef CONV_MIN_BLOCKS
#define CONV_MIN_BLOCKS 2
#endif

// Every thread computes a MICRO x MICRO piece of the tile, so a block has TM * TN / MICRO^2 threads.
#define CONV_MICRO 4
#define CONV_THREADS(TM, TN) ((TM) * (TN) / (CONV_MICRO * CONV_MICRO))

struct ConvShape {
    int batch, in_channels, in_h, in_w;
    int out_channels, out_h, out_w;
    int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int groups, splits;
};

__device__ __forceinline__ int ceil_div(int a, int b) { return (a + b - 1) / b; }
__device__ __forceinline__ int min_int(int a, int b) { return a < b ? a : b; }

// The slice [begin, end) of a K loop that split `split` of `splits` owns; slices start on TK
// boundaries. A slice may be empty: its block then writes a zero partial, which the sum needs.
template <int TK>
__device__ __forceinline__ void split_range(int k_total, int splits, int split, int& begin, int& end) {
    const int per_split = ceil_div(ceil_div(k_total, splits), TK) * TK;
    begin = min_int(k_total, split * per_split);
    end = min_int(k_total, begin + per_split);
}

// Who stages what. A's TM x TK slice is spread over the threads in order (A_LOADS values each; the
// loader says where value i lands). B's TK x TN slice is staged by columns: a thread owns B_COLS
// fixed columns (their pixel or weight position is decoded once) and B_ROWS of their rows, so a
// tile may be wider than its thread count (the skinny tile: 4 rows x 512 columns, 128 threads).
template <int TM, int TN, int TK>
struct TileLayout {
    static constexpr int THREADS = CONV_THREADS(TM, TN);
    static constexpr int A_LOADS = (TM * TK + THREADS - 1) / THREADS;
    static constexpr int B_COLS = TN > THREADS ? TN / THREADS : 1;
    static constexpr int B_ROW_STEP = THREADS >= TN ? THREADS / TN : 1;
    static constexpr int B_ROWS = TK / B_ROW_STEP;
    static_assert(TM % CONV_MICRO == 0 && TN % CONV_MICRO == 0, "tiles hold whole MICRO x MICRO pieces");
    static_assert(THREADS >= TN ? THREADS % TN == 0 : TN % THREADS == 0, "B columns split evenly");
    static_assert(TK % B_ROW_STEP == 0, "B rows split evenly");

    __device__ static int b_column(int q) { return threadIdx.x % TN + q * THREADS; }
    __device__ static int b_row(int r) { return threadIdx.x / TN + r * B_ROW_STEP; }
};

template <typename T>
__device__ __forceinline__ void zero(T (&acc)[CONV_MICRO][CONV_MICRO]) {
    for (int i = 0; i < CONV_MICRO; ++i)
        for (int j = 0; j < CONV_MICRO; ++j) acc[i][j] = T(0);
}

// acc += a_tile^T b_tile for this thread's rows (tm + i * TM / MICRO) and columns (tn + j * TN / MICRO).
template <typename T, int TM, int TN, int TK>
__device__ __forceinline__ void multiply_tiles(const T (&a_tile)[TK][TM], const T (&b_tile)[TK][TN],
                                               T (&acc)[CONV_MICRO][CONV_MICRO]) {
    const int tm = threadIdx.x / (TN / CONV_MICRO), tn = threadIdx.x % (TN / CONV_MICRO);
#pragma unroll
    for (int kk = 0; kk < TK; ++kk) {
        T a[CONV_MICRO], b[CONV_MICRO];
#pragma unroll
        for (int i = 0; i < CONV_MICRO; ++i) a[i] = a_tile[kk][tm + i * (TM / CONV_MICRO)];
#pragma unroll
        for (int j = 0; j < CONV_MICRO; ++j) b[j] = b_tile[kk][tn + j * (TN / CONV_MICRO)];
#pragma unroll
        for (int i = 0; i < CONV_MICRO; ++i)
#pragma unroll
            for (int j = 0; j < CONV_MICRO; ++j) acc[i][j] += a[i] * b[j];
    }
}

// The K loop every kernel shares. Each chunk's K indices are decoded once (channel, tap, offsets:
// integer divisions by runtime sizes, the costliest part of a gather) by TK threads into a small
// shared table, which every thread's gathers then read. The next chunk's values are fetched from
// global memory into registers before the current chunk is multiplied, so their latency overlaps
// the arithmetic; they reach shared memory after the barrier that ends the multiply. The table is
// double-buffered: the one being filled was last read two barriers earlier.
// A Loader knows one direction's A and B: decode(k), a_position(i) (where staged value i lands),
// a_value and b_value (given k's decoded entry).
template <typename T, int TM, int TN, int TK, class Loader>
__device__ __forceinline__ void fetch(const Loader& load, const int4 (&k_table)[TK], int k0, int k_end,
                                      T (&a_regs)[TileLayout<TM, TN, TK>::A_LOADS],
                                      T (&b_regs)[TileLayout<TM, TN, TK>::B_COLS][TileLayout<TM, TN, TK>::B_ROWS]) {
    using L = TileLayout<TM, TN, TK>;
#pragma unroll
    for (int r = 0; r < L::A_LOADS; ++r) {
        const int i = threadIdx.x + r * L::THREADS;
        int mm, kk;
        Loader::a_position(i, mm, kk);
        a_regs[r] = i < TM * TK && k0 + kk < k_end ? load.a_value(mm, k0 + kk, k_table[kk]) : T(0);
    }
#pragma unroll
    for (int r = 0; r < L::B_ROWS; ++r) {
        const int kk = L::b_row(r);
        const bool live = k0 + kk < k_end;
        const int4 entry = k_table[kk];
#pragma unroll
        for (int q = 0; q < L::B_COLS; ++q) b_regs[q][r] = live ? load.b_value(q, entry) : T(0);
    }
}

template <typename T, int TM, int TN, int TK, class Loader>
__device__ __forceinline__ void gemm_k_loop(const Loader& load, int k_begin, int k_end,
                                            T (&acc)[CONV_MICRO][CONV_MICRO]) {
    using L = TileLayout<TM, TN, TK>;
    static_assert(L::THREADS >= TK, "TK threads decode a chunk's K indices");
    __shared__ T a_tile[TK][TM];
    __shared__ T b_tile[TK][TN];
    __shared__ int4 k_table[2][TK];
    T a_regs[L::A_LOADS], b_regs[L::B_COLS][L::B_ROWS];
    zero<T>(acc);
    if (k_begin >= k_end) return;  // the same for the whole block
    if (threadIdx.x < TK) k_table[0][threadIdx.x] = load.decode(k_begin + threadIdx.x);
    __syncthreads();
    fetch<T, TM, TN, TK>(load, k_table[0], k_begin, k_end, a_regs, b_regs);
    int buffer = 0;
    for (int k0 = k_begin; k0 < k_end; k0 += TK, buffer ^= 1) {
        const bool more = k0 + TK < k_end;
#pragma unroll
        for (int r = 0; r < L::A_LOADS; ++r) {
            const int i = threadIdx.x + r * L::THREADS;
            int mm, kk;
            Loader::a_position(i, mm, kk);
            if (i < TM * TK) a_tile[kk][mm] = a_regs[r];
        }
#pragma unroll
        for (int q = 0; q < L::B_COLS; ++q)
#pragma unroll
            for (int r = 0; r < L::B_ROWS; ++r) b_tile[L::b_row(r)][L::b_column(q)] = b_regs[q][r];
        if (more && threadIdx.x < TK) k_table[buffer ^ 1][threadIdx.x] = load.decode(k0 + TK + threadIdx.x);
        __syncthreads();  // tiles (and the next chunk's table) complete before anyone reads them
        if (more) fetch<T, TM, TN, TK>(load, k_table[buffer ^ 1], k0 + TK, k_end, a_regs, b_regs);
        multiply_tiles<T, TM, TN, TK>(a_tile, b_tile, acc);
        __syncthreads();  // everyone done multiplying before the next chunk overwrites the tiles
    }
}

// ------------------------------------------------------------------------------------ forward
// C = y of one group: rows are its output channels, columns are output pixels (n, oh, ow).
template <typename T, int TM, int TN, int TK>
struct ForwardLoader {
    using L = TileLayout<TM, TN, TK>;
    const T* w_group;
    int k_total, cout_g, m0, taps, kernel_w, dilation_h, dilation_w, in_h, in_w;
    const T* x_image[L::B_COLS];  // each owned column's pixel: its patch's top-left input (maybe padding)
    int ih0[L::B_COLS], iw0[L::B_COLS];
    bool valid[L::B_COLS];

    __device__ ForwardLoader(const T* x, const T* w, const ConvShape& s, int group, int m0_, int n0) {
        const int cin_g = s.in_channels / s.groups, pixels = s.batch * s.out_h * s.out_w;
        taps = s.kernel_h * s.kernel_w;
        k_total = cin_g * taps;
        cout_g = s.out_channels / s.groups;
        m0 = m0_;
        kernel_w = s.kernel_w, dilation_h = s.dilation_h, dilation_w = s.dilation_w, in_h = s.in_h, in_w = s.in_w;
        w_group = w + (long long)group * cout_g * k_total;
        for (int q = 0; q < L::B_COLS; ++q) {
            const int pixel = n0 + L::b_column(q);
            valid[q] = pixel < pixels;
            const int n = valid[q] ? pixel / (s.out_h * s.out_w) : 0;
            const int oh = valid[q] ? pixel / s.out_w % s.out_h : 0, ow = valid[q] ? pixel % s.out_w : 0;
            ih0[q] = oh * s.stride_h - s.pad_h, iw0[q] = ow * s.stride_w - s.pad_w;
            x_image[q] = x + ((long long)n * s.in_channels + group * cin_g) * s.in_h * s.in_w
                         + (long long)ih0[q] * s.in_w + iw0[q];
        }
    }
    // k = (c, r, s) -> {offset of the tap from a patch's top-left input, its row and column offsets}
    __device__ int4 decode(int k) const {
        const int c = k / taps, tap = k % taps;
        const int dh = tap / kernel_w * dilation_h, dw = tap % kernel_w * dilation_w;
        return int4{(c * in_h + dh) * in_w + dw, dh, dw, 0};
    }
    // A weight row is contiguous along k: consecutive threads read consecutive k (coalesced).
    __device__ static void a_position(int i, int& mm, int& kk) { mm = i / TK, kk = i % TK; }
    __device__ T a_value(int mm, int k, const int4&) const {
        const int m = m0 + mm;
        return m < cout_g ? w_group[(long long)m * k_total + k] : T(0);
    }
    // Patch values are gathered; taps falling in the padding read as zero.
    __device__ T b_value(int q, const int4& t) const {
        const int ih = ih0[q] + t.y, iw = iw0[q] + t.z;
        return valid[q] && ih >= 0 && ih < in_h && iw >= 0 && iw < in_w ? x_image[q][t.x] : T(0);
    }
};

template <typename T, int TM, int TN, int TK>
__device__ void conv2d_forward_tile(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y,
                                    const ConvShape s) {
    const int cout_g = s.out_channels / s.groups;
    const int pixels = s.batch * s.out_h * s.out_w;
    const int group = blockIdx.z / s.splits, split = blockIdx.z % s.splits;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    const ForwardLoader<T, TM, TN, TK> load(x, w, s, group, m0, n0);
    int k_begin, k_end;
    split_range<TK>(load.k_total, s.splits, split, k_begin, k_end);
    T acc[CONV_MICRO][CONV_MICRO];
    gemm_k_loop<T, TM, TN, TK>(load, k_begin, k_end, acc);

    T* out = y + (long long)split * s.batch * s.out_channels * s.out_h * s.out_w;
    const int tm = threadIdx.x / (TN / CONV_MICRO), tn = threadIdx.x % (TN / CONV_MICRO);
    for (int j = 0; j < CONV_MICRO; ++j) {
        const int p = n0 + tn + j * (TN / CONV_MICRO);
        if (p >= pixels) continue;
        const int pn = p / (s.out_h * s.out_w), p_hw = p % (s.out_h * s.out_w);
        for (int i = 0; i < CONV_MICRO; ++i) {
            const int m = m0 + tm + i * (TM / CONV_MICRO);
            if (m < cout_g)
                out[((long long)pn * s.out_channels + group * cout_g + m) * s.out_h * s.out_w + p_hw] = acc[i][j];
        }
    }
}

// ------------------------------------------------------------------------------ backward-data
// gx[n, ci, ih, iw] = sum over (co, r, s) with ih = oh * stride - pad + r * dilation (same for w)
// of w[co, ci, r, s] * gy[n, co, oh, ow]. For a given input row ih only the taps r with
// (ih + pad - r * dilation) divisible by stride contribute, and that set depends only on
// ih mod stride, the row's "phase". A block therefore works on one phase (ih = phase + row * stride),
// and its K loop runs only over the taps that hit: no multiplying by zeros, and no scatter.

// The taps r = first, first + step, ... (count of them, all below `kernel`) that reach the input
// rows of one phase; tap r reaches output row oh = row + (phase + pad - r * dilation) / stride.
struct TapSet {
    int first, step, count;
};

__device__ __forceinline__ TapSet taps_for_phase(int phase, int pad, int dilation, int stride, int kernel) {
    // r * dilation = phase + pad (mod stride) has solutions r = first (mod stride / gcd), if any.
    int a = stride, b = dilation;
    while (b != 0) { const int t = a % b; a = b; b = t; }
    TapSet set = {0, stride / a, 0};
    for (int r = 0; r < set.step; ++r) {
        if (((phase + pad - r * dilation) % stride + stride) % stride == 0) {
            set.first = r;
            set.count = r < kernel ? (kernel - 1 - r) / set.step + 1 : 0;
            break;
        }
    }
    return set;
}

// The geometry of one stride phase of the input: its rows x cols pixels per image.
struct Phase {
    int h, w, rows, cols;
    TapSet taps_h, taps_w;
    __device__ Phase(const ConvShape& s, int phase) {
        h = phase / s.stride_w, w = phase % s.stride_w;
        rows = h < s.in_h ? ceil_div(s.in_h - h, s.stride_h) : 0;
        cols = w < s.in_w ? ceil_div(s.in_w - w, s.stride_w) : 0;
        taps_h = taps_for_phase(h, s.pad_h, s.dilation_h, s.stride_h, s.kernel_h);
        taps_w = taps_for_phase(w, s.pad_w, s.dilation_w, s.stride_w, s.kernel_w);
    }
};

template <typename T, int TM, int TN, int TK>
struct BackwardDataLoader {
    using L = TileLayout<TM, TN, TK>;
    const T* w_group;
    int cin_g, m0, taps, kernel_h, kernel_w, out_h, out_w;
    int first_h, step_h, first_w, step_w, count_w;
    int shift_h, shift_w, stride_h, stride_w, dilation_h, dilation_w;
    const T* gy_image[L::B_COLS];  // each owned column's input pixel: its gy image at (row, col)
    int row[L::B_COLS], col[L::B_COLS];
    bool valid[L::B_COLS];

    __device__ BackwardDataLoader(const T* gy, const T* w, const ConvShape& s, const Phase& p, int group,
                                  int m0_, int n0) {
        const int cout_g = s.out_channels / s.groups, pixels = s.batch * p.rows * p.cols;
        cin_g = s.in_channels / s.groups;
        m0 = m0_;
        taps = p.taps_h.count * p.taps_w.count;
        kernel_h = s.kernel_h, kernel_w = s.kernel_w, out_h = s.out_h, out_w = s.out_w;
        first_h = p.taps_h.first, step_h = p.taps_h.step, first_w = p.taps_w.first, step_w = p.taps_w.step;
        count_w = p.taps_w.count;
        shift_h = p.h + s.pad_h, shift_w = p.w + s.pad_w;
        stride_h = s.stride_h, stride_w = s.stride_w, dilation_h = s.dilation_h, dilation_w = s.dilation_w;
        w_group = w + (long long)group * cout_g * cin_g * s.kernel_h * s.kernel_w;
        for (int q = 0; q < L::B_COLS; ++q) {
            const int pixel = n0 + L::b_column(q);
            valid[q] = pixel < pixels;
            const int n = valid[q] ? pixel / (p.rows * p.cols) : 0;
            row[q] = valid[q] ? pixel / p.cols % p.rows : 0, col[q] = valid[q] ? pixel % p.cols : 0;
            gy_image[q] = gy + ((long long)n * s.out_channels + group * cout_g) * s.out_h * s.out_w
                          + (long long)row[q] * s.out_w + col[q];
        }
    }
    // k = (co, tap of this phase) -> {gy offset from the pixel's own (row, col), the output row and
    // column shifts (exact divisions: the tap set was chosen so), the weight offset of (co, r, s)}
    __device__ int4 decode(int k) const {
        const int co = k / taps, tap = k % taps;
        const int r = first_h + tap / count_w * step_h, c = first_w + tap % count_w * step_w;
        const int dh = (shift_h - r * dilation_h) / stride_h, dw = (shift_w - c * dilation_w) / stride_w;
        return int4{(co * out_h + dh) * out_w + dw, dh, dw, (co * cin_g * kernel_h + r) * kernel_w + c};
    }
    // Weights are read transposed (w[co, ci, r, s] for consecutive ci); they are small and stay in
    // cache, so the shared-memory stores are the ones kept conflict-free.
    __device__ static void a_position(int i, int& mm, int& kk) { mm = i % TM, kk = i / TM; }
    __device__ T a_value(int mm, int, const int4& t) const {
        const int m = m0 + mm;
        return m < cin_g ? w_group[t.w + (long long)m * kernel_h * kernel_w] : T(0);
    }
    __device__ T b_value(int q, const int4& t) const {
        const int oh = row[q] + t.y, ow = col[q] + t.z;
        return valid[q] && oh >= 0 && oh < out_h && ow >= 0 && ow < out_w ? gy_image[q][t.x] : T(0);
    }
};

template <typename T, int TM, int TN, int TK>
__device__ void conv2d_backward_data_tile(const T* __restrict__ gy, const T* __restrict__ w, T* __restrict__ gx,
                                          const ConvShape s) {
    const int cin_g = s.in_channels / s.groups;
    const int phases = s.stride_h * s.stride_w;
    const int split = blockIdx.z % s.splits;
    const int group = blockIdx.z / (s.splits * phases);
    const Phase p(s, blockIdx.z / s.splits % phases);
    const int pixels = s.batch * p.rows * p.cols;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    // The grid is sized for the largest phase; blocks past this phase's pixels have nothing to do
    // (the whole block leaves together, so no __syncthreads is skipped by part of it).
    if (n0 >= pixels) return;

    const BackwardDataLoader<T, TM, TN, TK> load(gy, w, s, p, group, m0, n0);
    int k_begin, k_end;
    split_range<TK>(s.out_channels / s.groups * load.taps, s.splits, split, k_begin, k_end);
    T acc[CONV_MICRO][CONV_MICRO];
    gemm_k_loop<T, TM, TN, TK>(load, k_begin, k_end, acc);

    T* out = gx + (long long)split * s.batch * s.in_channels * s.in_h * s.in_w;
    const int tm = threadIdx.x / (TN / CONV_MICRO), tn = threadIdx.x % (TN / CONV_MICRO);
    for (int j = 0; j < CONV_MICRO; ++j) {
        const int px = n0 + tn + j * (TN / CONV_MICRO);
        if (px >= pixels) continue;
        const int pn = px / (p.rows * p.cols);
        const int ih = p.h + px / p.cols % p.rows * s.stride_h, iw = p.w + px % p.cols * s.stride_w;
        for (int i = 0; i < CONV_MICRO; ++i) {
            const int m = m0 + tm + i * (TM / CONV_MICRO);
            if (m < cin_g)
                out[(((long long)pn * s.in_channels + group * cin_g + m) * s.in_h + ih) * s.in_w + iw] = acc[i][j];
        }
    }
}

// ---------------------------------------------------------------------------- backward-weight
// C = gw of one group: rows are its output channels co, columns j = (ci, r, s) (gw's own layout),
// and K runs over every output pixel (n, oh, ow) of the batch. Each gw element belongs to one
// thread of one block (per K split), so the long reduction needs no atomics.
template <typename T, int TM, int TN, int TK>
struct BackwardWeightLoader {
    using L = TileLayout<TM, TN, TK>;
    const T* gy_group;
    int cout_g, m0, out_hw, out_w, out_channels, in_channels, in_h, in_w, stride_h, stride_w, pad_h, pad_w;
    const T* x_channel[L::B_COLS];  // each owned column j = (ci, r, s): its channel, shifted by the tap
    int tap_h[L::B_COLS], tap_w[L::B_COLS];
    bool valid[L::B_COLS];

    __device__ BackwardWeightLoader(const T* x, const T* gy, const ConvShape& s, int group, int m0_, int n0) {
        const int cin_g = s.in_channels / s.groups, taps = s.kernel_h * s.kernel_w, columns = cin_g * taps;
        cout_g = s.out_channels / s.groups;
        m0 = m0_;
        out_hw = s.out_h * s.out_w, out_w = s.out_w, out_channels = s.out_channels, in_channels = s.in_channels;
        in_h = s.in_h, in_w = s.in_w, stride_h = s.stride_h, stride_w = s.stride_w, pad_h = s.pad_h, pad_w = s.pad_w;
        gy_group = gy + (long long)group * cout_g * out_hw;
        for (int q = 0; q < L::B_COLS; ++q) {
            const int column = n0 + L::b_column(q);
            valid[q] = column < columns;
            const int ci = valid[q] ? column / taps : 0;
            tap_h[q] = valid[q] ? column % taps / s.kernel_w * s.dilation_h : 0;
            tap_w[q] = valid[q] ? column % s.kernel_w * s.dilation_w : 0;
            x_channel[q] = x + (long long)(group * cin_g + ci) * s.in_h * s.in_w + tap_h[q] * s.in_w + tap_w[q];
        }
    }
    // k = (n, oh, ow) -> {x offset of the pixel's patch top-left, its input row and column, gy offset}
    __device__ int4 decode(int k) const {
        const int pn = k / out_hw, p_hw = k % out_hw;
        const int ih = p_hw / out_w * stride_h - pad_h, iw = p_hw % out_w * stride_w - pad_w;
        return int4{(pn * in_channels * in_h + ih) * in_w + iw, ih, iw, pn * out_channels * out_hw + p_hw};
    }
    // gy rows are contiguous along (oh, ow): consecutive threads read consecutive pixels.
    __device__ static void a_position(int i, int& mm, int& kk) { mm = i / TK, kk = i % TK; }
    __device__ T a_value(int mm, int, const int4& t) const {
        const int m = m0 + mm;
        return m < cout_g ? gy_group[t.w + (long long)m * out_hw] : T(0);
    }
    __device__ T b_value(int q, const int4& t) const {
        const int ih = t.y + tap_h[q], iw = t.z + tap_w[q];
        return valid[q] && ih >= 0 && ih < in_h && iw >= 0 && iw < in_w ? x_channel[q][t.x] : T(0);
    }
};

template <typename T, int TM, int TN, int TK>
__device__ void conv2d_backward_weight_tile(const T* __restrict__ x, const T* __restrict__ gy, T* __restrict__ gw,
                                            const ConvShape s) {
    const int cout_g = s.out_channels / s.groups;
    const int columns = s.in_channels / s.groups * s.kernel_h * s.kernel_w;
    const int group = blockIdx.z / s.splits, split = blockIdx.z % s.splits;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    const BackwardWeightLoader<T, TM, TN, TK> load(x, gy, s, group, m0, n0);
    int k_begin, k_end;
    split_range<TK>(s.batch * s.out_h * s.out_w, s.splits, split, k_begin, k_end);
    T acc[CONV_MICRO][CONV_MICRO];
    gemm_k_loop<T, TM, TN, TK>(load, k_begin, k_end, acc);

    T* out = gw + (long long)split * s.out_channels * columns;
    const int tm = threadIdx.x / (TN / CONV_MICRO), tn = threadIdx.x % (TN / CONV_MICRO);
    for (int i = 0; i < CONV_MICRO; ++i) {
        const int m = m0 + tm + i * (TM / CONV_MICRO);
        if (m >= cout_g) continue;
        for (int j = 0; j < CONV_MICRO; ++j) {
            const int c = n0 + tn + j * (TN / CONV_MICRO);
            if (c < columns) out[(long long)(group * cout_g + m) * columns + c] = acc[i][j];
        }
    }
}

// ------------------------------------------------------------------------------- split-K sum
// out[e] = partial[0][e] + partial[1][e] + ... in that order, so the result does not depend on
// which split finished first.
template <typename T>
__device__ void conv2d_sum_splits_body(const T* __restrict__ partial, T* __restrict__ out, int numel, int splits) {
    const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (e >= numel) return;  // this kernel has no __syncthreads, so threads may leave on their own
    T total = partial[e];
    for (int split = 1; split < splits; ++split) total += partial[(long long)split * numel + e];
    out[e] = total;
}

// ------------------------------------------------------------------- extern "C" entry points
// Plain C names, so cupy.RawModule (and the emulation harness) can look them up without name
// mangling. Every conv kernel takes (in0, in1, out, shape...):
//   conv2d_forward_*          (x,  w,  y)
//   conv2d_backward_data_*    (gy, w,  gx)     grid z = groups * stride_h * stride_w * splits
//   conv2d_backward_weight_*  (x,  gy, gw)
// With splits > 1, `out` is a (splits, *result shape) workspace for conv2d_sum_splits_*.
#define CONV_SHAPE_PARAMS                                                                       \
    int batch, int in_channels, int in_h, int in_w, int out_channels, int out_h, int out_w,     \
        int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w,          \
        int dilation_h, int dilation_w, int groups, int splits
#define CONV_SHAPE                                                                                  \
    ConvShape {                                                                                     \
        batch, in_channels, in_h, in_w, out_channels, out_h, out_w, kernel_h, kernel_w, stride_h,   \
            stride_w, pad_h, pad_w, dilation_h, dilation_w, groups, splits                          \
    }

#define CONV_KERNEL(NAME, BODY, T, TM, TN, TK)                                                    \
    extern "C" __global__ void __launch_bounds__(CONV_THREADS(TM, TN), CONV_MIN_BLOCKS)           \
        NAME(const T* __restrict__ in0, const T* __restrict__ in1, T* __restrict__ out, CONV_SHAPE_PARAMS) { \
        BODY<T, TM, TN, TK>(in0, in1, out, CONV_SHAPE);                                           \
    }

#define CONV_KERNELS_FOR(T, SUFFIX)                                                                            \
    CONV_KERNEL(conv2d_forward_##SUFFIX, conv2d_forward_tile, T, CONV_WIDE_TM, CONV_WIDE_TN, CONV_WIDE_TK)     \
    CONV_KERNEL(conv2d_forward_narrow_##SUFFIX, conv2d_forward_tile, T, CONV_NARROW_TM, CONV_NARROW_TN,        \
                CONV_NARROW_TK)                                                                                \
    CONV_KERNEL(conv2d_backward_data_##SUFFIX, conv2d_backward_data_tile, T, CONV_WIDE_TM, CONV_WIDE_TN,       \
                CONV_WIDE_TK)                                                                                  \
    CONV_KERNEL(conv2d_backward_data_narrow_##SUFFIX, conv2d_backward_data_tile, T, CONV_NARROW_TM,            \
                CONV_NARROW_TN, CONV_NARROW_TK)                                                                \
    CONV_KERNEL(conv2d_backward_weight_##SUFFIX, conv2d_backward_weight_tile, T, CONV_WIDE_TM, CONV_WIDE_TN,   \
                CONV_WIDE_TK)                                                                                  \
    CONV_KERNEL(conv2d_backward_weight_narrow_##SUFFIX, conv2d_backward_weight_tile, T, CONV_NARROW_TM,        \
                CONV_NARROW_TN, CONV_NARROW_TK)                                                                \
    CONV_KERNEL(conv2d_forward_skinny_##SUFFIX, conv2d_forward_tile, T, CONV_SKINNY_TM, CONV_SKINNY_TN,        \
                CONV_SKINNY_TK)                                                                                \
    CONV_KERNEL(conv2d_backward_data_skinny_##SUFFIX, conv2d_backward_data_tile, T, CONV_SKINNY_TM,            \
                CONV_SKINNY_TN, CONV_SKINNY_TK)                                                                \
    CONV_KERNEL(conv2d_backward_weight_skinny_##SUFFIX, conv2d_backward_weight_tile, T, CONV_SKINNY_TM,        \
                CONV_SKINNY_TN, CONV_SKINNY_TK)                                                                \
    extern "C" __global__ void __launch_bounds__(CONV_SUM_THREADS)                                             \
        conv2d_sum_splits_##SUFFIX(const T* __restrict__ partial, T* __restrict__ out, int numel, int splits) { \
        conv2d_sum_splits_body<T>(partial, out, numel, splits);                                                \
    }

CONV_KERNELS_FOR(float, f32)
CONV_KERNELS_FOR(double, f64)
