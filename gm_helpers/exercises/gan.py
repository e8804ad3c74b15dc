"""Checkers for lecture 06's exercises (GANs). Same contract as ``gm_helpers.exercises.core``: run
the student's function on several inputs, compare with the reference, and when it disagrees
name the usual mistake: a sign error (the value function instead of the loss), the saturating
generator loss where the non-saturating one was asked, the generator trained with the
discriminator's label for fakes, a missing log, real and fake swapped, one mean over the real and
fake batch concatenated, a stray constant (``1 - log D(G(z))``), the log of the logit.

Every function takes the discriminator's *logits* l, with D = sigmoid(l), as the package does.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gm_helpers.exercises.core import Feedback, judge

ONE_MEAN = ("one mean over the concatenated batch: BCE(cat(real, fake), cat(1, 0)) averages over "
            "all 2B logits, which is half of D's loss (same minimiser, half the gradient); the "
            "loss is the sum of two means, -(mean log D(x) + mean log(1 - D(G(z))))")
FAKE_LABEL = ("you gave the generator the discriminator's label for fakes: BCE(D(G(z)), 0) = "
              "-mean log(1 - D(G(z))) is what D minimises on samples, so descending it makes the "
              "samples look more fake; G labels its samples 1: BCE(D(G(z)), 1) = "
              "-mean log D(G(z))")


def _logit_cases(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(n, generator=g, dtype=torch.float64) * 2,
             torch.randn(n, generator=g, dtype=torch.float64) * 2 - 1) for n in (1, 5, 8)]


def check_discriminator_loss(fn) -> Feedback:
    """fn(real_logits (B,), fake_logits (B,)) -> the scalar D minimises:
    -(mean log D(x) + mean log(1 - D(G(z))))."""
    def log_d(l):
        return F.logsigmoid(l)  # log sigmoid(l), stable

    def loss(r, f):
        return -(log_d(r).mean() + log_d(-f).mean())  # log(1 - sigmoid(f)) = log sigmoid(-f)
    return judge(fn, _logit_cases(), loss, {
        "sign error: you returned V(D, G) itself; D ascends V, so the loss to minimise is -V":
            lambda r, f: -loss(r, f),
        "real and fake are swapped: D(x) should be near 1 on data, near 0 on samples":
            lambda r, f: loss(f, r),
        "a log is missing: the loss is -(E[log D(x)] + E[log(1 - D(G(z)))]), not of D itself":
            lambda r, f: -(torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean()),
        "you used log D(G(z)) for the fake term; D's loss has log(1 - D(G(z)))":
            lambda r, f: -(log_d(r).mean() + log_d(f).mean()),
        "you summed over the batch: the expectations are means":
            lambda r, f: -(log_d(r).sum() + log_d(-f).sum()),
        ONE_MEAN: lambda r, f: F.binary_cross_entropy_with_logits(
            torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
        "the inputs are logits: apply the sigmoid before the log (D = sigmoid(logit))":
            lambda r, f: -(torch.log(r.abs()).mean() + torch.log((1 - f).abs()).mean()),
    }, "D's loss = -(mean log D(x) + mean log(1 - D(G(z)))): binary cross-entropy with data "
       "labelled 1 and samples 0", "one number: the loss is a mean over the batch")


def check_optimal_discriminator(fn) -> Feedback:
    """fn(p_data (N,), p_g (N,)) -> D*(x) (N,) for densities on a grid (all positive here)."""
    g = torch.Generator().manual_seed(1)
    cases = [(torch.rand(n, generator=g, dtype=torch.float64) + 0.01,
              torch.rand(n, generator=g, dtype=torch.float64) + 0.01) for n in (1, 4, 9)]
    return judge(fn, cases, lambda p, q: p / (p + q), {
        "you wrote p_g / (p_data + p_g): that is 1 - D*, the probability that x is fake":
            lambda p, q: q / (p + q),
        "p_data / p_g is the density ratio, not a probability: D* = p_data / (p_data + p_g)":
            lambda p, q: p / q,
        "you normalised over the grid: D*(x) is a pointwise ratio, no sum over x":
            lambda p, q: p / (p + q).sum(),
    }, "D*(x) = p_data(x) / (p_data(x) + p_g(x)): at p_g = p_data it is 1/2 everywhere",
        "one value per grid point")


def check_generator_loss(fn) -> Feedback:
    """fn(fake_logits (B,)) -> the non-saturating generator loss -mean log D(G(z))."""
    cases = [(f,) for _, f in _logit_cases(seed=2)]

    def ns(f):
        return -F.logsigmoid(f).mean()
    return judge(fn, cases, ns, {
        "that is the saturating (minimax) form mean log(1 - D(G(z))): its gradient vanishes "
        "when D rejects the samples; descend -mean log D(G(z)) instead":
            lambda f: F.logsigmoid(-f).mean(),
        "sign error: G descends -log D(G(z)) (it ascends log D(G(z)))":
            lambda f: F.logsigmoid(f).mean(),
        FAKE_LABEL: lambda f: -F.logsigmoid(-f).mean(),
        "a log is missing: -mean D(G(z)) gives vanishing gradients too":
            lambda f: -torch.sigmoid(f).mean(),
        "a stray constant: 1 - log D(G(z)) has the right gradient, but its value is off by 1; "
        "the loss is -log D(G(z))": lambda f: (1 - F.logsigmoid(f)).mean(),
        "-log(logit) is not it: the logit goes through the sigmoid, -log sigmoid(logit)":
            lambda f: -torch.log(f.abs()).mean(),
        "you summed over the batch: the expectation is a mean": lambda f: -F.logsigmoid(f).sum(),
    }, "the non-saturating loss -mean log D(G(z)) = mean softplus(-logit)",
        "one number: a mean over the batch")
