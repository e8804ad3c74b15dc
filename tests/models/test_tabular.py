"""Parameter counts and the tabular models: exact counts, exact distributions, ML fits and smoothing."""
import itertools

import numpy as np
import pytest

from gm_helpers.models.tabular import (
    FullJointTable,
    IndependentBernoulli,
    MarkovChain,
    TabularAR,
    all_binary_states,
    image_ordering,
    num_params,
    num_params_categorical,
)
from tests.helpers import random_binary


# ----------------------------------------------------------------------------- counting
def test_full_joint_784_is_exact():
    """A full table over one binary MNIST digit needs exactly 2**784 - 1 numbers."""
    count = num_params("full_joint", 784)
    assert type(count) is int
    assert count == 2**784 - 1
    assert len(str(count)) == 237


@pytest.mark.parametrize("n, m", [(1, 2), (3, 2), (10, 2), (4, 3), (5, 7), (2, 256)])
def test_closed_forms(n, m):
    """full joint m**n - 1, independent n (m - 1), Markov (m - 1) + (n - 1) m (m - 1)."""
    assert num_params("full_joint", n, m=m) == m**n - 1
    assert num_params("independent", n, m=m) == n * (m - 1)
    assert num_params("markov", n, m=m) == (m - 1) + (n - 1) * m * (m - 1)


@pytest.mark.parametrize("n", [1, 2, 5, 784])
def test_binary_markov_is_2n_minus_1(n):
    assert num_params("markov", n) == 2 * n - 1


@pytest.mark.parametrize("n, m", [(1, 2), (2, 2), (5, 2), (9, 2), (3, 3), (6, 4), (4, 10)])
def test_ar_interpolates_between_independence_and_the_chain_rule(n, m):
    """AR(0) is independence, AR(1) is Markov, AR(n - 1) is the full joint again."""
    assert num_params("ar", n, k=0, m=m) == num_params("independent", n, m=m)
    if n > 1:
        assert num_params("ar", n, k=1, m=m) == num_params("markov", n, m=m)
    assert num_params("ar", n, k=n - 1, m=m) == num_params("full_joint", n, m=m)


@pytest.mark.parametrize("n, k, m", [(6, 2, 2), (10, 3, 3), (8, 5, 2)])
def test_ar_counts_by_summing_tables(n, k, m):
    """AR(k) = sum over variables of (rows = m**parents) x (m - 1), counted one by one."""
    by_hand = sum(m ** min(i, k) * (m - 1) for i in range(n))  # variable i has min(i, k) parents
    assert num_params("ar", n, k=k, m=m) == by_hand


def test_categorical():
    """A Bernoulli has one free parameter; an RGB pixel 256**3 - 1."""
    assert num_params_categorical(2) == 1
    assert num_params_categorical(256**3) == 256**3 - 1


def test_numpy_integers_are_accepted():
    assert num_params("markov", np.int64(5), m=np.int32(2)) == 9


@pytest.mark.parametrize("call, error, match", [
    (lambda: num_params("full_joint", 0), ValueError, "n = 0"),
    (lambda: num_params("independent", -1), ValueError, "n = -1"),
    (lambda: num_params("full_joint", 2.0), TypeError, "n must be an integer.*2.0"),
    (lambda: num_params("full_joint", "3"), TypeError, "n must be an integer.*'3'"),
    (lambda: num_params("full_joint", True), TypeError, "n must be an integer.*True"),
    (lambda: num_params("full_joint", 3, m=1), ValueError, "m = 1"),
    (lambda: num_params("full_joint", 3, m=2.5), TypeError, "m must be an integer.*2.5"),
    (lambda: num_params("ar", 5, k=-1), ValueError, "k = -1"),
    (lambda: num_params("ar", 5, k=5), ValueError, "0 <= k < n = 5.*k = 5"),
    (lambda: num_params("ar", 5, k=1.5), TypeError, "k must be an integer"),
    (lambda: num_params("fulljoint", 5), ValueError, "'fulljoint'.*full_joint"),
    (lambda: num_params_categorical(1), ValueError, "m = 1"),
    (lambda: num_params_categorical(2.0), TypeError, "m must be an integer"),
])
def test_bad_counting_inputs(call, error, match):
    """Each bad input is refused with a message naming the offending value."""
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- tabular models
def test_all_binary_states():
    s = all_binary_states(3)
    assert s.shape == (8, 3) and s.dtype == np.uint8
    assert s.tolist() == [list(t) for t in itertools.product([0, 1], repeat=3)]


