"""Pictures of a run: sample grids, toy scatter plots, loss curves, bar charts (matplotlib, no display).

    save_image_grid(samples, "samples/step_001000.png")         # (N, C, H, W) in [-1, 1], C = 1 or 3
    save_toy_scatter(points, "toy.png", centers=ring8().centers)
    plot_losses("runs/dcgan/metrics.jsonl", "runs/dcgan/losses.png")
    save_bar_chart(["numpy", "torch"], [1.8, 0.9], "bench.png", ylabel="ms per step")

Every file is written to a temporary name in the target folder (created if missing) and renamed
over the target, so an interrupted write never leaves a half image. Figures take their format from
the file's extension (png, pdf, svg, ...); grids are always PNG.
"""
import json
import math
import os
import tempfile

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image   # installed with matplotlib, which uses it to write PNGs

from minigan.autograd import Tensor
from minigan import backend

NON_CURVES = ("step", "epoch", "time", "wall_time", "elapsed")   # logged numbers that are not curves


# ------------------------------------------------------------------------------------ image grids
def save_image_grid(images, path, nrow=None, value_range=(-1, 1), padding=2, pad_value=1.0, scale=1):
    """Write images (N, C, H, W), C = 1 (grey) or 3 (RGB), as one PNG grid of `nrow` images per row.

    Values are clipped to `value_range` ((-1, 1) for a tanh generator, (0, 1) for [0, 1] data) and
    mapped to 0..255. `nrow` defaults to ceil(sqrt(N)), which makes the grid square; `padding`
    pixels of `pad_value` (in [0, 1]: 1 is white) separate the images; `scale` enlarges each pixel
    to a scale x scale block. Returns the grid as uint8 (rows, cols) or (rows, cols, 3).
    """
    images = _host(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"save_image_grid: images must be (N, C, H, W) with C = 1 or 3, got shape {images.shape}")
    if len(images) == 0:
        raise ValueError(f"save_image_grid: no images to draw (shape {images.shape})")
    low, high = (float(v) for v in value_range)
    if not low < high:
        raise ValueError(f"save_image_grid: value_range must be (low, high) with low < high, got {value_range!r}")
    n, channels, height, width = images.shape
    nrow = math.ceil(math.sqrt(n)) if nrow is None else int(nrow)
    if nrow < 1:
        raise ValueError(f"save_image_grid: nrow must be a positive integer, got {nrow!r}")
    if int(scale) != scale or scale < 1 or padding < 0:
        raise ValueError(f"save_image_grid: scale must be a positive integer and padding >= 0, "
                         f"got scale={scale!r}, padding={padding!r}")
    if os.path.splitext(os.fspath(path))[1].lower() != ".png":
        raise ValueError(f"save_image_grid: grids are written as PNG; {path} does not end in .png")

    unit = (np.clip(np.nan_to_num(images.astype(np.float64), nan=low), low, high) - low) / (high - low)
    rows = math.ceil(n / nrow)
    grid = np.full((channels, padding + rows * (height + padding), padding + nrow * (width + padding)),
                   float(pad_value))
    for i, image in enumerate(unit):
        top, left = padding + (i // nrow) * (height + padding), padding + (i % nrow) * (width + padding)
        grid[:, top:top + height, left:left + width] = image
    grid = np.round(grid * 255).astype(np.uint8).transpose(1, 2, 0)
    grid = grid.repeat(int(scale), axis=0).repeat(int(scale), axis=1)
    grid = grid[:, :, 0] if channels == 1 else grid
    _write_atomically(path, lambda file: Image.fromarray(grid).save(file, format="PNG"))
    return grid


# ------------------------------------------------------------------------------------- figures
def save_toy_scatter(points, path, centers=None, title=None, max_points=20_000):
    """A scatter plot of 2-D `points` (N, 2), with the mixture's `centers` (K, 2) marked in red.

    The view frames the centers (with a margin) and every finite point; at most `max_points` points
    are drawn (the first ones), so a plot of 100,000 samples stays light.
    """
    points = _host(points).astype(np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"save_toy_scatter: points must be (N, 2), got shape {points.shape}")
    figure, axes = _figure((5, 5))
    shown = points[:max_points]
    axes.scatter(shown[:, 0], shown[:, 1], s=3, alpha=0.3, color="tab:blue", linewidths=0, zorder=2)
    extent = shown[np.isfinite(shown).all(axis=1)]
    if centers is not None:
        centers = _host(centers).astype(np.float64)
        if centers.ndim != 2 or centers.shape[1] != 2:
            raise ValueError(f"save_toy_scatter: centers must be (K, 2), got shape {centers.shape}")
        axes.scatter(centers[:, 0], centers[:, 1], s=60, marker="+", color="tab:red", linewidths=1, zorder=1)
        extent = np.concatenate([extent, centers])
    if len(extent):
        low, high = extent.min(axis=0), extent.max(axis=0)
        margin = 0.1 * max(float((high - low).max()), 1e-3)
        axes.set_xlim(low[0] - margin, high[0] + margin)
        axes.set_ylim(low[1] - margin, high[1] + margin)
    axes.set_aspect("equal")
    axes.grid(alpha=0.3)
    if title:
        axes.set_title(title)
    _save_figure(figure, path)


def plot_losses(records, path, keys=None, smoothing=None, title=None):
    """Curves of logged values against step, from `metrics.jsonl` (a path) or a list of dicts.

    `keys` defaults to every numeric key except step and time; those with "loss" in their name share
    the top panel and every other key (a penalty, k_t, a Wasserstein estimate) gets its own panel.
    Each curve is drawn faint as logged and solid after a trailing moving average over `smoothing`
    points (default: 1/50 of the points). Non-finite values are skipped.
    """
    records = _read_records(records) if isinstance(records, (str, os.PathLike)) else list(records)
    series = _series(records, keys)
    if not series:
        raise ValueError(f"plot_losses: no numeric values to plot"
                         f"{'' if keys is None else f' for keys {list(keys)}'} in {len(records)} records")
    losses = [k for k in series if "loss" in k.lower()]
    panels = ([losses] if losses else []) + [[k] for k in series if k not in losses]
    figure, axes = _figure((7, 2.2 + 1.6 * len(panels)), rows=len(panels))
    for panel, names in zip(axes, panels):
        for color, name in zip(matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] * 4, names):
            steps, values = series[name]
            window = smoothing or max(1, len(values) // 50)
            panel.plot(steps, values, color=color, alpha=0.25, linewidth=0.8)
            panel.plot(steps, _moving_average(values, int(window)), color=color, linewidth=1.5, label=name)
        panel.legend(loc="best", fontsize="small")
        panel.grid(alpha=0.3)
    axes[-1].set_xlabel("step")
    if title:
        axes[0].set_title(title)
    _save_figure(figure, path)


def save_bar_chart(names, values, path, title=None, ylabel=None, errors=None, log_scale=False, annotate=True):
    """A bar chart of `values` labelled by `names` (e.g. milliseconds per op and backend), with
    optional error bars and each bar's value written above it."""
    names, values = [str(name) for name in names], np.asarray(_host(values), dtype=np.float64)
    if values.ndim != 1 or len(values) != len(names) or not len(names):
        raise ValueError(f"save_bar_chart: need one value per name, got {len(names)} names and values "
                         f"of shape {values.shape}")
    if errors is not None and np.shape(errors) != values.shape:
        raise ValueError(f"save_bar_chart: errors must match values' shape {values.shape}, got {np.shape(errors)}")
    figure, axes = _figure((max(4.0, 0.8 * len(names) + 1.5), 4))
    bars = axes.bar(range(len(names)), values, yerr=errors, color="tab:blue", capsize=3)
    long_names = max(map(len, names)) > 8
    axes.set_xticks(range(len(names)), names, rotation=30 if long_names else 0,
                    ha="right" if long_names else "center")
    if log_scale:
        axes.set_yscale("log")
    if annotate:
        axes.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize="small")
    if ylabel:
        axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    _save_figure(figure, path)


