"""mg.profile(): exact per-op counts, the forward/backward split, nesting, and the hook's removal."""
import mmap

import numpy as np
import pytest

import minigan as mg
from minigan import autograd, optim


def leaf(*shape):
    return mg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)


def three_matmuls(x=None):
    """x @ w1 @ w2 @ w3, summed: three MatMuls and one Sum, every input wants a gradient."""
    x = leaf(4, 5) if x is None else x
    w1, w2, w3 = leaf(5, 6), leaf(6, 3), leaf(3, 2)
    return mg.matmul(mg.matmul(mg.matmul(x, w1), w2), w3).sum()


def calls(prof):
    return {(r["name"], r["phase"]): r["calls"] for r in prof.rows()}


def test_counts_are_exact_and_split_by_phase():
    with mg.profile() as prof:
        three_matmuls().backward()
    counts = calls(prof)
    assert counts[("MatMul", "forward")] == 3
    assert counts[("MatMul", "backward")] == 3
    assert counts[("Sum", "forward")] == 1
    assert counts[("Sum", "backward")] == 1
    # each MatMul backward multiplies twice (one product per input); those are not forward calls
    assert counts[("MatMul", "in backward")] == 6


def test_a_block_sees_only_its_own_phase():
    loss = three_matmuls()
    with mg.profile() as forward_only:
        three_matmuls()
    with mg.profile() as backward_only:
        loss.backward()
    assert {phase for _, phase in calls(forward_only)} == {"forward", "BLAS"}
    assert {phase for _, phase in calls(backward_only)} == {"backward", "in backward", "BLAS"}


def test_forwards_under_no_grad_are_counted():
    with mg.profile() as prof, mg.no_grad():
        three_matmuls()
    assert calls(prof)[("MatMul", "forward")] == 3


def test_optimizer_steps_get_a_row_and_their_closure_nests():
    w = leaf(5, 3)
    sgd = optim.SGD([w], lr=0.1)

    def closure():
        sgd.zero_grad()
        loss = mg.matmul(mg.ones(2, 5, dtype=mg.float64), w).sum()
        loss.backward()
        return loss

    with mg.profile() as prof:
        closure()
        sgd.step()
        sgd.step(closure)
    rows = {(r["name"], r["phase"]): r for r in prof.rows()}
    assert rows[("SGD.step", "optimizer")]["calls"] == 2
    assert rows[("MatMul", "forward")]["calls"] == 2   # the closure's forward counts as a forward
    step = rows[("SGD.step", "optimizer")]
    assert step["self_ms"] < step["total_ms"]            # the closure's ops are timed apart


def test_times_are_consistent():
    with mg.profile() as prof:
        x = leaf(4, 5)
        g, = mg.grad(three_matmuls(x), x, create_graph=True)
        (g * g).sum().backward()                        # a second order: backward of backward ops
    rows = prof.rows()
    assert rows
    for row in rows:
        assert 0.0 <= row["self_ms"] <= row["total_ms"]
        assert row["mean_ms"] == pytest.approx(row["self_ms"] / row["calls"])
        assert row["percent"] >= 0.0
    assert sum(r["self_ms"] for r in rows) == pytest.approx(prof.self_ms())
    assert prof.self_ms() <= prof.wall_ms()


def test_hook_is_removed_after_the_block_even_on_exception():
    assert autograd._profiler is None
    with pytest.raises(ZeroDivisionError):
        with mg.profile() as prof:
            three_matmuls()
            1 / 0
    assert autograd._profiler is None
    assert calls(prof)[("MatMul", "forward")] == 3   # what ran before the error is kept
    with mg.profile() as after:
        pass
    three_matmuls()                                   # outside any block: nothing recorded
    assert prof.rows() and not after.rows()


def test_nested_blocks_each_see_their_events():
    with pytest.raises(RuntimeError, match="inner"):
        with mg.profile() as outer:
            three_matmuls()
            with mg.profile() as inner:
                three_matmuls()
            assert autograd._profiler is not None     # the outer block still listens
            three_matmuls()
            with mg.profile():
                raise RuntimeError("inner")
    assert autograd._profiler is None
    assert calls(outer)[("MatMul", "forward")] == 9
    assert calls(inner)[("MatMul", "forward")] == 3
    assert inner.wall_ms() <= outer.wall_ms()