def _models(n, alpha, order):
    models = [IndependentBernoulli(alpha), FullJointTable(alpha)]
    models += [TabularAR(k, alpha, order) for k in range(n)]
    if n > 1:  # MarkovChain is AR(1), which needs k = 1 < n
        models.append(MarkovChain(alpha, order))
    return models


@pytest.mark.parametrize("n", range(1, 9))
@pytest.mark.parametrize("alpha", [0.0, 0.5])
@pytest.mark.parametrize("ordered", [False, True])
def test_probabilities_sum_to_one(n, alpha, ordered):
    """Every tabular model is a distribution: exp(log_prob) sums to 1 over all 2**n states."""
    x = random_binary(60, n, seed=n)
    order = np.random.default_rng(n).permutation(n) if ordered else None
    states = all_binary_states(n)
    for model in _models(n, alpha, order):
        total = np.exp(model.fit(x).log_prob(states)).sum()
        assert total == pytest.approx(1.0, abs=1e-12), type(model).__name__


def test_independent_ml_is_column_means():
    x = random_binary(500, 6)
    model = IndependentBernoulli().fit(x)
    assert np.allclose([t[0] for t in model.theta], x.mean(0), atol=1e-15)


def test_independent_alpha_is_additive_smoothing():
    x = random_binary(40, 4)
    model = IndependentBernoulli(alpha=2.0).fit(x)
    assert np.allclose([t[0] for t in model.theta], (x.sum(0) + 2.0) / (40 + 4.0))


def test_markov_ml_is_counted_transition_frequencies():
    """theta[i][a] = #(x_{i-1} = a, x_i = 1) / #(x_{i-1} = a), counted here with a loop."""
    x = random_binary(400, 5, seed=1)
    model = MarkovChain().fit(x)
    assert model.theta[0][0] == pytest.approx(x[:, 0].mean())
    for i in range(1, 5):
        for a in (0, 1):
            rows = [row for row in x.tolist() if row[i - 1] == a]
            want = sum(row[i] for row in rows) / len(rows)
            assert model.theta[i][a] == pytest.approx(want, abs=1e-15)


def test_full_table_ml_is_state_frequencies():
    x = random_binary(300, 4, seed=2)
    model = FullJointTable().fit(x)
    for s, state in enumerate(all_binary_states(4)):
        assert model.p[s] == (x == state).all(1).sum() / 300


@pytest.mark.parametrize("n, alpha", [(1, 0.0), (3, 0.0), (5, 0.3), (7, 0.0), (8, 1.0)])
def test_chain_rule_conditionals_reproduce_the_table(n, alpha):
    """AR(n - 1) with the table's conditionals is the same distribution as the full table."""
    x = random_binary(200, n, seed=n)
    table = FullJointTable(alpha).fit(x)
    ar = TabularAR(n - 1).fit(x)
    ar.theta = table.conditionals()
    states = all_binary_states(n)
    np.testing.assert_allclose(ar.log_prob(states), table.log_prob(states), rtol=0, atol=1e-12)


@pytest.mark.parametrize("k", [0, 1, 2, 4])
def test_order_permutes_the_variables(k):
    """AR(k) fitted with an order equals AR(k) fitted on the permuted columns without one."""
    n = 6
    x = random_binary(300, n, seed=5)
    order = np.array([3, 0, 5, 1, 4, 2])
    states = all_binary_states(n)
    with_order = TabularAR(k, 0.5, order).fit(x).log_prob(states)
    permuted = TabularAR(k, 0.5).fit(x[:, order]).log_prob(states[:, order])
    np.testing.assert_allclose(with_order, permuted, rtol=0, atol=1e-12)
    if k in (1, 2):  # the order matters: the model is a different distribution
        assert not np.allclose(with_order, TabularAR(k, 0.5).fit(x).log_prob(states))


