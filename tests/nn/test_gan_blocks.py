"""GAN building blocks without a reference library: spectral norm against np.linalg.svd,
initial statistics, demodulation, the grouped-conv trick against a per-sample loop, formulas
recomputed in NumPy, U-Net structure, and the errors each block raises."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan import functional as F, nn

pytestmark = pytest.mark.usefixtures("float64")


def rng(seed=0):
    return np.random.default_rng(seed)


def t(array, requires_grad=False):
    return mg.tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------------------ spectral norm
def largest_singular_value(matrix):
    return np.linalg.svd(matrix, compute_uv=False)[0]


@pytest.mark.parametrize("make, as_matrix", [
    (lambda: nn.Linear(6, 5), lambda w: w),
    (lambda: nn.Conv2d(3, 4, 3), lambda w: w.reshape(4, -1)),
    (lambda: nn.ConvTranspose2d(3, 4, 2), lambda w: w.transpose(1, 0, 2, 3).reshape(4, -1)),  # dim=1
], ids=["Linear", "Conv2d", "ConvTranspose2d"])
def test_spectral_norm_sigma_converges_to_the_largest_singular_value(make, as_matrix, float64):
    mg.manual_seed(0)   # the draw differs per device; 200 iterations converge for any of them
    layer = nn.spectral_norm(make())
    x = mg.randn(2, *((6,) if isinstance(layer, nn.Linear) else (3, 4, 4)))
    for _ in range(200):
        layer(x)
    w = layer.weight_orig.numpy()
    true_sigma = largest_singular_value(as_matrix(w))
    estimated_sigma = w.flat[0] / layer.weight.numpy().flat[0]
    np.testing.assert_allclose(estimated_sigma, true_sigma, rtol=1e-8)
    assert largest_singular_value(as_matrix(layer.weight.numpy())) == pytest.approx(1.0, rel=1e-8)
    assert layer.weight_u.shape == (4 if not isinstance(layer, nn.Linear) else 5,)


def test_spectral_norm_one_step_from_a_fresh_u_underestimates_sigma():
    mg.manual_seed(1)
    layer = nn.spectral_norm(nn.Linear(8, 8))
    layer(mg.randn(1, 8))
    sigma = layer.weight_orig.numpy()[0, 0] / layer.weight.numpy()[0, 0]
    assert 0 < sigma <= largest_singular_value(layer.weight_orig.numpy()) + 1e-12


def test_spectral_norm_registers_weight_orig_and_unit_buffers():
    conv = nn.Conv2d(3, 4, 3)
    weight = conv.weight
    nn.spectral_norm(conv)
    assert [name for name, _ in conv.named_parameters()] == ["bias", "weight_orig"]
    assert conv.weight_orig is weight  # the same Parameter: an optimizer built earlier keeps working
    assert list(conv.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert conv.weight_u.shape == (4,) and conv.weight_v.shape == (27,)
    for vector in (conv.weight_u, conv.weight_v):
        assert np.linalg.norm(vector.numpy()) == pytest.approx(1.0)


def test_spectral_norm_power_iteration_runs_in_training_mode_only():
    layer = nn.spectral_norm(nn.Linear(4, 3))
    x = mg.randn(2, 4)
    u = layer.weight_u.numpy().copy()
    layer.eval()
    layer(x)
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)
    layer.train()
    layer(x)
    w = layer.weight_orig.numpy()
    v = w.T @ u / np.linalg.norm(w.T @ u)
    np.testing.assert_allclose(layer.weight_v.numpy(), v, rtol=1e-12)
    np.testing.assert_allclose(layer.weight_u.numpy(), w @ v / np.linalg.norm(w @ v), rtol=1e-12)


def test_spectral_norm_gradient_treats_u_and_v_as_constants():
    layer = nn.spectral_norm(nn.Linear(4, 3, bias=False)).eval()
    x = rng().normal(size=(5, 4))
    g = rng(1).normal(size=(5, 3))
    layer(t(x)).backward(t(g))
    w, u, v = layer.weight_orig.numpy(), layer.weight_u.numpy(), layer.weight_v.numpy()
    sigma = u @ w @ v
    grad_normalized = g.T @ x  # gradient with respect to W / sigma
    expected = grad_normalized / sigma - np.sum(grad_normalized * w) / sigma ** 2 * np.outer(u, v)
    np.testing.assert_allclose(layer.weight_orig.grad.numpy(), expected, rtol=1e-10)


def test_spectral_norm_state_dict_round_trip_and_removal():
    layer = nn.spectral_norm(nn.Linear(4, 3))
    x = mg.randn(2, 4)
    for _ in range(3):
        layer(x)
    copy = nn.spectral_norm(nn.Linear(4, 3))
    copy.load_state_dict(layer.state_dict())
    layer.eval(), copy.eval()
    expected = layer(x).numpy()
    np.testing.assert_array_equal(copy(x).numpy(), expected)
    nn.remove_spectral_norm(copy)
    assert [name for name, _ in copy.named_parameters()] == ["bias", "weight"]
    assert isinstance(copy.weight, nn.Parameter) and list(copy.buffers()) == []
    assert not copy._forward_pre_hooks
    np.testing.assert_allclose(copy(x).numpy(), expected, rtol=1e-12)


def test_spectral_norm_errors():
    layer = nn.spectral_norm(nn.Linear(4, 3))
    with pytest.raises(RuntimeError, match="already has a spectral_norm hook on 'weight'"):
        nn.spectral_norm(layer)
    with pytest.raises(ValueError, match="Linear has no parameter 'kernel'"):
        nn.spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ValueError, match="n_power_iterations must be positive, got 0"):
        nn.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="dim=2 is out of range for weight of shape"):
        nn.spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found in Linear"):
        nn.remove_spectral_norm(nn.Linear(2, 2))


# -------------------------------------------------------------------------- equalized layers
def test_equalized_linear_initial_statistics_and_runtime_scale():
    mg.manual_seed(0)
    layer = nn.EqualizedLinear(256, 128, bias_init=0.3, lr_multiplier=0.01)
    w = layer.weight.numpy()
    assert abs(w.mean()) < 0.02 / 0.01 and w.std() == pytest.approx(100.0, rel=0.02)  # N(0, 1 / lr^2)
    np.testing.assert_allclose(layer.bias.numpy() * 0.01, 0.3)  # the effective bias starts at bias_init
    x = rng().normal(size=(3, 256))
    expected = x @ (w * 0.01 / 16).T + layer.bias.numpy() * 0.01
    np.testing.assert_allclose(layer(t(x)).numpy(), expected, rtol=1e-12)


def test_equalized_conv2d_keeps_unit_variance_with_gain_one():
    mg.manual_seed(0)
    conv = nn.EqualizedConv2d(64, 32, 3, padding=1)
    assert conv.weight.numpy().std() == pytest.approx(1.0, rel=0.02)
    y = conv(mg.randn(4, 64, 8, 8)).numpy()[:, :, 1:-1, 1:-1]  # the interior sees no zero padding
    assert y.std() == pytest.approx(1.0, rel=0.1)
    w = conv.weight.numpy() * math.sqrt(2) / math.sqrt(64 * 9)
    gained = nn.EqualizedConv2d(64, 32, 3, gain=math.sqrt(2))
    gained.weight.data[...] = conv.weight.data
    x = mg.randn(1, 64, 3, 3)
    np.testing.assert_allclose(gained(x).numpy(), F.conv2d(x, t(w)).numpy(), rtol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr_multiplier": 0}, "EqualizedLinear: lr_multiplier must be positive, got 0"),
    ({"gain": -1.0}, "EqualizedLinear: gain must be positive, got -1.0"),
])
def test_equalized_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.EqualizedLinear(2, 2, **kwargs)


# --------------------------------------------------------------------- ProGAN / StyleGAN layers
def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = rng().normal(size=(2, 5, 3, 3)) * 4
    y = nn.PixelNorm()(t(x)).numpy()
    np.testing.assert_allclose(np.mean(y ** 2, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(y, x / np.sqrt(np.mean(x ** 2, axis=1, keepdims=True) + 1e-8), rtol=1e-12)


def minibatch_stddev_reference(x, group_size, num_channels):
    """A loop over groups: sample i joins group i mod (N / G)."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    groups = n // g
    extra = np.zeros((n, num_channels, h, w))
    for j in range(groups):
        members = x[j::groups]  # (G, C, H, W)
        std = np.sqrt(members.var(axis=0) + 1e-8)
        for f in range(num_channels):
            extra[j::groups, f] = std[f * c // num_channels:(f + 1) * c // num_channels].mean()
    return np.concatenate([x, extra], axis=1)


@pytest.mark.parametrize("n, group_size, num_channels", [(8, 4, 1), (6, 2, 2), (3, 4, 1)])
def test_minibatch_stddev_matches_a_per_group_loop(n, group_size, num_channels):
    x = rng().normal(size=(n, 4, 3, 2))
    y = nn.MinibatchStdDev(group_size, num_channels)(t(x))
    assert y.shape == (n, 4 + num_channels, 3, 2)
    np.testing.assert_allclose(y.numpy(), minibatch_stddev_reference(x, group_size, num_channels), rtol=1e-12)


def test_minibatch_stddev_errors():
    with pytest.raises(ValueError, match="batch size 6 is not divisible by group_size=4"):
        nn.MinibatchStdDev(4)(mg.randn(6, 2, 2, 2))
    with pytest.raises(ValueError, match="3 channels are not divisible by num_channels=2"):
        nn.MinibatchStdDev(2, 2)(mg.randn(4, 3, 2, 2))
    with pytest.raises(ValueError, match=r"expected an input \(N, C, H, W\), got shape \(4, 3\)"):
        nn.MinibatchStdDev()(mg.randn(4, 3))
    with pytest.raises(ValueError, match="group_size=0 and num_channels=1 must be positive"):
        nn.MinibatchStdDev(0)


def test_noise_injection_starts_as_identity_and_uses_the_seeded_generator():
    layer = nn.NoiseInjection(3)
    x = mg.randn(2, 3, 4, 4)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    with mg.no_grad():
        layer.weight[...] = [0.5, -1.0, 2.0]
    mg.manual_seed(7)
    first = layer(x).numpy()
    mg.manual_seed(7)
    np.testing.assert_array_equal(layer(x).numpy(), first)
    noise = (first - x.numpy()) / np.array([0.5, -1.0, 2.0])[:, None, None]
    np.testing.assert_allclose(noise[:, 0], noise[:, 2], rtol=1e-10)  # one noise image shared by the channels
    given = rng().normal(size=(2, 1, 4, 4))
    expected = x.numpy() + np.array([0.5, -1.0, 2.0])[:, None, None] * given
    np.testing.assert_allclose(layer(x, t(given)).numpy(), expected, rtol=1e-12)


def test_noise_injection_errors():
    with pytest.raises(ValueError, match=r"noise has shape \(2, 1, 3, 3\), expected \(2, 1, 4, 4\)"):
        nn.NoiseInjection(3)(mg.randn(2, 3, 4, 4), mg.randn(2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"expected an input \(N, 3, H, W\), got shape \(2, 2, 4, 4\)"):
        nn.NoiseInjection(3)(mg.randn(2, 2, 4, 4))


def test_adain_normalises_then_applies_the_style():
    layer = nn.AdaIN(3, 4)
    np.testing.assert_array_equal(layer.style.bias.numpy(), [1, 1, 1, 0, 0, 0])
    x, w = rng().normal(2, 3, size=(2, 3, 4, 4)), rng(1).normal(size=(2, 4))
    normalized = (x - x.mean(axis=(2, 3), keepdims=True)) / np.sqrt(x.var(axis=(2, 3), keepdims=True) + 1e-5)
    style = w @ (layer.style.weight.numpy() / 2).T + layer.style.bias.numpy()  # scale 1/sqrt(style_dim)
    expected = normalized * style[:, :3, None, None] + style[:, 3:, None, None]
    np.testing.assert_allclose(layer(t(x), t(w)).numpy(), expected, rtol=1e-10)
    with pytest.raises(ValueError, match=r"AdaIN: expected a style w of shape \(2, 4\), got \(2, 5\)"):
        layer(t(x), mg.randn(2, 5))


def test_prelu_matches_its_formula():
    layer = nn.PReLU(3, init=0.1)
    with mg.no_grad():
        layer.weight[...] = [0.1, 0.2, -0.5]
    x = rng().normal(size=(2, 3, 4))
    slope = np.array([0.1, 0.2, -0.5])[:, None]
    np.testing.assert_allclose(layer(t(x)).numpy(), np.where(x > 0, x, slope * x), rtol=1e-12)
    with pytest.raises(ValueError, match=r"PReLU: input shape \(2, 4\) does not have 3 channels"):
        layer(mg.randn(2, 4))


# ---------------------------------------------------------------------------- ModulatedConv2d
def test_demodulated_weights_have_unit_norm_per_output_channel():
    layer = nn.ModulatedConv2d(6, 5, 3, style_dim=4)
    weight = layer.modulated_weight(t(rng().normal(size=(3, 4)) * 2)).numpy()
    assert weight.shape == (3, 5, 6, 3, 3)
    np.testing.assert_allclose(np.sum(weight ** 2, axis=(2, 3, 4)), 1.0, rtol=1e-6)


def test_demodulation_keeps_unit_variance_activations():
    mg.manual_seed(0)
    layer = nn.ModulatedConv2d(64, 16, 3, style_dim=8)
    y = layer(mg.randn(4, 64, 10, 10), mg.randn(4, 8) * 3).numpy()[:, :, 1:-1, 1:-1]
    assert y.std() == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("demodulate", [True, False])
def test_modulated_conv_grouped_trick_matches_a_per_sample_loop(demodulate):
    layer = nn.ModulatedConv2d(3, 4, 3, style_dim=5, demodulate=demodulate)
    x, w = t(rng().normal(size=(3, 3, 5, 5))), t(rng(1).normal(size=(3, 5)))
    weights = layer.modulated_weight(w)
    # modulation by hand: weight * scale * style, style = EqualizedLinear(w)
    style = w.numpy() @ (layer.modulation.weight.numpy() / math.sqrt(5)).T + layer.modulation.bias.numpy()
    by_hand = layer.weight.numpy()[None] / math.sqrt(27) * style[:, None, :, None, None]
    if demodulate:
        by_hand /= np.sqrt(np.sum(by_hand ** 2, axis=(2, 3, 4), keepdims=True) + 1e-8)
    np.testing.assert_allclose(weights.numpy(), by_hand, rtol=1e-12)
    loop = np.concatenate([F.conv2d(x[i:i + 1], t(by_hand[i]), padding=1).numpy() for i in range(3)])
    np.testing.assert_allclose(layer(x, w).numpy(), loop, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kwargs, size, expected", [
    ({"up": True}, 4, 8), ({"up": True, "blur_kernel": None}, 4, 8), ({"up": True}, 3, 6),
    ({"down": True}, 8, 4), ({"down": True, "blur_kernel": None}, 8, 4), ({}, 5, 5)])
@pytest.mark.parametrize("kernel_size", [1, 3])
def test_modulated_conv_output_sizes(kwargs, size, expected, kernel_size):
    layer = nn.ModulatedConv2d(2, 3, kernel_size, style_dim=4, **kwargs)
    assert layer(mg.randn(2, 2, size, size), mg.randn(2, 4)).shape == (2, 3, expected, expected)


def test_modulated_conv_up_sampling_of_a_constant_is_constant_inside():
    """The [1, 3, 3, 1] filter after a stride-2 transposed conv spreads each pixel evenly: a
    constant image with a 1 x 1 kernel stays constant away from the border."""
    layer = nn.ModulatedConv2d(1, 1, 1, style_dim=1, demodulate=False, up=True)
    layer.weight.data[...] = 1.0
    layer.modulation.weight.data[...] = 0.0
    y = layer(mg.ones(1, 1, 6, 6), mg.zeros(1, 1)).numpy()
    np.testing.assert_allclose(y[0, 0, 2:-2, 2:-2], 1.0, rtol=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: nn.ModulatedConv2d(2, 2, 3, 4, up=True, down=True), "up and down cannot both be True"),
    (lambda: nn.ModulatedConv2d(2, 2, 4, 4), "kernel_size must be a positive odd int, got 4"),
    (lambda: nn.ModulatedConv2d(2, 2, 3, 4)(mg.randn(1, 3, 4, 4), mg.randn(1, 4)),
     r"expected an input \(N, 2, H, W\), got shape \(1, 3, 4, 4\)"),
    (lambda: nn.ModulatedConv2d(2, 2, 3, 4)(mg.randn(2, 2, 4, 4), mg.randn(1, 4)),
     r"style w has shape \(1, 4\) but the input has batch size 2"),
    (lambda: nn.ModulatedConv2d(2, 2, 3, 4)(mg.randn(1, 2, 4, 4), mg.randn(1, 3)),
     r"expected a style w of shape \(N, 4\), got \(1, 3\)"),
])
def test_modulated_conv_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------- attention, conditional norm
def test_self_attention_starts_as_identity_and_attends_with_softmax_rows():
    layer = nn.SelfAttention2d(16)
    assert layer.query.weight.shape == (2, 16, 1, 1) and layer.value.weight.shape == (16, 16, 1, 1)
    x = mg.randn(2, 16, 3, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    attention = layer.attention(x).numpy()
    assert attention.shape == (2, 9, 9)
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, rtol=1e-12)
    layer.gamma.data[...] = 0.7
    value = np.einsum("oc,nchw->nohw", layer.value.weight.numpy()[:, :, 0, 0], x.numpy())
    value += layer.value.bias.numpy()[:, None, None]
    attended = np.einsum("ncj,nij->nci", value.reshape(2, 16, 9), attention).reshape(2, 16, 3, 3)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() + 0.7 * attended, rtol=1e-10)
    with pytest.raises(ValueError, match="channels=4 must be at least reduction=8"):
        nn.SelfAttention2d(4)


