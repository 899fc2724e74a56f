"""minigan.conv_kernels without a GPU: the MINIGAN_CONV switch, finding the sources, argument
checks and launch plans. (The kernels themselves: test_emulated_conv.py and test_ptx.py.)"""
import subprocess
import sys

import numpy as np
import pytest

from minigan import conv_kernels
from kernel_emulation import KERNELS_DIR


@pytest.mark.parametrize("value, expected", [(None, True), ("", True), ("kernels", True), (" Kernels ", True),
                                             ("im2col", False), ("IM2COL", False)])
def test_use_kernels_reads_minigan_conv(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("MINIGAN_CONV", raising=False)
    else:
        monkeypatch.setenv("MINIGAN_CONV", value)
    assert conv_kernels.use_kernels() is expected


def test_use_kernels_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("MINIGAN_CONV", "cudnn")
    with pytest.raises(ValueError, match=r"MINIGAN_CONV='cudnn' is not a conv implementation: expected one of "
                                         r"\('kernels', 'im2col'\)"):
        conv_kernels.use_kernels()


def test_module_imports_and_plans_without_cupy():
    # in a fresh interpreter where `import cupy` fails, as on a machine without the GPU extra
    script = """
import sys
sys.modules["cupy"] = None
import numpy as np
from minigan import conv_kernels
shape = conv_kernels.ConvShape.of((2, 3, 8, 8), (4, 3, 3, 3))
assert conv_kernels.plan_forward(shape).kernel == "conv2d_forward_skinny"
try:
    conv_kernels.conv2d_forward(np.zeros((2, 3, 8, 8), np.float32), np.zeros((4, 3, 3, 3), np.float32))
except ImportError:
    print("launching needs cupy")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=KERNELS_DIR.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "launching needs cupy"


def test_source_found_in_checkout():
    assert conv_kernels.source_dir().resolve() == KERNELS_DIR.resolve()  # minigan/kernels links to it
    assert 'extern "C" __global__' in conv_kernels.source()


def test_package_copy_is_preferred_and_missing_sources_are_named(monkeypatch, tmp_path):
    wheel_dir, checkout_dir = tmp_path / "site-packages" / "minigan" / "kernels", tmp_path / "repo" / "kernels"
    for folder in (wheel_dir, checkout_dir):
        folder.mkdir(parents=True)
    monkeypatch.setattr(conv_kernels, "SOURCE_DIRS", (wheel_dir, checkout_dir))
    with pytest.raises(FileNotFoundError, match=r"conv kernels: conv2d\.cu not found in any of .*site-packages"):
        conv_kernels.source_dir()
    (checkout_dir / "conv2d.cu").write_text("// checkout")
    assert conv_kernels.source_dir() == checkout_dir
    (wheel_dir / "conv2d.cu").write_text("// wheel")
    assert conv_kernels.source_dir() == wheel_dir


def test_conv_shape_matches_the_output_size_formula():
    shape = conv_kernels.ConvShape.of((2, 4, 7, 5), (6, 2, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                      groups=2)
    assert shape.y_shape == (2, 6, 4, 3)  # (7 + 2 - 2 - 1) // 2 + 1, (5 + 0 - 2 - 1) // 1 + 1
    assert shape.weight_shape == (6, 2, 3, 2) and shape.x_shape == (2, 4, 7, 5)


@pytest.mark.parametrize("x_shape, w_shape, options, message", [
    ((2, 3, 8, 8), (4, 2, 3, 3), {}, r"input has 3 channels but weight \(4, 2, 3, 3\) with groups=1 expects 2"),
    ((2, 4, 8, 8), (3, 2, 3, 3), {"groups": 2}, r"input has 4 channels but weight \(3, 2, 3, 3\) with groups=2"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, r"stride \(0, 0\), dilation \(1, 1\) and kernel \(3, 3\) must be"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": -1}, r"stride \(1, 1\), .* must be positive, padding \(-1, -1\) >= 0"),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": (1, 2, 3)}, r"stride must be an int or a pair of ints, got \(1, 2, 3\)"),
    ((2, 3, 4, 4), (4, 3, 3, 3), {"dilation": 2}, r"input \(2, 3, 4, 4\) .* gives no output pixels"),
    ((3, 8, 8), (4, 3, 3, 3), {}, r"input \(3, 8, 8\) and weight \(4, 3, 3, 3\) must both be 4-D"),
])
def test_conv_shape_refuses_what_would_read_out_of_bounds(x_shape, w_shape, options, message):
    with pytest.raises(ValueError, match="conv kernels: " + message):
        conv_kernels.ConvShape.of(x_shape, w_shape, **options)


def test_dtype_suffix():
    assert conv_kernels.dtype_suffix(np.zeros(2, np.float32), np.zeros(2, np.float32)) == "f32"
    assert conv_kernels.dtype_suffix(np.zeros(2)) == "f64"
    with pytest.raises(TypeError, match=r"conv kernels: arrays must share one dtype, got \['float32', 'float64'\]"):
        conv_kernels.dtype_suffix(np.zeros(2, np.float32), np.zeros(2))
    with pytest.raises(TypeError, match=r"conv kernels: dtype int32 is not supported \(float32 or float64\)"):
        conv_kernels.dtype_suffix(np.zeros(2, np.int32))


# DCGAN's layers at batch 256 (64x64 images): (x shape, weight shape, stride, padding) of the conv
# whose forward / backward-data / backward-weight run; a generator's ConvTranspose2d is the
# backward-data of the conv with the roles of its input and output swapped.
DCGAN_LAYERS = [
    ((256, 3, 64, 64), (64, 3, 4, 4), 2, 1),
    ((256, 64, 32, 32), (128, 64, 4, 4), 2, 1),
    ((256, 128, 16, 16), (256, 128, 4, 4), 2, 1),
    ((256, 256, 8, 8), (512, 256, 4, 4), 2, 1),
    ((256, 512, 4, 4), (1, 512, 4, 4), 1, 0),
]


@pytest.mark.parametrize("plan", [conv_kernels.plan_forward, conv_kernels.plan_backward_data,
                                  conv_kernels.plan_backward_weight])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", DCGAN_LAYERS)
def test_plans_cover_the_problem_and_stay_within_launch_limits(plan, x_shape, w_shape, stride, padding):
    shape = conv_kernels.ConvShape.of(x_shape, w_shape, stride, padding)
    launch = plan(shape)
    variant = next((v for v in ("narrow", "skinny") if launch.kernel.endswith(f"_{v}")), "wide")
    tile_m, tile_n, tile_k = conv_kernels.TILES[variant]
    rows, columns = {
        conv_kernels.plan_forward: (shape.out_channels, shape.batch * shape.out_h * shape.out_w),
        conv_kernels.plan_backward_data: (shape.in_channels, shape.batch * (-(-shape.in_h // stride)) ** 2),
        conv_kernels.plan_backward_weight: (shape.out_channels, shape.in_channels * 16),
    }[plan]
    assert variant == conv_kernels.tile_for_rows(rows)
    assert launch.block == (tile_m * tile_n // 16, 1, 1) and launch.block[0] <= 1024
    assert launch.grid[0] * tile_n >= columns > (launch.grid[0] - 1) * tile_n
    assert launch.grid[1] * tile_m >= rows > (launch.grid[1] - 1) * tile_m
    phases = stride * stride if plan is conv_kernels.plan_backward_data else 1
    assert launch.grid[2] == phases * launch.splits and launch.grid[1] <= 65535 and launch.grid[2] <= 65535
    assert 1 <= launch.splits <= conv_kernels.MAX_SPLITS
    if launch.grid[0] * launch.grid[1] * phases >= conv_kernels.TARGET_BLOCKS:
        assert launch.splits == 1


def test_the_shortest_tile_that_holds_the_rows_is_chosen():
    assert [conv_kernels.tile_for_rows(rows) for rows in (1, 4, 5, 16, 17, 512)] == \
        ["skinny", "skinny", "narrow", "narrow", "wide", "wide"]


def test_small_products_split_k_to_fill_the_gpu():
    # the critic's last layer: one output channel, 256 pixels, K = 8192 -> one tile, so K is split
    shape = conv_kernels.ConvShape.of((256, 512, 4, 4), (1, 512, 4, 4))
    launch = conv_kernels.plan_forward(shape)
    assert launch.kernel == "conv2d_forward_skinny" and launch.grid[:2] == (1, 1)
    tile_k = conv_kernels.TILES["skinny"][2]
    assert launch.splits == min(conv_kernels.MAX_SPLITS, 8192 // (conv_kernels.MIN_CHUNKS_PER_SPLIT * tile_k))
    # but never into slices shallower than MIN_CHUNKS_PER_SPLIT chunks
    assert conv_kernels.choose_splits(blocks=1, k_total=100, tile_k=16) == 1
    assert conv_kernels.choose_splits(blocks=1, k_total=128, tile_k=16) == 2
    assert conv_kernels.choose_splits(blocks=300, k_total=10 ** 6, tile_k=16) == 1


def test_problems_past_the_kernels_limits_are_refused():
    huge = conv_kernels.ConvShape.of((4096, 1024, 32, 32), (8, 1024, 3, 3))  # 2**32 input elements
    with pytest.raises(ValueError, match=r"conv kernels: an array of 4294967296 elements is too large for "
                                         r"32-bit indexing .* set MINIGAN_CONV=im2col"):
        conv_kernels.check_limits(huge, huge.y_shape, conv_kernels.plan_forward(huge))
    many_groups = conv_kernels.ConvShape.of((1, 70000, 4, 4), (70000, 1, 3, 3), groups=70000)
    with pytest.raises(ValueError, match=r"conv kernels: conv2d_forward_skinny would need a grid of \(1, 1, 70000\)"):
        conv_kernels.check_limits(many_groups, many_groups.y_shape, conv_kernels.plan_forward(many_groups))
