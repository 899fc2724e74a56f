"""The one training loop every variant shares.

    minigan.train.train("dcgan", dataset="mnist", steps=2000, out="runs/dcgan")

A run directory holds `config.json`, `metrics.jsonl` (one line per logged step), `checkpoint.npz`
(the whole training state, written atomically), `samples/step_XXXXXX.png` and `losses.png`.
`resume=True` continues from the checkpoint bit-identically on CPU: networks, optimiser moments,
variant state, G's weight average (option `ema`), the random generator and the data order are all
restored. Samples (grids, `minigan sample`, `minigan eval`) come from that average when there is one.
"""
import json
import math
import os
from dataclasses import asdict, dataclass, field

from tqdm import tqdm

import minigan as mg
from minigan import backend, data as datasets, gans, viz
from minigan.gans.base import DataSpec

CHECKPOINT = "checkpoint.npz"
FIXED_IMAGES = 64       # the sample grid's fixed noise
FIXED_POINTS = 2500     # a toy scatter's fixed noise (the VEEGAN/GDPP sample count)


def learning_rate_factor(schedule, step, steps):
    """The multiplier of every optimiser's initial lr for the update after `step` steps: 1 for
    "constant"; 1 - step / steps for "linear", towards 0 at the end (the decay of the WGAN-GP
    authors' CIFAR-10 ResNet script). A resumed run that extends `steps` stretches the ramp."""
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return max(0.0, 1.0 - step / steps)
    raise ValueError(f"lr_schedule: expected 'constant' or 'linear', got {schedule!r}")


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class RunConfig:
    variant: str
    dataset: str = "mnist"
    steps: int = 2000
    batch_size: int = 0            # 0: the variant's default
    seed: int = 0
    device: str = "cpu"
    data_dir: str = None
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    options: dict = field(default_factory=dict)   # variant hyperparameter overrides

    def __post_init__(self):
        """Bad numbers fail here, before any training (a 0 in `step % sample_every` would fail after it)."""
        lowest = {"steps": 1, "batch_size": 0, "sample_every": 0, "checkpoint_every": 0, "log_every": 1}
        for name, low in lowest.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"RunConfig: {name} must be an integer >= {low}, got {value!r}")


def data_spec(dataset, images):
    shape = tuple(images.shape[1:]) if hasattr(images, "shape") else tuple(images[0].shape)
    classes = {"mnist": 10, "fashion-mnist": 10, "stacked-mnist": 1000}.get(dataset, 0)
    return DataSpec(dataset, shape, classes)


