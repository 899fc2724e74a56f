"""DataLoader: seeded shuffles, whole epochs, Tensors on the device, bit-identical resume."""
import numpy as np
import pytest

import minigan as mg
from minigan import cuda
from minigan.data import DataLoader


def dataset(n=23):
    """Rows whose features encode their index, so a batch tells which samples it holds."""
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], 3, axis=1) * np.float32([1, 10, 100])
    return x, np.arange(n, dtype=np.int64)


def served(loader, count):
    return [y.numpy().tolist() for _, y in (loader.next_batch() for _ in range(count))]


def test_an_epoch_is_a_permutation_with_rows_kept_together():
    x, y = dataset(23)
    loader = DataLoader((x, y), batch_size=5, drop_last=False, seed=0)
    assert len(loader) == 5
    seen = []
    for xb, yb in loader:
        assert isinstance(xb, mg.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())
        np.testing.assert_array_equal(xb.numpy()[:, 2], 100 * yb.numpy())
        seen += yb.numpy().tolist()
    assert sorted(seen) == list(range(23)) and seen != list(range(23))
    assert [len(b) for b in served(loader, 5)] == [5, 5, 5, 5, 3]


def test_drop_last_keeps_full_batches_only():
    loader = DataLoader(dataset(23), batch_size=5)
    batches = [y.numpy() for _, y in loader]
    assert len(loader) == 4 and len(batches) == 4 and all(len(b) == 5 for b in batches)
    assert len(set(np.concatenate(batches).tolist())) == 20


def test_each_epoch_reshuffles_and_the_seed_decides():
    runs = [served(DataLoader(dataset(24), 4, seed=seed), 6 * 3) for seed in (0, 0, 1)]   # 3 epochs
    assert runs[0] == runs[1] and runs[0] != runs[2]
    epochs = [sum(runs[0][i:i + 6], []) for i in (0, 6, 12)]
    assert all(sorted(epoch) == list(range(24)) for epoch in epochs)
    assert epochs[0] != epochs[1] != epochs[2]


def test_for_loop_continues_the_current_epoch_then_starts_the_next():
    loader = DataLoader(dataset(20), batch_size=5, seed=3)
    head = served(loader, 2)
    rest = [y.numpy().tolist() for _, y in loader]
    assert len(rest) == 2 and sorted(sum(head + rest, [])) == list(range(20))
    assert loader.state_dict()["epoch"] == 0
    next_epoch = [y.numpy().tolist() for _, y in loader]
    assert len(next_epoch) == 4 and loader.state_dict()["epoch"] == 1
    assert next_epoch != head + rest


@pytest.mark.parametrize("consumed", [0, 3, 4, 9])       # start, mid-epoch, epoch end, later epoch
def test_resume_from_a_saved_state_serves_the_same_next_batches(tmp_path, consumed):
    uninterrupted = DataLoader(dataset(), batch_size=5, seed=11)
    served(uninterrupted, consumed)
    mg.save({"loader": uninterrupted.state_dict()}, tmp_path / "state.npz")
    expected = served(uninterrupted, 10)

    resumed = DataLoader(dataset(), batch_size=5, seed=11)
    resumed.load_state_dict(mg.load(tmp_path / "state.npz")["loader"])
    assert served(resumed, 10) == expected


def test_single_array_without_shuffle():
    x, _ = dataset(6)
    loader = DataLoader(x, batch_size=4, shuffle=False, drop_last=False)
    batches = [b.numpy()[:, 0].tolist() for b in loader]
    assert batches == [[0, 1, 2, 3], [4, 5]]


def test_dtype_casts_floats_only():
    xb, yb = DataLoader(dataset(), batch_size=4, dtype=mg.float64).next_batch()
    assert xb.dtype == np.float64 and yb.dtype == np.int64 and xb.device == mg.backend.default_device()


@pytest.mark.skipif(not cuda.is_available(), reason="needs CuPy and a GPU")
def test_batches_land_on_the_gpu():
    x, y = dataset()
    loader = DataLoader((x, y), batch_size=4, device="cuda", seed=2)
    xb, yb = loader.next_batch()
    assert xb.device == "cuda" and yb.device == "cuda"
    host = DataLoader((x, y), batch_size=4, device="cpu", seed=2)
    assert (host.next_batch()[1].numpy() == yb.numpy()).all()


# ----------------------------------------------------------------------------------- errors
def test_errors():
    x, y = dataset(10)
    with pytest.raises(ValueError, match=r"the arrays have different lengths \[10, 9\]"):
        DataLoader((x, y[:9]), batch_size=2)
    with pytest.raises(ValueError, match=r"batch_size 16 is larger than the dataset \(10 samples\) with drop_last=True"):
        DataLoader((x, y), batch_size=16)
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer, got 0"):
        DataLoader((x, y), batch_size=0)
    with pytest.raises(ValueError, match=r"unknown device 'tpu'"):
        DataLoader((x, y), batch_size=2, device="tpu")
    state = DataLoader((x, y), batch_size=2).state_dict()
    with pytest.raises(ValueError, match=r"the state has n=10 but this loader has n=9"):
        DataLoader((x[:9], y[:9]), batch_size=2).load_state_dict(state)
    with pytest.raises(ValueError, match=r"position epoch=0, batch=7 is outside 0..5"):
        DataLoader((x, y), batch_size=2).load_state_dict(dict(state, batch=7))
