"""`mg.profile()`: where the time goes, per op, forward and backward.

    with mg.profile() as prof:
        loss = model(x).sum(); loss.backward(); opt.step()
    print(prof.table())          # or prof.rows(): the same as dicts

Each row is one op class (or optimizer) in one phase:
- "forward": `Function.forward` run by an op call in user code;
- "backward": a `Function.backward` body run by `backward()` / `mg.grad`;
- "in backward": forwards of the ops a backward body is built from (a backward is made of
  forward ops), kept apart so "forward" counts only the calls the program itself made;
- "optimizer": `Optimizer.step` (row "Adam.step" etc.);
- "BLAS": the matrix products inside ops (one row, "GEMM"), with their rate in GFLOP/s: an op's
  self time is then what it spends around its GEMMs (im2col gathers, layout copies, elementwise).
Regions nest (a backward runs ops, a step's closure runs a model), so every row has a self time
(its own region minus the regions timed inside it) and a total time (the whole region). Self
times never overlap: their sum is at most the profiled wall time. A forward row times
`Function.forward` only; the Python around an op call (argument checks, graph recording) counts to
the backward that made the call, or, at top level, to the gap between the two sums, with the rest
of the program's own Python.

On cuda every region is bracketed by `mg.cuda.synchronize()`, so each op's time includes its
GPU work rather than its launch only; this serialises the GPU and slows the profiled run.
Outside a `profile()` block the only cost is one `is None` check per op call and per backward.
"""
import functools
import math
import time

import numpy as np

try:
    import resource
except ImportError:  # not on Windows: page faults are then reported as 0
    resource = None

from minigan import autograd, blas, cuda

PHASES = ("forward", "backward", "in backward", "optimizer", "BLAS")
GEMM = "GEMM"
SORT_KEYS = {"self": lambda r: -r["self_ms"], "total": lambda r: -r["total_ms"],
             "calls": lambda r: -r["calls"], "name": lambda r: (r["name"], PHASES.index(r["phase"]))}


class profile:
    """Context manager that times every op, backward and optimizer step run inside it.

    Blocks may nest: an inner block's events are seen by the outer one too. The hook is
    removed when the last open block exits, also when the block raises.
    """

    def __init__(self):
        self.stats = {}      # (name, phase) -> [calls, self s, total s, self page faults, flops]
        self.wall_s = None   # set on exit
        self._start = None

    def __enter__(self):
        if autograd._profiler is None:
            autograd._profiler = _Timer()
        autograd._profiler.listeners.append(self)
        cuda.synchronize()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        cuda.synchronize()
        self.wall_s = time.perf_counter() - self._start
        timer = autograd._profiler
        timer.listeners.remove(self)
        if not timer.listeners:
            autograd._profiler = None
        return False

    def _record(self, name, phase, self_s, total_s, self_faults, flops=0):
        entry = self.stats.setdefault((name, phase), [0, 0.0, 0.0, 0, 0])
        entry[0] += 1
        entry[1] += self_s
        entry[2] += total_s
        entry[3] += self_faults
        entry[4] += flops

    # ------------------------------------------------------------------------------- report
    def rows(self, sort="self", top=None):
        """One dict per (op, phase): name, phase, calls, self_ms, total_ms, mean_ms (self time
        per call), percent (self time, of the profiled wall time) and page_faults (minor page
        faults in the region itself: first touches of freshly mapped memory, which cost about a
        microsecond per 4 KiB page and show where large arrays are allocated anew), and for the
        GEMM row gflop (its floating-point operations, 1e9s) and gflops (its rate; None elsewhere)."""
        if sort not in SORT_KEYS:
            raise ValueError(f"profile.rows: sort must be one of {sorted(SORT_KEYS)}, got {sort!r}")
        wall = self._wall()
        rows = [{"name": name, "phase": phase, "calls": calls, "self_ms": 1e3 * self_s,
                 "total_ms": 1e3 * total_s, "mean_ms": 1e3 * self_s / calls,
                 "percent": 100.0 * self_s / wall if wall > 0 else 0.0, "page_faults": faults,
                 "gflop": flops / 1e9 if flops else None,
                 "gflops": flops / self_s / 1e9 if flops and self_s > 0 else None}
                for (name, phase), (calls, self_s, total_s, faults, flops) in self.stats.items()]
        rows.sort(key=SORT_KEYS[sort])
        return rows if top is None else rows[:top]

    def self_ms(self):
        """The sum of every row's self time (all rows, whatever `top` a table shows)."""
        return 1e3 * sum(entry[1] for entry in self.stats.values())

    def wall_ms(self):
        return 1e3 * self._wall()

    def table(self, sort="self", top=None):
        """The rows as a text table, with the wall time and the sum of self times below."""
        rows = self.rows(sort, top)
        width = max([len("op")] + [len(r["name"]) for r in rows])
        lines = [f"{'op':<{width}}  {'phase':<11}  {'calls':>7}  {'self ms':>10}  {'total ms':>10}"
                 f"  {'mean ms':>9}  {'% wall':>6}  {'faults':>7}  {'GFLOP/s':>7}"]
        lines += [f"{r['name']:<{width}}  {r['phase']:<11}  {r['calls']:>7}  {r['self_ms']:>10.2f}"
                  f"  {r['total_ms']:>10.2f}  {r['mean_ms']:>9.4f}  {r['percent']:>6.1f}"
                  f"  {r['page_faults']:>7}  {_rate(r['gflops']):>7}" for r in rows]
        if top is not None and len(self.stats) > top:
            lines.append(f"... {len(self.stats) - top} more rows")
        wall, timed = self.wall_ms(), self.self_ms()
        lines.append(f"wall {wall:.2f} ms; self times sum to {timed:.2f} ms; "
                     f"{wall - timed:.2f} ms outside any op")
        return "\n".join(lines)

    def _wall(self):
        if self.wall_s is not None:
            return self.wall_s
        if self._start is None:
            raise RuntimeError("profile: no results yet; use it as `with mg.profile() as prof:`")
        return time.perf_counter() - self._start  # asked from inside the block: so far


