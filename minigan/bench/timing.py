"""Timing several engines on the same case: in turns, medians of the repeats.

The engines take turns in blocks of calls, a few rounds each, so a burst of machine noise slows
every engine alike and the ratios stay honest on a shared machine even when absolute times move.
Blocks rather than single calls, with a pause and an untimed call before each: a BLAS or OpenMP
thread pool keeps its threads spinning for up to ~0.1 s after a call, and an engine timed inside
that window shares the cores with the other's idle spinners (measured here: PyTorch's conv layers
came out 1.5-3x slower right after a NumPy GEMM, which flattered minigan's ratios).
"""
import time

import numpy as np

SETTLE_S = 0.25   # longer than OpenBLAS's and OpenMP's spin-wait after a call


def time_engines(engines, build, repeats, warmup=2, rounds=3, settle_s=SETTLE_S):
    """{engine.label: median seconds} of `build(engine)()` calls, the engines taking turns.

    `build(engine)` returns the callable to time (built inside the engine's context, so e.g.
    minigan's cuda conv path is fixed for that engine). Warm-up calls fill caches, scratch buffers
    and thread pools before anything is recorded; then `rounds` rounds, in each of which every
    engine in turn settles, makes one untimed call and `repeats / rounds` timed ones.
    """
    calls = {}
    for engine in engines:
        with engine.active():
            calls[engine] = build(engine)
    for _ in range(warmup):
        for engine, fn in calls.items():
            engine.time(fn)
    samples = {engine: [] for engine in engines}
    per_round = [repeats // rounds + (i < repeats % rounds) for i in range(rounds)]
    for count in per_round:
        for engine, fn in calls.items():
            if len(engines) > 1 and settle_s:
                time.sleep(settle_s)
                engine.time(fn)
            samples[engine] += [engine.time(fn) for _ in range(count)]
    return {engine.label: float(np.median(times)) for engine, times in samples.items() if times}


def gemm_gflops(size=1024, repeats=5, device="cpu"):
    """The float32 GEMM rate of the device: NumPy's BLAS on cpu (the ceiling of an im2col conv),
    cuBLAS through CuPy on cuda (plain float32, no TF32: the yardstick for our float32 kernels)."""
    if device == "cuda":
        return _cuda_gemm_gflops(size, repeats)
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def _cuda_gemm_gflops(size, repeats):
    import cupy
    a = cupy.random.standard_normal((size, size), dtype=cupy.float32)
    a @ a
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    best = float("inf")
    for _ in range(repeats):
        start.record()
        a @ a
        stop.record()
        stop.synchronize()
        best = min(best, cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return 2 * size ** 3 / best / 1e9
