"""Module behaviour: registration, traversal, state dicts, modes, dtype moves, repr, hooks."""
from collections import OrderedDict

import numpy as np
import pytest

import minigan as mg
from minigan import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.norm = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(mg.ones(4))
        self.register_buffer("counter", mg.zeros(1))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.not_registered = [nn.Linear(2, 2)]  # a plain list hides modules, as in PyTorch

    def forward(self, x):
        return self.norm(self.fc(x)) * self.scale


def test_parameters_buffers_and_children_are_registered_in_order():
    block = Block()
    assert [n for n, _ in block.named_parameters()] == ["scale", "fc.weight", "fc.bias", "norm.weight", "norm.bias"]
    assert [n for n, _ in block.named_buffers()] == [
        "counter", "cache", "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert [n for n, _ in block.named_children()] == ["fc", "norm"]
    assert [n for n, _ in block.named_modules()] == ["", "fc", "norm"]
    assert len(list(block.parameters(recurse=False))) == 1
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in block.parameters())
    assert isinstance(block.counter, mg.Tensor) and not block.counter.requires_grad


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_assigning_replaces_and_none_disables():
    layer = nn.Linear(2, 3)
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = mg.zeros(3, 2)
    layer.weight = nn.Parameter(mg.zeros(3, 2))
    assert np.all(layer.weight.numpy() == 0)
    del layer.weight
    assert list(layer.parameters()) == []


def test_register_errors_name_the_problem():
    block = Block()
    with pytest.raises(KeyError, match="attribute 'not_registered' already exists"):
        block.register_buffer("not_registered", mg.zeros(1))
    with pytest.raises(KeyError, match="contain no '.'"):
        block.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="Tensor or None expected"):
        block.register_buffer("x", np.zeros(2))
    with pytest.raises(TypeError, match="nn.Parameter or None expected"):
        block.register_parameter("w", mg.zeros(2))
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'missing'"):
        block.missing

    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first in Forgetful"):
        Forgetful()


def test_state_dict_round_trip_copies_values_in_place():
    source, target = Block(), Block()
    source.norm.running_mean[...] = [1, 2, 3, 4]      # buffers: plain assignment
    source.norm.num_batches_tracked[...] = 7
    state = source.state_dict()
    assert list(state) == ["scale", "counter", "fc.weight", "fc.bias", "norm.weight", "norm.bias",
                           "norm.running_mean", "norm.running_var", "norm.num_batches_tracked"]
    assert "cache" not in state  # non-persistent
    weight_before = target.fc.weight
    result = target.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.fc.weight is weight_before  # same Parameter object, new values
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())
    assert target.norm.num_batches_tracked.dtype == np.int64
    # the state dict shares memory with the module, as in PyTorch
    source.fc.weight.data[0, 0] = 42.0
    assert state["fc.weight"].numpy()[0, 0] == 42.0


def test_load_state_dict_accepts_arrays_and_converts_dtype():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": np.eye(2), "bias": np.array([1.0, 2.0])})
    assert layer.weight.dtype == np.float32
    np.testing.assert_array_equal(layer.weight.numpy(), np.eye(2))


def test_strict_load_names_every_missing_unexpected_and_mismatched_key():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    state = model.state_dict()
    del state["1.bias"]
    state["2.weight"] = mg.zeros(1)
    state["0.weight"] = mg.zeros(4, 4)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Sequential" in message
    assert 'Missing key(s) in state_dict: "1.bias".' in message
    assert 'Unexpected key(s) in state_dict: "2.weight".' in message
    assert "size mismatch for 0.weight: copying a param with shape (4, 4) from checkpoint, " \
           "the shape in current model is (4, 3)." in message


