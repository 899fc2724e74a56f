"""Winograd's F(4x4, rxr) for convolutions whose kernel is r = 2 or 3 times their stride: DCGAN's
k4 s2 layers (r = 2) and the k3 stride-1 convs of residual blocks (r = 3).

Cut a conv's zero-padded input into s x s blocks and stack each block's pixels as channels
(space-to-depth): a conv with kernel r s and stride s becomes a stride-1 conv with an r x r kernel
over s*s*C channels (for stride 1 it already is one). Winograd's minimal filtering computes a 4x4
tile of that conv's output from a (4 + r - 1)^2 tile of its input with 25 (r = 2) or 36 (r = 3)
products per channel pair where the direct sum takes 64 or 144. Where the output's side is not a
multiple of 4, its last tile is an F(3), F(2) or F(1) tile whose points are the first of F(4)'s
(a 7-wide output: 9 products per axis, not 10 for two padded 4-tiles): products at the same pair
of points share one transformed kernel, so each pair's products over every tile that has them
are one GEMM. The transforms around them are fixed small matrices applied as GEMMs.

All three directions of the conv come from one trilinear form (per axis, per channel pair)

    sum over t < 4, k < r of d[t + k] g[k] y[t]  =  sum over p of (B^T d)_p (G g)_p (A y)_p

with d an input tile, g the kernel, y an output tile. Read as a function of y it is the forward,
y = A^T [(G g) * (B^T d)]; read in g it is the weight gradient, g = G^T [(B^T d) * (A y)]. The
x-gradient is the forward of the adjoint correlation (gy against the flipped kernel), so that its
output tiles do not overlap. The matrices come from polynomial interpolation at 0, 1, -1, 2, (-2)
and infinity (for r = 2, the most accurate of the sets tried). In float32 the largest error on the
bench's layers is 2-7e-6 of the output's scale where im2col's is 2-5e-7, the rms error 5-12 times
im2col's (tests/ops/test_winograd.py holds it there).
"""
import numpy as np

from minigan import profiler
from minigan.ops import recycle
from minigan.ops.scratch import copy_channels_last, scratch, zero_bordered

TILE = 4                      # outputs per full tile side; a tile reads TILE + r - 1 inputs per side
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0)   # the first TILE + r - 2 of them, and infinity
BLOCK_KERNELS = (2, 3)        # r: kernel / stride. F(4, 2): 25 products per 16 outputs (direct: 64);
                              # F(4, 3): 36 (direct: 144)
MIN_CHANNELS = 32             # below this (s*s*C in or O out) the transforms cost more than they save
MIN_TILES = 128               # below this (images x output tiles) the GEMMs are too short and the kernel's
                              # transform ((TILE + r - 1)^2 / r^2 x its size) costs more than it saves
ENABLED = True                # tests switch it off to compare with the im2col paths


def interpolation_matrices(r, tile=TILE):
    """A^T (tile x n), G (n x r), B^T (n x n) of F(tile, r), n = tile + r - 1, for correlation: the
    transpose of polynomial multiplication by evaluation at n - 1 POINTS and infinity (Toom-Cook)."""
    n = tile + r - 1

    def vandermonde(columns):
        v = np.zeros((n, columns))
        for row, point in enumerate(POINTS[:n - 1]):
            v[row] = [point ** k for k in range(columns)]
        v[n - 1, columns - 1] = 1.0        # infinity: the leading coefficient
        return v

    return vandermonde(tile).T, vandermonde(r), np.linalg.inv(vandermonde(n)).T


