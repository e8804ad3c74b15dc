"""Lecture 08's reverse-process explorer: frames, step menus, refusals, drawing, no browser."""
import matplotlib.pyplot as plt
import pytest
import torch

from gm_helpers.models.diffusion import DigitDDPM, ddpm_2d
from gm_helpers.widgets.diffusion import draw_reverse, draw_reverse_strip, reverse_explorer, reverse_result
from tests.helpers import randomised


@pytest.fixture(scope="module")
def models():
    ring = randomised(ddpm_2d(hidden=(8,), T=20, scale=0.25), scale=0.1)
    digits = randomised(DigitDDPM(widths=(8, 16), T=20), scale=0.05)
    return {"ring": ring, "digits": digits}


def test_frames_go_from_noise_to_samples(models):
    first = reverse_result(models, "ring", 5, 0)
    last = reverse_result(models, "ring", 5, 5)
    assert first["num_frames"] == 6 and not first["ancestral"]
    assert first["x"].shape == (2000, 2)
    noise = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(first["x"], noise * 0.25)           # x_T in the data's units
    assert not torch.equal(first["x"], last["x"])
    full = reverse_result(models, "ring", 1000, 3)            # steps >= T: ancestral
    assert full["ancestral"] and full["num_frames"] == 21
    image = reverse_result(models, "digits", 4, 4)
    assert image["image"] and image["x"].shape == (16, 1, 28, 28)


def test_refusals(models):
    with pytest.raises(ValueError, match="data"):
        reverse_result(models, "spiral", 5, 0)
    with pytest.raises(ValueError, match="steps"):
        reverse_result(models, "digits", 1000, 0)
    with pytest.raises(ValueError, match="frame"):
        reverse_result(models, "ring", 5, 6)


def test_drawing(models):
    fig = draw_reverse(reverse_result(models, "digits", 4, 2))
    assert len(fig.axes) == 1
    plt.close(fig)
    fig = draw_reverse_strip([reverse_result(models, "ring", 5, k) for k in (0, 2, 5)])
    assert len(fig.axes) == 3
    plt.close(fig)


def test_the_explorer_follows_its_controls(models):
    e = reverse_explorer(models, steps=10)
    assert e.controls["frame"].max == 10 and e.result["frame"] == 0
    e.controls["frame"].value = 10
    assert e.result["frame"] == 10 and e.figure is not None
    e.controls["steps"].value = 1000
    assert e.controls["frame"].max == 20 and e.result["ancestral"]    # T + 1 = 21 frames
    e.controls["data"].value = "digits"
    assert e.error and "steps" in e.error
    e.controls["steps"].value = 20
    assert e.error is None and e.result["image"]
