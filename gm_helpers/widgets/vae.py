"""Lecture 05's explorers: walk the latent space of a VAE. Logic in plain functions, as in
``gm_helpers.widgets.core``: each ``*_result`` computes, each ``draw_*`` draws, the ``Explorer``
wires controls to both.

(a) ``latent_map_explorer``: the test set's codes in a 2-d latent space, coloured by digit;
    pick a point, see what the decoder makes of it.
(b) ``interpolation_explorer``: between two test digits, in latent space vs in pixel space.
(c) ``traversal_explorer``: move one latent dimension at a time, dimensions ordered by KL.
(d) ``beta_explorer``: models trained with different KL weights beta: reconstructions,
    samples, and where each sits on the rate-distortion curve.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.latent import (
    encode_mean,
    interpolate,
    kl_per_dimension,
    traverse,
)
from gm_helpers.viz import show_images
from gm_helpers.widgets.core import Explorer


# ----------------------------------------------------------------------------- (a) 2-d map
def latent_map_result(model, codes, labels, z1: float, z2: float) -> dict:
    """The decoded mean image at z = (z1, z2), with the codes to draw behind it."""
    with torch.no_grad():
        image = torch.sigmoid(model.decode(torch.tensor([[z1, z2]], dtype=codes.dtype)))
    return {"z": (z1, z2), "image": image.view(28, 28), "codes": codes, "labels": labels}


def draw_latent_map(result: dict):
    fig, (ax_map, ax_img) = plt.subplots(1, 2, figsize=(8, 3.8),
                                         gridspec_kw={"width_ratios": [1.4, 1]})
    codes, labels = result["codes"].numpy(), np.asarray(result["labels"])
    points = ax_map.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=2, alpha=0.6)
    ax_map.plot(*result["z"], "k+", ms=16, mew=2.5)
    ax_map.set_xlabel("$z_1$")
    ax_map.set_ylabel("$z_2$")
    ax_map.set_title("test digits at their mean codes $\\mu(x)$")
    fig.colorbar(points, ax=ax_map, ticks=range(10), label="digit")
    ax_img.imshow(result["image"].numpy(), cmap="gray", vmin=0, vmax=1)
    ax_img.set_axis_off()
    ax_img.set_title(f"decoded mean at z = ({result['z'][0]:.1f}, {result['z'][1]:.1f})")
    fig.tight_layout()
    return fig


def latent_map_explorer(model, x, labels, limit: float = 3.5) -> Explorer:
    """Sliders for z1 and z2 over [-limit, limit]; the model must have a 2-d latent."""
    if model.latent != 2:
        raise ValueError(f"the latent map needs a 2-d latent, this model has {model.latent}")
    codes = encode_mean(model, x)
    controls = {"z1": W.FloatSlider(0.0, min=-limit, max=limit, step=0.1, description="z1"),
                "z2": W.FloatSlider(0.0, min=-limit, max=limit, step=0.1, description="z2")}
    return Explorer(controls, lambda z1, z2: latent_map_result(model, codes, labels, z1, z2),
                    draw_latent_map)


# ----------------------------------------------------------------------------- (b) paths
def interpolation_result(model, x, index_a: int, index_b: int, steps: int = 9) -> dict:
    latent_path, pixel_path = interpolate(model, x[index_a], x[index_b], steps)
    return {"a": index_a, "b": index_b, "latent": latent_path, "pixel": pixel_path}


def draw_interpolation(result: dict):
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(7, 2.4))
    n = len(result["latent"])
    show_images(result["latent"], nrow=n, ax=ax1, title="in latent space: decode((1-t) mu_a + t mu_b)")
    show_images(result["pixel"], nrow=n, ax=ax2, title="in pixel space: (1-t) x_a + t x_b")
    fig.tight_layout()
    return fig


def interpolation_explorer(model, x, index_a: int = 0, index_b: int = 9000) -> Explorer:
    """Two test-set indices; the split is sorted by digit, so 0 is a zero, 9000 a nine."""
    top = len(x) - 1
    controls = {"index_a": W.BoundedIntText(index_a, min=0, max=top, description="image a"),
                "index_b": W.BoundedIntText(index_b, min=0, max=top, description="image b")}
    return Explorer(controls, lambda index_a, index_b: interpolation_result(model, x, index_a,
                                                                            index_b),
                    draw_interpolation)


# ----------------------------------------------------------------------------- (c) traversal
def traversal_result(model, x, kl, index: int, num_dims: int, span: float = 3.0) -> dict:
    """Decode mu(x) with each of the ``num_dims`` highest-KL dimensions swept over +-span."""
    dims = torch.argsort(kl, descending=True)[:num_dims].tolist()
    values = torch.linspace(-span, span, 9)
    return {"index": index, "dims": dims, "kl": [kl[d].item() for d in dims],
            "images": traverse(model, x[index], dims, values), "values": values}


def draw_traversal(result: dict):
    rows, cols = result["images"].shape[:2]
    fig, ax = plt.subplots(figsize=(0.7 * cols + 1.6, 0.7 * rows + 0.6))
    show_images(result["images"].reshape(rows * cols, -1), nrow=cols, ax=ax)
    ax.set_title(f"test image {result['index']}: one row per latent dimension, "
                 f"z_d from {result['values'][0]:.0f} to {result['values'][-1]:.0f}", fontsize=9)
    for r, (d, kl) in enumerate(zip(result["dims"], result["kl"])):
        ax.text(-2, (r + 0.5) * 29, f"z{d}\nKL {kl:.2f}", ha="right", va="center", fontsize=7)
    return fig


def traversal_explorer(model, x, kl=None, index: int = 0, num_dims: int = 6) -> Explorer:
    """Test image and how many dimensions (by decreasing KL) to sweep."""
    kl = kl_per_dimension(model, x) if kl is None else kl
    controls = {"index": W.BoundedIntText(index, min=0, max=len(x) - 1, description="image"),
                "num_dims": W.IntSlider(num_dims, min=1, max=model.latent, description="dims")}
    return Explorer(controls, lambda index, num_dims: traversal_result(model, x, kl, index,
                                                                       num_dims),
                    draw_traversal)


# ----------------------------------------------------------------------------- (d) beta
@torch.no_grad()
def rate_distortion(model, x, seed: int = 0) -> dict:
    """Rate = E[KL(q(z|x) || p(z))], distortion = -E_q[log p(x|z)] (one z each), in nats."""
    torch.manual_seed(seed)
    model.eval()
    _, reconstruction, kl = model.elbo(x, return_terms=True)
    return {"rate": kl.mean().item(), "distortion": -reconstruction.mean().item()}


def beta_result(models: dict, points: dict, x, beta, num: int = 8, seed: int = 0) -> dict:
    """Reconstructions and samples of the model trained with KL weight ``beta``."""
    model = models[beta]
    with torch.no_grad():
        mu, _ = model.encode(x[:num])
        recon = torch.sigmoid(model.decode(mu))
    samples = model.sample(num, generator=torch.Generator().manual_seed(seed), mean=True)
    return {"beta": beta, "x": x[:num], "recon": recon, "samples": samples, "points": points}


def draw_beta(result: dict):
    fig = plt.figure(figsize=(9, 3.4))
    grid = fig.add_gridspec(3, 2, width_ratios=[1.6, 1])
    for row, (key, title) in enumerate((("x", "test digits"), ("recon", "reconstructions"),
                                        ("samples", "samples from the prior"))):
        ax = fig.add_subplot(grid[row, 0])
        show_images(result[key], nrow=len(result[key]), ax=ax)
        ax.set_title(title, fontsize=8)
    ax = fig.add_subplot(grid[:, 1])
    betas = sorted(result["points"])
    rate = [result["points"][b]["rate"] for b in betas]
    dist = [result["points"][b]["distortion"] for b in betas]
    ax.plot(rate, dist, "o-", color="0.6")
    chosen = result["points"][result["beta"]]
    ax.plot(chosen["rate"], chosen["distortion"], "o", color="C3", ms=10)
    for b, r, d in zip(betas, rate, dist):
        ax.annotate(f"beta={b:g}", (r, d), textcoords="offset points", xytext=(5, 4), fontsize=7)
    ax.set_xlabel("rate: KL(q || p) (nats)")
    ax.set_ylabel("distortion: -log p(x|z) (nats)")
    ax.set_title(f"beta = {result['beta']:g}", fontsize=9)
    fig.tight_layout()
    return fig


def beta_explorer(models: dict, x, num: int = 8) -> Explorer:
    """``models``: beta -> trained VAE. Rate and distortion are measured once per model."""
    points = {beta: rate_distortion(model, x) for beta, model in models.items()}
    betas = sorted(models)
    controls = {"beta": W.ToggleButtons(options=betas, value=1.0 if 1.0 in betas else betas[0],
                                        description="beta")}
    return Explorer(controls, lambda beta: beta_result(models, points, x, beta, num), draw_beta)
