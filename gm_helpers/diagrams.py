"""The course's block diagrams, drawn by code: the taxonomy, NADE's shared weights, the sampling
orders of multi-scale autoregressive models, the VAE, the GAN loop and the ELBO's gap. Each
returns a matplotlib Figure (or draws into ``ax``), 9 inches wide: a 900-px notebook column at
100 dpi. One colour per role in every diagram:

    data (observed)   blue      latent (z, mu, sigma)   green      network / parameters   orange
    loss              red       noise (eps)             grey, dashed: sampled, outside the gradient
"""
from __future__ import annotations

import math
from numbers import Integral

import matplotlib.pyplot as plt
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

from gm_helpers.checks import InvalidArgument, check_float, check_size
from gm_helpers.models.multiscale import num_passes, sampling_steps

COLOURS = {  # role -> (fill, edge)
    "data": ("#dcebf8", "#2b6cb0"), "latent": ("#dff2e1", "#2f855a"),
    "network": ("#fdebd3", "#c05621"), "loss": ("#fde2e2", "#c53030"),
    "noise": ("#f4f4f4", "#718096"), "plain": ("#ffffff", "#4a5568"),
}
WEIGHT_COLOURS = ("#7b3fb5", "#d6338a", "#138d90", "#8a6a10", "#4c51bf", "#5f7a1e", "#7a4b2a")
HIGHLIGHT = "#d69e2e"  # the taxonomy's "you are here"
INK = "#1a202c"


def _canvas(ax, xlim, ylim, width=9.0):
    """An empty, equal-aspect drawing area; a new figure sized to it unless ``ax`` is given."""
    if ax is None:
        height = width * (ylim[1] - ylim[0]) / (xlim[1] - xlim[0])
        fig, ax = plt.subplots(figsize=(width, height))
        fig.subplots_adjust(0, 0, 1, 1)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _box(ax, x, y, text, role="plain", w=1.6, h=0.7, size=10, dashed=False, edge=None, lw=1.4,
         **text_kw):
    """A rounded box centred at (x, y) with its label; returns the patch (arrows clip to it)."""
    fill, line = COLOURS[role]
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                           fc=fill, ec=edge or line, lw=lw, ls="--" if dashed else "-", zorder=2)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=INK, zorder=3, **text_kw)
    return patch


def _centre(p):
    return (p.get_x() + p.get_width() / 2, p.get_y() + p.get_height() / 2) if hasattr(p, "get_x") else p


def _route(ax, points, color=INK, ls="-", lw=1.3, style="-|>"):
    """An arrow along a polyline (e.g. around other boxes), its head at the last point."""
    arrow = FancyArrowPatch(path=Path(points), arrowstyle=style, mutation_scale=12, color=color,
                            lw=lw, ls=ls, zorder=1)
    ax.add_patch(arrow)
    return arrow


def _arrow(ax, a, b, color=INK, rad=0.0, ls="-", lw=1.3, style="-|>", scale=12, zorder=1):
    """An arrow from a to b (patches or points), clipped at the patches' edges."""
    arrow = FancyArrowPatch(_centre(a), _centre(b), patchA=a if hasattr(a, "get_x") else None,
                            patchB=b if hasattr(b, "get_x") else None, arrowstyle=style,
                            connectionstyle=f"arc3,rad={rad}", mutation_scale=scale, color=color,
                            lw=lw, ls=ls, shrinkA=2, shrinkB=2, zorder=zorder)
    ax.add_patch(arrow)
    return arrow


