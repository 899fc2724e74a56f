"""What the metrics accept: NumPy or CuPy arrays, or minigan Tensors, brought to host NumPy."""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor


def host_array(x, dtype=None):
    """`x` (Tensor, NumPy or CuPy array, nested lists) as a NumPy array, no graph attached."""
    array = x.numpy() if isinstance(x, Tensor) else backend.as_numpy(x)
    return np.asarray(array, dtype=dtype)


def image_batch(x, op, channels=None, size=None):
    """`x` as float32 NumPy images (N, C, H, W), checked: the error names `op` and the shape."""
    images = host_array(x)
    if images.ndim != 4:
        raise ValueError(f"{op}: images must be (N, C, H, W), got shape {images.shape}")
    if len(images) == 0:
        raise ValueError(f"{op}: got no images (shape {images.shape})")
    if channels is not None and images.shape[1] != channels:
        raise ValueError(f"{op}: images must have {channels} channel(s), got shape {images.shape}")
    if size is not None and images.shape[2:] != tuple(size):
        raise ValueError(f"{op}: images must be {size[0]}x{size[1]}, got shape {images.shape}")
    if images.dtype.kind not in "fiub":
        raise TypeError(f"{op}: images must be numeric, got dtype {images.dtype}")
    return images.astype(np.float32, copy=False)
