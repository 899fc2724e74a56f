"""GAN building blocks against PyTorch (float64, skipped without torch): spectral_norm against
torch.nn.utils.spectral_norm over several training steps (outputs, gradients, u and v), PReLU
against torch.nn.PReLU, and the blocks torch lacks against straightforward torch
re-implementations written here from the papers' reference code: ModulatedConv2d as a
per-sample loop (no grouped-conv trick), SAGAN's attention with bmm, StyleGAN2's minibatch
stddev, CycleGAN's ResnetBlock and Pix2Pix's U-Net (the same state-dict names)."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan import nn

torch = pytest.importorskip("torch")
tnn, tF = torch.nn, torch.nn.functional
pytestmark = pytest.mark.usefixtures("float64")

RTOL, ATOL = 1e-10, 1e-12


def assert_close(ours, theirs, what):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours.numpy() if isinstance(ours, mg.Tensor) else ours, theirs,
                               rtol=RTOL, atol=ATOL, err_msg=what)


def pair(array, requires_grad=True):
    """The same float64 values as a minigan tensor and a torch tensor."""
    return (mg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad))


def backward_both(y, yt, seed=1):
    v = np.random.default_rng(seed).uniform(-1, 1, y.shape)
    y.backward(mg.tensor(v))
    yt.backward(torch.tensor(v))


def compare_gradients(ours, theirs):
    """Gradients of same-named parameters (and of tensors given as pairs)."""
    for (name, p), (name_t, pt) in zip(ours, theirs):
        assert name == name_t
        assert_close(p.grad, pt.grad, f"gradient of {name}")


# ------------------------------------------------------------------------------ spectral norm
SPECTRAL_LAYERS = [
    ("Linear", lambda m: m.Linear(5, 4), (3, 5)),
    ("Conv2d", lambda m: m.Conv2d(3, 4, 3, padding=1), (2, 3, 4, 4)),
    ("ConvTranspose2d (dim=1)", lambda m: m.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 3, 3)),
]


@pytest.mark.parametrize("n_power_iterations", [1, 3])
@pytest.mark.parametrize("name, make, x_shape", SPECTRAL_LAYERS, ids=[s[0] for s in SPECTRAL_LAYERS])
def test_spectral_norm_matches_torch_over_training_steps(name, make, x_shape, n_power_iterations):
    torch.manual_seed(0)
    theirs = tnn.utils.spectral_norm(make(tnn).double(), n_power_iterations=n_power_iterations)
    ours = nn.spectral_norm(make(nn), n_power_iterations=n_power_iterations)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: v.numpy() for k, v in state.items()})  # torch's u and v included
    rng = np.random.default_rng(0)
    for step in range(4):
        x, xt = pair(rng.normal(size=x_shape))
        y, yt = ours(x), theirs(xt)
        assert_close(y, yt, f"output at step {step}")
        assert_close(ours.weight, theirs.weight, f"normalised weight at step {step}")
        backward_both(y, yt, seed=step)
        assert_close(x.grad, xt.grad, f"input gradient at step {step}")
        compare_gradients(ours.named_parameters(), theirs.named_parameters())
        with torch.no_grad():  # one SGD step on both
            for p, pt in zip(ours.parameters(), theirs.parameters()):
                p.data -= 0.5 * p.grad.data
                pt -= 0.5 * pt.grad
                p.grad, pt.grad = None, None
        for key in ("weight_u", "weight_v"):
            assert_close(ours.state_dict()[key], theirs.state_dict()[key], f"{key} after step {step}")
    ours.eval(), theirs.eval()
    x, xt = pair(rng.normal(size=x_shape), requires_grad=False)
    assert_close(ours(x), theirs(xt), "eval-mode output")
    nn.remove_spectral_norm(ours)
    tnn.utils.remove_spectral_norm(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert_close(ours.weight, theirs.weight, "weight after remove_spectral_norm")


# ------------------------------------------------------------------------------ small layers
def test_prelu_matches_torch():
    for num_parameters in (1, 3):
        ours, theirs = nn.PReLU(num_parameters, init=0.2), tnn.PReLU(num_parameters, init=0.2).double()
        assert repr(ours) == repr(theirs)
        with torch.no_grad():
            theirs.weight.copy_(torch.linspace(-0.3, 0.6, num_parameters))
        with mg.no_grad():
            ours.weight[...] = theirs.weight.detach().numpy()
        x, xt = pair(np.random.default_rng(0).normal(size=(2, 3, 4)))
        y, yt = ours(x), theirs(xt)
        assert_close(y, yt, "output")
        backward_both(y, yt)
        assert_close(x.grad, xt.grad, "input gradient")
        assert_close(ours.weight.grad, theirs.weight.grad, "slope gradient")


def torch_minibatch_stddev(x, group_size, num_channels):
    """StyleGAN2-ADA's MinibatchStdLayer.forward."""
    n, c, h, w = x.shape
    g, f = min(group_size, n), num_channels
    y = x.reshape(g, -1, f, c // f, h, w)
    y = y - y.mean(dim=0)
    y = y.square().mean(dim=0)
    y = (y + 1e-8).sqrt()
    y = y.mean(dim=[2, 3, 4])
    y = y.reshape(-1, f, 1, 1)
    y = y.repeat(g, 1, h, w)
    return torch.cat([x, y], dim=1)


@pytest.mark.parametrize("n, group_size, num_channels", [(8, 4, 1), (6, 2, 3), (2, 4, 1)])
def test_minibatch_stddev_matches_stylegan2(n, group_size, num_channels):
    x, xt = pair(np.random.default_rng(0).normal(size=(n, 6, 3, 3)))
    y, yt = nn.MinibatchStdDev(group_size, num_channels)(x), torch_minibatch_stddev(xt, group_size, num_channels)
    assert_close(y, yt, "output")
    backward_both(y, yt)
    assert_close(x.grad, xt.grad, "input gradient")


def test_equalized_conv2d_matches_a_scaled_torch_conv():
    ours = nn.EqualizedConv2d(3, 4, 3, stride=2, padding=1, bias_init=0.2, lr_multiplier=0.5, gain=math.sqrt(2))
    weight, bias = pair(ours.weight.numpy())[1], pair(ours.bias.numpy())[1]
    x, xt = pair(np.random.default_rng(0).normal(size=(2, 3, 5, 5)))
    y = ours(x)
    yt = tF.conv2d(xt, weight * (math.sqrt(2) * 0.5 / math.sqrt(27)), bias * 0.5, stride=2, padding=1)
    assert_close(y, yt, "output")
    backward_both(y, yt)
    assert_close(ours.weight.grad, weight.grad, "weight gradient")
    assert_close(ours.bias.grad, bias.grad, "bias gradient")
    assert_close(x.grad, xt.grad, "input gradient")


# ---------------------------------------------------------------------------- ModulatedConv2d
def torch_blur(x, taps, pad, gain):
    """upfirdn2d with up = down = 1: zero padding (pad[0], pad[1]) on each side, then a true
    convolution with outer(taps, taps) normalised to `gain`."""
    taps = torch.tensor(taps, dtype=torch.float64)
    kernel = torch.outer(taps, taps)
    kernel = torch.flip(kernel * (gain / kernel.sum()), [0, 1])
    x = tF.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    c = x.shape[1]
    return tF.conv2d(x, kernel.expand(c, 1, *kernel.shape), groups=c)


def torch_modulated_conv(x, w, weight, mod_weight, mod_bias, demodulate, up, down, taps):
    """StyleGAN2's modulated convolution one sample at a time; blur paddings from
    rosinality/stylegan2-pytorch's ModulatedConv2d (factor 2)."""
    out_channels, in_channels, k, _ = weight.shape
    styles = w @ (mod_weight / math.sqrt(w.shape[1])).T + mod_bias
    outputs = []
    for i in range(x.shape[0]):
        wi = weight / math.sqrt(in_channels * k * k) * styles[i].view(1, in_channels, 1, 1)
        if demodulate:
            wi = wi / torch.sqrt((wi ** 2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)
        xi = x[i:i + 1]
        if up and taps:
            p = (len(taps) - 2) - (k - 1)
            yi = torch_blur(tF.conv_transpose2d(xi, wi.transpose(0, 1), stride=2), taps,
                            ((p + 1) // 2 + 1, p // 2 + 1), 4.0)
        elif up:
            yi = tF.conv_transpose2d(xi, wi.transpose(0, 1), stride=2, padding=(k - 1) // 2, output_padding=1)
        elif down and taps:
            p = (len(taps) - 2) + (k - 1)
            yi = tF.conv2d(torch_blur(xi, taps, ((p + 1) // 2, p // 2), 1.0), wi, stride=2)
        elif down:
            yi = tF.conv2d(xi, wi, stride=2, padding=(k - 1) // 2)
        else:
            yi = tF.conv2d(xi, wi, padding=k // 2)
        outputs.append(yi)
    return torch.cat(outputs)


MODULATED_CASES = [
    ("demodulated", {}, 3, 5),
    ("not demodulated, 1x1", {"demodulate": False}, 1, 4),
    ("up, blurred", {"up": True}, 3, 4),
    ("up, asymmetric blur", {"up": True, "blur_kernel": (1, 2, 3, 1)}, 3, 3),
    ("up, 1x1 blurred", {"up": True}, 1, 3),
    ("up, no blur", {"up": True, "blur_kernel": None}, 3, 4),
    ("down, blurred", {"down": True}, 3, 6),
    ("down, asymmetric blur, 5x5", {"down": True, "blur_kernel": (1, 2, 3, 1)}, 5, 8),
    ("down, no blur", {"down": True, "blur_kernel": None}, 3, 6),
]


@pytest.mark.parametrize("name, kwargs, k, size", MODULATED_CASES, ids=[c[0] for c in MODULATED_CASES])
def test_modulated_conv_matches_a_per_sample_torch_loop(name, kwargs, k, size):
    ours = nn.ModulatedConv2d(3, 4, k, style_dim=5, **kwargs)
    rng = np.random.default_rng(0)
    with mg.no_grad():
        ours.modulation.bias[...] = ours.modulation.bias.numpy() + rng.uniform(-0.3, 0.3, 3)
    params = {name: pair(p.numpy())[1] for name, p in ours.named_parameters()}
    x, xt = pair(rng.normal(size=(3, 3, size, size)))
    w, wt = pair(rng.normal(size=(3, 5)))
    y = ours(x, w)
    yt = torch_modulated_conv(xt, wt, params["weight"], params["modulation.weight"], params["modulation.bias"],
                              kwargs.get("demodulate", True), kwargs.get("up", False), kwargs.get("down", False),
                              kwargs.get("blur_kernel", (1, 3, 3, 1)))
    assert y.shape == yt.shape
    assert_close(y, yt, "output")
    backward_both(y, yt)
    assert_close(x.grad, xt.grad, "input gradient")
    assert_close(w.grad, wt.grad, "style gradient")
    compare_gradients(ours.named_parameters(), params.items())


# --------------------------------------------------------------------------------- attention
def test_self_attention_matches_sagan():
    ours = nn.SelfAttention2d(16)
    ours.gamma.data[...] = 0.8
    p = {name: pair(v.numpy())[1] for name, v in ours.named_parameters()}
    x, xt = pair(np.random.default_rng(0).normal(size=(2, 16, 3, 4)))
    y = ours(x)
    # SAGAN's Self_Attn.forward (heykeetae/Self-Attention-GAN)
    n, c, h, w = xt.shape
    query = tF.conv2d(xt, p["query.weight"], p["query.bias"]).view(n, -1, h * w).permute(0, 2, 1)
    key = tF.conv2d(xt, p["key.weight"], p["key.bias"]).view(n, -1, h * w)
    attention = torch.softmax(torch.bmm(query, key), dim=-1)
    value = tF.conv2d(xt, p["value.weight"], p["value.bias"]).view(n, -1, h * w)
    yt = p["gamma"] * torch.bmm(value, attention.permute(0, 2, 1)).view(n, c, h, w) + xt
    assert_close(y, yt, "output")
    assert_close(ours.attention(x), attention, "attention map")
    backward_both(y, yt)
    assert_close(x.grad, xt.grad, "input gradient")
    compare_gradients(ours.named_parameters(), p.items())


def test_conditional_batch_norm_matches_torch_over_steps():
    ours = nn.ConditionalBatchNorm2d(3, 4)
    theirs_bn = tnn.BatchNorm2d(3, affine=False).double()
    rng = np.random.default_rng(0)
    with mg.no_grad():
        ours.gain.weight[...] = ours.gain.weight.numpy() + rng.uniform(-0.5, 0.5, (4, 3))
        ours.bias.weight[...] = ours.bias.weight.numpy() + rng.uniform(-0.5, 0.5, (4, 3))
    gain, bias = pair(ours.gain.weight.numpy())[1], pair(ours.bias.weight.numpy())[1]
    for step in range(3):
        x, xt = pair(rng.normal(1.0, 2.0, size=(5, 3, 2, 2)))
        labels = rng.integers(0, 4, 5)
        y = ours(x, mg.tensor(labels))
        lt = torch.tensor(labels)
        yt = theirs_bn(xt) * gain[lt][:, :, None, None] + bias[lt][:, :, None, None]
        assert_close(y, yt, f"output at step {step}")
        backward_both(y, yt, seed=step)
        assert_close(x.grad, xt.grad, f"input gradient at step {step}")
        for p, pt in ((ours.gain.weight, gain), (ours.bias.weight, bias)):
            assert_close(p.grad, pt.grad, f"embedding gradient at step {step}")
            p.grad, pt.grad = None, None
    assert_close(ours.bn.running_mean, theirs_bn.running_mean, "running mean")
    assert_close(ours.bn.running_var, theirs_bn.running_var, "running variance")


# ----------------------------------------------------------------------------- residual, U-Net
def test_residual_block_matches_cyclegan_resnet_block():
    ours = nn.ResidualBlock(3)
    # junyanz/pytorch-CycleGAN-and-pix2pix ResnetBlock.build_conv_block, norm 'instance', no dropout
    theirs = tnn.Sequential(tnn.ReflectionPad2d(1), tnn.Conv2d(3, 3, 3), tnn.InstanceNorm2d(3), tnn.ReLU(),
                            tnn.ReflectionPad2d(1), tnn.Conv2d(3, 3, 3), tnn.InstanceNorm2d(3)).double()
    names = {"block.0.weight": "1.weight", "block.0.bias": "1.bias", "block.3.weight": "5.weight",
             "block.3.bias": "5.bias"}
    theirs.load_state_dict({names[k]: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x, xt = pair(np.random.default_rng(0).normal(size=(2, 3, 5, 5)))
    y, yt = ours(x), xt + theirs(xt)
    assert_close(y, yt, "output")
    backward_both(y, yt)
    assert_close(x.grad, xt.grad, "input gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, theirs_params[names[name]].grad, f"gradient of {name}")


class TorchUnetBlock(tnn.Module):
    """Pix2Pix's UnetSkipConnectionBlock, norm 'batch' (so convs before a norm have no bias)."""

    def __init__(self, outer, inner, input_nc=None, submodule=None, outermost=False, innermost=False, dropout=False):
        super().__init__()
        self.outermost = outermost
        input_nc = outer if input_nc is None else input_nc
        down = tnn.Conv2d(input_nc, inner, 4, 2, 1, bias=False)
        if outermost:
            layers = [down, submodule, tnn.ReLU(), tnn.ConvTranspose2d(inner * 2, outer, 4, 2, 1), tnn.Tanh()]
        elif innermost:
            layers = [tnn.LeakyReLU(0.2), down, tnn.ReLU(), tnn.ConvTranspose2d(inner, outer, 4, 2, 1, bias=False),
                      tnn.BatchNorm2d(outer)]
        else:
            layers = [tnn.LeakyReLU(0.2), down, tnn.BatchNorm2d(inner), submodule, tnn.ReLU(),
                      tnn.ConvTranspose2d(inner * 2, outer, 4, 2, 1, bias=False), tnn.BatchNorm2d(outer)]
            layers += [tnn.Dropout(0.5)] if dropout else []
        self.model = tnn.Sequential(*layers)

    def forward(self, x):
        return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def test_unet_matches_pix2pix_unet_generator():
    ngf = 2
    block = TorchUnetBlock(ngf * 8, ngf * 8, innermost=True)  # UnetGenerator with num_downs=6
    block = TorchUnetBlock(ngf * 8, ngf * 8, submodule=block)
    block = TorchUnetBlock(ngf * 4, ngf * 8, submodule=block)
    block = TorchUnetBlock(ngf * 2, ngf * 4, submodule=block)
    block = TorchUnetBlock(ngf, ngf * 2, submodule=block)
    theirs = tnn.Sequential()
    theirs.model = TorchUnetBlock(2, ngf, input_nc=3, submodule=block, outermost=True)
    theirs = theirs.double()
    ours = nn.UNet(3, 2, num_downs=6, base_channels=ngf, dropout=False)
    state = ours.state_dict()
    assert list(state) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in state.items()})
    x, xt = pair(np.random.default_rng(0).normal(size=(2, 3, 64, 64)))
    y, yt = ours(x), theirs(xt)
    assert_close(y, yt, "output")
    backward_both(y, yt)
    assert_close(x.grad, xt.grad, "input gradient")
    compare_gradients(ours.named_parameters(), theirs.named_parameters())
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, f"state {key} after the step")
