"""The `torch.nn.functional`-style API: activations, normalisation, dropout, embedding and
losses, composed from the differentiable primitives in `minigan.ops`.

    import minigan.functional as F
    loss = F.binary_cross_entropy_with_logits(D(x), mg.ones(len(x), 1))
"""
import numpy as np

from minigan import backend, ops
from minigan.autograd import Tensor
from minigan.ops import resize as _resize
from minigan.ops.activation import elu, leaky_relu, relu, sigmoid, softplus, tanh
from minigan.ops.conv import conv2d, conv_transpose2d
from minigan.ops.linalg import linear
from minigan.ops.norm import AffineNormalize, Normalize
from minigan.ops.reduce import channel_dims
from minigan.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigan.ops.resize import interpolate, pad

__all__ = [
    "linear", "conv2d", "conv_transpose2d", "avg_pool2d", "max_pool2d", "adaptive_avg_pool2d",
    "interpolate", "pad", "pixel_shuffle", "pixel_unshuffle",
    "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "batch_norm", "instance_norm", "layer_norm", "group_norm", "dropout", "embedding", "one_hot",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "mse_loss", "l1_loss",
    "cross_entropy", "nll_loss",
]


def softmax(x, dim):
    return ops.softmax(x, dim)


def log_softmax(x, dim):
    return ops.log_softmax(x, dim)


def pixel_shuffle(x, upscale_factor):
    return _resize.pixel_shuffle(x, upscale_factor)


def pixel_unshuffle(x, downscale_factor):
    return _resize.pixel_unshuffle(x, downscale_factor)


# ---------------------------------------------------------------------------- normalisation
def _channel_shape(x):
    """(1, C, 1, 1, ...): how a per-channel vector broadcasts against x."""
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def _affine(y, weight, bias, shape):
    if weight is not None:
        y = y * ops.reshape(weight, shape)
    if bias is not None:
        y = y + ops.reshape(bias, shape)
    return y


def _check_channels(op, x, *vectors):
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input with at least 2 dims (N, C, ...), got shape {x.shape}")
    for name, v in vectors:
        if v is None:
            continue
        if tuple(v.shape) != (x.shape[1],):
            raise ValueError(f"{op}: {name} has shape {tuple(v.shape)} but the input has {x.shape[1]} "
                             f"channels (input shape {x.shape})")
        where = v.device if isinstance(v, Tensor) else backend.device_of(v)
        if where != x.device:
            raise RuntimeError(f"{op}: {name} is on {where} but the input is on {x.device}; "
                               "move them to one device with .to(device)")


def _update_running(buffer, value, momentum):
    """buffer <- (1 - momentum) buffer + momentum value, in place (buffers carry no gradient)."""
    data = buffer.data if isinstance(buffer, Tensor) else buffer
    data *= 1.0 - momentum
    data += momentum * value.astype(data.dtype, copy=False)


