"""zeros_like / ones_like / full_like keep a dense input's memory layout, as torch's default
memory_format=preserve_format does (a conv output is stored channels-last)."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

pytestmark = pytest.mark.usefixtures("cpu_default")  # the channels-last layout is the CPU conv's output


def element_strides(a):
    return tuple(s // a.itemsize for s in a.strides)


def channels_last_conv_output():
    x, w = mg.randn(2, 3, 6, 5), mg.randn(4, 3, 3, 3)
    y = F.conv2d(x, w, padding=1)
    assert not y.data.flags.c_contiguous     # an NCHW view of an (N, H, W, C) buffer
    return y


@pytest.mark.parametrize("make,value", [(mg.zeros_like, 0.0), (mg.ones_like, 1.0),
                                        (lambda t, **kw: mg.full_like(t, -2.5, **kw), -2.5)])
def test_like_keeps_a_channels_last_layout_and_fills_every_element(make, value):
    y = channels_last_conv_output()
    out = make(y)
    assert out.shape == y.shape and out.dtype == y.dtype and out.data.strides == y.data.strides
    np.testing.assert_array_equal(out.numpy(), np.full(y.shape, value, y.dtype))
    as_double = make(y, dtype=np.float64)
    assert as_double.dtype == np.float64 and element_strides(as_double.data) == element_strides(y.data)


def test_like_of_a_non_dense_view_is_c_contiguous():
    x = mg.randn(4, 6, 5)
    for view in (x[:, ::2], x[..., 1:], mg.as_tensor(np.broadcast_to(np.ones(5, np.float32), (3, 5)))):
        out = mg.ones_like(view)
        assert out.data.flags.c_contiguous and out.shape == view.shape
        np.testing.assert_array_equal(out.numpy(), np.ones(view.shape, view.dtype))


def test_like_keeps_requires_grad_and_plain_layouts():
    x = mg.randn(3, 4)
    z = mg.zeros_like(x, requires_grad=True)
    assert z.requires_grad and z.data.flags.c_contiguous and float(z.sum().item()) == 0.0
    assert mg.zeros_like(mg.tensor(2.0)).shape == ()


def test_like_matches_torch_strides_for_channels_last_inputs():
    torch = pytest.importorskip("torch")
    y = channels_last_conv_output()
    peer = torch.from_numpy(y.numpy()).contiguous(memory_format=torch.channels_last)
    for ours, theirs in ((mg.ones_like(y), torch.ones_like(peer)), (mg.zeros_like(y), torch.zeros_like(peer))):
        assert element_strides(ours.data) == tuple(theirs.stride())
