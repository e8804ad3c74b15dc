"""Conditional independence and conditional mutual information, counted on data."""
import math

import numpy as np
import pytest

from gm_helpers.analysis.independence import (
    conditional_mutual_information,
    conditional_table,
    joint_counts,
    shuffle_within,
)

cmi = conditional_mutual_information


def markov_triples(num, seed=0):
    """y -> z -> x, each a noisy copy of the one before: x is independent of y given z."""
    rng = np.random.default_rng(seed)
    y = (rng.random(num) < 0.4).astype(int)
    z = np.where(rng.random(num) < 0.8, y, 1 - y)
    x = np.where(rng.random(num) < 0.7, z, 1 - z)
    return x, y, z


def exactly_independent_given_z():
    """Data whose empirical table factorises exactly: #(x, y | z) = #(x | z) #(y | z)."""
    rows = []
    for z, x_counts, y_counts in [(0, (2, 3), (1, 4)), (1, (5, 1), (2, 2))]:
        for a in (0, 1):
            for b in (0, 1):
                rows += [(a, b, z)] * (x_counts[a] * y_counts[b])
    x, y, z = np.array(rows).T
    return x, y, z


def test_joint_counts_match_a_loop():
    x, y, z = markov_triples(300, seed=1)
    zz = np.stack([z, y ^ z], 1)  # two context bits, the first the most significant
    counts = joint_counts(x, y, zz)
    assert counts.shape == (4, 2, 2) and counts.sum() == 300
    for c in range(4):
        for b in (0, 1):
            for a in (0, 1):
                want = sum(1 for i in range(300)
                           if 2 * zz[i, 0] + zz[i, 1] == c and y[i] == b and x[i] == a)
                assert counts[c, b, a] == want


def test_exact_factorisation_has_zero_cmi_and_equal_conditionals():
    """p(x | y, z) = p(x | z) exactly in the counts: both sides agree and I(x; y | z) = 0."""
    x, y, z = exactly_independent_given_z()
    table = conditional_table(x, y, z)
    both_y = np.repeat(table["p_x_given_z"][:, None], 2, axis=1)  # (2, 2): the same for y = 0, 1
    np.testing.assert_allclose(table["p_x_given_yz"], both_y, atol=1e-15)
    assert cmi(x, y, z) == pytest.approx(0.0, abs=1e-12)
    assert cmi(x, y, z) >= 0.0


def test_conditional_table_values():
    x, y, z = markov_triples(2000, seed=2)
    table = conditional_table(x, y, z)
    for c in (0, 1):
        assert table["count_z"][c] == (z == c).sum()
        assert table["p_x_given_z"][c] == pytest.approx(x[z == c].mean(), abs=1e-15)
        for b in (0, 1):
            rows = (z == c) & (y == b)
            assert table["count_yz"][c, b] == rows.sum()
            assert table["p_x_given_yz"][c, b] == pytest.approx(x[rows].mean(), abs=1e-15)


def test_unseen_context_gives_nan_not_an_error():
    x, y, z = np.array([0, 1, 1]), np.array([0, 0, 1]), np.array([0, 0, 0])
    table = conditional_table(x, y, z)
    assert np.isnan(table["p_x_given_z"][1]) and np.isnan(table["p_x_given_yz"][1]).all()


def test_copies_carry_one_bit_and_empty_z_is_plain_mutual_information():
    """x = y, a fair coin: I(x; y) = H(x) = 1 bit = log 2 nats; given z = x it is 0."""
    x = np.tile([0, 1], 500)
    empty = np.zeros((1000, 0), dtype=int)
    assert cmi(x, x, empty) == pytest.approx(1.0, abs=1e-12)
    assert cmi(x, x, empty, base=math.e) == pytest.approx(math.log(2), abs=1e-12)
    assert cmi(x, x, x) == pytest.approx(0.0, abs=1e-12)


def test_symmetric_and_chain_rule_of_mutual_information():
    """I(x; y | z) = I(y; x | z), and I(x; (y, z)) = I(x; z) + I(x; y | z)."""
    rng = np.random.default_rng(3)
    y, z = (rng.random(5000) < 0.5).astype(int), (rng.random(5000) < 0.3).astype(int)
    x = ((y & z) | (rng.random(5000) < 0.2)).astype(int)
    empty = np.zeros((5000, 0), dtype=int)
    assert cmi(x, y, z) == pytest.approx(cmi(y, x, z), abs=1e-12)
    i_x_yz = _mutual_information(x, 2 * y + z)  # (y, z) as one variable with 4 values
    assert i_x_yz == pytest.approx(cmi(x, z, empty) + cmi(x, y, z), abs=1e-12)
    assert cmi(x, y, np.stack([y, z], 1)) == pytest.approx(0.0, abs=1e-12)  # y given y: nothing


def _mutual_information(x, v):
    """I(x; v) in bits for binary x and a v with a few integer values, by a direct sum."""
    total = 0.0
    for a in (0, 1):
        for b in np.unique(v):
            p = np.mean((x == a) & (v == b))
            if p > 0:
                total += p * math.log2(p / (np.mean(x == a) * np.mean(v == b)))
    return total


def test_markov_chain_data_is_nearly_conditionally_independent():
    """On y -> z -> x data the dependence of x on y is large, and given z it is only noise."""
    x, y, z = markov_triples(50_000, seed=4)
    empty = np.zeros((50_000, 0), dtype=int)
    assert cmi(x, y, empty) > 0.03
    assert cmi(x, y, z) < 2e-4
    assert cmi(x, z, y) > 0.03  # but x does depend on z given y: z is the parent


def test_shuffle_within_keeps_the_counts_and_breaks_the_link():
    rng = np.random.default_rng(5)
    z = (rng.random(20_000) < 0.5).astype(int)
    y = (rng.random(20_000) < 0.5).astype(int)
    x = y.copy()  # x depends on y, given anything
    shuffled = shuffle_within(y, z, seed=0)
    assert np.array_equal(joint_counts(shuffled, z, np.zeros((20_000, 0), int)),
                          joint_counts(y, z, np.zeros((20_000, 0), int)))  # same (y, z) counts
    assert cmi(x, y, z) > 0.9
    assert cmi(x, shuffled, z) < 1e-3
    assert np.array_equal(shuffled, shuffle_within(y, z, seed=0))


@pytest.mark.parametrize("call, match", [
    (lambda: cmi([0, 1, 2], [0, 1, 1], [0, 0, 1]), "x must be binary"),
    (lambda: cmi([0, 1], [0, 1, 1], [0, 0, 1]), "same length"),
    (lambda: cmi([[0, 1]], [0, 1], [0, 0]), "1-D"),
    (lambda: cmi([0, 1, 1], [0, 1, 1], [0, 0]), "N = 3"),
    (lambda: cmi([0, 1, 1], [0, 1, 1], [0, 3, 1]), "z must be binary"),
    (lambda: cmi([0, 1], [0, 1], np.zeros((2, 21), int)), "at most 20"),
])
def test_bad_inputs(call, match):
    with pytest.raises(ValueError, match=match):
        call()
