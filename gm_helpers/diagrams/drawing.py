"""Drawing primitives every diagram shares: a canvas, rounded boxes, arrows, and one colour per
role. Each diagram is 9 inches wide (a 900-px notebook column at 100 dpi):

    data (observed)   blue      latent (z, mu, sigma)   green      network / parameters   orange
    loss              red       noise (eps)             grey, dashed: sampled, outside the gradient
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

COLOURS = {  # role -> (fill, edge)
    "data": ("#dcebf8", "#2b6cb0"), "latent": ("#dff2e1", "#2f855a"),
    "network": ("#fdebd3", "#c05621"), "loss": ("#fde2e2", "#c53030"),
    "noise": ("#f4f4f4", "#718096"), "plain": ("#ffffff", "#4a5568"),
}
WEIGHT_COLOURS = ("#7b3fb5", "#d6338a", "#138d90", "#8a6a10", "#4c51bf", "#5f7a1e", "#7a4b2a")
HIGHLIGHT = "#d69e2e"  # the taxonomy's "you are here"
INK = "#1a202c"


def canvas(ax, xlim, ylim, width=9.0):
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


def add_box(ax, x, y, text, role="plain", w=1.6, h=0.7, size=10, dashed=False, edge=None, lw=1.4,
         **text_kw):
    """A rounded box centred at (x, y) with its label; returns the patch (arrows clip to it)."""
    fill, line = COLOURS[role]
    patch = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.12",
                           fc=fill, ec=edge or line, lw=lw, ls="--" if dashed else "-", zorder=2)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=size, color=INK, zorder=3, **text_kw)
    return patch


def centre_of(p):
    return (p.get_x() + p.get_width() / 2, p.get_y() + p.get_height() / 2) if hasattr(p, "get_x") else p


def add_route(ax, points, color=INK, ls="-", lw=1.3, style="-|>"):
    """An arrow along a polyline (e.g. around other boxes), its head at the last point."""
    arrow = FancyArrowPatch(path=Path(points), arrowstyle=style, mutation_scale=12, color=color,
                            lw=lw, ls=ls, zorder=1)
    ax.add_patch(arrow)
    return arrow


def add_arrow(ax, a, b, color=INK, rad=0.0, ls="-", lw=1.3, style="-|>", scale=12, zorder=1):
    """An arrow from a to b (patches or points), clipped at the patches' edges."""
    arrow = FancyArrowPatch(centre_of(a), centre_of(b), patchA=a if hasattr(a, "get_x") else None,
                            patchB=b if hasattr(b, "get_x") else None, arrowstyle=style,
                            connectionstyle=f"arc3,rad={rad}", mutation_scale=scale, color=color,
                            lw=lw, ls=ls, shrinkA=2, shrinkB=2, zorder=zorder)
    ax.add_patch(arrow)
    return arrow
