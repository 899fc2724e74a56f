"""Tensors and reverse-mode automatic differentiation, to any order.

A `Function` computes its forward on raw arrays and its backward with differentiable Tensor
ops. `backward(create_graph=True)` runs those backward ops with recording on, so the gradient is
itself a graph that can be differentiated again: second and higher derivatives cost nothing extra.
Without `create_graph` (and under `no_grad`) nothing is recorded.
"""
import contextlib
import threading
import weakref

import numpy as np

from minigan import backend


# ---------------------------------------------------------------------------- default dtype
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
_default_dtype = [float32]


def set_default_dtype(dtype):
    """The dtype of new float tensors and of new modules' parameters (float32 unless changed)."""
    dtype = np.dtype(dtype)
    if dtype not in (float32, float64):
        raise ValueError(f"set_default_dtype: expected float32 or float64, got {dtype}")
    _default_dtype[0] = dtype


def get_default_dtype():
    return _default_dtype[0]


# ------------------------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()
_profiler = None  # set by minigan.profiler while a `with mg.profile():` block is open


def is_grad_enabled():
    return _grad_mode.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns graph recording on or off."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc):
        _grad_mode.enabled = self.previous


class no_grad(set_grad_enabled):
    """`with mg.no_grad():` — nothing inside is recorded for backward."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    def __init__(self):
        super().__init__(True)


# ----------------------------------------------------------------------------------- Tensor
class Tensor:
    """An n-dimensional array (NumPy or CuPy) that remembers how it was computed.

    `data` is the array, `grad` the accumulated gradient (a Tensor), `creator` the Function that
    produced it (None for leaves and for tensors made without recording).
    """

    __slots__ = ("data", "grad", "_requires_grad", "creator", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor goes to Tensor.__radd__

    def __init__(self, data, requires_grad=False):
        self.data = data
        self.grad = None
        self.creator = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ---- properties
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self.data.dtype}")
        if not value and self.creator is not None:
            raise RuntimeError("requires_grad can only be switched off on a leaf; use .detach()")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.creator is None

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module (NumPy or CuPy) that owns this tensor."""
        return backend.get_array_module(self.data)

    @property
    def T(self):
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.data.size)

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        body = np.array2string(backend.as_numpy(self.data), separator=", ", prefix="tensor(")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype != np.float32 and self.dtype.kind == "f":
            extras.append(f"dtype={self.dtype}")
        if self.creator is not None:
            extras.append(f"grad_fn=<{type(self.creator).__name__}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---- conversions
    def numpy(self):
        """A host NumPy array (a view of the data on CPU, a copy from the GPU)."""
        return backend.as_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted, got shape {self.shape}")
        return self.data.reshape(-1)[0].item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self):
        """The same data, cut from the graph."""
        return Tensor(self.data)

    def to(self, target):
        """`x.to("cuda")`, `x.to("cpu")` or `x.to(mg.float64)`: a differentiable copy."""
        if isinstance(target, str):
            device = backend.check_device(target)
            return self if device == self.device else ops.to_device(self, device)
        dtype = np.dtype(target)
        return self if dtype == self.dtype else ops.astype(self, dtype)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def zero_(self):
        self.data[...] = 0
        return self

    # ---- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn "
                "(did you compute it under no_grad, or from tensors without requires_grad=True?)")
        gradient = _initial_gradient("backward", self, gradient)
        run_backward([self], [gradient], retain_graph, create_graph, targets=None)

    def retain_grad(self):
        raise NotImplementedError("retain_grad: use mg.grad(output, intermediate) instead")

    # ---- operators (the ops themselves live in minigan.ops)
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)

    # comparisons give boolean tensors with no gradient, as in PyTorch
    def __lt__(self, other): return _compare(self, other, "less")
    def __le__(self, other): return _compare(self, other, "less_equal")
    def __gt__(self, other): return _compare(self, other, "greater")
    def __ge__(self, other): return _compare(self, other, "greater_equal")
    def __eq__(self, other): return _compare(self, other, "equal")
    def __ne__(self, other): return _compare(self, other, "not_equal")
    __hash__ = object.__hash__

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is ambiguous")
        return bool(self.data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __setitem__(self, index, value):
        if self.requires_grad and is_grad_enabled():
            raise RuntimeError("in-place assignment to a tensor that requires grad is not supported; "
                               "wrap it in mg.no_grad() or build a new tensor with mg.where/mg.cat")
        value = value.data if isinstance(value, Tensor) else value
        if not np.isscalar(value):  # host lists and arrays (or another device's data) move here first
            value = backend.to_device(value if hasattr(value, "shape") else np.asarray(value), self.device)
        self.data[_raw_index(index)] = value

    # ---- methods that mirror torch.Tensor
    def sum(self, dim=None, keepdim=False): return ops.sum(self, dim, keepdim)
    def mean(self, dim=None, keepdim=False): return ops.mean(self, dim, keepdim)
    def var(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return ops.var(self, dim, keepdim, unbiased, correction)
    def std(self, dim=None, keepdim=False, unbiased=True, correction=None):
        return ops.std(self, dim, keepdim, unbiased, correction)
    def max(self, dim=None, keepdim=False): return ops.max(self, dim, keepdim)
    def min(self, dim=None, keepdim=False): return ops.min(self, dim, keepdim)
    def amax(self, dim=None, keepdim=False): return ops.amax(self, dim, keepdim)
    def amin(self, dim=None, keepdim=False): return ops.amin(self, dim, keepdim)
    def argmax(self, dim=None, keepdim=False): return ops.argmax(self, dim, keepdim)
    def argmin(self, dim=None, keepdim=False): return ops.argmin(self, dim, keepdim)
    def logsumexp(self, dim, keepdim=False): return ops.logsumexp(self, dim, keepdim)
    def reshape(self, *shape): return ops.reshape(self, _shape_args(shape))
    def view(self, *shape): return ops.reshape(self, _shape_args(shape))
    def permute(self, *dims): return ops.permute(self, _shape_args(dims))
    def transpose(self, dim0, dim1): return ops.transpose(self, dim0, dim1)
    def t(self): return ops.transpose(self, 0, 1)
    def flatten(self, start_dim=0, end_dim=-1): return ops.flatten(self, start_dim, end_dim)
    def unsqueeze(self, dim): return ops.unsqueeze(self, dim)
    def squeeze(self, dim=None): return ops.squeeze(self, dim)
    def expand(self, *shape): return ops.expand(self, _shape_args(shape))
    def expand_as(self, other): return ops.expand(self, other.shape)
    def broadcast_to(self, shape): return ops.broadcast_to(self, shape)
    def exp(self): return ops.exp(self)
    def log(self): return ops.log(self)
    def sqrt(self): return ops.sqrt(self)
    def abs(self): return ops.abs(self)
    def sin(self): return ops.sin(self)
    def cos(self): return ops.cos(self)
    def sigmoid(self): return ops.sigmoid(self)
    def tanh(self): return ops.tanh(self)
    def relu(self): return ops.relu(self)
    def clamp(self, min=None, max=None): return ops.clamp(self, min, max)
    clip = clamp
    def pow(self, exponent): return ops.pow(self, exponent)
    def matmul(self, other): return ops.matmul(self, other)
    def softmax(self, dim): return ops.softmax(self, dim)
    def log_softmax(self, dim): return ops.log_softmax(self, dim)


def _shape_args(args):
    """Accept both x.reshape(2, 3) and x.reshape((2, 3))."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _compare(a, b, name):
    xp = a.xp
    b = b.data if isinstance(b, Tensor) else b
    return Tensor(getattr(xp, name)(a.data, b))


# --------------------------------------------------------------------------------- Function
class Function:
    """One differentiable operation: `forward` on arrays, `backward` on Tensors.

    Subclasses take their non-tensor options in `__init__`, implement `forward(*arrays)` returning
    an array (or a tuple of arrays) and `backward(*grad_outputs)` returning one Tensor (or None)
    per input, built from differentiable ops. Inside backward, `self.inputs` are the input
    Tensors, `self.output` the (first) output Tensor and `self.needs_input_grad` tells which inputs
    want a gradient, so work for the others can be skipped.
    """

    inputs = None
    outputs = None
    needs_input_grad = ()

    def __call__(self, *inputs):
        data = [x.data for x in inputs]
        if len(inputs) > 1 and len({type(a) for a in data}) > 1:   # arrays of one type share a device
            _check_same_device(self, data)
        raw = self.forward(*data) if _profiler is None else _profiler.forward(self, data)
        multiple = isinstance(raw, tuple)
        raw = raw if multiple else (raw,)
        record = _grad_mode.enabled and any(x._requires_grad for x in inputs)
        outputs = tuple(Tensor(y) for y in raw)
        if record:
            self.inputs = inputs
            self.needs_input_grad = tuple(x._requires_grad for x in inputs)
            self.outputs = tuple(weakref.ref(y) for y in outputs)
            for y in outputs:
                y.creator = self
                if y.data.dtype.kind in "fc":
                    y._requires_grad = True
        return outputs if multiple else outputs[0]

    @property
    def output(self):
        return self.outputs[0]()

    @property
    def name(self):
        return type(self).__name__

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{self.name} is not differentiable")

    def release(self):
        """Drop everything saved for backward (called after a backward without retain_graph)."""
        self.__dict__.clear()
        self.inputs = _RELEASED


_RELEASED = ()


def _check_same_device(function, arrays):
    devices = {backend.device_of(a) for a in arrays}
    if len(devices) > 1:
        raise RuntimeError(
            f"{function.name}: expected all tensors on the same device, got {sorted(devices)}; "
            "move them with .to(device)")


# ----------------------------------------------------------------------------- backward pass
def _initial_gradient(where, output, gradient):
    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{where}: grad can be implicitly created only for scalar outputs, "
                f"got an output of shape {output.shape}; pass a gradient of that shape")
        return Tensor(output.xp.ones_like(output.data))
    gradient = gradient if isinstance(gradient, Tensor) else Tensor(output.xp.asarray(gradient, dtype=output.dtype))
    if gradient.shape != output.shape:
        raise RuntimeError(
            f"{where}: gradient has shape {gradient.shape} but the output has shape {output.shape}")
    return gradient


def _graph_functions(outputs):
    """Every Function behind `outputs`, consumers before producers (reverse topological order)."""
    order, visited = [], set()
    stack = [(y.creator, False) for y in reversed(outputs) if y.creator is not None]
    while stack:
        function, expanded = stack.pop()
        if expanded:
            order.append(function)  # post-order: after everything it consumes
            continue
        if id(function) in visited:
            continue
        visited.add(id(function))
        if function.inputs is _RELEASED:
            raise RuntimeError(
                "backward: trying to go through part of the graph a second time after its saved "
                "values were freed; pass retain_graph=True to the first backward or grad call")
        stack.append((function, True))
        for x in function.inputs:
            if x.creator is not None and id(x.creator) not in visited:
                stack.append((x.creator, False))
    order.reverse()
    return order


def _functions_leading_to(order, targets):
    """The subset of `order` through which some target can be reached."""
    target_ids = {id(t) for t in targets}
    needed = set()
    for function in reversed(order):  # producers first
        if any(id(x) in target_ids or (x.creator is not None and id(x.creator) in needed)
               for x in function.inputs):
            needed.add(id(function))
    return needed


def run_backward(outputs, grad_outputs, retain_graph, create_graph, targets):
    """Propagate `grad_outputs` from `outputs` back through the graph.

    With `targets=None`, gradients are accumulated into every leaf's `.grad`. Otherwise they are
    returned for the given tensors (leaf or not), and `.grad` is left untouched.
    """
    if retain_graph is None:
        retain_graph = create_graph
    order = _graph_functions(outputs)
    needed = None if targets is None else _functions_leading_to(order, targets)
    target_ids = None if targets is None else {id(t) for t in targets}
    pending = {}   # id(tensor) -> (tensor, gradient so far)
    results = {}   # id(target) -> gradient
    given = {id(_memory_owner(g.data)) for g in grad_outputs}   # memory a leaf's .grad must not share

    def accumulate(table, tensor, gradient):
        previous = table.get(id(tensor))
        table[id(tensor)] = (tensor, gradient if previous is None else previous[1] + gradient)

    with set_grad_enabled(create_graph):
        for output, gradient in zip(outputs, grad_outputs):
            if target_ids is not None and id(output) in target_ids:
                accumulate(results, output, gradient)
            accumulate(pending, output, gradient)
        for function in order:
            if needed is not None and id(function) not in needed:
                continue
            outputs_alive, output_grads = _take_output_gradients(function, pending)
            if output_grads is None:
                continue
            # outputs_alive keeps self.output valid in there
            grads = _backward_toward(function, output_grads, needed, target_ids)
            del outputs_alive
            grads = grads if isinstance(grads, tuple) else (grads,)
            for x, g in zip(function.inputs, grads):
                if g is None or not x._requires_grad:
                    continue
                _check_gradient_shape(function, x, g)
                if target_ids is not None:
                    if id(x) in target_ids:
                        accumulate(results, x, g)
                    if x.creator is not None:
                        accumulate(pending, x, g)
                elif x.creator is None:
                    _accumulate_leaf(x, g, create_graph, given)
                else:
                    accumulate(pending, x, g)
            if not retain_graph:
                function.release()
        if targets is None:
            for tensor, gradient in pending.values():  # outputs that are themselves leaves
                if tensor.creator is None and tensor._requires_grad:
                    _accumulate_leaf(tensor, gradient, create_graph, given)
    return results


def _backward_toward(function, output_grads, needed, target_ids):
    """function.backward, asking only for the input gradients that lead somewhere.

    With targets (`grad`), an input that is neither a target nor made by a needed function gets no
    gradient: `needs_input_grad` says so while backward runs, so e.g. a gradient penalty's
    d(critic)/d(input) skips every weight gradient, as PyTorch's engine does."""
    run = function.backward if _profiler is None else (lambda *g: _profiler.backward(function, g))
    if needed is None:
        return run(*output_grads)
    recorded = function.needs_input_grad
    function.needs_input_grad = tuple(
        wants and (id(x) in target_ids or (x.creator is not None and id(x.creator) in needed))
        for wants, x in zip(recorded, function.inputs))
    try:
        return run(*output_grads)
    finally:
        function.needs_input_grad = recorded


def _take_output_gradients(function, pending):
    """The function's live outputs and their gradients (None when no gradient reached it)."""
    outputs = [ref() for ref in function.outputs]
    entries = [pending.pop(id(y), None) if y is not None else None for y in outputs]
    if all(entry is None for entry in entries):
        return outputs, None
    grads = [None if entry is None else entry[1] for entry in entries]
    if len(grads) > 1:  # a multi-output function gets zeros for the outputs nobody used
        grads = [Tensor(y.xp.zeros_like(y.data)) if g is None and y is not None else g
                 for g, y in zip(grads, outputs)]
    return outputs, grads


def _check_gradient_shape(function, x, g):
    if g.shape != x.shape:
        raise RuntimeError(f"{function.name}.backward returned a gradient of shape {g.shape} "
                           f"for an input of shape {x.shape} (a bug in that op)")


def _accumulate_leaf(x, g, create_graph, given):
    if x.grad is not None:
        x.grad = x.grad + g
    else:
        x.grad = g if create_graph else _owned(g, given)


def _owned(g, given):
    """g as a leaf's `.grad`, which optimizers and users may edit in place: g itself when its array
    is a backward's own result (a writable, C-contiguous NumPy array over memory no other leaf got
    and the caller never saw), else a copy. `given` holds the memory owners handed out so far in
    this backward (an Add gives one gradient to both inputs, a split hands out slices of one).
    Taking the array instead of copying it saves a pass over every parameter each step (mlp-gan
    -4.4%), as PyTorch's engine does for a gradient nothing else holds."""
    data = g.data
    owner = _memory_owner(data)
    if (isinstance(data, np.ndarray) and data.flags.writeable and data.flags.c_contiguous
            and id(owner) not in given and not scratch.is_buffer(owner)):
        given.add(id(owner))
        return g
    return Tensor(data.copy())


def _memory_owner(array):
    """The array owning `array`'s memory (NumPy points every view's base at the owner)."""
    base = getattr(array, "base", None)
    return array if base is None else base


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, like `torch.autograd.grad`.

    With `create_graph=True` the returned gradients are part of the graph, so they can be
    differentiated again (gradient penalties, Hessian-vector products).
    """
    single_output = isinstance(outputs, Tensor)
    outputs = [outputs] if single_output else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) does not require grad")
    for i, y in enumerate(outputs):
        if not y.requires_grad:
            raise RuntimeError(f"grad: output {i} (shape {y.shape}) does not require grad and has no grad_fn")
    grad_outputs = [_initial_gradient("grad", y, g) for y, g in zip(outputs, grad_outputs)]
    results = run_backward(outputs, grad_outputs, retain_graph, create_graph, targets=inputs)
    grads = []
    for i, x in enumerate(inputs):
        entry = results.get(id(x))
        if entry is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it")
        grads.append(None if entry is None else entry[1])
    return tuple(grads)


from minigan import ops  # noqa: E402  (ops need Tensor and Function defined first)
from minigan.ops import scratch  # noqa: E402
