"""Inside a VAE: the derivation's lines agree, grid integrals are exact, walks through latent space."""
import numpy as np
import pytest
import torch

from gm_helpers.analysis.latent import (
    elbo_derivation,
    encode_mean,
    exact_log_prob,
    fitted_grids,
    interpolate,
    kl_per_dimension,
    latent_grid,
    posterior_on_fitted_grid,
    posterior_on_grid,
    traverse,
)
from gm_helpers.models.vae import VAE
from tests.helpers import randomised


def small_vae(latent, seed=0):
    return randomised(VAE(6, hidden=(8,), latent=latent), seed=seed, scale=0.5)


STATES = torch.tensor(list(np.ndindex(*[2] * 6)), dtype=torch.float32)  # all 64 images


@pytest.mark.parametrize("latent", [1, 2])
def test_exact_log_prob_sums_to_one(latent):
    model = small_vae(latent)
    p = exact_log_prob(model, STATES, limit=8, num=401 if latent == 1 else 161).exp()
    assert p.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert next(model.parameters()).dtype == torch.float32  # the caller's model is untouched


@pytest.mark.parametrize("latent", [1, 2])
def test_every_line_of_the_derivation_agrees(latent):
    """All lines equal log p(x) to 1e-4 nats; the gap log p - ELBO is the KL to the posterior."""
    lines = elbo_derivation(small_vae(latent, seed=1), STATES[::7], limit=10,
                            num=1001 if latent == 1 else 251)
    assert (lines["q mass on the grid"] - 1).abs().max() < 1e-6  # the grid covers q
    for name, value in lines.items():
        if name not in ("ELBO", "KL(q||p(z|x))", "q mass on the grid"):
            torch.testing.assert_close(value, lines["log p(x)"], atol=1e-4, rtol=0, msg=name)
    torch.testing.assert_close(lines["log p(x)"] - lines["ELBO"], lines["KL(q||p(z|x))"],
                               atol=1e-4, rtol=0)
    assert (lines["KL(q||p(z|x))"] > 0).all()


def test_posterior_and_q_are_densities():
    post, q, grid = posterior_on_grid(small_vae(2), STATES[:3], limit=8, num=161)
    cell = (grid[1, 1] - grid[0, 1]).item() ** 2
    assert post.shape == q.shape == (3, 161 ** 2)
    torch.testing.assert_close(post.sum(1) * cell, torch.ones(3, dtype=post.dtype), atol=1e-6, rtol=0)
    torch.testing.assert_close(q.sum(1) * cell, torch.ones(3, dtype=q.dtype), atol=1e-3, rtol=0)


def sharp_vae(seed=0):
    """A 2-d VAE whose posteriors are narrow and off-centre, like a trained one's, and unimodal
    (linear logits make log p(x|z) concave in z): a linear decoder with large weights, an
    encoder with a small variance."""
    model = randomised(VAE(20, hidden=(), latent=2), seed=seed, scale=0.5)
    with torch.no_grad():
        model.decoder[0].weight.mul_(20)
        model.encoder[-1].weight[2:] = 0.0  # logvar = -8 for every x: sigma = e^-4 = 0.018,
        model.encoder[-1].bias[2:] = -8.0   # resolved by the fine grid's step
    return model


def test_fitted_grids_integrate_narrow_posteriors_that_a_global_grid_misses():
    model = sharp_vae()
    x = torch.bernoulli(torch.full((4, 20), 0.5), generator=torch.Generator().manual_seed(0))
    fine = exact_log_prob(model, x, num=161, fitted=True)
    finer = exact_log_prob(model, x, num=321, fitted=True)
    torch.testing.assert_close(fine, finer, atol=1e-6, rtol=0)  # converged
    with pytest.raises(ValueError, match="does not resolve"):  # a step of 0.3 on [-6, 6]:
        exact_log_prob(model, x, num=41)  # the shared grid would be off: refused
    for points, cell in fitted_grids(model.double(), x.double()):
        # fine cells (a quarter of the coarse step or less) over part of [-6, 6]^2 only
        assert points.shape[1] == 2 and cell <= (12 / 160 / 4) ** 2 and len(points) * cell < 144 / 4
    lines = elbo_derivation(model, x)
    for name in ("E_q[log p(x)]", "E_q[log p(x,z) / p(z|x)]",
                 "E_q[log p(x|z)] - KL(q||p(z)) + KL(q||p(z|x))"):
        torch.testing.assert_close(lines[name], lines["log p(x)"], atol=1e-4, rtol=0, msg=name)
    torch.testing.assert_close(lines["q mass on the grid"], torch.ones(4, dtype=torch.float64),
                               atol=1e-6, rtol=0)