def test_conditional_batch_norm_uses_each_class_gain_and_bias():
    layer = nn.ConditionalBatchNorm2d(3, 4)
    x, y = rng().normal(1, 2, size=(5, 3, 2, 2)), np.array([0, 3, 1, 3, 2])
    normalized = (x - x.mean(axis=(0, 2, 3), keepdims=True)) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + 1e-5)
    np.testing.assert_allclose(layer(t(x), mg.tensor(y)).numpy(), normalized, rtol=1e-10)  # gain 1, bias 0
    gain, bias = rng(1).normal(size=(4, 3)), rng(2).normal(size=(4, 3))
    with mg.no_grad():
        layer.gain.weight[...], layer.bias.weight[...] = gain, bias
    expected = normalized * gain[y][:, :, None, None] + bias[y][:, :, None, None]
    np.testing.assert_allclose(layer(t(x), mg.tensor(y)).numpy(), expected, rtol=1e-10)
    two_steps = (1 - 0.9 ** 2) * x.mean(axis=(0, 2, 3))  # momentum 0.1, twice the same batch
    np.testing.assert_allclose(layer.bn.running_mean.numpy(), two_steps, rtol=1e-10)
    with pytest.raises(ValueError, match=r"labels y \(N,\), got shapes \(5, 3, 2, 2\) and \(4,\)"):
        layer(t(x), mg.tensor(y[:4]))
    with pytest.raises(IndexError, match=r"index out of range \[0, 4\)"):
        layer(t(x), mg.tensor(np.array([0, 1, 2, 3, 4])))


