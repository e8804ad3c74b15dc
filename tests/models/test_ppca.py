"""Probabilistic PCA: the closed-form maximum-likelihood fit, its density and its posterior."""
import math

import pytest
import torch

from gm_helpers.models.ppca import PPCA, fit_ppca


def low_rank_data(N=400, d=6, q=2, sigma=0.3, seed=0):
    """x = A z + b + noise: data pPCA can describe, (N, d) float64."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d, q, generator=g, dtype=torch.float64) * 2
    z = torch.randn(N, q, generator=g, dtype=torch.float64)
    b = torch.randn(d, generator=g, dtype=torch.float64)
    return z @ A.T + b + sigma * torch.randn(N, d, generator=g, dtype=torch.float64)


def mean_log_lik(model, x):
    return model.log_prob(x).mean().item()


def test_sigma2_is_the_mean_discarded_eigenvalue():
    x = low_rank_data()
    xc = x - x.mean(0)
    eigenvalues = torch.linalg.eigvalsh(xc.T @ xc / len(x)).flip(0)  # largest first
    for q in (1, 2, 3, 5):
        model = fit_ppca(x, q)
        assert model.sigma2 == pytest.approx(eigenvalues[q:].mean().item(), rel=1e-12)
        torch.testing.assert_close(model.eigenvalues, eigenvalues, rtol=1e-10, atol=1e-12)
        # the columns of W are orthogonal, with squared lengths lambda_j - sigma^2
        torch.testing.assert_close(model.W.T @ model.W, torch.diag(eigenvalues[:q] - model.sigma2),
                                   rtol=1e-9, atol=1e-10)


def test_log_prob_is_the_gaussian_with_covariance_WWT_plus_sigma2():
    x = low_rank_data()
    model = fit_ppca(x, 2)
    exact = torch.distributions.MultivariateNormal(model.mu, model.covariance()).log_prob(x)
    torch.testing.assert_close(model.log_prob(x), exact, rtol=1e-10, atol=1e-10)


def test_ml_log_likelihood_has_the_closed_form():
    """At the ML solution, L/N = -1/2 (d log 2 pi + sum_{j<=q} log lambda_j + (d-q) log s2 + d)."""
    x = low_rank_data(d=7)
    model = fit_ppca(x, 3)
    lam, d, q = model.eigenvalues, 7, 3
    closed = -0.5 * (d * math.log(2 * math.pi) + lam[:q].log().sum().item()
                     + (d - q) * math.log(model.sigma2) + d)
    assert mean_log_lik(model, x) == pytest.approx(closed, rel=1e-10)


@pytest.mark.parametrize("q", [1, 2, 4])
def test_ml_solution_beats_every_perturbation(q):
    """The training log-likelihood is largest at the closed form: perturbing W, sigma^2 or mu
    lowers it; rotating W (W R) leaves it unchanged (the solution is unique up to R)."""
    x = low_rank_data(d=6, seed=q)
    best = fit_ppca(x, q)
    L = mean_log_lik(best, x)
    g = torch.Generator().manual_seed(1)
    for scale in (1e-1, 1e-2, 1e-3):
        for _ in range(20):
            dW = scale * torch.randn(best.W.shape, generator=g, dtype=torch.float64)
            assert mean_log_lik(PPCA(best.mu, best.W + dW, best.sigma2, best.eigenvalues), x) < L
            dmu = scale * torch.randn(best.mu.shape, generator=g, dtype=torch.float64)
            assert mean_log_lik(PPCA(best.mu + dmu, best.W, best.sigma2, best.eigenvalues), x) < L
        for factor in (1 - scale, 1 + scale):
            assert mean_log_lik(PPCA(best.mu, best.W, best.sigma2 * factor, best.eigenvalues), x) < L
    R = torch.linalg.qr(torch.randn(q, q, generator=g, dtype=torch.float64))[0]
    assert mean_log_lik(PPCA(best.mu, best.W @ R, best.sigma2, best.eigenvalues), x) == \
        pytest.approx(L, rel=1e-12)


def test_posterior_mean_and_covariance_are_gaussian_conditioning():
    """(z, x) is jointly Gaussian, cov [[I, W^T], [W, C]]: E[z|x] = W^T C^{-1} (x - mu) and
    Cov[z|x] = I - W^T C^{-1} W, computed here with the full d x d inverse."""
    x = low_rank_data(N=50, d=6)
    model = fit_ppca(x, 2)
    C_inv = torch.linalg.inv(model.covariance())
    brute_mean = (model.W.T @ C_inv @ (x - model.mu).T).T  # (N, q)
    brute_cov = torch.eye(2, dtype=torch.float64) - model.W.T @ C_inv @ model.W
    torch.testing.assert_close(model.posterior_mean(x), brute_mean, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(model.posterior_covariance(), brute_cov, rtol=1e-10, atol=1e-10)


def test_posterior_mean_is_the_pca_projection_rescaled():
    """E[z|x] = Lambda_q^{-1} (Lambda_q - sigma^2)^{1/2} U_q^T (x - mu), U_q the top eigenvectors."""
    x = low_rank_data(d=6, q=3)
    model = fit_ppca(x, 3)
    xc = x - x.mean(0)
    lam, U = torch.linalg.eigh(xc.T @ xc / len(x))
    lam, U = lam.flip(0)[:3], U.flip(1)[:, :3]
    pca = xc @ U  # (N, 3) plain PCA codes (each column up to a sign)
    want = pca * (lam - model.sigma2).sqrt() / lam
    got = model.posterior_mean(x)
    signs = torch.sign((got * want).sum(0))  # eigenvectors are defined up to a sign
    torch.testing.assert_close(got, want * signs, rtol=1e-9, atol=1e-9)


def test_samples_have_the_model_covariance():
    model = fit_ppca(low_rank_data(), 2)
    s = model.sample(200_000, generator=torch.Generator().manual_seed(0))
    assert s.shape == (200_000, 6)
    torch.testing.assert_close(s.mean(0), model.mu, atol=0.02, rtol=0)
    torch.testing.assert_close(torch.cov(s.T), model.covariance(), atol=0.05, rtol=0.02)
    means = model.sample(1000, generator=torch.Generator().manual_seed(0), noise=False)
    # without noise, W z + mu lies in the q-dimensional subspace through mu
    assert torch.linalg.matrix_rank(means - model.mu).item() == 2


def test_fit_leaves_the_thread_count_as_it_was():
    """The eigendecomposition runs on one thread, then the caller's setting comes back."""
    before = torch.get_num_threads()
    fit_ppca(low_rank_data(), 2)
    assert torch.get_num_threads() == before


