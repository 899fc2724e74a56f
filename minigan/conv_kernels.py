"""Our CUDA convolution kernels (`kernels/conv2d.cu`): where the source is, compiling it once per
process and device, and launching it on CuPy arrays.

    y  = conv2d_forward(x, weight, stride, padding, dilation, groups)              # (N, C_out, OH, OW)
    gx = conv2d_backward_data(gy, weight, x.shape, stride, padding, dilation, groups)  # (N, C_in, H, W)
    gw = conv2d_backward_weight(x, gy, weight.shape, stride, padding, dilation, groups)

Backward-data is also conv_transpose2d's forward. `use_kernels()` says whether conv on cuda should
come here ($MINIGAN_CONV=kernels, the default) or take the generic im2col + cuBLAS path
($MINIGAN_CONV=im2col). CuPy is imported only when a kernel is launched, so this module imports
on machines without it. The launch plans (`plan_*`) are plain Python, shared with the CPU
emulation tests, which run the same plans through the same kernels compiled with g++.
"""
import contextlib
import functools
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

SOURCE_NAME = "conv2d.cu"
# An installed wheel carries the sources as package data (minigan/kernels/); a source checkout
# has them at the top level (<repo>/kernels/).
SOURCE_DIRS = (Path(__file__).resolve().parent / "kernels",
               Path(__file__).resolve().parent.parent / "kernels")

# Tile shapes (TM, TN, TK) compiled into conv2d.cu (CONV_WIDE_* / CONV_NARROW_*), and the block
# size of the split-K sum. A block has TM * TN / MICRO**2 threads, each computing MICRO x MICRO outputs.
TILES = {"wide": (64, 64, 16), "narrow": (16, 256, 16), "skinny": (4, 512, 8)}
MICRO = 4
SUM_THREADS = 256
# Split K until a launch has about this many blocks (two waves on a 132-SM H100). A constant, not
# the device's SM count, so a given shape is always summed in the same order on every GPU.
TARGET_BLOCKS = 256
MIN_CHUNKS_PER_SPLIT = 4  # each split runs at least this many TK chunks
MAX_SPLITS = 256  # the workspace stays small: splits only happen when the output has few tiles
INDEX_LIMIT = 2 ** 31  # the kernels index with 32-bit ints

MODES = ("kernels", "im2col")


_override = None  # set by `implementation(mode)`, which wins over $MINIGAN_CONV


def use_kernels():
    """True when conv on cuda should use our kernels: $MINIGAN_CONV is "kernels" (default) or "im2col"."""
    if _override is not None:
        return _override == "kernels"
    mode = os.environ.get("MINIGAN_CONV", "").strip().lower() or "kernels"
    if mode not in MODES:
        raise ValueError(f"MINIGAN_CONV={os.environ['MINIGAN_CONV']!r} is not a conv implementation: "
                         f"expected one of {MODES}")
    return mode == "kernels"


@contextlib.contextmanager
def implementation(mode):
    """`with implementation("im2col"):` — the conv path on cuda inside the block (e.g. to compare the two)."""
    global _override
    if mode not in MODES:
        raise ValueError(f"conv implementation {mode!r} is not one of {MODES}")
    previous, _override = _override, mode
    try:
        yield
    finally:
        _override = previous


def source_dir():
    """The folder holding conv2d.cu: the package copy of a wheel, else a checkout's kernels/."""
    for folder in SOURCE_DIRS:
        if (folder / SOURCE_NAME).is_file():
            return folder
    raise FileNotFoundError(f"conv kernels: {SOURCE_NAME} not found in any of "
                            f"{[str(d) for d in SOURCE_DIRS]}; reinstall minigan or set MINIGAN_CONV=im2col")


@functools.lru_cache(maxsize=None)
def source():
    return (source_dir() / SOURCE_NAME).read_text()


# ------------------------------------------------------------------------------ shapes and plans
def _pair(value, name):
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(f"conv kernels: {name} must be an int or a pair of ints, got {value!r}")
    return int(pair[0]), int(pair[1])


