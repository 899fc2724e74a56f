// emulation_selftest.cpp: kernels that check cuda_emulation.h itself, for tests/kernels/.
// Build like emulate_conv.cpp: g++ -std=c++17 -shared -fPIC -pthread emulation_selftest.cpp -o lib.so
#include "cuda_emulation.h"

// Per-block sum by a shared-memory tree: right only if __shared__ is one array per block, seen by
// all its threads, and __syncthreads() really waits for all of them.
__global__ void block_sums(const double* values, double* sums, int n) {
    __shared__ double partial[64];
    const int t = threadIdx.x;
    const int i = blockIdx.x * blockDim.x + t;
    partial[t] = i < n ? values[i] : 0.0;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
        if (t < stride) partial[t] += partial[t + stride];
        __syncthreads();
    }
    if (t == 0) sums[blockIdx.x] = partial[0];
}

// Thread 0 skips the barrier the others wait at: undefined on a GPU, reported by the emulator.
__global__ void divergent_sync(int* out) {
    if (threadIdx.x != 0) __syncthreads();
    out[threadIdx.x] = 1;
}

// Each thread writes its (threadIdx, blockIdx) coordinates: checks index decoding in 3-D launches.
__global__ void coordinates(int* out) {
    const int block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
    const int thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
    const int threads = blockDim.x * blockDim.y * blockDim.z;
    int* slot = out + 6 * (block * threads + thread);
    slot[0] = threadIdx.x; slot[1] = threadIdx.y; slot[2] = threadIdx.z;
    slot[3] = blockIdx.x; slot[4] = blockIdx.y; slot[5] = blockIdx.z;
}

extern "C" int selftest_block_sums(const double* values, double* sums, int n, unsigned blocks, unsigned threads) {
    return cuda_emulation::launch(dim3(blocks), dim3(threads), block_sums, values, sums, n);
}

extern "C" int selftest_divergent_sync(int* out, unsigned threads) {
    return cuda_emulation::launch(dim3(1), dim3(threads), divergent_sync, out);
}

extern "C" int selftest_coordinates(int* out, const unsigned* grid, const unsigned* block) {
    return cuda_emulation::launch(dim3(grid[0], grid[1], grid[2]), dim3(block[0], block[1], block[2]),
                                  coordinates, out);
}
