"""Lecture 06's figures and explorers. Logic in plain functions, as in ``gm_helpers.widgets.core``:
each ``*_result`` computes, each ``draw_*`` draws, the ``Explorer`` wires controls to both.

(a) ``toy_gan_explorer``: a GAN on the ring or the grid of Gaussians. Choose the loss, k, the
    learning rates, the remedy and the seed; press *train* (a few seconds on a CPU) and scrub
    through the snapshots: real points, generated points, D's contours, G's gradient field.
(b) ``dcgan_explorer``: the DCGAN's latent space: a grid of samples for a seed, and the
    straight line between two latent points.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from gm_helpers.analysis.mixtures import MIXTURES
from gm_helpers.checks import check_size
from gm_helpers.models.dcgan import interpolate
from gm_helpers.models.gan import GENERATOR_LOSSES, REMEDIES
from gm_helpers.training.gan_toy import run
from gm_helpers.viz import show_images
from gm_helpers.widgets.core import Explorer, controls_box

# seed boxes take 0 .. 2**31 - 1: plenty of seeds, and exact in the browser (JavaScript numbers
# hold integers exactly only up to 2**53)
MAX_SEED = 2**31 - 1


# ----------------------------------------------------------------------------- 2-d snapshots
def draw_snapshot(shot: dict, real, means, lim: float, ax=None, title: str | None = None,
                  field: bool = True):
    """One moment of training: D(x) as filled contours (white = 0, dark = 1), real points in
    black, G's samples in red, and arrows where G's loss pushes a generated point."""
    ax = ax or plt.subplots(figsize=(4, 4))[1]
    res = shot["d_grid"].shape[0]
    axis = torch.linspace(-lim, lim, res)
    contours = ax.contourf(axis, axis, shot["d_grid"], levels=torch.linspace(0, 1, 11).tolist(),
                           cmap="Blues", alpha=0.8)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="k", label="data")
    ax.scatter(shot["points"][:, 0], shot["points"][:, 1], s=2, c="tab:red", label="G(z)")
    if field:
        arrows, push = shot["arrows"], shot["field"]
        scale = push.norm(dim=1).max().clamp_min(1e-12)
        ax.quiver(arrows[:, 0], arrows[:, 1], push[:, 0] / scale, push[:, 1] / scale,
                  color="tab:orange", scale=20, width=0.004)
    ax.plot(means[:, 0], means[:, 1], "x", c="gold", ms=4)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or f"step {shot['step']}", fontsize=9)
    return contours


def draw_run(result: dict, steps=None, ncols: int = 5, field: bool = True, title: str | None = None):
    """Several snapshots of one run side by side (all of them, or those at ``steps``), under
    ``title`` if given (laid out with the panels, so that it never covers their titles)."""
    shots = result["snapshots"]
    if steps is not None:
        shots = [s for s in shots if s["step"] in set(steps)]
    nrows = -(-len(shots) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.3 * ncols, 2.3 * nrows), squeeze=False)
    for ax, shot in zip(axes.flat, shots):
        draw_snapshot(shot, result["real"], result["means"], result["lim"], ax, field=field)
    for ax in axes.flat[len(shots):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- (a) 2-d explorer
def draw_toy_state(result: dict, index: int):
    """Snapshot ``index`` of a run, and the losses and D's outputs up to it."""
    shot = result["snapshots"][index]
    fig, (ax_plane, ax_curve) = plt.subplots(1, 2, figsize=(9, 4),
                                             gridspec_kw={"width_ratios": [1, 1.2]})
    draw_snapshot(shot, result["real"], result["means"], result["lim"], ax_plane,
                  title=f"step {shot['step']}: D(x) shaded, G's gradient field in orange")
    history = result["history"]
    upto = max(1, shot["step"])
    ax_curve.plot(history["d_real"][:upto], label="mean D(x)", lw=0.8)
    ax_curve.plot(history["d_fake"][:upto], label="mean D(G(z))", lw=0.8)
    ax_curve.axhline(0.5, color="k", lw=0.5, ls=":")
    ax_curve.set_xlim(0, len(history["d_real"]))
    ax_curve.set_ylim(0, 1)
    ax_curve.set_xlabel("iteration")
    m = result["metrics"]
    ax_curve.set_title(f"after {len(history['d_real'])} iterations: {m['modes']}/{m['num_modes']} "
                       f"modes, {100 * m['high_quality']:.1f}% high quality", fontsize=9)
    ax_curve.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


