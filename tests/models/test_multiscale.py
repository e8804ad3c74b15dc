"""Multi-scale sampling orders: every pixel drawn exactly once, the pass counts of each scheme, and
Reed et al.'s groups (the base, then three groups per doubling)."""
import math

import pytest
import torch

from gm_helpers.models.multiscale import SCHEMES, num_passes, sampling_steps


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("N, b", [(1, 1), (2, 1), (8, 2), (28, 7), (32, 4)])
def test_every_pass_draws_something_and_every_pixel_is_drawn_once(scheme, N, b):
    steps = sampling_steps(N, scheme, b)
    assert steps.shape == (N, N) and steps.dtype == torch.long
    first = b * b if scheme == "multiscale_pixelrnn" else 0   # the small image came first
    used = steps.unique()
    assert torch.equal(used, torch.arange(first, first + len(used)))  # no empty pass


@pytest.mark.parametrize("N, b", [(2, 1), (8, 2), (16, 2), (28, 7), (28, 14), (32, 4), (64, 4)])
def test_pass_counts(N, b):
    assert num_passes(N, "raster", b) == N * N
    assert num_passes(N, "multiscale_pixelrnn", b) == b * b + N * N
    assert num_passes(N, "parallel_multiscale", b) == b * b + 3 * round(math.log2(N // b))
    if (N, b) == (28, 7):
        assert num_passes(N, "parallel_multiscale", b) == 55   # against 784


def test_parallel_groups_are_the_base_then_three_per_doubling():
    steps = sampling_steps(8, "parallel_multiscale", 2)
    assert torch.equal(steps[::4, ::4], torch.tensor([[0, 1], [2, 3]]))  # the 2x2 base, raster
    # first doubling (stride 4 -> 2): top right, bottom left, bottom right of each 4x4 block
    assert (steps[::4, 2::4] == 4).all() and (steps[2::4, ::4] == 5).all()
    assert (steps[2::4, 2::4] == 6).all()
    # second doubling (stride 2 -> 1)
    assert (steps[::2, 1::2] == 7).all() and (steps[1::2, ::2] == 8).all()
    assert (steps[1::2, 1::2] == 9).all()
    # a group's pixels are drawn after the coarser pixels of their block: each bottom-right pixel
    # comes after its block's top-left, top-right and bottom-left
    assert (steps[1::2, 1::2] > steps[::2, ::2]).all()


def test_raster_is_the_pixelcnn_order():
    assert torch.equal(sampling_steps(4, "raster").flatten(), torch.arange(16))


@pytest.mark.parametrize("kwargs, message", [
    ({"image_size": 28, "scheme": "parallel_multiscale", "base_size": 5}, "power of 2"),
    ({"image_size": 28, "scheme": "parallel_multiscale", "base_size": 29}, "base_size must be"),
    ({"image_size": 0}, "image_size must be"),
    ({"image_size": 28.0}, "image_size must be"),
    ({"scheme": "zigzag"}, "scheme must be one of"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampling_steps(**kwargs)
