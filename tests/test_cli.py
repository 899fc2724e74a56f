"""The command line, run in-process: exit codes and what it prints."""
import json

import numpy as np

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


def test_bench_quick_writes_json(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--compare", "none", "--json", str(path)]) == 0
    record = json.loads(path.read_text())
    assert len(record["conv"]) == 2 and record["gemm_gflops"] > 0
    assert all(np.isfinite(row["forward_backward_ms"]) for row in record["conv"])
    assert "fwd ratio" in capsys.readouterr().out
