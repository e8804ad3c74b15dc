"""Diagrams of the autoregressive lectures: NADE's shared weights (03) and the sampling orders of
multi-scale models (04)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from gm_helpers.checks import check_size
from gm_helpers.diagrams.drawing import COLOURS, INK, WEIGHT_COLOURS, add_arrow, add_box, canvas
from gm_helpers.models.multiscale import num_passes, sampling_steps


# ----------------------------------------------------------------------------- NADE
def nade_weight_sharing(D: int = 4, H: int = 3, ax=None):
    """NADE's D conditionals share one W (H x D): inputs x_1..x_D at the bottom, the hidden
    layers h_d (H units each) fed by the columns W[:, <d], the outputs p(x_d | x_<d) on top.
    Each column W[:, j] has one colour wherever it is used; the grey arrows between hidden
    layers are the running sum a_{d+1} = a_d + W[:, d] x_d that makes NADE O(DH)."""
    D, H = check_size("D", D, 1, 8), check_size("H", H, 1, 8)
    ax = canvas(ax, (0, 9), (-0.75, 5.45))
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
        inputs.append(add_box(ax, x, 0.35, f"$x_{{{d}}}$", "data", min(0.7, 0.8 * colw), 0.45))
        hidden.append(add_box(ax, x, 2.45, "", "network", bw, 0.8))
        ax.text(x, 2.62, f"$h_{{{d}}}$", ha="center", va="center", fontsize=10, color=INK, zorder=3)
        ux = [x + (u - (H - 1) / 2) * 2.6 * r for u in range(H)]
        units.append(ux)
        for u in ux:
            ax.add_patch(plt.Circle((u, 2.28), r, fc="white", ec=COLOURS["network"][1], lw=1, zorder=3))
        cond = "" if d == 1 else f"\\,|\\,x_{{<{d}}}"
        out = add_box(ax, x, 4.35, f"$p(x_{{{d}}}{cond})$", "data", pw, 0.55, size=9.5 if D < 6 else 8)
        add_arrow(ax, hidden[-1], out, color=COLOURS["network"][1])
        if colw > 1.2:
            ax.text(x + 0.08, 3.45, "$V_{%d},\\,b_{%d}$" % (d, d), fontsize=8, va="center",
                    color=COLOURS["network"][1])
    # the weights: x_j feeds every later hidden layer through the same column W[:, j]
    lw = max(0.5, min(1.1, 40 / (H * D * (D - 1) / 2 or 1)))  # thinner when there are many
    for j in range(1, D):
        top = (xs[j - 1], 0.35 + 0.225)
        for d in range(j + 1, D + 1):
            for u in units[d - 1]:
                add_arrow(ax, top, (u, 2.28 - r), color=col[j - 1], style="-", lw=lw)
    # the running sum between hidden layers, each step adding one column
    for d in range(1, D):
        a, b = hidden[d - 1], hidden[d]
        add_arrow(ax, (a.get_x() + bw, 2.45), (b.get_x(), 2.45), color="#718096", lw=1.2, scale=10)
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
    ax = canvas(ax, (0, 9), (-0.75, 3.25))
    W, y0, numbers = 2.4, 0.15, N <= 8
    _order_grid(ax, orders["raster"], 0.2, y0, W, passes["raster"], numbers=numbers)
    ax.text(0.2 + W / 2, 2.9, f"PixelCNN: raster order\n{passes['raster']} passes", ha="center",
            va="center", fontsize=9.5, color=INK)
    # the multi-scale PixelRNN: a separate small image, then the full image pixel by pixel
    small = torch.arange(b * b).view(b, b)
    _order_grid(ax, small, 2.95, y0 + W - 0.6, 0.6, passes["multiscale_pixelrnn"],
                numbers=numbers)
    add_arrow(ax, (3.58, y0 + W - 0.3), (3.83, y0 + W - 0.3), lw=1.1)
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
