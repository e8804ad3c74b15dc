"""Lecture 04's checkers (RGB mask, gated layer, skew): the reference passes, each mistake is named.

The right answer, a stub, a crash and each named mistake of every lecture 01-04 checker built on
``check_cases`` are tried in test_core.py.
"""
import numpy as np
import pytest
import torch

from gm_helpers.exercises import pixel
from gm_helpers.exercises.pixel import (
    GATED_MISTAKES,
    MASK_MISTAKES,
    autoregressive_report,
    check_gated_layer,
    check_rgb_mask,
    dependencies,
    gated_layer_variant,
    rgb_mask_variant,
)
from gm_helpers.models.layers import causal_mask


def reference(k, mask_type, c_in, c_out):
    return causal_mask(k, mask_type, c_in, c_out, groups=3)


def test_the_reference_passes_and_numpy_or_lists_are_accepted():
    assert check_rgb_mask(reference)
    assert check_rgb_mask(lambda *a: reference(*a).numpy())
    assert check_rgb_mask(lambda *a: reference(*a).tolist())


@pytest.mark.parametrize("mistake", MASK_MISTAKES)
def test_each_named_mistake_gets_its_message(mistake):
    feedback = check_rgb_mask(lambda *a: rgb_mask_variant(*a, mistake=mistake))
    assert not feedback
    assert feedback.message.startswith(MASK_MISTAKES[mistake])


@pytest.mark.parametrize("mistake, finding", [
    ("r_sees_itself", "output R at pixel (0, 0) depends on input R at pixel (0, 0)"),
    ("reversed", "depends on input G"),
    ("below", "depends on"),
    ("transposed", "depends on"),
    ("no_groups", "output G at pixel (0, 0) cannot see input R at pixel (0, 0)"),
])
def test_the_gradients_say_what_each_mistake_does(mistake, finding):
    """A leaking mistake is shown as a leak, a cutting one as a missing dependency."""
    assert finding in check_rgb_mask(lambda *a: rgb_mask_variant(*a, mistake=mistake)).message


def test_the_variants_are_all_different_from_the_reference():
    for mistake in MASK_MISTAKES:
        assert any(not torch.equal(rgb_mask_variant(k, t, 3, 6, mistake), reference(k, t, 3, 6))
                   for k in (1, 3, 5) for t in "AB"), mistake


def test_shape_values_and_errors_are_reported():
    assert "(out_channels, in_channels, k, k)" in \
        check_rgb_mask(lambda *a: reference(*a).transpose(0, 1)).message
    assert "0s and 1s" in check_rgb_mask(lambda *a: 2 * reference(*a)).message
    assert "shape" in check_rgb_mask(lambda *a: reference(*a)[0]).message

    def not_done(*a):
        raise NotImplementedError

    assert "not implemented" in check_rgb_mask(not_done).message

    def broken(k, t, c_in, c_out):
        raise IndexError("oops")

    assert "IndexError: oops" in check_rgb_mask(broken).message


def test_an_unnamed_leak_is_found_by_gradients():
    def right_of_centre(*a):  # the centre row's right half left open
        mask = reference(*a)
        mask[:, :, a[0] // 2, a[0] // 2 + 1:] = 1
        return mask

    feedback = check_rgb_mask(right_of_centre)
    assert not feedback and "autoregressive property fails" in feedback.message


def test_an_unnamed_cut_is_reported_as_missing():
    def no_top_row(*a):
        mask = reference(*a)
        mask[:, :, 0] = 0
        return mask

    feedback = check_rgb_mask(no_top_row)
    assert not feedback and "too much is cut" in feedback.message


def test_dependencies_of_the_reference_stack_are_strictly_before():
    masks = [reference(5, "A", 3, 6), reference(3, "B", 6, 9), reference(1, "B", 9, 3)]
    leaks, missing = autoregressive_report(masks)
    assert leaks == [] and missing == []
    dep = dependencies(masks, size=4)  # (3, 4, 4, 3, 4, 4)
    centre = dep[:, 2, 2, :, 2, 2] > 0  # same pixel: out channel x in channel
    assert centre.int().tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]


# ----------------------------------------------------------------------------- a gated layer
def test_the_gated_reference_reproduces_the_package_and_passes():
    feedback = check_gated_layer(gated_layer_variant)
    assert feedback, feedback.message


@pytest.mark.parametrize("mistake", GATED_MISTAKES)
def test_each_gated_mistake_gets_its_message(mistake):
    feedback = check_gated_layer(lambda *a: gated_layer_variant(*a, mistake=mistake))
    assert not feedback and feedback.message == GATED_MISTAKES[mistake]


def test_gated_errors_and_unnamed_mistakes_are_reported():
    def not_done(*a):
        raise NotImplementedError

    assert "not implemented" in check_gated_layer(not_done).message

    def halved(*args):  # causal, but not the package's layer
        v_new, h_new = gated_layer_variant(*args)
        return v_new, h_new * 0.5

    feedback = check_gated_layer(halved)
    assert not feedback and "no leak, but the logits differ" in feedback.message

    def leaky(v, h, *rest):
        v_new, h_new = gated_layer_variant(v, h, *rest)
        return v_new, h_new + torch.roll(h_new, -1, 3)  # reads the pixel to the right

    feedback = check_gated_layer(leaky)
    assert not feedback and "by gradients" in feedback.message
    assert "not before it" in feedback.message


# ----------------------------------------------------------------------------- the skew
@pytest.mark.parametrize("student, ok", [
    (lambda x: np.array([np.pad(row, (i, len(x) - 1 - i)) for i, row in enumerate(x)]), True),
    (lambda x: np.array([np.pad(row, (i, x.shape[1] - 1 - i)) for i, row in enumerate(x)]), False),
])
def test_skew_needs_non_square_inputs(student, ok):
    """The second answer pads by the number of columns, not of rows: right only when H = W."""
    assert bool(pixel.check_skew(student)) is ok