class Run:
    """A training run in a directory: builds everything from `config.json`, trains, checkpoints.

    `read_only` (sampling, evaluating; implies resume) loads the latest checkpoint and writes nothing:
    the run may still be training in another process, and a mistyped path must not become a folder.
    """

    def __init__(self, out, config=None, resume=False, device=None, read_only=False):
        self.out, self.read_only = out, read_only
        resume = resume or read_only
        if os.path.exists(out) and not os.path.isdir(out):
            raise NotADirectoryError(f"{out} is a file, not a run directory")
        self.config = self._config(config, resume)
        if device is not None:  # e.g. sample on another device than the run trained on
            self.config.device = backend.check_device(device)
        backend.manual_seed(self.config.seed)
        x, labels = datasets.load_dataset(self.config.dataset, "train", self.config.data_dir, seed=self.config.seed)
        self.spec = data_spec(self.config.dataset, x)
        self.variant = gans.create(self.config.variant, self.spec, **self.config.options).to(self.config.device)
        self.batch_size = self.config.batch_size or self.variant.config["batch_size"]
        self.loader = datasets.DataLoader((x, labels), self.batch_size, seed=self.config.seed,
                                          device=self.config.device)
        # drawn once: saving samples must never consume the training generator (resume would drift)
        self.fixed_z = self.variant.sample_noise(FIXED_IMAGES if self.spec.is_image else FIXED_POINTS)
        self.step = 0
        learning_rate_factor(self.variant.config["lr_schedule"], 0, 1)  # a bad name fails here, not mid-run
        # taken before a checkpoint (which holds the scheduled lrs) is restored
        self.initial_lrs = {name: [group["lr"] for group in opt.param_groups]
                            for name, opt in self.variant.optimizers.items()}
        if resume:
            self._restore()

    # ---------------------------------------------------------------------- config and state
    def _config(self, config, resume):
        path = os.path.join(self.out, "config.json")
        if resume:
            if not os.path.exists(path):
                raise FileNotFoundError(f"no run in {self.out}: config.json is missing (train one with `minigan train`)")
            with open(path) as f:
                saved = RunConfig(**json.load(f))
            if config is not None and config.steps != saved.steps:
                saved.steps = config.steps  # resuming may extend a run
            config = saved
        if not self.read_only:
            os.makedirs(os.path.join(self.out, "samples"), exist_ok=True)
            _write_json(path, asdict(config))
        return config

    def state_dict(self):
        return {"step": self.step, "variant": self.variant.state_dict(), "loader": self.loader.state_dict(),
                "rng": json.dumps(backend.get_rng_state()), "fixed_z": self.fixed_z}

    def save_checkpoint(self):
        mg.save(self.state_dict(), os.path.join(self.out, CHECKPOINT))

    def _restore(self):
        path = os.path.join(self.out, CHECKPOINT)
        if not os.path.exists(path):
            raise FileNotFoundError(f"resume: {path} does not exist")
        state = mg.load(path, device=self.config.device)
        try:
            self.variant.load_state_dict(state["variant"])
        except RuntimeError as error:
            if "size mismatch" in str(error) and not self.spec.is_image and "z_dim" not in self.config.options:
                raise RuntimeError(
                    f"{error}\n{self.out} may come from before 2-D toys got 2-D noise: such runs used z_dim 100 "
                    f"(sngan 128); add \"z_dim\": 100 to \"options\" in its config.json") from error
            raise
        self.loader.load_state_dict(state["loader"])
        backend.set_rng_state(json.loads(state["rng"]))
        self.fixed_z = state["fixed_z"]
        self.step = int(state["step"])
        if not self.read_only:  # training goes on from here: later lines would be logged twice
            _truncate_log(os.path.join(self.out, "metrics.jsonl"), self.step)

    # ------------------------------------------------------------------------------- training
    def train_step(self):
        """n_critic discriminator updates, then one generator update; the logged numbers."""
        self._schedule_learning_rates()
        logs = {}
        for _ in range(self.variant.n_critic):
            real, labels = self.loader.next_batch()
            logs.update(self.variant.discriminator_step(real, labels))
        logs.update(self.variant.generator_step(self.batch_size, labels))
        self.variant.update_generator_average()
        return logs

    def _schedule_learning_rates(self):
        factor = learning_rate_factor(self.variant.config["lr_schedule"], self.step, self.config.steps)
        for name, opt in self.variant.optimizers.items():
            for group, initial in zip(opt.param_groups, self.initial_lrs[name]):
                group["lr"] = initial * factor

    def train(self, progress=True):
        """Train to `config.steps`, checkpointing every `checkpoint_every` steps and on Ctrl-C."""
        if self.read_only:
            raise RuntimeError(f"{self.out} was loaded read-only (load_run); train it with Run(out, resume=True)")
        c = self.config
        bar = tqdm(total=c.steps, initial=self.step, desc=f"{c.variant} on {c.dataset}", unit="step",
                   disable=not progress, dynamic_ncols=True)
        log = open(os.path.join(self.out, "metrics.jsonl"), "a")
        try:
            while self.step < c.steps:
                logs = self.train_step()
                self.step += 1
                _check_finite(logs, self.step, self.out)
                if self.step % c.log_every == 0 or self.step == c.steps:
                    log.write(json.dumps({"step": self.step, **logs}) + "\n")
                    log.flush()
                    bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items()}, refresh=False)
                if _every(self.step, c.sample_every) or self.step == c.steps:
                    self.save_samples()
                if _every(self.step, c.checkpoint_every) or self.step == c.steps:
                    self.save_checkpoint()
                bar.update(1)
        except KeyboardInterrupt:
            self.save_checkpoint()
            print(f"\ninterrupted at step {self.step}: checkpoint saved; continue with --resume", flush=True)
            raise
        finally:
            log.close()
            bar.close()
        viz.plot_losses(os.path.join(self.out, "metrics.jsonl"), os.path.join(self.out, "losses.png"))
        return self

    def save_samples(self):
        samples = backend.as_numpy(self.variant.generate(self.fixed_z).data)
        path = os.path.join(self.out, "samples", f"step_{self.step:06d}.png")
        if self.spec.is_image:
            viz.save_image_grid(samples, path)
        else:
            viz.save_toy_scatter(samples, path, centers=datasets.toy(self.config.dataset).centers,
                                 title=f"{self.config.variant}, step {self.step}{_average_note(self.variant)}")
        return path


def _every(step, period):
    """Whether `step` is a multiple of `period`; a period of 0 means never (the last step still counts)."""
    return period > 0 and step % period == 0


def _average_note(variant):
    decay = variant.config["ema"]
    return f" (G weight average, decay {decay:g})" if decay else ""


def _check_finite(logs, step, out):
    bad = {k: v for k, v in logs.items() if not math.isfinite(v)}
    if bad:
        raise TrainingDiverged(
            f"step {step}: {', '.join(f'{k} = {v}' for k, v in bad.items())}; training stopped. "
            f"The last good checkpoint in {out} is kept (lower the learning rate, or --resume from it)")


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


def _truncate_log(path, step):
    """Drop log lines past the checkpoint's step, so a resumed run's log has no duplicates."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        kept = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
    with open(path, "w") as f:
        f.writelines(kept)


def train(variant, dataset="mnist", steps=2000, out=None, resume=False, progress=True, **settings):
    """Train `variant` on `dataset` for `steps` steps in `out` (default runs/<variant>-<dataset>)."""
    out = out or os.path.join("runs", f"{variant}-{dataset}")
    config = RunConfig(variant=variant, dataset=dataset, steps=steps, **settings)
    return Run(out, config, resume=resume).train(progress=progress)


def load_run(out, device=None):
    """A run (finished, interrupted or still training) with its latest checkpoint loaded, for sampling
    and eval. Writes nothing to the run directory."""
    return Run(out, device=device, read_only=True)
