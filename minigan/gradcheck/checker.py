"""Finite-difference gradient checks, first and second order: `gradcheck` and `gradgradcheck`.

The first-order check compares vᵀJ from backward with the central difference of the scalar
<v, f(x)>, for a random, seeded output gradient v. Never all ones: for an op whose outputs sum to a
constant (x - mean(x)), an all-ones v makes any backward look right, even one returning zeros.
Small inputs are perturbed element by element ("full" mode); large ones along one random unit
direction per input ("directional" mode), comparing sum(grad * d) with d/dδ <v, f(x + δ d)>.

The second-order check is the first-order check of g(x, v) = grad(<v, f(x)>, x, create_graph=True),
a function of x and of the output gradient v alike; the random output gradient u that the
first-order check draws for g makes it differentiate <u, g(x, v)>, a random projection.

Every perturbation also samples f at ±eps/2 and fits a quadratic to the five values around x: a
large residual (or a value that turns non-finite) means a kink or a pole inside the stencil, which
is reported as a NondifferentiableError rather than as a wrong gradient.
"""
import math
from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from minigan import backend
from minigan.autograd import Tensor, enable_grad, grad, is_grad_enabled, no_grad

FULL_MODE_MAX_ELEMENTS = 300   # mode="auto": perturb every element up to this many in all
LOCATE_MAX_ELEMENTS = 1000     # directional failures: find the worst element of inputs this small
_MODES = ("auto", "full", "directional")
_ROUNDOFF = 1e3 * np.finfo(np.float64).eps  # relative noise of a float64 sum, with room to spare


class GradcheckError(AssertionError):
    """A gradient disagrees with finite differences, or breaks a structural rule."""


class NondifferentiableError(GradcheckError):
    """The function is not smooth inside the finite-difference stencil (a kink or a pole)."""


@dataclass(frozen=True)
class GradcheckResult:
    """What one check measured. `tolerance_ratio` is the largest |a - n| / (atol + rtol |n|):
    the check passes when it is at most 1. Errors are NaN when the check stopped early."""
    passed: bool
    max_abs_error: float
    max_rel_error: float
    message: str
    order: int = 1
    mode: str = ""
    tolerance_ratio: float = float("nan")


class RegistryCheckResult(NamedTuple):
    first_order: GradcheckResult
    second_order: Optional[GradcheckResult]  # None when not asked for or not registered


@dataclass(frozen=True)
class _Settings:
    order: int
    eps: float
    atol: float
    rtol: float
    mode: str
    nondet_tol: float
    detect_nondiff: bool
    seed: int

    @property
    def where(self):
        return f"{'gradcheck' if self.order == 1 else 'gradgradcheck'} ({self.kind})"

    @property
    def kind(self):
        return "first order" if self.order == 1 else "second order"

    def tolerance(self, numerical):
        return self.atol + self.rtol * np.abs(numerical)


# ------------------------------------------------------------------------------ public API
def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *, grad_outputs=None,
              mode="auto", nondet_tol=0.0, detect_nondiff=True, seed=0):
    """Check the first derivatives of `fn` against central finite differences.

    `fn(*inputs)` returns a Tensor or a tuple of Tensors (None and integer outputs are skipped).
    Inputs that require grad are checked and must be float64 (as must every float input);
    others are passed through unchanged. `grad_outputs` (one per output) replaces the random
    uniform(-1, 1) output gradients drawn from `seed`. `mode` is "full" (perturb each element),
    "directional" (one random direction per input) or "auto" (full for at most
    FULL_MODE_MAX_ELEMENTS input elements in all). An element passes when
    |analytical - numerical| <= atol + rtol * |numerical|. Backward is also run twice on the same
    graph and must agree to `nondet_tol` (0: bitwise). Returns True, or raises GradcheckError
    (NondifferentiableError at a kink) -- returns False instead when `raise_exception` is False.
    """
    settings = _settings(1, eps, atol, rtol, mode, nondet_tol, detect_nondiff, seed)
    return _verdict(settings, fn, inputs, grad_outputs, raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, *,
                  mode="auto", nondet_tol=0.0, detect_nondiff=True, seed=0):
    """Check the second derivatives of `fn`: gradcheck of g(x, v) = grad(<v, f(x)>, x,
    create_graph=True) with respect to both x and v. `grad_outputs` are the v (random
    uniform(-1, 1) when None). It does not check first order: run `gradcheck` too."""
    settings = _settings(2, eps, atol, rtol, mode, nondet_tol, detect_nondiff, seed)
    return _verdict(settings, fn, inputs, grad_outputs, raise_exception)


