"""The array math of 2-D convolution (NumPy or CuPy arrays in, arrays out; no autograd).

All three functions are one linear relation between an input x (N, C, H, W), a weight
(O, C/groups, kh, kw) and an output y (N, O, Ho, Wo):

    conv2d_forward_array           y  from x and w    (Conv2d's forward)
    conv2d_backward_data_array     x  from y and w    (ConvTranspose2d's forward, Conv2d's x-gradient)
    conv2d_backward_weight_array   w  from x and y    (Conv2dGradWeight's forward, the w-gradient)

Each is built on GEMMs (batched over groups) against an im2col matrix of shape
(groups, N * Ho * Wo, kh * kw * C/groups). Inside, images are handled channels-last
(N, H, W, C): a window's kw * C entries then lie side by side in memory, so building the columns
copies long contiguous runs. Results are mostly NCHW *views* of channels-last buffers (no copy),
and inputs stored that way (any earlier conv's output) need no transposing. The strided x-gradient
is one GEMM to columns added back into gx tap by tap, or, where gx has more channels than gy,
stride x stride sub-pixel phases of gx, each a small conv of gy with a slice of the kernel.
On the CPU, convs whose kernel is 2 or 3 times their stride (DCGAN's k4 s2, k3 stride 1), with many
channels and tiles, go to Winograd's F(4x4, 2x2) / F(4x4, 3x3) instead (`minigan.ops.winograd`:
0.4-0.25 times the GEMM work).
On cuda, each function hands over to our CUDA kernels (`minigan.conv_kernels`) unless
MINIGAN_CONV=im2col.
"""
from typing import NamedTuple

import numpy as np

from minigan import backend, conv_kernels, profiler
from minigan.ops import recycle, winograd
from minigan.ops.reduce import channel_broadcast
from minigan.ops.scratch import copy_channels_last, scratch, zero_border, zero_bordered


def _buffer(xp, purpose, shape, dtype, keep):
    """Room for x as gathered for a GEMM: scratch (consumed at once), or with `keep` an array of its
    own (recycled), held for the weight gradient."""
    return recycle.empty_on(xp, shape, dtype) if keep else scratch(xp, purpose, shape, dtype)


def _channels_last(x, padding, keep=False):
    """x (N, C, H, W) as a channels-last (N, H + 2ph, W + 2pw, C) array: a view when unpadded,
    else a scratch buffer (only read by the copy or GEMMs that follow), or with `keep` an array of
    its own."""
    x = x.transpose(0, 2, 3, 1)
    if padding == (0, 0):
        return x
    xp = backend.get_array_module(x)
    n, h, w, c = x.shape
    ph, pw = padding
    shape = (n, h + 2 * ph, w + 2 * pw, c)
    interior = ((ph, h), (pw, w))
    if keep:
        padded = _buffer(xp, "padded", shape, x.dtype, keep)
        zero_border(padded, interior)
    else:
        padded = zero_bordered(xp, "padded", shape, x.dtype, interior)
    copy_channels_last(padded[:, ph:ph + h, pw:pw + w], x)
    return padded


