"""Making tensors: `mg.tensor`, `mg.zeros`, `mg.randn`, ... on the device and dtype asked for."""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor, get_default_dtype
from minigan.ops.scratch import in_layout_of


def _device(device):
    return backend.default_device() if device is None else backend.check_device(device)


def _float_dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new leaf tensor holding a copy of `data` (NumPy and CuPy arrays keep their dtype,
    Python floats take the default dtype, Python ints int64, bools bool)."""
    device = _device(device)
    if isinstance(data, Tensor):
        data = data.data
    if not hasattr(data, "dtype"):  # Python numbers and lists
        data = np.asarray(data)
        if dtype is None and data.dtype.kind == "f":
            dtype = get_default_dtype()
    xp = backend.array_module_for(device)
    array = xp.array(backend.to_device(data, device), dtype=dtype, copy=True)
    return Tensor(array, requires_grad=requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with an array already on the right device and dtype."""
    if isinstance(data, Tensor):
        return data
    if hasattr(data, "dtype") and (dtype is None or np.dtype(dtype) == data.dtype) \
            and (device is None or backend.check_device(device) == backend.device_of(data)):
        return Tensor(data)
    return tensor(data, dtype, device)


def _shape(shape):
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _filled(fill, shape, dtype, device, requires_grad):
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.full(_shape(shape), fill, dtype=_float_dtype(dtype)), requires_grad=requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(0, shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(1, shape, dtype, device, requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled(fill_value, (shape,), dtype, device, requires_grad)


def empty(*shape, dtype=None, device=None, requires_grad=False):
    return _filled(0, shape, dtype, device, requires_grad)


def _filled_like(x, fill, dtype, device, requires_grad):
    """Like torch's *_like with memory_format=preserve_format: on x's device, an x laid out as a
    permutation of a C-contiguous array (e.g. a conv output, stored channels-last) gets a result in
    that layout, so elementwise work between the two runs over memory in order."""
    device = device or x.device
    if device != x.device or not _is_dense(x.data):
        return _filled(fill, (x.shape,), dtype or x.dtype, device, requires_grad)
    xp = backend.array_module_for(device)
    data = in_layout_of(x.data, lambda shape: xp.full(shape, fill, dtype=np.dtype(dtype or x.dtype)))
    return Tensor(data, requires_grad=requires_grad)


def _is_dense(a):
    """Whether a fills its memory with no gaps or overlaps (a transpose of a C-contiguous array)."""
    expected = a.itemsize
    for axis in sorted(range(a.ndim), key=lambda axis: a.strides[axis]):   # innermost first
        if a.shape[axis] != 1 and a.strides[axis] != expected:
            return False
        expected *= a.shape[axis]
    return True


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    return _filled_like(x, 0, dtype, device, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    return _filled_like(x, 1, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    return _filled_like(x, fill_value, dtype, device, requires_grad)


def _random(kind, shape, dtype, device, requires_grad, **kwargs):
    device = _device(device)
    rng = backend.generator(device)
    dtype = _float_dtype(dtype)
    shape = _shape(shape)
    if kind == "normal":
        data = rng.standard_normal(size=shape, dtype=dtype)
    elif device == "cuda":
        data = rng.random_sample(size=shape, dtype=dtype)
    else:
        data = rng.random(size=shape, dtype=dtype)
    return Tensor(data, requires_grad=requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False):
    """Standard normal samples from the device's seeded generator (see `mg.manual_seed`)."""
    return _random("normal", shape, dtype, device, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _random("uniform", shape, dtype, device, requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    return randn(x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    return rand(x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def randint(low, high, size, device=None):
    """Integers in [low, high) as an int64 tensor."""
    device = _device(device)
    rng = backend.generator(device)
    if device == "cuda":
        return Tensor(rng.randint(low, high, size=tuple(size), dtype=np.int64))
    return Tensor(rng.integers(low, high, size=tuple(size), dtype=np.int64))


def randperm(n, device=None):
    device = _device(device)
    rng = backend.generator(device)
    return Tensor(rng.permutation(n).astype(np.int64))


def arange(start, end=None, step=1, dtype=None, device=None):
    """torch.arange: int64 for integer arguments, else the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if integral else get_default_dtype()
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.arange(start, end, step, dtype=dtype))


def linspace(start, end, steps, dtype=None, device=None):
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.linspace(start, end, steps, dtype=_float_dtype(dtype)))


def eye(n, m=None, dtype=None, device=None):
    xp = backend.array_module_for(_device(device))
    return Tensor(xp.eye(n, m, dtype=_float_dtype(dtype)))
