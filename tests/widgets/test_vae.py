"""Lecture 05's explorers: each recomputes and redraws when its controls move."""
import pytest
import torch
from matplotlib.figure import Figure

from gm_helpers.models.vae import VAE
from gm_helpers.widgets.vae import (
    beta_explorer,
    interpolation_explorer,
    latent_map_explorer,
    rate_distortion,
    traversal_explorer,
)
from tests.helpers import randomised

X = torch.bernoulli(torch.full((40, 1, 28, 28), 0.2), generator=torch.Generator().manual_seed(0))
LABELS = torch.arange(40) % 10


def vae(latent, seed=0, beta=1.0):
    return randomised(VAE(784, hidden=(16,), latent=latent, beta=beta), seed=seed, scale=0.1)


def test_latent_map_decodes_the_chosen_point():
    model = vae(2)
    explorer = latent_map_explorer(model, X, LABELS)
    first = explorer.figure
    explorer.controls["z1"].value = 1.5
    explorer.controls["z2"].value = -2.0
    assert explorer.result["z"] == (1.5, -2.0)
    expected = torch.sigmoid(model.decode(torch.tensor([[1.5, -2.0]]))).view(28, 28)
    torch.testing.assert_close(explorer.result["image"], expected)
    assert isinstance(explorer.figure, Figure) and explorer.figure is not first
    assert explorer.result["codes"].shape == (40, 2)
    with pytest.raises(ValueError, match="2-d latent"):
        latent_map_explorer(vae(3), X, LABELS)


def test_interpolation_follows_the_chosen_images():
    explorer = interpolation_explorer(vae(2), X, 0, 5)
    explorer.controls["index_b"].value = 7
    result = explorer.result
    assert (result["a"], result["b"]) == (0, 7)
    torch.testing.assert_close(result["pixel"][-1], X[7].flatten())
    assert result["latent"].shape == (9, 784)


def test_traversal_orders_dimensions_by_kl():
    model = vae(5)
    kl = torch.tensor([0.1, 3.0, 0.0, 2.0, 1.0])
    explorer = traversal_explorer(model, X, kl=kl, num_dims=2)
    assert explorer.result["dims"] == [1, 3]
    explorer.controls["num_dims"].value = 4
    assert explorer.result["dims"] == [1, 3, 4, 0]
    assert explorer.result["images"].shape == (4, 9, 784)
    assert explorer.controls["num_dims"].max == 5  # as many as the latent has


def test_beta_explorer_switches_models_and_marks_the_point():
    models = {0.5: vae(2, seed=1, beta=0.5), 1.0: vae(2, seed=2), 4.0: vae(2, seed=3, beta=4.0)}
    explorer = beta_explorer(models, X[:8].flatten(1))
    assert explorer.result["beta"] == 1.0
    explorer.controls["beta"].value = 4.0
    assert explorer.result["beta"] == 4.0
    points = explorer.result["points"]
    assert set(points) == {0.5, 1.0, 4.0}
    assert points[4.0] == rate_distortion(models[4.0], X[:8].flatten(1))  # same seed, same z
    assert explorer.result["recon"].shape == (8, 784)
