"""Winograd's F(4x4, rxr) for convolutions whose kernel is r = 2 or 3 times their stride: DCGAN's
k4 s2 layers (r = 2) and the k3 stride-1 convs of residual blocks (r = 3).

Cut a conv's zero-padded input into s x s blocks and stack each block's pixels as channels
(space-to-depth): a conv with kernel r s and stride s becomes a stride-1 conv with an r x r kernel
over s*s*C channels (for stride 1 it already is one). Winograd's minimal filtering computes a 4x4
tile of that conv's output from a (4 + r - 1)^2 tile of its input with 25 (r = 2) or 36 (r = 3)
products per channel pair where the direct sum takes 64 or 144. The products are GEMMs, one per
transformed position, over all tiles and channels at once; the transforms around them are fixed
small matrices applied as one GEMM each.

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
from minigan.ops.scratch import scratch, zero_bordered

TILE = 4                      # outputs per tile side; a tile reads TILE + r - 1 inputs per side
POINTS = (0.0, 1.0, -1.0, 2.0, -2.0)   # the first TILE + r - 2 of them, and infinity
BLOCK_KERNELS = (2, 3)        # r: kernel / stride. F(4, 2): 25 products per 16 outputs (direct: 64);
                              # F(4, 3): 36 (direct: 144)
MIN_CHANNELS = 32             # below this (s*s*C in or O out) the transforms cost more than they save
MIN_TILES = 128               # below this (images x output tiles) the GEMMs are too short and the kernel's
                              # transform ((TILE + r - 1)^2 / r^2 x its size) costs more than it saves
ENABLED = True                # tests switch it off to compare with the im2col paths


def interpolation_matrices(r):
    """A^T (4 x n), G (n x r), B^T (n x n) of F(4, r), n = 4 + r - 1, for correlation: the transpose
    of polynomial multiplication by evaluation at n - 1 POINTS and infinity (Toom-Cook)."""
    n = TILE + r - 1

    def vandermonde(columns):
        v = np.zeros((n, columns))
        for row, point in enumerate(POINTS[:n - 1]):
            v[row] = [point ** k for k in range(columns)]
        v[n - 1, columns - 1] = 1.0        # infinity: the leading coefficient
        return v

    return vandermonde(TILE).T, vandermonde(r), np.linalg.inv(vandermonde(n)).T


class _Transforms:
    """F(4, r)'s 2-D transforms of a row-major flattened tile, in one dtype: `input` (n^2, n^2) is
    d -> B^T d B, `kernel` (n^2, r^2) is g -> G g G^T, `output` (n^2, 16) is y -> A y A^T (its
    transpose maps products back to an output tile). `constant` is the product position at the
    point 1 on both axes: A^T's column there is all ones, so a value added to that product is
    added to every output of the tile (how a bias rides along)."""

    def __init__(self, r, dtype):
        a_t, g, b_t = interpolation_matrices(r)
        self.r, self.size = r, TILE + r - 1
        self.input, self.kernel, self.output = (np.kron(m, m).astype(dtype) for m in (b_t, g, a_t.T))
        one = POINTS.index(1.0)
        self.constant = one * self.size + one


_transforms = {}


def _transforms_for(r, dtype):
    key = (r, np.dtype(dtype).str)
    if key not in _transforms:
        _transforms[key] = _Transforms(r, dtype)
    return _transforms[key]


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
    size = TILE + block_kernel(w_shape, stride) - 1
    th, tw = _tile_counts(out_hw)
    return size * size * x_shape[0] * th * tw * x_shape[1] * stride[0] * stride[1] * itemsize


def _tile_counts(out_hw):
    return tuple(-(-size // TILE) for size in out_hw)


def _block_taps(w, stride):
    """w (O, C, r sh, r sw) as the space-to-depth kernel (r, r, O, sh*sw*C): tap (i, j) applied to
    block channel (a, b, c) is w[:, c, sh i + a, sw j + b]. (A copy that permutes within each w[o].)"""
    o, c = w.shape[:2]
    (sh, sw), r = stride, block_kernel(w.shape, stride)
    return w.reshape(o, c, r, sh, r, sw).transpose(2, 4, 0, 3, 5, 1).reshape(r, r, o, sh * sw * c)


def _transformed_kernel(taps, transforms):
    """(r, r, O, K) -> (n^2, O, K): G g G^T for every channel pair."""
    flat = np.ascontiguousarray(taps).reshape(transforms.r ** 2, -1)
    out = scratch(np, "winograd_kernel", (transforms.size ** 2, flat.shape[1]), flat.dtype)
    profiler.matmul(np, transforms.kernel, flat, out=out)
    return out.reshape(-1, *taps.shape[2:])


def _transformed_tiles(grid, tiles, transforms, keep=False):
    """B^T d B for every n x n tile of a grid (N, Hg, Wg, *channel axes) (strides arbitrary, at least
    4 tiles + r - 1 pixels per side): (n^2, N*Th*Tw, channels). Tile (th, tw) starts at (4 th, 4 tw)."""
    n, size = grid.shape[0], transforms.size
    th, tw = tiles
    s_n, s_h, s_w = grid.strides[:3]
    shape = (size, size, n, th, tw) + grid.shape[3:]
    windows = np.lib.stride_tricks.as_strided(
        grid, shape, (s_h, s_w, s_n, TILE * s_h, TILE * s_w) + grid.strides[3:], writeable=False)
    gathered = scratch(np, "winograd_tiles", shape, grid.dtype)
    gathered[...] = windows
    rows = (size * size, gathered[0, 0].size)
    out = recycle.empty(rows, grid.dtype) if keep else scratch(np, "winograd_input", rows, grid.dtype)
    profiler.matmul(np, transforms.input, gathered.reshape(rows), out=out)
    return out.reshape(size * size, n * th * tw, -1)


def _correlate(transformed, kernel, transforms, n, tiles, bias=None):
    """The output tiles of an r x r stride-1 correlation from its transformed input (n^2, N*T, K)
    and transformed kernel (n^2, K, O): A^T [sum over K of the products] A, as
    (4, 4, N, Th, Tw, O) scratch; plus `bias` (O,) if given, added at the products' constant
    position (a pass over N*T*O values instead of one over the output)."""
    o = kernel.shape[2]
    products = scratch(np, "winograd_products", (len(kernel), transformed.shape[1], o), transformed.dtype)
    profiler.matmul(np, transformed, kernel, out=products)
    if bias is not None:
        products[transforms.constant] += bias
    out = scratch(np, "winograd_output", (TILE * TILE, products[0].size), products.dtype)
    profiler.matmul(np, transforms.output.T, products.reshape(len(kernel), -1), out=out)
    return out.reshape(TILE, TILE, n, *tiles, o)


def _zero_padded(x, top_left, size, purpose):
    """x (N, H, W, *channels) placed at top_left in a zeroed (N, *size, *channels) scratch array,
    cut where it would stick out."""
    n, h, w = x.shape[:3]
    (top, left), (height, width) = top_left, size
    rows, cols = min(h, height - top), min(w, width - left)
    out = zero_bordered(np, purpose, (n, height, width) + x.shape[3:], x.dtype, ((top, rows), (left, cols)))
    out[:, top:top + rows, left:left + cols] = x[:, :rows, :cols]
    return out


def _space_to_depth_grid(x, stride, padding, tiles, r):
    """x (N, C, H, W) zero-padded and cut into stride blocks: (N, 4 Th + r - 1, 4 Tw + r - 1, sh, sw, C),
    a view."""
    (sh, sw), n, c = stride, x.shape[0], x.shape[1]
    blocks = tuple(TILE * t + r - 1 for t in tiles)
    padded = _zero_padded(x.transpose(0, 2, 3, 1), padding, (sh * blocks[0], sw * blocks[1]), "winograd_padded")
    return padded.reshape(n, blocks[0], sh, blocks[1], sw, c).transpose(0, 1, 3, 2, 4, 5)


def conv2d(x, w, stride, padding, out_hw, keep, bias=None):
    """Conv2d's forward (see `applies`), plus `bias` (O,) if given. Returns (y (N, O, Ho, Wo), a view
    of a dense channels-last array; x's transformed tiles if `keep`, for the weight gradient)."""
    n, o = x.shape[0], w.shape[0]
    transforms = _transforms_for(block_kernel(w.shape, stride), x.dtype)
    tiles = _tile_counts(out_hw)
    grid = _space_to_depth_grid(x, stride, padding, tiles, transforms.r)
    transformed = _transformed_tiles(grid, tiles, transforms, keep)
    kernel = _transformed_kernel(_block_taps(w, stride), transforms).transpose(0, 2, 1)    # (n^2, K, O)
    out = _correlate(transformed, kernel, transforms, n, tiles, bias)
    y = recycle.empty((n, *out_hw, o), x.dtype)
    for u in range(TILE):
        for v in range(TILE):
            rows, cols = len(range(u, out_hw[0], TILE)), len(range(v, out_hw[1], TILE))
            y[:, u::TILE, v::TILE] = out[u, v, :, :rows, :cols]
    return y.transpose(0, 3, 1, 2), transformed if keep else None


