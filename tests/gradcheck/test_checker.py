"""The finite-difference checker must pass correct gradients and catch planted bugs.

Each planted bug is a small Function below whose forward is right and whose backward is wrong in
one way a real op could be: off by a factor, zero, missing a broadcast reduction, the wrong dtype,
non-deterministic, or (for second order) freezing an input-dependent statistic as a constant.
"""
import re

import numpy as np
import pytest

import minigan as mg
from minigan import backend
from minigan.autograd import Function, Tensor
from minigan.gradcheck import (Arg, GradcheckError, NondifferentiableError, OpCheck, check_gradients,
                               gradcheck, gradgradcheck, run_registry_check)
from minigan.ops import normalize

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not mg.cuda.is_available(),
                                                                  reason="no CUDA GPU"))]


def uniform(shape, low=-1.0, high=1.0, seed=0, device="cpu", requires_grad=True):
    values = np.random.default_rng(seed).uniform(low, high, size=shape)
    return Tensor(backend.to_device(values, device), requires_grad=requires_grad)


# ------------------------------------------------------------------------------ planted bugs
class Square(Function):
    """x², with a backward scaled by `factor` (1.0 is the correct op)."""

    def __init__(self, factor=1.0):
        self.factor = factor

    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * self.inputs[0] * (2.0 * self.factor)