def _normalize_with(x, mean, var, eps):
    """(x - mean) / sqrt(var + eps) for fixed statistics (eval mode): a scale and a shift."""
    mean = mean.data if isinstance(mean, Tensor) else mean
    var = var.data if isinstance(var, Tensor) else var
    xp = x.xp
    scale = (1.0 / xp.sqrt(var + eps)).astype(x.dtype)
    shape = _channel_shape(x)
    return x * Tensor(scale.reshape(shape)) - Tensor((mean * scale).astype(x.dtype).reshape(shape))


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over (N, *spatial) per channel of x (N, C) or (N, C, ...).

    In training mode, normalises with the batch statistics and updates the running ones in place
    (the running variance with Bessel's correction, as PyTorch does).
    """
    _check_channels("batch_norm", x, ("weight", weight), ("bias", bias),
                    ("running_mean", running_mean), ("running_var", running_var))
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: eval mode needs running_mean and running_var")
        return _affine(_normalize_with(x, running_mean, running_var, eps), weight, bias, _channel_shape(x))
    count = x.data.size // x.shape[1]
    if count <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input shape {x.shape}")
    fused = weight is not None and bias is not None
    normalize = AffineNormalize(eps) if fused else Normalize(channel_dims(x), eps)
    y = normalize(x, weight, bias) if fused else normalize(x)
    if running_mean is not None:
        _update_running(running_mean, normalize.mean.reshape(-1), momentum)
    if running_var is not None:
        _update_running(running_var, normalize.var.reshape(-1) * (count / (count - 1)), momentum)
    return y if fused else _affine(y, weight, bias, _channel_shape(x))


def instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalises each (sample, channel) plane of x (N, C, H, W) over its spatial dims."""
    _check_channels("instance_norm", x, ("weight", weight), ("bias", bias))
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected input (N, C, *spatial), got shape {x.shape}")
    if not use_input_stats:
        return _affine(_normalize_with(x, running_mean, running_var, eps), weight, bias, _channel_shape(x))
    dims = tuple(range(2, x.ndim))
    normalize = Normalize(dims, eps)
    y = normalize(x)
    count = x.data.size // (x.shape[0] * x.shape[1])
    if running_mean is not None:
        _update_running(running_mean, normalize.mean.reshape(x.shape[:2]).mean(axis=0), momentum)
    if running_var is not None:
        unbiased = normalize.var.reshape(x.shape[:2]) * (count / max(count - 1, 1))
        _update_running(running_var, unbiased.mean(axis=0), momentum)
    return _affine(y, weight, bias, _channel_shape(x))


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the trailing dims given by `normalized_shape`."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(normalized_shape)
    if tuple(x.shape[x.ndim - k:]) != normalized_shape:
        raise ValueError(f"layer_norm: normalized_shape {normalized_shape} does not match the trailing "
                         f"dims of input shape {x.shape}")
    for name, v in (("weight", weight), ("bias", bias)):
        if v is not None and tuple(v.shape) != normalized_shape:
            raise ValueError(f"layer_norm: {name} has shape {tuple(v.shape)}, expected {normalized_shape}")
    y = Normalize(tuple(range(x.ndim - k, x.ndim)), eps)(x)
    return _affine(y, weight, bias, normalized_shape)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalises each sample's channels in `num_groups` groups (over the group's channels and space)."""
    _check_channels("group_norm", x, ("weight", weight), ("bias", bias))
    channels = x.shape[1]
    if num_groups <= 0 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the {channels} channels")
    grouped = ops.reshape(x, (x.shape[0], num_groups, -1))
    y = ops.reshape(Normalize((2,), eps)(grouped), x.shape)
    return _affine(y, weight, bias, _channel_shape(x))


# -------------------------------------------------------------------- dropout, embeddings
def dropout(x, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p) (identity in eval)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, got p={p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    rng = backend.generator(x.device)
    uniform = rng.random_sample(x.shape) if x.device == "cuda" else rng.random(x.shape)
    keep = (uniform >= p).astype(x.dtype) * (1.0 / (1.0 - p))
    return x * Tensor(keep.astype(x.dtype))


def embedding(input, weight):
    """Rows of `weight` (num_embeddings, dim) picked by the integer tensor `input`."""
    index = input.data if isinstance(input, Tensor) else input
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= weight.shape[0]):
        raise IndexError(f"embedding: index out of range [0, {weight.shape[0]}): "
                         f"min {int(index.min())}, max {int(index.max())}")
    return weight[index]


def one_hot(labels, num_classes):
    """int64 one-hot rows (no gradient), as torch.nn.functional.one_hot."""
    index = labels.data if isinstance(labels, Tensor) else labels
    xp = backend.get_array_module(index)
    if index.size and (index.min() < 0 or index.max() >= num_classes):
        raise ValueError(f"one_hot: labels must be in [0, {num_classes}), got min {int(index.min())}, "
                         f"max {int(index.max())}")
    return Tensor((index[..., None] == xp.arange(num_classes)).astype(np.int64))


# ----------------------------------------------------------------------------------- losses
_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss, reduction, op):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(op, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(f"{op}: target shape {tuple(target.shape)} must equal input shape {tuple(input.shape)}")


def _as_target(target, like):
    return target if isinstance(target, Tensor) else Tensor(like.xp.asarray(target, dtype=like.dtype))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """BCE on logits, in the stable form (1 - t) x + (1 + (p - 1) t) softplus(-x) (one fused op
    without `pos_weight`)."""
    target = _as_target(target, input)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    if pos_weight is None:
        loss = ops.binary_cross_entropy_with_logits(input, target)
    else:
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * softplus(-input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """BCE on probabilities; logs are clamped at -100 as in PyTorch, so 0 and 1 stay finite."""
    target = _as_target(target, input)
    _same_shape("binary_cross_entropy", input, target)
    data = input.data
    if data.size and (float(data.min()) < 0.0 or float(data.max()) > 1.0):
        raise ValueError("binary_cross_entropy: input values must be probabilities in [0, 1] "
                         f"(got min {float(data.min()):.4g}, max {float(data.max()):.4g}); "
                         "use binary_cross_entropy_with_logits for logits")
    loss = -(target * ops.clamp(ops.log(input), min=-100.0)
             + (1.0 - target) * ops.clamp(ops.log(1.0 - input), min=-100.0))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


def mse_loss(input, target, reduction="mean"):
    target = _as_target(target, input)
    _same_shape("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction="mean"):
    target = _as_target(target, input)
    _same_shape("l1_loss", input, target)
    return _reduce(ops.abs(input - target), reduction, "l1_loss")


def _classes_last(x):
    """(N, C, d1, ...) -> (N*d1*..., C), so every loss below works on rows of class scores."""
    if x.ndim == 2:
        return x
    dims = (0,) + tuple(range(2, x.ndim)) + (1,)
    return ops.reshape(ops.permute(x, dims), (-1, x.shape[1]))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class indices `target` (N,) or (N, d1, ...) under log-probabilities
    `input` (N, C) or (N, C, d1, ...). The mean is weighted by the picked classes' weights."""
    if input.ndim < 2:
        raise ValueError(f"nll_loss: input must be (N, C, ...), got shape {input.shape}")
    if isinstance(target, Tensor) and target.device != input.device:
        raise RuntimeError(f"nll_loss: input is on {input.device} but target is on {target.device}; "
                           "move them to one device with .to(device)")
    labels = target.data if isinstance(target, Tensor) else input.xp.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class indices, got dtype {labels.dtype}")
    if tuple(labels.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(f"nll_loss: target shape {tuple(labels.shape)} does not match input shape "
                         f"{input.shape} (expected {(input.shape[0],) + tuple(input.shape[2:])})")
    classes = input.shape[1]
    flat = labels.reshape(-1)
    valid = flat != ignore_index
    if bool(((flat[valid] < 0) | (flat[valid] >= classes)).any()):
        raise IndexError(f"nll_loss: target values must be in [0, {classes}) or ignore_index={ignore_index}")
    xp = input.xp
    safe = xp.where(valid, flat, 0)
    weights = xp.ones(classes, dtype=input.dtype) if weight is None else (
        weight.data if isinstance(weight, Tensor) else xp.asarray(weight, dtype=input.dtype))
    row_weight = weights[safe] * valid
    picked = _classes_last(input)[xp.arange(flat.size), safe]
    loss = -picked * Tensor(row_weight.astype(input.dtype))
    if reduction == "mean":
        return loss.sum() * (1.0 / float(row_weight.sum()))
    if reduction == "none":
        return ops.reshape(loss, labels.shape)
    return _reduce(loss, reduction, "nll_loss")


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """log_softmax + nll_loss for class indices; for a float `target` of the input's shape, the
    cross entropy against those class probabilities. `label_smoothing` mixes the target with the
    uniform distribution."""
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if label_smoothing and weight is not None:
        raise NotImplementedError("cross_entropy: label_smoothing together with class weights")
    log_probs = log_softmax(input, 1)
    target_data = target.data if isinstance(target, Tensor) else np.asarray(target)
    if target_data.dtype.kind == "f":
        _same_shape("cross_entropy", input, target)
        target = _as_target(target, input)
        if label_smoothing:
            target = target * (1.0 - label_smoothing) + label_smoothing / input.shape[1]
        if weight is not None:
            target = target * ops.reshape(weight, _channel_shape(input))
        return _reduce(-(log_probs * target).sum(1), reduction, "cross_entropy")
    loss = nll_loss(log_probs, target, weight, ignore_index, reduction)
    if not label_smoothing:
        return loss
    valid = (target_data != ignore_index).astype(input.dtype)
    uniform_loss = -log_probs.mean(1) * Tensor(input.xp.asarray(valid))
    if reduction == "mean":
        uniform_loss = uniform_loss.sum() * (1.0 / float(valid.sum()))
    else:
        uniform_loss = _reduce(uniform_loss, reduction, "cross_entropy")
    return (1.0 - label_smoothing) * loss + label_smoothing * uniform_loss
