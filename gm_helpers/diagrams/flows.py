"""Lecture 07's diagram: the affine coupling layer, forward and inverse, and its log-determinant."""
from __future__ import annotations

from gm_helpers.diagrams.drawing import COLOURS, INK, add_arrow, add_box, canvas


# ----------------------------------------------------------------------------- the coupling layer
def coupling_layer(ax=None):
    """RealNVP's affine coupling layer (Dinh et al. 2017): the kept half x_a passes through and
    feeds the network that computes the log-scale s and shift t of the other half x_b; the
    Jacobian is triangular, so log|det| = sum s; the inverse reuses s and t, since z_a = x_a."""
    ax = canvas(ax, (0, 9), (-0.2, 4.9))
    net, red = COLOURS["network"][1], COLOURS["loss"][1]
    xa = add_box(ax, 0.8, 3.6, "$x_a$\n(kept)", "data", 1.1, 0.8)
    xb = add_box(ax, 0.8, 1.3, "$x_b$\n(transformed)", "data", 1.3, 0.8)
    nn = add_box(ax, 3.5, 2.45, "network\n$(s, t) = \\mathrm{NN}(x_a)$", "network", 2.2, 0.9)
    za = add_box(ax, 7.9, 3.6, "$z_a = x_a$", "latent", 1.5, 0.7)
    zb = add_box(ax, 7.9, 1.3, "$z_b = x_b \\odot e^{s} + t$", "latent", 1.9, 0.7)
    add_arrow(ax, xa, za)
    add_arrow(ax, xa, nn)
    add_arrow(ax, xb, zb)
    add_arrow(ax, nn, zb, color=net)
    ax.text(5.55, 2.2, "$s,\\ t$", color=net, fontsize=11, ha="center", va="center")
    ax.text(4.5, 0.35, "$\\log\\,|\\det \\partial z / \\partial x| = \\sum_d s_d$: the Jacobian is "
            "triangular, with $1$ on $x_a$ and $e^{s_d}$ on $x_b$", fontsize=10, color=red,
            ha="center", va="center")
    ax.text(4.5, -0.05, "inverse: $x_a = z_a$, then $(s, t) = \\mathrm{NN}(z_a)$ and "
            "$x_b = (z_b - t) \\odot e^{-s}$: one pass, the network is never inverted",
            fontsize=10, color=INK, ha="center", va="center")
    ax.text(0.05, 4.65, "affine coupling layer (RealNVP, Dinh et al. 2017)", fontsize=9,
            color="#718096", ha="left", va="center")
    return ax.figure