def _columns(x, kernel, stride, padding, dilation, groups, out_hw, keep=False):
    """The im2col matrix of x, (groups, N * Ho * Wo, kh * kw * C/groups): the one copy of x's windows.
    In scratch, or with `keep` in an array of its own (for a later weight gradient)."""
    xp = backend.get_array_module(x)
    x = _channels_last(x, padding)
    n, c = x.shape[0], x.shape[3]
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = kernel, stride, dilation, out_hw
    s_n, s_h, s_w, s_c = x.strides
    window_shape = (groups, n, ho, wo, kh, kw, c // groups)
    windows = xp.lib.stride_tricks.as_strided(
        x, window_shape, (s_c * (c // groups), s_n, s_h * sh, s_w * sw, s_h * dh, s_w * dw, s_c))
    if xp is np and kw * (c // groups) <= TAP_MAJOR_MAX_RUN < wo:
        return _tap_major(windows, keep)
    columns = _buffer(xp, "columns", window_shape, x.dtype, keep)
    columns[...] = windows
    return columns.reshape(groups, n * ho * wo, kh * kw * (c // groups))


TAP_MAJOR_MAX_RUN = 4   # window rows this short (kw * C/groups values) are gathered tap-major


def _tap_major(windows, keep):
    """The im2col matrix of narrow windows, stored tap-major: the copy then runs along output rows
    (Wo values) instead of along a window's row (kw * C/groups values). DCGAN's 1-channel conv
    1->64 k4 s2 at 28x28 b64, fwd+bwd: 1.20 -> 1.07 ms. The GEMMs take the transposed view as it
    is; for 3 channels (12-value rows) its GEMM was the slower one: 15.9 -> 19.0 ms at 64x64 b64."""
    groups, n, ho, wo, kh, kw, c_g = windows.shape
    columns = _buffer(np, "columns", (groups, kh, kw, c_g, n, ho, wo), windows.dtype, keep)
    columns[...] = windows.transpose(0, 4, 5, 6, 1, 2, 3)
    return columns.reshape(groups, kh * kw * c_g, n * ho * wo).transpose(0, 2, 1)


def _pixels_by_group(y, groups):
    """(N, O, H, W) -> (groups, N*H*W, O/groups) view; free when y is stored channels-last."""
    n, o, h, w = y.shape
    return y.transpose(0, 2, 3, 1).reshape(n * h * w, groups, o // groups).transpose(1, 0, 2)


def _taps_last(w, groups):
    """weight (O, C/g, kh, kw) -> (groups, O/groups, kh * kw * C/groups), matching the columns."""
    o = w.shape[0]
    return w.transpose(0, 2, 3, 1).reshape(groups, o // groups, -1)


def conv2d_forward_array(x, w, stride, padding, dilation, groups, bias=None):
    """y[n, o] = sum over c, i, j of w[o, c, i, j] * x_padded[n, c, sh*h + dh*i, sw*w + dw*j]
    (+ bias[o])."""
    return _forward(x, w, stride, padding, dilation, groups, False, bias)[0]


def conv2d_forward_and_columns(x, w, stride, padding, dilation, groups, bias=None):
    """(y, columns): conv2d's output and x as the forward gathered it, kept for the weight gradient
    (`conv2d_backward_weight_array(..., columns=)` then skips gathering x again): the im2col matrix,
    or for shifted-GEMM convs (`_by_shifts`) the padded channels-last image. None where there is
    none (our CUDA kernels) or an im2col matrix would exceed KEPT_COLUMNS_MAX_BYTES (it is
    k^2 / stride^2 times the size of x)."""
    return _forward(x, w, stride, padding, dilation, groups, True, bias)


KEPT_COLUMNS_MAX_BYTES = 32 << 20   # dcgan-28's conv 64->128 keeps 12.8 MB per forward


def _with_bias(y, bias):
    """y (N, C, ...) plus a per-channel bias (or None), in place."""
    if bias is not None:
        y += channel_broadcast(bias, y)
    return y


def _forward(x, w, stride, padding, dilation, groups, keep_columns, bias):
    if backend.device_of(x) == "cuda" and conv_kernels.use_kernels():
        return _with_bias(conv_kernels.conv2d_forward(x, w, stride, padding, dilation, groups), bias), None
    xp = backend.get_array_module(x)
    n, o = x.shape[0], w.shape[0]
    out_hw = conv2d_output_size(x.shape[2:], w.shape[2:], stride, padding, dilation)
    if xp is np and winograd.applies(x.shape, w.shape, stride, padding, dilation, groups):
        kept_bytes = winograd.transformed_nbytes(x.shape, w.shape, stride, out_hw, x.itemsize)
        keep = keep_columns and kept_bytes <= KEPT_COLUMNS_MAX_BYTES
        return winograd.conv2d(x, w, stride, padding, out_hw, keep, bias)    # adds the bias on the way
    if _by_shifts(x.shape, w.shape, stride, padding, groups, out_hw):
        y, image = _forward_by_shifts(x, w, padding, dilation, out_hw, keep_columns)
        return _with_bias(y, bias), image
    keep = keep_columns and n * out_hw[0] * out_hw[1] * w[0].size * x.itemsize <= KEPT_COLUMNS_MAX_BYTES
    cols = _columns(x, w.shape[2:], stride, padding, dilation, groups, out_hw, keep)
    y = recycle.empty_on(xp, cols.shape[:2] + (o // groups,), cols.dtype)   # (groups, N*Ho*Wo, O/groups)
    profiler.matmul(xp, cols, _taps_last(w, groups).transpose(0, 2, 1), out=y)
    if groups > 1:
        y = y.transpose(1, 0, 2)
    return _with_bias(y.reshape(n, *out_hw, o).transpose(0, 3, 1, 2), bias), cols if keep else None


# ------------------------------------------------------------------ stride 1: shifted GEMMs
SHIFT_MIN_CHANNELS = 16     # each tap's GEMM is C deep; below this the BLAS runs it slowly
SHIFT_MAX_EXTRA_WORK = 24   # (padded pixels / output pixels - 1) * output channels, see _by_shifts


def _by_shifts(x_shape, w_shape, stride, padding, groups, out_hw):
    """Whether a conv runs as shifted GEMMs over its padded image rather than on an im2col matrix:
    stride 1, one group, enough channels, and extra GEMM work cheaper than the copy it saves.
    Shifts multiply the GEMM work by padded / output pixels; im2col adds a copy of k^2 C floats per
    output pixel, worth ~30 / O of the GEMM's 2 k^2 C O flops at this machine's GEMM rate and memory
    bandwidth (~200 GFLOP/s, ~12 GB/s). Measured (fwd+bwd, 2 cores): 64->64 k3 32x32 b16 34.8 -> 27.8 ms
    (extra work 8); 256->256 k3 16x16 b4 19.0 -> 22.6 ms (extra work 68: stays on im2col)."""
    if stride != (1, 1) or groups != 1 or x_shape[1] < SHIFT_MIN_CHANNELS or 0 in out_hw:
        return False
    padded = (x_shape[2] + 2 * padding[0]) * (x_shape[3] + 2 * padding[1])
    return (padded / (out_hw[0] * out_hw[1]) - 1) * w_shape[0] <= SHIFT_MAX_EXTRA_WORK


def _padded_image(x, padding, keep):
    """x padded, channels-last and C-contiguous (N, Hp, Wp, C): in scratch, or with `keep` an array
    of its own (or x itself, unpadded and stored channels-last)."""
    xp = backend.get_array_module(x)
    image = _channels_last(x, padding, keep)
    if not image.flags.c_contiguous:
        copy = _buffer(xp, "padded", image.shape, image.dtype, keep)
        copy[...] = image
        image = copy
    return image


def _shifted_rows(image, kernel, dilation):
    """The padded image as one (N*Hp*Wp, C) matrix, {(i, j): the row tap (i, j) reads for output
    pixel 0}, and how many rows each tap's GEMM covers (every grid pixel some tap reaches)."""
    flat = image.reshape(-1, image.shape[3])
    offsets = {(i, j): i * dilation[0] * image.shape[2] + j * dilation[1]
               for i in range(kernel[0]) for j in range(kernel[1])}
    return flat, offsets, flat.shape[0] - max(offsets.values())


def _forward_by_shifts(x, w, padding, dilation, out_hw, keep):
    """Stride 1: y = sum over taps (i, j) of x_padded shifted by (i dh, j dw) times w[:, :, i, j].
    The padded image read as one (N*Hp*Wp, C) matrix is, from row i dh Wp + j dw on, that shifted
    image; each tap is then one GEMM of that row range into a (N*Hp*Wp, O) grid, added in place
    (`minigan.blas`). The grid's pixels with h < Ho, w < Wo are y; the others read across an image's
    edge and are dropped. No im2col copy, for (Hp Wp) / (Ho Wo) times the GEMM work.
    Returns (y, the padded image if kept, for the weight gradient)."""
    xp = backend.get_array_module(x)
    image = _padded_image(x, padding, keep)
    n, hp, wp, c = image.shape
    flat, offsets, rows = _shifted_rows(image, w.shape[2:], dilation)
    taps = xp.ascontiguousarray(w.transpose(2, 3, 1, 0))      # (kh, kw, C, O)
    grid = recycle.empty_on(xp, (n * hp * wp, w.shape[0]), x.dtype)
    grid[rows:] = 0                                           # pixels no tap reaches (all dropped)
    for k, ((i, j), offset) in enumerate(offsets.items()):
        profiler.matmul(xp, flat[offset:offset + rows], taps[i, j], out=grid[:rows], accumulate=k > 0)
    y = grid.reshape(n, hp, wp, -1)[:, :out_hw[0], :out_hw[1]].transpose(0, 3, 1, 2)
    return y, image if keep else None


def _backward_weight_by_shifts(x, gy, w_shape, padding, dilation, image):
    """gw[:, :, i, j] = (x_padded shifted by tap (i, j))^T gy, over the same row ranges as the forward,
    with gy laid into a zeroed (N, Hp, Wp, O) grid so the dropped pixels add nothing."""
    xp = backend.get_array_module(gy)
    image = _padded_image(x, padding, keep=False) if image is None else image
    n, hp, wp, c = image.shape
    o, ho, wo = gy.shape[1:]
    flat, offsets, rows = _shifted_rows(image, w_shape[2:], dilation)
    grid = scratch(xp, "shift_gy", (n, hp, wp, o), gy.dtype)
    grid[:, ho:] = 0
    grid[:, :ho, wo:] = 0
    grid[:, :ho, :wo] = gy.transpose(0, 2, 3, 1)
    gy_rows = grid.reshape(-1, o)[:rows]
    gw = xp.empty(w_shape[2:] + (c, o), dtype=gy.dtype)      # (kh, kw, C, O)
    for (i, j), offset in offsets.items():
        profiler.matmul(xp, flat[offset:offset + rows].T, gy_rows, out=gw[i, j])
    return xp.ascontiguousarray(gw.transpose(3, 2, 0, 1))


def conv2d_backward_data_array(gy, w, x_shape, stride, padding, dilation, groups, bias=None):
    """The adjoint of conv2d in x. gy has conv2d's output shape for an input of x_shape (as in
    the other two functions). Picked by which copies the longest contiguous runs: stride 1 is a
    conv2d of gy. Else, where gx has very few channels (runs of C would be a few floats),
    tap-major columns added into per-phase planes (runs of Wo); else, where gy has at least as many
    channels as gx, one GEMM to columns added back tap by tap (runs of stride x C, the smaller of
    the two copies); else, for dilation 1, each sub-pixel phase of gx is a stride-1 conv2d of gy
    (an im2col of gy, runs of O). `bias` (C,), if given, is added (ConvTranspose2d's bias)."""
    if backend.device_of(gy) == "cuda" and conv_kernels.use_kernels():
        return _with_bias(conv_kernels.conv2d_backward_data(gy, w, x_shape, stride, padding, dilation, groups), bias)
    if stride == (1, 1) and all(d * (k - 1) >= p for d, k, p in zip(dilation, w.shape[2:], padding)):
        return _backward_data_as_conv(gy, w, dilation, padding, groups, bias)
    if backend.get_array_module(gy) is np and winograd.applies(x_shape, w.shape, stride, padding, dilation, groups):
        return winograd.conv2d_backward_data(gy, w, x_shape, stride, padding, bias)    # adds the bias on the way
    return _with_bias(_strided_backward_data(gy, w, x_shape, stride, padding, dilation, groups), bias)


def _strided_backward_data(gy, w, x_shape, stride, padding, dilation, groups):
    o_g, c_g = w.shape[0] // groups, w.shape[1]
    if c_g <= PLANES_MAX_CHANNELS and o_g > 2 * c_g:
        return _backward_data_by_planes(gy, w, x_shape, stride, padding, dilation, groups)
    if o_g >= c_g or dilation != (1, 1):
        return _backward_data_by_scatter(gy, w, x_shape, stride, padding, dilation, groups)
    return _backward_data_by_phases(gy, w, x_shape, stride, padding, groups)


PLANES_MAX_CHANNELS = 4   # 64->3 k4s2 on 28x28: planes 1.5 ms, scatter 1.9; 64->8: 4.4 vs 2.9


def _flipped_transposed(w, groups):
    """(O, C/g, kh, kw) -> (C, O/g, kh, kw) with the taps reversed: the kernel of the adjoint conv."""
    o, c_g, kh, kw = w.shape
    flipped = w.reshape(groups, o // groups, c_g, kh, kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
    return flipped.reshape(groups * c_g, o // groups, kh, kw)


def _backward_data_as_conv(gy, w, dilation, padding, groups, bias=None):
    """For stride 1, conv2d's adjoint in x is itself a conv2d: of gy with the kernel flipped and its
    in/out channels swapped, padded by d (k - 1) - p."""
    pad = tuple(d * (k - 1) - p for d, k, p in zip(dilation, w.shape[2:], padding))
    return conv2d_forward_array(gy, _flipped_transposed(w, groups), (1, 1), pad, dilation, groups, bias)


class _Phase(NamedTuple):
    """Along one axis, the gx rows r, r + s, r + 2s, ... (dilation 1): unpadded row s m + r lies
    at padded s (m + q) + tap, tap = (r + p) % s, q = (r + p) // s, so only kernel taps
    tap + s t reach it, from gy row m + q - t: a correlation of gy with those taps reversed."""
    offset: int     # r
    first_tap: int  # (r + p) % s; the kernel taps first_tap::s
    taps: int
    first_row: int  # gy row read for m = 0 by the first reversed tap (may lie outside gy)
    computed: int   # rows m < computed; later ones read only gy's zero border and stay zeros


def _phases(size, kernel, stride, padding, out_size):
    phases = []
    for r in range(stride):
        q, first_tap = divmod(r + padding, stride)
        taps = len(range(first_tap, kernel, stride))
        rows = len(range(r, size, stride))
        computed = min(rows, max(0, out_size + taps - 1 - q)) if taps else 0
        phases.append(_Phase(r, first_tap, taps, q - taps + 1, computed))
    return phases


def _zero_extended(gy, rows, cols):
    """gy[:, :, rows[0]:rows[1], cols[0]:cols[1]] channels-last, reading zeros outside gy: a view
    when inside, else a scratch buffer."""
    gy = gy.transpose(0, 2, 3, 1)
    n, ho, wo, o = gy.shape
    (r0, r1), (c0, c1) = rows, cols
    if r0 >= 0 and c0 >= 0 and r1 <= ho and c1 <= wo:
        return gy[:, r0:r1, c0:c1]
    out = scratch(backend.get_array_module(gy), "phase_gy", (n, r1 - r0, c1 - c0, o), gy.dtype)
    (in_r0, in_r1), (in_c0, in_c1) = (max(r0, 0), min(r1, ho)), (max(c0, 0), min(c1, wo))
    out[:, :in_r0 - r0] = 0
    out[:, in_r1 - r0:] = 0
    out[:, :, :in_c0 - c0] = 0
    out[:, :, in_c1 - c0:] = 0
    out[:, in_r0 - r0:in_r1 - r0, in_c0 - c0:in_c1 - c0] = gy[:, in_r0:in_r1, in_c0:in_c1]
    return out


def _backward_data_by_phases(gy, w, x_shape, stride, padding, groups):
    """Dilation 1: each sub-pixel phase of gx (rows r_h::s_h, columns r_w::s_w) is a stride-1
    correlation of gy with the flipped sub-kernel w[:, :, a_h::s_h, a_w::s_w] (a: the phase's first
    tap, see _Phase): an im2col gather of a window of gy (runs of O channels) and a GEMM, then one
    strided copy into gx (channels-last). No scatter-adds."""
    xp = backend.get_array_module(gy)
    n, c, h, width = x_shape
    row_phases = _phases(h, w.shape[2], stride[0], padding[0], gy.shape[2])
    col_phases = _phases(width, w.shape[3], stride[1], padding[1], gy.shape[3])
    used_rows, used_cols = [p for p in row_phases if p.computed], [p for p in col_phases if p.computed]
    if used_rows and used_cols:  # one zero-extended gy covering every phase's window
        rows, cols = _window_span(used_rows), _window_span(used_cols)
        gy_window = _zero_extended(gy, rows, cols)
    gx = xp.empty((n, h, width, groups, w.shape[1]), dtype=gy.dtype)
    for row in row_phases:
        for col in col_phases:
            target = gx[:, row.offset::stride[0], col.offset::stride[1]]
            target[:, row.computed:] = 0
            target[:, :, col.computed:] = 0
            if row.computed and col.computed:
                top, left = row.first_row - rows[0], col.first_row - cols[0]
                window = gy_window[:, top:top + row.computed + row.taps - 1,
                                   left:left + col.computed + col.taps - 1]
                sub_kernel = w[:, :, row.first_tap::stride[0], col.first_tap::stride[1]]
                target[:, :row.computed, :col.computed] = _correlate_window(window, sub_kernel, groups)
    return gx.reshape(n, h, width, c).transpose(0, 3, 1, 2)


def _correlate_window(window, sub_kernel, groups):
    """Stride-1, unpadded correlation of a channels-last gy window with a sub-kernel's adjoint:
    (N, Hw, Ww, O) -> (N, Hw - t_h + 1, Ww - t_w + 1, groups, C/groups), a view of scratch."""
    xp = backend.get_array_module(window)
    n, (c_g, taps_h, taps_w) = window.shape[0], sub_kernel.shape[1:]
    out_hw = (window.shape[1] - taps_h + 1, window.shape[2] - taps_w + 1)
    columns = _columns(window.transpose(0, 3, 1, 2), (taps_h, taps_w), (1, 1), (0, 0), (1, 1), groups, out_hw)
    result = scratch(xp, "phase_gx", (groups, columns.shape[1], c_g), window.dtype)
    taps = _taps_last(_flipped_transposed(sub_kernel, groups), groups).transpose(0, 2, 1)
    profiler.matmul(xp, columns, taps, out=result)
    return result.reshape(groups, n, *out_hw, c_g).transpose(1, 2, 3, 0, 4)


def _window_span(phases):
    """The gy rows [start, stop) that the phases' correlations read."""
    return min(p.first_row for p in phases), max(p.first_row + p.computed + p.taps - 1 for p in phases)


def _backward_data_by_planes(gy, w, x_shape, stride, padding, dilation, groups):
    """Any stride and dilation: one GEMM to tap-major columns (each tap's contribution a
    contiguous (N, C, Ho, Wo) block), each added into the plane of padded gx holding its phase:
    tap i lands at padded s P + d i, phase (d i) % s, offset (d i) // s, so the adds copy runs of
    Wo floats where a scatter into gx would copy runs of C. Then one strided copy per phase."""
    xp = backend.get_array_module(gy)
    n, c, h, width = x_shape
    o, c_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho, wo = gy.shape[2:]
    cols = _tap_major_columns(gy, w, groups).reshape(n, groups, c_g, kh, kw, ho, wo)
    plane_h = max(ho + dh * (kh - 1) // sh, *((r + ph) // sh + len(range(r, h, sh)) for r in range(sh)))
    plane_w = max(wo + dw * (kw - 1) // sw, *((r + pw) // sw + len(range(r, width, sw)) for r in range(sw)))
    planes = scratch(xp, "planes", (n, groups, c_g, sh, sw, plane_h, plane_w), gy.dtype)
    planes[...] = 0
    for i in range(kh):
        top, a_h = divmod(dh * i, sh)
        for j in range(kw):
            left, a_w = divmod(dw * j, sw)
            planes[:, :, :, a_h, a_w, top:top + ho, left:left + wo] += cols[:, :, :, i, j]
    gx = xp.empty((n, groups, c_g, h, width), dtype=gy.dtype)
    for r_h in range(sh):
        q_h, a_h = divmod(r_h + ph, sh)
        rows = len(range(r_h, h, sh))
        for r_w in range(sw):
            q_w, a_w = divmod(r_w + pw, sw)
            cols_w = len(range(r_w, width, sw))
            gx[..., r_h::sh, r_w::sw] = planes[:, :, :, a_h, a_w, q_h:q_h + rows, q_w:q_w + cols_w]
    return gx.reshape(n, c, h, width)


def _tap_major_columns(gy, w, groups):
    """Every tap's contribution to gx, as (N, groups, C/g * kh * kw, Ho * Wo) (maybe a view):
    one GEMM when gy is stored channels-last (its pixels then form one (N*Ho*Wo, O) matrix),
    written tap-major so each tap's block is read back in runs of Ho*Wo; else one small GEMM per
    image and group (which the BLAS runs at a few GFLOP/s)."""
    xp = backend.get_array_module(gy)
    n, o, ho, wo = gy.shape
    taps = w.reshape(groups, o // groups, -1)
    pixels = gy.transpose(0, 2, 3, 1)
    if groups == 1 and pixels.flags.c_contiguous:
        cols = scratch(xp, "plane_columns", (taps.shape[2], n * ho * wo), gy.dtype)
        profiler.matmul(xp, taps[0].T, pixels.reshape(-1, o).T, out=cols)
        return cols.reshape(-1, n, ho * wo).transpose(1, 0, 2)[:, None]
    cols = scratch(xp, "plane_columns", (n, groups, taps.shape[2], ho * wo), gy.dtype)
    profiler.matmul(xp, taps.transpose(0, 2, 1), gy.reshape(n, groups, o // groups, ho * wo), out=cols)
    return cols


def _backward_data_by_scatter(gy, w, x_shape, stride, padding, dilation, groups):
    """Any stride and dilation: one GEMM to columns (N, Ho, Wo, kh, kw, C), then each tap's block
    added into a zeroed, padded, channels-last gx. With dilation 1 the stride taps j .. j + s - 1 of
    a kernel row land on neighbouring pixels, so they go in one add of runs of s x C floats (and
    half as many adds for stride 2)."""
    xp = backend.get_array_module(gy)
    n, c, h, width = x_shape
    c_g, kh, kw = w.shape[1:]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho, wo = gy.shape[2:]
    cols = scratch(xp, "columns", (groups, n * ho * wo, kh * kw * c_g), gy.dtype)
    profiler.matmul(xp, _pixels_by_group(gy, groups), _taps_last(w, groups), out=cols)  # (groups, N*Ho*Wo, kh*kw*C/g)
    cols = cols.reshape(groups, n, ho, wo, kh, kw, c_g).transpose(1, 2, 3, 4, 5, 0, 6)
    gx = recycle.empty_on(xp, (n, h + 2 * ph, width + 2 * pw, groups, c_g), gy.dtype)
    gx.fill(0)
    s_n, s_h, s_w, s_g, s_c = gx.strides
    run = sw if dw == 1 else 1
    for i in range(kh):
        for j in range(0, kw, run):
            taps = min(run, kw - j)     # gx[n, sh*y + dh*i, sw*x + dw*(j + t)] += cols[n, y, x, i, j + t]
            target = xp.lib.stride_tricks.as_strided(
                gx[:, dh * i:, dw * j:], (n, ho, wo, taps, groups, c_g), (s_n, sh * s_h, sw * s_w, dw * s_w, s_g, s_c))
            target += cols[:, :, :, i, j:j + taps]
    return gx.reshape(n, h + 2 * ph, width + 2 * pw, c)[:, ph:ph + h, pw:pw + width].transpose(0, 3, 1, 2)


def conv2d_backward_weight_array(x, gy, w_shape, stride, padding, dilation, groups, columns=None):
    """gw[o, c, i, j] = sum over n, h, w of gy[n, o, h, w] * x_padded[n, c, sh*h + dh*i, sw*w + dw*j].
    `columns`: x as the forward gathered it, if kept (`conv2d_forward_and_columns`)."""
    if backend.device_of(x) == "cuda" and conv_kernels.use_kernels():
        return conv_kernels.conv2d_backward_weight(x, gy, w_shape, stride, padding, dilation, groups)
    if backend.get_array_module(x) is np and winograd.applies(x.shape, w_shape, stride, padding, dilation, groups):
        return winograd.conv2d_backward_weight(x, gy, w_shape, stride, padding, columns)
    if _by_shifts(x.shape, w_shape, stride, padding, groups, gy.shape[2:]):
        return _backward_weight_by_shifts(x, gy, w_shape, padding, dilation, columns)
    xp = backend.get_array_module(x)
    o, c_g, kh, kw = w_shape
    cols = columns if columns is not None else _columns(x, (kh, kw), stride, padding, dilation, groups,
                                                       gy.shape[2:])
    gw = profiler.matmul(xp, _pixels_by_group(gy, groups).transpose(0, 2, 1), cols)  # (groups, O/g, kh*kw*C/g)
    return gw.reshape(o, kh, kw, c_g).transpose(0, 3, 1, 2).copy()


def conv2d_output_size(in_hw, kernel, stride, padding, dilation):
    return tuple((size + 2 * p - d * (k - 1) - 1) // s + 1
                 for size, k, s, p, d in zip(in_hw, kernel, stride, padding, dilation))


def conv_transpose2d_output_size(in_hw, kernel, stride, padding, output_padding, dilation):
    return tuple((size - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for size, k, s, p, op, d in zip(in_hw, kernel, stride, padding, output_padding, dilation))
