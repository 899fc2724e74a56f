// emulate_conv.cpp: the kernels of conv2d.cu, run on the CPU by cuda_emulation.h, behind a tiny
// C ABI for Python's ctypes (tests/kernels/). Build (the test does this into a temp dir):
//
//     g++ -std=c++17 -O1 -shared -fPIC -pthread kernels/emulate_conv.cpp -o libemulate_conv.so
//         [-DCONV_WIDE_TM=32 -DCONV_WIDE_TN=8 ...]   (smaller tiles: fewer OS threads per block)
//
// Every entry point takes the launch as {grid.x, grid.y, grid.z, block.x} and returns
// cuda_emulation's status (0 ok, 1 divergent __syncthreads, 2 bad launch).
#include "cuda_emulation.h"
#include "conv2d.cu"

namespace {

// shape: the 17 ints of ConvShape, in its field order.
template <typename T, class Kernel>
int run_conv(Kernel kernel, const unsigned* launch, const T* in0, const T* in1, T* out, const int* shape) {
    const int* s = shape;
    return cuda_emulation::launch(dim3(launch[0], launch[1], launch[2]), dim3(launch[3]), kernel, in0, in1, out,
                                  s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12],
                                  s[13], s[14], s[15], s[16]);
}

}  // namespace

#define EXPORT_CONV(NAME, T)                                                                        \
    extern "C" int emulate_##NAME(const unsigned* launch, const T* in0, const T* in1, T* out,      \
                                  const int* shape) {                                               \
        return run_conv<T>(NAME, launch, in0, in1, out, shape);                                     \
    }

#define EXPORT_ALL(SUFFIX, T)                                                                          \
    EXPORT_CONV(conv2d_forward_##SUFFIX, T)                                                            \
    EXPORT_CONV(conv2d_forward_narrow_##SUFFIX, T)                                                     \
    EXPORT_CONV(conv2d_backward_data_##SUFFIX, T)                                                      \
    EXPORT_CONV(conv2d_backward_data_narrow_##SUFFIX, T)                                               \
    EXPORT_CONV(conv2d_backward_weight_##SUFFIX, T)                                                    \
    EXPORT_CONV(conv2d_backward_weight_narrow_##SUFFIX, T)                                             \
    EXPORT_CONV(conv2d_forward_skinny_##SUFFIX, T)                                                     \
    EXPORT_CONV(conv2d_backward_data_skinny_##SUFFIX, T)                                               \
    EXPORT_CONV(conv2d_backward_weight_skinny_##SUFFIX, T)                                             \
    extern "C" int emulate_conv2d_sum_splits_##SUFFIX(const unsigned* launch, const T* partial, T* out, \
                                                      int numel, int splits) {                        \
        return cuda_emulation::launch(dim3(launch[0], launch[1], launch[2]), dim3(launch[3]),           \
                                      conv2d_sum_splits_##SUFFIX, partial, out, numel, splits);         \
    }

EXPORT_ALL(f32, float)
EXPORT_ALL(f64, double)

// The tile shapes this build was compiled with: wide, narrow and skinny TM, TN, TK, then sum threads.
extern "C" void emulate_tile_sizes(int* out) {
    const int sizes[10] = {CONV_WIDE_TM,   CONV_WIDE_TN,   CONV_WIDE_TK,   CONV_NARROW_TM, CONV_NARROW_TN,
                           CONV_NARROW_TK, CONV_SKINNY_TM, CONV_SKINNY_TN, CONV_SKINNY_TK, CONV_SUM_THREADS};
    for (int i = 0; i < 10; ++i) out[i] = sizes[i];
}