def check_gradients(fn, inputs, order=1, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, *,
                    mode="auto", nondet_tol=0.0, detect_nondiff=True, seed=0):
    """Run the first- (`order=1`) or second-order check and return a GradcheckResult with the
    measured errors instead of raising (bad arguments still raise ValueError/TypeError)."""
    if order not in (1, 2):
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order!r}")
    settings = _settings(order, eps, atol, rtol, mode, nondet_tol, detect_nondiff, seed)
    nan = float("nan")
    try:
        mode, comparisons = _measure(settings, fn, inputs, grad_outputs)
    except GradcheckError as error:
        return GradcheckResult(False, nan, nan, str(error), order, settings.mode)
    failed = [c for c in comparisons if not c.passed]
    message = _report(settings, mode, failed) if failed else "passed"
    worst = lambda attribute: max((getattr(c, attribute) for c in comparisons), default=0.0)  # noqa: E731
    return GradcheckResult(not failed, worst("max_abs_error"), worst("max_rel_error"), message,
                           order, mode, worst("tolerance_ratio"))


def run_registry_check(check, device="cpu", second_order=True, seed=0):
    """Run one `OpCheck` from the registry on `device`: its first-order result, and its
    second-order result when both `second_order` and the check ask for it."""
    inputs = check.inputs(device, seed)
    first = check_gradients(check.fn, inputs, order=1, seed=seed, **check.tolerances)
    second = None
    if second_order and check.second_order:
        second = check_gradients(check.fn, inputs, order=2, seed=seed, **check.tolerances)
    return RegistryCheckResult(first, second)


def _settings(order, eps, atol, rtol, mode, nondet_tol, detect_nondiff, seed):
    name = "gradcheck" if order == 1 else "gradgradcheck"
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    if not eps > 0 or atol < 0 or rtol < 0 or nondet_tol < 0:
        raise ValueError(f"{name}: need eps > 0 and atol, rtol, nondet_tol >= 0, got "
                         f"eps={eps}, atol={atol}, rtol={rtol}, nondet_tol={nondet_tol}")
    return _Settings(order, float(eps), float(atol), float(rtol), mode, float(nondet_tol),
                     bool(detect_nondiff), int(seed))


def _verdict(settings, fn, inputs, grad_outputs, raise_exception):
    try:
        mode, comparisons = _measure(settings, fn, inputs, grad_outputs)
        failed = [c for c in comparisons if not c.passed]
        if failed:
            raise GradcheckError(_report(settings, mode, failed))
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _measure(settings, fn, inputs, grad_outputs):
    """Every checked input's comparison of analytical and numerical gradients."""
    rng = np.random.default_rng(settings.seed)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    names = [f"input {i}" for i in range(len(inputs))]
    _check_input_dtypes(settings, inputs, names)
    if settings.order == 2:
        fn, inputs, names = _gradient_function(settings, fn, inputs, grad_outputs, rng)
        grad_outputs = None
    return _first_order(settings, fn, inputs, names, grad_outputs, rng)


# ----------------------------------------------------------------------------- first order
def _first_order(settings, fn, inputs, names, grad_outputs, rng):
    checked = [i for i, x in enumerate(inputs) if _differentiable(x)]
    if not checked:
        raise ValueError(f"{settings.where}: no input requires grad, so there is nothing to check "
                         "(create the inputs with requires_grad=True)")
    with enable_grad():
        outputs = _outputs_of(settings, fn(*inputs))
    _check_outputs(settings, outputs)
    weights = _output_weights(settings, outputs, grad_outputs, rng)
    analytical = _analytical(settings, outputs, weights, [inputs[i] for i in checked],
                             [names[i] for i in checked])
    objective = _Objective(settings, fn, inputs, weights, outputs)
    total = sum(inputs[i].data.size for i in checked)
    mode = settings.mode
    if mode == "auto":
        mode = "full" if total <= FULL_MODE_MAX_ELEMENTS else "directional"
    compare = _compare_full if mode == "full" else _compare_directional
    comparisons = [compare(settings, objective, i, names[i], a, rng) for i, a in zip(checked, analytical)]
    return mode, comparisons


def _differentiable(x):
    return isinstance(x, Tensor) and x.requires_grad and x.dtype.kind == "f"


def _check_input_dtypes(settings, inputs, names):
    for x, name in zip(inputs, names):
        if isinstance(x, Tensor) and x.dtype.kind in "fc" and x.dtype != np.float64:
            raise ValueError(
                f"{settings.where}: {name} has dtype {x.dtype}; finite differences need float64 "
                f"inputs (convert it with .double())")


def _outputs_of(settings, result):
    if isinstance(result, Tensor) or result is None:
        return (result,)
    if not isinstance(result, (tuple, list)):
        raise TypeError(f"{settings.where}: fn must return a Tensor or a tuple of Tensors, "
                        f"got a {type(result).__name__}")
    outputs = tuple(result)
    for k, y in enumerate(outputs):
        if y is not None and not isinstance(y, Tensor):
            raise TypeError(f"{settings.where}: fn must return a Tensor or a tuple of Tensors, "
                            f"but output {k} is a {type(y).__name__}")
    return outputs


def _check_outputs(settings, outputs):
    for k, y in enumerate(outputs):
        if y is None or y.dtype.kind not in "fc":
            continue
        if y.dtype != np.float64:
            raise GradcheckError(f"{settings.where}: output {k} has dtype {y.dtype} although the "
                                 "inputs are float64 (an op does not preserve dtype)")
        if not bool(y.xp.isfinite(y.data).all()):
            raise GradcheckError(f"{settings.where}: output {k} (shape {y.shape}) has non-finite "
                                 "values at the given inputs; move the inputs into the op's domain")


def _output_weights(settings, outputs, grad_outputs, rng):
    """One float64 weight tensor per float output (None for the others): v in <v, f(x)>."""
    if grad_outputs is None:
        return [None if y is None or y.dtype.kind != "f" else
                Tensor(backend.to_device(np.asarray(rng.uniform(-1.0, 1.0, size=y.shape)), y.device))
                for y in outputs]
    grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"{settings.where}: got {len(grad_outputs)} grad_outputs for "
                         f"{len(outputs)} outputs")
    weights = []
    for k, (y, w) in enumerate(zip(outputs, grad_outputs)):
        if w is None or y is None or y.dtype.kind != "f":
            weights.append(None)
            continue
        w = w if isinstance(w, Tensor) else Tensor(backend.to_device(np.asarray(w), y.device))
        if w.shape != y.shape or w.dtype != np.float64:
            raise ValueError(f"{settings.where}: grad_output {k} has shape {w.shape} and dtype "
                             f"{w.dtype}, expected shape {y.shape} and float64")
        weights.append(Tensor(w.data))
    return weights


def _analytical(settings, outputs, weights, xs, names):
    """vᵀJ for each checked input from two backward passes, which must agree (reentrancy)."""
    pairs = [(y, w) for y, w in zip(outputs, weights) if w is not None and y.requires_grad]
    if pairs:
        ys, ws = [y for y, _ in pairs], [w for _, w in pairs]
        try:
            first = grad(ys, xs, ws, retain_graph=True, allow_unused=True)
            second = grad(ys, xs, ws, allow_unused=True)
        except Exception as error:  # a crashing backward is a failed check, reported as one
            raise GradcheckError(f"{settings.where}: backward raised {type(error).__name__}: "
                                 f"{error}") from error
    else:
        first = second = [None] * len(xs)
    grads = []
    for x, name, g1, g2 in zip(xs, names, first, second):
        if g1 is None:  # the outputs do not depend on x
            grads.append(np.zeros(x.shape))
            continue
        for what, got, want in (("shape", g1.shape, x.shape), ("dtype", g1.dtype, x.dtype),
                                ("device", g1.device, x.device)):
            if got != want:
                raise GradcheckError(f"{settings.where}: the gradient of {name} has {what} {got} "
                                     f"but {name} has {what} {want}")
        a, b = backend.as_numpy(g1.data), backend.as_numpy(g2.data)
        same = (np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes()
                if settings.nondet_tol == 0 else bool(np.all(np.abs(a - b) <= settings.nondet_tol)))
        if not same:
            raise GradcheckError(
                f"{settings.where}: backward is not deterministic: two backward passes over the "
                f"same graph gave gradients of {name} (shape {x.shape}) that differ by up to "
                f"{np.nanmax(np.abs(a - b)):.3e} (nondet_tol={settings.nondet_tol:g})")
        grads.append(np.array(a, dtype=np.float64))
    return grads


# ------------------------------------------------------------------------------- numerics
class _Objective:
    """phi = sum_k <v_k, f_k(x)> in float64, at copies of the checked inputs that can be perturbed
    in place (the caller's tensors are never touched)."""

    def __init__(self, settings, fn, inputs, weights, outputs):
        self.settings, self.fn, self.weights = settings, fn, weights
        self.signature = [_signature(y) for y in outputs]
        self.inputs = [Tensor(x.xp.array(x.data, order="C", copy=True), requires_grad=True)
                       if _differentiable(x) else x for x in inputs]
        outputs = self._evaluate()
        self.center = self._project(outputs)
        # rounding in phi scales with its terms, not with phi (they may cancel)
        self.scale = sum(float(y.xp.sum(abs(w.data * y.data))) for y, w in zip(outputs, weights) if w is not None)

    def __call__(self):
        return self._project(self._evaluate())

    def _evaluate(self):
        with no_grad():
            outputs = _outputs_of(self.settings, self.fn(*self.inputs))
        signature = [_signature(y) for y in outputs]
        if signature != self.signature:
            raise GradcheckError(f"{self.settings.where}: perturbing the inputs changed the outputs' "
                                 f"(shape, dtype) from {self.signature} to {signature}")
        return outputs

    def _project(self, outputs):
        return sum(float(y.xp.sum(w.data * y.data)) for y, w in zip(outputs, self.weights) if w is not None)

    def derivative(self, move, where):
        """d phi / dt, with `move(t)` placing the input at x + t * eps * direction.

        Samples t = -1 and 1 (and -1/2, 1/2 when detecting kinks), and restores x afterwards.
        Raises NondifferentiableError (naming `where`) if phi is not smooth there.
        """
        settings = self.settings
        offsets = (-1.0, -0.5, 0.5, 1.0) if settings.detect_nondiff else (-1.0, 1.0)
        samples = []
        for t in offsets:
            move(t)
            samples.append(self())
        move(0.0)
        numerical = (samples[-1] - samples[0]) / (2 * settings.eps)
        if settings.detect_nondiff:
            why = _kink(settings, samples[:2] + [self.center] + samples[2:], numerical, self.scale)
            if why:
                raise NondifferentiableError(f"{settings.where}: non-differentiable point at {where}: {why}; "
                                             "move the inputs away from it (or pass detect_nondiff=False)")
        return numerical

    def elementwise(self, i, name, locate_kinks=True):
        """The numerical gradient of phi with respect to every element of input i."""
        x = self.inputs[i]
        flat = x.data.reshape(-1)  # a view: the copy is C-contiguous
        original = backend.as_numpy(flat).copy()
        numerical = np.empty(flat.size)
        eps = self.settings.eps
        for j in range(flat.size):
            def move(t, j=j):
                flat[j] = original[j] + t * eps if t else original[j]
            where = f"{name} element {_format_index(j, x.shape)} (shape {x.shape})"
            numerical[j] = self.derivative(move, where) if locate_kinks else self._plain(move)
        return numerical.reshape(x.shape)

    def _plain(self, move):
        move(-1.0)
        low = self()
        move(1.0)
        high = self()
        move(0.0)
        return (high - low) / (2 * self.settings.eps)