def conv2d_backward_data(gy, w, x_shape, stride, padding, bias=None):
    """Conv2d's adjoint in x (plus `bias` (C,) if given): block (I, J) of padded gx gets
    gy[I - i, J - j] against tap (i, j), a correlation of gy (r - 1 zero pixels above and left)
    with the flipped kernel."""
    n, c, h, width = x_shape
    (sh, sw), (ph, pw) = stride, padding
    transforms = _transforms_for(block_kernel(w.shape, stride), gy.dtype)
    r = transforms.r
    blocks = (-(-(ph + h) // sh), -(-(pw + width) // sw))      # padded gx's blocks that hold gx
    th, tw = tiles = _tile_counts(blocks)
    grid = _zero_padded(gy.transpose(0, 2, 3, 1), (r - 1, r - 1), (TILE * th + r - 1, TILE * tw + r - 1),
                        "winograd_gy")
    kernel = _transformed_kernel(_block_taps(w, stride)[::-1, ::-1], transforms)          # (n^2, O, K)
    block_bias = None if bias is None else np.tile(bias, sh * sw)     # a block's channels: (sh, sw, C)
    out = _correlate(_transformed_tiles(grid, tiles, transforms), kernel, transforms, n, tiles, block_bias)
    padded = recycle.empty((n, th, TILE, sh, tw, TILE, sw, c), gy.dtype)
    padded.transpose(2, 5, 0, 1, 4, 3, 6, 7)[...] = out.reshape(TILE, TILE, n, th, tw, sh, sw, c)
    padded = padded.reshape(n, th * TILE * sh, tw * TILE * sw, c)
    return padded[:, ph:ph + h, pw:pw + width].transpose(0, 3, 1, 2)


def conv2d_backward_weight(x, gy, w_shape, stride, padding, transformed=None):
    """gw = G^T [sum over images and tiles of (B^T x B) * (A gy A^T)] G. `transformed`: x's tiles
    as the forward transformed them, if kept."""
    o, c = w_shape[:2]
    (sh, sw), (n, ho, wo) = stride, (gy.shape[0], *gy.shape[2:])
    transforms = _transforms_for(block_kernel(w_shape, stride), gy.dtype)
    r = transforms.r
    tiles = _tile_counts((ho, wo))
    if transformed is None:
        transformed = _transformed_tiles(_space_to_depth_grid(x, stride, padding, tiles, r), tiles, transforms)
    gy_tiles = _zero_padded(gy.transpose(0, 2, 3, 1), (0, 0), (TILE * tiles[0], TILE * tiles[1]),
                            "winograd_gy_tiles_padded")
    gathered = scratch(np, "winograd_gy_tiles", (TILE, TILE, n, *tiles, o), gy.dtype)
    gathered[...] = gy_tiles.reshape(n, tiles[0], TILE, tiles[1], TILE, o).transpose(2, 4, 0, 1, 3, 5)
    positions = len(transforms.output)
    spread = scratch(np, "winograd_products", (positions, gathered[0, 0].size), gy.dtype)
    profiler.matmul(np, transforms.output, gathered.reshape(TILE * TILE, -1), out=spread)
    # (K, O) per position as x^T gy rather than (O, K) as gy^T x: OpenBLAS runs this orientation up to
    # 20% faster when the machine is busy (dcgan-28's conv 64->128: 25 x (256, 256) @ (256, 128) 2.1 ms
    # against 25 x (128, 256) @ (256, 256) 2.7 ms in a step; equal on a quiet machine)
    sums = scratch(np, "winograd_kernel", (positions, transformed.shape[2], o), gy.dtype)
    profiler.matmul(np, transformed.transpose(0, 2, 1), spread.reshape(positions, -1, o), out=sums)
    taps = profiler.matmul(np, transforms.kernel.T, sums.reshape(positions, -1))   # (r^2, sh*sw*C*O)
    gw = taps.reshape(r, r, sh, sw, c, o).transpose(5, 4, 0, 2, 1, 3)          # (O, C, r, sh, r, sw)
    return np.ascontiguousarray(gw).reshape(w_shape)
