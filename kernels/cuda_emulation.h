// cuda_emulation.h: run CUDA kernels from kernels/*.cu on the CPU, so CI can check their logic
// without a GPU. A .cu file includes this header only when it is not compiled by nvcc/NVRTC:
//
//     #if !defined(__CUDACC__) && !defined(__CUDACC_RTC__)
//     #include "cuda_emulation.h"
//     #endif
//
// and is then built with `g++ -std=c++17 -x c++ -pthread -Wno-unknown-pragmas` (g++ does not know
// nvcc's `#pragma unroll`, which is only a hint).
//
// How a launch runs
//   cuda_emulation::launch(grid, block, kernel, args...) starts one std::thread per CUDA thread of
//   a block (blockDim.x * y * z of them). Those threads walk the grid's blocks together, one block
//   after another, so at any moment exactly one block is running and all its threads are live.
//   __syncthreads() is a real barrier across those threads, and every block ends with one more
//   barrier, so no thread starts block b+1 while another still works on block b.
//
// Why `#define __shared__ static`
//   A `__shared__` array declared in a kernel body must be one array per block, seen by all of that
//   block's threads. A function-local `static` is one array per program, seen by every OS thread
//   that runs the function. Since blocks run one at a time and all running threads belong to the
//   same block, "one per program" is exactly "one per running block". (`static thread_local` would
//   be wrong: each CUDA thread would get a private copy and the tile exchange would never happen.)
//   Consequences: launches are serialised by a global mutex (two launches at once would share the
//   arrays), and shared memory is not reset between blocks, as on a GPU where it is uninitialised.
//
// Divergent __syncthreads()
//   On a GPU, a __syncthreads() that some threads of a block skip is undefined behaviour. Here every
//   arrival carries the caller's per-block barrier count; if one barrier phase collects arrivals
//   with different counts (or a block end mixed with a __syncthreads), the launch is marked
//   divergent, the barrier stops blocking (so the launch still finishes) and launch() returns
//   cuda_emulation::kDivergentSync instead of hanging.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

struct int4 {
    int x, y, z, w;
};

namespace cuda_emulation {

constexpr int kOk = 0;
constexpr int kDivergentSync = 1;
constexpr int kBadLaunch = 2;

// A reusable barrier for `count` threads that also checks that all arrivals in a phase agree on
// which barrier they are (their tag), which is how a divergent __syncthreads() is detected.
class CheckedBarrier {
  public:
    explicit CheckedBarrier(int count) : count_(count) {}

    void arrive_and_wait(long tag) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (poisoned_) return;
        if (arrived_ == 0) phase_tag_ = tag;
        else if (tag != phase_tag_) poison_locked();
        if (poisoned_) return;
        if (++arrived_ == count_) {
            arrived_ = 0;
            ++generation_;
            released_.notify_all();
            return;
        }
        const long generation = generation_;
        released_.wait(lock, [&] { return generation_ != generation || poisoned_; });
    }

    bool poisoned() {
        std::lock_guard<std::mutex> lock(mutex_);
        return poisoned_;
    }

  private:
    void poison_locked() {
        poisoned_ = true;
        released_.notify_all();
    }

    std::mutex mutex_;
    std::condition_variable released_;
    const int count_;
    int arrived_ = 0;
    long generation_ = 0;
    long phase_tag_ = 0;
    bool poisoned_ = false;
};

// Per-CUDA-thread state: each OS thread is one CUDA thread, so these are thread_local.
inline thread_local dim3 thread_idx, block_idx, block_dim, grid_dim;
inline thread_local CheckedBarrier* block_barrier = nullptr;
inline thread_local long syncs_in_block = 0;

constexpr long kBlockEndTag = -1;

inline void sync_threads() { block_barrier->arrive_and_wait(syncs_in_block++); }

// Launches are serialised: `__shared__` arrays are function statics (see the top of this file).
inline std::mutex& launch_mutex() {
    static std::mutex mutex;
    return mutex;
}

template <class Kernel, class... Args>
int launch(dim3 grid, dim3 block, Kernel kernel, Args... args) {
    const long threads = static_cast<long>(block.x) * block.y * block.z;
    const long blocks = static_cast<long>(grid.x) * grid.y * grid.z;
    if (threads <= 0 || threads > 1024 || blocks <= 0) return kBadLaunch;
    std::lock_guard<std::mutex> serialise(launch_mutex());
    CheckedBarrier barrier(static_cast<int>(threads));

    auto cuda_thread = [&](long linear_thread) {
        thread_idx = dim3(linear_thread % block.x, (linear_thread / block.x) % block.y,
                          linear_thread / (static_cast<long>(block.x) * block.y));
        block_dim = block;
        grid_dim = grid;
        block_barrier = &barrier;
        for (long b = 0; b < blocks; ++b) {
            block_idx = dim3(b % grid.x, (b / grid.x) % grid.y, b / (static_cast<long>(grid.x) * grid.y));
            syncs_in_block = 0;
            kernel(args...);
            barrier.arrive_and_wait(kBlockEndTag);  // the block is done before its shared memory is reused
        }
    };

    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (long t = 0; t < threads; ++t) pool.emplace_back(cuda_thread, t);
    for (auto& t : pool) t.join();
    if (barrier.poisoned()) {
        std::fprintf(stderr, "cuda_emulation: divergent __syncthreads() in a block\n");
        return kDivergentSync;
    }
    return kOk;
}

}  // namespace cuda_emulation

#define threadIdx (cuda_emulation::thread_idx)
#define blockIdx (cuda_emulation::block_idx)
#define blockDim (cuda_emulation::block_dim)
#define gridDim (cuda_emulation::grid_dim)

inline void __syncthreads() { cuda_emulation::sync_threads(); }