# ----------------------------------------------------------------------------- the taxonomy
# (branch, kind of density, leaf, its line of detail, the lectures that teach it: () = none,
#  the names ``highlight`` accepts besides the lecture numbers)
TAXONOMY = [
    ("explicit", "tractable", "Autoregressive", "FVSBN, NADE, MADE,\nPixelRNN / PixelCNN", (2, 3, 4),
     ("autoregressive", "FVSBN", "NADE", "MADE", "PixelRNN", "PixelCNN")),
    ("explicit", "tractable", "Normalizing flows", "change of variables", (7,), ("flows", "flow")),
    ("explicit", "approximate", "Variational", "VAE", (5,), ("VAE",)),
    ("explicit", "approximate", "Diffusion / score-based", "denoising, a variational bound", (8,),
     ("diffusion", "score-based", "DDPM")),
    ("explicit", "approximate", "Markov chain", "Boltzmann machines", (),
     ("Boltzmann machines", "Boltzmann machine", "RBM")),
    ("implicit", "direct", "GAN", "generative adversarial networks", (6,), ("GAN", "GANs")),
    ("implicit", "Markov chain", "GSN", "generative stochastic networks", (), ("GSN",)),
]
KIND_LABELS = {"tractable": "Tractable density", "approximate": "Approximate density",
               "direct": "Direct", "Markov chain": "Markov chain"}


def _lectures(numbers) -> str:
    if not numbers:
        return "not in this course"
    if len(numbers) == 1:
        return f"lecture {numbers[0]:02d}"
    return f"lectures {numbers[0]:02d}–{numbers[-1]:02d}"


def _find_leaf(highlight):
    """The leaf (index) a lecture number or a name points to; -1 for lecture 01, the root."""
    if isinstance(highlight, str) and highlight.strip().isdigit():
        highlight = int(highlight)
    if isinstance(highlight, Integral) and not isinstance(highlight, bool):
        if highlight == 1:
            return -1
        for i, leaf in enumerate(TAXONOMY):
            if highlight in leaf[4]:
                return i
    elif isinstance(highlight, str):
        for i, (_, _, title, _, _, names) in enumerate(TAXONOMY):
            if highlight.strip().casefold() in {n.casefold() for n in (title, *names)}:
                return i
    raise InvalidArgument("highlight must be a lecture number from 1 to 8 or a leaf's name (e.g. "
                          f"'NADE', 'VAE', 'GAN', 'Normalizing flows'), got {highlight!r}")


