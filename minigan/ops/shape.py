"""Shape ops: reshape, permute, broadcast and its adjoint sum_to, indexing, cat, device/dtype moves."""
import numpy as np

from minigan import backend
from minigan.autograd import Function, Tensor
from minigan.ops import recycle
from minigan.ops.scatter import scatter_add


def normalize_dim(op, dim, ndim):
    """A possibly negative dim as a non-negative one, or an IndexError naming the op."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def normalize_dims(op, dim, ndim):
    """None -> all dims; int or sequence -> a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    return tuple(sorted({normalize_dim(op, d, ndim) for d in dims}))


class Reshape(Function):
    """x.reshape(shape). With `layout_of` (an array of that shape), the result is laid out in memory
    like it: the backward of a flatten of a channels-last conv output hands back a channels-last
    gradient, so the elementwise backwards that follow (activation, batch norm) meet their saved
    arrays in the same order (mixed orders run ~5x slower) and the conv's gradients need no
    transposing copies of their own."""

    def __init__(self, shape, layout_of=None):
        self.shape, self.layout_of = shape, layout_of

    def forward(self, x):
        y = x.reshape(self.shape)
        like, self.layout_of = self.layout_of, None
        if like is None or like.flags.c_contiguous:
            return y
        out = recycle.empty_like(like)
        out[...] = y
        return out

    def backward(self, gy):
        x = self.inputs[0].data
        if tuple(gy.shape) == tuple(x.shape):
            return gy
        return Reshape(tuple(x.shape), layout_of=x if _dense(x) else None)(gy)


def _dense(a):
    """Whether a's elements fill its memory without gaps, in some order of its axes."""
    expected = a.itemsize
    for axis in sorted(range(a.ndim), key=lambda axis: a.strides[axis]):
        if a.shape[axis] > 1 and a.strides[axis] != expected:
            return False
        expected *= a.shape[axis]
    return True


def reshape(x, shape):
    shape = tuple(int(s) for s in shape)
    try:
        target = np.empty(x.shape, dtype=np.bool_).reshape(shape).shape  # resolves -1, checks size
    except ValueError:
        raise ValueError(f"reshape: cannot view a tensor of shape {x.shape} ({x.data.size} elements) "
                         f"as shape {shape}") from None
    return x if target == x.shape else Reshape(target)(x)


class Permute(Function):
    def __init__(self, dims):
        self.dims = dims

    def forward(self, x):
        return x.transpose(self.dims)

    def backward(self, gy):
        return permute(gy, tuple(np.argsort(self.dims)))


def permute(x, dims):
    if sorted(normalize_dim("permute", d, x.ndim) for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of a {x.ndim}-d tensor's dims")
    dims = tuple(d % max(x.ndim, 1) for d in dims)
    return x if dims == tuple(range(x.ndim)) else Permute(dims)(x)


def transpose(x, dim0, dim1):
    dims = list(range(x.ndim))
    a, b = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        return backend.get_array_module(x).broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(gy, self.inputs[0].shape)


class SumTo(Function):
    """Sum over the broadcast dimensions: the adjoint of broadcast_to."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        lead = x.ndim - len(self.shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(self.shape) if n == 1 and x.shape[lead + i] != 1)
        y = x.sum(axis=axes, keepdims=True) if axes else x
        return y.reshape(self.shape)

    def backward(self, gy):
        return broadcast_to(gy, self.inputs[0].shape)


def broadcast_to(x, shape):
    shape = tuple(int(s) for s in shape)
    if shape == x.shape:
        return x
    try:
        np.broadcast_shapes(x.shape, shape)
        if np.broadcast_shapes(x.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return BroadcastTo(shape)(x)


def expand(x, shape):
    """torch's expand: -1 keeps a dimension's size."""
    lead = len(shape) - x.ndim
    shape = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, shape)


def sum_to(x, shape):
    shape = tuple(shape)
    return x if x.shape == shape else SumTo(shape)(x)


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, (1,))
    start = normalize_dim("flatten", start_dim, x.ndim)
    end = normalize_dim("flatten", end_dim, x.ndim)
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def unsqueeze(x, dim):
    dim = normalize_dim("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def squeeze(x, dim=None):
    if dim is None:
        return reshape(x, tuple(n for n in x.shape if n != 1))
    dims = normalize_dims("squeeze", dim, x.ndim)
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


# -------------------------------------------------------------------------------- indexing
def _array_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_array_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    """True for ints, slices, None and Ellipsis only: then x[index] is a view with no repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class GetItem(Function):
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        return x[self.index]

    def backward(self, gy):
        return GetItemGrad(self.index, self.inputs[0].shape)(gy)


class GetItemGrad(Function):
    """Scatter-add a gradient back into the indexed positions (repeated indices add up)."""

    def __init__(self, index, shape):
        self.index, self.shape = index, shape

    def forward(self, gy):
        xp = backend.get_array_module(gy)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.index):
            gx[self.index] = gy
        else:
            scatter_add(gx, self.index, gy)
        return gx

    def backward(self, ggx):
        return getitem(ggx, self.index)


def getitem(x, index):
    index = _array_index(index)
    if x.device == "cuda" and not _is_basic(index):
        index = _index_to_device(index, x.xp)
    try:
        return GetItem(index)(x)
    except IndexError as error:
        raise IndexError(f"getitem: index {index!r} is invalid for a tensor of shape {x.shape}: {error}") from None


def _index_to_device(index, xp):
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(xp.asarray(p) if isinstance(p, np.ndarray) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


# ------------------------------------------------------------------------------ cat, stack
class Cat(Function):
    def __init__(self, dim):
        self.dim = dim

    def forward(self, *xs):
        return backend.get_array_module(*xs).concatenate(xs, axis=self.dim)

    def backward(self, gy):
        grads, start = [], 0
        for x, needed in zip(self.inputs, self.needs_input_grad):
            stop = start + x.shape[self.dim]
            index = (slice(None),) * self.dim + (slice(start, stop),)
            grads.append(getitem(gy, index) if needed else None)
            start = stop
        return tuple(grads)


def cat(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    ndim = tensors[0].ndim
    dim = normalize_dim("cat", dim, ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ndim or t.shape[:dim] + t.shape[dim + 1:] != tensors[0].shape[:dim] + tensors[0].shape[dim + 1:]:
            shapes = [tuple(t.shape) for t in tensors]
            raise ValueError(f"cat: tensors must match in every dim except dim {dim}, got shapes {shapes}")
    return tensors[0] if len(tensors) == 1 else Cat(dim)(*tensors)


def stack(tensors, dim=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack: every tensor must have the same shape, got {sorted(shapes)}")
    dim = normalize_dim("stack", dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


# ------------------------------------------------------------------------ device and dtype
class ToDevice(Function):
    def __init__(self, device):
        self.device = device

    def forward(self, x):
        self.source = backend.device_of(x)
        return backend.to_device(x, self.device)

    def backward(self, gy):
        return to_device(gy, self.source)


def to_device(x, device):
    return x if x.device == device else ToDevice(device)(x)


class AsType(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        return x.astype(self.dtype)

    def backward(self, gy):
        return astype(gy, self.inputs[0].dtype)


def astype(x, dtype):
    return x if x.dtype == dtype else AsType(np.dtype(dtype))(x)