def test_fitted_grid_agrees_with_a_global_grid_on_broad_posteriors():
    model = small_vae(2)
    torch.testing.assert_close(exact_log_prob(model, STATES, limit=8, num=161, fitted=True),
                               exact_log_prob(model, STATES, limit=8, num=161), atol=1e-5, rtol=0)


def test_posterior_on_fitted_grid_is_a_density():
    post, q, (axis1, axis2) = posterior_on_fitted_grid(sharp_vae(), torch.ones(1, 20), num=201)
    cell = (axis1[1] - axis1[0]) * (axis2[1] - axis2[0])
    assert post.shape == q.shape == (201, 201)
    assert (post.sum() * cell).item() == pytest.approx(1.0, abs=1e-6)
    assert (q.sum() * cell).item() == pytest.approx(1.0, abs=1e-4)


def test_grid_rejects_more_than_two_dimensions():
    assert latent_grid(1, num=5)[0].shape == (5, 1) and latent_grid(2, num=5)[0].shape == (25, 2)
    with pytest.raises(ValueError, match="1 or 2"):
        latent_grid(3)


def test_kl_per_dimension_matches_the_closed_form_total():
    model = small_vae(3)
    per_dim = kl_per_dimension(model, STATES, batch_size=10)
    mu, logvar = model.encode(STATES)
    total = (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(1).mean()
    assert per_dim.shape == (3,) and (per_dim >= 0).all()
    assert per_dim.sum().item() == pytest.approx(total.item(), rel=1e-5)


def test_interpolation_ends_at_the_two_codes_and_images():
    model = small_vae(2)
    a, b = STATES[5], STATES[60]
    latent_path, pixel_path = interpolate(model, a, b, steps=5)
    assert latent_path.shape == pixel_path.shape == (5, 6)
    mu = encode_mean(model, torch.stack([a, b]))
    torch.testing.assert_close(latent_path[0], torch.sigmoid(model.decode(mu[0])))
    torch.testing.assert_close(latent_path[-1], torch.sigmoid(model.decode(mu[1])))
    torch.testing.assert_close(pixel_path[0], a) and torch.testing.assert_close(pixel_path[-1], b)
    assert torch.allclose(pixel_path[2], (a + b) / 2)
    with pytest.raises(ValueError):
        interpolate(model, a, b, steps=1)


def test_traverse_changes_only_the_chosen_dimension():
    model = small_vae(3)
    out = traverse(model, STATES[9], dims=[0, 2], values=[-2.0, 0.0, 2.0])
    assert out.shape == (2, 3, 6)
    mu = encode_mean(model, STATES[9:10])[0]
    z = mu.clone()
    z[2] = 2.0
    torch.testing.assert_close(out[1, 2], torch.sigmoid(model.decode(z)))


def test_a_shared_grid_too_coarse_for_the_posterior_is_refused_not_trusted(real_data_dir):
    """The shipped 2-d VAE's posteriors are narrower than a coarse grid's step: 41 points per
    dimension gave -144.9 where the truth is -146.04 (and cruder grids tens of nats off); the
    check refuses it, while a grid fine enough agrees with the fitted quadrature."""
    from gm_helpers.analysis.latent import exact_log_prob
    from gm_helpers.data import load_binarized_mnist
    from gm_helpers.training.checkpoint import load_shipped
    vae, _ = load_shipped("vae_2d.pt")
    x = load_binarized_mnist("test", download=False)[:2]
    for num in (41, 101):
        with pytest.raises(ValueError, match="does not resolve the posterior"):
            exact_log_prob(vae, x, num=num)
    with pytest.raises(ValueError, match="mass on the grid's edge"):
        exact_log_prob(vae, x, num=1201, limit=1.0)
    torch.testing.assert_close(exact_log_prob(vae, x, num=1201), exact_log_prob(vae, x, fitted=True),
                               atol=1e-3, rtol=0)