# ------------------------------------------------------------------ residual and up-sampling blocks
@pytest.mark.parametrize("kwargs", [{}, {"norm": "batch", "padding_mode": "zeros", "activation": "prelu"},
                                    {"norm": "none", "activation": "leaky_relu", "dropout": 0.5}])
def test_residual_block_adds_its_input(kwargs):
    block = nn.ResidualBlock(4, **kwargs)
    x = mg.randn(2, 4, 5, 5)
    assert block(x).shape == (2, 4, 5, 5)
    last_conv = [m for m in block.block if isinstance(m, nn.Conv2d)][-1]
    last_conv.weight.data[...] = 0.0
    if last_conv.bias is not None:
        last_conv.bias.data[...] = 0.0
    np.testing.assert_allclose(block(x).numpy(), x.numpy(), atol=1e-12)  # the residual branch gives 0
    assert (last_conv.bias is None) == (kwargs.get("norm") == "batch")


def test_residual_block_errors():
    with pytest.raises(ValueError, match="ResidualBlock: norm must be one of .* got 'layer'"):
        nn.ResidualBlock(4, norm="layer")
    with pytest.raises(ValueError, match="ResidualBlock: activation must be one of .* got 'gelu'"):
        nn.ResidualBlock(4, activation="gelu")


def test_biggan_blocks_shapes_and_labels():
    x, y = mg.randn(2, 4, 4, 4), mg.tensor(np.array([0, 2]))
    up = nn.ResBlockUp(4, 3, num_classes=3)
    assert up(x, y).shape == (2, 3, 8, 8)
    assert "conv1.weight_orig" in up.state_dict()
    with pytest.raises(ValueError, match="class-conditional; pass the labels y"):
        up(x)
    assert nn.ResBlockUp(4, 3, spectral=False)(x).shape == (2, 3, 8, 8)
    assert nn.ResBlockDown(4, 6)(x).shape == (2, 6, 2, 2)
    same = nn.ResBlockDown(4, 4, down=False, preactivation=False)
    assert same.shortcut is None and same(x).shape == (2, 4, 4, 4)


