"""SGD, Adam and RMSprop follow PyTorch's trajectories: 20 steps on the same small model from the
same weights and batches, every parameter within 1e-10 after every step (float64)."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim

torch = pytest.importorskip("torch")

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.99), eps=1e-6, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.0, 0.9), amsgrad=True, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, centered=True, momentum=0.5, weight_decay=0.01)),
]


def build(m):
    return m.Sequential(m.Linear(4, 6), m.Tanh(), m.Linear(6, 1))


def batches(steps=20):
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(8, 4)), rng.normal(size=(8, 1))) for _ in range(steps)]


def param_groups(model, module, grouped):
    """All parameters in one group, or the first layer in its own group with its own lr."""
    if not grouped:
        return model.parameters()
    return [{"params": model[0].parameters(), "lr": 0.03}, {"params": model[2].parameters()}]


@pytest.mark.parametrize("grouped", [False, True], ids=["one group", "two groups"])
@pytest.mark.parametrize("name, options", CONFIGS, ids=[f"{n}{o}" for n, o in CONFIGS])
def test_trajectory_matches_torch(name, options, grouped, float64):
    ours, theirs = build(nn), build(torch.nn).double()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    start = ours[0].weight.numpy().copy()
    opt = getattr(optim, name)(param_groups(ours, nn, grouped), **options)
    opt_t = getattr(torch.optim, name)(param_groups(theirs, torch.nn, grouped), **options)
    for step, (x, y) in enumerate(batches()):
        opt.zero_grad()
        F.mse_loss(ours(mg.tensor(x)), mg.tensor(y)).backward()
        opt.step()
        opt_t.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        opt_t.step()
        for (key, p), p_t in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.numpy(), p_t.detach().numpy(), rtol=1e-10, atol=1e-10,
                                       err_msg=f"{key} after step {step + 1}")
    assert np.abs(ours[0].weight.numpy() - start).max() > 1e-3  # the trajectory went somewhere
