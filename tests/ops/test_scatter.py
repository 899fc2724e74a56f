"""scatter_add: CuPy's add.at is atomic (order varies run to run), so cuda adds repeats in rounds.
The rounds are written for either array module; here they run on NumPy against np.add.at."""
import numpy as np
import pytest

from minigan.ops.scatter import add_in_rounds, scatter_add


def rounds_and_reference(shape, index, values):
    expected, got = np.zeros(shape), np.zeros(shape)
    np.add.at(expected, index, values)
    add_in_rounds(np, got, index, values)
    return got, expected


def test_rounds_add_each_position_in_order_of_appearance():
    # 1e16 + 1 - 1e16 depends on the order: only NumPy's sequential order gives exactly 0 here
    values = np.array([1e16, 1.0, -1e16, 3.0, 1.0, 2.0, 1.0])
    index = np.array([2, 2, 2, 0, 2, 4, 4])
    got, expected = rounds_and_reference((5,), index, values)
    np.testing.assert_array_equal(got, expected)
    assert got[2] == 1.0  # ((1e16 + 1) - 1e16) + 1: the 1 added to 1e16 is lost, as in order


@pytest.mark.parametrize("seed", range(5))
def test_rounds_match_numpy_bit_for_bit_on_random_repeats(seed):
    rng = np.random.default_rng(seed)
    shape = (4, 6, 3)
    rows, cols = rng.integers(0, 4, 200), rng.integers(0, 3, 200)   # many repeats per position
    values = rng.normal(size=(200, 6)) * 10.0 ** rng.integers(-8, 8, (200, 1))
    got, expected = rounds_and_reference(shape, (rows, slice(None), cols), values)
    np.testing.assert_array_equal(got, expected)


def test_rounds_take_masks_broadcast_values_and_empty_indices():
    mask = np.array([True, False, True])
    got, expected = rounds_and_reference((3, 2), mask, 1.5)
    np.testing.assert_array_equal(got, expected)
    got, expected = rounds_and_reference((3,), np.array([], dtype=np.int64), np.array([]))
    np.testing.assert_array_equal(got, expected)


def test_numpy_targets_use_add_at_and_noncontiguous_targets_are_refused():
    target = np.zeros(3)
    scatter_add(target, np.array([0, 0, 2]), np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(target, [3.0, 0.0, 3.0])
    with pytest.raises(ValueError, match="scatter_add: the target must be C-contiguous"):
        add_in_rounds(np, np.zeros((4, 4))[:, ::2], np.array([0]), 1.0)


@pytest.mark.skipif(not __import__("minigan").cuda.is_available(), reason="no CUDA device")
def test_cuda_scatter_is_reproducible_and_equals_numpy():
    import cupy
    rng = np.random.default_rng(7)
    index = rng.integers(0, 10, 5000)
    values = rng.normal(size=5000) * 10.0 ** rng.integers(-6, 6, 5000)
    expected = np.zeros(10)
    np.add.at(expected, index, values)
    runs = []
    for _ in range(3):
        target = cupy.zeros(10)
        scatter_add(target, cupy.asarray(index), cupy.asarray(values))
        runs.append(cupy.asnumpy(target))
    for run in runs:
        np.testing.assert_array_equal(run, expected)
