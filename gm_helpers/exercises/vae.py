"""Checkers for lecture 05's exercises (the VAE). Same contract as ``gm_helpers.exercises.core``:
run the student's function on several inputs (non-square, batched, edge cases), compare with
the reference, and when it disagrees name the usual mistake: variance vs log-variance vs
standard deviation, an eps left out, a missing sum over dimensions, a sign (of the KL, or of the
reconstruction term: +BCE used as log p(x|z)), a mean where a sum belongs.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gm_helpers.exercises.core import Feedback, call_student, judge, same, tensor_cases

EPS_IGNORED_MU = ("eps is missing: you returned mu, the mean, which ignores eps; z = mu + "
                  "exp(logvar / 2) * eps is a sample, a different z for each eps")
EPS_IGNORED_SIGMA = ("eps is missing: z = mu + sigma ignores eps, so every 'sample' is the same "
                     "point, one standard deviation above the mean; z = mu + sigma * eps")
EPS_IGNORED = ("eps is ignored: your z does not change when eps does; use the eps you are "
               "given (do not draw your own noise with torch.randn): z = mu + exp(logvar / 2) "
               "* eps")
RECONSTRUCTION_SIGN = ("the minus on the reconstruction term is missing: binary cross-entropy "
                       "is -log p(x|z), so log p(x|z) = -BCE; you used +BCE as the "
                       "log-likelihood")


def _ignores_eps(fn) -> bool:
    """Is fn's z the same for two different eps (e.g. it draws its own noise instead)?"""
    mu, lv = tensor_cases([(3, 5)], seed=4)[0]
    g = torch.Generator().manual_seed(5)
    zs = []
    for _ in range(2):
        z, failed = call_student(fn, mu.clone(), lv.clone(),
                                 torch.randn(3, 5, generator=g, dtype=torch.float64))
        if failed is not None:
            return False
        zs.append(z)
    return same(zs[0], zs[1], exact=False)


def check_reparameterize(fn) -> Feedback:
    """fn(mu, logvar, eps) -> z: a sample of N(mu, diag exp(logvar)) built from eps ~ N(0, I),
    differentiable in mu and logvar."""
    g = torch.Generator().manual_seed(3)  # eps is drawn once, the same on every call
    cases = [(mu, lv, torch.randn(mu.shape, generator=g, dtype=torch.float64))
             for mu, lv in tensor_cases([(1, 1), (3, 5), (4, 2)])]
    feedback = judge(fn, cases, lambda mu, lv, eps: mu + (0.5 * lv).exp() * eps, {
        "you used the log-variance as the standard deviation: sigma = exp(logvar / 2)":
            lambda mu, lv, eps: mu + lv * eps,
        "you used the variance exp(logvar) where the standard deviation exp(logvar / 2) belongs":
            lambda mu, lv, eps: mu + lv.exp() * eps,
        EPS_IGNORED_MU: lambda mu, lv, eps: mu,
        EPS_IGNORED_SIGMA: lambda mu, lv, eps: mu + (0.5 * lv).exp(),
        "mu is missing: z = mu + sigma * eps": lambda mu, lv, eps: (0.5 * lv).exp() * eps,
    }, "z = mu + exp(logvar / 2) * eps: a sample that gradients can flow through",
        "one z per row of mu", probes={EPS_IGNORED: _ignores_eps})
    if not feedback:
        return feedback
    mu, lv = torch.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
    z, failed = call_student(fn, mu, lv, torch.ones(2, 3), detach=False,
                             where="on inputs that require grad")
    if failed is not None:
        return failed
    if not getattr(z, "requires_grad", False):
        return Feedback(False, "the values are right but z carries no gradient: do not detach, "
                               "use .item(), NumPy or torch.no_grad(); a gradient flowing "
                               "through z to mu and logvar is the point of the trick")
    return feedback


def check_gaussian_kl(fn) -> Feedback:
    """fn(mu, logvar) -> KL(N(mu, diag exp(logvar)) || N(0, I)) per row, shape (B,)."""
    cases = tensor_cases([(1, 1), (3, 5), (4, 2), (2, 7)], seed=1)

    def kl(mu, lv):
        return -0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(-1)
    return judge(fn, cases, kl, {
        "the sign is flipped: KL >= 0, and -1/2 sum(1 + logvar - mu^2 - exp(logvar)) is":
            lambda mu, lv: -kl(mu, lv),
        "the sum over latent dimensions is missing: one KL per row, shape (B,)":
            lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - lv.exp()),
        "you averaged over latent dimensions: the KL of independent dimensions is their sum":
            lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - lv.exp()).mean(-1),
        "a factor 2: the KL has 1/2 in front": lambda mu, lv: 2 * kl(mu, lv),
        "you used the standard deviation exp(logvar / 2) where the variance exp(logvar) belongs":
            lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - (0.5 * lv).exp()).sum(-1),
        "you summed over the batch too: return one number per row":
            lambda mu, lv: kl(mu, lv).sum(),
    }, "KL(q || p) = -1/2 sum_j (1 + log s_j^2 - mu_j^2 - s_j^2), one per row",
        "one KL per row, summed over latent dimensions")


def check_elbo(fn) -> Feedback:
    """fn(x, logits, mu, logvar) -> ELBO per row (B,): log p(x|z) for the decoder's Bernoulli
    logits of one sample z, minus KL(q(z|x) || N(0, I))."""
    g = torch.Generator().manual_seed(2)
    cases = []
    for B, D, L in ((1, 3, 1), (3, 6, 2), (4, 10, 3)):
        x = torch.bernoulli(torch.full((B, D), 0.4, dtype=torch.float64), generator=g)
        cases.append((x, torch.randn(B, D, generator=g, dtype=torch.float64) * 2,
                      torch.randn(B, L, generator=g, dtype=torch.float64),
                      torch.randn(B, L, generator=g, dtype=torch.float64)))

    def log_lik(x, logits):
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)

    def kl(mu, lv):
        return -0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(-1)

    def elbo(x, logits, mu, lv):
        return log_lik(x, logits) - kl(mu, lv)
    return judge(fn, cases, elbo, {
        "you returned the loss, -ELBO: the ELBO itself is log p(x|z) - KL, a negative number here":
            lambda *a: -elbo(*a),
        "the KL is added: ELBO = E_q[log p(x|z)] - KL(q || p(z))":
            lambda x, logits, mu, lv: log_lik(x, logits) + kl(mu, lv),
        "the KL term is missing": lambda x, logits, mu, lv: log_lik(x, logits),
        RECONSTRUCTION_SIGN: lambda x, logits, mu, lv: -log_lik(x, logits) - kl(mu, lv),
        "you averaged the log-likelihood over pixels: log p(x|z) is a sum over them":
            lambda x, logits, mu, lv: log_lik(x, logits) / x.shape[1] - kl(mu, lv),
        "you averaged over the batch: return one ELBO per row": lambda *a: elbo(*a).mean(),
        "the logits went through a sigmoid and were used as logits again (or as probabilities "
        "in BCE-with-logits)":
            lambda x, logits, mu, lv: log_lik(x, torch.sigmoid(logits)) - kl(mu, lv),
    }, "ELBO = sum_d log p(x_d | z) - KL(q || p(z)), one per row", "one ELBO per row")
