"""Normalisation layers: BatchNorm1d/2d, InstanceNorm2d, LayerNorm, GroupNorm (PyTorch defaults)."""
import numpy as np

from minigan import functional as F
from minigan.autograd import Tensor
from minigan.nn import init
from minigan.nn.module import Module
from minigan.nn.parameter import Parameter, new_array


def _register_affine(module, shape, affine, bias, device, dtype):
    """`weight` (ones) and `bias` (zeros) of `shape`, registered as None where absent."""
    module.register_parameter("weight", Parameter(new_array(shape, 1.0, device, dtype)) if affine else None)
    module.register_parameter("bias", Parameter(new_array(shape, 0.0, device, dtype)) if affine and bias else None)


class _NormBase(Module):
    """Per-channel affine weight (ones) and bias (zeros), and optionally running statistics:
    running_mean (zeros), running_var (ones) and the num_batches_tracked counter (int64)."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device, dtype, bias):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(new_array((num_features,), 0.0, device, dtype)))
            self.register_buffer("running_var", Tensor(new_array((num_features,), 1.0, device, dtype)))
            self.register_buffer("num_batches_tracked", Tensor(new_array((), 0, device, np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x, ndims, channel_dim=1):
        if x.ndim not in ndims:
            expected = " or ".join(f"{n}D" for n in ndims)
            raise ValueError(f"{self._get_name()}: expected {expected} input, got {x.ndim}D input (shape {x.shape})")
        channels = x.shape[channel_dim]
        if channels != self.num_features:
            raise ValueError(f"{self._get_name()}: input has {channels} channels (shape {x.shape}) "
                             f"but the layer was built for num_features={self.num_features}")

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _input_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def forward(self, x):
        self._check_input(x, self._input_dims)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative average of every batch seen so far
                factor = 1.0 / float(self.num_batches_tracked.data)
        # batch statistics in training mode, and in eval mode when there are no running ones
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                            self.weight, self.bias, use_batch_stats, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""
    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C: in training mode with the batch's
    mean and (biased) variance, updating running_mean/running_var (unbiased) with `momentum`;
    in eval mode with the running statistics."""
    _input_dims = (4,)


class InstanceNorm2d(_NormBase):
    """Normalises each sample's channels over H, W. Unlike BatchNorm, affine=False and
    track_running_stats=False by default (as in PyTorch). Takes (N, C, H, W) or (C, H, W)."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias)

    def forward(self, x):
        self._check_input(x, (3, 4), channel_dim=0 if x.ndim == 3 else 1)
        if x.ndim == 3:  # one unbatched image
            return self.forward(x.unsqueeze(0)).squeeze(0)
        use_input_stats = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               use_input_stats, momentum, self.eps)


class LayerNorm(Module):
    """Normalises over the trailing `normalized_shape` dims, with elementwise weight (ones) and
    bias (zeros) of that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each sample over groups of num_channels / num_groups channels (and all spatial
    positions), with a per-channel weight (ones) and bias (zeros)."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _register_affine(self, (num_channels,), affine, bias, device, dtype)

    def forward(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input (N, {self.num_channels}, *), got shape {x.shape}")
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
