"""Parity with PyTorch (float64, skipped without torch): each standard layer's output, input
gradient and parameter gradients from the same weights, its buffers after the step, its repr,
and BatchNorm's running statistics over several training steps."""
import re

import numpy as np
import pytest

import minigan as mg
from minigan import nn

torch = pytest.importorskip("torch")
tnn = torch.nn
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

RTOL, ATOL = 1e-10, 1e-12


def copy_weights(ours, theirs):
    """Random (non-default) torch weights and buffers, copied into our module by state dict."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.add_(0.5 * torch.rand(p.shape, generator=generator, dtype=p.dtype))
        for name, b in theirs.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.rand(b.shape, generator=generator, dtype=b.dtype) - 0.5)
            elif name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=generator, dtype=b.dtype) + 0.5)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})


def assert_close(a, b, what):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)


def check(ours, theirs, x, training=True):
    theirs = theirs.double()
    copy_weights(ours, theirs)
    ours.train(training)
    theirs.train(training)
    floating = x.dtype.kind == "f"
    xm, xt = mg.tensor(x, requires_grad=floating), torch.tensor(x, requires_grad=floating)
    y, yt = ours(xm), theirs(xt)
    assert_close(y.numpy(), yt.detach().numpy(), "output")
    v = np.random.default_rng(1).uniform(-1, 1, y.shape)
    y.backward(mg.tensor(v))
    yt.backward(torch.tensor(v))
    if floating:
        assert_close(xm.grad.numpy(), xt.grad.numpy(), "input gradient")
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, p in ours.named_parameters():
        assert_close(p.grad.numpy(), theirs_params[name].grad.numpy(), f"gradient of {name}")
    theirs_state = theirs.state_dict()
    assert list(ours.state_dict()) == list(theirs_state)
    for name, value in ours.state_dict().items():
        assert_close(value.numpy(), theirs_state[name].numpy(), f"state {name} after the step")
    assert without_norm_bias(repr(ours)) == without_norm_bias(repr(theirs))


def without_norm_bias(text):
    """A repr without the norm layers' `bias=...` flag, which torch 2.13 prints (as minigan does)
    and torch 2.11 does not: the comparison holds for either release."""
    return re.sub(r"(affine=(?:True|False)), bias=(?:True|False)", r"\1", text)


rng = np.random.default_rng(0)
image = rng.normal(size=(2, 3, 6, 6))
image4 = rng.normal(size=(2, 4, 7, 7))
vec = rng.normal(size=(5, 4))

LAYERS = [  # (id, make(nn) -> module, input, training)
    ("Linear", lambda m: m.Linear(4, 3), vec, True),
    ("Linear no bias, 3-D input", lambda m: m.Linear(4, 2, bias=False), rng.normal(size=(2, 3, 4)), True),
    ("Conv2d stride 2 pad 1", lambda m: m.Conv2d(3, 4, 3, stride=2, padding=1), image, True),
    ("Conv2d groups dilation no bias", lambda m: m.Conv2d(4, 6, 3, groups=2, dilation=2, bias=False), image4, True),
    ("Conv2d padding same even kernel", lambda m: m.Conv2d(3, 2, 4, padding="same"), image, True),
    ("Conv2d reflect", lambda m: m.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"), image, True),
    ("Conv2d replicate", lambda m: m.Conv2d(3, 2, 3, padding=(2, 1), padding_mode="replicate"), image, True),
    ("Conv2d circular", lambda m: m.Conv2d(3, 2, 3, padding=1, padding_mode="circular"), image, True),
    ("ConvTranspose2d DCGAN", lambda m: m.ConvTranspose2d(3, 4, 4, stride=2, padding=1), image, True),
    ("ConvTranspose2d groups output_padding",
     lambda m: m.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), image4, True),
    ("BatchNorm1d train", lambda m: m.BatchNorm1d(4), vec, True),
    ("BatchNorm1d eval 3-D", lambda m: m.BatchNorm1d(3), rng.normal(size=(2, 3, 5)), False),
    ("BatchNorm2d train", lambda m: m.BatchNorm2d(3), image, True),
    ("BatchNorm2d eval", lambda m: m.BatchNorm2d(3), image, False),
    ("BatchNorm2d momentum None", lambda m: m.BatchNorm2d(3, momentum=None), image, True),
    ("BatchNorm2d no affine", lambda m: m.BatchNorm2d(3, affine=False, momentum=0.3), image, True),
    ("BatchNorm2d no running stats eval", lambda m: m.BatchNorm2d(3, track_running_stats=False), image, False),
    ("InstanceNorm2d", lambda m: m.InstanceNorm2d(3), image, True),
    ("InstanceNorm2d affine", lambda m: m.InstanceNorm2d(3, affine=True), image, True),
    ("InstanceNorm2d running stats train",
     lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), image, True),
    ("InstanceNorm2d running stats eval",
     lambda m: m.InstanceNorm2d(3, affine=True, track_running_stats=True), image, False),
    ("LayerNorm", lambda m: m.LayerNorm(4), vec, True),
    ("LayerNorm C H W", lambda m: m.LayerNorm((3, 6, 6)), image, True),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), image4, True),
    ("Embedding padding_idx", lambda m: m.Embedding(6, 3, padding_idx=2), np.array([[0, 2, 5], [2, 1, 1]]), True),
    ("ReLU", lambda m: m.ReLU(), vec, True),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.2), vec, True),
    ("ELU", lambda m: m.ELU(0.7), vec, True),
    ("Tanh", lambda m: m.Tanh(), vec, True),
    ("Sigmoid", lambda m: m.Sigmoid(), vec, True),
    ("Softplus", lambda m: m.Softplus(2.0, 1.5), vec, True),
    ("Softmax", lambda m: m.Softmax(1), vec, True),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=0), vec, True),
    ("Flatten", lambda m: m.Flatten(), image, True),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 2)), vec, True),
    ("Upsample nearest", lambda m: m.Upsample(scale_factor=2), image, True),
    ("Upsample bilinear", lambda m: m.Upsample(scale_factor=2, mode="bilinear", align_corners=False), image, True),
    ("Upsample bilinear size aligned", lambda m: m.Upsample(size=(5, 9), mode="bilinear", align_corners=True),
     image, True),
    ("AvgPool2d", lambda m: m.AvgPool2d(2), image, True),
    ("AvgPool2d stride pad", lambda m: m.AvgPool2d(3, stride=2, padding=1), image, True),
    ("MaxPool2d", lambda m: m.MaxPool2d(2), image, True),
    ("MaxPool2d stride pad", lambda m: m.MaxPool2d(3, 2, 1), image, True),
    ("ReflectionPad2d", lambda m: m.ReflectionPad2d(2), image, True),
    ("ReflectionPad2d sides", lambda m: m.ReflectionPad2d((1, 2, 0, 3)), image, True),
    ("ZeroPad2d", lambda m: m.ZeroPad2d((1, 0, 2, 1)), image, True),
    ("Identity", lambda m: m.Identity(), vec, True),
    ("Dropout eval", lambda m: m.Dropout(0.4), vec, False),
]


@pytest.mark.parametrize("make, x, training", [case[1:] for case in LAYERS], ids=[case[0] for case in LAYERS])
def test_layer_matches_torch(make, x, training, float64):
    check(make(nn), make(tnn), x, training)


def test_batchnorm_running_statistics_over_several_steps(float64):
    ours, theirs = nn.BatchNorm2d(3, momentum=0.3), tnn.BatchNorm2d(3, momentum=0.3).double()
    copy_weights(ours, theirs)
    for step in range(5):
        x = np.random.default_rng(step).normal(step, 1 + step, size=(4, 3, 2, 3))
        ours(mg.tensor(x))
        theirs(torch.tensor(x))
    for name, value in ours.state_dict().items():
        assert_close(value.numpy(), theirs.state_dict()[name].numpy(), name)
    ours.eval()
    theirs.eval()
    x = rng.normal(size=(2, 3, 2, 2))
    assert_close(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), "eval output")


def test_small_network_matches_torch_end_to_end(float64):
    def build(m):
        return m.Sequential(m.Conv2d(1, 4, 4, 2, 1), m.BatchNorm2d(4), m.LeakyReLU(0.2), m.Flatten(),
                            m.Linear(4 * 4 * 4, 1), m.Sigmoid())
    x = np.random.default_rng(3).normal(size=(3, 1, 8, 8))
    check(build(nn), build(tnn), x)
