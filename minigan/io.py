"""`save` / `load` of checkpoints: nested dicts and lists of Tensors, arrays, numbers, strings,
bools and None, in one `.npz` file that loading can never turn into running code.

The file holds one array per Tensor or array leaf ("leaf_0", "leaf_1", ...) and a
`__minigan__` entry: UTF-8 JSON with a format marker, a version and the structure, in which
each leaf is a reference to its array. Nothing is pickled, and files are read with
`allow_pickle=False`. Writes go to a temporary file in the same folder, are flushed to disk
and then renamed over the target, so an interrupted save leaves the previous file intact.

    mg.save({"G": G.state_dict(), "opt_G": opt_G.state_dict(), "step": 1000}, "run/checkpoint.npz")
    state = mg.load("run/checkpoint.npz", device="cuda")
"""
import json
import os
import tempfile
import zipfile

import numpy as np

from minigan import backend
from minigan.autograd import Tensor

FORMAT = "minigan-checkpoint"
VERSION = 1
_HEADER = "__minigan__"


class CheckpointError(ValueError):
    """A file that is missing a part, truncated, corrupt, not a minigan checkpoint, or unsafe."""


# ----------------------------------------------------------------------------------- saving
def _encode(obj, arrays, where):
    """The JSON structure for `obj`; Tensor and array leaves go into `arrays`."""
    if obj is None or isinstance(obj, (bool, int, float, str)) and not isinstance(obj, np.generic):
        return obj
    if isinstance(obj, Tensor):
        return {"type": "tensor", "key": _add_array(obj.data, arrays, where), "requires_grad": obj.requires_grad}
    if isinstance(obj, (np.ndarray, np.generic)) or backend.device_of(obj) == "cuda":
        return {"type": "array", "key": _add_array(obj, arrays, where), "scalar": isinstance(obj, np.generic)}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r} at {where}")
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        return {"type": type(obj).__name__,
                "items": [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]}
    raise TypeError(f"save: cannot store a {type(obj).__name__} at {where}; supported are dicts, lists, "
                    "tuples, Tensors, arrays, numbers, strings, bools and None")


def _add_array(array, arrays, where):
    array = backend.as_numpy(array)
    if array.dtype.hasobject:
        raise TypeError(f"save: the array at {where} holds Python objects (dtype object), which would "
                        "need pickle; convert it to a numeric or string array")
    key = f"leaf_{len(arrays)}"
    arrays[key] = array
    return key


def _write_npz(file, arrays):
    np.savez(file, **arrays)


def save(obj, path):
    """Write `obj` (nested dicts/lists/tuples of Tensors, arrays, numbers, strings, bools, None)
    to `path` atomically. Tensors are stored from any device and come back as Tensors."""
    path = os.fspath(path)
    arrays = {}
    tree = _encode(obj, arrays, "obj")
    header = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[_HEADER] = np.frombuffer(header.encode("utf-8"), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: folder {folder} does not exist (saving {path})")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _sync_folder(folder)


def _sync_folder(folder):
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------------------- loading
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # an .npz is a zip archive
_NPY_MAGIC = b"\x93NUMPY"


def _read_entries(path):
    """Every array in the file, or a CheckpointError that says what is wrong with it."""
    with open(path, "rb") as file:
        start = file.read(6)
    if not start:
        raise CheckpointError(f"load: {path} is empty (a truncated or interrupted write?)")
    if start.startswith(b"\x80"):
        raise _pickled(path)
    if start == _NPY_MAGIC:
        if _npy_holds_objects(path):
            raise _pickled(path)
        raise CheckpointError(f"load: {path} is a single .npy array, not a minigan checkpoint")
    if start[:4] not in _ZIP_MAGIC:
        raise CheckpointError(f"load: {path} is not a minigan checkpoint (not an .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as contents:
            return {name: contents[name] for name in contents.files}
    except ValueError as error:
        if "pickle" in str(error).lower():  # an object array inside the archive
            raise _pickled(path) from None
        raise CheckpointError(f"load: {path} is corrupt ({error})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, RuntimeError) as error:
        raise CheckpointError(f"load: {path} is truncated or corrupt ({type(error).__name__}: {error})") from None


def _npy_holds_objects(path):
    """Whether an .npy file's header declares Python objects (stored pickled); reads only the header."""
    try:
        with open(path, "rb") as file:
            version = np.lib.format.read_magic(file)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            _, _, dtype = read_header(file)
        return dtype.hasobject
    except (ValueError, OSError, EOFError):
        return False


def _pickled(path):
    return CheckpointError(f"load: {path} contains pickled Python objects, which minigan refuses to load "
                           "(unpickling can run arbitrary code)")


def _decode(node, entries, device, path):
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind in ("tensor", "array"):
        if node.get("key") not in entries:
            raise CheckpointError(f"load: {path} is corrupt: its structure refers to a missing array "
                                  f"{node.get('key')!r}")
        array = entries[node["key"]]
        if kind == "array":
            return array[()] if node.get("scalar") else array
        return Tensor(backend.to_device(array, device), requires_grad=bool(node.get("requires_grad")))
    if kind == "dict":
        return {key: _decode(value, entries, device, path) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        values = [_decode(value, entries, device, path) for value in node["items"]]
        return values if kind == "list" else tuple(values)
    raise CheckpointError(f"load: {path} is corrupt: unknown node type {kind!r} in its structure")


def load(path, device="cpu"):
    """Read a file written by `save`. Tensors are placed on `device`; arrays come back as NumPy
    arrays, numbers/strings/None/bools as themselves, tuples as tuples. Raises FileNotFoundError
    for a missing file and CheckpointError (a ValueError) for one that is truncated, corrupt,
    pickled or not a minigan checkpoint."""
    path = os.fspath(path)
    device = backend.check_device(device)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file {path}")
    entries = _read_entries(path)
    if _HEADER not in entries:
        names = ", ".join(sorted(entries)[:5]) or "none"
        raise CheckpointError(f"load: {path} is not a minigan checkpoint (no {_HEADER} entry; "
                              f"its arrays are: {names})")
    try:
        header = json.loads(entries.pop(_HEADER).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"load: {path} is corrupt: unreadable {_HEADER} entry ({error})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CheckpointError(f"load: {path} is not a minigan checkpoint (format marker missing)")
    if not isinstance(header.get("version"), int) or header["version"] > VERSION:
        raise CheckpointError(f"load: {path} has format version {header.get('version')}, but this minigan "
                              f"reads versions up to {VERSION}; upgrade minigan")
    try:
        return _decode(header["tree"], entries, device, path)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"load: {path} is corrupt: malformed structure ({error})") from None
