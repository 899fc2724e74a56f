"""The CUDA conv kernels of kernels/conv2d.cu, run on the CPU through kernels/cuda_emulation.h and
launched by minigan.conv_kernels' own wrappers and plans (see conftest.py), against NumPy."""
import ctypes
import itertools

import numpy as np
import pytest

from minigan import conv_kernels
from kernel_emulation import DeviceArray, compile_library

KERNEL_SIZES = [(3, 3), (2, 3), (1, 1), (4, 4)]
STRIDES = [1, 2, (2, 1), (1, 3)]
PADDINGS = [0, 1, (2, 0)]
DILATIONS = [1, 2, (1, 2)]
GROUPS = [1, 2]
IN_H, IN_W = 7, 5  # not multiples of any tile, odd for every stride


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def output_size(size, kernel, stride, padding, dilation):
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


# ---------------------------------------------------------------------------- NumPy references
# One einsum per (group, tap): the strided slice of the padded input that the tap sees.
def tap_slices(shape, r, s):
    (sh, sw), (dh, dw) = (shape.stride_h, shape.stride_w), (shape.dilation_h, shape.dilation_w)
    return (slice(r * dh, r * dh + sh * (shape.out_h - 1) + 1, sh),
            slice(s * dw, s * dw + sw * (shape.out_w - 1) + 1, sw))


def group_slices(shape, g):
    cin_g, cout_g = shape.in_channels // shape.groups, shape.out_channels // shape.groups
    return slice(g * cin_g, (g + 1) * cin_g), slice(g * cout_g, (g + 1) * cout_g)


def padded(x, shape):
    return np.pad(x, ((0, 0), (0, 0), (shape.pad_h, shape.pad_h), (shape.pad_w, shape.pad_w)))


def reference_forward(x, w, shape):
    x, w = x.astype(np.float64), w.astype(np.float64)
    xp, y = padded(x, shape), np.zeros(shape.y_shape)
    for g, r, s in itertools.product(range(shape.groups), range(shape.kernel_h), range(shape.kernel_w)):
        cin, cout = group_slices(shape, g)
        rows, cols = tap_slices(shape, r, s)
        y[:, cout] += np.einsum("nchw,oc->nohw", xp[:, cin, rows, cols], w[cout, :, r, s])
    return y


def reference_backward_data(gy, w, shape):
    gy, w = gy.astype(np.float64), w.astype(np.float64)
    gxp = padded(np.zeros(shape.x_shape), shape)
    for g, r, s in itertools.product(range(shape.groups), range(shape.kernel_h), range(shape.kernel_w)):
        cin, cout = group_slices(shape, g)
        rows, cols = tap_slices(shape, r, s)
        gxp[:, cin, rows, cols] += np.einsum("nohw,oc->nchw", gy[:, cout], w[cout, :, r, s])
    return gxp[:, :, shape.pad_h:shape.pad_h + shape.in_h, shape.pad_w:shape.pad_w + shape.in_w]


def reference_backward_weight(x, gy, shape):
    x, gy = x.astype(np.float64), gy.astype(np.float64)
    xp, gw = padded(x, shape), np.zeros(shape.weight_shape)
    for g, r, s in itertools.product(range(shape.groups), range(shape.kernel_h), range(shape.kernel_w)):
        cin, cout = group_slices(shape, g)
        rows, cols = tap_slices(shape, r, s)
        gw[cout, :, r, s] = np.einsum("nohw,nchw->oc", gy[:, cout], xp[:, cin, rows, cols])
    return gw


# ----------------------------------------------------------------------------------- the cases
def make_cases():
    cases = []
    for kernel, stride, padding, dilation, groups in itertools.product(KERNEL_SIZES, STRIDES, PADDINGS,
                                                                        DILATIONS, GROUPS):
        (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, pair(stride), pair(padding), pair(dilation)
        if output_size(IN_H, kh, sh, ph, dh) > 0 and output_size(IN_W, kw, sw, pw, dw) > 0:
            cases.append(dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation, groups=groups))
    return cases


CASES = make_cases()