def test_sub_pixel_upsample_is_a_conv_then_a_pixel_shuffle():
    layer = nn.SubPixelUpsample(2, scale=2, kernel_size=1)
    x = rng().normal(size=(1, 2, 3, 3))
    conv = np.einsum("oc,nchw->nohw", layer.conv.weight.numpy()[:, :, 0, 0], x) + layer.conv.bias.numpy()[:, None, None]
    # channel c * 4 + i * 2 + j fills pixel (i, j) of every 2 x 2 block of output channel c
    shuffled = conv.reshape(1, 2, 2, 2, 3, 3).transpose(0, 1, 4, 2, 5, 3).reshape(1, 2, 6, 6)
    expected = np.where(shuffled > 0, shuffled, 0.25 * shuffled)
    np.testing.assert_allclose(layer(t(x)).numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="scale must be a positive int, got 0"):
        nn.SubPixelUpsample(2, scale=0)


# --------------------------------------------------------------------------------------- U-Net
def test_unet_output_shape_range_and_skip_connections():
    net = nn.UNet(3, 2, num_downs=4, base_channels=2)
    seen = []
    for module in net.modules():
        if isinstance(module, nn.UNetBlock) and not module.outermost:
            module.register_forward_hook(lambda m, args, out: seen.append((args[0].numpy(), out.numpy())))
    y = net(mg.randn(2, 3, 16, 16))
    assert y.shape == (2, 2, 16, 16) and np.abs(y.numpy()).max() <= 1.0
    assert len(seen) == 3
    for x, out in seen:  # each inner level returns its input, then the decoder's channels
        assert out.shape[1] == 2 * x.shape[1] and out.shape[2:] == x.shape[2:]
        np.testing.assert_array_equal(out[:, :x.shape[1]], x)
    assert [s[0].shape[1:] for s in seen] == [(8, 2, 2), (4, 4, 4), (2, 8, 8)]  # innermost returns first


