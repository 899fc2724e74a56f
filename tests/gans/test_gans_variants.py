"""Every registered variant trains a few steps with finite losses, checkpoints, and resumes to
exactly the losses of an uninterrupted run (CPU, float32)."""
import json

import numpy as np
import pytest

from minigan import gans
from minigan.train import Run, RunConfig

VARIANTS = gans.names()


def small_config(variant, dataset, steps):
    return RunConfig(variant=variant, dataset=dataset, steps=steps, batch_size=8, seed=3,
                     sample_every=1000, checkpoint_every=2, log_every=1)


def losses(out):
    with open(out / "metrics.jsonl") as f:
        return [json.loads(line) for line in f]


def test_every_issue_variant_is_registered():
    wanted = {"gan", "dcgan", "lsgan", "wgan", "wgan-gp", "dragan", "began", "ebgan", "sngan", "vae"}
    assert wanted <= set(VARIANTS), f"missing variants: {sorted(wanted - set(VARIANTS))}"


@pytest.mark.parametrize("dataset", ["ring8", "mnist"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_trains_checkpoints_and_resumes_identically(variant, dataset, tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    Run(str(whole), small_config(variant, dataset, 4)).train(progress=False)
    Run(str(split), small_config(variant, dataset, 2)).train(progress=False)
    Run(str(split), small_config(variant, dataset, 4), resume=True).train(progress=False)
    expected, resumed = losses(whole), losses(split)
    assert [r["step"] for r in resumed] == [1, 2, 3, 4]
    assert expected == resumed  # bit-identical: same floats, same keys
    assert all(np.isfinite(v) for r in expected for k, v in r.items())
    assert (whole / "checkpoint.npz").exists() and (whole / "losses.png").exists()
    assert list((whole / "samples").glob("step_*.png"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_toy_noise_is_two_dimensional_and_images_keep_their_own(variant):
    points, digits = gans.DataSpec("ring8", (2,)), gans.DataSpec("mnist", (1, 28, 28), 10)
    toy = gans.create(variant, points)
    assert toy.config["z_dim"] == 2 and toy.sample_noise(5).shape == (5, 2)
    assert gans.create(variant, points, z_dim=7).sample_noise(3).shape == (3, 7)   # an override wins
    assert gans.create(variant, digits).config["z_dim"] == gans.get(variant).all_defaults()["z_dim"] > 2
