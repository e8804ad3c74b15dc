r"""Two ways to differentiate an expectation: why the VAE reparameterises.

We want the gradient of  J(mu, logvar) = E_{z ~ N(mu, e^logvar)}[f(z)]  with respect to the
parameters of the distribution we sample from. Both estimators below are unbiased; their
variances differ by orders of magnitude, which is the whole argument for the VAE's trick.

Score function (REINFORCE; Williams 1992): differentiate the density, not f.
    \nabla J = E_q[f(z) \nabla \log q(z)],   \partial_\mu \log q = (z - \mu) / \sigma^2,
    \partial_{\log\sigma^2} \log q = ((z - \mu)^2 / \sigma^2 - 1) / 2
Reparameterisation (Kingma & Welling 2014): write z = mu + sigma * eps, eps ~ N(0, 1).
    \nabla J = E_\epsilon[\nabla f(\mu + \sigma \epsilon)]     (autograd through f)

Shapes: ``mu`` and ``logvar`` are (L,) tensors; ``f`` maps (S, L) samples to (S,) values. Each
estimator returns the per-sample gradient terms, (S, 2, L): [d/dmu, d/dlogvar]; their mean is
the estimate, their variance over S the estimator's variance for one sample.
"""
from __future__ import annotations

import torch

from gm_helpers.checks import check_no_nan


def score_function_terms(f, mu, logvar, num_samples: int, generator=None) -> torch.Tensor:
    """f(z) * grad log q(z) for z ~ N(mu, e^logvar): (S, 2, L). f is never differentiated."""
    sigma2 = logvar.exp()
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + sigma2.sqrt() * eps  # (S, L)
    with torch.no_grad():
        fz = f(z)[:, None]  # (S, 1)
    d_mu = (z - mu) / sigma2  # d log q / d mu
    d_logvar = 0.5 * ((z - mu) ** 2 / sigma2 - 1)  # d log q / d logvar
    return torch.stack([fz * d_mu, fz * d_logvar], dim=1)  # (S, 2, L)


def reparameterised_terms(f, mu, logvar, num_samples: int, generator=None) -> torch.Tensor:
    """grad of f(mu + sigma * eps) for eps ~ N(0, 1), one gradient per sample: (S, 2, L)."""
    mu = mu.detach().requires_grad_(True)
    logvar = logvar.detach().requires_grad_(True)
    eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype)
    z = mu + (0.5 * logvar).exp() * eps  # (S, L): a deterministic function of (mu, logvar, eps)
    values = f(z)  # (S,)
    # per-sample gradients: f(z_s) depends on mu, logvar only through z_s, so the chain rule
    # gives d f_s / d mu = f'(z_s) and d f_s / d logvar = f'(z_s) * sigma * eps_s / 2
    (df_dz,) = torch.autograd.grad(values.sum(), z)  # (S, L)
    sigma = (0.5 * logvar).exp()
    return torch.stack([df_dz, df_dz * sigma * eps / 2], dim=1).detach()  # (S, 2, L)


def estimate(terms: torch.Tensor) -> torch.Tensor:
    """The gradient estimate, (2, L): the mean of the per-sample terms."""
    return check_no_nan("terms", terms).mean(0)


def variance_per_sample(terms: torch.Tensor) -> torch.Tensor:
    """Variance of a one-sample estimate, (2, L); an S-sample average has 1/S of it."""
    return check_no_nan("terms", terms).var(0)