def taxonomy(highlight=None, ax=None):
    """The taxonomy of generative models by how they handle the likelihood (after Goodfellow's
    NIPS 2016 tutorial on GANs), a tree from left to right; each leaf names its lecture.
    ``highlight``: a lecture number (1-8; 1 is the root) or a leaf's name, e.g. ``"NADE"``,
    drawn in gold with its path from the root."""
    hot = None if highlight is None else _find_leaf(highlight)
    ax = _canvas(ax, (-0.2, 13.4), (-0.6, 7.6))
    leaf_y = {i: 6.9 - i * 1.05 for i in range(len(TAXONOMY))}
    kinds = list(dict.fromkeys((b, k) for b, k, *_ in TAXONOMY))
    kind_y = {bk: sum(leaf_y[i] for i, t in enumerate(TAXONOMY) if t[:2] == bk) /
              sum(t[:2] == bk for t in TAXONOMY) for bk in kinds}
    branch_y = {b: sum(y for (bb, _), y in kind_y.items() if bb == b) /
                sum(bb == b for bb, _ in kind_y) for b in ("explicit", "implicit")}
    on_path = set() if hot is None or hot < 0 else {TAXONOMY[hot][0], TAXONOMY[hot][:2]}
    gold = {"edge": HIGHLIGHT, "lw": 3.0}

    root = _box(ax, 0.8, sum(branch_y.values()) / 2, "Generative\nmodels", "plain", 1.45, 0.9,
                fontweight="bold", **(gold if hot == -1 else {}))
    if hot == -1:
        ax.text(0.8, _centre(root)[1] - 0.62, "lecture 01:\nthis map", ha="center", va="top",
                fontsize=9, fontweight="bold", color=INK)
    branches = {b: _box(ax, 2.85, y, f"{b.capitalize()}\ndensity", "plain", 1.45, 0.8,
                        **(gold if b in on_path else {})) for b, y in branch_y.items()}
    kind_boxes = {bk: _box(ax, 5.05, y, KIND_LABELS[bk[1]], "plain", 2.15, 0.55, size=9.5,
                           **(gold if bk in on_path else {})) for bk, y in kind_y.items()}
    leaves = []
    for i, (_, _, title, detail, numbers, _) in enumerate(TAXONOMY):
        y, off = leaf_y[i], 0.11 * detail.count("\n")  # centre title and detail together
        leaves.append(_box(ax, 8.45, y, "", "network" if numbers else "noise", 3.6, 0.88,
                           dashed=not numbers, **(gold if i == hot else {})))
        ax.text(8.45, y + off + 0.01, title, ha="center", va="bottom", fontsize=9.5,
                fontweight="bold", color=INK, zorder=3)
        ax.text(8.45, y + off - 0.02, detail, ha="center", va="top", fontsize=9, color=INK,
                zorder=3, linespacing=1.1)
        tag = _lectures(numbers) + ("\n◀ this lecture" if i == hot else "")
        ax.text(10.45, y, tag, va="center", fontsize=9.5, color=INK if numbers else "#718096",
                fontweight="bold" if i == hot else "normal", fontstyle="normal" if numbers else "italic")

    def connect(parent, children, keys):
        """An elbow from the parent's right edge to a bus, then one arrow into each child."""
        py, right = _centre(parent)[1], parent.get_x() + parent.get_width()
        bus = (right + min(c.get_x() for c in children)) / 2
        ys = [_centre(c)[1] for c in children] + [py]
        ax.plot([right, bus], [py, py], color=INK, lw=1.2, zorder=1)
        ax.plot([bus, bus], [min(ys), max(ys)], color=INK, lw=1.2, zorder=1)
        for child, key in zip(children, keys):
            cy = _centre(child)[1]
            warm = key in on_path or key == hot
            if warm:
                ax.plot([right, bus, bus], [py, py, cy], color=HIGHLIGHT, lw=2.6, zorder=1.5)
            _arrow(ax, (bus, cy), (child.get_x(), cy), color=HIGHLIGHT if warm else INK,
                   lw=2.6 if warm else 1.2, zorder=1.5 if warm else 1)

    connect(root, list(branches.values()), list(branches))
    for b, box in branches.items():
        keys = [bk for bk in kinds if bk[0] == b]
        connect(box, [kind_boxes[k] for k in keys], keys)
    for bk, box in kind_boxes.items():
        idx = [i for i, t in enumerate(TAXONOMY) if t[:2] == bk]
        connect(box, [leaves[i] for i in idx], idx)
    ax.text(0.1, 7.35, "How a model handles the likelihood $p_\\theta(x)$", fontsize=11,
            fontweight="bold", va="center", ha="left", color=INK)
    ax.text(0.1, -0.35, "after the taxonomy in Goodfellow's NIPS 2016 tutorial on GANs "
            "(arXiv:1701.00160)", fontsize=8, color="#718096", va="center")
    return ax.figure


