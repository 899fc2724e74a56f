"""`minigan bench`: op timings, and their ratio to PyTorch measured in the same process.

Timings alternate the two engines call by call and report medians, so machine noise hits both
alike; only the ratio is meaningful on a shared machine.
"""
import json
import os
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import backend


@dataclass(frozen=True)
class ConvShape:
    """One DCGAN layer: conv2d or conv_transpose2d, 4x4 stride 2 unless stated."""
    name: str
    transposed: bool
    batch: int
    in_channels: int
    out_channels: int
    size: int
    kernel: int = 4
    stride: int = 2
    padding: int = 1

    def weight_shape(self):
        if self.transposed:
            return (self.in_channels, self.out_channels, self.kernel, self.kernel)
        return (self.out_channels, self.in_channels, self.kernel, self.kernel)

    def flops(self):
        """Multiply-adds x 2 of the forward pass."""
        small = self.size if self.transposed else (self.size + 2 * self.padding - self.kernel) // self.stride + 1
        return 2 * self.batch * self.in_channels * self.out_channels * self.kernel ** 2 * small ** 2


DCGAN_SHAPES = (
    ConvShape("conv 1->64 k4s2 28x28", False, 64, 1, 64, 28),
    ConvShape("conv 64->128 k4s2 14x14", False, 64, 64, 128, 14),
    ConvShape("convT 128->64 k4s2 7x7", True, 64, 128, 64, 7),
    ConvShape("convT 64->1 k4s2 14x14", True, 64, 64, 1, 14),
    ConvShape("conv 3->64 k4s2 64x64", False, 64, 3, 64, 64),
    ConvShape("conv 64->64 k3s1 32x32 b16", False, 16, 64, 64, 32, kernel=3, stride=1),
)


def _median_ms(samples):
    return float(np.median(samples) * 1e3)


def _time_pair(ours, theirs, repeats):
    """Alternate the two callables; medians in ms (theirs is None without torch)."""
    for _ in range(3):  # warm-up: caches, scratch buffers, thread pools
        ours()
        if theirs:
            theirs()
    a, b = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        a.append(time.perf_counter() - start)
        if theirs:
            start = time.perf_counter()
            theirs()
            b.append(time.perf_counter() - start)
    return _median_ms(a), (_median_ms(b) if b else None)


def _minigan_conv(shape, device, backward):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((shape.batch, shape.in_channels, shape.size, shape.size)),
                  dtype=np.float32, device=device, requires_grad=backward)
    w = mg.tensor(rng.standard_normal(shape.weight_shape()) * 0.05, dtype=np.float32, device=device,
                  requires_grad=backward)
    op = F.conv_transpose2d if shape.transposed else F.conv2d

    def run():
        y = op(x, w, stride=shape.stride, padding=shape.padding)
        if backward:
            x.grad = w.grad = None
            y.backward(mg.ones_like(y))
        mg.cuda.synchronize()
    return run


def _torch_conv(torch, shape, backward):
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((shape.batch, shape.in_channels, shape.size, shape.size)),
                     dtype=torch.float32, requires_grad=backward)
    w = torch.tensor(rng.standard_normal(shape.weight_shape()) * 0.05, dtype=torch.float32, requires_grad=backward)
    op = torch.nn.functional.conv_transpose2d if shape.transposed else torch.nn.functional.conv2d

    def run():
        y = op(x, w, stride=shape.stride, padding=shape.padding)
        if backward:
            x.grad = w.grad = None
            y.backward(torch.ones_like(y))
    return run


def _import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
    return torch


def gemm_gflops(size=1024, repeats=5):
    """The machine's float32 GEMM rate through NumPy's BLAS (the ceiling for im2col convs)."""
    a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * size ** 3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def conv_benchmark(device="cpu", compare_torch=True, repeats=10, shapes=DCGAN_SHAPES, progress=None):
    """Rows of forward and forward+backward timings for each DCGAN layer shape."""
    torch = _import_torch() if compare_torch and device == "cpu" else None
    rows = []
    for shape in shapes:
        row = {"layer": shape.name, **asdict(shape)}
        for phase, backward in (("forward", False), ("forward_backward", True)):
            ours = _minigan_conv(shape, device, backward)
            theirs = _torch_conv(torch, shape, backward) if torch else None
            ms, torch_ms = _time_pair(ours, theirs, repeats)
            row[f"{phase}_ms"] = ms
            row[f"{phase}_torch_ms"] = torch_ms
            row[f"{phase}_ratio"] = ms / torch_ms if torch_ms else None
        row["forward_gflops"] = shape.flops() / (row["forward_ms"] * 1e-3) / 1e9
        rows.append(row)
        if progress:
            progress(row)
    return rows


def machine_description():
    return {"machine": platform.machine(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "numpy": np.__version__,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "")}


def format_table(rows):
    def cell(v, fmt="{:.2f}"):
        return "-" if v is None else fmt.format(v)
    header = ("| layer | fwd ms | torch fwd ms | fwd ratio | fwd+bwd ms | torch fwd+bwd ms | fwd+bwd ratio | fwd GFLOP/s |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    lines = [header]
    for r in rows:
        lines.append(f"| {r['layer']} | {cell(r['forward_ms'])} | {cell(r['forward_torch_ms'])} | "
                     f"{cell(r['forward_ratio'])} | {cell(r['forward_backward_ms'])} | "
                     f"{cell(r['forward_backward_torch_ms'])} | {cell(r['forward_backward_ratio'])} | "
                     f"{cell(r['forward_gflops'], '{:.0f}')} |")
    total = sum(r["forward_backward_ms"] for r in rows)
    torch_total = [r["forward_backward_torch_ms"] for r in rows]
    if all(torch_total):
        lines.append(f"\nTotal forward+backward: {total:.1f} ms vs PyTorch {sum(torch_total):.1f} ms "
                     f"(ratio {total / sum(torch_total):.2f})")
    return "\n".join(lines)


def run(device="cpu", compare="torch", json_path=None, repeats=20, quick=False):
    """Print the conv benchmark table; optionally write the rows (and the machine) as JSON."""
    device = backend.check_device(device)
    shapes = DCGAN_SHAPES
    if quick:  # the tests' smoke run: tiny batches
        shapes = tuple(ConvShape(s.name, s.transposed, 2, s.in_channels, s.out_channels, s.size,
                                 s.kernel, s.stride, s.padding) for s in shapes[:2])
        repeats = 2
    if compare == "torch" and _import_torch() is None:
        print("torch is not installed: printing minigan timings only (pip install -e '.[torch]')")
    print(f"float32 conv timings on {device}, median of {repeats}, batch as listed")
    rows = conv_benchmark(device, compare == "torch", repeats, shapes)
    print(format_table(rows))
    gemm = gemm_gflops(256 if quick else 1024)
    print(f"\nNumPy float32 GEMM rate on this machine: {gemm:.0f} GFLOP/s")
    if json_path:
        with open(json_path, "w") as f:
            json.dump({"machine": machine_description(), "gemm_gflops": gemm, "conv": rows}, f, indent=2)
    return rows
