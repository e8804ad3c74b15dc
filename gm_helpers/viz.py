"""Plots the lectures share: image grids, parameter counts on a log axis, parameters vs NLL."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torchvision.utils import make_grid

from gm_helpers.counting import num_params


def show_images(x, nrow: int = 10, title: str | None = None, ax=None, size: float = 0.6):
    """Draw a batch of images as one grid. x: ``(B, 1, H, W)``, ``(B, H*W)`` square, or numpy."""
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float().cpu()
    if x.dim() == 2:  # (B, D) -> (B, 1, s, s)
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot draw {x.shape[1]} values per image as a square")
        x = x.view(-1, 1, side, side)
    grid = make_grid(x, nrow=nrow, padding=1, pad_value=0.5)  # (3, H', W')
    if ax is None:
        cols = min(nrow, len(x))
        rows = math.ceil(len(x) / nrow)
        _, ax = plt.subplots(figsize=(size * cols + 0.4, size * rows + (0.5 if title else 0.2)))
    ax.imshow(grid[0].numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def plot_param_counts(n_values, m: int = 2, ks=(2, 4), ax=None):
    """log10 of the parameter count against n for the full joint, independent, Markov, AR(k).

    Counts are exact Python integers (2**784 - 1 overflows no float when we take log10 first).
    """
    n_values = list(n_values)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    curves = {"full joint": ("full_joint", None), "independent": ("independent", None),
              "Markov": ("markov", None)}
    curves.update({f"AR({k})": ("ar", k) for k in ks})
    for label, (assumption, k) in curves.items():
        ns = [n for n in n_values if k is None or k < n]
        logs = [math.log10(num_params(assumption, n, k=k or 1, m=m)) for n in ns]
        ax.plot(ns, logs, label=label, lw=2 if assumption == "full_joint" else 1.5)
    ax.set_xlabel("n (number of variables)")
    ax.set_ylabel("parameters")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"$10^{{{v:.0f}}}$"))
    ax.set_title(f"free parameters, m = {m} values per variable (log scale)")
    ax.legend(loc="center right")
    ax.grid(alpha=0.3)
    return ax


def plot_params_vs_nll(rows, ax=None, title="parameters vs NLL"):
    """rows: dicts with ``name``, ``params``, ``train_nll``, ``test_nll``; x on a log axis."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    params = [r["params"] for r in rows]
    ax.plot(params, [r["train_nll"] for r in rows], "o-", label="train NLL")
    ax.plot(params, [r["test_nll"] for r in rows], "s--", label="test NLL")
    for r in rows:
        ax.annotate(r["name"], (r["params"], r["test_nll"]), textcoords="offset points",
                    xytext=(4, 6), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("free parameters (log scale)")
    ax.set_ylabel("NLL (nats per example)")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax
