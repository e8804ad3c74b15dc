"""gm_helpers.counting: exact parameter counts, and tabular models that are exact distributions."""
import itertools

import numpy as np
import pytest

from gm_helpers.analysis.counting import ALPHAS, choose_alpha, compare_tabular_models
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


def random_binary(num, n, seed=0, p=None):
    """num binary vectors of length n, correlated so that every model has something to learn."""
    rng = np.random.default_rng(seed)
    x = np.zeros((num, n), dtype=np.uint8)
    x[:, 0] = rng.random(num) < 0.4
    for i in range(1, n):  # copy the previous bit with probability 0.8
        copy = rng.random(num) < 0.8
        x[:, i] = np.where(copy, x[:, i - 1], rng.random(num) < (p or 0.3))
    return x


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


# ----------------------------------------------------------------------------- the comparison
def test_compare_rows_run_from_fewest_to_most_parameters():
    x = random_binary(500, 9, seed=3)
    rows = compare_tabular_models(x[:400], x[400:], ks=(2, 4))
    assert [r["name"] for r in rows] == ["independent", "Markov", "AR(2)", "AR(4)", "full joint"]
    assert [r["params"] for r in rows] == [9, 17, 31, 2**4 - 1 + 5 * 16, 2**9 - 1]
    assert all(np.isfinite(r["test_nll"]) for r in rows)  # smoothing: no infinite NLL


def test_more_parameters_never_fit_the_training_set_worse():
    """The models are nested, so at the ML fit (alpha = 0) the train NLL cannot go up."""
    x = random_binary(300, 8, seed=4)
    rows = compare_tabular_models(x, x, ks=(2, 3), alpha=0.0)
    nll = [r["train_nll"] for r in rows]
    assert all(a >= b - 1e-12 for a, b in zip(nll, nll[1:]))
    assert nll[0] > nll[-1] + 0.1  # and the richer models do fit better here


# ----------------------------------------------------------------------------- choosing alpha
def test_alpha_grid_is_half_decades_from_1e_4_to_10():
    assert len(ALPHAS) == 11 and ALPHAS[0] == pytest.approx(1e-4) and ALPHAS[-1] == 10.0
    assert np.allclose(np.diff(np.log10(ALPHAS)), 0.5)


@pytest.mark.parametrize("make", [FullJointTable, lambda a: TabularAR(3, a)],
                         ids=["full table", "AR(3)"])
def test_choose_alpha_takes_the_lowest_validation_nll(make):
    """The chosen alpha is the grid point with the lowest validation NLL, recomputed here."""
    x = random_binary(600, 7, seed=6)
    train, valid = x[:200], x[200:]
    choice = choose_alpha(make, train, valid)
    by_hand = [-make(a).fit(train).log_prob(valid).mean() for a in ALPHAS]
    np.testing.assert_allclose(choice["valid_nll"], by_hand, rtol=0, atol=1e-12)
    assert choice["alpha"] == ALPHAS[int(np.argmin(by_hand))]
    assert choice["model"].alpha == choice["alpha"]
    assert -choice["model"].log_prob(valid).mean() == pytest.approx(min(by_hand), abs=1e-12)


def test_compare_with_validation_tunes_every_model_on_its_own():
    x = random_binary(900, 8, seed=7)
    train, valid, test = x[:300], x[300:600], x[600:]
    rows = compare_tabular_models(train, test, ks=(2, 4), valid=valid)
    assert [r["name"] for r in rows] == ["independent", "Markov", "AR(2)", "AR(4)", "full joint"]
    for r in rows:
        assert r["model"].alpha == r["alpha"] and r["alpha"] in ALPHAS
        assert r["valid_nll"] == min(r["valid_curve"]) and len(r["valid_curve"]) == len(ALPHAS)
        assert r["valid_nll"] == pytest.approx(-r["model"].log_prob(valid).mean(), abs=1e-12)
        assert r["test_nll"] == pytest.approx(-r["model"].log_prob(test).mean(), abs=1e-12)
    fixed = compare_tabular_models(train, test, ks=(2, 4), alpha=0.01)
    assert all(r["alpha"] == 0.01 and "valid_nll" not in r for r in fixed)


def test_choose_alpha_bad_grid():
    x = random_binary(50, 3)
    with pytest.raises(ValueError, match="empty"):
        choose_alpha(FullJointTable, x, x, alphas=[])
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        choose_alpha(FullJointTable, x, x, alphas=[0.1, -1.0])
