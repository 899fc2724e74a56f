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
// again before the next chunk overwrites the tiles. Each thread's piece is strided across the
// tile (rows tm, tm + TM/MICRO, ...), so a warp's stores land on consecutive pixels.
//
// Tiles: "wide" 64 x 64 outputs, K chunks of 16, 256 threads of 4 x 4 outputs; "narrow" 16 x 256,
// also 256 threads, for products with at most 16 rows. Shared memory per block: 8 KB (float) or
// 16 KB (double) wide, 17 / 34 KB narrow. ptxas (sm_90): 64 registers (float), 80 (double), no spills.
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
// serves products with few rows (M <= 16: e.g. an RGB image's gradient, a 1-channel critic
// output), where a 64-row tile would be mostly idle. The emulated build shrinks them with -D.
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
#ifndef CONV_SUM_THREADS
#define CONV_SUM_THREADS 256
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

// ------------------------------------------------------------------------------------ forward
// C = y of one group: rows are its output channels, columns are output pixels (n, oh, ow).
template <typename T, int TM, int TN, int TK>
__device__ void conv2d_forward_tile(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y,
                                    const ConvShape s) {
    constexpr int THREADS = CONV_THREADS(TM, TN);
    static_assert(TM % (CONV_MICRO * CONV_MICRO) == 0, "THREADS must be a multiple of TN");
    __shared__ T a_tile[TK][TM];  // weights, a_tile[k][output channel]
    __shared__ T b_tile[TK][TN];  // input patches, b_tile[k][output pixel]

    const int tid = threadIdx.x;
    const int cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
    const int taps = s.kernel_h * s.kernel_w;
    const int k_total = cin_g * taps;
    const int pixels = s.batch * s.out_h * s.out_w;
    const int group = blockIdx.z / s.splits, split = blockIdx.z % s.splits;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    int k_begin, k_end;
    split_range<TK>(k_total, s.splits, split, k_begin, k_end);

    // THREADS is a multiple of TN, so the pixel a thread stages into b_tile is the same at every
    // k step: decode its (n, oh, ow) once, outside the K loop.
    const int load_n = tid % TN;
    const int pixel = n0 + load_n;
    const bool pixel_valid = pixel < pixels;
    const int n = pixel_valid ? pixel / (s.out_h * s.out_w) : 0;
    const int oh = pixel_valid ? pixel / s.out_w % s.out_h : 0;
    const int ow = pixel_valid ? pixel % s.out_w : 0;
    const T* x_image = x + ((long long)n * s.in_channels + group * cin_g) * s.in_h * s.in_w;
    const int ih0 = oh * s.stride_h - s.pad_h, iw0 = ow * s.stride_w - s.pad_w;
    const T* w_group = w + (long long)group * cout_g * k_total;

    T acc[CONV_MICRO][CONV_MICRO];
    zero<T>(acc);
    for (int k0 = k_begin; k0 < k_end; k0 += TK) {
        // A weight row is contiguous along k: consecutive threads read consecutive k (coalesced).
        for (int i = tid; i < TM * TK; i += THREADS) {
            const int mm = i / TK, kk = i % TK, m = m0 + mm, k = k0 + kk;
            a_tile[kk][mm] = (m < cout_g && k < k_end) ? w_group[(long long)m * k_total + k] : T(0);
        }
        // Patch values are gathered; taps falling in the padding read as zero.
        for (int kk = tid / TN; kk < TK; kk += THREADS / TN) {
            const int k = k0 + kk;
            T value = T(0);
            if (pixel_valid && k < k_end) {
                const int c = k / taps, tap = k % taps;
                const int ih = ih0 + (tap / s.kernel_w) * s.dilation_h;
                const int iw = iw0 + (tap % s.kernel_w) * s.dilation_w;
                if (ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w)
                    value = x_image[((long long)c * s.in_h + ih) * s.in_w + iw];
            }
            b_tile[kk][load_n] = value;
        }
        __syncthreads();  // tiles complete before anyone multiplies
        multiply_tiles<T, TM, TN, TK>(a_tile, b_tile, acc);
        __syncthreads();  // everyone done multiplying before the next chunk overwrites the tiles
    }

    T* out = y + (long long)split * s.batch * s.out_channels * s.out_h * s.out_w;
    const int tm = tid / (TN / CONV_MICRO), tn = tid % (TN / CONV_MICRO);
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

template <typename T, int TM, int TN, int TK>
__device__ void conv2d_backward_data_tile(const T* __restrict__ gy, const T* __restrict__ w, T* __restrict__ gx,
                                          const ConvShape s) {
    constexpr int THREADS = CONV_THREADS(TM, TN);
    static_assert(TM % (CONV_MICRO * CONV_MICRO) == 0, "THREADS must be a multiple of TN");
    __shared__ T a_tile[TK][TM];  // weights, a_tile[k][input channel]
    __shared__ T b_tile[TK][TN];  // output gradients, b_tile[k][input pixel of this phase]

    const int tid = threadIdx.x;
    const int cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
    const int phases = s.stride_h * s.stride_w;
    const int split = blockIdx.z % s.splits;
    const int phase = blockIdx.z / s.splits % phases;
    const int group = blockIdx.z / (s.splits * phases);
    const int phase_h = phase / s.stride_w, phase_w = phase % s.stride_w;
    const int rows = phase_h < s.in_h ? ceil_div(s.in_h - phase_h, s.stride_h) : 0;
    const int cols = phase_w < s.in_w ? ceil_div(s.in_w - phase_w, s.stride_w) : 0;
    const int pixels = s.batch * rows * cols;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    // The grid is sized for the largest phase; blocks past this phase's pixels have nothing to do
    // (the whole block leaves together, so no __syncthreads is skipped by part of it).
    if (n0 >= pixels) return;

    const TapSet taps_h = taps_for_phase(phase_h, s.pad_h, s.dilation_h, s.stride_h, s.kernel_h);
    const TapSet taps_w = taps_for_phase(phase_w, s.pad_w, s.dilation_w, s.stride_w, s.kernel_w);
    const int taps = taps_h.count * taps_w.count;
    const int k_total = cout_g * taps;
    int k_begin, k_end;
    split_range<TK>(k_total, s.splits, split, k_begin, k_end);

    // As in the forward kernel, each thread stages one fixed pixel into b_tile: decode it once.
    const int load_n = tid % TN;
    const int pixel = n0 + load_n;
    const bool pixel_valid = pixel < pixels;
    const int n = pixel_valid ? pixel / (rows * cols) : 0;
    const int row = pixel_valid ? pixel / cols % rows : 0;
    const int col = pixel_valid ? pixel % cols : 0;
    const T* gy_image = gy + ((long long)n * s.out_channels + group * cout_g) * s.out_h * s.out_w;
    const T* w_group = w + (long long)group * cout_g * cin_g * s.kernel_h * s.kernel_w;

    T acc[CONV_MICRO][CONV_MICRO];
    zero<T>(acc);
    for (int k0 = k_begin; k0 < k_end; k0 += TK) {
        // Weights are read transposed (w[co, ci, r, s] for consecutive ci); they are small and
        // stay in cache, so the shared-memory stores are the ones kept conflict-free.
        for (int i = tid; i < TM * TK; i += THREADS) {
            const int mm = i % TM, kk = i / TM, m = m0 + mm, k = k0 + kk;
            T value = T(0);
            if (m < cin_g && k < k_end) {
                const int co = k / taps, tap = k % taps;
                const int r = taps_h.first + tap / taps_w.count * taps_h.step;
                const int c = taps_w.first + tap % taps_w.count * taps_w.step;
                value = w_group[(((long long)co * cin_g + m) * s.kernel_h + r) * s.kernel_w + c];
            }
            a_tile[kk][mm] = value;
        }
        for (int kk = tid / TN; kk < TK; kk += THREADS / TN) {
            const int k = k0 + kk;
            T value = T(0);
            if (pixel_valid && k < k_end) {
                const int co = k / taps, tap = k % taps;
                const int r = taps_h.first + tap / taps_w.count * taps_h.step;
                const int c = taps_w.first + tap % taps_w.count * taps_w.step;
                // exact divisions: the tap set was chosen so that they are
                const int oh = row + (phase_h + s.pad_h - r * s.dilation_h) / s.stride_h;
                const int ow = col + (phase_w + s.pad_w - c * s.dilation_w) / s.stride_w;
                if (oh >= 0 && oh < s.out_h && ow >= 0 && ow < s.out_w)
                    value = gy_image[((long long)co * s.out_h + oh) * s.out_w + ow];
            }
            b_tile[kk][load_n] = value;
        }
        __syncthreads();
        multiply_tiles<T, TM, TN, TK>(a_tile, b_tile, acc);
        __syncthreads();
    }

    T* out = gx + (long long)split * s.batch * s.in_channels * s.in_h * s.in_w;
    const int tm = tid / (TN / CONV_MICRO), tn = tid % (TN / CONV_MICRO);
    for (int j = 0; j < CONV_MICRO; ++j) {
        const int p = n0 + tn + j * (TN / CONV_MICRO);
        if (p >= pixels) continue;
        const int pn = p / (rows * cols);
        const int ih = phase_h + p / cols % rows * s.stride_h, iw = phase_w + p % cols * s.stride_w;
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
__device__ void conv2d_backward_weight_tile(const T* __restrict__ x, const T* __restrict__ gy, T* __restrict__ gw,
                                            const ConvShape s) {
    constexpr int THREADS = CONV_THREADS(TM, TN);
    static_assert(TM % (CONV_MICRO * CONV_MICRO) == 0, "THREADS must be a multiple of TN");
    __shared__ T a_tile[TK][TM];  // output gradients, a_tile[pixel][output channel]
    __shared__ T b_tile[TK][TN];  // input patches, b_tile[pixel][(ci, r, s)]

    const int tid = threadIdx.x;
    const int cin_g = s.in_channels / s.groups, cout_g = s.out_channels / s.groups;
    const int taps = s.kernel_h * s.kernel_w;
    const int columns = cin_g * taps;
    const int out_hw = s.out_h * s.out_w;
    const int k_total = s.batch * out_hw;
    const int group = blockIdx.z / s.splits, split = blockIdx.z % s.splits;
    const int m0 = blockIdx.y * TM, n0 = blockIdx.x * TN;
    int k_begin, k_end;
    split_range<TK>(k_total, s.splits, split, k_begin, k_end);

    // Each thread stages one fixed weight position j = (ci, r, s) into b_tile: decode it once.
    const int load_n = tid % TN;
    const int column = n0 + load_n;
    const bool column_valid = column < columns;
    const int ci = column_valid ? column / taps : 0;
    const int tap_h = column_valid ? column % taps / s.kernel_w * s.dilation_h : 0;
    const int tap_w = column_valid ? column % s.kernel_w * s.dilation_w : 0;
    const T* x_channel = x + (long long)(group * cin_g + ci) * s.in_h * s.in_w;
    const T* gy_group = gy + (long long)group * cout_g * out_hw;

    T acc[CONV_MICRO][CONV_MICRO];
    zero<T>(acc);
    for (int k0 = k_begin; k0 < k_end; k0 += TK) {
        // gy rows are contiguous along (oh, ow): consecutive threads read consecutive pixels.
        for (int i = tid; i < TM * TK; i += THREADS) {
            const int mm = i / TK, kk = i % TK, m = m0 + mm, k = k0 + kk;
            T value = T(0);
            if (m < cout_g && k < k_end) {
                const int pn = k / out_hw, p_hw = k % out_hw;
                value = gy_group[((long long)pn * s.out_channels + m) * out_hw + p_hw];
            }
            a_tile[kk][mm] = value;
        }
        for (int kk = tid / TN; kk < TK; kk += THREADS / TN) {
            const int k = k0 + kk;
            T value = T(0);
            if (column_valid && k < k_end) {
                const int pn = k / out_hw, p_hw = k % out_hw;
                const int ih = p_hw / s.out_w * s.stride_h - s.pad_h + tap_h;
                const int iw = p_hw % s.out_w * s.stride_w - s.pad_w + tap_w;
                if (ih >= 0 && ih < s.in_h && iw >= 0 && iw < s.in_w)
                    value = x_channel[((long long)pn * s.in_channels * s.in_h + ih) * s.in_w + iw];
            }
            b_tile[kk][load_n] = value;
        }
        __syncthreads();
        multiply_tiles<T, TM, TN, TK>(a_tile, b_tile, acc);
        __syncthreads();
    }

    T* out = gw + (long long)split * s.out_channels * columns;
    const int tm = tid / (TN / CONV_MICRO), tn = tid % (TN / CONV_MICRO);
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
    extern "C" __global__ void __launch_bounds__(CONV_THREADS(TM, TN))                            \
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
    extern "C" __global__ void __launch_bounds__(CONV_SUM_THREADS)                                             \
        conv2d_sum_splits_##SUFFIX(const T* __restrict__ partial, T* __restrict__ out, int numel, int splits) { \
        conv2d_sum_splits_body<T>(partial, out, numel, splits);                                                \
    }

CONV_KERNELS_FOR(float, f32)
CONV_KERNELS_FOR(double, f64)
