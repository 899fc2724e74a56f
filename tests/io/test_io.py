"""Checkpoints: exact round trips of nested state, atomic writes that survive an interrupted save,
and clear refusals of missing, truncated, corrupt, foreign and pickled files (never unpickled)."""
import json
import os

import numpy as np
import pytest

import minigan as mg
from minigan import io, nn, optim
from minigan.backend import as_numpy
from minigan.io import CheckpointError, load, save


def test_nested_structure_round_trip(tmp_path):
    obj = {
        "tensor": mg.randn(3, 4),
        "parameter": nn.Parameter(mg.ones(2)),
        "array": np.arange(6, dtype=np.int32).reshape(2, 3),
        "scalar": np.float64(0.5),
        "numbers": [1, 2.5, -3, float("inf"), True, None, "text"],
        "tuple": (0.5, 0.999),
        "nested": {"empty": {}, "list": [], 7: "int key", "strings": np.array(["a", "bc"])},
    }
    save(obj, tmp_path / "state.npz")
    back = load(tmp_path / "state.npz")
    assert isinstance(back["tensor"], mg.Tensor) and not back["tensor"].requires_grad
    np.testing.assert_array_equal(back["tensor"].numpy(), obj["tensor"].numpy())
    assert back["tensor"].dtype == np.float32
    assert back["parameter"].requires_grad
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == np.int32
    np.testing.assert_array_equal(back["array"], obj["array"])
    assert back["scalar"] == 0.5 and isinstance(back["scalar"], np.float64)
    assert back["numbers"] == [1, 2.5, -3, float("inf"), True, None, "text"]
    assert type(back["numbers"][0]) is int and type(back["numbers"][4]) is bool
    assert back["tuple"] == (0.5, 0.999)
    assert back["nested"]["empty"] == {} and back["nested"]["list"] == [] and back["nested"][7] == "int key"
    assert list(back["nested"]["strings"]) == ["a", "bc"]


def test_model_and_optimizer_round_trip_is_exact(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 1))
    opt = optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999), amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        model(mg.randn(3, 1, 4, 4)).sum().backward()
        opt.step()
    save({"model": model.state_dict(), "opt": opt.state_dict(), "step": 2}, tmp_path / "ckpt.npz")
    back = load(tmp_path / "ckpt.npz")
    assert back["step"] == 2
    for key, value in model.state_dict().items():
        assert back["model"][key].dtype == value.dtype
        np.testing.assert_array_equal(back["model"][key].numpy(), value.numpy())
    saved_state = opt.state_dict()
    assert back["opt"]["param_groups"] == saved_state["param_groups"]
    for position, entries in saved_state["state"].items():
        assert back["opt"]["state"][position]["step"] == entries["step"]
        for name in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            np.testing.assert_array_equal(as_numpy(back["opt"]["state"][position][name]), as_numpy(entries[name]))


def test_save_replaces_an_existing_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "ckpt.npz"
    save({"v": 1}, path)
    save({"v": 2}, path)
    assert load(path) == {"v": 2}
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save({"weights": mg.ones(3)}, path)

    def write_half_then_fail(file, arrays):
        file.write(b"PK\x03\x04 half a zip archive")
        raise KeyboardInterrupt("killed mid-save")

    monkeypatch.setattr(io, "_write_npz", write_half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        save({"weights": mg.zeros(3)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(load(path)["weights"].numpy(), np.ones(3))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"load: no such file .*nothing.npz"):
        load(tmp_path / "nothing.npz")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_file_is_refused(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    save({"w": mg.randn(50, 50), "note": "x"}, path)
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    with pytest.raises(CheckpointError, match=f"load: {path} is truncated or corrupt"):
        load(path)


def test_empty_and_corrupt_files_are_refused(tmp_path):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match=f"load: {empty} is empty"):
        load(empty)
    path = tmp_path / "ckpt.npz"
    save({"w": mg.randn(50, 50)}, path)
    data = bytearray(path.read_bytes())
    data[2000:2010] = b"0123456789"  # inside the array data: the zip CRC catches it
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"load: {path} is truncated or corrupt .*CRC"):
        load(path)
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(CheckpointError, match=f"load: {text} is not a minigan checkpoint"):
        load(text)


def test_foreign_npz_and_newer_versions_are_refused(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3))
    with pytest.raises(CheckpointError, match=r"not a minigan checkpoint \(no __minigan__ entry; "
                                              r"its arrays are: weights\)"):
        load(foreign)
    newer = tmp_path / "newer.npz"
    header = json.dumps({"format": io.FORMAT, "version": io.VERSION + 1, "tree": None})
    np.savez(newer, __minigan__=np.frombuffer(header.encode(), dtype=np.uint8))
    with pytest.raises(CheckpointError, match="has format version 2, but this minigan reads versions up to 1"):
        load(newer)


class WritesMarker:
    """Unpickling this object creates a marker file: proof that the payload ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("container", ["npy", "npz", "raw pickle"])
def test_pickled_payload_is_refused_and_never_runs(tmp_path, container):
    marker = tmp_path / "payload-ran"
    payload = np.array([WritesMarker(str(marker))], dtype=object)
    path = tmp_path / f"evil.{container.split()[-1]}"
    if container == "npy":
        np.save(path, payload, allow_pickle=True)
    elif container == "npz":
        np.savez(path, __minigan__=np.frombuffer(b"{}", dtype=np.uint8), leaf_0=payload)
    else:
        import pickle
        path.write_bytes(pickle.dumps(WritesMarker(str(marker))))
    with pytest.raises(CheckpointError, match=f"load: {path} contains pickled Python objects"):
        load(path)
    assert not marker.exists()
    # the payload is real: numpy with allow_pickle=True would have run it
    if container == "npy":
        np.load(path, allow_pickle=True)
        assert marker.exists()


def test_save_refuses_what_it_cannot_store_without_pickle(tmp_path):
    with pytest.raises(TypeError, match=r"cannot store a set at obj\['opts'\]\[1\]"):
        save({"opts": [1, {2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"array at obj\['a'\] holds Python objects"):
        save({"a": np.array([None, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match=r"dict keys must be str or int, got 1.5"):
        save({1.5: 0}, tmp_path / "x.npz")
    with pytest.raises(FileNotFoundError, match="folder .*missing does not exist"):
        save({}, tmp_path / "missing" / "x.npz")
    assert os.listdir(tmp_path) == []
