"""Exact checks by enumeration: dependencies by gradients, total probability, combinations of MADE's masks.

The three ways of combining a MADE's masks (lecture 3): which of them is a normalised
distribution, checked over all 2**D states.
"""
import pytest
import torch

from gm_helpers.analysis.exact import (
    binary_states,
    combination_totals,
    combine_masks,
    dependencies,
    leaks,
    total_probability,
)
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.made import MADE
from gm_helpers.models.nade import NADE
from tests.helpers import randomised


@pytest.mark.parametrize("build, D", [(lambda: FVSBN(6, order=[2, 0, 5, 1, 4, 3]), 6),
                                      (lambda: NADE(6, H=8, order=[5, 4, 3, 2, 1, 0]), 6),
                                      (lambda: MADE(6, hidden=(24,), order=[1, 3, 5, 0, 2, 4]), 6)])
def test_dependencies_and_total_probability_on_the_package_models(build, D):
    model = randomised(build(), scale=1.5).double()
    dep = dependencies(model.logits, D)
    assert leaks(dep, model.order.tolist()) == []
    assert total_probability(model.log_prob, D) == pytest.approx(1.0, abs=1e-12)


def test_leaks_finds_a_model_that_sees_its_own_input():
    dep = dependencies(lambda x: x * 2.0, 4)  # output d depends on x_d only
    assert leaks(dep, [0, 1, 2, 3]) == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_binary_states_and_bad_sizes():
    assert binary_states(3).shape == (8, 3)
    with pytest.raises(ValueError, match="1 <= D <= 20"):
        binary_states(25)


@pytest.mark.parametrize("D", [6, 8])
def test_one_ordering_every_average_of_masks_is_normalised(D):
    """Several connectivities, one ordering: averaging logits or per-pixel probabilities across
    masks is still a chain rule (conditional d sees only x_<d), so all sum to exactly 1."""
    model = randomised(MADE(D, hidden=(32, 32), num_masks=6, order="random:1", seed=4), scale=1.5)
    totals = combination_totals(model)
    assert totals == pytest.approx({k: 1.0 for k in totals}, abs=1e-12)


@pytest.mark.parametrize("D", [6, 8])
def test_changing_orderings_only_the_mixture_is_normalised(D):
    """Masks that also change the ordering: the mixture of joints sums to 1; the per-pixel
    averages do not (each conditional then sees pixels after it in some ordering)."""
    model = randomised(MADE(D, hidden=(32,), num_masks=6, order_agnostic=True, seed=4))
    totals = combination_totals(model)
    assert totals["mixture"] == pytest.approx(1.0, abs=1e-12)
    assert abs(totals["mean of logits"] - 1) > 5e-3  # 0.97 and 1.06: far from rounding error
    assert abs(totals["mean of probabilities"] - 1) > 5e-3


def test_combine_masks_mixture_is_the_package_ensemble():
    model = randomised(MADE(6, hidden=(16,), num_masks=3, order_agnostic=True, seed=1)).double()
    x = binary_states(6)
    model.set_mask(1)
    combined = combine_masks(model, x)
    assert model.mask_index == 1  # the model's current mask is restored
    with torch.no_grad():
        torch.testing.assert_close(combined["mixture"], model.log_prob(x))
