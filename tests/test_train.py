"""The shared loop: run directory contents, NaN guard, Ctrl-C, resume bookkeeping, errors."""
import json
import os

import pytest

import minigan as mg
from minigan import train
from minigan.train import Run, RunConfig, TrainingDiverged


def config(steps=3, **kw):
    return RunConfig(variant="gan", dataset="ring8", steps=steps, batch_size=8, sample_every=2,
                     checkpoint_every=2, log_every=1, **kw)


def test_run_directory_holds_config_log_checkpoint_and_samples(tmp_path):
    Run(str(tmp_path), config()).train(progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["variant"] == "gan" and saved["steps"] == 3
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [1, 2, 3]
    assert {"loss_D", "loss_G"} <= set(json.loads(lines[0]))
    assert sorted(os.listdir(tmp_path / "samples")) == ["step_000002.png", "step_000003.png"]
    state = mg.load(str(tmp_path / "checkpoint.npz"))
    assert int(state["step"]) == 3


def test_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    run = Run(str(tmp_path), config(steps=6))
    real_step = run.variant.generator_step

    def poisoned(batch_size, labels=None):
        logs = real_step(batch_size, labels)
        return {**logs, "loss_G": float("nan")} if run.step >= 3 else logs

    monkeypatch.setattr(run.variant, "generator_step", poisoned)
    with pytest.raises(TrainingDiverged, match=r"step 4: loss_G = nan; training stopped"):
        run.train(progress=False)
    assert int(mg.load(str(tmp_path / "checkpoint.npz"))["step"]) == 2


def test_ctrl_c_saves_a_checkpoint_to_resume_from(tmp_path, monkeypatch):
    run = Run(str(tmp_path), config(steps=10))
    real_step = run.train_step

    def interrupted():
        if run.step == 3:
            raise KeyboardInterrupt
        return real_step()

    monkeypatch.setattr(run, "train_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run.train(progress=False)
    assert int(mg.load(str(tmp_path / "checkpoint.npz"))["step"]) == 3
    resumed = Run(str(tmp_path), config(steps=5), resume=True)
    assert resumed.step == 3
    resumed.train(progress=False)
    steps = [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5]


def test_resume_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run in .*config.json is missing"):
        Run(str(tmp_path / "nothing"), resume=True)


def test_unknown_variant_and_option_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'bogus'"):
        Run(str(tmp_path / "a"), RunConfig(variant="bogus", dataset="ring8"))
    with pytest.raises(ValueError, match=r"gan: unknown option\(s\) \['learning_rate'\]"):
        Run(str(tmp_path / "b"), RunConfig(variant="gan", dataset="ring8", options={"learning_rate": 1.0}))


def test_train_function_defaults_the_run_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train.train("gan", dataset="ring8", steps=1, batch_size=4, progress=False)
    assert (tmp_path / "runs" / "gan-ring8" / "checkpoint.npz").exists()


def test_stacked_mnist_trains_on_three_channel_images(tmp_path):
    run = Run(str(tmp_path), RunConfig(variant="dcgan", dataset="stacked-mnist", steps=1, batch_size=4,
                                       log_every=1))
    assert run.spec.shape == (3, 28, 28) and run.spec.num_classes == 1000
    run.train(progress=False)
    assert run.variant.generate(run.variant.sample_noise(2)).shape == (2, 3, 28, 28)
