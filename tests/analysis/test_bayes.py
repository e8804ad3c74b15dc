"""Bayes' rule both ways, on small exact worlds: posteriors from generative models, importance resampling."""
import math

import pytest
import torch

from gm_helpers.analysis.bayes import (
    REFUSED,
    conditional_from_classifier,
    effective_sample_size,
    importance_resample,
    label_or_refuse,
    log_evidence,
    posterior_from_generative,
)


def tiny_world(num_x=6, num_y=3, seed=0):
    """A joint p(x, y) over a few states: returns p(x) (X,), p(y | x) (X, Y), float64."""
    g = torch.Generator().manual_seed(seed)
    p_xy = torch.rand(num_x, num_y, generator=g, dtype=torch.float64) ** 3 + 0.01
    p_xy /= p_xy.sum()
    p_x = p_xy.sum(1)
    return p_x, p_xy / p_x[:, None]


def test_posterior_is_prior_times_likelihood_normalised():
    g = torch.Generator().manual_seed(0)
    lik = torch.rand(5, 4, generator=g, dtype=torch.float64)  # p(x | y) of 5 observed x
    prior = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    post = posterior_from_generative(lik.log(), prior.log()).exp()
    torch.testing.assert_close(post, prior * lik / (prior * lik).sum(1, keepdim=True))
    torch.testing.assert_close(post.sum(1), torch.ones(5, dtype=torch.float64))


def test_posterior_survives_tiny_likelihoods():
    """Image likelihoods are ~e^-200: the computation stays in logs and does not underflow."""
    log_lik = torch.tensor([[-900.0, -901.0, -905.0]], dtype=torch.float64)
    post = posterior_from_generative(log_lik, torch.full((3,), -math.log(3))).exp()
    want = torch.softmax(torch.tensor([0.0, -1.0, -5.0], dtype=torch.float64), 0)
    torch.testing.assert_close(post[0], want)


def test_both_directions_recover_the_joint():
    """p(x|y) from p(y|x) p(x), then p(y|x) from p(x|y) p(y): back where we started."""
    p_x, p_y_given_x = tiny_world()
    p_y = (p_x[:, None] * p_y_given_x).sum(0)
    p_x_given_y = p_y_given_x * p_x[:, None] / p_y  # (X, Y), Bayes' rule
    torch.testing.assert_close(p_x_given_y.sum(0), torch.ones(3, dtype=torch.float64))
    back = posterior_from_generative(p_x_given_y.log(), p_y.log()).exp()
    torch.testing.assert_close(back, p_y_given_x)


@pytest.mark.parametrize("y", [0, 1, 2])
def test_resampling_draws_from_p_x_given_y(y):
    """Draws of p(x), resampled by p(y | x), land on each x as often as p(x | y) says."""
    p_x, p_y_given_x = tiny_world()
    p_x_given_y = p_y_given_x[:, y] * p_x / (p_y_given_x[:, y] * p_x).sum()
    g = torch.Generator().manual_seed(y)
    x = torch.multinomial(p_x, 200_000, replacement=True, generator=g)  # x_i ~ p(x)
    out = conditional_from_classifier(p_y_given_x[x].log(), y, 200_000, generator=g)
    freq = torch.bincount(x[out["indices"]], minlength=len(p_x)) / 200_000
    assert (freq - p_x_given_y).abs().max() < 0.01
    p_y = (p_x * p_y_given_x[:, y]).sum().item()
    assert out["p_y"] == pytest.approx(p_y, abs=0.01)
    assert 1 <= out["ess"] <= 200_000 and out["distinct"] <= 200_000


def test_effective_sample_size():
    assert effective_sample_size(torch.zeros(50)) == pytest.approx(50)  # equal weights
    assert effective_sample_size(torch.tensor([0.0, -math.inf, -math.inf])) == pytest.approx(1)
    w = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64)
    assert effective_sample_size(w.log()) == pytest.approx(1 / (w**2).sum().item())
    assert effective_sample_size(w.log() - 700) == pytest.approx(1 / (w**2).sum().item())


