"""Scores and Langevin: the mixture's score against autograd of its log-density; Langevin with
the exact score samples a Gaussian; denoising score matching's optimum is the blurred score."""
import math

import pytest
import torch

from gm_helpers.analysis.mixtures import grid_means, mixture_log_prob, ring_means
from gm_helpers.analysis.scores import (
    NoiseConditionalScore,
    annealed_langevin,
    geometric_sigmas,
    langevin,
    mixture_score,
)


def test_mixture_score_is_the_gradient_of_the_log_density():
    x = torch.randn(50, 2, dtype=torch.float64, requires_grad=True)
    mixture_log_prob(x, "ring").sum().backward()
    score = mixture_score(x.detach(), ring_means().double(), 0.01)
    assert torch.allclose(score, x.grad, rtol=1e-6, atol=1e-6)


def test_blurred_score_is_the_wider_mixture():
    x = torch.randn(10, 2)
    means = grid_means()
    assert torch.allclose(mixture_score(x, means, 0.05, sigma=0.3),
                          mixture_score(x, means, math.sqrt(0.05 ** 2 + 0.3 ** 2)))


def test_langevin_samples_a_gaussian():
    """With the score of N(1, 0.5^2) and a small step, the chain's stationary law is close to it."""
    score = lambda x: -(x - 1.0) / 0.25                      # noqa: E731
    x = langevin(score, torch.zeros(20_000, 1), step=0.01, num_steps=500,
                 generator=torch.Generator().manual_seed(0))
    assert x.mean().item() == pytest.approx(1.0, abs=0.02)
    assert x.std().item() == pytest.approx(0.5, rel=0.05)


def test_annealed_langevin_with_exact_scores_reaches_every_grid_mode():
    means, std = grid_means(), 0.05
    sigmas = geometric_sigmas(5.0, 0.05, 10)
    x = annealed_langevin(lambda y, s: mixture_score(y, means, std, s), 8 * torch.rand(5000, 2) - 4,
                          sigmas, eps=2e-5, steps_per_level=100, generator=torch.Generator().manual_seed(0))
    nearest = torch.cdist(x, means).argmin(1)
    shares = torch.bincount(nearest, minlength=25).float() / len(x)
    assert (shares > 0.02).all()


def test_dsm_optimum_is_the_blurred_score():
    """Train the noise-conditional MLP on one Gaussian: its score matches the blurred density's,
    -(x - m) / (s^2 + sigma^2), where the blurred data lie."""
    torch.manual_seed(0)
    net = NoiseConditionalScore((64, 64))
    data = 0.5 * torch.randn(8192, 2) + 1.0
    sigmas = torch.tensor([0.2, 1.0])
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 3000)
    for _ in range(3000):
        loss = net.dsm_loss(data[torch.randint(8192, (1024,))], sigmas).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
    for sigma in (0.2, 1.0):
        x = data[:2000] + sigma * torch.randn(2000, 2)
        with torch.no_grad():
            err = (net.score(x, sigma) + (x - 1.0) / (0.25 + sigma ** 2)).norm(dim=1).mean()
            scale = ((x - 1.0) / (0.25 + sigma ** 2)).norm(dim=1).mean()
        assert err < 0.1 * scale


def test_errors():
    with pytest.raises(ValueError, match="step"):
        langevin(lambda x: x, torch.zeros(2, 1), step=0.0, num_steps=1)
    with pytest.raises(ValueError, match="num_steps"):
        langevin(lambda x: x, torch.zeros(2, 1), step=0.1, num_steps=0)
