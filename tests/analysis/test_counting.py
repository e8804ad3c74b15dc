"""Comparing the tabular models, and choosing their smoothing alpha on held-out data."""
import numpy as np
import pytest

from gm_helpers.analysis.counting import ALPHAS, choose_alpha, compare_tabular_models
from gm_helpers.models.tabular import FullJointTable, TabularAR
from tests.helpers import random_binary


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
