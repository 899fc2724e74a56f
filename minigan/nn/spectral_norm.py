"""`spectral_norm`: divide a layer's weight by its largest singular value (SNGAN).

Miyato et al., "Spectral Normalization for Generative Adversarial Networks", ICLR 2018. The
weight (reshaped to a matrix of `shape[dim]` rows) is divided by sigma = u^T W v, where u and v
are estimated by power iteration and kept between calls, so one iteration per training step is
enough. Same semantics as PyTorch's (old-style) `torch.nn.utils.spectral_norm`:

    layer = spectral_norm(nn.Conv2d(3, 64, 4, 2, 1))
    layer.weight_orig   # the learned Parameter
    layer.weight_u      # (out,) persistent buffer: the left singular vector estimate
    layer.weight_v      # (in * kh * kw,) persistent buffer: the right one
    layer.weight        # weight_orig / sigma, recomputed before every forward

Power iteration runs only in training mode, without recording a graph; sigma's gradient treats
u and v as constants, as PyTorch does.
"""
from minigan import backend, ops
from minigan.autograd import Tensor, no_grad
from minigan.nn.conv import ConvTranspose2d
from minigan.nn.parameter import Parameter


def _normalized(vector, eps):
    xp = backend.get_array_module(vector)
    return vector / max(float(xp.linalg.norm(vector)), eps)


class SpectralNorm:
    """The forward pre-hook that recomputes `module.<name>` from `<name>_orig`, `_u` and `_v`."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: n_power_iterations must be positive, got {n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def weight_matrix(self, weight):
        """The weight as a (shape[dim], rest) matrix: rows are the output units."""
        if self.dim != 0:
            weight = ops.permute(weight, (self.dim,) + tuple(d for d in range(weight.ndim) if d != self.dim))
        return ops.reshape(weight, (weight.shape[0], -1))

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        matrix = self.weight_matrix(weight)
        if do_power_iteration:
            array = matrix.data
            for _ in range(self.n_power_iterations):
                v.data[...] = _normalized(array.T @ u.data, self.eps)
                u.data[...] = _normalized(array @ v.data, self.eps)
        # u and v enter as constants: sigma's gradient is u v^T, as in PyTorch
        sigma = ops.sum(Tensor(u.data.copy()) * ops.matmul(matrix, Tensor(v.data.copy())))
        return weight / sigma

    def __call__(self, module, args):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def _find_hook(module, name):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, SpectralNorm) and hook.name == name:
            return key, hook
    return None, None


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectrally normalise `module.<name>` in place and return the module.

    `dim` is the weight dim that indexes output units: 0, except 1 for ConvTranspose2d (whose
    weight is (in, out, kh, kw)). u (shape[dim],) and v (the other dims' size,) start as
    normalised N(0, 1) draws from the device's seeded generator.
    """
    if _find_hook(module, name)[1] is not None:
        raise RuntimeError(f"spectral_norm: {module._get_name()} already has a spectral_norm hook on {name!r}")
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"spectral_norm: {module._get_name()} has no parameter {name!r} "
                         f"(parameters: {', '.join(n for n, p in module._parameters.items() if p is not None)})")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    if not -weight.ndim <= dim < weight.ndim:
        raise ValueError(f"spectral_norm: dim={dim} is out of range for {name} of shape {weight.shape}")
    hook = SpectralNorm(name, n_power_iterations, dim % weight.ndim, eps)
    with no_grad():
        height, width = hook.weight_matrix(weight).shape
    rng = backend.generator(weight.device)
    u = _normalized(rng.standard_normal(size=(height,)).astype(weight.dtype), eps)
    v = _normalized(rng.standard_normal(size=(width,)).astype(weight.dtype), eps)
    delattr(module, name)
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.detach())
    module.register_buffer(name + "_u", Tensor(u))
    module.register_buffer(name + "_v", Tensor(v))
    module.register_forward_pre_hook(hook)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo `spectral_norm`: `module.<name>` becomes a Parameter holding the current normalised
    weight (u and v as they are, no further power iteration). Returns the module."""
    key, hook = _find_hook(module, name)
    if hook is None:
        raise ValueError(f"remove_spectral_norm: spectral_norm of {name!r} not found in {module._get_name()}")
    with no_grad():
        weight = hook.compute_weight(module, do_power_iteration=False)
    del module._forward_pre_hooks[key]
    delattr(module, name)
    for suffix in ("_u", "_v", "_orig"):
        delattr(module, name + suffix)
    module.register_parameter(name, Parameter(weight.data))
    return module