# ----------------------------------------------------------------------------- NADE
def nade_weight_sharing(D: int = 4, H: int = 3, ax=None):
    """NADE's D conditionals share one W (H x D): inputs x_1..x_D at the bottom, the hidden
    layers h_d (H units each) fed by the columns W[:, <d], the outputs p(x_d | x_<d) on top.
    Each column W[:, j] has one colour wherever it is used; the grey arrows between hidden
    layers are the running sum a_{d+1} = a_d + W[:, d] x_d that makes NADE O(DH)."""
    D, H = check_size("D", D, 1, 8), check_size("H", H, 1, 8)
    ax = _canvas(ax, (0, 9), (-0.75, 5.45))
    colw = 7.7 / D
    xs = [1.25 + colw * (d + 0.5) for d in range(D)]
    col = WEIGHT_COLOURS  # column j of W: col[j - 1]
    bw, pw = min(0.95, 0.8 * colw), min(1.45, 0.92 * colw)
    r = min(0.09, bw / (2.8 * H))
    for y, text in ((0.35, "inputs"), (2.45, "hidden layers\n$h_d = \\sigma(a_d)$"),
                    (4.35, "outputs")):
        ax.text(1.05, y, text, ha="right", va="center", fontsize=9.5, color=INK)
    inputs, hidden, units = [], [], []
    for d, x in enumerate(xs, start=1):
        inputs.append(_box(ax, x, 0.35, f"$x_{{{d}}}$", "data", min(0.7, 0.8 * colw), 0.45))
        hidden.append(_box(ax, x, 2.45, "", "network", bw, 0.8))
        ax.text(x, 2.62, f"$h_{{{d}}}$", ha="center", va="center", fontsize=10, color=INK, zorder=3)
        ux = [x + (u - (H - 1) / 2) * 2.6 * r for u in range(H)]
        units.append(ux)
        for u in ux:
            ax.add_patch(plt.Circle((u, 2.28), r, fc="white", ec=COLOURS["network"][1], lw=1, zorder=3))
        cond = "" if d == 1 else f"\\,|\\,x_{{<{d}}}"
        out = _box(ax, x, 4.35, f"$p(x_{{{d}}}{cond})$", "data", pw, 0.55, size=9.5 if D < 6 else 8)
        _arrow(ax, hidden[-1], out, color=COLOURS["network"][1])
        if colw > 1.2:
            ax.text(x + 0.08, 3.45, "$V_{%d},\\,b_{%d}$" % (d, d), fontsize=8, va="center",
                    color=COLOURS["network"][1])
    # the weights: x_j feeds every later hidden layer through the same column W[:, j]
    lw = max(0.5, min(1.1, 40 / (H * D * (D - 1) / 2 or 1)))  # thinner when there are many
    for j in range(1, D):
        top = (xs[j - 1], 0.35 + 0.225)
        for d in range(j + 1, D + 1):
            for u in units[d - 1]:
                _arrow(ax, top, (u, 2.28 - r), color=col[j - 1], style="-", lw=lw)
    # the running sum between hidden layers, each step adding one column
    for d in range(1, D):
        a, b = hidden[d - 1], hidden[d]
        _arrow(ax, (a.get_x() + bw, 2.45), (b.get_x(), 2.45), color="#718096", lw=1.2, scale=10)
        if colw - bw > 0.8:
            ax.text((xs[d - 1] + xs[d]) / 2, 2.6, f"$+W_{{:,{d}}}x_{{{d}}}$", ha="center",
                    va="bottom", fontsize=9, color=col[d - 1])
    title = (f"NADE: one matrix W ({H} × {D}) shared by all {D} conditionals" if D > 1 else
             "NADE with D = 1: one conditional, no weights to share yet")
    ax.text(0.1, 5.2, title, fontsize=11, fontweight="bold", va="center", color=INK)
    ax.text(0.1, 4.9, "$a_1 = c, \\quad a_{d+1} = a_d + W_{:,d}\\,x_d, \\quad h_d = \\sigma(a_d), "
            "\\quad p(x_d = 1\\,|\\,x_{<d}) = \\sigma(b_d + V_d \\cdot h_d)$", fontsize=10,
            va="center", color=INK)
    if D > 1:
        handles = [plt.Line2D([], [], color=col[j - 1], lw=2.5, label=f"$W_{{:,{j}}}$")
                   for j in range(1, D)]
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.55, 0.0), ncol=D - 1,
                  frameon=False, fontsize=9, handlelength=1.6, columnspacing=1.2,
                  title=f"one colour per column of W, wherever it is used ($x_{{{D}}}$ feeds "
                        "no hidden layer)", title_fontsize=8.5)
    return ax.figure



