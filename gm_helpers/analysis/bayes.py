r"""Bayes' rule in both directions, between generative and discriminative models.

Generative to discriminative (a classifier from class-conditional models):

    p(y | x) = p(x | y) p(y) / sum_y' p(x | y') p(y')

Discriminative plus generative to conditional generative (samples of p(x | y)):

    p(x | y) = p(y | x) p(x) / p(y)  ∝  p(y | x) p(x).

We cannot evaluate p(x | y) for every image, but we can *sample* it: draw x_1..x_N from a
generative model p(x), weight each by w_i = p(y | x_i) (the ratio p(x | y) / p(x) up to the
constant 1/p(y)), normalise the weights, and resample (self-normalised importance resampling,
Rubin 1987). The draws follow p(x | y) exactly as N -> infinity; with finite N the effective
sample size ESS = (sum w)^2 / sum w^2 says how many independent draws the weighted set is worth,
and the resampled set has at most N distinct images. The mean weight (1/N) sum_i p(y | x_i)
estimates p(y) = E_{p(x)}[p(y | x)], the class frequencies of the generative model.

A classifier that knows when not to answer. The class-conditional models also give the density
of the image itself, the denominator of Bayes' rule,

    p(x) = sum_y p(x | y) p(y),

so the same generative model can label a typical x and refuse an x it finds improbable
(-log p(x) above a threshold chosen on held-out data). A discriminative p(y | x) has no p(x):
its probabilities over the classes sum to 1 for any input, noise included.
"""
from __future__ import annotations

import numbers

import torch

from gm_helpers.checks import check_no_nan


def _log_matrix(name: str, a) -> torch.Tensor:
    a = check_no_nan(name, torch.as_tensor(a))
    if a.dim() != 2:
        raise ValueError(f"{name} must be (N, K): one row per x, one column per class y; "
                         f"got shape {tuple(a.shape)}")
    return a.to(torch.float64)


def _log_joint(log_px_given_y, log_prior) -> torch.Tensor:
    """log p(x, y) = log p(x | y) + log p(y), (N, K)."""
    log_lik = _log_matrix("log_px_given_y", log_px_given_y)
    log_prior = check_no_nan("log_prior", torch.as_tensor(log_prior, dtype=torch.float64))
    if log_prior.shape != log_lik.shape[1:]:
        raise ValueError(f"log_prior must have one entry per class ({log_lik.shape[1]}), got "
                         f"shape {tuple(log_prior.shape)}")
    return log_lik + log_prior


def posterior_from_generative(log_px_given_y, log_prior) -> torch.Tensor:
    """log p(y | x), (N, K), from log p(x | y) (N, K) and log p(y) (K,) by Bayes' rule."""
    log_joint = _log_joint(log_px_given_y, log_prior)  # (N, K)
    # log p(y | x) = log p(x, y) - log p(x),  log p(x) = logsumexp_y log p(x, y)
    return log_joint - log_joint.logsumexp(1, keepdim=True)


def log_evidence(log_px_given_y, log_prior) -> torch.Tensor:
    """log p(x) = log sum_y p(x | y) p(y), (N,), from log p(x | y) (N, K) and log p(y) (K,)."""
    return _log_joint(log_px_given_y, log_prior).logsumexp(1)  # (N,)


REFUSED = -1  # the label of an input the model will not label


def label_or_refuse(log_px_given_y, log_prior, max_nll: float) -> dict:
    """Bayes' rule with a way out: label argmax_y p(y | x), or ``REFUSED`` where -log p(x) > max_nll.

    Returns ``label`` (N,) int64 (``REFUSED`` = -1 where refused), ``nll`` (N,) -log p(x) in
    nats, and ``confidence`` (N,) max_y p(y | x) (also for the refused, to compare).
    """
    if isinstance(max_nll, bool) or not isinstance(max_nll, numbers.Real):
        raise TypeError(f"max_nll must be a number (nats), got {type(max_nll).__name__}")
    log_posterior = posterior_from_generative(log_px_given_y, log_prior)  # (N, K)
    nll = -log_evidence(log_px_given_y, log_prior)                         # (N,) -log p(x)
    confidence, label = log_posterior.exp().max(1)
    label = torch.where(nll > max_nll, torch.full_like(label, REFUSED), label)
    return {"label": label, "nll": nll, "confidence": confidence}


def effective_sample_size(log_weights) -> float:
    """ESS = (sum_i w_i)^2 / sum_i w_i^2 of unnormalised weights given as logs, (N,)."""
    log_w = check_no_nan("log_weights", torch.as_tensor(log_weights, dtype=torch.float64))
    if log_w.dim() != 1 or len(log_w) == 0:
        raise ValueError(f"log_weights must be a non-empty vector (N,), got {tuple(log_w.shape)}")
    return torch.exp(2 * log_w.logsumexp(0) - (2 * log_w).logsumexp(0)).item()


def importance_resample(log_weights, num: int, generator: torch.Generator | None = None):
    """Indices (num,) drawn with replacement, i with probability w_i / sum_j w_j."""
    log_w = check_no_nan("log_weights", torch.as_tensor(log_weights, dtype=torch.float64))
    if log_w.dim() != 1 or not torch.isfinite(log_w.logsumexp(0)):
        raise ValueError("log_weights must be a vector (N,) with at least one finite entry")
    if isinstance(num, bool) or not isinstance(num, int) or num < 1:
        raise ValueError(f"num must be a positive int, got {num!r}")
    return torch.multinomial(torch.softmax(log_w, 0), num, replacement=True, generator=generator)


def conditional_from_classifier(log_py_given_x, y: int, num: int,
                                generator: torch.Generator | None = None) -> dict:
    """Resample draws x_i ~ p(x) into draws of p(x | y) ∝ p(y | x) p(x).

    ``log_py_given_x`` (N, K): a classifier's log p(y | x_i) for N samples of a generative model.
    Returns ``indices`` (num,) into the N samples, ``ess`` (effective sample size of the
    weights), ``p_y`` (the estimate (1/N) sum_i p(y | x_i) of the model's p(y)) and
    ``distinct`` (how many different samples the resampled set contains).
    """
    log_p = _log_matrix("log_py_given_x", log_py_given_x)
    if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < log_p.shape[1]:
        raise ValueError(f"y must be a class index in 0..{log_p.shape[1] - 1}, got {y!r}")
    # w_i = p(y | x_i) ∝ p(x_i | y) / p(x_i)
    log_w = log_p[:, y]  # (N,)
    indices = importance_resample(log_w, num, generator)
    return {"indices": indices, "ess": effective_sample_size(log_w),
            "p_y": log_w.exp().mean().item(), "distinct": len(torch.unique(indices))}