def case_id(case):
    return "k{}x{}-s{}-p{}-d{}-g{}".format(*case["kernel"], *(str(case[k]).replace(" ", "") for k in
                                                              ("stride", "padding", "dilation", "groups")))


def make_problem(case, dtype, seed, in_per_group=3, out_per_group=5, batch=2):
    rng = np.random.default_rng(seed)
    groups = case["groups"]
    x = rng.standard_normal((batch, in_per_group * groups, IN_H, IN_W)).astype(dtype)
    w = rng.standard_normal((out_per_group * groups, in_per_group, *case["kernel"])).astype(dtype)
    shape = conv_kernels.ConvShape.of(x.shape, w.shape, case["stride"], case["padding"], case["dilation"], groups)
    gy = rng.standard_normal(shape.y_shape).astype(dtype)
    return x, w, gy, shape


def device(a):
    return a.view(DeviceArray)


def run_all(x, w, gy, shape, case):
    options = (case["stride"], case["padding"], case["dilation"], case["groups"])
    y = conv_kernels.conv2d_forward(device(x), device(w), *options)
    gx = conv_kernels.conv2d_backward_data(device(gy), device(w), x.shape, *options)
    gw = conv_kernels.conv2d_backward_weight(device(x), device(gy), w.shape, *options)
    return np.asarray(y), np.asarray(gx), np.asarray(gw)


def tolerance(dtype):
    return dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-11, atol=1e-11)


def check_against_reference(x, w, gy, shape, case, dtype):
    y, gx, gw = run_all(x, w, gy, shape, case)
    for name, got, want in (("forward", y, reference_forward(x, w, shape)),
                            ("backward-data", gx, reference_backward_data(gy, w, shape)),
                            ("backward-weight", gw, reference_backward_weight(x, gy, shape))):
        assert got.dtype == dtype and got.shape == want.shape, (name, got.dtype, got.shape)
        np.testing.assert_allclose(got, want, err_msg=f"{name} {case_id(case)}", **tolerance(dtype))
    return y, gx, gw


# ------------------------------------------------------------------------------------ the tests
def test_references_are_adjoint():
    # <conv(x), gy> = <x, backward_data(gy)> = <w, backward_weight(x, gy)>: the three references
    # describe one linear map, so an error in one of them cannot match the kernels by accident.
    for index, case in enumerate(CASES[::7]):
        x, w, gy, shape = make_problem(case, np.float64, seed=index)
        y = reference_forward(x, w, shape)
        assert np.vdot(y, gy) == pytest.approx(np.vdot(x, reference_backward_data(gy, w, shape)), rel=1e-10)
        assert np.vdot(y, gy) == pytest.approx(np.vdot(w, reference_backward_weight(x, gy, shape)), rel=1e-10)


