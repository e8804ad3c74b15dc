"""PixelCNN++'s discretized logistic mixture: exact normalisation, a naive per-level loop, stable
log-space edges with finite gradients, exact sampling, and clear errors."""
import numpy as np
import pytest
import torch

from gm_helpers.models import logistic_mixture as lm


def random_params(B=3, K=4, shape=(2, 3), seed=0, dtype=torch.float64, spread=1.0):
    """logit_pi, mu, log_s of shape (B, K, *shape): means over [-1.5, 1.5], scales from a
    hundredth of a bin to the whole range."""
    g = torch.Generator().manual_seed(seed)
    logit_pi = torch.randn(B, K, *shape, generator=g, dtype=dtype) * 2
    mu = (torch.rand(B, K, *shape, generator=g, dtype=dtype) * 3 - 1.5) * spread
    log_s = torch.rand(B, K, *shape, generator=g, dtype=dtype) * 9 - 9  # s in [e^-9, 1]
    return logit_pi, mu, log_s


def naive_probs(logit_pi, mu, log_s, levels):
    """The paper's formula one level at a time, with plain sigmoids (no log space): (B, ..., L)."""
    pi = torch.softmax(logit_pi, 1)
    s = log_s.clamp(lm.LOG_S_MIN, lm.LOG_S_MAX).exp()
    probs = []
    for x in range(levels):
        x_tilde = 2 * x / (levels - 1) - 1
        upper = torch.sigmoid((x_tilde + 1 / (levels - 1) - mu) / s) if x < levels - 1 else 1.0
        lower = torch.sigmoid((x_tilde - 1 / (levels - 1) - mu) / s) if x > 0 else 0.0
        probs.append((pi * (upper - lower)).sum(1))
    return torch.stack(probs, -1)


@pytest.mark.parametrize("levels", [2, 3, 16, 256])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probabilities_over_all_levels_sum_to_one(levels, seed):
    probs = lm.level_probs(*random_params(seed=seed), levels=levels)
    assert probs.shape == (3, 2, 3, levels) and (probs >= 0).all()
    assert torch.allclose(probs.sum(-1), torch.ones(3, 2, 3, dtype=torch.float64), rtol=0, atol=1e-12)
    probs32 = lm.level_probs(*(t.float() for t in random_params(seed=seed)), levels=levels)
    assert (probs32.sum(-1) - 1).abs().max() < 2e-5        # float32: to its own precision


@pytest.mark.parametrize("levels", [2, 3, 256])
def test_agrees_with_a_naive_per_level_loop(levels):
    params = random_params(seed=3, spread=0.7)
    expected = naive_probs(*params, levels)
    assert torch.allclose(lm.level_probs(*params, levels=levels), expected, rtol=1e-9, atol=1e-12)
    x = torch.randint(0, levels, (3, 2, 3), generator=torch.Generator().manual_seed(4)).double()
    got = lm.log_prob(x, *params, levels=levels)                 # (B, ...) nats
    picked = expected.gather(-1, x.long().unsqueeze(-1)).squeeze(-1)
    assert got.shape == x.shape and torch.allclose(got.exp(), picked, rtol=1e-9, atol=1e-12)
    sure = picked > 1e-6      # below, the naive difference loses digits to cancellation
    assert sure.any() and torch.allclose(got[sure], picked[sure].log(), rtol=1e-9)


def test_split_params_orders_pi_then_mu_then_log_s():
    params = torch.arange(2 * 6 * 5, dtype=torch.float32).view(2, 6, 5)  # K = 2
    logit_pi, mu, log_s = lm.split_params(params, 2)
    assert torch.equal(logit_pi, params[:, :2]) and torch.equal(mu, params[:, 2:4])
    assert torch.equal(log_s, params[:, 4:])


def test_log_space_is_exact_where_the_naive_difference_rounds_to_zero():
    """Far from every mean, sigma(a) - sigma(b) underflows in float32 (both ~0 or both ~1), but
    the log-space form stays exact: compare float32 with a float64 reference."""
    mu = torch.tensor([[-1.0], [1.0], [0.0]])[:, :, None]              # (3, 1, 1): K = 1
    log_s = torch.full_like(mu, -6.0)                                  # s = e^-6, a third of a bin
    logit_pi = torch.zeros_like(mu)
    x = torch.tensor([[200.0], [20.0], [255.0]])                       # far from each mean
    got = lm.log_prob(x, logit_pi, mu, log_s)
    naive32 = naive_probs(logit_pi, mu, log_s, 256).gather(-1, x.long().unsqueeze(-1)).squeeze(-1)
    assert (naive32 == 0).all() and torch.isfinite(got).all()          # naive: log 0 = -inf
    ref = lm.log_prob(x.double(), logit_pi.double(), mu.double(), log_s.double())
    assert torch.allclose(got.double(), ref, rtol=1e-5) and (ref < -100).all()