class ConvShape(NamedTuple):
    """The geometry of one convolution, in the field order of `ConvShape` in conv2d.cu."""
    batch: int
    in_channels: int
    in_h: int
    in_w: int
    out_channels: int
    out_h: int
    out_w: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    dilation_h: int
    dilation_w: int
    groups: int

    @classmethod
    def of(cls, x_shape, weight_shape, stride=1, padding=0, dilation=1, groups=1):
        """From an input shape (N, C_in, H, W) and a weight shape (C_out, C_in / groups, KH, KW)."""
        # The kernels trust these numbers with raw pointers: refuse any that would read out of bounds.
        if len(x_shape) != 4 or len(weight_shape) != 4:
            raise ValueError(f"conv kernels: input {tuple(x_shape)} and weight {tuple(weight_shape)} must both be 4-D")
        batch, in_channels, in_h, in_w = (int(v) for v in x_shape)
        out_channels, group_channels, kernel_h, kernel_w = (int(v) for v in weight_shape)
        groups = int(groups)
        if groups < 1 or out_channels % groups or in_channels != group_channels * groups:
            raise ValueError(f"conv kernels: input has {in_channels} channels but weight {tuple(weight_shape)} "
                             f"with groups={groups} expects {group_channels * groups}")
        (stride_h, stride_w), (pad_h, pad_w) = _pair(stride, "stride"), _pair(padding, "padding")
        dilation_h, dilation_w = _pair(dilation, "dilation")
        if min(stride_h, stride_w, dilation_h, dilation_w, kernel_h, kernel_w) < 1 or min(pad_h, pad_w) < 0:
            raise ValueError(f"conv kernels: stride {(stride_h, stride_w)}, dilation {(dilation_h, dilation_w)} "
                             f"and kernel {(kernel_h, kernel_w)} must be positive, padding {(pad_h, pad_w)} >= 0")
        out_h = (in_h + 2 * pad_h - dilation_h * (kernel_h - 1) - 1) // stride_h + 1
        out_w = (in_w + 2 * pad_w - dilation_w * (kernel_w - 1) - 1) // stride_w + 1
        if out_h <= 0 or out_w <= 0:
            raise ValueError(f"conv kernels: input {tuple(x_shape)} with weight {tuple(weight_shape)}, padding "
                             f"{(pad_h, pad_w)} and dilation {(dilation_h, dilation_w)} gives no output pixels")
        return cls(batch, in_channels, in_h, in_w, out_channels, out_h, out_w, kernel_h, kernel_w,
                   stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups)

    @property
    def x_shape(self):
        return (self.batch, self.in_channels, self.in_h, self.in_w)

    @property
    def y_shape(self):
        return (self.batch, self.out_channels, self.out_h, self.out_w)

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels // self.groups, self.kernel_h, self.kernel_w)


class Launch(NamedTuple):
    """One kernel launch: base name (no dtype suffix), grid, block, and the K splits it sums."""
    kernel: str
    grid: tuple
    block: tuple
    splits: int