def _signature(y):
    return None if y is None else (y.shape, str(y.dtype))


def _kink(settings, samples, numerical, scale):
    """Why phi sampled at t = -1, -1/2, 0, 1/2, 1 is not smooth, or "" if it is.

    The least-squares residual of a quadratic fit is the part of the samples along the discrete
    cubic (-1, 2, 0, -2, 1) and quartic (1, -4, 6, -4, 1) polynomials, orthogonal to 1, t, t².
    It is O(eps³) for a smooth phi but O(eps * slope jump) at a kink: it is compared with eps
    times the derivative tolerance, plus a floor for float64 rounding of phi (whose terms'
    absolute values sum to `scale`).
    """
    text = ", ".join(f"{y - samples[2]:+.3e}" for y in samples)
    finite = [math.isfinite(y) for y in samples]
    if not all(finite):
        return f"<v, f> is finite at some of x + t*eps, t = -1, -1/2, 0, 1/2, 1, and not at others ({text})"
    a, b, c, d, e = samples
    cubic, quartic = -a + 2 * b - 2 * d + e, a - 4 * b + 6 * c - 4 * d + e
    residual = math.sqrt(cubic * cubic / 10 + quartic * quartic / 70)
    allowed = settings.eps * settings.tolerance(numerical) + _ROUNDOFF * scale
    if residual <= allowed:
        return ""
    return (f"<v, f> at x + t*eps minus its value at x is {text} for t = -1, -1/2, 0, 1/2, 1: "
            f"not a smooth curve (quadratic-fit residual {residual:.3e} > {allowed:.3e})")


def _format_index(flat_index, shape):
    if len(shape) == 1:
        return str(flat_index)
    return str(tuple(int(i) for i in np.unravel_index(flat_index, shape)))


def _direction(rng, shape):
    """A random unit vector whose components are all at least ~0.1/sqrt(n) in size (Chainer's
    bound, so no element of the input goes unperturbed)."""
    n = max(int(np.prod(shape)), 1)
    d = rng.standard_normal(shape)
    d = d / max(np.linalg.norm(d), 1e-300)
    return np.copysign(np.sqrt(0.99 * d * d + 0.01 / n), d)


# ---------------------------------------------------------------------------- comparisons
@dataclass
class _Comparison:
    name: str
    shape: tuple
    mode: str
    numerical: np.ndarray   # per element (full) or 0-d, the directional derivative
    analytical: np.ndarray
    tolerance: np.ndarray
    detail: str = ""        # extra lines for the report (directional mode: the worst element)

    def __post_init__(self):
        self.abs_error = np.abs(self.analytical - self.numerical)
        self.failures = ~(self.abs_error <= self.tolerance)  # NaN fails
        with np.errstate(divide="ignore", invalid="ignore"):
            self.rel_error = np.where(self.abs_error == 0, 0.0, self.abs_error / np.abs(self.numerical))
            self.ratio = np.where(self.abs_error == 0, 0.0, self.abs_error / self.tolerance)
        self.rel_error = np.where(np.isnan(self.abs_error), np.inf, self.rel_error)
        self.ratio = np.where(np.isnan(self.abs_error), np.inf, self.ratio)

    @property
    def passed(self):
        return not self.failures.any()

    @property
    def max_abs_error(self):
        return float(np.nan_to_num(self.abs_error, nan=np.inf).max(initial=0.0))

    @property
    def max_rel_error(self):
        return float(self.rel_error.max(initial=0.0))

    @property
    def tolerance_ratio(self):
        return float(self.ratio.max(initial=0.0))

    def worst(self):
        """The worst element's index, and its values and errors as text."""
        j = int(np.argmax(self.ratio)) if self.ratio.size else 0
        n, a = self.numerical.reshape(-1)[j], self.analytical.reshape(-1)[j]
        return j, (f"numerical {n:.9g} vs analytical {a:.9g}, abs error {self.abs_error.reshape(-1)[j]:.3e}, "
                   f"rel error {self.rel_error.reshape(-1)[j]:.3e} > tolerance {self.tolerance.reshape(-1)[j]:.3e}")

    def describe(self):
        j, errors = self.worst()
        if self.mode == "full":
            return (f"  {self.name} (shape {self.shape}): wrong gradient, {int(self.failures.sum())} of "
                    f"{self.failures.size} elements out of tolerance; worst element "
                    f"{_format_index(j, self.shape)}: {errors}")
        return (f"  {self.name} (shape {self.shape}): wrong directional derivative sum(grad * d) along "
                f"a random unit direction d: {errors}{self.detail}")