# ----------------------------------------------------------------------------- multi-scale orders
def _order_grid(ax, steps, x0, y0, width, passes, first=0, outline=None, numbers=True):
    """An N x N grid of cells coloured and numbered (from 1) by the pass that draws each pixel;
    ``outline``: a boolean (N, N) map of cells to draw with a heavy edge."""
    N = steps.shape[0]
    cell = width / N
    cmap = plt.get_cmap("YlGnBu")
    for r in range(N):
        for c in range(N):
            t = int(steps[r, c])
            shade = 0.15 + 0.8 * (t - first) / max(passes - 1 - first, 1)
            heavy = outline is not None and bool(outline[r, c])
            ax.add_patch(plt.Rectangle((x0 + c * cell, y0 + (N - 1 - r) * cell), cell, cell,
                                       fc=cmap(shade), ec=INK if heavy else "white",
                                       lw=1.6 if heavy else 0.5, zorder=2 + heavy))
            if numbers:
                ax.text(x0 + (c + 0.5) * cell, y0 + (N - 0.5 - r) * cell, str(t + 1),
                        ha="center", va="center", fontsize=6.5 if t < 99 else 5.5, zorder=4,
                        color="white" if shade > 0.6 else INK)


def multiscale_orders(image_size: int = 8, base_size: int = 2, ax=None):
    """Three sampling orders of an ``image_size`` x ``image_size`` image, each pixel numbered by
    the sequential network pass that draws it (``models.multiscale.sampling_steps``): the
    PixelCNN's raster order; the multi-scale PixelRNN (a small image first, then every pixel);
    Reed et al.'s parallel multiscale PixelCNN (the base, then three groups per doubling).
    The last line gives the three counts for a 28 x 28 digit from a 7 x 7 base."""
    N = check_size("image_size", image_size, 2, 16)
    b = check_size("base_size", base_size, 1, N - 1)
    orders = {s: sampling_steps(N, s, b) for s in ("raster", "multiscale_pixelrnn",
                                                   "parallel_multiscale")}  # (N, N) each
    passes = {s: int(steps.max()) + 1 for s, steps in orders.items()}
    ax = _canvas(ax, (0, 9), (-0.75, 3.25))
    W, y0, numbers = 2.4, 0.15, N <= 8
    _order_grid(ax, orders["raster"], 0.2, y0, W, passes["raster"], numbers=numbers)
    ax.text(0.2 + W / 2, 2.9, f"PixelCNN: raster order\n{passes['raster']} passes", ha="center",
            va="center", fontsize=9.5, color=INK)
    # the multi-scale PixelRNN: a separate small image, then the full image pixel by pixel
    small = torch.arange(b * b).view(b, b)
    _order_grid(ax, small, 2.95, y0 + W - 0.6, 0.6, passes["multiscale_pixelrnn"],
                numbers=numbers)
    _arrow(ax, (3.58, y0 + W - 0.3), (3.83, y0 + W - 0.3), lw=1.1)
    _order_grid(ax, orders["multiscale_pixelrnn"], 3.85, y0, W, passes["multiscale_pixelrnn"],
                numbers=numbers)
    ax.text(3.25, y0 + W - 0.75, f"{b} × {b}\nfirst", ha="center", va="top", fontsize=8,
            color=INK)
    ax.text(3.9 + W / 2 - 0.45, 2.9, f"multi-scale PixelRNN: a small image,\nthen every pixel: "
            f"{b * b} + {N * N} = {passes['multiscale_pixelrnn']} passes", ha="center",
            va="center", fontsize=9.5, color=INK)
    base = torch.zeros(N, N, dtype=torch.bool)
    stride = N // b
    base[::stride, ::stride] = True  # the base's pixels: part of the final image
    _order_grid(ax, orders["parallel_multiscale"], 6.55, y0, W, passes["parallel_multiscale"],
                outline=base, numbers=numbers)
    doublings = (passes["parallel_multiscale"] - b * b) // 3
    ax.text(6.55 + W / 2, 2.9, f"parallel multiscale (Reed et al.):\n{b * b} + 3 × {doublings} = "
            f"{passes['parallel_multiscale']} passes", ha="center", va="center", fontsize=9.5,
            color=INK)
    ax.text(0.2, -0.3, f"each number: the network pass that draws the pixel (same number: drawn "
            f"together); outlined: the {b} × {b} base", fontsize=8.5, color="#4a5568", va="center")
    counts = {s: num_passes(28, s, 7) for s in orders}
    ax.text(0.2, -0.62, f"a 28 × 28 digit from a 7 × 7 base: raster {counts['raster']} passes, "
            f"multi-scale PixelRNN {counts['multiscale_pixelrnn']}, parallel multiscale "
            f"{counts['parallel_multiscale']}", fontsize=9, color=INK, va="center", fontweight="bold")
    return ax.figure

