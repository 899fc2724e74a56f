"""`out += a @ b` in one BLAS call, through NumPy's own BLAS.

NumPy's matmul always overwrites its `out`; GEMM itself can add into it (beta = 1). A sum of
products, as in a convolution computed tap by tap, then needs neither a temporary per term nor an
add pass over the result. NumPy's wheels ship OpenBLAS with its CBLAS symbols renamed
(`scipy_cblas_sgemm64_`, 64-bit integers); we call that very library, already loaded by NumPy, so
its threads and settings are NumPy's (a second BLAS, e.g. SciPy's, would bring a second thread pool
spinning against the first). Where that library is not found (another BLAS, CuPy arrays), or
MINIGAN_BLAS=numpy is set, `matmul_add` falls back to matmul into a temporary and an add.
"""
import ctypes
import glob
import os

import numpy as np

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_SYMBOLS = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm"}
_PREFIXES = ("scipy_cblas_{}64_", "cblas_{}64_")   # ILP64 builds: every integer argument is 64-bit


def _numpy_blas_paths():
    """Candidate paths of the BLAS library NumPy loaded: from the process's memory map where the
    OS has one, else the wheel's own folders."""
    try:
        with open("/proc/self/maps") as maps:
            loaded = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
        if loaded:   # NumPy's own first (SciPy's OpenBLAS may be loaded too)
            numpy_root = os.path.dirname(os.path.dirname(np.__file__))
            return sorted(loaded, key=lambda path: (not path.startswith(numpy_root), "numpy" not in path, path))
    except OSError:
        pass
    root = os.path.dirname(np.__file__)
    patterns = [os.path.join(root, "..", "numpy.libs", "*openblas*"), os.path.join(root, ".dylibs", "*openblas*")]
    return sorted(path for pattern in patterns for path in glob.glob(pattern))


def _load_gemms():
    """{dtype: the CBLAS gemm function} from NumPy's OpenBLAS, or {} where it is not found."""
    if os.environ.get("MINIGAN_BLAS", "").lower() == "numpy":
        return {}
    for path in _numpy_blas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in _PREFIXES:
            gemms = {dtype: getattr(library, prefix.format(name), None) for dtype, name in _SYMBOLS.items()}
            if all(gemms.values()):
                for dtype, gemm in gemms.items():
                    scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
                    i64, ptr = ctypes.c_int64, ctypes.c_void_p
                    gemm.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, scalar, ptr, i64,
                                     ptr, i64, scalar, ptr, i64]
                    gemm.restype = None
                return gemms
    return {}


_gemms = None


def _gemm_for(dtype):
    global _gemms
    if _gemms is None:
        _gemms = _load_gemms()
    return _gemms.get(dtype)


def uses_blas():
    """Whether `matmul_add` calls the BLAS directly here (else matmul + add)."""
    return _gemm_for(np.dtype(np.float32)) is not None


def _operand(a):
    """(a, transposed, leading dimension) describing a 2-D array to CBLAS in row-major order;
    a copy when its strides fit neither a matrix nor a transposed one."""
    size = a.itemsize
    rows, cols = a.shape
    if (a.strides[1] == size or cols == 1) and a.strides[0] % size == 0 and a.strides[0] >= max(cols, 1) * size:
        return a, _NO_TRANS, a.strides[0] // size
    if (a.strides[0] == size or rows == 1) and a.strides[1] % size == 0 and a.strides[1] >= max(rows, 1) * size:
        return a, _TRANS, a.strides[1] // size
    a = np.ascontiguousarray(a)
    return a, _NO_TRANS, max(cols, 1)


def _writable_rows(out):
    """Whether CBLAS can write out in place: unit column stride, rows a whole number of items apart."""
    size = out.itemsize
    rows, cols = out.shape
    unit_columns = out.strides[1] == size or cols == 1
    return unit_columns and (rows == 1 or (out.strides[0] % size == 0 and out.strides[0] >= cols * size))


def matmul_add(a, b, out):
    """out += a @ b for 2-D a (M, K), b (K, N) and out (M, N) of one float dtype; returns out."""
    gemm = _gemm_for(out.dtype) if isinstance(out, np.ndarray) else None
    if gemm is None or a.dtype != out.dtype or b.dtype != out.dtype or not _writable_rows(out):
        out += a @ b
        return out
    (m, k), n = a.shape, b.shape[1]
    if m == 0 or n == 0 or k == 0:
        return out
    a, trans_a, lda = _operand(a)
    b, trans_b, ldb = _operand(b)
    ldc = out.strides[0] // out.itemsize if m > 1 else max(n, 1)
    gemm(_ROW_MAJOR, trans_a, trans_b, m, n, k, 1.0, a.ctypes.data, lda, b.ctypes.data, ldb, 1.0,
         out.ctypes.data, ldc)
    return out
