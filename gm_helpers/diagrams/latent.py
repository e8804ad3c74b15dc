"""Diagrams of the latent-variable lecture (05): the VAE's computation and the ELBO's gap."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt

from gm_helpers.checks import InvalidArgument, check_float, check_size
from gm_helpers.diagrams.drawing import COLOURS, INK, add_arrow, add_box, add_route, canvas


# ----------------------------------------------------------------------------- the VAE
def vae_diagram(ax=None):
    """The VAE: x -> encoder q_phi(z|x) -> (mu, sigma) -> z = mu + sigma * eps -> decoder
    p_theta(x|z) -> x_hat (logits), the two ELBO terms on the sides they belong to, and the
    gradient path (red, dashed) backwards through mu and sigma; eps comes in from outside it."""
    ax = canvas(ax, (0, 9), (-0.05, 5.3))
    net, red, grey = COLOURS["network"][1], COLOURS["loss"][1], COLOURS["noise"][1]
    x = add_box(ax, 0.5, 2.2, "$x$", "data", 0.6, 0.55, size=12)
    enc = add_box(ax, 1.95, 2.2, "encoder\n$q_\\phi(z\\,|\\,x)$", "network", 1.45, 1.0)
    mu = add_box(ax, 3.55, 2.8, "$\\mu$", "latent", 0.6, 0.45, size=12)
    sigma = add_box(ax, 3.55, 1.6, "$\\sigma$", "latent", 0.6, 0.45, size=12)
    z = add_box(ax, 5.1, 2.2, "$z = \\mu + \\sigma \\odot \\epsilon$", "latent", 1.6, 0.55)
    eps = add_box(ax, 5.1, 0.85, "$\\epsilon \\sim \\mathcal{N}(0, I)$", "noise", 1.45, 0.45,
               dashed=True)
    dec = add_box(ax, 6.75, 2.2, "decoder\n$p_\\theta(x\\,|\\,z)$", "network", 1.45, 1.0)
    xhat = add_box(ax, 8.35, 2.2, "$\\hat{x}$\n(logits)", "data", 0.95, 0.75)
    kl = add_box(ax, 3.1, 3.95, "$\\mathrm{KL}(q_\\phi(z\\,|\\,x)\\,\\|\\,p(z))$", "loss", 2.35, 0.5)
    rec = add_box(ax, 7.3, 3.95, "$\\mathbb{E}_q[\\log p_\\theta(x\\,|\\,z)]$", "loss", 2.0, 0.5)
    q = add_box(ax, 3.55, 2.2, "", "latent", 0.9, 1.95, dashed=True)  # q(z|x) = N(mu, sigma^2)
    q.set(fc="none", zorder=1, lw=1.1)
    for a, b in ((x, enc), (enc, mu), (enc, sigma), (mu, z), (sigma, z), (z, dec), (dec, xhat),
                 (xhat, rec), (q, kl)):
        add_arrow(ax, a, b)
    add_arrow(ax, eps, z, color=grey, ls="--")
    ax.text(5.22, 1.4, "sampled: outside\nthe gradient path", fontsize=8, color=grey, va="center",
            style="italic")
    # the target x joins the reconstruction term over the top
    add_route(ax, [(0.5, 2.48), (0.5, 4.6), (7.3, 4.6), (7.3, 4.21)])
    ax.text(3.1, 4.66, "target $x$", fontsize=8.5, color=INK, ha="center", va="bottom")
    ax.text(kl.get_x() - 0.08, 3.95, "regulariser\n(encoder side)", fontsize=8, color=red,
            ha="right", va="center")
    ax.text(rec.get_x() - 0.08, 3.95, "reconstruction\n(decoder side)", fontsize=8, color=red,
            ha="right", va="center")
    # backpropagation: from the decoder back through z, then mu and sigma, into the encoder
    for a, b, rad in ((rec, xhat, 0.3), (xhat, dec, 0.45), (dec, z, 0.45), (z, mu, 0.35),
                      (z, sigma, -0.35), (mu, enc, 0.35), (sigma, enc, -0.35), (kl, q, 0.5)):
        add_arrow(ax, a, b, color=red, ls=(0, (3, 2)), lw=1.1, rad=rad, scale=9)
    for x0, x1, text in ((1.15, 3.95, "recognition network (encoder), parameters $\\phi$"),
                         (5.95, 8.9, "generation network (decoder), parameters $\\theta$")):
        ax.plot([x0, x0, x1, x1], [0.5, 0.4, 0.4, 0.5], color=net, lw=1.2)
        ax.text((x0 + x1) / 2, 0.3, text, fontsize=8.5, ha="center", va="top", color=net)
    ax.text(0.05, 5.12, "$\\mathrm{ELBO}(x) = \\mathbb{E}_q[\\log p_\\theta(x\\,|\\,z)] - "
            "\\mathrm{KL}(q_\\phi(z\\,|\\,x)\\,\\|\\,p(z)) \\leq \\log p_\\theta(x)$", fontsize=11,
            va="center", color=INK)
    ax.plot([], [], color=INK, lw=1.3, label="forward pass")
    ax.plot([], [], color=red, ls=(0, (3, 2)), lw=1.1, label="gradient of the ELBO")
    ax.plot([], [], color=grey, ls="--", lw=1.3, label="sampled noise")
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    return ax.figure

# ----------------------------------------------------------------------------- the ELBO's gap
def elbo_gap(log_px: float, elbo: float, ax=None, digits: int = 1):
    """log p(x) and the ELBO on one axis (nats), and the gap between them, which is
    KL(q(z|x) || p(z|x)) >= 0: log p(x) = ELBO + KL. E.g. ``elbo_gap(-90.6, -97.1)``."""
    log_px, elbo = check_float("log_px", log_px), check_float("elbo", elbo)
    digits = check_size("digits", digits, 0, 6)
    if elbo > log_px:
        raise InvalidArgument(f"elbo must be <= log_px (the ELBO is a lower bound on log p(x)), "
                              f"got elbo = {elbo} > log_px = {log_px}")
    gap = log_px - elbo
    if gap > 0:  # enough digits to show at least two of the gap's
        digits = max(digits, 1 - math.floor(math.log10(gap)))

    def f(v):  # a typographic minus, as on the axis
        return f"{v:.{digits}f}".replace("-", "−")
    pad = 0.6 * gap if gap > 0 else 1.0
    if ax is None:
        _, ax = plt.subplots(figsize=(6.2, 4.2), layout="constrained")
    ax.set_xlim(0, 1)
    ax.set_ylim(elbo - pad, log_px + pad)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    ax.set_ylabel("nats (per example)")
    ax.ticklabel_format(axis="y", useOffset=False)
    ax.axhspan(elbo, log_px, xmin=0, xmax=0.3, color=COLOURS["loss"][0], zorder=0)
    blue, red = COLOURS["data"][1], COLOURS["loss"][1]
    ax.plot([0, 0.3], [log_px, log_px], color=blue, lw=2.5)
    ax.plot([0, 0.3], [elbo, elbo], color=red, lw=2.5)
    if gap > 0:
        ax.text(0.33, log_px, f"$\\log p(x)$ = {f(log_px)}", color=blue, fontsize=11, va="center")
        ax.text(0.33, elbo, f"ELBO = {f(elbo)}", color=red, fontsize=11, va="center")
        ax.annotate("", (0.15, log_px), (0.15, elbo), arrowprops=dict(
            arrowstyle="<|-|>", color=INK, lw=1.3, shrinkA=0, shrinkB=0, mutation_scale=12))
        ax.text(0.33, (log_px + elbo) / 2, f"gap = {f(gap)} nats\n= $\\mathrm{{KL}}(q(z\\,|\\,x)\\,"
                "\\|\\,p(z\\,|\\,x))$ ≥ 0", fontsize=10.5, va="center", color=INK)
    else:
        ax.text(0.33, log_px, f"$\\log p(x)$ = ELBO = {f(log_px)}\ngap = 0 nats: "
                "$\\mathrm{KL}(q(z\\,|\\,x)\\,\\|\\,p(z\\,|\\,x)) = 0$,\nso $q(z\\,|\\,x) = p(z\\,|\\,x)$",
                fontsize=10.5, va="center", color=INK)
    ax.set_title("$\\log p(x) = \\mathrm{ELBO} + \\mathrm{KL}(q(z\\,|\\,x)\\,\\|\\,p(z\\,|\\,x))$",
                 fontsize=11, color=INK)
    return ax.figure
