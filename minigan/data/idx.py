"""The IDX file format of MNIST and Fashion-MNIST, raw or gzipped.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 per dimension, then the values in C order. MNIST's images are
type 0x08 (unsigned byte) with 3 dimensions (magic 2051), its labels 0x08 with 1 (magic 2049).
"""
import gzip
import os
import zlib

import numpy as np

# IDX type code -> the NumPy dtype of its values (stored big-endian).
_DTYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
           0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def magic_number(dtype_code, ndim):
    """The magic number of an IDX file: 2051 for ubyte images (N, H, W), 2049 for ubyte labels (N,)."""
    return (dtype_code << 8) | ndim


def read_bytes(path):
    """The file's content, gunzipped when the name ends in .gz; errors name the file."""
    path = os.fspath(path)
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{path}: the gzip stream is truncated or corrupt ({error})") from None


def read_idx(path, expected_magic=None):
    """The array stored in an IDX file (raw or .gz), shaped as its header says.

    Raises ValueError naming the file for a wrong magic number (or one other than
    `expected_magic`), a truncated file, or bytes past the end the header promises.
    """
    path = os.fspath(path)
    content = read_bytes(path)
    if len(content) < 4:
        raise ValueError(f"{path} is truncated: {len(content)} bytes, not even the 4-byte IDX magic number")
    magic = int.from_bytes(content[:4], "big")
    zeros, code, ndim = content[0] | content[1], content[2], content[3]
    if zeros or code not in _DTYPES or ndim == 0:
        raise ValueError(f"{path}: wrong magic number 0x{magic:08x} ({magic}); this is not an IDX file"
                         + _expected(expected_magic))
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{path}: wrong magic number 0x{magic:08x} ({magic}) for an IDX file of "
                         f"{ndim} dimension(s) of type 0x{code:02x}" + _expected(expected_magic))
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"{path} is truncated: its header needs {header_size} bytes but the file has "
                         f"{len(content)}")
    shape = tuple(int.from_bytes(content[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = _DTYPES[code]
    expected_bytes = int(np.prod(shape)) * dtype.itemsize
    held = len(content) - header_size
    promised = " x ".join(map(str, shape))
    if held < expected_bytes:
        raise ValueError(f"{path} is truncated: its header promises {promised} values ({expected_bytes} "
                         f"bytes) but only {held} bytes follow")
    if held > expected_bytes:
        raise ValueError(f"{path}: {held - expected_bytes} unexpected bytes after the {promised} values "
                         "its header promises (a corrupt or concatenated file?)")
    values = np.frombuffer(content, dtype=dtype, offset=header_size, count=int(np.prod(shape)))
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def _expected(magic):
    if magic is None:
        return ""
    return f"; expected 0x{magic:08x} ({magic}), {magic & 0xFF} dimension(s) of type 0x{(magic >> 8) & 0xFF:02x}"


def write_idx(path, array):
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz): for tests and tools."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = magic_number(0x08, array.ndim).to_bytes(4, "big")
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