def test_unet_follows_pix2pix_unet_256():
    net = nn.UNet(3, 3, num_downs=8, base_channels=1)
    dropouts = [m for m in net.modules() if isinstance(m, nn.Dropout)]
    assert len(dropouts) == 3 and all(d.p == 0.5 for d in dropouts)
    downs = [m.out_channels for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert downs == [1, 2, 4, 8, 8, 8, 8, 8]
    assert len([m for m in net.modules() if isinstance(m, nn.Dropout)]) == 3
    assert not [m for m in nn.UNet(3, 3, 8, 1, dropout=False).modules() if isinstance(m, nn.Dropout)]
    instance = nn.UNet(1, 1, 3, 2, norm="instance")
    assert any(isinstance(m, nn.InstanceNorm2d) for m in instance.modules())


def test_unet_errors():
    with pytest.raises(ValueError, match=r"H and W divisible by 2\^3 = 8, got shape \(1, 1, 12, 12\)"):
        nn.UNet(1, 1, 3, 2)(mg.randn(1, 1, 12, 12))
    with pytest.raises(ValueError, match="num_downs must be an int >= 2"):
        nn.UNet(1, 1, 1)
    with pytest.raises(ValueError, match="UNet: norm must be one of"):
        nn.UNet(1, 1, 3, norm="group")
