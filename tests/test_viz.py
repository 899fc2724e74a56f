"""viz: PNG grids, toy scatter plots, loss curves, bar charts; atomic writes."""
import json
import os

import matplotlib.image
import numpy as np
import pytest

import minigan as mg
from minigan import viz


def _png(path):
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"
    return matplotlib.image.imread(path)


def test_grey_grid_layout_and_values(tmp_path):
    images = np.full((5, 1, 4, 6), -1.0)
    images[1] = 1.0                                        # the second image white, the rest black
    path = tmp_path / "grid.png"
    viz.save_image_grid(images, path, nrow=3, padding=1, pad_value=0.5)
    picture = _png(path)
    assert picture.shape == (1 + 2 * (4 + 1), 1 + 3 * (6 + 1))   # 2 rows of 3 columns, 1-pixel borders
    assert picture[1, 1] == 0.0 and picture[1, 8] == 1.0 and picture[6, 1] == 0.0
    assert picture[0, 0] == pytest.approx(128 / 255)        # padding
    assert picture[6, 15] == pytest.approx(128 / 255)       # the empty sixth cell is padding too


def test_rgb_grid_from_a_tensor_in_zero_one_with_scale(tmp_path):
    images = np.zeros((4, 3, 5, 5), dtype=np.float32)
    images[:, 0] = 1.0                                     # pure red
    path = tmp_path / "rgb.png"
    viz.save_image_grid(mg.tensor(images), path, value_range=(0, 1), padding=0, scale=2)
    picture = _png(path)
    assert picture.shape == (20, 20, 3)                    # 2 x 2 grid of 10 x 10 (scaled) images
    assert (picture[..., 0] == 1).all() and (picture[..., 1:] == 0).all()


def test_grid_clips_out_of_range_values(tmp_path):
    viz.save_image_grid(np.array([[[[-5.0, 0.0, 5.0, np.nan]]]]), tmp_path / "clip.png", padding=0)
    assert _png(tmp_path / "clip.png")[0].tolist() == pytest.approx([0.0, 128 / 255, 1.0, 0.0])   # NaN -> low


def test_grid_errors(tmp_path):
    with pytest.raises(ValueError, match=r"save_image_grid: images must be \(N, C, H, W\) with C = 1 or 3, got shape \(2, 2, 4, 4\)"):
        viz.save_image_grid(np.zeros((2, 2, 4, 4)), tmp_path / "x.png")
    with pytest.raises(ValueError, match=r"save_image_grid: grids are written as PNG; .*x.jpg does not end in .png"):
        viz.save_image_grid(np.zeros((2, 1, 4, 4)), tmp_path / "x.jpg")
    assert os.listdir(tmp_path) == []


def test_toy_scatter_and_bar_chart_write_pngs(tmp_path):
    points = np.random.default_rng(0).standard_normal((500, 2))
    viz.save_toy_scatter(points, tmp_path / "sub" / "toy.png", centers=np.zeros((1, 2)), title="toy")
    assert _png(tmp_path / "sub" / "toy.png").shape[2] in (3, 4)
    viz.save_bar_chart(["numpy", "torch"], [2.0, 1.0], tmp_path / "bar.png", ylabel="ms", errors=[0.1, 0.1])
    assert _png(tmp_path / "bar.png").ndim == 3
    with pytest.raises(ValueError, match=r"save_toy_scatter: points must be \(N, 2\), got shape \(5, 3\)"):
        viz.save_toy_scatter(np.zeros((5, 3)), tmp_path / "bad.png")
    with pytest.raises(ValueError, match=r"save_bar_chart: need one value per name, got 2 names and values of shape \(3,\)"):
        viz.save_bar_chart(["a", "b"], [1, 2, 3], tmp_path / "bad.png")


def test_plot_losses_from_jsonl_with_a_cut_off_last_line(tmp_path):
    log = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"step": s, "loss_D": 1.0 / s, "loss_G": 2.0, "k_t": s / 100}) for s in range(1, 101)]
    log.write_text("\n".join(lines) + '\n{"step": 101, "loss_')   # a run killed mid-write
    viz.plot_losses(log, tmp_path / "losses.png")
    assert _png(tmp_path / "losses.png").ndim == 3


def test_plot_losses_skips_missing_and_non_finite_values(tmp_path):
    records = [{"step": 1, "loss_D": 1.0}, {"step": 2, "loss_D": float("nan"), "loss_G": 0.5},
               {"step": 3, "loss_D": 0.5, "note": "text"}]
    assert viz._series(records, None) == {"loss_D": ([1, 3], [1.0, 0.5]), "loss_G": ([2], [0.5])}
    viz.plot_losses(records, tmp_path / "losses.png")
    with pytest.raises(ValueError, match=r"plot_losses: no numeric values to plot for keys \['loss_X'\] in 3 records"):
        viz.plot_losses(records, tmp_path / "none.png", keys=["loss_X"])


def test_plot_losses_bad_line_in_the_middle(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1, "loss": 1}\nnot json\n{"step": 3, "loss": 1}\n')
    with pytest.raises(ValueError, match=r"plot_losses: .*metrics.jsonl line 2 is not valid JSON"):
        viz.plot_losses(log, tmp_path / "losses.png")


def test_moving_average():
    assert viz._moving_average([1.0, 3.0, 5.0, 7.0], 2).tolist() == [1.0, 2.0, 4.0, 6.0]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    viz.save_image_grid(np.zeros((1, 1, 4, 4)), path)
    before = path.read_bytes()

    def crash(self, file, format=None):
        file.write(b"\x89PNG half")
        raise KeyboardInterrupt
    monkeypatch.setattr(viz.Image.Image, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        viz.save_image_grid(np.ones((1, 1, 4, 4)), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["grid.png"]
