"""NADE: the streamed running sum equals the naive loop and the cumsum, and completion keeps given pixels.

Its autoregressive property, normalisation and sampling are checked beside FVSBN's and MADE's in
test_made.py.
"""
import numpy as np
import pytest
import torch

from gm_helpers.models.nade import NADE
from tests.helpers import randomised

D = 8
ORDERS = {"natural": None, **{f"random{s}": np.random.default_rng(s).permutation(D).tolist()
                              for s in range(2)}}


def test_nade_fast_forward_equals_the_naive_loop():
    """The running-activation recurrence a_{t+1} = a_t + W[:, t] x_t gives the same logits."""
    for order in ORDERS.values():
        model = randomised(NADE(D, H=16, order=order)).double()
        x = torch.bernoulli(torch.full((5, D), 0.4, dtype=torch.float64))
        torch.testing.assert_close(model.logits(x), model.logits_naive(x))


@pytest.mark.parametrize("D", [1, 2, 3, 10, 17, 50])
def test_nade_streamed_running_sum_for_any_D(D):
    """The streamed running sum (chunks of ceil(sqrt(D)), the last one zero-padded, the sum
    carried across chunks) equals the naive loop whether or not D is a multiple of the chunk
    length, and so do its gradients, which training follows."""
    order = torch.randperm(D, generator=torch.Generator().manual_seed(D)).tolist()
    model = randomised(NADE(D, H=6, order=order)).double()
    x = torch.bernoulli(torch.full((4, D), 0.5, dtype=torch.float64))
    torch.testing.assert_close(model.logits(x), model.logits_naive(x))
    grads = []
    for logits_fn in (model.logits, model.logits_naive):
        model.zero_grad()
        (logits_fn(x) * torch.linspace(-1, 1, D, dtype=x.dtype)).sum().backward()
        grads.append([p.grad.clone() for p in (model.W, model.c, model.V, model.b)])
    for fast, naive in zip(*grads):
        torch.testing.assert_close(fast, naive)


def test_image_shaped_input():
    model = NADE(784, H=8)
    x = torch.bernoulli(torch.full((2, 1, 28, 28), 0.2))
    assert model.log_prob(x).shape == (2,)


def test_nade_completion_keeps_the_given_pixels():
    model = randomised(NADE(D, H=8))
    given = torch.bernoulli(torch.full((4, D), 0.5))
    x = model.sample(4, given=given, num_given=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x[:, :5], given[:, :5])
    with pytest.raises(ValueError, match="rows"):
        model.sample(3, given=given, num_given=5)


@pytest.mark.parametrize("D", [1, 7, 30])
def test_nade_plain_cumsum_equals_the_streamed_and_naive_logits(D):
    order = torch.randperm(D, generator=torch.Generator().manual_seed(D)).tolist()
    model = randomised(NADE(D, H=5, order=order)).double()
    x = torch.bernoulli(torch.full((3, D), 0.5, dtype=torch.float64))
    torch.testing.assert_close(model.logits_cumsum(x), model.logits_naive(x))
    torch.testing.assert_close(model.logits_cumsum(x), model.logits(x))


def _certain_nade(D=6):
    """A NADE that draws 1 for every pixel with probability ~1 (output bias +50)."""
    model = NADE(D=D, H=2, order=[3, 0, 5, 1, 4, 2])
    with torch.no_grad():
        model.V.zero_()
        model.b.fill_(50.0)
    return model


def test_nade_completion_copies_exactly_num_given_pixels_in_its_order():
    model = _certain_nade()
    given = torch.zeros(4, 6)           # the model would never draw these 0s
    for num_given in range(0, 7):
        x = model.sample(4, given=given, num_given=num_given)
        order = model.order.tolist()
        for t, d in enumerate(order):   # given in the model's order, then sampled
            assert (x[:, d] == (0.0 if t < num_given else 1.0)).all(), (num_given, t, d)
