"""Fused CuPy kernels for the elementwise chains that dominate small cuda steps.

On the GPU a chain of array expressions costs one launch (and some microseconds of Python) per
operation, whatever the size: batch norm's forward was about twenty launches, Adam's update
about ten per parameter. Here each chain is one ElementwiseKernel (plus a reduction or two),
compiled by CuPy on first use and cached. They compute the same formulas as the NumPy paths in
ops/norm.py and optim.py, which stay the reference (tests compare the two in float64).
"""
import functools


@functools.cache
def _kernels():
    import cupy

    return {
        # per-channel reductions over every axis but 1 (the mean broadcasts as (1, C, 1, ...))
        "centered_square_mean": cupy.ReductionKernel(
            "T x, T mean", "T total", "(x - mean) * (x - mean)", "a + b",
            "total = a / (_in_ind.size() / _out_ind.size())", "0", "minigan_centered_square_mean"),
        "product_sum": cupy.ReductionKernel(
            "T a, T b", "T total", "a * b", "a + b", "total = a", "0", "minigan_product_sum"),
        "normalize_affine": cupy.ElementwiseKernel(
            "T x, T mean, T inv_std, T w, T b", "T xhat, T y",
            "xhat = (x - mean) * inv_std; y = xhat * w + b", "minigan_normalize_affine"),
        "normalize_affine_grad": cupy.ElementwiseKernel(
            "T gy, T xhat, T scale, T gb, T gw, T count", "T gx",
            "gx = scale * (gy - (gb + xhat * gw) / count)", "minigan_normalize_affine_grad"),
        "adam": cupy.ElementwiseKernel(
            "T g, T beta1, T beta2, T scale, T shift", "T p, T m, T v",
            "m += (g - m) * (1 - beta1); v = v * beta2 + g * (1 - beta2) * g;"
            "p -= m / (sqrt(v) * scale + shift)", "minigan_adam"),
        "adam_amsgrad": cupy.ElementwiseKernel(
            "T g, T beta1, T beta2, T scale, T shift", "T p, T m, T v, T v_max",
            "m += (g - m) * (1 - beta1); v = v * beta2 + g * (1 - beta2) * g;"
            "v_max = max(v_max, v); p -= m / (sqrt(v_max) * scale + shift)", "minigan_adam_amsgrad"),
        "bce_with_logits": cupy.ElementwiseKernel(
            "T x, T t", "T loss", "loss = max(x, (T)0) - x * t + log1p(exp(-abs(x)))",
            "minigan_bce_with_logits"),
        "bce_with_logits_grad": cupy.ElementwiseKernel(
            "T x, T t, T gy", "T gx", "gx = gy * (tanh(x * (T)0.5) * (T)0.5 + (T)0.5 - t)",
            "minigan_bce_with_logits_grad"),
        "sigmoid": cupy.ElementwiseKernel(
            "T x", "T y", "y = tanh(x * (T)0.5) * (T)0.5 + (T)0.5", "minigan_sigmoid"),
        "leaky_relu": cupy.ElementwiseKernel(
            "T x, T a", "T y", "y = x > (T)0 ? x : x * a", "minigan_leaky_relu"),
        "leaky_relu_grad": cupy.ElementwiseKernel(
            "T x, T gy, T a", "T gx", "gx = x > (T)0 ? gy : gy * a", "minigan_leaky_relu_grad"),
    }


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm_forward(x, w, b, eps):
    """(mean, var, inv_std, xhat, y) of batch norm in training with affine w, b (all CuPy)."""
    kernels, dims = _kernels(), (0,) + tuple(range(2, x.ndim))
    mean = x.mean(axis=dims)
    var = kernels["centered_square_mean"](x, _per_channel(mean, x.ndim), axis=dims)
    inv_std = 1.0 / (var + eps) ** 0.5
    xhat, y = kernels["normalize_affine"](x, *(_per_channel(v, x.ndim) for v in (mean, inv_std, w, b)))
    return mean, var, inv_std, xhat, y


def batch_norm_backward(gy, xhat, w, inv_std):
    """(gx, gw, gb) of batch norm in training: gb = sum gy, gw = sum gy x̂,
    gx = w s (gy - (gb + x̂ gw) / M)."""
    kernels, dims = _kernels(), (0,) + tuple(range(2, gy.ndim))
    gb = gy.sum(axis=dims)
    gw = kernels["product_sum"](gy, xhat, axis=dims)
    count = gy.dtype.type(gy.size // gy.shape[1])
    gx = kernels["normalize_affine_grad"](gy, xhat, *(_per_channel(v, gy.ndim) for v in (w * inv_std, gb, gw)),
                                          count)
    return gx, gw, gb


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, beta1, beta2, scale, shift):
    """One Adam step in place, as optim.Adam's NumPy path: p -= m / (sqrt(v) * scale + shift)."""
    t = param.dtype.type
    scalars = (t(beta1), t(beta2), t(scale), t(shift))
    if max_exp_avg_sq is None:
        _kernels()["adam"](grad, *scalars, param, exp_avg, exp_avg_sq)
    else:
        _kernels()["adam_amsgrad"](grad, *scalars, param, exp_avg, exp_avg_sq, max_exp_avg_sq)


def bce_with_logits(x, t):
    """Binary cross-entropy of logits x against targets t, per element (as ops/loss.py)."""
    return _kernels()["bce_with_logits"](x, t)


def bce_with_logits_grad(x, t, gy):
    """d/dx of the above times gy: gy (sigmoid(x) - t)."""
    return _kernels()["bce_with_logits_grad"](x, t, gy)


def sigmoid(x):
    """1 / (1 + exp(-x)) as tanh(x / 2) / 2 + 1/2, as ops/activation.py."""
    return _kernels()["sigmoid"](x)


def leaky_relu(x, slope):
    """x where x > 0, else slope x (PyTorch's convention, any slope)."""
    return _kernels()["leaky_relu"](x, x.dtype.type(slope))


def leaky_relu_grad(x, gy, slope):
    """gy where x > 0, else slope gy."""
    return _kernels()["leaky_relu_grad"](x, gy, x.dtype.type(slope))