@pytest.mark.parametrize("model", [
    IndependentBernoulli(0.5), MarkovChain(0.5, order=[2, 0, 1]), TabularAR(2, 0.5, [1, 2, 0]),
    FullJointTable(0.5)], ids=lambda m: type(m).__name__)
def test_sample_frequencies_match_log_prob(model):
    """50k ancestral samples of a 3-variable model land on each state as often as p says."""
    x = random_binary(100, 3, seed=9)
    model.fit(x)
    samples = model.sample(50_000, seed=0)
    assert samples.shape == (50_000, 3) and samples.dtype == np.uint8
    index = samples.astype(int) @ [4, 2, 1]  # state number, x_1 most significant
    freq = np.bincount(index, minlength=8) / 50_000
    p = np.exp(model.log_prob(all_binary_states(3)))
    assert np.abs(freq - p).max() < 0.02
    assert np.array_equal(samples, model.sample(50_000, seed=0))


def test_unseen_state_has_zero_probability_without_smoothing():
    x = np.array([[0, 0], [0, 1], [1, 1]])
    table = FullJointTable(alpha=0.0).fit(x)
    assert table.log_prob(np.array([[1, 0]]))[0] == -np.inf
    assert np.isfinite(FullJointTable(alpha=0.1).fit(x).log_prob(np.array([[1, 0]]))).all()


@pytest.mark.parametrize("make", [IndependentBernoulli, MarkovChain, FullJointTable,
                                  lambda: TabularAR(2)])
def test_bad_data_and_call_order(make):
    """Non-binary data, a wrong width or no fit yet: clear errors."""
    with pytest.raises(RuntimeError, match="fit"):
        make().log_prob(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="0 or 1"):
        make().fit(np.array([[0, 2, 1, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        make().fit(np.array([0, 1, 1, 0]))
    model = make().fit(random_binary(20, 4))
    with pytest.raises(ValueError, match="n = 4.*got 5"):
        model.log_prob(np.zeros((2, 5)))


def test_bad_model_arguments():
    with pytest.raises(ValueError, match="alpha.*-1"):
        TabularAR(1, alpha=-1)
    with pytest.raises(ValueError, match="alpha"):
        FullJointTable(alpha=-0.5)
    with pytest.raises(ValueError, match="0 <= k <= 24"):
        TabularAR(-1)
    with pytest.raises(ValueError, match="k must be < n = 3"):
        TabularAR(3).fit(random_binary(10, 3))
    with pytest.raises(ValueError, match="permutation of range"):
        TabularAR(1, order=[0, 0, 1]).fit(random_binary(10, 3))
    with pytest.raises(ValueError, match="n = 25"):
        FullJointTable().fit(np.zeros((2, 25), dtype=int))


# ----------------------------------------------------------------------------- orderings
@pytest.mark.parametrize("name", ["raster", "column", "snake", "random"])
def test_orderings_are_permutations(name):
    order = image_ordering(name, 3, 4)
    assert sorted(order.tolist()) == list(range(12))


def test_ordering_definitions():
    """raster is the identity, column the transpose, snake reverses every other row."""
    assert image_ordering("raster", 3, 4).tolist() == list(range(12))
    assert image_ordering("column", 3, 4).tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert image_ordering("snake", 3, 4).tolist() == [0, 1, 2, 3, 7, 6, 5, 4, 8, 9, 10, 11]
    assert np.array_equal(image_ordering("random", 5, 5, seed=1),
                          image_ordering("random", 5, 5, seed=1))
    assert not np.array_equal(image_ordering("random", 5, 5, seed=1),
                              image_ordering("random", 5, 5, seed=2))
    with pytest.raises(ValueError, match="'spiral'.*raster"):
        image_ordering("spiral", 3, 3)


# ----------------------------------------------------------------------------- maximum likelihood, smoothing
# Fitting tables: maximum likelihood is the count ratio; additive (pseudo-count) smoothing is a
# Bayesian estimate; the NLL on a data set is the entropy of its empirical distribution plus a
# KL divergence, so that maximum likelihood minimises the KL.
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