class ToyGANExplorer(Explorer):
    """Settings change nothing until *train* is pressed (a run takes seconds); the slider then
    scrubs through the run's snapshots. ``train()`` is the button's callback. ``initial_run``
    (a ``run`` result) is shown first instead of training at construction."""

    def __init__(self, dataset="ring", loss="non-saturating", k=1, lr_g=1e-3, lr_d=1e-3,
                 remedy="none", seed=0, num_steps=2000, initial_run=None):
        self.settings = {
            "dataset": W.Dropdown(options=list(MIXTURES), value=dataset, description="data"),
            "loss": W.Dropdown(options=list(GENERATOR_LOSSES), value=loss, description="G loss"),
            "k": W.IntSlider(k, min=1, max=10, description="k (D steps)"),
            "lr_g": W.FloatLogSlider(lr_g, base=10, min=-5, max=-2, description="lr G"),
            "lr_d": W.FloatLogSlider(lr_d, base=10, min=-5, max=-2, description="lr D"),
            "remedy": W.Dropdown(options=list(REMEDIES), value=remedy, description="remedy"),
            "seed": W.BoundedIntText(seed, min=0, max=MAX_SEED, description="seed"),
            "num_steps": W.IntSlider(num_steps, min=200, max=10000, step=200, description="iterations"),
        }
        for control in self.settings.values():   # read when *train* is pressed, no redraw
            control.add_class("gm-setting")
        self.button = W.Button(description="train", button_style="primary")
        self.button.on_click(lambda _: self.train())
        self.run_result = initial_run  # a run already made (run), shown until *train*
        if initial_run is None:
            self.train(redraw=False)
        slider = W.IntSlider(len(self.run_result["snapshots"]) - 1, min=0,
                             max=len(self.run_result["snapshots"]) - 1, description="snapshot")
        super().__init__({"index": slider}, lambda index: {"run": self.run_result, "index": index},
                         lambda r: draw_toy_state(r["run"], r["index"]))
        self.ui = W.VBox([controls_box([*self.settings.values(), self.button]),
                          controls_box([slider]), self.output])

    def train(self, redraw: bool = True) -> dict:
        values = {name: control.value for name, control in self.settings.items()}
        self.run_result = run(**values, snapshots=20)
        if redraw:
            slider = self.controls["index"]
            slider.max = len(self.run_result["snapshots"]) - 1
            if slider.value != slider.max:
                slider.value = slider.max  # observe() redraws
            else:
                self.update()
        return self.run_result


def toy_gan_explorer(**settings) -> ToyGANExplorer:
    return ToyGANExplorer(**settings)


# ----------------------------------------------------------------------------- (b) DCGAN
def dcgan_result(G, seed: int, seed_a: int, seed_b: int, steps: int = 9) -> dict:
    """36 samples for ``seed`` and the path from z(seed_a) to z(seed_b); each seed an integer in
    [0, MAX_SEED]."""
    seed, seed_a, seed_b = (check_size(name, value, 0, MAX_SEED) for name, value in
                            (("seed", seed), ("seed_a", seed_a), ("seed_b", seed_b)))
    grid = G.sample(36, seed=seed)
    z0 = torch.randn(1, G.latent, generator=torch.Generator().manual_seed(seed_a))
    z1 = torch.randn(1, G.latent, generator=torch.Generator().manual_seed(seed_b))
    return {"seed": seed, "grid": grid, "path": interpolate(G, z0, z1, steps),
            "ends": (seed_a, seed_b)}


def draw_dcgan(result: dict):
    fig, (ax_grid, ax_path) = plt.subplots(2, 1, figsize=(7, 9),
                                           gridspec_kw={"height_ratios": [5, 1]})
    show_images(result["grid"], nrow=9, ax=ax_grid, title=f"36 samples, noise seed {result['seed']}")
    a, b = result["ends"]
    show_images(result["path"], nrow=len(result["path"]), ax=ax_path,
                title=f"G((1 - t) z_a + t z_b), z_a from seed {a}, z_b from seed {b}")
    fig.tight_layout()
    return fig


def dcgan_explorer(G, seed: int = 0, seed_a: int = 1, seed_b: int = 2) -> Explorer:
    controls = {name: W.BoundedIntText(value, min=0, max=MAX_SEED, description=label)
                for name, value, label in (("seed", seed, "samples seed"),
                                           ("seed_a", seed_a, "z_a seed"),
                                           ("seed_b", seed_b, "z_b seed"))}
    return Explorer(controls, lambda seed, seed_a, seed_b: dcgan_result(G, seed, seed_a, seed_b),
                    draw_dcgan)