def test_resample_never_picks_zero_weight():
    log_w = torch.tensor([-math.inf, 0.0, -math.inf, math.log(3)])
    idx = importance_resample(log_w, 10_000, torch.Generator().manual_seed(0))
    assert set(idx.tolist()) == {1, 3}
    assert (idx == 3).float().mean().item() == pytest.approx(0.75, abs=0.02)


@pytest.mark.parametrize("call, match", [
    (lambda: posterior_from_generative(torch.zeros(3), torch.zeros(3)), r"\(N, K\)"),
    (lambda: posterior_from_generative(torch.zeros(2, 3), torch.zeros(4)), "one entry per class"),
    (lambda: effective_sample_size(torch.zeros(2, 2)), "vector"),
    (lambda: importance_resample(torch.full((3,), -math.inf), 5), "finite"),
    (lambda: importance_resample(torch.zeros(3), 0), "positive int"),
    (lambda: conditional_from_classifier(torch.zeros(4, 10), 10, 5), "0..9"),
    (lambda: conditional_from_classifier(torch.zeros(4, 10), 2.0, 5), "class index"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_log_evidence_is_the_sum_over_classes():
    """p(x) = sum_y p(x | y) p(y), exactly, and it stays finite for image-sized likelihoods."""
    p_x, p_y_given_x = tiny_world()
    p_y = (p_x[:, None] * p_y_given_x).sum(0)
    p_x_given_y = p_y_given_x * p_x[:, None] / p_y                     # (X, Y)
    torch.testing.assert_close(log_evidence(p_x_given_y.log(), p_y.log()).exp(), p_x)
    tiny = log_evidence(torch.tensor([[-900.0, -900.0]]), torch.log(torch.tensor([0.5, 0.5])))
    torch.testing.assert_close(tiny, torch.tensor([-900.0], dtype=torch.float64))


def test_label_or_refuse_refuses_exactly_the_improbable():
    p_x, p_y_given_x = tiny_world(num_x=8, num_y=3, seed=1)
    p_y = (p_x[:, None] * p_y_given_x).sum(0)
    log_lik = (p_y_given_x * p_x[:, None] / p_y).log()                 # (8, 3) log p(x | y)
    max_nll = float(-p_x.log().median())
    out = label_or_refuse(log_lik, p_y.log(), max_nll)
    refused = -p_x.log() > max_nll
    assert refused.any() and (~refused).any()
    assert torch.equal(out["label"] == REFUSED, refused)
    torch.testing.assert_close(out["nll"], -p_x.log())
    torch.testing.assert_close(out["confidence"], p_y_given_x.max(1).values)
    assert torch.equal(out["label"][~refused], p_y_given_x.argmax(1)[~refused])
    never = label_or_refuse(log_lik, p_y.log(), float("inf"))["label"]
    assert torch.equal(never, p_y_given_x.argmax(1))                  # no threshold: Bayes' rule


@pytest.mark.parametrize("call, error", [
    (lambda: label_or_refuse(torch.zeros(4), torch.zeros(2), 1.0), ValueError),      # not (N, K)
    (lambda: label_or_refuse(torch.zeros(4, 2), torch.zeros(3), 1.0), ValueError),   # K differs
    (lambda: label_or_refuse(torch.zeros(4, 2), torch.zeros(2), "1"), TypeError),
    (lambda: label_or_refuse(torch.zeros(4, 2), torch.zeros(2), True), TypeError),
    (lambda: log_evidence(torch.zeros(4, 2), torch.zeros(2, 1)), ValueError),
])
def test_bad_inputs_are_refused(call, error):
    with pytest.raises(error):
        call()


def test_nan_inputs_are_named_not_propagated():
    from gm_helpers.analysis.bayes import effective_sample_size, posterior_from_generative
    nan = float("nan")
    with pytest.raises(ValueError, match="log_px_given_y holds 1 NaN"):
        posterior_from_generative(torch.tensor([[0.0, nan]]), torch.zeros(2))
    with pytest.raises(ValueError, match="log_weights holds 1 NaN"):
        effective_sample_size(torch.tensor([0.0, nan]))
    # -inf is a legitimate log-probability (an impossible class), not an error
    assert posterior_from_generative(torch.tensor([[0.0, -math.inf]]), torch.zeros(2))[0, 0] == 0
