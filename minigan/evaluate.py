"""`minigan eval RUN_DIR`: draw samples from a run's checkpoint and compute its dataset's metrics."""
import numpy as np

import minigan as mg
from minigan import backend, data as datasets, metrics
from minigan.train import load_run

DEFAULT_SAMPLES = {"toy": 2500, "image": 5000, "stacked-mnist": 26000}  # VEEGAN/GDPP and PacGAN counts
BATCH = 500


def generate(run, n, seed=0, averaged=True):
    """n samples as a host float32 array, drawn in batches with a fixed seed; from G's weight
    average when the run keeps one, unless `averaged=False` (the trained G itself)."""
    mg.manual_seed(seed)
    chunks = []
    for start in range(0, n, BATCH):
        z = run.variant.sample_noise(min(BATCH, n - start))
        chunks.append(backend.as_numpy(run.variant.generate(z, averaged=averaged).data).astype(np.float32))
    return np.concatenate(chunks)


def evaluate_run(run_dir, n=None, device=None, seed=0, model=None, averaged=True):
    """A dict of the run's metrics: toys -> modes and high-quality fraction; mnist-like -> classifier
    FID (with the real-vs-real floor), class coverage and KL; stacked-mnist -> modes of 1,000 and KL.
    `model` replaces the cached metrics classifier (tests pass a tiny one). Samples come from G's
    weight average when the run keeps one (`ema` > 0; reported as `ema`), else from G itself."""
    run = load_run(run_dir, device=device)
    dataset = run.config.dataset
    kind = "stacked-mnist" if dataset == "stacked-mnist" else ("image" if run.spec.is_image else "toy")
    n = n or DEFAULT_SAMPLES[kind]
    samples = generate(run, n, seed, averaged)
    if kind == "toy":
        mixture = datasets.toy(dataset)
        found = metrics.toy_mode_metrics(samples, mixture.centers, mixture.std)
    elif kind == "stacked-mnist":
        model = model or metrics.classifier("mnist", data_dir=run.config.data_dir)
        found = metrics.stacked_mnist_modes(samples, model)
    else:
        found = metrics.image_metrics(samples, dataset, model=model, data_dir=run.config.data_dir)
    ema = float(run.variant.config["ema"]) if averaged else 0.0
    return {"variant": run.config.variant, "dataset": dataset, "step": run.step, "samples": n, "ema": ema,
            **_plain(found)}


def _plain(found):
    """Numbers, strings and lists (per-mode counts, class histograms) as plain Python values: JSON
    keeps them all, the printed table only the scalars."""
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in found.items()
            if isinstance(v, (int, float, np.number, str, list))}


def format_results(results):
    """The scalar results as an aligned two-column table (lists are in `--json` only)."""
    results = {k: v for k, v in results.items() if not isinstance(v, list)}
    width = max(len(k) for k in results)
    lines = []
    for key, value in results.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        lines.append(f"{key:<{width}}  {shown}")
    return "\n".join(lines)