# ----------------------------------------------------------------------------- the VAE
def vae_diagram(ax=None):
    """The VAE: x -> encoder q_phi(z|x) -> (mu, sigma) -> z = mu + sigma * eps -> decoder
    p_theta(x|z) -> x_hat (logits), the two ELBO terms on the sides they belong to, and the
    gradient path (red, dashed) backwards through mu and sigma; eps comes in from outside it."""
    ax = _canvas(ax, (0, 9), (-0.05, 5.3))
    net, red, grey = COLOURS["network"][1], COLOURS["loss"][1], COLOURS["noise"][1]
    x = _box(ax, 0.5, 2.2, "$x$", "data", 0.6, 0.55, size=12)
    enc = _box(ax, 1.95, 2.2, "encoder\n$q_\\phi(z\\,|\\,x)$", "network", 1.45, 1.0)
    mu = _box(ax, 3.55, 2.8, "$\\mu$", "latent", 0.6, 0.45, size=12)
    sigma = _box(ax, 3.55, 1.6, "$\\sigma$", "latent", 0.6, 0.45, size=12)
    z = _box(ax, 5.1, 2.2, "$z = \\mu + \\sigma \\odot \\epsilon$", "latent", 1.6, 0.55)
    eps = _box(ax, 5.1, 0.85, "$\\epsilon \\sim \\mathcal{N}(0, I)$", "noise", 1.45, 0.45,
               dashed=True)
    dec = _box(ax, 6.75, 2.2, "decoder\n$p_\\theta(x\\,|\\,z)$", "network", 1.45, 1.0)
    xhat = _box(ax, 8.35, 2.2, "$\\hat{x}$\n(logits)", "data", 0.95, 0.75)
    kl = _box(ax, 3.1, 3.95, "$\\mathrm{KL}(q_\\phi(z\\,|\\,x)\\,\\|\\,p(z))$", "loss", 2.35, 0.5)
    rec = _box(ax, 7.3, 3.95, "$\\mathbb{E}_q[\\log p_\\theta(x\\,|\\,z)]$", "loss", 2.0, 0.5)
    q = _box(ax, 3.55, 2.2, "", "latent", 0.9, 1.95, dashed=True)  # q(z|x) = N(mu, sigma^2)
    q.set(fc="none", zorder=1, lw=1.1)
    for a, b in ((x, enc), (enc, mu), (enc, sigma), (mu, z), (sigma, z), (z, dec), (dec, xhat),
                 (xhat, rec), (q, kl)):
        _arrow(ax, a, b)
    _arrow(ax, eps, z, color=grey, ls="--")
    ax.text(5.22, 1.4, "sampled: outside\nthe gradient path", fontsize=8, color=grey, va="center",
            style="italic")
    # the target x joins the reconstruction term over the top
    _route(ax, [(0.5, 2.48), (0.5, 4.6), (7.3, 4.6), (7.3, 4.21)])
    ax.text(3.1, 4.66, "target $x$", fontsize=8.5, color=INK, ha="center", va="bottom")
    ax.text(kl.get_x() - 0.08, 3.95, "regulariser\n(encoder side)", fontsize=8, color=red,
            ha="right", va="center")
    ax.text(rec.get_x() - 0.08, 3.95, "reconstruction\n(decoder side)", fontsize=8, color=red,
            ha="right", va="center")
    # backpropagation: from the decoder back through z, then mu and sigma, into the encoder
    for a, b, rad in ((rec, xhat, 0.3), (xhat, dec, 0.45), (dec, z, 0.45), (z, mu, 0.35),
                      (z, sigma, -0.35), (mu, enc, 0.35), (sigma, enc, -0.35), (kl, q, 0.5)):
        _arrow(ax, a, b, color=red, ls=(0, (3, 2)), lw=1.1, rad=rad, scale=9)
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