def test_reference_matches_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for index, case in enumerate(CASES[::5]):
        x, w, gy, shape = make_problem(case, np.float64, seed=index)
        options = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"],
                       groups=case["groups"])
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        yt = F.conv2d(xt, wt, **options)
        yt.backward(torch.tensor(gy))
        np.testing.assert_allclose(reference_forward(x, w, shape), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(reference_backward_data(gy, w, shape), xt.grad.numpy(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(reference_backward_weight(x, gy, shape), wt.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_kernels_match_reference(emulated, monkeypatch, case, dtype):
    # Half the cases never split K; the other half split it as finely as allowed (one TK chunk
    # a split, some splits empty), so both store paths and the split sum are exercised.
    index = CASES.index(case)
    if index % 2:
        monkeypatch.setattr(conv_kernels, "TARGET_BLOCKS", 1)
    else:
        monkeypatch.setattr(conv_kernels, "TARGET_BLOCKS", 10 ** 6)
        monkeypatch.setattr(conv_kernels, "MIN_CHUNKS_PER_SPLIT", 1)
    x, w, gy, shape = make_problem(case, dtype, seed=index)
    check_against_reference(x, w, gy, shape, case, dtype)
    suffix = "f32" if dtype == np.float32 else "f64"
    names = [name for name, *_ in emulated.launches]
    # 3 input and 5 output channels a group: skinny tiles for the input gradient, narrow ones else
    assert all(name.endswith((f"_narrow_{suffix}", f"_skinny_{suffix}")) for name in names
               if "sum_splits" not in name), names
    assert f"conv2d_backward_data_skinny_{suffix}" in names and f"conv2d_forward_narrow_{suffix}" in names
    # backward-weight reduces over all output pixels: two chunks or more must have been split
    if index % 2 == 0 and shape.batch * shape.out_h * shape.out_w >= 2 * conv_kernels.TILES["narrow"][2]:
        assert f"conv2d_sum_splits_{suffix}" in names, names


WIDE_CASES = [dict(kernel=(3, 3), stride=1, padding=1, dilation=1, groups=1),
              dict(kernel=(4, 4), stride=2, padding=1, dilation=1, groups=2),
              dict(kernel=(2, 3), stride=(2, 1), padding=(2, 0), dilation=(1, 2), groups=1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", WIDE_CASES, ids=[case_id(c) for c in WIDE_CASES])
def test_wide_tiles_match_reference(emulated, case, dtype):
    # 17 and 18 channels a group: more rows than a narrow tile, so the wide kernels run, with a
    # partly filled second row of tiles.
    x, w, gy, shape = make_problem(case, dtype, seed=1, in_per_group=18, out_per_group=17)
    check_against_reference(x, w, gy, shape, case, dtype)
    kernels = {name for name, *_ in emulated.launches if "sum_splits" not in name}
    assert not any("narrow" in name or "skinny" in name for name in kernels), kernels


FULL_TILE_CASES = [
    (dict(kernel=(3, 3), stride=2, padding=1, dilation=1, groups=1), 18, 20),  # wide tiles, K split
    (dict(kernel=(4, 4), stride=2, padding=1, dilation=1, groups=1), 3, 4),    # DCGAN-like, skinny tiles
    (dict(kernel=(4, 4), stride=2, padding=1, dilation=1, groups=1), 9, 12),   # narrow tiles
]


@pytest.mark.parametrize("case, in_channels, out_channels", FULL_TILE_CASES,
                         ids=[case_id(c) for c, *_ in FULL_TILE_CASES])
def test_gpu_tile_sizes_match_reference(emulated_full_tiles, case, in_channels, out_channels):
    # The tile shapes the GPU runs (64 x 64 and 16 x 256 with 256 threads a block, 4 x 512 with
    # 128), as planned by conv_kernels with its real settings.
    x, w, gy, shape = make_problem(case, np.float32, seed=3, in_per_group=in_channels,
                                   out_per_group=out_channels, batch=2)
    check_against_reference(x, w, gy, shape, case, np.float32)
    for name, _, block, _ in emulated_full_tiles.launches:
        if "sum" not in name:
            variant = next((v for v in ("narrow", "skinny") if f"_{v}_" in name), "wide")
            tile_m, tile_n, _ = conv_kernels.TILES[variant]
            assert block == (tile_m * tile_n // 16, 1, 1), (name, block)
    variants = {v for v in ("narrow", "skinny") for name, *_ in emulated_full_tiles.launches if f"_{v}_" in name}
    assert variants == ({"skinny"} if out_channels <= 4 else {"narrow"} if out_channels <= 16 else set())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_results_are_bitwise_deterministic(emulated, monkeypatch, dtype):
    monkeypatch.setattr(conv_kernels, "MIN_CHUNKS_PER_SPLIT", 1)  # many splits: the sum order matters
    case = dict(kernel=(3, 3), stride=2, padding=1, dilation=1, groups=2)
    x, w, gy, shape = make_problem(case, dtype, seed=7)
    first, second = run_all(x, w, gy, shape, case), run_all(x, w, gy, shape, case)
    assert any("sum_splits" in name for name, *_ in emulated.launches)
    for a, b in zip(first, second):
        assert a.tobytes() == b.tobytes()


def test_non_contiguous_inputs_and_output_padding(emulated):
    # A transposed view must be made contiguous before launch. Input heights 7 and 8 both give
    # 4 output rows at stride 2 (conv_transpose2d's output_padding picks between them); the
    # gradient must cover exactly the requested one.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 8)).transpose(0, 1, 3, 2)  # (2, 3, 8, 6), not contiguous
    w = rng.standard_normal((4, 3, 3, 3))
    shape = conv_kernels.ConvShape.of(x.shape, w.shape, 2, 1)
    y = conv_kernels.conv2d_forward(device(x), device(w), 2, 1)
    np.testing.assert_allclose(np.asarray(y), reference_forward(x, w, shape), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(shape.y_shape)
    for in_h in (7, 8):
        tall = conv_kernels.ConvShape.of((2, 3, in_h, 6), w.shape, 2, 1)
        assert tall.y_shape == shape.y_shape
        gx = conv_kernels.conv2d_backward_data(device(gy), device(w), (2, 3, in_h, 6), 2, 1)
        np.testing.assert_allclose(np.asarray(gx), reference_backward_data(gy, w, tall), rtol=1e-12, atol=1e-12)


def test_empty_batch(emulated):
    x, w = np.zeros((0, 2, 5, 5)), np.ones((3, 2, 3, 3))
    assert np.asarray(conv_kernels.conv2d_forward(device(x), device(w))).shape == (0, 3, 3, 3)
    gw = conv_kernels.conv2d_backward_weight(device(x), device(np.zeros((0, 3, 3, 3))), w.shape)
    np.testing.assert_array_equal(np.asarray(gw), np.zeros(w.shape))


@pytest.mark.parametrize("case", CASES[::9], ids=[case_id(c) for c in CASES[::9]])
def test_kernels_match_the_im2col_path(emulated, case):
    # minigan.ops.conv's array functions are what MINIGAN_CONV=im2col runs on cuda
    ops_conv = pytest.importorskip("minigan.ops.conv")
    if not hasattr(ops_conv, "conv2d_forward_array"):
        pytest.skip("minigan.ops.conv.conv2d_forward_array has not landed yet")
    x, w, gy, shape = make_problem(case, np.float64, seed=11)
    options = tuple(pair(case[k]) for k in ("stride", "padding", "dilation")) + (case["groups"],)
    ours = run_all(x, w, gy, shape, case)
    im2col = (ops_conv.conv2d_forward_array(x, w, *options),
              ops_conv.conv2d_backward_data_array(gy, w, x.shape, *options),
              ops_conv.conv2d_backward_weight_array(x, gy, w.shape, *options))
    for name, a, b in zip(("forward", "backward-data", "backward-weight"), ours, im2col):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-12, atol=1e-12, err_msg=name)


# ------------------------------------------------------------------------- the emulator itself
@pytest.fixture(scope="module")
def selftest(tmp_path_factory):
    return compile_library("emulation_selftest.cpp", tmp_path_factory.mktemp("selftest"))


def test_emulator_shares_memory_and_barriers_within_a_block(selftest):
    values = np.arange(1.0, 101.0)
    sums = np.full(4, np.nan)
    status = selftest.selftest_block_sums(ctypes.c_void_p(values.ctypes.data), ctypes.c_void_p(sums.ctypes.data),
                                          ctypes.c_int(100), ctypes.c_uint(4), ctypes.c_uint(32))
    assert status == 0
    np.testing.assert_array_equal(sums, [values[i:i + 32].sum() for i in range(0, 128, 32)])


def test_emulator_reports_divergent_syncthreads(selftest):
    out = np.zeros(8, dtype=np.int32)
    assert selftest.selftest_divergent_sync(ctypes.c_void_p(out.ctypes.data), ctypes.c_uint(8)) == 1


def test_emulator_thread_and_block_indices(selftest):
    grid, block = (3, 2, 2), (4, 2, 1)
    out = np.full((2, 2, 3, 1, 2, 4, 6), -1, dtype=np.int32)  # [bz, by, bx, tz, ty, tx, field]
    status = selftest.selftest_coordinates(ctypes.c_void_p(out.ctypes.data), (ctypes.c_uint * 3)(*grid),
                                           (ctypes.c_uint * 3)(*block))
    assert status == 0
    bz, by, bx, tz, ty, tx = np.indices(out.shape[:-1])
    np.testing.assert_array_equal(out, np.stack([tx, ty, tz, bx, by, bz], axis=-1))