def test_float32_data_gives_the_float64_fit():
    """The covariance is summed in float64 a chunk at a time, whatever the input dtype."""
    x = low_rank_data(N=1000)
    a, b = fit_ppca(x, 2, chunk=64), fit_ppca(x.float(), 2)
    assert a.sigma2 == pytest.approx(b.sigma2, rel=1e-5)
    torch.testing.assert_close(a.W.abs(), b.W.abs(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("x, q, match", [
    (torch.zeros(10), 1, "shape"), (torch.randn(10, 4), 0, "1 <= q < d"),
    (torch.randn(10, 4), 4, "1 <= q < d"), (torch.randn(10, 4), 2.0, "int"),
    (torch.randn(1, 4), 1, "at least 2"), (torch.randn(10, 1) * torch.ones(1, 3), 1, "subspace")])
def test_bad_inputs(x, q, match):
    with pytest.raises(ValueError, match=match):
        fit_ppca(x, q)


def test_wrong_width():
    model = fit_ppca(torch.randn(20, 4), 2)
    for method in (model.log_prob, model.posterior_mean):
        with pytest.raises(ValueError, match="d = 4"):
            method(torch.randn(3, 5))


def test_chunks_do_not_change_the_answer():
    x = low_rank_data(N=100)
    model = fit_ppca(x, 2, chunk=7)
    torch.testing.assert_close(model.log_prob(x, chunk=7), model.log_prob(x), rtol=0, atol=1e-12)
    torch.testing.assert_close(model.posterior_mean(x, chunk=7), model.posterior_mean(x),
                               rtol=0, atol=1e-12)
