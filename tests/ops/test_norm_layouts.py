"""Normalisation gives the same values and gradients whatever the input's memory layout
(conv outputs are NCHW views of channels-last buffers; the fused forward works in that layout)."""
import numpy as np

import minigan as mg
import minigan.functional as F


def _bn_value_and_grads(x_array):
    x = mg.tensor(x_array, requires_grad=True)
    w = mg.tensor(np.linspace(0.5, 1.5, x_array.shape[1]), requires_grad=True)
    y = F.batch_norm(x, None, None, w, None, training=True)
    (y * y * y).sum().backward()
    return y.data, x.grad.data, w.grad.data


def test_batch_norm_channels_last_view_matches_contiguous(float64):
    rng = np.random.default_rng(0)
    channels_last = rng.standard_normal((4, 5, 6, 3)) * 2 + 1
    view = channels_last.transpose(0, 3, 1, 2)
    for a, b in zip(_bn_value_and_grads(view), _bn_value_and_grads(np.ascontiguousarray(view))):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
