"""DRAGAN on 2-D toys. Its critic update on the toy critic (3 x 512 LeakyReLU MLP) against PyTorch: the
gradient every weight receives from BCE + lambda * penalty, i.e. through the double backward."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.data import ring8
from minigan.gans import create
from minigan.gans.base import DataSpec

torch = pytest.importorskip("torch")


def torch_copy(D):
    """The same MLP in PyTorch, with D's weights."""
    layers = []
    for module in D:
        if isinstance(module, nn.Linear):
            linear = torch.nn.Linear(module.in_features, module.out_features, dtype=torch.float64)
            linear.weight.data = torch.tensor(module.weight.numpy())
            linear.bias.data = torch.tensor(module.bias.numpy())
            layers.append(linear)
        else:
            layers.append(torch.nn.LeakyReLU(module.negative_slope))
    return torch.nn.Sequential(*layers)


def test_toy_dragan_critic_gradients_match_torch(float64):
    mg.manual_seed(0)
    variant = create("dragan", DataSpec("ring8", (2,)))
    D = variant.nets["D"]
    reference = torch_copy(D)
    real = mg.tensor(ring8().sample(32, seed=1)[0].astype(np.float64))
    z = variant.sample_noise(32)
    fake = variant.generate(z).numpy()
    perturbed = []
    perturb = variant.perturb
    variant.perturb = lambda x: perturbed.append(perturb(x)) or perturbed[-1]
    variant.sample_noise = lambda n: z
    variant.update = lambda optimizer, loss: (optimizer.zero_grad(), loss.backward())  # gradients, no step
    logs = variant.discriminator_step(real)

    points = torch.tensor(perturbed[0].numpy(), requires_grad=True)
    (gradient,) = torch.autograd.grad(reference(points).sum(), points, create_graph=True)
    penalty = ((gradient.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    real_scores, fake_scores = reference(torch.tensor(real.numpy())), reference(torch.tensor(fake))
    loss = bce(real_scores, torch.ones_like(real_scores)) + bce(fake_scores, torch.zeros_like(fake_scores)) \
        + variant.config["penalty_weight"] * penalty
    loss.backward()

    assert logs["loss_D"] == pytest.approx(loss.item(), rel=1e-10)
    assert logs["gradient_penalty"] == pytest.approx(penalty.item(), rel=1e-10)
    ours = [p for p in D.parameters()]
    theirs = [p for p in reference.parameters()]
    assert len(ours) == len(theirs) == 8
    for mine, other in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), other.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_dragan_uses_lambda_1_on_toys_and_the_papers_10_on_images():
    assert create("dragan", DataSpec("ring8", (2,))).config["penalty_weight"] == 1.0
    assert create("dragan", DataSpec("mnist", (1, 28, 28))).config["penalty_weight"] == 10.0
