"""Bad input raises errors that name the op and the offending shapes or values."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import backend, ops


def t(*shape):
    return mg.tensor(np.ones(shape))


@pytest.mark.parametrize("call,error,message", [
    (lambda: t(2, 3) + t(4), ValueError, r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: t(2, 3) * t(3, 2), ValueError, r"mul: shapes \(2, 3\) and \(3, 2\)"),
    (lambda: t(2, 3) @ t(4, 5), ValueError, r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be multiplied \(3 != 4\)"),
    (lambda: mg.matmul(t(2, 2, 3), t(3, 3, 1)), ValueError, r"matmul: batch dims"),
    (lambda: F.linear(t(2, 3), t(4, 5)), ValueError, r"linear: input has 3 features .* weight expects 5"),
    (lambda: F.linear(t(2, 5), t(4, 5), t(3)), ValueError, r"linear: bias shape \(3,\)"),
    (lambda: t(2, 3).reshape(4, 2), ValueError, r"reshape: cannot view a tensor of shape \(2, 3\) \(6 elements\)"),
    (lambda: t(2, 3).sum(2), IndexError, r"sum: dim 2 is out of range for a tensor with 2 dims"),
    (lambda: t(2, 3).permute(0, 0), ValueError, r"permute: dims \(0, 0\)"),
    (lambda: mg.cat([t(2, 3), t(3, 2)], 0), ValueError, r"cat: tensors must match .* \[\(2, 3\), \(3, 2\)\]"),
    (lambda: mg.stack([t(2), t(3)]), ValueError, r"stack: every tensor must have the same shape"),
    (lambda: t(2, 3).broadcast_to((4, 3, 3)), ValueError, r"broadcast_to: cannot broadcast shape \(2, 3\)"),
    (lambda: t(2, 3)[5], IndexError, r"getitem: index 5 is invalid for a tensor of shape \(2, 3\)"),
    (lambda: F.mse_loss(t(3), t(4)), ValueError, r"mse_loss: target shape \(4,\) must equal input shape \(3,\)"),
    (lambda: F.mse_loss(t(3), t(3), reduction="avg"), ValueError, r"mse_loss: reduction must be one of"),
    (lambda: F.binary_cross_entropy(t(3) * 2, t(3)), ValueError, r"binary_cross_entropy: input values must be probabilities"),
    (lambda: ops.binary_cross_entropy_with_logits(t(4, 1), t(4)), ValueError,
     r"binary_cross_entropy_with_logits: target shape \(4,\) must equal input shape \(4, 1\)"),
    (lambda: F.binary_cross_entropy_with_logits(t(4, 1), t(1, 4)), ValueError,
     r"binary_cross_entropy_with_logits: target shape \(1, 4\) must equal input shape \(4, 1\)"),
    (lambda: F.cross_entropy(t(4, 3), mg.tensor([0, 1, 5, 1])), IndexError, r"nll_loss: target values must be in \[0, 3\)"),
    (lambda: F.cross_entropy(t(4, 3), mg.tensor([0, 1])), ValueError, r"nll_loss: target shape \(2,\) does not match"),
    (lambda: F.batch_norm(t(1, 3), None, None, training=True), ValueError, r"more than 1 value per channel"),
    (lambda: F.batch_norm(t(4, 3), None, None, t(2), training=True), ValueError, r"batch_norm: weight has shape \(2,\) but the input has 3 channels"),
    (lambda: F.group_norm(t(2, 6, 2), 4), ValueError, r"group_norm: num_groups=4 must divide the 6 channels"),
    (lambda: F.layer_norm(t(2, 3), (4,)), ValueError, r"layer_norm: normalized_shape \(4,\) does not match"),
    (lambda: F.dropout(t(3), p=1.5), ValueError, r"dropout: probability has to be between 0 and 1, got p=1.5"),
    (lambda: ops.clamp(t(3)), ValueError, r"clamp: at least one of min and max"),
])
def test_bad_input_is_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


class _PretendCudaArray(np.ndarray):
    """An array type of its own, as a CuPy array's is (ops only compare devices across types)."""


def test_mixing_devices_is_refused(monkeypatch, cpu_default):  # b pretends to live on cuda
    a, b = t(2), t(2)
    b.data = b.data.view(_PretendCudaArray)
    real = backend.device_of
    monkeypatch.setattr(backend, "device_of", lambda array: "cuda" if array is b.data else real(array))
    with pytest.raises(RuntimeError, match=r"Mul: expected all tensors on the same device, got \['cpu', 'cuda'\]"):
        a * b


def test_norm_statistics_and_loss_targets_on_another_device_are_named(monkeypatch, cpu_default):
    x, stats, labels = t(4, 3), mg.zeros(3), mg.tensor(np.array([0, 1, 2, 0]))
    real = backend.device_of
    monkeypatch.setattr(backend, "device_of",
                        lambda array: "cuda" if array is stats.data or array is labels.data else real(array))
    with pytest.raises(RuntimeError, match=r"batch_norm: running_mean is on cuda but the input is on cpu"):
        F.batch_norm(x, stats, None, training=True)
    with pytest.raises(RuntimeError, match=r"nll_loss: input is on cpu but target is on cuda"):
        F.cross_entropy(x, labels)
