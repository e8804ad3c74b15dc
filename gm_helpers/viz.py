"""Plots the lectures share: image grids, parameter counts on a log axis, parameters vs NLL."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from gm_helpers.models.tabular import num_params


def image_grid(x: torch.Tensor, nrow: int = 8, padding: int = 1,
               pad_value: float = 0.0) -> torch.Tensor:
    """Images ``(B, C, H, W)`` tiled as one ``(C, H', W')`` image, ``nrow`` to a row, ``padding``
    pixels of ``pad_value`` around each: torchvision's ``make_grid`` layout, without importing
    torchvision (whose import loads its model zoo and torch.compile's modules: 1.6 s and about
    190 MB of a lecture's memory)."""
    if x.dim() != 4:
        raise ValueError(f"images must be (B, C, H, W), got {tuple(x.shape)}")
    b, c, h, w = x.shape
    cols = max(1, min(nrow, b))
    rows = math.ceil(b / cols)
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding),
                      float(pad_value), dtype=torch.float32)
    for i, image in enumerate(x.detach().float().cpu()):
        top, left = padding + (i // cols) * (h + padding), padding + (i % cols) * (w + padding)
        grid[:, top:top + h, left:left + w] = image
    return grid


def show_images(x, nrow: int = 10, title: str | None = None, ax=None, size: float = 0.6):
    """Draw a batch of images as one grid. x: ``(B, 1, H, W)``, ``(B, H*W)`` square, or numpy."""
    x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float().cpu()
    if x.dim() == 2:  # (B, D) -> (B, 1, s, s)
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise ValueError(f"cannot draw {x.shape[1]} values per image as a square")
        x = x.view(-1, 1, side, side)
    grid = image_grid(x, nrow=nrow, padding=1, pad_value=0.5)  # (1, H', W')
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


def plot_made_graph(m, masks, highlight=None, ax=None):
    """Draw a MADE as a layered graph: inputs at the bottom, outputs on top, each unit labelled
    with its connectivity number m(k); masked-in weights as edges. Edges on a path into
    output ``highlight`` are drawn dark, the rest light."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    sizes = [len(layer) for layer in m] + [len(m[0])]
    numbers = [layer.tolist() for layer in m] + [m[0].tolist()]
    xs = [np.linspace(0, 1, n) if n > 1 else np.array([0.5]) for n in sizes]
    # which units lie on a path into the highlighted output: walk the masks backwards
    on_path = [np.zeros(n, bool) for n in sizes]
    if highlight is not None:
        on_path[-1][highlight] = True
        for layer in range(len(masks) - 1, -1, -1):
            mask = masks[layer].numpy()  # (units above, units below)
            on_path[layer] = (mask[on_path[layer + 1]] > 0).any(0)
    for layer, mask in enumerate(masks):
        for i, j in zip(*np.nonzero(mask.numpy())):
            hot = on_path[layer + 1][i] and on_path[layer][j]
            ax.plot([xs[layer][j], xs[layer + 1][i]], [layer, layer + 1],
                    color="C3" if hot else "0.8", lw=1.4 if hot else 0.6, zorder=2 if hot else 1)
    for layer, (x, nums) in enumerate(zip(xs, numbers)):
        colour = "C0" if layer in (0, len(sizes) - 1) else "C2"
        ax.scatter(x, [layer] * len(x), s=260, color=colour, zorder=3)
        for xi, num in zip(x, nums):
            ax.text(xi, layer, str(num), ha="center", va="center", color="w", zorder=4,
                    fontsize=8)
    # the index of each input and output dimension (0-based, as the reach matrix counts them),
    # beside the unit's label m(k) drawn inside it
    top = len(sizes) - 1
    for xi, j in zip(xs[0], range(sizes[0])):
        ax.text(xi, -0.42, f"$x_{{{j}}}$", ha="center", va="center", fontsize=8, color="0.3")
    for xi, d in zip(xs[top], range(sizes[top])):
        ax.text(xi, top + 0.42, f"$d={d}$", ha="center", va="center", fontsize=8, color="0.3")
    ax.set_ylim(-0.65, top + 0.65)
    ax.set_yticks(range(len(sizes)), ["inputs"] + [f"hidden {i + 1}" for i in
                                                   range(len(sizes) - 2)] + ["outputs"])
    ax.set_xticks([])
    ax.set_title("MADE: unit labels are m(k); red edges reach the highlighted output", pad=14)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    return ax


def plot_learning_curves(entries: dict, ax=None, reference: float | None = None,
                         title="validation NLL against CPU time", train: bool = False):
    """Validation NLL of each run against its wall-clock minutes, from manifest entries.

    ``entries``: name -> manifest entry with a ``history``: ``seconds`` per epoch, ``valid_nll``
    at the epochs ``valid_epoch`` (every epoch, or every N-th and the last with --eval-every N).
    Entries trained before histories were recorded are listed in the legend as such.
    ``reference``: a horizontal line, e.g. another model's test NLL. ``train``: also draw the
    training NLL of every epoch, dashed in the same colour.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    for name, entry in entries.items():
        history = entry.get("history")
        if not history or not history.get("valid_nll"):
            ax.plot([], [], " ", label=f"{name}: no curve recorded")
            continue
        seconds, valid = history["seconds"], history["valid_nll"]
        epochs = history.get("valid_epoch") or range(1, len(valid) + 1)  # older runs: each epoch
        (line,) = ax.plot([seconds[e - 1] / 60 for e in epochs], valid, "o-", ms=3, label=name)
        if train:
            ax.plot([t / 60 for t in seconds], history["train_nll"], "--", lw=1,
                    color=line.get_color())
    if reference is not None:
        ax.axhline(reference, color="0.4", ls="--", lw=1)
    ax.set_xlabel("training wall time (minutes)")
    ax.set_ylabel(("training and " if train else "") + "validation NLL (nats)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_checkpoint_curves(files, manifest: dict, ncols: int = 5, size=(2.9, 2.3)):
    """Small multiples: the learning curves of shipped checkpoints, one panel each, per epoch.

    ``files``: checkpoint names (e.g. ``["nade.pt"]``); ``manifest``: ``shipped_manifest()``.
    Likelihood models: training NLL (or training loss: the -ELBO for a VAE) per epoch, dashed,
    and validation NLL, solid, at the epochs it was measured. The classifier: its cross-entropy
    (nats per image) and held-out accuracy. The DCGAN: D's and G's losses per 100 iterations
    (a GAN has no likelihood to plot). A model trained by steps rather than epochs (the 2-d
    flows: ``history["step"]``) is plotted per step. Each title gives the training minutes; a
    mark at the epoch whose weights were kept (the lowest validation NLL).
    """
    files = list(files)
    ncols = min(ncols, len(files))
    nrows = -(-len(files) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows),
                             squeeze=False)
    for ax in axes.flat[len(files):]:
        ax.set_visible(False)
    for ax, name in zip(axes.flat, files):
        entry = manifest[name]
        history = entry["history"]
        minutes = entry["wall_time_s"] / 60
        if entry["model"] == "dcgan":
            iters = np.arange(1, len(history["d_loss"]) + 1) * 100  # means over 100 iterations
            ax.plot(iters, history["d_loss"], lw=1, label="D loss")
            ax.plot(iters, history["g_loss"], lw=1, label="G loss")
            ax.set_xlabel("iteration")
        else:
            train = history.get("train_nll", history.get("train_loss"))
            valid = history.get("valid_nll", history.get("valid_loss"))
            steps = history.get("step")   # a run of steps: train and valid at the same steps
            valid_epochs = steps or history.get("valid_epoch") or range(1, len(valid) + 1)
            ax.plot(steps or range(1, len(train) + 1), train, "--", lw=1, label="train")
            ax.plot(valid_epochs, valid, "o-", ms=2, lw=1, label="validation")
            if "best_epoch" in entry:
                best = list(valid_epochs).index(entry["best_epoch"])
                ax.plot(entry["best_epoch"], valid[best], "k*", ms=8, label="kept")
            ax.set_xlabel("step" if steps else "epoch")
            # no epoch 2.5; a few round steps (5,000 steps in a small panel)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True) if steps else
                                       MaxNLocator(integer=True))
            # the first tenth of a long run drops steeply: zoom on the rest
            lo, hi = min(min(train), min(valid)), max(valid[len(valid) // 10:])
            ax.set_ylim(lo - 0.05 * (hi - lo) - 0.01, hi + 0.15 * (hi - lo) + 0.01)
        kind = {"digit_classifier": "cross-entropy (nats)", "dcgan": "loss (nats)",
                "ddpm": "L_simple (squared error)", "ddpm_2d": "L_simple (squared error)"}
        bounds = ("vae", "iwae", "iaf_vae", "digit_flow", "masked_diffusion")   # a bound on the NLL
        default = "loss: -bound (nats)" if entry["model"] in bounds else "NLL (nats)"
        if entry.get("config", {}).get("beta", 1) != 1:   # a beta-VAE: not a bound on the NLL
            default = "loss with β·KL (nats)"
        ax.set_ylabel(kind.get(entry["model"], "squared error" if entry["model"] == "autoencoder"
                                else default), fontsize=8)
        length = (f"{entry.get('steps', history['step'][-1]):,} steps" if "step" in history else
                  f"{len(history.get('seconds', [])) or entry.get('epochs')} epochs")
        ax.set_title(f"{name}\n{length}, {minutes:.0f} min", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return fig
