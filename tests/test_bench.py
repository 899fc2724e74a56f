"""The benchmark's machinery: engines, alternating timing, workloads, ratios, memory, tables."""
import numpy as np
import pytest

import minigan as mg
from minigan import conv_kernels
from minigan.bench import _row, engines_for, layers, memory, report
from minigan.bench.engines import Engine, blas_threads
from minigan.bench.timing import time_engines
from minigan.bench.workloads import WORKLOADS


class CountingEngine(Engine):
    """A cpu engine whose clock is a counter, so medians are known exactly."""

    def time(self, fn):
        return fn()


def test_time_engines_takes_turns_in_settled_blocks_and_reports_medians():
    calls = []
    engines = [CountingEngine("minigan", "cpu"), CountingEngine("torch", "cpu")]

    def build(engine):
        # warm-up, then per round: one untimed call after the pause, one timed call
        durations = iter([9.0, 9.0, 1.0, 9.0, 5.0, 9.0, 3.0] if engine.library == "minigan"
                         else [9.0, 9.0, 2.0, 9.0, 2.0, 9.0, 8.0])

        def call():
            calls.append(engine.library)
            return next(durations)
        return call

    medians = time_engines(engines, build, repeats=3, warmup=1, rounds=3, settle_s=1e-4)
    assert medians == {"minigan cpu": 3.0, "torch cpu": 2.0}     # warm-up and settling calls not counted
    assert calls == ["minigan", "torch"] + ["minigan", "minigan", "torch", "torch"] * 3


def test_row_ratios_are_to_the_peer_on_the_same_device():
    engines = [Engine("minigan", "cpu"), Engine("torch", "cpu")]
    row = _row("case", {"minigan cpu": 0.003, "torch cpu": 0.002}, engines, flops=1e9)
    assert row["ms"] == pytest.approx({"minigan cpu": 3.0, "torch cpu": 2.0})
    assert row["ratio"] == pytest.approx({"minigan cpu": 1.5})
    assert row["gflops"] == pytest.approx(3 * 1e9 / 0.003 / 1e9)   # forward + two backward products


def test_engine_lists():
    assert [e.label for e in engines_for("cpu", compare=False)] == ["minigan cpu"]
    cuda = [e.label for e in engines_for("cuda", compare=False)]
    assert cuda == ["minigan cuda-kernels", "minigan cuda-im2col"]


