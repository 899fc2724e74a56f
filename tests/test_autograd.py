"""Engine semantics: graph order, accumulation, retain/create graph, grad mode, errors."""
import gc

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F


def leaf(values):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_diamond_graph_gets_each_path_once():
    # y = exp(x - log(sum(exp(x)))) reuses x along two paths of different depth; a wrong
    # topological order processes a producer before all its consumers have reported.
    x = leaf([0.3, -1.2, 2.0])
    a = x * 2.0
    b = a * 3.0
    y = (a + b).sum()          # a feeds y directly and through b
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 8.0, 8.0])


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0]) + 3.0)


def test_second_derivative_of_cube():
    x = leaf([1.0, -2.0, 0.5])
    g, = mg.grad((x ** 3).sum(), x, create_graph=True)
    h, = mg.grad(g.sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_third_derivative_through_tanh():
    x = leaf([0.3])
    g1, = mg.grad(mg.tanh(x).sum(), x, create_graph=True)
    g2, = mg.grad(g1.sum(), x, create_graph=True)
    g3, = mg.grad(g2.sum(), x)
    t = np.tanh(0.3)
    np.testing.assert_allclose(g3.numpy(), [-2 * (1 - t * t) * (1 - 3 * t * t)], rtol=1e-12)


def test_grad_does_not_touch_dot_grad_and_prunes_unrelated_branches():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = (x * w).sum()
    gx, = mg.grad(y, x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_grad_skips_input_gradients_that_lead_to_no_target():
    """d(out)/dx through two linear layers needs the x-side products only: 2 GEMMs, not the 4 that
    also give the weights' gradients; and the same retained graph still gives those afterwards."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    w1, w2 = (mg.tensor(rng.standard_normal(shape), requires_grad=True) for shape in ((6, 5), (3, 6)))
    out = F.linear(F.linear(x, w1).tanh(), w2).sum()
    with mg.profile() as prof:
        gx, = mg.grad(out, x, retain_graph=True)
    (gemms,) = [r["calls"] for r in prof.rows() if r["name"] == "GEMM"]
    assert gemms == 2
    out.backward()
    h = np.tanh(x.numpy() @ w1.numpy().T)
    np.testing.assert_allclose(w2.grad.numpy(), np.ones((3, 4)) @ h)
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy())


def test_grad_of_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    y = (h * h).sum()
    gh, = mg.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_graph_is_freed_after_backward_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x.exp() * 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with mg.no_grad():
        y = x * 2.0
    assert not y.requires_grad and y.creator is None

    @mg.no_grad()
    def doubled(t):
        return t * 2.0

    assert doubled(x).creator is None
    with mg.no_grad():
        with mg.enable_grad():
            assert (x * 2.0).requires_grad


def test_backward_without_create_graph_builds_no_graph():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    g, = mg.grad(y, x)
    assert g.creator is None and not g.requires_grad


def test_detach_cuts_the_graph():
    x = leaf([1.0, 2.0])
    y = (x * x.detach()).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 2.0])


def test_requires_grad_propagates_only_from_inputs_that_need_it():
    x = leaf([1.0])
    c = mg.tensor([2.0], dtype=np.float64)
    assert (x * c).requires_grad
    assert not (c * c).requires_grad


def test_broadcast_gradient_is_summed_to_input_shape():
    a = mg.tensor(np.ones((2, 3, 4)), requires_grad=True)
    b = mg.tensor(np.ones((3, 1)), requires_grad=True)
    (a * b).sum().backward()
    assert b.grad.shape == (3, 1)
    np.testing.assert_allclose(b.grad.numpy(), np.full((3, 1), 8.0))


def test_leaf_gradients_do_not_alias_each_other():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.data *= 0
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0])


def test_output_tensor_kept_alive_for_backward_that_uses_it():
    # exp's backward reads its output; dropping every user reference must not break it
    x = leaf([0.1, 0.2])
    g, = mg.grad(mg.exp(x).sum(), x, create_graph=True)
    gc.collect()
    h, = mg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp([0.1, 0.2]))


def test_dtype_is_preserved_through_ops_and_gradients():
    x = mg.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2.5 + 1).exp().sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_python_float_takes_default_dtype_and_arrays_keep_theirs():
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(np.zeros(2)).dtype == np.float64
    assert mg.tensor([1, 2]).dtype == np.int64
    mg.set_default_dtype(mg.float64)
    try:
        assert mg.tensor([1.0]).dtype == np.float64
        assert mg.randn(2).dtype == np.float64
    finally:
        mg.set_default_dtype(mg.float32)


def test_backward_on_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"scalar outputs, got an output of shape \(2,\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"):
        (x * 2).backward(mg.ones(3, dtype=np.float64))


def test_grad_errors_name_the_problem():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        mg.grad((x * 2).sum(), [x, unused])
    assert mg.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.grad((x * 2).sum(), mg.tensor([1.0]))


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="only floating point"):
        mg.tensor([1, 2], requires_grad=True)


def test_in_place_assignment_on_graph_tensor_is_refused():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 5.0
    with mg.no_grad():
        x[0] = 5.0
    assert x.numpy()[0] == 5.0


def test_manual_seed_reproduces_random_tensors():
    mg.manual_seed(3)
    a = mg.randn(4).numpy()
    mg.manual_seed(3)
    np.testing.assert_array_equal(a, mg.randn(4).numpy())


def test_cuda_device_is_refused_clearly_without_a_gpu():
    if mg.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="device 'cuda' was requested"):
        mg.zeros(2, device="cuda")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        mg.zeros(2, device="tpu")


def test_item_numpy_and_repr():
    x = leaf([1.5])
    assert x.item() == 1.5
    assert isinstance((x * 2).numpy(), np.ndarray)
    assert "grad_fn=<Mul>" in repr(x * 2)
    with pytest.raises(ValueError, match="only one-element"):
        leaf([1.0, 2.0]).item()


# ------------------------------------------------- leaf gradients: taken, or copied when shared
class _FreshGradient(mg.autograd.Function):
    """y = 2 x whose backward hands out an array made for the call, and remembers it."""
    handed_out = []

    def forward(self, x):
        return 2 * x

    def backward(self, gy):
        gx = 2 * gy.data
        self.handed_out.append(gx)
        return mg.Tensor(gx)


def test_a_fresh_backward_result_becomes_the_leafs_grad_without_a_copy(cpu_default):
    # NumPy only: a CuPy gradient is always copied into .grad
    x = leaf([1.0, 2.0])
    _FreshGradient()(x).sum().backward()
    assert x.grad.data is _FreshGradient.handed_out[-1]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def _edit_in_place(*tensors):
    for t in tensors:
        t.grad.data[...] += 100.0


def test_one_gradient_given_to_two_leaves_is_copied_for_the_second():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).backward(mg.tensor(np.array([1.0, -1.0])))    # Add hands one array to both
    assert not np.shares_memory(a.grad.data, b.grad.data)
    _edit_in_place(a)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, -1.0])


def test_views_of_one_gradient_given_to_two_leaves_do_not_share_memory():
    a, b = leaf([[1.0, 2.0]]), leaf([[3.0], [4.0]])
    # Mul's gradient is fresh; Add gives it to both Reshapes, whose backwards return views of it
    ((a.reshape(2) + b.reshape(2)) * leaf([1.0, 1.0])).sum().backward()
    assert not np.shares_memory(a.grad.data, b.grad.data)
    _edit_in_place(a)
    np.testing.assert_array_equal(b.grad.numpy(), [[1.0], [1.0]])


def test_the_callers_gradient_never_becomes_a_leafs_grad():
    given = mg.tensor(np.array([5.0, 6.0]))
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x + 0.0).backward(given)               # Add passes the caller's array straight through
    y.backward(given)                       # and a leaf output takes it as it is
    for t in (x, y):
        assert not np.shares_memory(t.grad.data, given.data)
    _edit_in_place(x, y)
    np.testing.assert_array_equal(given.numpy(), [5.0, 6.0])


def test_a_read_only_or_scratch_backed_gradient_is_copied(monkeypatch, cpu_default):
    # NumPy flags and a NumPy scratch buffer: the test pins the CPU under MINIGAN_DEVICE=cuda too
    from minigan.ops.scratch import scratch
    buffer = scratch(np, "test-leaf-grad", (2,), np.float64)
    buffer[...] = [7.0, 8.0]
    x = leaf([1.0, 2.0])
    x.sum().backward()                      # Sum's backward broadcasts: a read-only view
    assert x.grad.data.flags.writeable
    x.grad = None
    monkeypatch.setattr(_FreshGradient, "backward", lambda self, gy: mg.Tensor(buffer))
    _FreshGradient()(x).sum().backward()
    assert not np.shares_memory(x.grad.data, buffer)
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 8.0])
