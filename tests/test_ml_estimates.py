"""Lecture 1's claims about fitting tables: maximum likelihood is the count ratio; additive
(pseudo-count) smoothing is a Bayesian estimate; and the NLL on a data set is the entropy of
its empirical distribution plus a KL divergence, so that maximum likelihood minimises the KL."""
import numpy as np
import pytest

from gm_helpers.models.tabular import (
    FullJointTable,
    IndependentBernoulli,
    MarkovChain,
    TabularAR,
    all_binary_states,
)

GRID = np.linspace(1e-6, 1 - 1e-6, 2_000_001)  # theta values, spacing 5e-7


def bernoulli_log_lik(n1, n0, theta):
    return n1 * np.log(theta) + n0 * np.log1p(-theta)


@pytest.mark.parametrize("n1, n", [(0, 7), (3, 10), (17, 40), (40, 40)])
def test_count_ratio_maximises_the_likelihood(n1, n):
    """argmax_theta theta^n1 (1 - theta)^(n - n1), on a fine grid, is n1 / n (alpha = 0)."""
    x = np.array([[1]] * n1 + [[0]] * (n - n1))
    theta_ml = IndependentBernoulli(alpha=0.0).fit(x).theta[0][0]
    assert theta_ml == n1 / n
    best = GRID[np.argmax(bernoulli_log_lik(n1, n - n1, GRID))]
    assert abs(best - theta_ml) < 2e-6  # the grid starts at 1e-6


@pytest.mark.parametrize("n1, n", [(0, 7), (3, 10), (17, 40)])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_alpha_is_the_posterior_mean_under_a_beta_alpha_alpha_prior(n1, n, alpha):
    """(n1 + alpha) / (n + 2 alpha) = E[theta | data] when theta ~ Beta(alpha, alpha): the
    posterior is likelihood x prior, integrated numerically here on the grid."""
    x = np.array([[1]] * n1 + [[0]] * (n - n1))
    theta_alpha = IndependentBernoulli(alpha).fit(x).theta[0][0]
    # substitute theta = u^2 (d theta = 2u du): a Beta(1/2, .) posterior is singular at 0 in theta
    u = GRID
    theta = u**2
    log_post = bernoulli_log_lik(n1, n - n1, theta) + (alpha - 1) * np.log(theta * (1 - theta))
    post = np.exp(log_post - log_post.max()) * 2 * u  # density in u
    assert np.sum(theta * post) / np.sum(post) == pytest.approx(theta_alpha, abs=1e-6)


@pytest.mark.parametrize("n1, n", [(0, 7), (3, 10), (17, 40)])
@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0])
def test_alpha_is_the_map_under_a_beta_alpha_plus_one_prior(n1, n, alpha):
    """(n1 + alpha) / (n + 2 alpha) = argmax p(theta | data) when theta ~ Beta(alpha+1, alpha+1)."""
    x = np.array([[1]] * n1 + [[0]] * (n - n1))
    theta_alpha = IndependentBernoulli(alpha).fit(x).theta[0][0]
    log_post = bernoulli_log_lik(n1, n - n1, GRID) + alpha * np.log(GRID * (1 - GRID))
    assert abs(GRID[np.argmax(log_post)] - theta_alpha) < 1e-6


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_full_table_alpha_is_the_dirichlet_map(alpha):
    """p_s = (n_s + alpha) / (N + K alpha) maximises sum_s (n_s + alpha) log p_s on the simplex
    (the log posterior under a Dirichlet(alpha + 1) prior): random moves along the simplex lower it."""
    rng = np.random.default_rng(0)
    x = (rng.random((30, 3)) < 0.3).astype(np.uint8)  # some of the 8 states are never seen
    table = FullJointTable(alpha).fit(x)
    counts = np.bincount(x.astype(int) @ [4, 2, 1], minlength=8)
    assert (counts == 0).any() and (table.p > 0).all()

    def objective(p):
        return np.sum((counts + alpha) * np.log(p))

    best = objective(table.p)
    for _ in range(500):
        d = rng.normal(size=8) * 1e-3
        d -= d.mean()  # stays on the simplex: sums to 1
        assert objective(table.p + d) < best


def test_without_smoothing_an_unseen_value_gets_infinite_nll():
    x_train = np.array([[0, 1], [0, 0], [0, 1]])  # x_1 is never 1
    x_test = np.array([[1, 1]])
    assert IndependentBernoulli(0.0).fit(x_train).log_prob(x_test)[0] == -np.inf
    assert np.isfinite(IndependentBernoulli(1.0).fit(x_train).log_prob(x_test)[0])


def test_smoothing_moves_theta_by_at_most_one_over_n_plus_two():
    """|(n1 + 1)/(N + 2) - n1/N| <= 1/(N + 2): with many images alpha = 1 barely changes theta."""
    rng = np.random.default_rng(1)
    x = (rng.random((1000, 50)) < rng.random(50)).astype(np.uint8)
    ml = np.array([t[0] for t in IndependentBernoulli(0.0).fit(x).theta])
    smooth = np.array([t[0] for t in IndependentBernoulli(1.0).fit(x).theta])
    assert np.abs(ml - smooth).max() <= 1 / 1002 + 1e-15


@pytest.mark.parametrize("model", [IndependentBernoulli(0.0), IndependentBernoulli(1.0),
                                   MarkovChain(0.0), TabularAR(2, 0.3), FullJointTable(0.0),
                                   FullJointTable(1.0)],
                         ids=["independent-ml", "independent-a1", "markov-ml", "ar2-a0.3",
                              "full-ml", "full-a1"])   # stable ids (xdist compares them)
def test_nll_is_entropy_plus_kl(model):
    """(1/N) sum_i -log q(x_i) = H(p_hat) + KL(p_hat || q) for any q, p_hat the data's frequencies."""
    rng = np.random.default_rng(2)
    x = (rng.random((500, 4)) < [0.2, 0.5, 0.7, 0.4]).astype(np.uint8)
    x[:, 1] |= x[:, 0]  # some dependence
    index = x.astype(int) @ [8, 4, 2, 1]
    p_hat = np.bincount(index, minlength=16) / len(x)
    seen = p_hat > 0
    log_q = model.fit(x).log_prob(all_binary_states(4))  # (16,)
    nll = -model.log_prob(x).mean()
    entropy = -np.sum(p_hat[seen] * np.log(p_hat[seen]))
    kl = np.sum(p_hat[seen] * (np.log(p_hat[seen]) - log_q[seen]))
    assert nll == pytest.approx(entropy + kl, abs=1e-12)
    assert kl >= -1e-15


def test_ml_table_is_the_empirical_distribution_and_has_zero_kl():
    rng = np.random.default_rng(3)
    x = (rng.random((300, 3)) < 0.4).astype(np.uint8)
    p_hat = np.bincount(x.astype(int) @ [4, 2, 1], minlength=8) / 300
    table = FullJointTable(0.0).fit(x)
    np.testing.assert_array_equal(table.p, p_hat)
    # every other model of the data has a larger NLL on it (Gibbs' inequality)
    nll_table = -table.log_prob(x).mean()
    for other in (IndependentBernoulli(0.0), MarkovChain(0.0), FullJointTable(1.0)):
        assert -other.fit(x).log_prob(x).mean() > nll_table
