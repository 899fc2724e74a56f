"""The command line, run in-process: exit codes and what it prints."""
import json

import numpy as np
import pytest

from minigan import cli
from minigan.gradcheck import registry
from minigan.autograd import Function


def test_gradcheck_one_op_prints_a_table(capsys):
    assert cli.main(["gradcheck", "--op", "tanh", "--second-order"]) == 0
    out = capsys.readouterr().out
    assert "tanh" in out and "1 passed, 0 failed" in out


def test_gradcheck_exits_nonzero_when_a_check_fails(capsys, monkeypatch):
    class Wrong(Function):
        def forward(self, x):
            return x * 2

        def backward(self, gy):
            return gy * 3.0

    bad = registry.OpCheck("wrong_double", "planted", lambda x: Wrong()(x), (registry.Arg((3,)),))
    monkeypatch.setattr(registry, "_REGISTRY", registry._REGISTRY + [bad])
    assert cli.main(["gradcheck", "--op", "wrong_double"]) == 1
    assert "0 passed, 1 failed" in capsys.readouterr().out


def test_unknown_op_is_a_clear_error(capsys):
    assert cli.main(["gradcheck", "--op", "no_such_op"]) == 2
    assert "no gradient check registered for op 'no_such_op'" in capsys.readouterr().err


def test_list_names_devices_and_ops(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "cpu" in out and "conv2d" in out
    assert "  wgan-gp  WGAN-GP (Gulrajani et al. 2017)" in out     # each variant with its paper's line
    assert all(len(line) <= 111 for line in out.splitlines() if line.startswith("  "))


def test_bench_quick_writes_json_and_png(tmp_path, capsys):
    path, png = tmp_path / "bench.json", tmp_path / "bench.png"
    assert cli.main(["bench", "--quick", "--sections", "ops,steps", "--json", str(path), "--png", str(png)]) == 0
    record = json.loads(path.read_text())
    ops, steps = record["sections"]["ops"], record["sections"]["steps"]
    assert len(ops) == 2 and record["machine"]["gemm_gflops"] > 0
    assert all(np.isfinite(row["ms"]["minigan cpu"]) and row["ms"]["minigan cpu"] > 0 for row in ops + steps)
    assert steps[0]["case"].startswith("mlp-gan")
    assert png.stat().st_size > 0
    assert "minigan cpu ms" in capsys.readouterr().out


def test_bench_rejects_an_unknown_section(capsys):
    assert cli.main(["bench", "--quick", "--sections", "ops,speed"]) != 0
    assert "speed" in capsys.readouterr().err


def test_train_sample_eval_end_to_end(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "3", "--batch-size", "16",
                     "--out", str(out), "-q", "--set", "lr=1e-4", "--set", "betas=0.5,0.9"]) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["options"] == {"lr": 0.0001, "betas": [0.5, 0.9]}
    npy, png = tmp_path / "s.npy", tmp_path / "s.png"
    assert cli.main(["sample", str(out), "-n", "50", "--npy", str(npy), "--png", str(png)]) == 0
    points = np.load(npy)
    assert points.shape == (50, 2) and points.dtype == np.float32 and png.stat().st_size > 0
    report = tmp_path / "eval.json"
    assert cli.main(["eval", str(out), "--json", str(report)]) == 0
    results = json.loads(report.read_text())
    assert results["num_modes"] == 8 and 0 <= results["modes_covered"] <= 8
    assert len(results["counts"]) == 8 and min(results["counts"]) == results["fewest_in_a_mode"]
    printed = capsys.readouterr().out
    assert "high_quality_fraction" in printed and "fewest_in_a_mode" in printed and "counts" not in printed
    assert cli.main(["train", "gan", "--dataset", "ring8", "--steps", "4", "--out", str(out), "--resume", "-q"]) == 0
    assert json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"] == 4


def test_sample_writes_images_in_zero_one(tmp_path):
    out = tmp_path / "run"
    assert cli.main(["train", "dcgan", "--steps", "1", "--batch-size", "4", "--out", str(out), "-q"]) == 0
    npy = tmp_path / "s.npy"
    assert cli.main(["sample", str(out), "-n", "5", "--npy", str(npy)]) == 0
    images = np.load(npy)
    assert images.shape == (5, 1, 28, 28) and images.min() >= 0.0 and images.max() <= 1.0


@pytest.mark.parametrize("command", ["sample", "eval"])
def test_a_sample_count_below_one_is_named(tmp_path, capsys, command):
    with pytest.raises(SystemExit):
        cli.main([command, str(tmp_path), "-n", "-3"])
    assert "argument -n: expected a positive integer, got '-3'" in capsys.readouterr().err


def test_bad_bench_batch_and_unknown_gradcheck_op_are_named(capsys):
    with pytest.raises(SystemExit):
        cli.main(["bench", "--batch", "64,x"])
    assert "argument --batch: expected a positive integer, got 'x'" in capsys.readouterr().err
    assert cli.main(["gradcheck", "--op", "bogus"]) == 2
    assert capsys.readouterr().err.startswith("minigan gradcheck: no gradient check registered for op 'bogus'")


def test_eval_of_missing_run_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["eval", str(tmp_path / "none")]) == 2
    assert "config.json is missing" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("command", ["eval", "sample"])
def test_a_file_given_as_the_run_is_a_clear_error(tmp_path, capsys, command):
    (tmp_path / "metrics.jsonl").write_text("")
    assert cli.main([command, str(tmp_path / "metrics.jsonl")]) == 2
    assert "metrics.jsonl is a file, not a run directory" in capsys.readouterr().err