@pytest.mark.parametrize("mu_value", [-30.0, -1.0, 0.0, 1.0, 30.0])
@pytest.mark.parametrize("log_s_value", [-20.0, -7.0, 0.0, 7.0, 20.0])
def test_gradients_are_finite_at_the_edges(mu_value, log_s_value):
    """Levels 0 and 255 (the tails), the levels next to them and the middle, with means far
    outside [-1, 1] and scales at and past the bounds: log P and its gradients are finite."""
    x = torch.tensor([[0.0, 1.0, 128.0, 254.0, 255.0]])                # (1, 5)
    mu = torch.full((1, 2, 5), mu_value, requires_grad=True)
    log_s = torch.full((1, 2, 5), log_s_value, requires_grad=True)
    logit_pi = torch.tensor([[[3.0] * 5, [-3.0] * 5]], requires_grad=True)
    lp = lm.log_prob(x, logit_pi, mu, log_s)
    assert torch.isfinite(lp).all() and (lp <= 0).all()
    lp.sum().backward()
    for t in (logit_pi, mu, log_s):
        assert torch.isfinite(t.grad).all()


def test_the_tails_go_to_the_end_levels():
    """A mean below -1 puts nearly all mass on level 0, above 1 on the highest level."""
    logit_pi, log_s = torch.zeros(2, 1), torch.full((2, 1), -3.0)
    probs = lm.level_probs(logit_pi, torch.tensor([[-5.0], [5.0]]), log_s, levels=256)  # (2, 256)
    assert probs[0, 0] > 0.999 and probs[1, 255] > 0.999


@pytest.mark.parametrize("levels", [2, 6])
def test_sampling_draws_from_the_mixture(levels):
    """200,000 draws per position against level_probs: chi-square below its 0.001 quantile."""
    logit_pi, mu, log_s = random_params(B=1, K=3, shape=(2,), seed=5)
    n = 200_000
    expand = [t.expand(n, *t.shape[1:]).contiguous() for t in (logit_pi, mu, log_s)]
    x = lm.sample(*expand, levels=levels, generator=torch.Generator().manual_seed(0))
    assert x.shape == (n, 2) and x.dtype == torch.long and x.min() >= 0 and x.max() < levels
    p = lm.level_probs(logit_pi, mu, log_s, levels)[0]                # (2, levels)
    for pos in range(2):
        observed = torch.bincount(x[:, pos], minlength=levels).double()
        expected = n * p[pos]
        keep = expected > 5
        chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum().item()
        assert chi2 < {2: 10.83, 6: 20.52}[levels]                      # 1 and 5 dof, p = 0.001


def test_sampling_is_seeded():
    params = random_params(seed=6)
    a = lm.sample(*params, generator=torch.Generator().manual_seed(1))
    b = lm.sample(*params, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and a.shape == (3, 2, 3)


def test_bfloat16_parameters_are_computed_in_float32():
    params = [t.bfloat16() for t in random_params(seed=7)]
    x = torch.randint(0, 256, (3, 2, 3)).float()
    lp = lm.log_prob(x, *params)
    assert lp.dtype == torch.float32
    assert torch.allclose(lp, lm.log_prob(x, *(t.float() for t in params)))


def test_bad_inputs_are_clear_errors():
    logit_pi, mu, log_s = random_params(B=2, K=2, shape=(3,), dtype=torch.float32)
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"integer levels in 0..255"):
        lm.log_prob(torch.full((2, 3), 256.0), logit_pi, mu, log_s)
    with pytest.raises(ValueError, match=r"integer levels in 0..15"):
        lm.log_prob(torch.full((2, 3), 2.5), logit_pi, mu, log_s, levels=16)
    with pytest.raises(ValueError, match=r"integer levels"):
        lm.log_prob(torch.full((2, 3), -1.0), logit_pi, mu, log_s)
    with pytest.raises(ValueError, match=r"x must be \(B, \.\.\.\) = \(2, 3\)"):
        lm.log_prob(torch.zeros(2, 4), logit_pi, mu, log_s)
    with pytest.raises(ValueError, match="share one shape"):
        lm.log_prob(x, logit_pi, mu[:, :1], log_s)
    with pytest.raises(ValueError, match="finite"):
        lm.log_prob(x, logit_pi, mu * float("nan"), log_s)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        lm.log_prob(np.zeros((2, 3)), logit_pi, mu, log_s)
    with pytest.raises(TypeError, match="mu must be a floating-point"):
        lm.log_prob(x, logit_pi, mu.long(), log_s)
    with pytest.raises(ValueError, match="levels must be an integer >= 2"):
        lm.level_probs(logit_pi, mu, log_s, levels=1)
    with pytest.raises(ValueError, match=r"params must be \(B, 3K = 6, \.\.\.\)"):
        lm.split_params(torch.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match="num_mixtures must be an integer >= 1"):
        lm.split_params(torch.zeros(2, 6, 3), 0)
    with pytest.raises(ValueError, match="share one shape"):
        lm.sample(logit_pi, mu, log_s[:1])