def _axis_tiles(length):
    """`length` outputs along an axis as tiles: (size, count, first output) for the 4-output tiles
    and, for what is left, one smaller tile."""
    kinds = [(TILE, length // TILE, 0)] if length >= TILE else []
    if length % TILE:
        kinds.append((length % TILE, 1, length - length % TILE))
    return kinds


class _TileType:
    """`count_h` x `count_w` tiles of one size pair from output (first_h, first_w). `points_h`,
    `points_w`: which of F(4, r)'s points its products use (a smaller tile uses the first ones and
    infinity). Of a row-major flattened tile: `input` is d -> B^T d B, `spread` y -> A y A^T."""

    def __init__(self, kind_h, kind_w, r, dtype):
        (self.size_h, self.count_h, self.first_h), (self.size_w, self.count_w, self.first_w) = kind_h, kind_w
        self.count = self.count_h * self.count_w
        self.points_h, self.points_w = (tuple(range(size + r - 2)) + (TILE + r - 2,)
                                        for size in (self.size_h, self.size_w))
        (a_h, _, b_h), (a_w, _, b_w) = (interpolation_matrices(r, size) for size in (self.size_h, self.size_w))
        self.input, self.spread = np.kron(b_h, b_w).astype(dtype), np.kron(a_h.T, a_w.T).astype(dtype)

    def holds(self, pair):
        return pair[0] in self.points_h and pair[1] in self.points_w


class _Plan:
    """How an r x r stride-1 correlation with an (Lh, Lw) output runs. Per point pair, one stacked
    matrix of rows, `stacked` (pairs, tiles * N, channels): each tile type from row `rows[t]` x N
    on, in the order (N, count_h, count_w). Types are ordered (full, rest), (full, full), (rest,
    full), (rest, rest) and pairs in groups by which types have them, so that a type's pairs and a
    group's types are each one range: a type's transforms are one GEMM, a group's products one
    batched GEMM. `kernel` (pairs, r^2) is g -> G g G^T at each pair."""

    def __init__(self, out_hw, r, dtype):
        self.r = r
        order = {(True, False): 0, (True, True): 1, (False, True): 2, (False, False): 3}
        kinds = [(kh, kw) for kh in _axis_tiles(out_hw[0]) for kw in _axis_tiles(out_hw[1])]
        self.types = sorted((_TileType(kh, kw, r, dtype) for kh, kw in kinds),
                            key=lambda t: order[t.size_h == TILE, t.size_w == TILE])
        self.rows = np.cumsum([0] + [t.count for t in self.types])    # tile offsets of the types
        self.pairs, self.groups = self._grouped_pairs(TILE + r - 1)
        self.spans, self.input, self.spread, self.output = [], [], [], []
        for t in self.types:
            self.spans.append(_one_range([i for i, pair in enumerate(self.pairs) if t.holds(pair)]))
            positions = [t.points_h.index(p) * len(t.points_w) + t.points_w.index(q)
                         for p, q in self.pairs[self.spans[-1]]]
            self.input.append(np.ascontiguousarray(t.input[positions]))
            self.spread.append(np.ascontiguousarray(t.spread[positions]))
            self.output.append(np.ascontiguousarray(t.spread[positions].T))
        g = interpolation_matrices(r)[1]
        self.kernel = np.stack([np.kron(g[p], g[q]) for p, q in self.pairs]).astype(dtype)
        self.constants = [self._constant(t) for t in self.types]

    def _grouped_pairs(self, points):
        """The point pairs some type has, grouped by whether each point is every type's along its
        axis (or only the full tiles'); with each group, (its pairs, its types' tile rows) as slices."""
        shared = [[all(p in getattr(t, axis) for t in self.types) for p in range(points)]
                  for axis in ("points_h", "points_w")]
        pairs, groups = [], []
        for classes in ((False, True), (True, True), (True, False), (False, False)):
            group = [(p, q) for p in range(points) for q in range(points)
                     if (shared[0][p], shared[1][q]) == classes and any(t.holds((p, q)) for t in self.types)]
            if group:
                holders = _one_range([i for i, t in enumerate(self.types) if t.holds(group[0])])
                groups.append((slice(len(pairs), len(pairs) + len(group)),
                               slice(self.rows[holders.start], self.rows[holders.stop])))
                pairs += group
        return pairs, groups

    def _constant(self, t):
        """The pair where a value added to type t's products reaches every output of its tiles: the
        point 1 along each axis (A^T's column there is all ones), or for a 1-output side any point
        (A^T is one row of ones)."""
        return self.pairs.index(tuple(1 if 1 in points else points[0] for points in (t.points_h, t.points_w)))

    def stacked(self, purpose, n, channels, dtype, keep=False):
        """Room for the per-pair stacked matrices (pairs, tiles * n, channels); rows that a pair's
        types do not fill are never read."""
        shape = (len(self.pairs), self.rows[-1] * n, channels)
        return recycle.empty(shape, dtype) if keep else scratch(np, purpose, shape, dtype)

    def type_part(self, stacked, t, n):
        """Type t's pairs and rows of stacked, as a matrix (its pairs, its rows * channels)."""
        flat = stacked.reshape(len(stacked), -1)
        width = stacked.shape[2] * n
        return flat[self.spans[t], self.rows[t] * width:self.rows[t + 1] * width]

    def group_part(self, stacked, group, n):
        """A group's pairs and rows of stacked (pairs, rows, channels)."""
        pairs, rows = group
        return stacked[pairs, rows.start * n:rows.stop * n]


def _one_range(indices):
    """Consecutive indices as a slice (the plan's orders make every type's pairs and every group's
    types consecutive)."""
    if indices != list(range(indices[0], indices[-1] + 1)):    # checked under python -O too: rows would mix
        raise RuntimeError(f"winograd plan: indices {indices} are not one range")
    return slice(indices[0], indices[-1] + 1)


_plans = {}


def _plan_for(out_hw, r, dtype):
    key = (tuple(out_hw), r, np.dtype(dtype).str)
    if key not in _plans:
        _plans[key] = _Plan(out_hw, r, dtype)
    return _plans[key]


def block_kernel(w_shape, stride):
    """r where w's kernel is r times the stride along both axes (r in BLOCK_KERNELS), else None."""
    r = w_shape[2] // stride[0]
    exact = w_shape[2] == r * stride[0] and w_shape[3] == r * stride[1]
    return r if exact and r in BLOCK_KERNELS else None


def applies(x_shape, w_shape, stride, padding, dilation, groups):
    """Whether the conv x (N, C, H, W) * w (O, C, kh, kw) runs here: one group, no dilation, each
    kernel side 2 or 3 times the stride, enough channels on both sides of the GEMMs and enough tiles.
    Measured fwd+bwd against the paths it replaces, 2 cores: 64->128 k4s2 on 14x14 b64 (256 tiles)
    17.8 -> 14.8 ms, 32->64 k4s2 on 32x32 b32 18 -> 12.5 ms, 64->64 k3s1 on 32x32 b16 33.9 -> 19.1 ms;
    but 256->512 k4s2 on 8x8 b16 (16 tiles) 20.5 -> 39.5 ms; 64 tiles or 16 channels about even."""
    if not (ENABLED and groups == 1 and dilation == (1, 1)) or block_kernel(w_shape, stride) is None:
        return False
    out_hw = [(size + 2 * p - k) // s + 1 for size, p, k, s in zip(x_shape[2:], padding, w_shape[2:], stride)]
    th, tw = _tile_counts(out_hw)
    return (x_shape[1] * stride[0] * stride[1] >= MIN_CHANNELS and w_shape[0] >= MIN_CHANNELS
            and x_shape[0] * th * tw >= MIN_TILES)


def transformed_nbytes(x_shape, w_shape, stride, out_hw, itemsize):
    """The size of x's transformed tiles, which the forward can keep for the weight gradient."""
    plan = _plan_for(out_hw, block_kernel(w_shape, stride), np.float64)
    return len(plan.pairs) * plan.rows[-1] * x_shape[0] * x_shape[1] * stride[0] * stride[1] * itemsize


def _tile_counts(out_hw):
    return tuple(-(-size // TILE) for size in out_hw)


def _block_taps(w, stride):
    """w (O, C, r sh, r sw) as the space-to-depth kernel (r, r, O, sh*sw*C): tap (i, j) applied to
    block channel (a, b, c) is w[:, c, sh i + a, sw j + b]. (A copy that permutes within each w[o].)"""
    o, c = w.shape[:2]
    (sh, sw), r = stride, block_kernel(w.shape, stride)
    return w.reshape(o, c, r, sh, r, sw).transpose(2, 4, 0, 3, 5, 1).reshape(r, r, o, sh * sw * c)


def _transformed_kernel(taps, plan):
    """(r, r, O, K) -> (pairs, O, K): G g G^T at every point pair, for every channel pair."""
    flat = np.ascontiguousarray(taps).reshape(plan.r ** 2, -1)
    out = scratch(np, "winograd_kernel", (len(plan.pairs), flat.shape[1]), flat.dtype)
    profiler.matmul(np, plan.kernel, flat, out=out)
    return out.reshape(-1, *taps.shape[2:])


def _tiles_of(grid, kind, extent, purpose):
    """A tile type's windows of a grid (N, Hg, Wg, *channels), `extent` (eh, ew) pixels from each
    tile's first output on: (eh * ew, N * count_h * count_w * channels) scratch."""
    s_n, s_h, s_w = grid.strides[:3]
    shape = (*extent, grid.shape[0], kind.count_h, kind.count_w) + grid.shape[3:]
    windows = np.lib.stride_tricks.as_strided(
        grid[:, kind.first_h:, kind.first_w:], shape, (s_h, s_w, s_n, TILE * s_h, TILE * s_w) + grid.strides[3:],
        writeable=False)
    gathered = scratch(np, purpose, shape, grid.dtype)
    gathered[...] = windows
    return gathered.reshape(extent[0] * extent[1], -1)


def _stacked_tiles(grid, plan, n, keep=False):
    """B^T d B of every tile d of a grid (N, Hg, Wg, *channels), stacked per point pair (see
    `_Plan.stacked`): in scratch, or with `keep` an array of its own (for the weight gradient)."""
    r = plan.r
    stacked = plan.stacked("winograd_input", n, grid[0, 0, 0].size, grid.dtype, keep)
    for t, kind in enumerate(plan.types):
        tiles = _tiles_of(grid, kind, (kind.size_h + r - 1, kind.size_w + r - 1), "winograd_tiles")
        profiler.matmul(np, plan.input[t], tiles, out=plan.type_part(stacked, t, n))
    return stacked


def _correlate(stacked, kernel, plan, n, bias=None):
    """The output tiles of the correlation from its stacked transformed input and transformed kernel
    (pairs, K, O): per tile type (kind, its outputs (size_h, size_w, N, count_h, count_w, O) in
    scratch, valid until the next), A^T [sum over K of the products] A. Plus `bias` (O,) if given,
    added at each type's constant pair (a pass over N*T*O values instead of one over the output)."""
    o = kernel.shape[2]
    products = plan.stacked("winograd_products", n, o, kernel.dtype)
    for group in plan.groups:
        profiler.matmul(np, plan.group_part(stacked, group, n), kernel[group[0]],
                        out=plan.group_part(products, group, n))
    for t, kind in enumerate(plan.types):
        if bias is not None:
            rows = products[plan.constants[t], plan.rows[t] * n:plan.rows[t + 1] * n]
            rows += bias
        out = scratch(np, "winograd_output", (kind.size_h * kind.size_w, n * kind.count * o), kernel.dtype)
        profiler.matmul(np, plan.output[t], plan.type_part(products, t, n), out=out)
        yield kind, out.reshape(kind.size_h, kind.size_w, n, kind.count_h, kind.count_w, o)


def _zero_padded(x, top_left, size, purpose):
    """x (N, H, W, *channels) placed at top_left in a zeroed (N, *size, *channels) scratch array,
    cut where it would stick out."""
    n, h, w = x.shape[:3]
    (top, left), (height, width) = top_left, size
    rows, cols = min(h, height - top), min(w, width - left)
    out = zero_bordered(np, purpose, (n, height, width) + x.shape[3:], x.dtype, ((top, rows), (left, cols)))
    copy_channels_last(out[:, top:top + rows, left:left + cols], x[:, :rows, :cols])
    return out


def _space_to_depth_grid(x, stride, padding, out_hw, r):
    """x (N, C, H, W) zero-padded and cut into stride blocks: (N, Ho + r - 1, Wo + r - 1, sh, sw, C),
    a view."""
    (sh, sw), n, c = stride, x.shape[0], x.shape[1]
    blocks = tuple(size + r - 1 for size in out_hw)
    padded = _zero_padded(x.transpose(0, 2, 3, 1), padding, (sh * blocks[0], sw * blocks[1]), "winograd_padded")
    return padded.reshape(n, blocks[0], sh, blocks[1], sw, c).transpose(0, 1, 3, 2, 4, 5)


def _tile_region(image, kind, w_axis=2):
    """The part of image (N, H, ..., W, ...) (W at `w_axis`) a tile type covers, with H split into
    (count_h, size_h) and W into (count_w, size_w) (a view)."""
    index = [slice(None)] * image.ndim
    index[1] = slice(kind.first_h, kind.first_h + kind.count_h * kind.size_h)
    index[w_axis] = slice(kind.first_w, kind.first_w + kind.count_w * kind.size_w)
    region = image[tuple(index)]
    shape = list(region.shape)
    shape[w_axis:w_axis + 1] = kind.count_w, kind.size_w
    shape[1:2] = kind.count_h, kind.size_h
    return region.reshape(shape)


def conv2d(x, w, stride, padding, out_hw, keep, bias=None):
    """Conv2d's forward (see `applies`), plus `bias` (O,) if given. Returns (y (N, O, Ho, Wo), a view
    of a dense channels-last array; x's transformed tiles if `keep`, for the weight gradient)."""
    n, o = x.shape[0], w.shape[0]
    plan = _plan_for(out_hw, block_kernel(w.shape, stride), x.dtype)
    stacked = _stacked_tiles(_space_to_depth_grid(x, stride, padding, out_hw, plan.r), plan, n, keep)
    kernel = _transformed_kernel(_block_taps(w, stride), plan).transpose(0, 2, 1)    # (pairs, K, O)
    y = recycle.empty((n, *out_hw, o), x.dtype)
    for kind, tiles in _correlate(stacked, kernel, plan, n, bias):
        _tile_region(y, kind)[...] = tiles.transpose(2, 3, 0, 4, 1, 5)
    return y.transpose(0, 3, 1, 2), stacked if keep else None


def conv2d_backward_data(gy, w, x_shape, stride, padding, bias=None):
    """Conv2d's adjoint in x (plus `bias` (C,) if given): block (I, J) of padded gx gets
    gy[I - i, J - j] against tap (i, j), a correlation of gy (r - 1 zero pixels above and left)
    with the flipped kernel."""
    n, c, h, width = x_shape
    (sh, sw), (ph, pw) = stride, padding
    r = block_kernel(w.shape, stride)
    blocks = (-(-(ph + h) // sh), -(-(pw + width) // sw))      # padded gx's blocks that hold gx
    plan = _plan_for(blocks, r, gy.dtype)
    grid = _zero_padded(gy.transpose(0, 2, 3, 1), (r - 1, r - 1), (blocks[0] + r - 1, blocks[1] + r - 1),
                        "winograd_gy")
    kernel = _transformed_kernel(_block_taps(w, stride)[::-1, ::-1], plan)          # (pairs, O, K)
    block_bias = None if bias is None else np.tile(bias, sh * sw)     # a block's channels: (sh, sw, C)
    padded = recycle.empty((n, blocks[0], sh, blocks[1], sw, c), gy.dtype)
    for kind, tiles in _correlate(_stacked_tiles(grid, plan, n), kernel, plan, n, block_bias):
        blocks_out = tiles.reshape(*tiles.shape[:5], sh, sw, c)         # (mh, mw, n, ch, cw, sh, sw, c)
        _tile_region(padded, kind, w_axis=3)[...] = blocks_out.transpose(2, 3, 0, 5, 4, 1, 6, 7)
    padded = padded.reshape(n, blocks[0] * sh, blocks[1] * sw, c)
    return padded[:, ph:ph + h, pw:pw + width].transpose(0, 3, 1, 2)


def conv2d_backward_weight(x, gy, w_shape, stride, padding, transformed=None):
    """gw = G^T [sum over images and tiles of (B^T x B) * (A gy A^T)] G. `transformed`: x's tiles
    as the forward transformed them, if kept."""
    o, c = w_shape[:2]
    (sh, sw), (n, ho, wo) = stride, (gy.shape[0], *gy.shape[2:])
    plan = _plan_for((ho, wo), block_kernel(w_shape, stride), gy.dtype)
    r = plan.r
    if transformed is None:
        transformed = _stacked_tiles(_space_to_depth_grid(x, stride, padding, (ho, wo), r), plan, n)
    gy_image = gy.transpose(0, 2, 3, 1)
    spread = plan.stacked("winograd_products", n, o, gy.dtype)
    for t, kind in enumerate(plan.types):
        tiles = _tiles_of(gy_image, kind, (kind.size_h, kind.size_w), "winograd_gy_tiles")
        profiler.matmul(np, plan.spread[t], tiles, out=plan.type_part(spread, t, n))
    # (K, O) per pair as x^T gy rather than (O, K) as gy^T x: OpenBLAS runs this orientation up to
    # 20% faster when the machine is busy (dcgan-28's conv 64->128: 25 x (256, 256) @ (256, 128) 2.1 ms
    # against 25 x (128, 256) @ (256, 256) 2.7 ms in a step; equal on a quiet machine)
    sums = scratch(np, "winograd_kernel", (len(plan.pairs), transformed.shape[2], o), gy.dtype)
    for group in plan.groups:
        x_rows, gy_rows = plan.group_part(transformed, group, n), plan.group_part(spread, group, n)
        profiler.matmul(np, x_rows.transpose(0, 2, 1), gy_rows, out=sums[group[0]])
    taps = profiler.matmul(np, plan.kernel.T, sums.reshape(len(plan.pairs), -1))   # (r^2, sh*sw*C*O)
    gw = taps.reshape(r, r, sh, sw, c, o).transpose(5, 4, 0, 2, 1, 3)          # (O, C, r, sh, r, sw)
    return np.ascontiguousarray(gw).reshape(w_shape)
