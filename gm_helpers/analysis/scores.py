r"""Scores and Langevin dynamics: sampling from a density known only through grad log p.

Paper cards:
    Y. Song, S. Ermon, "Generative modeling by estimating gradients of the data distribution"
        (NCSN), NeurIPS 2019, arXiv:1907.05600. Idea: learn the score s(x) = grad_x log p(x) of
        the data blurred at several noise levels sigma_1 > ... > sigma_L, and sample by Langevin
        dynamics from the largest level down (annealed Langevin).
    P. Vincent, "A connection between score matching and denoising autoencoders", Neural
        Computation 2011. Idea: the score of the blurred data is learned by denoising:

    x_tilde = x + sigma eps,   grad log q_sigma(x_tilde | x) = -(x_tilde - x) / sigma^2 = -eps / sigma
    L_DSM(sigma) = E || s(x_tilde, sigma) + eps / sigma ||^2          (minimised by the blurred score)
    Langevin:    x <- x + (step / 2) s(x) + sqrt(step) z,   z ~ N(0, I)

so a network that predicts the noise eps predicts the score: s = -eps_hat / sigma (DDPM's loss).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from gm_helpers.checks import check_float, check_size
from gm_helpers.models.vae import mlp


def mixture_score(x: torch.Tensor, means: torch.Tensor, std: float, sigma: float = 0.0) -> torch.Tensor:
    """grad_x log p(x) of an equal-weight Gaussian mixture with isotropic ``std``, blurred by
    N(0, sigma^2 I) (the blurred mixture has std sqrt(std^2 + sigma^2)), (N, 2)."""
    var = std ** 2 + sigma ** 2
    sq = torch.cdist(x, means.to(x.dtype)) ** 2                       # (N, K)
    r = torch.softmax(-sq / (2 * var), dim=1)                          # responsibilities
    # grad log sum_k N(x; m_k, var) = sum_k r_k (m_k - x) / var
    return (r @ means.to(x.dtype) - x) / var


@torch.no_grad()
def langevin(score, x: torch.Tensor, step: float, num_steps: int, generator=None) -> torch.Tensor:
    """``num_steps`` of unadjusted Langevin dynamics from x with ``score(x)`` (N, D)."""
    step = check_float("step", step, minimum=0, open_low=True)
    for _ in range(check_size("num_steps", num_steps)):
        z = torch.randn(x.shape, generator=generator, dtype=x.dtype)
        # x <- x + step/2 grad log p(x) + sqrt(step) z
        x = x + step / 2 * score(x) + math.sqrt(step) * z
    return x


@torch.no_grad()
def annealed_langevin(score, x: torch.Tensor, sigmas, eps: float, steps_per_level: int,
                      generator=None) -> torch.Tensor:
    """Song and Ermon's Algorithm 1: Langevin at each noise level sigma_i, largest first, with
    step eps * sigma_i^2 / sigma_L^2; ``score(x, sigma)`` is the score of the data blurred by sigma."""
    sigma_last = float(sigmas[-1])
    for sigma in sigmas:
        step = eps * (float(sigma) / sigma_last) ** 2
        x = langevin(lambda y: score(y, float(sigma)), x, step, steps_per_level, generator)
    return x


def geometric_sigmas(sigma_max: float, sigma_min: float, num: int) -> torch.Tensor:
    """NCSN's noise levels: ``num`` values from sigma_max down to sigma_min, equal ratios."""
    return torch.logspace(math.log10(sigma_max), math.log10(sigma_min), check_size("num", num))


class NoiseConditionalScore(nn.Module):
    """An MLP s(x, sigma) for 2-d data: input (x, log sigma), output eps_hat; the score is
    -eps_hat / sigma (the parametrisation that keeps the output's scale the same at every
    level). ``score(x, sigma)`` (N, 2); ``dsm_loss(x, sigmas)`` the denoising loss, (N,)."""

    def __init__(self, hidden=(128, 128, 128)):
        super().__init__()
        self.net = mlp([3, *hidden, 2], "relu")

    def eps_hat(self, x, sigma):
        log_sigma = torch.as_tensor(sigma, dtype=x.dtype).log().expand(len(x), 1)
        return self.net(torch.cat([x, log_sigma], 1))

    def score(self, x, sigma: float):
        return -self.eps_hat(x, sigma) / sigma

    def dsm_loss(self, x, sigmas: torch.Tensor) -> torch.Tensor:
        """|| eps_hat(x + sigma eps, sigma) - eps ||^2 with sigma drawn from ``sigmas`` per point:
        sigma^2 L_DSM, the weighting that makes every level count alike."""
        sigma = sigmas[torch.randint(len(sigmas), (len(x),))].to(x.dtype)[:, None]  # (N, 1)
        eps = torch.randn_like(x)
        inp = torch.cat([x + sigma * eps, sigma.log()], 1)
        return (self.net(inp) - eps).pow(2).sum(1)