# ----------------------------------------------------------------------------- the GAN loop
def gan_loop(k: int = 1, ax=None):
    """Algorithm 1 of Goodfellow et al. (2014): z ~ p(z) -> G -> fake, real x ~ p_data, both
    -> D; then the loop: k discriminator steps, one generator step (the original, minimax loss
    or the non-saturating one), and again."""
    k = check_size("k", k, 1)
    ax = _canvas(ax, (0, 9), (-0.1, 5.55))
    net, red = COLOURS["network"][1], COLOURS["loss"][1]
    z = _box(ax, 0.65, 4.2, "$z \\sim p(z)$", "latent", 1.1, 0.5)
    G = _box(ax, 2.2, 4.2, "generator\n$G$", "network", 1.2, 0.8)
    fake = _box(ax, 3.85, 4.2, "fake\n$G(z)$", "data", 1.1, 0.7, dashed=True)
    real = _box(ax, 3.85, 2.75, "real\n$x \\sim p_{\\mathrm{data}}$", "data", 1.1, 0.7)
    D = _box(ax, 5.6, 3.48, "discriminator\n$D$", "network", 1.4, 0.8)
    out = _box(ax, 7.7, 3.48, "$D(x),\\ D(G(z))$\nP(real) $\\in (0, 1)$", "plain", 1.85, 0.75,
               size=9.5)
    for a, b in ((z, G), (G, fake), (fake, D), (real, D), (D, out)):
        _arrow(ax, a, b)
    d_step = _box(ax, 6.25, 1.15, f"(1) discriminator step, repeated $k = {k}$ "
                  f"time{'s' if k > 1 else ''}\nascend $\\log D(x) + \\log(1 - D(G(z)))$ in $\\theta_d$",
                  "loss", 3.9, 0.85, size=9.5)
    g_step = _box(ax, 1.8, 1.15, "(2) generator step, once\ndescend $\\log(1 - D(G(z)))$ "
                  "(original)\nor ascend $\\log D(G(z))$ (non-saturating)", "loss", 3.3, 1.0, size=9)
    # the loop: k D steps, then one G step, then the next iteration
    _arrow(ax, (d_step.get_x(), 1.15), (g_step.get_x() + 3.3, 1.15), color=red, lw=1.6)
    ax.text(3.88, 1.22, "then", fontsize=8.5, color=red, ha="center", va="bottom")
    _route(ax, [(1.8, 0.65), (1.8, 0.25), (6.25, 0.25), (6.25, 0.72)], color=red, lw=1.6)
    ax.text(4.05, 0.3, "next iteration", fontsize=8.5, color=red, ha="center", va="bottom")
    _arrow(ax, (8.2, 1.45), (8.2, 0.85), color=red, lw=1.6, rad=-1.3)
    ax.text(8.62, 1.15, "$\\times\\, k$", fontsize=10, color=red, ha="left", va="center")
    # which parameters each step changes
    _arrow(ax, (5.6, 1.58), D, color=net, ls="--", lw=1.2)
    ax.text(5.68, 2.35, "update $\\theta_d$", fontsize=8.5, color=net, va="center")
    _arrow(ax, (1.3, 1.65), (1.9, G.get_y()), color=net, ls="--", lw=1.2)
    ax.text(1.2, 2.85, "update $\\theta_g$\n(gradient\nthrough $D$)", fontsize=8.5, color=net,
            va="center", ha="right")
    ax.text(0.05, 5.3, "$\\min_G \\max_D\\ V(D, G) = \\mathbb{E}_{x \\sim p_{\\mathrm{data}}}"
            "[\\log D(x)] + \\mathbb{E}_{z \\sim p(z)}[\\log(1 - D(G(z)))]$", fontsize=11,
            va="center", color=INK)
    ax.text(8.95, 5.3, "Algorithm 1, Goodfellow et al. (2014)", fontsize=8, color="#718096",
            ha="right", va="center")
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
