"""The shared loop: run directory contents, NaN guard, Ctrl-C, resume bookkeeping, errors."""
import json
import os

import numpy as np
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


def test_zero_periods_sample_and_checkpoint_at_the_end_only(tmp_path):
    Run(str(tmp_path), RunConfig(variant="gan", dataset="ring8", steps=3, batch_size=8, sample_every=0,
                                 checkpoint_every=0)).train(progress=False)
    assert os.listdir(tmp_path / "samples") == ["step_000003.png"]
    assert int(mg.load(str(tmp_path / "checkpoint.npz"))["step"]) == 3


@pytest.mark.parametrize("name, value", [("steps", 0), ("sample_every", -1), ("checkpoint_every", 2.5),
                                         ("log_every", 0), ("batch_size", -4)])
def test_bad_run_numbers_are_named_before_training(tmp_path, name, value):
    with pytest.raises(ValueError, match=f"RunConfig: {name} must be an integer >= ., got {value}"):
        RunConfig(variant="gan", dataset="ring8", **{name: value})


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
    with pytest.raises(FileNotFoundError, match="no run in"):
        train.load_run(str(tmp_path / "typo"))
    assert sorted(os.listdir(tmp_path)) == []          # a mistyped path leaves no folders behind


def test_a_file_given_as_the_run_directory_is_named(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(NotADirectoryError, match="notes.txt is a file, not a run directory"):
        train.load_run(str(tmp_path / "notes.txt"))
    with pytest.raises(NotADirectoryError, match="notes.txt is a file"):
        Run(str(tmp_path / "notes.txt"), config())


def test_loading_a_run_for_sampling_writes_nothing(tmp_path):
    """A run may still be training when someone samples or evaluates it: its log, config and
    folders must stay as the trainer left them, even past the checkpoint's step."""
    Run(str(tmp_path), config(steps=3)).train(progress=False)
    log = tmp_path / "metrics.jsonl"
    log.write_text(log.read_text() + json.dumps({"step": 4, "loss_D": 1.0, "loss_G": 1.0}) + "\n")
    before = {p.name: (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    run = train.load_run(str(tmp_path))
    assert run.step == 3
    after = {p.name: (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    assert after == before
    with pytest.raises(RuntimeError, match="loaded read-only"):
        run.train(progress=False)


def test_unknown_variant_and_option_are_named(tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'bogus'"):
        Run(str(tmp_path / "a"), RunConfig(variant="bogus", dataset="ring8"))
    with pytest.raises(ValueError, match=r"gan: unknown option\(s\) \['learning_rate'\]"):
        Run(str(tmp_path / "b"), RunConfig(variant="gan", dataset="ring8", options={"learning_rate": 1.0}))


@pytest.mark.parametrize("option, value, message", [
    ("lr", "abc", "option lr expects a number, got 'abc'"),
    ("betas", 0.5, r"option betas expects 2 numbers \(e.g. 0.5,0.999\), got 0.5"),
    ("n_critic", 2.5, "option n_critic expects an integer, got 2.5"),
    ("lr_schedule", 3, "option lr_schedule expects a string, got 3")])
def test_an_option_of_the_wrong_kind_is_named(tmp_path, option, value, message):
    with pytest.raises(ValueError, match="gan: " + message):
        Run(str(tmp_path), RunConfig(variant="gan", dataset="ring8", options={option: value}))


def test_options_are_normalised_to_their_defaults_kind(tmp_path):
    run = Run(str(tmp_path), RunConfig(variant="wgan-gp", dataset="ring8", options={"n_critic": 2.0, "betas": [0.0, 0.9]}))
    assert run.variant.config["n_critic"] == 2 and isinstance(run.variant.config["n_critic"], int)
    assert run.variant.config["betas"] == (0.0, 0.9)


def test_a_toy_run_with_other_noise_names_z_dim_when_it_cannot_load(tmp_path):
    Run(str(tmp_path), RunConfig(variant="gan", dataset="ring8", steps=1, batch_size=8,
                                 options={"z_dim": 100})).train(progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    saved["options"] = {}                              # as a run made when toys drew 100-dim noise
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(RuntimeError, match='add "z_dim": 100 to "options"'):
        train.load_run(str(tmp_path))


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


def weights(module):
    return {name: tensor.numpy().copy() for name, tensor in module.state_dict().items()}


def test_generator_average_is_the_decayed_sum_of_gs_weights_and_leaves_g_alone(tmp_path):
    run = Run(str(tmp_path), config(options={"ema": 0.5}))
    G = run.variant.nets["G"]
    history = [weights(G)]
    for _ in range(3):
        run.train_step()
        history.append(weights(G))
    # decay 0.5 from the initial weights: 1/8 w0 + 1/8 w1 + 1/4 w2 + 1/2 w3
    expected = {name: sum(c * w[name] for c, w in zip((0.125, 0.125, 0.25, 0.5), history)) for name in history[0]}
    z = run.variant.sample_noise(16)
    averaged = run.variant.generate(z).numpy()
    assert all((weights(G)[name] == history[-1][name]).all() for name in expected)  # G is given back
    trained = run.variant.generate(z, averaged=False).numpy()
    G.load_state_dict(expected)
    np.testing.assert_allclose(averaged, run.variant.generate(z, averaged=False).numpy(), rtol=1e-5, atol=1e-6)
    assert np.abs(averaged - trained).max() > 1e-3


def test_generator_average_changes_no_training_number(tmp_path):
    plain = Run(str(tmp_path / "plain"), config(steps=4)).train(progress=False)
    averaged = Run(str(tmp_path / "averaged"), config(steps=4, options={"ema": 0.9})).train(progress=False)
    assert (tmp_path / "plain" / "metrics.jsonl").read_text() == (tmp_path / "averaged" / "metrics.jsonl").read_text()
    G_plain, G_averaged = weights(plain.variant.nets["G"]), weights(averaged.variant.nets["G"])
    assert all((G_plain[name] == G_averaged[name]).all() for name in G_plain)


def test_resume_restores_the_generator_average_bit_identically(tmp_path):
    whole = Run(str(tmp_path / "whole"), config(steps=4, options={"ema": 0.9})).train(progress=False)
    Run(str(tmp_path / "split"), config(steps=2, options={"ema": 0.9})).train(progress=False)
    split = Run(str(tmp_path / "split"), config(steps=4), resume=True).train(progress=False)
    a, b = whole.variant.generator_average, split.variant.generator_average
    assert a.num_updates == b.num_updates == 4
    assert all((a.shadow[name] == b.shadow[name]).all() for name in a.shadow)
    reloaded = train.load_run(str(tmp_path / "split"))
    z = whole.fixed_z
    assert (whole.variant.generate(z).numpy() == reloaded.variant.generate(z).numpy()).all()
    assert not (whole.variant.generate(z).numpy() == whole.variant.generate(z, averaged=False).numpy()).all()


def test_a_checkpoint_without_the_average_is_named_when_the_config_asks_for_one(tmp_path):
    Run(str(tmp_path), config(steps=2)).train(progress=False)
    saved = json.loads((tmp_path / "config.json").read_text())
    saved["options"] = {"ema": 0.9}
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=r"gan: the config asks for a G weight average \(ema=0.9\)"):
        Run(str(tmp_path), resume=True)


@pytest.mark.parametrize("decay", [-0.1, 1.0])
def test_an_ema_decay_outside_zero_one_is_named(tmp_path, decay):
    with pytest.raises(ValueError, match=rf"gan: ema \(G's weight-average decay\) must be in \[0, 1\).*{decay}"):
        Run(str(tmp_path), config(options={"ema": decay}))


def test_linear_schedule_takes_every_lr_to_zero_and_resumes_identically(tmp_path):
    run = Run(str(tmp_path / "manual"), config(steps=4, options={"lr_schedule": "linear", "lr": 1e-3}))
    seen = []
    for _ in range(4):
        run.train_step()
        seen.append([group["lr"] for opt in run.variant.optimizers.values() for group in opt.param_groups])
        run.step += 1
    np.testing.assert_allclose(seen, [[1e-3] * 2, [7.5e-4] * 2, [5e-4] * 2, [2.5e-4] * 2], rtol=1e-12)
    options = {"lr_schedule": "linear", "ema": 0.9}
    Run(str(tmp_path / "whole"), config(steps=4, options=options)).train(progress=False)
    interrupted = Run(str(tmp_path / "split"), config(steps=4, options=options))
    real_step = interrupted.train_step

    def stop_at_two():
        if interrupted.step == 2:
            raise KeyboardInterrupt
        return real_step()

    interrupted.train_step = stop_at_two
    with pytest.raises(KeyboardInterrupt):
        interrupted.train(progress=False)
    Run(str(tmp_path / "split"), config(steps=4), resume=True).train(progress=False)
    assert (tmp_path / "whole" / "metrics.jsonl").read_text() == (tmp_path / "split" / "metrics.jsonl").read_text()


def test_an_unknown_lr_schedule_is_named(tmp_path):
    with pytest.raises(ValueError, match="lr_schedule: expected 'constant' or 'linear', got 'cosine'"):
        Run(str(tmp_path), config(options={"lr_schedule": "cosine"}))
