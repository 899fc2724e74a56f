"""`mg.cuda`: is a GPU usable, and synchronisation for honest timings."""
try:  # CuPy is an optional extra
    import cupy as _cupy
except Exception:  # ImportError, or a CUDA install that fails on import
    _cupy = None


def is_available():
    """True when CuPy imports and sees at least one CUDA device."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def synchronize():
    """Wait for all queued GPU work (a no-op without a GPU)."""
    if is_available():
        _cupy.cuda.Stream.null.synchronize()
