"""Lecture 03's checkers: building a MADE, and log-mean-exp on non-square inputs.

The right answer, a stub, a crash and each named mistake of every lecture 01-04 checker built on
``check_cases`` are tried in test_core.py.
"""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.exercises import made
from gm_helpers.exercises.made import check_made, reachable, reference_masks
from gm_helpers.models.made import MADE


# ----------------------------------------------------------------------------- building a MADE
def small_made(mistake=None):
    """The lecture's SmallMADE, with one deliberate ``mistake`` (None: the right answer)."""

    class SmallMADE(nn.Module):
        def __init__(self, D, hidden, order, seed=0):
            super().__init__()
            g = torch.Generator().manual_seed(seed)
            order = torch.as_tensor(order)
            sizes = [D, *hidden, D]
            self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
            m0 = torch.empty(D, dtype=torch.long)
            m0[order] = torch.arange(1, D + 1)
            if mistake == "inverse order":
                m0 = order + 1
            if mistake == "ignore order":
                m0 = torch.arange(1, D + 1)
            self.m = [m0]
            for size in hidden:
                low = int(self.m[-1].min())
                if mistake == "0..D":
                    self.m.append(torch.randint(0, D + 1, (size,), generator=g))
                else:
                    self.m.append(torch.randint(low, D, (size,), generator=g))
            swapped = mistake == "swapped"  # hidden >, output >=
            hidden_cmp = (lambda a, b: a > b) if mistake == "hidden >" or swapped else \
                (lambda a, b: a >= b)
            output_cmp = (lambda a, b: a >= b) if mistake == "output >=" or swapped else \
                (lambda a, b: a > b)
            if mistake == "reversed":
                hidden_cmp = lambda a, b: a <= b  # noqa: E731
            self.masks = [hidden_cmp(m_out[:, None], m_in[None, :]).float()
                          for m_in, m_out in zip(self.m[:-1], self.m[1:])]
            self.masks.append(output_cmp(m0[:, None], self.m[-1][None, :]).float())
            if mistake == "transposed":
                self.masks = [mask.T for mask in self.masks]

        def forward(self, x):
            h = x
            for i, (layer, mask) in enumerate(zip(self.layers, self.masks)):
                weight = layer.weight if mistake == "no mask in forward" else layer.weight * mask
                h = F.linear(h, weight, layer.bias)
                if i < len(self.layers) - 1 or mistake == "relu on logits":
                    h = F.relu(h)
            return h

    return SmallMADE


@pytest.mark.parametrize("mistake, message", [
    (None, None),
    ("hidden >", "hidden masks need >="),
    ("output >=", "output mask needs a strict >"),
    ("swapped", "the two mask rules are swapped: hidden masks use >="),
    ("transposed", "transposed"),
    ("reversed", "wrong way round"),
    ("no mask in forward", "does forward multiply each layer's weight by its mask"),
    ("0..D", "not 0..D"),
    ("inverse order", "inverse permutation"),
    ("ignore order", "the ordering is ignored"),
    ("relu on logits", "no ReLU after the last layer"),
])
def test_check_made_names_each_mistake(mistake, message):
    feedback = check_made(small_made(mistake))
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def test_check_made_reports_the_leak_it_found_by_gradients():
    feedback = repr(check_made(small_made("output >=")))
    assert "found by gradients" in feedback and "itself" in feedback and "sum to" in feedback


def test_check_made_passes_the_right_answer_for_many_seeds():
    """No false alarm from a ReLU that happens to be off: the dependency test uses many points."""
    from gm_helpers.exercises.made import CONFIGS
    saved = CONFIGS
    try:
        CONFIGS = [(D, hidden, order, seed + 10 * k) for k in range(5)
                      for D, hidden, order, seed in saved]
        assert check_made(small_made())
    finally:
        CONFIGS = saved


def test_check_made_stub_and_errors():
    class Stub(nn.Module):
        def __init__(self, D, hidden, order, seed=0):
            raise NotImplementedError

    class NoAttributes(nn.Module):
        def __init__(self, D, hidden, order, seed=0):
            super().__init__()
            self.lin = nn.Linear(D, D)

    assert "not implemented" in repr(check_made(Stub))
    assert "self.m" in repr(check_made(NoAttributes))
    assert "raised ZeroDivisionError" in repr(check_made(lambda *a: 1 / 0))


def test_reachability_of_the_reference_masks_is_strictly_lower_triangular_in_the_order():
    model = MADE(7, hidden=(20, 20), order=[3, 6, 0, 2, 5, 1, 4], seed=2)
    _, _, m = model.connectivity(0, return_numbers=True)
    reach = reachable(reference_masks(m))
    position = m[0] - 1
    for d in range(7):
        for j in range(7):
            if reach[d, j]:
                assert position[j] < position[d]


# ----------------------------------------------------------------------------- log-mean-exp
def test_a_square_only_answer_is_rejected():
    """K taken from the last axis is right for 1-d and square inputs only."""
    def last_axis_k(logp):
        top = logp.max(0)
        return top + np.log(np.exp(logp - top).sum(0)) - np.log(logp.shape[-1])
    square = np.array([[-3.0, -800.0], [-4.0, -801.0]])      # the only 2-d case there was
    top = square.max(0)
    assert np.allclose(last_axis_k(square), top + np.log(np.exp(square - top).mean(0)))
    assert not made.check_log_mean_exp(last_axis_k)     # the non-square cases catch it
