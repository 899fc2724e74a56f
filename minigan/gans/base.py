"""What every GAN variant is: networks, optimisers, a discriminator step and a generator step.

A variant subclasses `Variant`, sets `defaults` (each with its source in the docstring) and
implements `build`, `discriminator_step` and `generator_step`. Everything else (data, the loop,
checkpoints, logging, samples, metrics, the CLI) is shared, in `minigan.train` and friends.

Every variant also takes `ema` (default 0, off): the decay of an exponential moving average of G's
weights (Yazici et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"; ProGAN's and
StyleGAN's G_ema). The average never feeds back into training; `generate` samples from it.
And `lr_schedule`: "constant" (default) or "linear", which the loop applies (`minigan.train`).
"""
import contextlib
from dataclasses import dataclass

import minigan as mg
from minigan import optim


@dataclass(frozen=True)
class DataSpec:
    """What the networks must produce: images (C, H, W) or points (D,), and the number of classes."""
    name: str
    shape: tuple
    num_classes: int = 0

    @property
    def is_image(self):
        return len(self.shape) == 3


class Variant:
    """A GAN recipe. Subclasses set `name`, `defaults`, and implement the three methods below."""

    name = None
    defaults = {}           # hyperparameters; the subclass docstring says where each comes from
    toy_defaults = {}       # what else differs on 2-D points (e.g. WGAN-GP's toy penalty weight)
    state_keys = ()         # extra numbers saved in checkpoints (BEGAN's k_t, ...)
    # Every variant draws 2-D noise on 2-D points, as the toy code of WGAN-GP's authors (gan_toy.py)
    # and PacGAN do. With the image z (100 dims) G needs far longer to form tight clusters: wgan-gp
    # on ring8 after 2,000 of 3,000 linearly decayed steps, 52.8% high-quality samples with z of 2
    # dims against 4.4% with 100 (README, "Measured so far").
    TOY_Z_DIM = 2

    def __init__(self, data, **overrides):
        defaults = self.all_defaults()
        unknown = sorted(set(overrides) - set(defaults))
        if unknown:
            raise ValueError(f"{self.name}: unknown option(s) {unknown}; known: {sorted(defaults)}")
        overrides = {key: _checked_option(self.name, key, defaults[key], value) for key, value in overrides.items()}
        self.data = data
        toy = {} if data.is_image else {"z_dim": self.TOY_Z_DIM, **self.toy_defaults}
        self.config = {**defaults, **toy, **overrides}
        self.nets = self.build()
        self.optimizers = self.build_optimizers()
        decay = float(self.config["ema"])
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"{self.name}: ema (G's weight-average decay) must be in [0, 1), 0 for off; got {decay}")
        self.generator_average = optim.EMA(self.nets["G"], decay) if decay > 0 else None

    @classmethod
    def all_defaults(cls):
        merged = {"z_dim": 100, "batch_size": 64, "n_critic": 1, "ema": 0.0, "lr_schedule": "constant"}
        for klass in reversed(cls.__mro__):
            merged.update(getattr(klass, "defaults", {}))
        return merged

    # ---- what a variant defines
    def build(self):
        """{"G": generator, "D": discriminator, ...} as nn.Modules."""
        raise NotImplementedError

    def build_optimizers(self):
        """Adam on G and D with `lr`, `betas` from the config (override for RMSprop etc.)."""
        c = self.config
        return {name: optim.Adam(net.parameters(), lr=c["lr"], betas=tuple(c["betas"]))
                for name, net in self.nets.items() if name in ("G", "D")}

    def discriminator_step(self, real, labels=None):
        """One update of D on a real batch; returns {"loss_D": float, ...}."""
        raise NotImplementedError

    def generator_loss(self, fake_scores):
        """G's loss from D's raw scores of a fresh fake batch (used by the default generator_step)."""
        raise NotImplementedError

    def generator_step(self, batch_size, labels=None):
        """One update of G on generator_loss(D(G(z))), D frozen; returns {"loss_G": float, ...}.
        Variants whose G loss is not a function of D's scores override this."""
        G, D = self.nets["G"], self.nets["D"]
        with self.frozen(D):
            loss = self.generator_loss(D(G(self.sample_noise(batch_size))))
            self.update(self.optimizers["G"], loss)
        return {"loss_G": loss.item()}

    # ---- shared helpers
    @property
    def n_critic(self):
        return int(self.config["n_critic"])

    @property
    def device(self):
        return next(iter(self.nets["G"].parameters())).device

    def sample_noise(self, n):
        return mg.randn(n, self.config["z_dim"], device=self.device)

    def generate(self, z, labels=None, averaged=True):
        """Samples for latent codes z (eval mode, no graph): images in [-1, 1] or points. They come
        from G's weight average when the variant keeps one (`ema` > 0), unless `averaged=False`."""
        G = self.nets["G"]
        was_training = G.training
        G.eval()
        with mg.no_grad(), self._generator_weights(averaged):
            out = G(z)
        G.train(was_training)
        return out

    def update_generator_average(self):
        """Fold G's current weights into its average (the loop calls this after each G step)."""
        if self.generator_average is not None:
            self.generator_average.update()

    @contextlib.contextmanager
    def _generator_weights(self, averaged):
        """G holds its averaged weights inside the block and its trained ones again after it."""
        if not averaged or self.generator_average is None:
            yield
            return
        G = self.nets["G"]
        trained = {name: tensor.data.copy() for name, tensor in G.state_dict().items()}
        self.generator_average.copy_to(G)
        try:
            yield
        finally:
            G.load_state_dict(trained)

    @staticmethod
    def frozen(net):
        """`with self.frozen(D):` — no parameter gradients for `net` (a G step needs none for D)."""
        return _Frozen(net)

    @staticmethod
    def update(optimizer, loss):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def to(self, device):
        for net in self.nets.values():
            net.to(device)
        return self

    def state_dict(self):
        state = {"nets": {k: v.state_dict() for k, v in self.nets.items()},
                 "optimizers": {k: v.state_dict() for k, v in self.optimizers.items()},
                 "extra": {k: getattr(self, k) for k in self.state_keys}}
        if self.generator_average is not None:
            state["generator_average"] = self.generator_average.state_dict()
        return state

    def load_state_dict(self, state):
        for k, net in self.nets.items():
            net.load_state_dict(state["nets"][k])
        for k, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][k])
        for k in self.state_keys:
            setattr(self, k, float(state["extra"][k]))
        if self.generator_average is not None:
            if "generator_average" not in state:
                raise ValueError(f"{self.name}: the config asks for a G weight average (ema="
                                 f"{self.config['ema']}) but the checkpoint holds none")
            self.generator_average.load_state_dict(state["generator_average"])


class _Frozen:
    def __init__(self, net):
        self.params = [p for p in net.parameters() if p.requires_grad]

    def __enter__(self):
        for p in self.params:
            p.requires_grad = False

    def __exit__(self, *exc):
        for p in self.params:
            p.requires_grad = True


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _checked_option(variant, key, default, value):
    """An override must be of its default's kind: a string, an integer (2.0 becomes 2), a number, or as
    many numbers as the default tuple (a resumed run's config.json gives tuples back as lists)."""
    if isinstance(default, str):
        ok, kind = isinstance(value, str), "a string"
    elif isinstance(default, tuple):
        ok = isinstance(value, (tuple, list)) and len(value) == len(default) and all(map(_is_number, value))
        kind = f"{len(default)} numbers (e.g. {','.join(map(str, default))})"
    elif isinstance(default, int):
        ok, kind = _is_number(value) and int(value) == value, "an integer"
    else:
        ok, kind = _is_number(value), "a number"
    if not ok:
        raise ValueError(f"{variant}: option {key} expects {kind}, got {value!r}")
    if isinstance(default, tuple):
        return tuple(value)
    return int(value) if isinstance(default, int) else value