# ------------------------------------------------------------------------------------- helpers
def _host(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(backend.as_numpy(x))


def _figure(size, rows=None):
    """A Figure on the Agg canvas (no pyplot, no display, no global state to clean up) and its
    axes: one, or a column of `rows` sharing the x axis."""
    figure = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(figure)
    if rows is None:
        return figure, figure.subplots()
    return figure, figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]


def _save_figure(figure, path):
    extension = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    _write_atomically(path, lambda file: figure.savefig(file, format=extension, dpi=100))


def _write_atomically(path, write):
    """Call write(file) on a temporary file beside `path`, then rename it over `path`."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _read_records(path):
    """The dicts of a JSON-lines file; a cut-off last line (a run killed mid-write) is skipped."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"plot_losses: no such file {path}")
    with open(path) as file:
        lines = [(number, line) for number, line in enumerate(file, 1) if line.strip()]
    records = []
    for index, (number, line) in enumerate(lines):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as error:
            if index == len(lines) - 1 and not line.endswith("\n"):
                break
            raise ValueError(f"plot_losses: {path} line {number} is not valid JSON ({error})") from None
    return records


def _series(records, keys):
    """{key: (steps, values)} for numeric, finite values; a record's step defaults to its index."""
    wanted = None if keys is None else list(keys)
    series = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise ValueError(f"plot_losses: record {index} is a {type(record).__name__}, expected a dict")
        step = record.get("step", index)
        for key, value in record.items():
            if (key in NON_CURVES if wanted is None else key not in wanted):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            steps, values = series.setdefault(key, ([], []))
            steps.append(step)
            values.append(float(value))
    order = wanted if wanted is not None else list(series)
    return {key: series[key] for key in order if key in series}


def _moving_average(values, window):
    """Mean of the last `window` values at each point (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)