def test_blas_threads_follows_the_environment(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    assert blas_threads() == 3


def test_conv_implementation_override_wins_and_is_restored(monkeypatch):
    monkeypatch.setenv("MINIGAN_CONV", "kernels")
    with conv_kernels.implementation("im2col"):
        assert not conv_kernels.use_kernels()
    assert conv_kernels.use_kernels()
    with pytest.raises(ValueError, match="cudnn"):
        with conv_kernels.implementation("cudnn"):
            pass


@pytest.mark.parametrize("name", sorted(WORKLOADS))
def test_each_workload_trains_on_minigan(name):
    mg.manual_seed(0)
    engine = Engine("minigan", "cpu")
    captured = {}
    original = mg.optim.Adam.step

    def spy(self):
        captured.setdefault(id(self), [p.data.copy() for p in self.param_groups[0]["params"]])
        original(self)
    mg.optim.Adam.step = spy
    try:
        step = WORKLOADS[name].build(engine, 2)
        step()
    finally:
        mg.optim.Adam.step = original
    assert len(captured) == 2        # both G's and D's optimisers stepped


def _parameter_shapes(module):
    return sorted(tuple(p.shape) for p in module.parameters())


@pytest.mark.parametrize("build", ["mlp_gan_nets", "dcgan_28_generator", "dcgan_28_discriminator"])
def test_workload_nets_are_the_same_on_both_engines(build):
    torch = pytest.importorskip("torch")
    from minigan.bench import workloads
    ours = getattr(workloads, build)(Engine("minigan", "cpu"))
    theirs = getattr(workloads, build)(Engine("torch", "cpu"))
    ours, theirs = (ours if isinstance(ours, tuple) else (ours,)), (theirs if isinstance(theirs, tuple) else (theirs,))
    for a, b in zip(ours, theirs):
        assert isinstance(b, torch.nn.Module)
        assert _parameter_shapes(a) == _parameter_shapes(b)


def test_layer_cases_scale_the_batch_and_name_it():
    cases = layers.layer_cases((64, 256))
    convs = [c for c in cases if isinstance(c, layers.ConvShape)]
    assert len(convs) == 2 * len(layers.DCGAN_CONV_SHAPES)
    assert {c.batch for c in convs} == {16, 64, 256}
    assert convs[0].label.endswith("b64") and convs[6].label.endswith("b256")


@pytest.mark.parametrize("case", [layers.DCGAN_CONV_SHAPES[3].with_batch(2), layers.OTHER_OPS[0],
                                  layers.BatchNormShape("bn", (2, 3, 4, 4))], ids=lambda c: c.label)
def test_layer_cases_fill_every_gradient(case):
    engine = Engine("minigan", "cpu")
    run = case.build(engine, backward=True)
    run()   # must not raise; then a second call (grads reset) gives identical gradients
    leaves = run.leaves
    first = [leaf.grad.data.copy() for leaf in leaves]
    run()
    for a, leaf in zip(first, leaves):
        assert np.isfinite(a).all() and np.array_equal(a, leaf.grad.data)


def test_peak_memory_is_the_child_process_own():
    small = memory.measure_here("mlp-gan", "minigan", steps=1, batch=2)
    parent_ballast = np.ones(300 * 2 ** 20 // 8)   # a large parent must not hide the child's growth
    large = memory.peak_training_memory("dcgan-28", "minigan", steps=1, batch=256)
    del parent_ballast
    assert small >= 0 and large > 150    # dcgan-28 at batch 256 peaks ~300 MB above its start


def test_format_section_totals_and_ratios():
    rows = [{"case": "a", "ms": {"minigan cpu": 2.0, "torch cpu": 1.0}, "ratio": {"minigan cpu": 2.0}, "gflops": 50.0},
            {"case": "b", "ms": {"minigan cpu": 1.0, "torch cpu": 2.0}, "ratio": {"minigan cpu": 0.5}, "gflops": None}]
    text = report.format_section("t", rows, ["minigan cpu", "torch cpu"], gemm_gflops=100.0)
    assert "| a | 2.00 | 1.00 | 2.00 | 50 | 50% |" in text
    assert "**3.0** | **3.0** | **1.00**" in text


def test_steps_report_their_gemm_work_and_the_gemm_only_time():
    rows = [{"case": "s", "ms": {"minigan cpu": 90.0, "torch cpu": 45.0}, "ratio": {"minigan cpu": 2.0},
             "gflops": None, "gemm_gflop": 10.0}]
    text = report.format_section("t", rows, ["minigan cpu", "torch cpu"], gemm_gflops=200.0)
    assert "minigan cpu GEMM GFLOP | GEMM-only ms" in text
    assert "| s | 90.00 | 45.00 | 2.00 | 10.00 | 50.0 |" in text


def test_gemm_work_of_a_step_counts_its_matrix_products(cpu_default):   # CPU BLAS work
    from minigan.bench import gemm_work
    nn = mg.nn
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    x = mg.randn(4, 8)

    def step():
        net(x).sum().backward()
    # multiply-adds: forward 4x8x16 and 4x16x1; backward the weight gradients 1x4x16 and 16x4x8 and
    # the first bias gradient as ones(4) @ gy (4x16). Not GEMMs: the second layer's x-gradient (an
    # outer product, inner dim 1), its bias gradient (gy is a broadcast view), x's (not wanted).
    expected = 2 * (4 * 8 * 16 + 4 * 16 * 1 + 1 * 4 * 16 + 16 * 4 * 8 + 4 * 16) / 1e9
    assert gemm_work(Engine("minigan", "cpu"), step) == pytest.approx(expected)
    assert gemm_work(Engine("torch", "cpu"), step) is None


def test_gemm_work_is_only_measured_on_the_cpu():
    def step():
        raise AssertionError("a cuda workload must not be run to count its GEMMs")
    from minigan.bench import gemm_work
    assert gemm_work(Engine("minigan", "cuda", "im2col"), step) is None


def test_machine_label_names_the_gpu_on_cuda_and_the_processor_on_cpu():
    machine = {"processor": "Some CPU", "gpu": "Some GPU"}
    assert report.machine_label({"machine": machine, "device": "cuda"}) == "Some GPU"
    assert report.machine_label({"machine": machine, "device": "cpu"}) == "Some CPU"


@pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device")
def test_cuda_gemm_rate_is_measured_on_the_gpu():
    from minigan.bench.timing import gemm_gflops
    rate = gemm_gflops(512, repeats=2, device="cuda")
    assert np.isfinite(rate) and rate > 0
