"""Winograd's F(4x4, 2x2) for convolutions whose kernel is twice their stride (DCGAN's k4 s2 layers).

Cut a conv's zero-padded input into s x s blocks and stack each block's pixels as channels
(space-to-depth): a conv with kernel 2s and stride s becomes a stride-1 conv with a 2x2 kernel
over s*s*C channels. Winograd's minimal filtering computes a 4x4 tile of that conv's output from a
5x5 tile of its input with 25 products per channel pair where the direct sum takes 64. The
products are 25 GEMMs, one per transformed position, over all tiles and channels at once; the
transforms around them are fixed 25 x 25 (or smaller) matrices applied as one GEMM each.

All three directions of the conv come from one trilinear form (per axis, per channel pair)

    sum over t < 4, k < 2 of d[t + k] g[k] y[t]  =  sum over p < 5 of (B^T d)_p (G g)_p (A y)_p

with d an input tile, g the kernel, y an output tile. Read as a function of y it is the forward,
y = A^T [(G g) * (B^T d)]; read in g it is the weight gradient, g = G^T [(B^T d) * (A y)]. The
x-gradient is the forward of the adjoint correlation (gy against the flipped kernel), so that its
output tiles do not overlap. The matrices come from polynomial interpolation at 0, 1, -1, 2 and
infinity (of the sets tried, the most accurate): on dcgan-28's layer in float32 the largest error is
2-7e-6 of the output's scale where im2col's is 3-5e-7, the rms error 5-7 times im2col's
(tests/ops/test_winograd.py holds it there).
"""
import numpy as np

from minigan import profiler
from minigan.ops import recycle
from minigan.ops.scratch import scratch

TILE = 4                      # outputs per tile side; a tile reads TILE + 1 inputs per side
POINTS = (0.0, 1.0, -1.0, 2.0)  # and infinity
MIN_CHANNELS = 32             # below this (s*s*C in or O out) the transforms cost more than they save
MIN_TILES = 128               # below this (images x output tiles) the GEMMs are too short and the kernel's
                              # transform (25/4 x its size) costs more than it saves
ENABLED = True                # tests switch it off to compare with the im2col paths


def _interpolation_matrices():
    """A^T (4 x 5), G (5 x 2), B^T (5 x 5) of F(4, 2) for correlation: the transpose of polynomial
    multiplication by evaluation at POINTS and infinity (Toom-Cook)."""
    n = TILE + 1

    def vandermonde(columns):
        v = np.zeros((n, columns))
        for row, point in enumerate(POINTS):
            v[row] = [point ** k for k in range(columns)]
        v[n - 1, columns - 1] = 1.0        # infinity: the leading coefficient
        return v

    return vandermonde(TILE).T, vandermonde(2), np.linalg.inv(vandermonde(n)).T


_A_T, _G, _B_T = _interpolation_matrices()
# The 2-D transforms of a row-major flattened tile, one matrix each: B^T d B, G g G^T, A y A^T.
INPUT_TRANSFORM = np.kron(_B_T, _B_T)          # (25, 25): input tile -> transformed positions
KERNEL_TRANSFORM = np.kron(_G, _G)             # (25, 4)
OUTPUT_TRANSFORM = np.kron(_A_T.T, _A_T.T)     # (25, 16): its transpose maps back to an output tile
_cast = {}


def _matrix(matrix, dtype):
    key = (id(matrix), np.dtype(dtype).str)
    if key not in _cast:
        _cast[key] = np.ascontiguousarray(matrix, dtype=dtype)
    return _cast[key]


