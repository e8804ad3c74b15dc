"""Lecture 06's explorers, driven through their callbacks: the 2-d GAN runs and the DCGAN's seeds."""
import pytest
import torch
from matplotlib.figure import Figure

from gm_helpers.models.dcgan import Generator
from gm_helpers.widgets.gan import dcgan_explorer, draw_run, toy_gan_explorer


def test_toy_explorer_trains_on_click_and_scrubs():
    explorer = toy_gan_explorer(num_steps=200)
    assert isinstance(explorer.figure, Figure)
    first = explorer.run_result
    explorer.settings["dataset"].value = "grid"
    assert explorer.run_result is first  # settings alone do not train
    explorer.settings["remedy"].value = "pacgan"
    explorer.settings["num_steps"].value = 200
    explorer.button.click()
    assert explorer.run_result is not first and explorer.run_result["metrics"]["num_modes"] == 25
    slider = explorer.controls["index"]
    assert slider.max == len(explorer.run_result["snapshots"]) - 1 == slider.value
    slider.value = 0
    assert explorer.result["index"] == 0 and isinstance(explorer.figure, Figure)
    assert isinstance(draw_run(explorer.run_result, steps=[0, 200]), Figure)


def test_dcgan_explorer_follows_its_seeds():
    G = Generator(latent=8, width=4)
    explorer = dcgan_explorer(G)
    explorer.controls["seed"].value = 5
    torch.testing.assert_close(explorer.result["grid"], G.sample(36, seed=5))
    explorer.controls["seed_b"].value = 7
    z7 = torch.randn(1, 8, generator=torch.Generator().manual_seed(7))
    G.eval()
    torch.testing.assert_close(explorer.result["path"][-1], G(z7)[0])


def test_dcgan_explorer_seed_boxes_hold_only_seeds_and_never_show_a_stale_figure():
    """The boxes clamp -1 and 2**64 to torch's range; a bad seed that reaches the function
    anyway (a notebook calling it) clears the figure and says why, instead of leaving the last
    figure looking current."""
    from gm_helpers.widgets.gan import MAX_SEED, dcgan_result
    G = Generator(latent=8, width=4)
    explorer = dcgan_explorer(G)
    for bad, kept in ((-1, 0), (2**64, MAX_SEED)):
        explorer.controls["seed"].value = bad
        assert explorer.controls["seed"].value == kept and explorer.result["seed"] == kept
    with pytest.raises(ValueError, match="seed must be an integer"):
        dcgan_result(G, -1, 1, 2)
    explorer.compute = lambda **values: dcgan_result(G, -1, 1, 2)
    explorer.update()
    assert explorer.result is None and "seed must be an integer" in explorer.error