def test_failed_load_changes_nothing_and_non_strict_reports_keys():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    bad = {k: mg.zeros(*v.shape) for k, v in model.state_dict().items()}
    bad["1.weight"] = mg.zeros(3, 3)
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        model.load_state_dict(bad)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), before[key])  # not even 0.weight was copied
    partial = {"0.weight": mg.zeros(4, 3), "extra": mg.zeros(1)}
    missing, unexpected = model.load_state_dict(partial, strict=False)
    assert missing == ["0.bias", "1.weight", "1.bias"] and unexpected == ["extra"]
    assert np.all(model[0].weight.numpy() == 0)


def test_train_eval_propagate_to_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_to_float64_converts_floats_in_place_and_keeps_ints():
    model = Block()
    weight = model.fc.weight
    model.fc.weight.grad = mg.ones(4, 3)
    model.to(mg.float64)
    assert model.fc.weight is weight
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.norm.running_var.dtype == np.float64
    assert model.fc.weight.grad.dtype == np.float64
    assert model.norm.num_batches_tracked.dtype == np.int64
    out = model(mg.randn(5, 3, dtype=mg.float64))
    assert out.dtype == np.float64
    with pytest.raises(TypeError, match="only floating point dtypes"):
        model.to(np.int32)
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        model.to("tpu")


def test_default_dtype_applies_to_new_modules(float64):
    assert nn.Linear(2, 2).weight.dtype == np.float64
    assert nn.BatchNorm2d(2).running_mean.dtype == np.float64


def test_zero_grad_requires_grad_and_apply():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    model(mg.randn(4, 2)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Tanh", "Linear", "Sequential"]


def test_gradients_reach_every_parameter():
    block = Block()
    block(mg.randn(6, 3)).sum().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name


def test_repr_shows_the_tree():
    model = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2),
                          nn.Sequential(OrderedDict(norm=nn.BatchNorm1d(8), act=nn.Tanh())))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=8, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (norm): BatchNorm1d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "    (act): Tanh()\n"
        "  )\n"
        ")")


def test_containers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1"]
    seq.append(nn.Sigmoid())
    assert seq(mg.randn(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="Sequential: index 5 is out of range for 3 modules"):
        seq[5]

    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and isinstance(layers[0], nn.Identity)
    assert len(list(layers.parameters())) == 6
    assert isinstance(layers[1:], nn.ModuleList)

    heads = nn.ModuleDict({"real": nn.Linear(2, 1), "cls": nn.Linear(2, 10)})
    assert list(heads.keys()) == ["real", "cls"] and "cls" in heads
    assert [n for n, _ in heads.named_parameters()] == ["real.weight", "real.bias", "cls.weight", "cls.bias"]


def test_forward_hooks_and_functional_call():
    layer = nn.Linear(2, 2)
    handle = layer.register_forward_hook(lambda module, args, output: output * 0)
    assert np.all(layer(mg.randn(3, 2)).numpy() == 0)
    handle.remove()
    x = mg.randn(3, 2)
    weight = mg.tensor(np.eye(2, dtype=np.float32), requires_grad=True)
    out = nn.functional_call(layer, {"weight": weight, "bias": mg.zeros(2)}, (x,))
    np.testing.assert_array_equal(out.numpy(), x.numpy())
    assert isinstance(layer.weight, nn.Parameter) and layer.weight is not weight  # restored
    (g,) = mg.grad(out.sum(), [weight])
    np.testing.assert_allclose(g.numpy(), np.tile(x.numpy().sum(0), (2, 1)))
    with pytest.raises(KeyError, match="has no parameter or buffer 'gamma'"):
        nn.functional_call(layer, {"gamma": weight}, (x,))


def test_deepcopy_gives_an_independent_model():
    import copy
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    twin = copy.deepcopy(model)  # how an averaged generator (G_ema) is usually made
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight.requires_grad
    twin[0].weight.data[...] = 0
    assert not np.all(model[0].weight.numpy() == 0)
    twin(mg.randn(4, 2)).sum().backward()
    assert model[0].weight.grad is None and twin[0].weight.grad is not None