def applies(x_shape, w_shape, stride, padding, dilation, groups):
    """Whether the conv x (N, C, H, W) * w (O, C, kh, kw) runs here: one group, no dilation, each
    kernel side twice the stride, enough channels on both sides of the GEMMs and enough tiles.
    Measured fwd+bwd, 2 cores: 64->128 on 14x14 b64 (256 tiles) 17.8 -> 14.8 ms, 32->64 on 32x32 b32
    18 -> 12.5 ms; 128->256 on 16x16 b16 (64 tiles) 18.9 -> 18.6; 256->512 on 8x8 b16 (16 tiles)
    20.5 -> 39.5; 16->16 on 32x32 13.9 -> 13.7."""
    kernel = tuple(w_shape[2:])
    if not (ENABLED and groups == 1 and dilation == (1, 1) and kernel == (2 * stride[0], 2 * stride[1])):
        return False
    out_hw = [(size + 2 * p - k) // s + 1 for size, p, k, s in zip(x_shape[2:], padding, kernel, stride)]
    tiles = x_shape[0] * _tile_counts(out_hw)[0] * _tile_counts(out_hw)[1]
    return (x_shape[1] * stride[0] * stride[1] >= MIN_CHANNELS and w_shape[0] >= MIN_CHANNELS
            and tiles >= MIN_TILES)


def transformed_nbytes(x_shape, stride, out_hw, itemsize):
    """The size of x's transformed tiles, which the forward can keep for the weight gradient."""
    th, tw = _tile_counts(out_hw)
    return 25 * x_shape[0] * th * tw * x_shape[1] * stride[0] * stride[1] * itemsize


def _tile_counts(out_hw):
    return tuple(-(-size // TILE) for size in out_hw)


def _block_taps(w, stride):
    """w (O, C, 2 sh, 2 sw) as the space-to-depth kernel (2, 2, O, sh*sw*C): tap (i, j) applied to
    block channel (a, b, c) is w[:, c, sh i + a, sw j + b]. (A copy that permutes within each w[o].)"""
    o, c = w.shape[:2]
    (sh, sw) = stride
    return w.reshape(o, c, 2, sh, 2, sw).transpose(2, 4, 0, 3, 5, 1).reshape(2, 2, o, sh * sw * c)


def _transformed_kernel(taps):
    """(2, 2, O, K) -> (25, O, K): G g G^T for every channel pair."""
    flat = np.ascontiguousarray(taps).reshape(4, -1)
    out = scratch(np, "winograd_kernel", (25, flat.shape[1]), flat.dtype)
    profiler.matmul(np, _matrix(KERNEL_TRANSFORM, flat.dtype), flat, out=out)
    return out.reshape(25, *taps.shape[2:])


def _transformed_tiles(grid, tiles, keep=False):
    """B^T d B for every 5x5 tile of a grid (N, Hg, Wg, *channel axes) (strides arbitrary, at least
    4 tiles + 1 pixels per side): (25, N*Th*Tw, channels). Tile (th, tw) starts at pixel (4 th, 4 tw)."""
    n = grid.shape[0]
    th, tw = tiles
    s_n, s_h, s_w = grid.strides[:3]
    channels = grid.shape[3:]
    shape = (TILE + 1, TILE + 1, n, th, tw) + channels
    windows = np.lib.stride_tricks.as_strided(
        grid, shape, (s_h, s_w, s_n, TILE * s_h, TILE * s_w) + grid.strides[3:], writeable=False)
    gathered = scratch(np, "winograd_tiles", shape, grid.dtype)
    gathered[...] = windows
    width = gathered[0, 0].size
    out = recycle.empty((25, width), grid.dtype) if keep else scratch(np, "winograd_input", (25, width), grid.dtype)
    profiler.matmul(np, _matrix(INPUT_TRANSFORM, grid.dtype), gathered.reshape(25, width), out=out)
    return out.reshape(25, n * th * tw, -1)


def _correlate(transformed, kernel, n, tiles):
    """The output tiles of a 2x2 stride-1 correlation from its transformed input (25, N*T, K) and
    transformed kernel (25, K, O): A^T [sum over K of the products] A, as (4, 4, N, Th, Tw, O) scratch."""
    o = kernel.shape[2]
    products = scratch(np, "winograd_products", (25, transformed.shape[1], o), transformed.dtype)
    profiler.matmul(np, transformed, kernel, out=products)
    out = scratch(np, "winograd_output", (TILE * TILE, products[0].size), products.dtype)
    profiler.matmul(np, _matrix(OUTPUT_TRANSFORM, products.dtype).T, products.reshape(25, -1), out=out)
    return out.reshape(TILE, TILE, n, *tiles, o)


def _zero_padded(x, top_left, size, purpose):
    """x (N, H, W, *channels) placed at top_left in a zeroed (N, *size, *channels) scratch array,
    cut where it would stick out."""
    n, h, w = x.shape[:3]
    (top, left), (height, width) = top_left, size
    out = scratch(np, purpose, (n, height, width) + x.shape[3:], x.dtype)
    rows, cols = min(h, height - top), min(w, width - left)
    out[:, :top] = 0
    out[:, top + rows:] = 0
    out[:, top:top + rows, :left] = 0
    out[:, top:top + rows, left + cols:] = 0
    out[:, top:top + rows, left:left + cols] = x[:, :rows, :cols]
    return out


def _space_to_depth_grid(x, stride, padding, tiles):
    """x (N, C, H, W) zero-padded and cut into stride blocks: (N, 4 Th + 1, 4 Tw + 1, sh, sw, C), a view."""
    (sh, sw), (th, tw) = stride, tiles
    size = (sh * (TILE * th + 1), sw * (TILE * tw + 1))
    padded = _zero_padded(x.transpose(0, 2, 3, 1), padding, size, "winograd_padded")
    n, c = x.shape[:2]
    return padded.reshape(n, TILE * th + 1, sh, TILE * tw + 1, sw, c).transpose(0, 1, 3, 2, 4, 5)


def conv2d(x, w, stride, padding, out_hw, keep):
    """Conv2d's forward (see `applies`). Returns (y (N, O, Ho, Wo), a view of a dense channels-last
    array; x's transformed tiles if `keep`, for the weight gradient)."""
    n, o = x.shape[0], w.shape[0]
    tiles = _tile_counts(out_hw)
    transformed = _transformed_tiles(_space_to_depth_grid(x, stride, padding, tiles), tiles, keep)
    kernel = _transformed_kernel(_block_taps(w, stride)).transpose(0, 2, 1)      # (25, K, O)
    out = _correlate(transformed, kernel, n, tiles)
    y = recycle.empty((n, *out_hw, o), x.dtype)
    for u in range(TILE):
        for v in range(TILE):
            rows, cols = len(range(u, out_hw[0], TILE)), len(range(v, out_hw[1], TILE))
            y[:, u::TILE, v::TILE] = out[u, v, :, :rows, :cols]
    return y.transpose(0, 3, 1, 2), transformed if keep else None


def conv2d_backward_data(gy, w, x_shape, stride, padding):
    """Conv2d's adjoint in x: block (I, J) of padded gx gets gy[I - i, J - j] against tap (i, j), a
    correlation of gy (one zero pixel above and left) with the flipped kernel."""
    n, c, h, width = x_shape
    (sh, sw), (ph, pw) = stride, padding
    blocks = (-(-(ph + h) // sh), -(-(pw + width) // sw))      # padded gx's blocks that hold gx
    tiles = _tile_counts(blocks)
    grid = _zero_padded(gy.transpose(0, 2, 3, 1), (1, 1), (TILE * tiles[0] + 1, TILE * tiles[1] + 1),
                        "winograd_gy")
    kernel = _transformed_kernel(_block_taps(w, stride)[::-1, ::-1])                # (25, O, K)
    out = _correlate(_transformed_tiles(grid, tiles), kernel, n, tiles)
    th, tw = tiles
    padded = recycle.empty((n, th, TILE, sh, tw, TILE, sw, c), gy.dtype)
    padded.transpose(2, 5, 0, 1, 4, 3, 6, 7)[...] = out.reshape(TILE, TILE, n, th, tw, sh, sw, c)
    padded = padded.reshape(n, th * TILE * sh, tw * TILE * sw, c)
    return padded[:, ph:ph + h, pw:pw + width].transpose(0, 3, 1, 2)


def conv2d_backward_weight(x, gy, w_shape, stride, padding, transformed=None):
    """gw = G^T [sum over images and tiles of (B^T x B) * (A gy A^T)] G. `transformed`: x's tiles
    as the forward transformed them, if kept."""
    o, c = w_shape[:2]
    (sh, sw), (n, ho, wo) = stride, (gy.shape[0], *gy.shape[2:])
    tiles = _tile_counts((ho, wo))
    if transformed is None:
        transformed = _transformed_tiles(_space_to_depth_grid(x, stride, padding, tiles), tiles)
    gy_tiles = _zero_padded(gy.transpose(0, 2, 3, 1), (0, 0), (TILE * tiles[0], TILE * tiles[1]),
                            "winograd_gy")
    gathered = scratch(np, "winograd_gy_tiles", (TILE, TILE, n, *tiles, o), gy.dtype)
    gathered[...] = gy_tiles.reshape(n, tiles[0], TILE, tiles[1], TILE, o).transpose(2, 4, 0, 1, 3, 5)
    spread = scratch(np, "winograd_products", (25, gathered[0, 0].size), gy.dtype)
    profiler.matmul(np, _matrix(OUTPUT_TRANSFORM, gy.dtype), gathered.reshape(TILE * TILE, -1), out=spread)
    sums = scratch(np, "winograd_kernel", (25, o, transformed.shape[2]), gy.dtype)
    profiler.matmul(np, spread.reshape(25, -1, o).transpose(0, 2, 1), transformed, out=sums)
    taps = profiler.matmul(np, _matrix(KERNEL_TRANSFORM, gy.dtype).T, sums.reshape(25, -1))  # (4, O*sh*sw*C)
    gw = taps.reshape(2, 2, o, sh, sw, c).transpose(2, 5, 0, 3, 1, 4)          # (O, C, 2, sh, 2, sw)
    return np.ascontiguousarray(gw).reshape(w_shape)
