"""Optimizers and EMA on the GPU follow the CPU trajectory (float64), and optimizer state saved on
one device loads onto the other. Skipped without a GPU."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim

pytestmark = pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")

MAKERS = [lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
          lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.9)),
          lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True, weight_decay=0.01),
          lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5)]


def run(model, opt, device, steps, ema=None):
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
        opt.zero_grad()
        F.mse_loss(model(mg.tensor(x, device=device)), mg.tensor(y, device=device)).backward()
        opt.step()
        if ema is not None:
            ema.update()


@pytest.mark.parametrize("make", MAKERS, ids=["SGD", "Adam", "Adam-amsgrad", "RMSprop"])
def test_gpu_trajectory_matches_cpu(make, float64):
    cpu = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).to("cpu")
    gpu = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).to("cuda")
    gpu.load_state_dict(cpu.state_dict())
    opt_cpu, opt_gpu = make(cpu.parameters()), make(gpu.parameters())
    ema_cpu, ema_gpu = optim.EMA(cpu, 0.9), optim.EMA(gpu, 0.9)
    run(cpu, opt_cpu, "cpu", 10, ema_cpu)
    run(gpu, opt_gpu, "cuda", 10, ema_gpu)
    for key, value in cpu.state_dict().items():
        np.testing.assert_allclose(gpu.state_dict()[key].numpy(), value.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mg.backend.as_numpy(ema_gpu.shadow[key]), ema_cpu.shadow[key], rtol=1e-10)
    # state saved from the GPU optimizer resumes the CPU one on the same path
    opt_cpu.load_state_dict(opt_gpu.state_dict())
    first_state = next(iter(opt_cpu.state.values()))
    assert all(not hasattr(v, "shape") or isinstance(v, np.ndarray) for v in first_state.values())
