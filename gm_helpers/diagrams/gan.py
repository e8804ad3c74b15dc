"""The GAN's training loop (06): k discriminator steps, then one generator step."""
from __future__ import annotations

from gm_helpers.checks import check_size
from gm_helpers.diagrams.drawing import COLOURS, INK, add_arrow, add_box, add_route, canvas


# ----------------------------------------------------------------------------- the GAN loop
def gan_loop(k: int = 1, ax=None):
    """Algorithm 1 of Goodfellow et al. (2014): z ~ p(z) -> G -> fake, real x ~ p_data, both
    -> D; then the loop: k discriminator steps, one generator step (the original, minimax loss
    or the non-saturating one), and again."""
    k = check_size("k", k, 1)
    ax = canvas(ax, (0, 9), (-0.1, 5.55))
    net, red = COLOURS["network"][1], COLOURS["loss"][1]
    z = add_box(ax, 0.65, 4.2, "$z \\sim p(z)$", "latent", 1.1, 0.5)
    G = add_box(ax, 2.2, 4.2, "generator\n$G$", "network", 1.2, 0.8)
    fake = add_box(ax, 3.85, 4.2, "fake\n$G(z)$", "data", 1.1, 0.7, dashed=True)
    real = add_box(ax, 3.85, 2.75, "real\n$x \\sim p_{\\mathrm{data}}$", "data", 1.1, 0.7)
    D = add_box(ax, 5.6, 3.48, "discriminator\n$D$", "network", 1.4, 0.8)
    out = add_box(ax, 7.7, 3.48, "$D(x),\\ D(G(z))$\nP(real) $\\in (0, 1)$", "plain", 1.85, 0.75,
               size=9.5)
    for a, b in ((z, G), (G, fake), (fake, D), (real, D), (D, out)):
        add_arrow(ax, a, b)
    d_step = add_box(ax, 6.25, 1.15, f"(1) discriminator step, repeated $k = {k}$ "
                  f"time{'s' if k > 1 else ''}\nascend $\\log D(x) + \\log(1 - D(G(z)))$ in $\\theta_d$",
                  "loss", 3.9, 0.85, size=9.5)
    g_step = add_box(ax, 1.8, 1.15, "(2) generator step, once\ndescend $\\log(1 - D(G(z)))$ "
                  "(original)\nor ascend $\\log D(G(z))$ (non-saturating)", "loss", 3.3, 1.0, size=9)
    # the loop: k D steps, then one G step, then the next iteration
    add_arrow(ax, (d_step.get_x(), 1.15), (g_step.get_x() + 3.3, 1.15), color=red, lw=1.6)
    ax.text(3.88, 1.22, "then", fontsize=8.5, color=red, ha="center", va="bottom")
    add_route(ax, [(1.8, 0.65), (1.8, 0.25), (6.25, 0.25), (6.25, 0.72)], color=red, lw=1.6)
    ax.text(4.05, 0.3, "next iteration", fontsize=8.5, color=red, ha="center", va="bottom")
    add_arrow(ax, (8.2, 1.45), (8.2, 0.85), color=red, lw=1.6, rad=-1.3)
    ax.text(8.62, 1.15, "$\\times\\, k$", fontsize=10, color=red, ha="left", va="center")
    # which parameters each step changes
    add_arrow(ax, (5.6, 1.58), D, color=net, ls="--", lw=1.2)
    ax.text(5.68, 2.35, "update $\\theta_d$", fontsize=8.5, color=net, va="center")
    add_arrow(ax, (1.3, 1.65), (1.9, G.get_y()), color=net, ls="--", lw=1.2)
    ax.text(1.2, 2.85, "update $\\theta_g$\n(gradient\nthrough $D$)", fontsize=8.5, color=net,
            va="center", ha="right")
    ax.text(0.05, 5.3, "$\\min_G \\max_D\\ V(D, G) = \\mathbb{E}_{x \\sim p_{\\mathrm{data}}}"
            "[\\log D(x)] + \\mathbb{E}_{z \\sim p(z)}[\\log(1 - D(G(z)))]$", fontsize=11,
            va="center", color=INK)
    ax.text(8.95, 5.3, "Algorithm 1, Goodfellow et al. (2014)", fontsize=8, color="#718096",
            ha="right", va="center")
    return ax.figure
