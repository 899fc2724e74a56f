"""Timing several engines on the same case: call by call in turn, medians of the repeats.

Alternating means a burst of machine noise slows every engine alike, so the ratios stay honest on
a shared machine even when the absolute times move.
"""
import time

import numpy as np


def time_engines(engines, build, repeats, warmup=2):
    """{engine.label: median seconds} of `build(engine)()` calls, the engines taking turns.

    `build(engine)` returns the callable to time (built inside the engine's context, so e.g.
    minigan's cuda conv path is fixed for that engine). Warm-up calls fill caches, scratch buffers
    and thread pools before anything is recorded.
    """
    calls = {}
    for engine in engines:
        with engine.active():
            calls[engine] = build(engine)
    for _ in range(warmup):
        for engine, fn in calls.items():
            engine.time(fn)
    samples = {engine: [] for engine in engines}
    for _ in range(repeats):
        for engine, fn in calls.items():
            samples[engine].append(engine.time(fn))
    return {engine.label: float(np.median(times)) for engine, times in samples.items()}


def gemm_gflops(size=1024, repeats=5):
    """The machine's float32 GEMM rate through NumPy's BLAS: the ceiling of an im2col conv."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9