def _compare_full(settings, objective, i, name, analytical, rng):
    numerical = objective.elementwise(i, name)
    return _Comparison(name, analytical.shape, "full", numerical, analytical, settings.tolerance(numerical))


def _compare_directional(settings, objective, i, name, analytical, rng):
    x = objective.inputs[i]
    direction = _direction(rng, x.shape)
    original = x.data.copy()
    step = backend.to_device(direction, x.device) * settings.eps

    def move(t):
        x.data[...] = original + t * step if t else original

    try:
        numerical = np.asarray(objective.derivative(move, f"{name} (shape {x.shape}) along a random direction"))
    except NondifferentiableError:
        if x.data.size <= LOCATE_MAX_ELEMENTS:
            objective.elementwise(i, name)  # names the element when a single one sits on a kink
        raise
    projected = np.asarray(np.sum(analytical * direction))
    comparison = _Comparison(name, x.shape, "directional", numerical, projected, settings.tolerance(numerical))
    if not comparison.passed and x.data.size <= LOCATE_MAX_ELEMENTS:
        per_element = objective.elementwise(i, name, locate_kinks=False)
        full = _Comparison(name, x.shape, "full", per_element, analytical, settings.tolerance(per_element))
        j, errors = full.worst()
        comparison.detail = (f"\n    element by element: {int(full.failures.sum())} of {full.failures.size} "
                             f"out of tolerance; worst element {_format_index(j, x.shape)}: {errors}")
    return comparison


def _report(settings, mode, failed):
    s = settings
    lines = [f"{s.where} failed ({mode} mode; eps={s.eps:g}, atol={s.atol:g}, rtol={s.rtol:g}, seed={s.seed}):"]
    return "\n".join(lines + [c.describe() for c in failed])


# ---------------------------------------------------------------------------- second order
def _gradient_function(settings, fn, inputs, grad_outputs, rng):
    """g(*inputs, *v) = grad(<v, f(inputs)>, checked inputs), with v drawn here (or given),
    and the names of g's inputs for reports."""
    with enable_grad():
        outputs = _outputs_of(settings, fn(*inputs))
    _check_outputs(settings, outputs)
    weights = _output_weights(settings, outputs, grad_outputs, rng)
    active = [k for k, (y, w) in enumerate(zip(outputs, weights)) if w is not None and y.requires_grad]
    vs = [Tensor(weights[k].xp.array(weights[k].data, copy=True), requires_grad=True) for k in active]
    checked = [i for i, x in enumerate(inputs) if _differentiable(x)]
    count = len(inputs)

    def gradient(*arguments):
        xs, v = arguments[:count], arguments[count:]
        create_graph = is_grad_enabled()  # on when the checker differentiates g, off for its numerics
        wrt = [xs[i] for i in checked]
        with enable_grad():
            ys = _outputs_of(settings, fn(*xs))
            pairs = [(ys[k], w) for k, w in zip(active, v) if ys[k] is not None and ys[k].requires_grad]
            grads = [None] * len(wrt)
            if pairs:
                try:
                    grads = grad([y for y, _ in pairs], wrt, [w for _, w in pairs],
                                 create_graph=create_graph, allow_unused=True)
                except Exception as error:
                    raise GradcheckError(f"{settings.where}: the first-order backward raised "
                                         f"{type(error).__name__}: {error}") from error
        return tuple(Tensor(x.xp.zeros_like(x.data)) if g is None else g for g, x in zip(grads, wrt))

    names = [f"input {i}" for i in range(count)] + [f"grad_output {k}" for k in active]
    return gradient, list(inputs) + vs, names