class ZeroBackward(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return gy * 0.0


class CenterZeroBackward(Function):
    """x - mean(x): its outputs sum to 0, so an all-ones output gradient gives vᵀJ = 0 for any x."""

    def forward(self, x):
        return x - x.mean()

    def backward(self, gy):
        return gy * 0.0


class MulNoReduce(Function):
    """a * b whose backward forgets to sum a's gradient over the broadcast dims."""

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return gy * b, mg.ops.sum_to(gy * a, b.shape)


class Float32Backward(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return (gy * self.inputs[0] * 2.0).to(mg.float32)


class CountingBackward(Function):
    """x² whose backward drifts by 1e-13 per call: right to 1e-13, but not reproducible."""
    calls = 0

    def forward(self, x):
        return x * x

    def backward(self, gy):
        CountingBackward.calls += 1
        return gy * self.inputs[0] * 2.0 + 1e-13 * CountingBackward.calls


class SquareWithBadGradGrad(Function):
    def forward(self, x):
        return x * x

    def backward(self, gy):
        return TwiceProduct()(self.inputs[0], gy)


class TwiceProduct(Function):
    """2 x gy, the gradient of x²; its own backward is 1% off in the gy direction."""

    def forward(self, x, gy):
        return 2.0 * x * gy

    def backward(self, a):
        x, gy = self.inputs
        return a * gy * 2.0, a * x * 2.02


class FrozenInvStdNormalize(Function):
    """Normalisation over dim 0 whose backward takes 1/sqrt(var + eps) as a constant array
    (DeZero's batch-norm bug): the first derivative is right, the second is not."""

    def forward(self, x):
        xp = backend.get_array_module(x)
        self.inv_std = 1.0 / xp.sqrt(x.var(axis=0, keepdims=True) + 1e-5)
        return (x - x.mean(axis=0, keepdims=True)) * self.inv_std

    def backward(self, gy):
        x = self.inputs[0]
        s = Tensor(self.inv_std)  # the bug: it depends on x
        xhat = (x - x.mean(0, keepdim=True)) * s
        return s * (gy - gy.mean(0, keepdim=True) - xhat * (gy * xhat).mean(0, keepdim=True))


def numbers_after(label, message):
    return float(re.search(label + r" ([-+0-9.e]+)", message).group(1))


# ------------------------------------------------------------------------------ correct ops
@pytest.mark.parametrize("device", DEVICES)
def test_correct_ops_pass_first_and_second_order(device):
    x, w = uniform((3, 4), seed=1, device=device), uniform((4,), seed=2, device=device)
    assert gradcheck(lambda a, b: (a * b).tanh(), [x, w])
    assert gradgradcheck(lambda a, b: (a * b).tanh(), [x, w])
    assert gradcheck(lambda a: Square(1.0)(a), [x])
    assert gradgradcheck(lambda a: Square(1.0)(a), [x])


def test_several_inputs_and_outputs_with_integer_none_and_unused_entries():
    x, w = uniform((3, 4), seed=1), uniform((3, 4), seed=2)
    unused = uniform((2,), seed=3)
    rows = Tensor(np.array([2, 0]))                  # an integer input: passed through, not perturbed
    frozen = uniform((4,), seed=4, requires_grad=False)

    def fn(a, b, idx, c, d):
        product = a * b + d
        return product.sin(), None, a[idx].exp(), a.argmax(), mg.tensor(np.ones(2), dtype=mg.float64)

    inputs = [x, w, rows, unused, frozen]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_the_callers_inputs_are_left_untouched():
    x = uniform((3, 4))
    before = x.numpy().copy()
    gradcheck(lambda a: a.sin(), [x])
    gradcheck(lambda a: a.sin(), [x], mode="directional")
    assert np.array_equal(x.numpy(), before)


def test_real_normalize_passes_both_orders():
    x = uniform((5, 3), low=-2, high=2, seed=3)
    assert gradcheck(lambda a: normalize(a, (0,)), [x])
    assert gradgradcheck(lambda a: normalize(a, (0,)), [x])


# ------------------------------------------------------------------------------ first order bugs
@pytest.mark.parametrize("mode", ["full", "directional"])
def test_backward_off_by_one_percent_is_caught_in_both_modes(mode):
    x = uniform((3, 4), low=0.5, high=1.5)
    assert gradcheck(lambda a: Square(1.0)(a), [x], mode=mode)
    with pytest.raises(GradcheckError, match=f"first order\\) failed \\({mode} mode"):
        gradcheck(lambda a: Square(1.01)(a), [x], mode=mode)


def test_auto_mode_goes_directional_for_large_inputs_and_still_catches_the_bug():
    x = uniform((20, 20), low=0.5, high=1.5)  # 400 elements > FULL_MODE_MAX_ELEMENTS
    good = check_gradients(lambda a: Square(1.0)(a), [x])
    bad = check_gradients(lambda a: Square(1.01)(a), [x])
    assert good.passed and good.mode == "directional"
    assert not bad.passed and bad.mode == "directional"
    assert "element by element" in bad.message      # the worst element is found for the report
    assert check_gradients(lambda a: Square(1.0)(a), [uniform((3, 4))]).mode == "full"


def test_report_names_input_worst_element_values_errors_and_tolerance():
    x = uniform((3, 4), seed=5)
    v = np.random.default_rng(6).uniform(-1, 1, size=(3, 4))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a: Square(1.01)(a), [x], grad_outputs=[Tensor(v)])
    message = str(info.value)
    assert type(info.value) is GradcheckError and isinstance(info.value, AssertionError)
    assert "gradcheck (first order) failed" in message and "input 0 (shape (3, 4))" in message
    true_grad = 2 * x.numpy() * v                     # v^T J of x² (elementwise)
    # the error is 0.01 |true_grad| against atol + rtol |true_grad|: largest where |true_grad| is
    worst = np.unravel_index(np.argmax(np.abs(true_grad)), (3, 4))
    assert f"worst element {tuple(int(i) for i in worst)}" in message
    assert numbers_after("numerical", message) == pytest.approx(true_grad[worst], rel=1e-6)
    assert numbers_after("analytical", message) == pytest.approx(1.01 * true_grad[worst], rel=1e-7)
    assert numbers_after("rel error", message) == pytest.approx(0.01, rel=1e-4)
    assert numbers_after("tolerance", message) == pytest.approx(1e-5 + 1e-3 * abs(true_grad[worst]), rel=1e-3)


def test_zero_backward_is_caught():
    with pytest.raises(GradcheckError, match="wrong gradient, 12 of 12 elements"):
        gradcheck(lambda a: ZeroBackward()(a), [uniform((3, 4), low=0.5, high=1.5)])


def test_all_ones_output_gradient_trap():
    """With v = 1 the zero backward of x - mean(x) looks right; the random default v catches it."""
    x = uniform((6,), seed=7)
    ones = Tensor(np.ones(6))
    assert gradcheck(lambda a: CenterZeroBackward()(a), [x], grad_outputs=[ones])
    with pytest.raises(GradcheckError, match="wrong gradient"):
        gradcheck(lambda a: CenterZeroBackward()(a), [x])


def test_missing_broadcast_reduction_is_caught():
    a, b = uniform((3, 1), seed=1), uniform((3, 4), seed=2)
    assert gradcheck(lambda p, q: p * q, [a, b])
    with pytest.raises(GradcheckError, match=r"shape \(3, 4\).*shape \(3, 1\)"):
        gradcheck(lambda p, q: MulNoReduce()(p, q), [a, b])


def test_gradient_dtype_must_match_the_input():
    with pytest.raises(GradcheckError, match="gradient of input 0 has dtype float32 but input 0 has dtype float64"):
        gradcheck(lambda a: Float32Backward()(a), [uniform((3,))])


def test_output_that_drops_its_gradient_is_caught():
    """An output computed from x through .detach(): its numerical derivative is not zero."""
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(lambda a: (a.sin(), a.detach() * 2.0), [uniform((3,))])


def test_nondeterministic_backward_is_caught():
    x = uniform((4,))
    with pytest.raises(GradcheckError, match="not deterministic.*input 0"):
        gradcheck(lambda a: CountingBackward()(a), [x])
    assert gradcheck(lambda a: CountingBackward()(a), [x], nondet_tol=1e-9)


# ------------------------------------------------------------------------------ second order
def test_frozen_inverse_std_passes_first_order_and_fails_second():
    x = uniform((5, 3), low=-2, high=2, seed=3)
    assert gradcheck(lambda a: FrozenInvStdNormalize()(a), [x])
    with pytest.raises(GradcheckError, match=r"gradgradcheck \(second order\) failed .*\n  input 0 \(shape \(5, 3\)\)"):
        gradgradcheck(lambda a: FrozenInvStdNormalize()(a), [x])
    assert not gradgradcheck(lambda a: FrozenInvStdNormalize()(a), [x], mode="directional",
                             raise_exception=False)


def test_second_order_checks_the_output_gradient_too():
    """x² whose gradient 2 x gy is a Function with a wrong derivative in gy only: first order and
    the x-part of second order pass, the check of g against the output gradient v fails."""
    x = uniform((3,), low=0.5, high=1.5)
    assert gradcheck(lambda a: SquareWithBadGradGrad()(a), [x])
    with pytest.raises(GradcheckError, match="second order.*\n  grad_output 0 \\(shape \\(3,\\)\\)") as info:
        gradgradcheck(lambda a: SquareWithBadGradGrad()(a), [x])
    assert "input 0" not in str(info.value)


# ------------------------------------------------------------------------------ kinks
@pytest.mark.parametrize("mode", ["full", "directional"])
def test_abs_at_zero_is_reported_as_non_differentiable(mode):
    x = Tensor(np.array([[0.4, -0.3], [0.0, 0.7]]), requires_grad=True)
    with pytest.raises(NondifferentiableError, match=r"non-differentiable point at input 0 element \(1, 0\)"):
        gradcheck(lambda a: a.abs(), [x], mode=mode)
    away = Tensor(np.array([[0.4, -0.3], [0.2, 0.7]]), requires_grad=True)
    assert gradcheck(lambda a: a.abs(), [away], mode=mode)


def test_kink_inside_the_stencil_and_pole_are_non_differentiable():
    near = Tensor(np.array([0.5, 3e-7]), requires_grad=True)  # relu's kink within ±eps of x[1]
    with pytest.raises(NondifferentiableError, match="input 0 element 1"):
        gradcheck(lambda a: a.relu(), [near])
    edge = Tensor(np.array([0.0, 1.0]), requires_grad=True)   # sqrt is NaN just left of 0
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(NondifferentiableError, match="input 0 element 0.*finite"):
        gradcheck(lambda a: a.sqrt(), [edge])
    assert not gradcheck(lambda a: a.relu(), [near], raise_exception=False)


# ------------------------------------------------------------------------------ arguments
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_inputs_are_refused(dtype):
    x = uniform((3,))
    low = Tensor(np.ones(3, dtype=dtype), requires_grad=True)
    with pytest.raises(ValueError, match=f"gradcheck \\(first order\\): input 1 has dtype {np.dtype(dtype)}"):
        gradcheck(lambda a, b: a * b, [x, low])
    with pytest.raises(ValueError, match=f"input 1 has dtype {np.dtype(dtype)}"):
        gradgradcheck(lambda a, b: a * b, [x, low])


def test_bad_outputs_and_arguments_are_reported():
    x = uniform((3,))
    with pytest.raises(GradcheckError, match="output 0 has dtype float32"):
        gradcheck(lambda a: a.to(mg.float32), [x])
    with pytest.raises(GradcheckError, match="output 0 .* non-finite"):
        gradcheck(lambda a: a * float("inf"), [x])
    with pytest.raises(ValueError, match="no input requires grad"):
        gradcheck(lambda a: a * 2.0, [uniform((3,), requires_grad=False)])
    with pytest.raises(ValueError, match="mode must be one of"):
        gradcheck(lambda a: a, [x], mode="fast")
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of Tensors, got a ndarray"):
        gradcheck(lambda a: a.data, [x])
    with pytest.raises(TypeError, match="output 1 is a float"):
        gradcheck(lambda a: (a, 2.0), [x])


# ------------------------------------------------------------------------------ results for tables
def test_check_gradients_measures_instead_of_raising():
    x = uniform((3, 4), low=0.5, high=1.5)
    good = check_gradients(lambda a: Square(1.0)(a), [x])
    bad = check_gradients(lambda a: Square(1.01)(a), [x])
    assert good.passed and good.max_abs_error < 1e-8 and good.tolerance_ratio < 1e-2
    assert not bad.passed and bad.max_rel_error == pytest.approx(0.01, rel=1e-4) and bad.tolerance_ratio > 1
    assert "input 0 (shape (3, 4))" in bad.message
    kink = check_gradients(lambda a: a.abs(), [Tensor(np.array([0.0, 1.0]), requires_grad=True)])
    assert not kink.passed and "non-differentiable" in kink.message and np.isnan(kink.max_abs_error)


@pytest.mark.parametrize("device", DEVICES)
def test_run_registry_check(device):
    good = OpCheck("normalize", "dim0", lambda a: normalize(a, (0,)), (Arg((4, 3), -2, 2),))
    first, second = run_registry_check(good, device=device)
    assert first.passed and second.passed and second.order == 2
    assert run_registry_check(good, device=device, second_order=False).second_order is None

    frozen = OpCheck("frozen", "dim0", lambda a: FrozenInvStdNormalize()(a), (Arg((4, 3), -2, 2),))
    first, second = run_registry_check(frozen, device=device)
    assert first.passed and not second.passed and "second order" in second.message
    assert run_registry_check(OpCheck("frozen", "no second", frozen.fn, frozen.args, second_order=False),
                              device=device).second_order is None

    # the registered tolerances are used: with none at all, rounding in the differences fails
    strict = OpCheck("sin", "exact", lambda a: a.sin(), (Arg((3,)),), tolerances={"atol": 0.0, "rtol": 0.0})
    assert not run_registry_check(strict, device=device, second_order=False).first_order.passed


@pytest.mark.parametrize("device", DEVICES)
def test_planted_bugs_are_caught_on_every_device(device):
    x = uniform((3, 4), low=0.5, high=1.5, device=device)
    with pytest.raises(GradcheckError, match="wrong gradient"):
        gradcheck(lambda a: Square(1.01)(a), [x])
    with pytest.raises(GradcheckError, match="wrong directional derivative"):
        gradcheck(lambda a: Square(1.01)(a), [x], mode="directional")
    with pytest.raises(NondifferentiableError, match="element 1"):
        gradcheck(lambda a: a.abs(), [Tensor(backend.to_device(np.array([0.5, 0.0]), device), requires_grad=True)])