def test_table_lists_ops_sorted_and_cut():
    with mg.profile() as prof:
        three_matmuls().backward()
    table = prof.table()
    for name in ("MatMul", "Sum", "forward", "backward", "in backward", "wall", "self times"):
        assert name in table
    by_name = [(r["name"], r["phase"]) for r in prof.rows(sort="name")]
    phases = ["forward", "backward", "in backward", "optimizer", "BLAS"]
    assert by_name == sorted(by_name, key=lambda key: (key[0], phases.index(key[1])))
    by_calls = [r["calls"] for r in prof.rows(sort="calls")]
    assert by_calls == sorted(by_calls, reverse=True)
    by_total = [r["total_ms"] for r in prof.rows(sort="total")]
    assert by_total == sorted(by_total, reverse=True)
    top = prof.table(sort="calls", top=1).splitlines()
    assert len(top) == 4 and top[1].split()[0] == prof.rows(sort="calls")[0]["name"]
    assert top[2].startswith(f"... {len(prof.rows()) - 1} more rows")
    with pytest.raises(ValueError, match="sort must be one of"):
        prof.rows(sort="slowest")


def test_results_before_the_block_runs_say_how_to_use_it():
    with pytest.raises(RuntimeError, match="with mg.profile"):
        mg.profile().table()


def _touch_fresh_pages(pages=1024):
    """Writes one byte per page of a new anonymous mapping: fresh memory whatever the allocator
    (glibc, jemalloc, the recycling pool) would have done with a plain array."""
    mapping = mmap.mmap(-1, pages * mmap.PAGESIZE)
    np.frombuffer(mapping, dtype=np.uint8)[::mmap.PAGESIZE] = 1
    mapping.close()


class _TouchFreshPages(mg.Function):
    def forward(self, x):
        _touch_fresh_pages()
        return x * 2.0


def test_page_faults_are_counted_where_fresh_memory_is_touched():
    resource = pytest.importorskip("resource")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    _touch_fresh_pages()
    if resource.getrusage(resource.RUSAGE_SELF).ru_minflt == before:
        pytest.skip("this kernel reports no minor page faults in getrusage (ru_minflt stays 0)")
    x = mg.tensor(np.ones(4, dtype=np.float32))
    with mg.profile() as prof:
        for _ in range(3):
            _TouchFreshPages()(x)
    (row,) = [r for r in prof.rows() if r["name"] == "_TouchFreshPages"]
    assert row["page_faults"] >= 3 * 1024 // 2 and "faults" in prof.table()


def gemm_row(prof):
    (row,) = [r for r in prof.rows() if r["name"] == "GEMM"]
    return row


def test_gemms_get_one_row_with_their_exact_floating_point_operations():
    with mg.profile() as prof:
        three_matmuls().backward()
    # forward 4x5x6 + 4x6x3 + 4x3x2 multiply-adds; backward two products of the same size each
    forward = 4 * 5 * 6 + 4 * 6 * 3 + 4 * 3 * 2
    row = gemm_row(prof)
    assert row["phase"] == "BLAS" and row["calls"] == 9
    assert row["gflop"] * 1e9 == pytest.approx(2 * 3 * forward)
    assert row["gflops"] > 0
    assert all(r["gflop"] is None for r in prof.rows() if r["name"] != "GEMM")
    assert "GFLOP/s" in prof.table()


def test_a_conv_is_split_into_its_gemm_and_the_work_around_it(cpu_default):
    x, w = leaf(2, 3, 6, 6), leaf(4, 3, 3, 3)
    with mg.profile() as prof:
        mg.functional.conv2d(x, w, padding=1)
    conv = [r for r in prof.rows() if r["name"] == "Conv2d"][0]
    gemm = gemm_row(prof)
    assert gemm["calls"] == 1 and gemm["gflop"] * 1e9 == 2 * (2 * 6 * 6) * (3 * 3 * 3) * 4
    assert conv["total_ms"] >= conv["self_ms"] + gemm["self_ms"] * 0.999


@pytest.mark.parametrize("a_shape,b_shape", [((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (3,)),
                                             ((3,), (5, 3, 4)), ((2, 1, 4, 3), (6, 3, 2))])
def test_gemm_sizes_follow_matmul_promotion_and_broadcasting(a_shape, b_shape):
    from minigan.profiler import _product_size
    assert _product_size(a_shape, b_shape) == np.matmul(np.ones(a_shape), np.ones(b_shape)).size


def test_op_gemms_take_broadcast_operands():
    """A zero-stride operand (the gradient of a mean) is copied before the product, never changed."""
    from minigan import profiler
    rng = np.random.default_rng(0)
    ones = np.broadcast_to(np.float32(0.5), (3, 1))
    x = rng.standard_normal((3, 7)).astype(np.float32)
    np.testing.assert_allclose(profiler.matmul(np, ones.T, x), 0.5 * x.sum(0, keepdims=True), rtol=1e-6)
    with mg.profile():
        np.testing.assert_allclose(profiler.matmul(np, x.T, ones), 0.5 * x.sum(0)[:, None], rtol=1e-6)
