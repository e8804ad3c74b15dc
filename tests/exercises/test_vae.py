"""Lecture 05's checkers accept right answers and name each usual mistake."""
import pytest
import torch
import torch.nn.functional as F

from gm_helpers.exercises.vae import check_elbo, check_gaussian_kl, check_reparameterize


def good_reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


@pytest.mark.parametrize("answer, message", [
    (good_reparameterize, None),
    (lambda mu, lv, eps: mu + lv * eps, "log-variance as the standard deviation"),
    (lambda mu, lv, eps: mu + lv.exp() * eps, "variance exp(logvar)"),
    (lambda mu, lv, eps: mu + (0.5 * lv).exp(), "eps is missing"),
    (lambda mu, lv, eps: mu + (0.5 * lv).exp(), "z = mu + sigma ignores eps"),
    (lambda mu, lv, eps: mu, "you returned mu, the mean, which ignores eps"),
    (lambda mu, lv, eps: mu.clone(), "ignores eps"),
    (lambda mu, lv, eps: mu + (0.5 * lv).exp() * torch.randn_like(mu), "eps is ignored: your z "
                                                                       "does not change"),
    (lambda mu, lv, eps: (0.5 * lv).exp() * eps, "mu is missing"),
    (lambda mu, lv, eps: good_reparameterize(mu, lv, eps).detach(), "carries no gradient"),
    (lambda mu, lv, eps: good_reparameterize(mu, lv, eps)[:1], "return shape"),
    (lambda mu, lv, eps: 1 / 0, "ZeroDivisionError"),
])
def test_check_reparameterize(answer, message):
    feedback = check_reparameterize(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def good_kl(mu, logvar):
    return -0.5 * torch.sum(1 + logvar - mu ** 2 - logvar.exp(), dim=-1)


@pytest.mark.parametrize("answer, message", [
    (good_kl, None),
    (lambda mu, lv: torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * lv).exp()), torch.distributions.Normal(0, 1)).sum(-1),
     None),
    (lambda mu, lv: -good_kl(mu, lv), "sign is flipped"),
    (lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - lv.exp()), "sum over latent dimensions is missing"),
    (lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - lv.exp()).mean(-1), "averaged over latent"),
    (lambda mu, lv: 2 * good_kl(mu, lv), "factor 2"),
    (lambda mu, lv: -0.5 * (1 + lv - mu ** 2 - (0.5 * lv).exp()).sum(-1), "standard deviation"),
    (lambda mu, lv: good_kl(mu, lv).sum(), "summed over the batch"),
    (lambda mu, lv: good_kl(mu.T, lv.T), "return shape (3,)"),  # transposed: right only if square
])
def test_check_gaussian_kl(answer, message):
    feedback = check_gaussian_kl(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def good_elbo(x, logits, mu, logvar):
    rec = -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
    return rec - good_kl(mu, logvar)


@pytest.mark.parametrize("answer, message", [
    (good_elbo, None),
    (lambda *a: -good_elbo(*a), "returned the loss"),
    (lambda x, l, mu, lv: good_elbo(x, l, mu, lv) + 2 * good_kl(mu, lv), "KL is added"),
    (lambda x, l, mu, lv: good_elbo(x, l, mu, lv) + good_kl(mu, lv), "KL term is missing"),
    (lambda *a: good_elbo(*a).mean(), "averaged over the batch"),
    (lambda x, l, mu, lv: F.binary_cross_entropy_with_logits(l, x, reduction="none").sum(-1)
     - good_kl(mu, lv), "the minus on the reconstruction term is missing"),
    (lambda x, l, mu, lv: F.binary_cross_entropy_with_logits(l, x, reduction="none").sum(-1)
     - good_kl(mu, lv), "you used +BCE as the log-likelihood"),
    (lambda x, l, mu, lv: good_elbo(x, torch.sigmoid(l), mu, lv), "sigmoid"),
])
def test_check_elbo(answer, message):
    feedback = check_elbo(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def test_not_implemented_is_reported_as_such():
    def stub(*args):
        raise NotImplementedError
    for check in (check_reparameterize, check_gaussian_kl, check_elbo):
        assert "not implemented yet" in repr(check(stub))
