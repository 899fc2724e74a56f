"""Optimizer mechanics without a reference library: update rules on numbers worked by hand,
param groups, skipped parameters, argument errors, exact resume from a state dict, and EMA."""
import math

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.backend import as_numpy
from minigan.io import load, save


def param(values):
    return nn.Parameter(mg.tensor(np.asarray(values, dtype=np.float64)))


def set_grad(p, values):
    p.grad = mg.tensor(np.asarray(values, dtype=np.float64))


def test_sgd_with_momentum_and_weight_decay_by_hand():
    p = param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    set_grad(p, [1.0, 1.0])
    opt.step()  # d = g + 0.5 p = [1.5, 0]; buffer = d; p -= 0.1 d
    np.testing.assert_allclose(p.numpy(), [0.85, -2.0], rtol=1e-15)
    set_grad(p, [0.0, 2.0])
    opt.step()  # d = [0.425, 1]; buffer = 0.9 [1.5, 0] + d = [1.775, 1]
    np.testing.assert_allclose(p.numpy(), [0.85 - 0.1775, -2.1], rtol=1e-15)


def test_adam_first_step_is_lr_times_sign():
    p = param([1.0, 1.0, 1.0])
    opt = optim.Adam([p], lr=0.01, eps=0.0)
    set_grad(p, [3.0, -0.2, 1e-3])
    opt.step()  # bias-corrected m / sqrt(v) = g / |g|
    np.testing.assert_allclose(p.numpy(), [0.99, 1.01, 0.99], rtol=1e-14)
    assert opt.state[p]["step"] == 1 and set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}


def adam_reference(p, grads, lr, betas, eps, weight_decay, amsgrad):
    """torch.optim.Adam's documented algorithm, step by step on whole float64 arrays."""
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_max = np.maximum(v_max, v)
        denom = np.sqrt(v_max if amsgrad else v) / math.sqrt(1 - betas[1] ** t) + eps
        p = p - lr / (1 - betas[0] ** t) * m / denom
    return p


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.3])
def test_adam_updated_chunk_by_chunk_follows_the_reference(amsgrad, weight_decay, monkeypatch):
    monkeypatch.setattr(optim, "CHUNK_SIZE", 7)     # 30 elements: four chunks, the last one short
    rng = np.random.default_rng(4)
    start = rng.normal(size=(5, 6))
    whole, strided = param(start), param(start)
    strided.data = strided.xp.asfortranarray(strided.data)   # not C-contiguous: updated in one piece
    grads = [rng.normal(size=(5, 6)) for _ in range(4)]
    options = dict(lr=0.05, betas=(0.8, 0.95), eps=1e-3, weight_decay=weight_decay, amsgrad=amsgrad)
    for p in (whole, strided):
        opt = optim.Adam([p], **options)
        for g in grads:
            set_grad(p, g)
            opt.step()
        np.testing.assert_allclose(p.numpy(), adam_reference(start, grads, **options), rtol=1e-13, atol=1e-15)
    assert not strided.data.flags.c_contiguous


def test_rmsprop_first_step_by_hand():
    p = param([0.0])
    opt = optim.RMSprop([p], lr=0.01, alpha=0.9, eps=0.0)
    set_grad(p, [2.0])
    opt.step()  # square_avg = 0.1 * 4; p -= lr g / sqrt(0.4)
    np.testing.assert_allclose(p.numpy(), [-0.01 * 2 / math.sqrt(0.4)], rtol=1e-15)


def test_parameters_without_gradient_are_left_alone():
    a, b = param([1.0]), param([2.0])
    opt = optim.Adam([a, b])
    set_grad(a, [1.0])
    opt.step()
    assert b.numpy()[0] == 2.0 and b not in opt.state and a in opt.state