class _Timer:
    """Installed as `autograd._profiler` while at least one profile block is open: times each
    region once and hands the result to every open block."""

    def __init__(self):
        self.listeners = []
        self.nested = []            # per open region, [seconds, page faults] of the regions inside it
        self.backward_depth = 0

    def forward(self, function, arrays):
        phase = "in backward" if self.backward_depth else "forward"
        return self.timed(function.name, phase, function.forward, *arrays)

    def backward(self, function, grad_outputs):
        self.backward_depth += 1
        try:
            return self.timed(function.name, "backward", function.backward, *grad_outputs)
        finally:
            self.backward_depth -= 1

    def gemm(self, call, flops):
        return self.timed(GEMM, "BLAS", call, flops=flops)

    def timed(self, name, phase, call, *args, flops=0, **kwargs):
        cuda.synchronize()  # work queued before the region is not the region's
        faults_before = _page_faults()
        start = time.perf_counter()
        self.nested.append([0.0, 0])
        try:
            result = call(*args, **kwargs)
            cuda.synchronize()
        finally:
            total = time.perf_counter() - start
            faults = _page_faults() - faults_before
            inside_s, inside_faults = self.nested.pop()
            if self.nested:
                self.nested[-1][0] += total
                self.nested[-1][1] += faults
            for listener in self.listeners:
                listener._record(name, phase, total - inside_s, total, faults - inside_faults, flops)
        return result


def matmul(xp, a, b, out=None, accumulate=False):
    """`xp.matmul(a, b)` (into `out` if given; with `accumulate`, `out += a @ b` in one BLAS call,
    see `minigan.blas`): how ops run their GEMMs, so that while a profile block is open the
    products are timed as one "GEMM" row with their rate."""
    a, b = _blas_operand(a), _blas_operand(b)
    if accumulate:
        call = functools.partial(blas.matmul_add, a, b, out)
    elif out is None:
        call = functools.partial(xp.matmul, a, b)
    else:
        call = functools.partial(xp.matmul, a, b, out=out)
    timer = autograd._profiler
    if timer is None:
        return call()
    return timer.gemm(call, 2 * _product_size(a.shape, b.shape) * a.shape[-1])


def _blas_operand(a):
    """a, or a contiguous copy where it is a broadcast (a zero stride along a dim longer than 1,
    e.g. the gradient of a mean): NumPy's matmul sends such operands through its loop without BLAS,
    ~1 GFLOP/s (Linear(6272, 1)'s weight gradient at batch 64: 0.33 ms, 0.03 ms after the copy)."""
    if 0 in a.strides and any(stride == 0 and n > 1 for stride, n in zip(a.strides, a.shape)):
        return a.copy()
    return a


def _product_size(a_shape, b_shape):
    """The number of elements of a @ b (1-D operands promoted as matmul does)."""
    a_shape = a_shape if len(a_shape) > 1 else (1,) + tuple(a_shape)
    b_shape = b_shape if len(b_shape) > 1 else tuple(b_shape) + (1,)
    return math.prod(np.broadcast_shapes(a_shape[:-2], b_shape[:-2])) * a_shape[-2] * b_shape[-1]


def _rate(gflops):
    return "" if gflops is None else f"{gflops:.0f}"


def _page_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def timed_step(step):
    """Decorator for `Optimizer.step`: a row "<Optimizer>.step" while a profile block is open."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        timer = autograd._profiler
        if timer is None:
            return step(self, *args, **kwargs)
        return timer.timed(f"{type(self).__name__}.step", "optimizer", step, self, *args, **kwargs)
    return wrapper
