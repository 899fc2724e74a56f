"""The same network on "cuda" (CuPy) and "cpu" (NumPy): same outputs, gradients and running
statistics in float64; parameters created on and moved to the GPU. Skipped without a GPU."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn

pytestmark = pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")


def build():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
        nn.ConvTranspose2d(4, 4, 4, stride=2, padding=1), nn.InstanceNorm2d(4, affine=True), nn.ReLU(),
        nn.GroupNorm(2, 4), nn.AvgPool2d(2), nn.Upsample(scale_factor=2, mode="bilinear"), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(4 * 4 * 4, 8), nn.LayerNorm(8), nn.Tanh(), nn.Linear(8, 1))


def test_network_on_gpu_matches_cpu(float64):
    cpu = build().to("cpu")
    gpu = build().to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    assert all(p.device == "cuda" for p in gpu.parameters()) and all(b.device == "cuda" for b in gpu.buffers())
    x = np.random.default_rng(0).normal(size=(3, 2, 4, 4))
    for step in range(2):
        outputs = []
        for model, device in ((cpu, "cpu"), (gpu, "cuda")):
            model.zero_grad()
            y = model(mg.tensor(x + step, device=device))
            (y * y).sum().backward()
            outputs.append(y.numpy())
        np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-10, atol=1e-12)
    for (name, a), b in zip(cpu.named_parameters(), gpu.parameters()):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for (name, a), b in zip(cpu.named_buffers(), gpu.buffers()):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_layers_created_on_gpu_and_moved_back():
    mg.manual_seed(0)
    layer = nn.Linear(400, 300, device="cuda")
    assert layer.weight.device == "cuda" and layer.weight.dtype == np.float32
    weight = layer.weight.numpy()
    assert np.abs(weight).max() <= 1 / 20 and weight.std() == pytest.approx(1 / 20 / np.sqrt(3), rel=0.02)
    emb = nn.Embedding(100, 50, device="cuda")
    assert emb.weight.numpy().std() == pytest.approx(1.0, rel=0.05)
    nn.init.orthogonal_(layer.weight)
    w = layer.weight.numpy().astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(300), atol=1e-4)
    layer.to("cpu")
    assert layer.weight.device == "cpu" and isinstance(layer.weight.data, np.ndarray)


@pytest.mark.parametrize("slope", [0.2, 1.5, -0.3])
def test_fused_elementwise_kernels_match_numpy(float64, slope):
    """LeakyReLU, sigmoid and BCE-with-logits run one CuPy kernel each way on cuda: same values and
    gradients as the NumPy paths, in a plain backward and in a recorded (double) one."""
    import minigan.functional as F
    rng = np.random.default_rng(1)
    x, t, v = rng.normal(size=(5, 7)) * 3, rng.uniform(size=(5, 7)), rng.normal(size=(5, 7))
    x[0, :3] = 0.0
    results = {}
    for device in ("cpu", "cuda"):
        xs = mg.tensor(x, device=device, requires_grad=True)
        ts = mg.tensor(t, device=device, requires_grad=True)
        y = mg.ops.leaky_relu(xs, slope) + mg.ops.sigmoid(xs) + F.binary_cross_entropy_with_logits(xs, ts, reduction="none")
        (y * mg.tensor(v, device=device)).sum().backward()
        recorded = (mg.ops.leaky_relu(xs, slope) ** 2 + mg.ops.sigmoid(xs) ** 2).sum()
        gx, = mg.grad([recorded + F.binary_cross_entropy_with_logits(xs, ts)], [xs], create_graph=True)
        gxx, = mg.grad([(gx * gx).sum()], [xs])
        results[device] = [a.numpy() for a in (y, xs.grad, ts.grad, gx, gxx)]
    for name, cpu, gpu in zip(("y", "x.grad", "t.grad", "grad", "second"), results["cpu"], results["cuda"]):
        np.testing.assert_allclose(gpu, cpu, rtol=1e-12, atol=1e-14, err_msg=name)
