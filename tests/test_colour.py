"""Colour digits and the colour PixelCNN: p(R) p(G | R) p(B | R, G), per channel and exactly."""
import itertools
import math

import pytest
import torch
from conftest import randomised

from gm_helpers.data import colour_digits
from gm_helpers.models.pixelcnn import PixelCNN


def _digits(n=50, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.full((n, 1, size, size), 0.3), generator=g)


def test_colour_digits_paints_two_distinct_colours_per_image():
    x = _digits()
    x[0] = 0  # an empty image: only the background colour
    x[1] = 1  # a full image: only the foreground colour
    y = colour_digits(x, levels=4, seed=0)
    assert y.shape == (50, 3, 8, 8) and y.dtype == torch.float32
    assert ((y >= 0) & (y <= 3) & (y == y.round())).all()
    for image, digit in zip(y, x):
        fg = image[:, digit[0] == 1]  # (3, pixels of the digit)
        bg = image[:, digit[0] == 0]
        if fg.numel():
            assert (fg == fg[:, :1]).all(), "one foreground colour per image"
        if bg.numel():
            assert (bg == bg[:, :1]).all(), "one background colour per image"
        if fg.numel() and bg.numel():
            assert not torch.equal(fg[:, 0], bg[:, 0]), "the digit must not vanish"


def test_colour_digits_is_seeded_and_shows_the_digit():
    x = _digits()
    assert torch.equal(colour_digits(x, 4, seed=3), colour_digits(x, 4, seed=3))
    assert not torch.equal(colour_digits(x, 4, seed=3), colour_digits(x, 4, seed=4))
    y = colour_digits(x, levels=2, seed=0)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    # the digit is recoverable: the pixels that share the first foreground pixel's colour
    for image, digit in zip(y, x):
        if 0 < digit.sum() < digit.numel():
            r, c = torch.nonzero(digit[0])[0].tolist()
            same = (image == image[:, r:r + 1, c:c + 1]).all(0)
            assert torch.equal(same.float(), digit[0])


def test_colour_digits_colours_are_uniform_over_distinct_pairs():
    """fg uniform over the 64 colours, bg uniform over the 63 others: P(R equal) = 15/63."""
    y = colour_digits(torch.zeros(20000, 1, 1, 2).index_fill_(3, torch.tensor([0]), 1.0), 4, 0)
    fg, bg = y[:, :, 0, 0], y[:, :, 0, 1]  # (N, 3) each
    assert (fg != bg).any(1).all()
    assert (fg == bg)[:, 0].float().mean().item() == pytest.approx(15 / 63, abs=0.01)
    assert fg[:, 0].float().mean().item() == pytest.approx(1.5, abs=0.03)


@pytest.mark.parametrize("bad", [torch.full((2, 1, 4, 4), 0.5), torch.zeros(2, 3, 4, 4)])
def test_colour_digits_bad_inputs(bad):
    with pytest.raises(ValueError, match="binary images"):
        colour_digits(bad)
    with pytest.raises(ValueError, match="levels"):
        colour_digits(torch.zeros(2, 1, 4, 4), levels=1)


def test_log_prob_channels_sums_to_log_prob():
    model = randomised(PixelCNN(channels=3, levels=4, hidden=2, num_layers=1, image_size=6),
                       scale=0.5)
    x = colour_digits(_digits(5, 6), levels=4)
    with torch.no_grad():
        per_channel = model.log_prob_channels(x)  # (5, 3)
        assert per_channel.shape == (5, 3) and (per_channel < 0).all()
        assert torch.allclose(per_channel.sum(1), model.log_prob(x), atol=1e-4)
    binary = randomised(PixelCNN(hidden=2, num_layers=1, image_size=6))
    b = _digits(4, 6)
    with torch.no_grad():
        assert torch.allclose(binary.log_prob_channels(b)[:, 0], binary.log_prob(b), atol=1e-4)


def test_each_channel_is_a_normalised_conditional_on_one_pixel():
    """One pixel, 4 levels: sum_R p(R) = 1, sum_G p(G | R) = 1 for every R, and so on; the
    joint sums to 1 over all 64 colours."""
    model = randomised(PixelCNN(channels=3, levels=4, hidden=3, num_layers=1, image_size=1),
                       scale=1.0, dtype=torch.float64)
    states = torch.tensor(list(itertools.product(range(4), repeat=3)), dtype=torch.float64)
    with torch.no_grad():
        lp = model.log_prob_channels(states.view(64, 3, 1, 1)).view(4, 4, 4, 3)  # [R, G, B, ch]
    p_r, p_g, p_b = lp[..., 0].exp(), lp[..., 1].exp(), lp[..., 2].exp()
    assert torch.allclose(p_r[:, 0, 0].sum(), torch.tensor(1.0, dtype=torch.float64))
    assert torch.allclose(p_g[:, :, 0].sum(1), torch.ones(4, dtype=torch.float64))
    assert torch.allclose(p_b.sum(2), torch.ones(4, 4, dtype=torch.float64))
    # p(R) does not depend on G or B; p(G | R) not on B
    assert torch.allclose(p_r, p_r[:, :1, :1].expand(4, 4, 4))
    assert torch.allclose(p_g, p_g[:, :, :1].expand(4, 4, 4))
    assert lp.sum(-1).exp().sum().item() == pytest.approx(1.0, abs=1e-12)


def test_joint_normalisation_on_2x2_binary_colour_images():
    """channels = 3, levels = 2, 2 x 2 pixels: 2**12 states, probabilities sum to 1."""
    model = randomised(PixelCNN(channels=3, levels=2, hidden=2, num_layers=1, image_size=2),
                       scale=1.0, dtype=torch.float64)
    states = torch.tensor(list(itertools.product((0.0, 1.0), repeat=12)), dtype=torch.float64)
    with torch.no_grad():
        total = model.log_prob(states.view(-1, 3, 2, 2)).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-10)


def test_uniform_colour_model_costs_two_bits_per_dimension():
    from gm_helpers.training.loop import bits_per_dim
    assert bits_per_dim(784 * 3 * math.log(4), 784 * 3) == pytest.approx(2.0)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_mask_widget_draws_the_channel_connections_from_causal_mask(k):
    """The widget's kernels and centre table are causal_mask's, so A and B differ per channel."""
    from gm_helpers.models.layers import causal_mask
    from gm_helpers.widgets.pixel import draw_mask, mask_table
    for mask_type in "AB":
        mask = causal_mask(k, mask_type, 3, 3, groups=3)
        for out, channel in enumerate("RGB"):
            result = mask_table(k, mask_type, channel)
            assert torch.equal(result["kernels"], mask[out].int())
            assert torch.equal(result["centre"], mask[:, :, k // 2, k // 2].int())
        fig = draw_mask(result)
        assert len(fig.axes) == 2 and "centre sees: R+G" in fig.axes[0].get_title()
    a, b = mask_table(k, "A", "G")["kernels"], mask_table(k, "B", "G")["kernels"]
    assert a[:, k // 2, k // 2].tolist() == [1, 0, 0] and b[:, k // 2, k // 2].tolist() == [1, 1, 0]