def choose_splits(blocks, k_total, tile_k):
    """How many K slices to give a launch of `blocks` tiles: enough to reach about TARGET_BLOCKS,
    each slice at least MIN_CHUNKS_PER_SPLIT chunks deep."""
    if blocks >= TARGET_BLOCKS:
        return 1
    by_blocks = -(-TARGET_BLOCKS // blocks)
    by_depth = max(1, k_total // (MIN_CHUNKS_PER_SPLIT * tile_k))
    return max(1, min(by_blocks, by_depth, MAX_SPLITS))


def _plan(name, rows, columns, k_total, z_per_split):
    """Tiles over a (rows x columns) product with a K-deep reduction, z_per_split blocks deep
    (groups, stride phases); the shortest tile that holds the rows, so few rows leave no tile mostly idle."""
    variant = tile_for_rows(rows)
    tile_m, tile_n, tile_k = TILES[variant]
    grid_x, grid_y = -(-columns // tile_n), -(-rows // tile_m)
    splits = choose_splits(grid_x * grid_y * z_per_split, k_total, tile_k)
    kernel = name if variant == "wide" else f"{name}_{variant}"
    return Launch(kernel, (grid_x, grid_y, z_per_split * splits), (tile_m * tile_n // MICRO ** 2, 1, 1), splits)


def tile_for_rows(rows):
    """"skinny" for at most 4 rows, "narrow" for at most 16, else "wide"."""
    for variant in ("skinny", "narrow"):
        if rows <= TILES[variant][0]:
            return variant
    return "wide"


def plan_forward(shape):
    """y per group = w (C_out/g x K) @ patches (K x N*OH*OW), K = C_in/g * KH * KW."""
    s = shape
    return _plan("conv2d_forward", s.out_channels // s.groups, s.batch * s.out_h * s.out_w,
                 s.in_channels // s.groups * s.kernel_h * s.kernel_w, s.groups)


def plan_backward_data(shape):
    """gx per group and stride phase: w^T (C_in/g x K) @ gy taps (K x N*ceil(H/sh)*ceil(W/sw)),
    K = C_out/g * (taps of the kernel that reach the phase)."""
    s = shape
    phase_pixels = s.batch * -(-s.in_h // s.stride_h) * -(-s.in_w // s.stride_w)
    taps_h = -(-s.kernel_h // (s.stride_h // math.gcd(s.stride_h, s.dilation_h)))
    taps_w = -(-s.kernel_w // (s.stride_w // math.gcd(s.stride_w, s.dilation_w)))
    return _plan("conv2d_backward_data", s.in_channels // s.groups, phase_pixels,
                 s.out_channels // s.groups * taps_h * taps_w, s.groups * s.stride_h * s.stride_w)


def plan_backward_weight(shape):
    """gw per group = gy (C_out/g x K) @ patches^T (K x C_in/g*KH*KW), K = N * OH * OW."""
    s = shape
    return _plan("conv2d_backward_weight", s.out_channels // s.groups,
                 s.in_channels // s.groups * s.kernel_h * s.kernel_w, s.batch * s.out_h * s.out_w,
                 s.groups)


def sum_launch(numel, splits):
    """The launch that adds a (splits, numel) workspace into the result, one thread an element."""
    return Launch("conv2d_sum_splits", (-(-numel // SUM_THREADS), 1, 1), (SUM_THREADS, 1, 1), splits)


def dtype_suffix(*arrays):
    """"f32" or "f64": the kernels' name suffix for the arrays' common dtype."""
    dtypes = {np.dtype(a.dtype) for a in arrays}
    if len(dtypes) != 1:
        raise TypeError(f"conv kernels: arrays must share one dtype, got {sorted(str(d) for d in dtypes)}")
    dtype = dtypes.pop()
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"conv kernels: dtype {dtype} is not supported (float32 or float64)")
    return "f32" if dtype == np.float32 else "f64"


def check_limits(shape, result_shape, launch):
    """Refuse problems past the kernels' 32-bit indices or CUDA's grid limits (y, z < 65536)."""
    largest = max(math.prod(shape.x_shape), math.prod(shape.y_shape), launch.splits * math.prod(result_shape))
    if largest >= INDEX_LIMIT:
        raise ValueError(f"conv kernels: an array of {largest} elements is too large for 32-bit indexing "
                         f"(input {shape.x_shape}, output {shape.y_shape}); set MINIGAN_CONV=im2col")
    if launch.grid[0] >= INDEX_LIMIT or max(launch.grid[1:]) > 65535:
        raise ValueError(f"conv kernels: {launch.kernel} would need a grid of {launch.grid} blocks "
                         f"(input {shape.x_shape}, groups {shape.groups}); set MINIGAN_CONV=im2col")


# ------------------------------------------------------------------------------- CuPy launching
def _cupy():
    import cupy  # lazily: this module must import without CuPy
    return cupy


@functools.lru_cache(maxsize=None)
def _module(device_id):
    """The compiled RawModule of conv2d.cu for one device (NVRTC; CuPy also caches it on disk)."""
    cupy = _cupy()
    with cupy.cuda.Device(device_id):
        return cupy.RawModule(code=source())


@functools.lru_cache(maxsize=None)
def _function(device_id, name):
    with _cupy().cuda.Device(device_id):
        return _module(device_id).get_function(name)


def _run(launch, suffix, in0, in1, result, shape):
    """Launch a conv kernel into `result`, through a (splits, ...) workspace when K is split."""
    cupy = _cupy()
    check_limits(shape, result.shape, launch)
    device_id = result.device.id
    out = result if launch.splits == 1 else cupy.empty((launch.splits,) + result.shape, result.dtype)
    args = (in0, in1, out) + tuple(np.int32(v) for v in shape) + (np.int32(launch.splits),)
    _function(device_id, f"{launch.kernel}_{suffix}")(launch.grid, launch.block, args)
    if launch.splits > 1:
        total = sum_launch(result.size, launch.splits)
        _function(device_id, f"{total.kernel}_{suffix}")(
            total.grid, total.block, (out, result, np.int32(result.size), np.int32(launch.splits)))
    return result


def _prepare(*arrays):
    cupy = _cupy()
    return tuple(cupy.ascontiguousarray(a) for a in arrays)


def _check_output_gradient(op, gy, x_shape, weight_shape, shape):
    """The backward kernels read gy as conv2d's full output for this input and weight."""
    if tuple(gy.shape) != shape.y_shape:
        raise ValueError(f"{op}: gy has shape {tuple(gy.shape)} but input {tuple(x_shape)} "
                         f"and weight {tuple(weight_shape)} give outputs of shape {shape.y_shape}")


def conv2d_forward(x, weight, stride=1, padding=0, dilation=1, groups=1):
    """conv2d of CuPy arrays x (N, C_in, H, W) and weight (C_out, C_in/groups, KH, KW) -> (N, C_out, OH, OW)."""
    cupy = _cupy()
    suffix = dtype_suffix(x, weight)
    shape = ConvShape.of(x.shape, weight.shape, stride, padding, dilation, groups)
    with x.device:
        x, weight = _prepare(x, weight)
        y = cupy.empty(shape.y_shape, x.dtype)
        if y.size == 0:
            return y
        return _run(plan_forward(shape), suffix, x, weight, y, shape)


def conv2d_backward_data(gy, weight, x_shape, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of conv2d w.r.t. its input (and conv_transpose2d's forward): gy (N, C_out, OH, OW) ->
    (N, C_in, H, W) = x_shape. H and W pick among the input sizes that give OH x OW (output_padding)."""
    cupy = _cupy()
    suffix = dtype_suffix(gy, weight)
    shape = ConvShape.of(x_shape, weight.shape, stride, padding, dilation, groups)
    _check_output_gradient("conv2d_backward_data", gy, x_shape, weight.shape, shape)
    with gy.device:
        gy, weight = _prepare(gy, weight)
        gx = cupy.empty(shape.x_shape, gy.dtype)
        if gx.size == 0:
            return gx
        return _run(plan_backward_data(shape), suffix, gy, weight, gx, shape)


def conv2d_backward_weight(x, gy, weight_shape, stride=1, padding=0, dilation=1, groups=1):
    """Gradient of conv2d w.r.t. its weight: x (N, C_in, H, W), gy (N, C_out, OH, OW) -> weight_shape."""
    cupy = _cupy()
    suffix = dtype_suffix(x, gy)
    shape = ConvShape.of(x.shape, weight_shape, stride, padding, dilation, groups)
    _check_output_gradient("conv2d_backward_weight", gy, x.shape, weight_shape, shape)
    with x.device:
        x, gy = _prepare(x, gy)
        gw = cupy.empty(shape.weight_shape, x.dtype)
        if gw.size == 0:
            return gw
        return _run(plan_backward_weight(shape), suffix, x, gy, gw, shape)