def test_param_groups_and_lr_edits():
    a, b = param([1.0]), param([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0  # defaults fill the rest
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.step()
    assert a.numpy()[0] == pytest.approx(0.9) and b.numpy()[0] == pytest.approx(0.5)
    opt.param_groups[0]["lr"] = 0.0  # what a schedule does
    opt.step()
    assert a.numpy()[0] == pytest.approx(0.9)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize("make, error, message", [
    (lambda p: optim.SGD([], lr=0.1), ValueError, "SGD: got an empty parameter list"),
    (lambda p: optim.SGD([p], lr=-1.0), ValueError, "SGD: lr must be >= 0, got -1.0"),
    (lambda p: optim.SGD([p], lr=0.1, nesterov=True), ValueError, "nesterov momentum requires momentum > 0"),
    (lambda p: optim.Adam([p], betas=(0.9, 1.0)), ValueError, r"betas must be in \[0, 1\), got \(0.9, 1.0\)"),
    (lambda p: optim.RMSprop([p], alpha=-0.1), ValueError, "RMSprop: alpha must be >= 0"),
    (lambda p: optim.Adam([p, p]), ValueError, "some parameters appear more than once"),
    (lambda p: optim.Adam(p), TypeError, "got a single Tensor"),
    (lambda p: optim.Adam([p * 2]), ValueError, r"can't optimize a non-leaf Tensor \(parameter 0, shape \(1,\)\)"),
    (lambda p: optim.Adam([[1.0]]), TypeError, "can only optimize Tensors, but parameter 0 of a group is a list"),
])
def test_argument_errors(make, error, message):
    with pytest.raises(error, match=message):
        make(param([1.0]))


def model_and_data():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    rng = np.random.default_rng(0)
    data = [(mg.tensor(rng.normal(size=(6, 3)), dtype=mg.float32), mg.tensor(rng.normal(size=(6, 1)), dtype=mg.float32))
            for _ in range(8)]
    return model, data


def train(model, opt, data):
    for x, y in data:
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9, nesterov=True),
    lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
], ids=["Adam", "SGD", "RMSprop"])
def test_resume_from_a_checkpoint_is_exact(make, tmp_path):
    model, data = model_and_data()
    opt = make(model.parameters())
    train(model, opt, data[:4])
    save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "checkpoint.npz")
    train(model, opt, data[4:])

    resumed, _ = model_and_data()
    resumed_opt = make(resumed.parameters())
    checkpoint = load(tmp_path / "checkpoint.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt.load_state_dict(checkpoint["opt"])
    assert resumed_opt.param_groups[0] == {**opt.param_groups[0], "params": resumed_opt.param_groups[0]["params"]}
    train(resumed, resumed_opt, data[4:])
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_state_dict_layout_is_by_position():
    a, b, c = param([1.0]), param([2.0, 3.0]), param([4.0])
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.1}])
    set_grad(b, [1.0, 1.0])
    set_grad(c, [1.0])
    opt.step()
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2]]
    assert sorted(state["state"]) == [1, 2]
    assert state["state"][1]["exp_avg"].shape == (2,) and state["param_groups"][1]["lr"] == 0.1


def test_load_state_dict_errors():
    a, b = param([1.0]), param([2.0, 3.0])
    opt = optim.Adam([a, b])
    set_grad(a, [1.0])
    opt.step()
    state = opt.state_dict()
    with pytest.raises(ValueError, match="the saved state has 1 parameter groups, this optimizer has 2"):
        optim.Adam([{"params": [a]}, {"params": [b]}]).load_state_dict(state)
    with pytest.raises(ValueError, match="parameter group 0 has 1 parameters but the saved group has 2"):
        optim.Adam([a]).load_state_dict(state)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(1,\) but the parameter "
                                         r"has shape \(2,\)"):
        optim.Adam([b, a]).load_state_dict(state)


def test_optimizer_follows_a_model_moved_to_float64():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model.to(mg.float64)
    model(mg.randn(4, 2, dtype=mg.float64)).sum().backward()
    opt.step()
    assert opt.state[model.weight]["momentum_buffer"].dtype == np.float64


def test_step_with_closure_returns_the_loss():
    p = param([3.0])
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert p.numpy()[0] == 1.5


def test_ema_averages_parameters_and_copies_buffers(tmp_path):
    model, data = model_and_data()
    ema = optim.EMA(model, decay=0.9)
    start = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = optim.SGD(model.parameters(), lr=0.1)
    train(model, opt, data[:1])
    ema.update()
    now = model.state_dict()
    expected = 0.9 * start["0.weight"] + 0.1 * now["0.weight"].numpy()
    shadow = {k: as_numpy(v) for k, v in ema.shadow.items()}   # raw arrays on the model's device
    np.testing.assert_allclose(shadow["0.weight"], expected, rtol=1e-6)
    np.testing.assert_array_equal(shadow["1.running_mean"], now["1.running_mean"].numpy())
    assert ema.shadow["1.num_batches_tracked"] == 1

    averaged, _ = model_and_data()
    ema.copy_to(averaged)
    np.testing.assert_allclose(averaged[0].weight.numpy(), expected, rtol=1e-6)

    save(ema.state_dict(), tmp_path / "ema.npz")
    other = optim.EMA(averaged, decay=0.5)
    other.load_state_dict(load(tmp_path / "ema.npz"))
    assert other.decay == 0.9 and other.num_updates == 1
    np.testing.assert_array_equal(as_numpy(other.shadow["0.weight"]), as_numpy(ema.shadow["0.weight"]))
    with pytest.raises(ValueError, match="decay must be in"):
        optim.EMA(model, decay=1.5)
    with pytest.raises(ValueError, match=r"missing keys \['3.bias'\]"):
        optim.EMA(model).load_state_dict({"decay": 0.9, "num_updates": 0,
                                          "shadow": {k: v for k, v in ema.shadow.items() if k != "3.bias"}})
