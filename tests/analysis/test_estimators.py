"""The score-function and reparameterised gradient estimators: both unbiased, the second far less noisy.

Checked against closed-form gradients of Gaussian expectations.
"""
import pytest
import torch

from gm_helpers.analysis.estimators import (
    estimate,
    reparameterised_terms,
    score_function_terms,
    variance_per_sample,
)

MU = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
LOGVAR = torch.tensor([0.0, -1.0, 0.7], dtype=torch.float64)
A = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)


def quadratic(z):  # E[(z - a)^2] = (mu - a)^2 + sigma^2
    return ((z - A) ** 2).sum(-1)


def quadratic_grad():
    return torch.stack([2 * (MU - A), LOGVAR.exp()])  # d/dmu, d/dlogvar (d sigma^2 = sigma^2)


def sine(z):  # E[sin z] = sin(mu) exp(-sigma^2 / 2)
    return torch.sin(z).sum(-1)


def sine_grad():
    damp = torch.exp(-LOGVAR.exp() / 2)
    return torch.stack([torch.cos(MU) * damp, torch.sin(MU) * damp * -LOGVAR.exp() / 2])


def test_both_estimators_are_unbiased():
    for f, exact in ((quadratic, quadratic_grad()), (sine, sine_grad())):
        for terms_of in (score_function_terms, reparameterised_terms):
            g = torch.Generator().manual_seed(0)
            terms = terms_of(f, MU, LOGVAR, 400_000, generator=g)
            se = (variance_per_sample(terms) / len(terms)).sqrt()  # standard error
            assert ((estimate(terms) - exact).abs() < 5 * se + 1e-9).all(), (f, terms_of)


def test_reparameterisation_has_lower_variance():
    """For both test functions and every coordinate, the score function's per-sample variance
    is larger; for the quadratic by more than 5x on every coordinate."""
    for f in (quadratic, sine):
        g = torch.Generator().manual_seed(1)
        var_sf = variance_per_sample(score_function_terms(f, MU, LOGVAR, 100_000, generator=g))
        var_rp = variance_per_sample(reparameterised_terms(f, MU, LOGVAR, 100_000, generator=g))
        assert (var_sf > var_rp).all(), f
    g = torch.Generator().manual_seed(2)
    ratio = variance_per_sample(score_function_terms(quadratic, MU, LOGVAR, 100_000, generator=g)) \
        / variance_per_sample(reparameterised_terms(quadratic, MU, LOGVAR, 100_000, generator=g))
    assert (ratio > 5).all(), ratio


def test_variance_falls_as_one_over_the_sample_count():
    """Averaging S samples divides the variance by S: 200 repeated 10-sample and 100-sample
    estimates, variance ratio about 10."""
    def spread(S):
        g = torch.Generator().manual_seed(S)
        return torch.stack([estimate(reparameterised_terms(sine, MU, LOGVAR, S, generator=g))
                            for _ in range(400)]).var(0)
    ratio = spread(10) / spread(100)
    assert ((ratio > 6) & (ratio < 16)).all(), ratio


def test_nan_terms_are_named():
    from gm_helpers.analysis.estimators import estimate, variance_per_sample
    terms = torch.zeros(4, 2, 3)
    terms[1, 0, 2] = float("nan")
    for f in (estimate, variance_per_sample):
        with pytest.raises(ValueError, match="terms holds 1 NaN"):
            f(terms)
