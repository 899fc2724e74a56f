"""`minigan.blas.matmul_add`: out += a @ b through NumPy's own BLAS (or matmul + add without it)."""
import numpy as np
import pytest

from minigan import blas


def layouts(rng, shape, dtype):
    """The same matrix stored four ways: C order, Fortran order (a transposed view), a strided
    window of a larger array, and columns a stride apart (a copy for CBLAS)."""
    a = rng.standard_normal(shape).astype(dtype)
    big = np.zeros((shape[0] + 3, shape[1] + 5), dtype)
    big[1:1 + shape[0], 2:2 + shape[1]] = a
    spaced = np.zeros((shape[0], 2 * shape[1]), dtype)
    spaced[:, ::2] = a
    return [a, np.asfortranarray(a), big[1:1 + shape[0], 2:2 + shape[1]], spaced[:, ::2]]


@pytest.fixture(params=["blas", "fallback"])
def path(request, monkeypatch):
    if request.param == "fallback":
        monkeypatch.setattr(blas, "_gemms", {})
    elif not blas.uses_blas():
        pytest.skip("NumPy's BLAS exposes no CBLAS gemm here (not an OpenBLAS wheel)")
    return request.param


@pytest.mark.parametrize("dtype,tolerance", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (1, 4, 6), (6, 1, 2), (8, 3, 1), (33, 65, 17)])
def test_matmul_add_adds_the_product_into_out_only(path, dtype, tolerance, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    for a in layouts(rng, (m, k), dtype):
        for b in layouts(rng, (k, n), dtype):
            canvas = rng.standard_normal((m + 2, n + 4)).astype(dtype)
            before = canvas.copy()
            out = canvas[1:1 + m, 3:3 + n]
            expected = before[1:1 + m, 3:3 + n] + a.astype(np.float64) @ b.astype(np.float64)
            assert blas.matmul_add(a, b, out) is out
            np.testing.assert_allclose(out, expected, rtol=tolerance, atol=tolerance)
            outside = np.ones(canvas.shape, bool)
            outside[1:1 + m, 3:3 + n] = False
            np.testing.assert_array_equal(canvas[outside], before[outside])


def test_empty_products_leave_out_unchanged(path):
    out = np.ones((3, 2), np.float32)
    blas.matmul_add(np.zeros((3, 0), np.float32), np.zeros((0, 2), np.float32), out)
    np.testing.assert_array_equal(out, 1)


def test_mixed_dtypes_take_the_fallback_and_stay_right():
    out = np.zeros((2, 2), np.float64)
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)
    np.testing.assert_array_equal(blas.matmul_add(a, b, out), np.full((2, 2), 3.0))


def test_minigan_blas_numpy_turns_the_direct_calls_off(monkeypatch):
    monkeypatch.setenv("MINIGAN_BLAS", "numpy")
    assert blas._load_gemms() == {}
