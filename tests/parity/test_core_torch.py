"""Parity with PyTorch (float64, when torch is installed) for elementwise ops, activations,
reductions, matmul, norms and losses: forward values and every input gradient."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def compare(mg_fn, torch_fn, *arrays, grad_mask=None, rtol=1e-10, atol=1e-12, seed=0):
    """Run both on the same float64 inputs with the same random output gradient."""
    grad_mask = grad_mask or [a.dtype.kind == "f" for a in arrays]
    ours = [mg.tensor(a, requires_grad=m) for a, m in zip(arrays, grad_mask)]
    theirs = [torch.tensor(a, requires_grad=bool(m)) for a, m in zip(arrays, grad_mask)]
    y, yt = mg_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    v = np.random.default_rng(seed).uniform(-1, 1, y.shape)
    wanted = [t for t, m in zip(ours, grad_mask) if m]
    grads = mg.grad(y, wanted, mg.tensor(v))
    grads_t = torch.autograd.grad(yt, [t for t, m in zip(theirs, grad_mask) if m], torch.tensor(v))
    for g, gt in zip(grads, grads_t):
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=rtol, atol=atol)


rng = np.random.default_rng(1)
x34 = rng.normal(size=(3, 4))
pos34 = rng.uniform(0.3, 2.0, size=(3, 4))

UNARY = [
    ("exp", mg.exp, torch.exp, x34), ("log", mg.log, torch.log, pos34), ("sqrt", mg.sqrt, torch.sqrt, pos34),
    ("abs", mg.abs, torch.abs, x34), ("sin", mg.sin, torch.sin, x34), ("cos", mg.cos, torch.cos, x34),
    ("pow", lambda x: x ** 2.5, lambda x: x ** 2.5, pos34), ("neg", lambda x: -x, lambda x: -x, x34),
    ("clamp", lambda x: x.clamp(-0.5, 0.3), lambda x: x.clamp(-0.5, 0.3), x34),
    ("relu", F.relu, TF.relu, x34), ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), x34),
    ("leaky_relu slope 1.5", lambda x: F.leaky_relu(x, 1.5), lambda x: TF.leaky_relu(x, 1.5), x34),
    ("leaky_relu slope -0.3", lambda x: F.leaky_relu(x, -0.3), lambda x: TF.leaky_relu(x, -0.3), x34),
    ("elu", F.elu, TF.elu, x34), ("sigmoid", F.sigmoid, torch.sigmoid, 5 * x34), ("tanh", F.tanh, torch.tanh, x34),
    ("softplus", F.softplus, TF.softplus, 12 * x34), ("softmax", lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1), x34),
    ("log_softmax", lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0), x34),
    ("sum", lambda x: x.sum(1, keepdim=True), lambda x: x.sum(1, keepdim=True), x34),
    ("mean", lambda x: x.mean(0), lambda x: x.mean(0), x34), ("var", lambda x: x.var(1), lambda x: x.var(1), x34),
    ("std", lambda x: x.std(), lambda x: x.std(), x34), ("amax", lambda x: x.amax(1), lambda x: x.amax(1), x34),
    ("max dim", lambda x: x.max(1).values, lambda x: x.max(1).values, x34),
    ("logsumexp", lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), 30 * x34),
    ("getitem", lambda x: x[[0, 2, 0], 1:], lambda x: x[[0, 2, 0], 1:], x34),
    ("permute", lambda x: x.reshape(3, 2, 2).permute(2, 0, 1), lambda x: x.reshape(3, 2, 2).permute(2, 0, 1), x34),
]


@pytest.mark.parametrize("name,ours,theirs,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_ops_match_torch(name, ours, theirs, x):
    compare(ours, theirs, x)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_broadcast_binary_ops_match_torch(name):
    a, b = rng.uniform(0.5, 2, (2, 3, 4)), rng.uniform(0.5, 2, (3, 1))
    op = {"add": (lambda p, q: p + q), "sub": (lambda p, q: p - q), "mul": (lambda p, q: p * q),
          "div": (lambda p, q: p / q)}.get(name)
    if op is None:
        compare(getattr(mg, name), getattr(torch, name), a, b)
    else:
        compare(op, op, a, b)


def test_matmul_linear_cat_stack_where_match_torch():
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))
    compare(mg.matmul, torch.matmul, a, b)
    compare(mg.matmul, torch.matmul, rng.normal(size=4), rng.normal(size=4))
    compare(mg.matmul, torch.matmul, rng.normal(size=4), rng.normal(size=(2, 4, 3)))
    w, bias = rng.normal(size=(5, 4)), rng.normal(size=5)
    compare(F.linear, TF.linear, a, w, bias)
    compare(lambda p, q: mg.cat([p, q], 1), lambda p, q: torch.cat([p, q], 1), a, rng.normal(size=(2, 2, 4)))
    compare(lambda p, q: mg.stack([p, q], 1), lambda p, q: torch.stack([p, q], 1), a, a + 1)
    cond = a > 0
    compare(lambda p, q: mg.where(cond, p, q), lambda p, q: torch.where(torch.tensor(cond), p, q), a, a * 2)


def test_norms_match_torch():
    x = rng.normal(size=(4, 3, 2, 2))
    w, b = rng.uniform(0.5, 1.5, 3), rng.normal(size=3)
    compare(lambda *t: F.batch_norm(t[0], None, None, t[1], t[2], training=True),
            lambda *t: TF.batch_norm(t[0], None, None, t[1], t[2], training=True), x, w, b)
    compare(lambda *t: F.instance_norm(t[0], weight=t[1], bias=t[2]),
            lambda *t: TF.instance_norm(t[0], weight=t[1], bias=t[2]), x, w, b)
    compare(lambda *t: F.layer_norm(t[0], (2, 2), t[1], t[2]), lambda *t: TF.layer_norm(t[0], (2, 2), t[1], t[2]),
            x, rng.normal(size=(2, 2)), rng.normal(size=(2, 2)))
    w4, b4 = rng.normal(size=4), rng.normal(size=4)
    compare(lambda *t: F.group_norm(t[0], 2, t[1], t[2]), lambda *t: TF.group_norm(t[0], 2, t[1], t[2]),
            rng.normal(size=(2, 4, 3)), w4, b4)


def test_batch_norm_running_statistics_match_torch():
    ours_mean, ours_var = mg.zeros(3, dtype=mg.float64), mg.ones(3, dtype=mg.float64)
    theirs_mean, theirs_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(4):
        x = rng.normal(loc=step, size=(5, 3, 2))
        F.batch_norm(mg.tensor(x), ours_mean, ours_var, training=True, momentum=0.2)
        TF.batch_norm(torch.tensor(x), theirs_mean, theirs_var, training=True, momentum=0.2)
    np.testing.assert_allclose(ours_mean.numpy(), theirs_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_var.numpy(), theirs_var.numpy(), rtol=1e-12)
    x = rng.normal(size=(5, 3, 2))
    compare(lambda t: F.batch_norm(t, ours_mean, ours_var), lambda t: TF.batch_norm(t, theirs_mean, theirs_var), x)


LOSSES = [
    ("bce_logits", lambda x, t: F.binary_cross_entropy_with_logits(x, t), lambda x, t: TF.binary_cross_entropy_with_logits(x, t)),
    ("bce_logits_pos_weight", lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum", pos_weight=3.0),
     lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction="sum", pos_weight=torch.tensor(3.0, dtype=torch.float64))),
    ("bce", lambda x, t: F.binary_cross_entropy(F.sigmoid(x), t, reduction="none"),
     lambda x, t: TF.binary_cross_entropy(torch.sigmoid(x), t, reduction="none")),
    ("mse", lambda x, t: F.mse_loss(x, t, reduction="sum"), lambda x, t: TF.mse_loss(x, t, reduction="sum")),
    ("l1", F.l1_loss, TF.l1_loss),
    ("cross_entropy_probs", lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2),
     lambda x, t: TF.cross_entropy(x, t, label_smoothing=0.2)),
]


@pytest.mark.parametrize("name,ours,theirs", LOSSES, ids=[l[0] for l in LOSSES])
def test_losses_match_torch(name, ours, theirs):
    compare(ours, theirs, rng.normal(size=(4, 3)) * 3, rng.uniform(0, 1, (4, 3)), grad_mask=[True, False])


def test_bce_with_logits_target_gradient_and_second_order_match_torch():
    """The fused op's gradient for the target too, and the derivative of its input gradient."""
    x, t = rng.normal(size=(4, 3)) * 3, rng.uniform(0, 1, (4, 3))
    compare(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
            lambda a, b: TF.binary_cross_entropy_with_logits(a, b, reduction="none"), x, t, grad_mask=[True, True])
    ours, theirs = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    g, = mg.grad(F.binary_cross_entropy_with_logits(ours, mg.tensor(t)), [ours], create_graph=True)
    gt, = torch.autograd.grad(TF.binary_cross_entropy_with_logits(theirs, torch.tensor(t)), [theirs], create_graph=True)
    gg, = mg.grad((g * g).sum(), [ours])
    ggt, = torch.autograd.grad((gt * gt).sum(), [theirs])
    np.testing.assert_allclose(gg.numpy(), ggt.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_index_losses_match_torch(reduction):
    x = rng.normal(size=(5, 4, 2))
    labels = np.array([[0, 3], [1, 1], [2, -100], [3, 0], [1, 2]])
    weight = np.array([1.0, 2.0, 0.5, 1.5])
    compare(lambda t, l: F.cross_entropy(t, l, weight=weight, reduction=reduction),
            lambda t, l: TF.cross_entropy(t, l, weight=torch.tensor(weight), reduction=reduction),
            x, labels, grad_mask=[True, False])
    compare(lambda t, l: F.cross_entropy(t, l, label_smoothing=0.1, reduction=reduction),
            lambda t, l: TF.cross_entropy(t, l, label_smoothing=0.1, reduction=reduction),
            x, labels, grad_mask=[True, False])
    compare(lambda t, l: F.nll_loss(F.log_softmax(t, 1), l, reduction=reduction),
            lambda t, l: TF.nll_loss(TF.log_softmax(t, 1), l, reduction=reduction), x, labels, grad_mask=[True, False])


def test_second_order_of_a_gradient_penalty_matches_torch():
    x, w1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(5, 3)), rng.normal(size=(1, 5))

    def penalty(lib, fn, xs, a, b):
        out = fn.linear(fn.leaky_relu(fn.linear(xs, a), 0.2), b).sum()
        g = lib.grad(out, xs, create_graph=True)[0]
        return ((g * g).sum(1).sqrt() - 1).pow(2).mean()

    ours = [mg.tensor(v, requires_grad=True) for v in (x, w1, w2)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w1, w2)]
    p, pt = penalty(mg, F, *ours), penalty(torch.autograd, TF, *theirs)
    np.testing.assert_allclose(p.item(), pt.item(), rtol=1e-12)
    # a piecewise-linear critic's input gradient does not depend on x: compare the weights' gradients
    for g, gt in zip(mg.grad(p, ours[1:]), torch.autograd.grad(pt, theirs[1:])):
        np.testing.assert_allclose(g.numpy(), gt.numpy(), rtol=1e-10, atol=1e-12)
