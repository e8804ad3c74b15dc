"""Interactive explorers for the lectures. The logic is plain functions; widgets only call them.

Every explorer is an ``Explorer``: ``controls`` (name -> ipywidget), ``result`` (what the last
update computed) and ``figure`` (what it drew). Tests set ``controls[...].value`` and check
both, with no browser; a notebook displays ``explorer`` itself.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from gm_helpers.counting import (ORDERINGS, compare_tabular_models, image_ordering,
                                 num_params)
from gm_helpers.data import binary_patches
from gm_helpers.nade import MADE
from gm_helpers.viz import plot_made_graph, plot_param_counts, show_images


STATIC_TEXT = ("[interactive explorer: run the notebook to move its controls; the figure above "
               "is a static view of what it draws]")


def controls_box(controls) -> W.Box:
    """The controls in rows that wrap to fit a 900-px notebook column: every slider and menu a
    fixed, usable width (never squeezed to a 0-px track), toggle buttons kept on one line."""
    for control in controls:
        if isinstance(control, W.ToggleButtons):
            control.style.button_width = "44px"
            control.style.description_width = "60px"
        elif isinstance(control, (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.Dropdown,
                                  W.IntText, W.BoundedIntText)):
            control.layout.width = "320px"
            control.style.description_width = "90px"
    return W.Box(list(controls), layout=W.Layout(display="flex", flex_flow="row wrap",
                                                 align_items="center", max_width="900px",
                                                 grid_gap="2px 12px"))


class Explorer:
    """Controls wired to ``compute(**values) -> result`` and ``draw(result) -> figure``.

    ``ranges``: control name -> ``f(values) -> (min, max)``, for a slider whose range follows
    the other controls (e.g. the output to highlight among D inputs); applied before every
    update, so the value is never silently out of range.
    """

    def __init__(self, controls: dict, compute, draw, ranges: dict | None = None):
        self.controls, self.compute, self.draw = controls, compute, draw
        self.ranges = ranges or {}
        self.output = W.Output()
        self.ui = W.VBox([controls_box(controls.values()), self.output])
        self.result = self.figure = None
        self._busy = False
        for control in controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _apply_ranges(self) -> None:
        for name, bounds in self.ranges.items():
            low, high = bounds(self.values())
            control = self.controls[name]
            if low > control.max:            # move the range in an order traitlets accepts
                control.max, control.min = high, low
            else:
                control.min, control.max = low, high

    def update(self, change=None) -> None:
        if self._busy:   # a range change that moved a value: one update, not two
            return
        self._busy = True
        try:
            self._apply_ranges()
        finally:
            self._busy = False
        self.result = self.compute(**self.values())
        with self.output:
            self.output.clear_output(wait=True)
            if self.figure is not None:
                plt.close(self.figure)
            self.figure = self.draw(self.result)
            display(self.figure)
            # shown once, as a PNG in the output; closed, so that the inline backend does not
            # show it again under the widget (a stale copy) or send it after each change
            plt.close(self.figure)

    def _repr_mimebundle_(self, **kwargs):
        """The widget for a live kernel; for a saved notebook (GitHub, nbviewer), a sentence
        instead of the widget's Python repr (``VBox(children=(...``)."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = STATIC_TEXT
        return bundle


# ----------------------------------------------------------------------------- lecture 01
def param_count_summary(n: int, m: int, k: int) -> dict:
    """Exact free-parameter counts for n variables with m values; AR order k is capped at n - 1."""
    k = min(k, n - 1)
    return {"n": n, "m": m, "k": k,
            "counts": {"full joint": num_params("full_joint", n, m=m),
                       "independent": num_params("independent", n, m=m),
                       "Markov": num_params("markov", n, m=m),
                       f"AR({k})": num_params("ar", n, k=k, m=m)}}


def draw_param_counts(result: dict):
    """Left: every assumption on one log axis, up to the full joint's 10^hundreds. Right: the
    assumptions that stay small (independent, Markov, AR(k)), which the left panel squeezes
    into one line at the bottom, on their own axis."""
    n, m, k = result["n"], result["m"], result["k"]
    fig, (ax, ax_small) = plt.subplots(1, 2, figsize=(10, 3.8),
                                       gridspec_kw={"width_ratios": [1.3, 1]})
    n_values = sorted({1, 2, n, *range(0, max(n, 10) + 1, max(1, max(n, 10) // 50))} - {0})
    plot_param_counts(n_values, m=m, ks=(k,) if k > 1 else (), ax=ax)
    ax.axvline(n, color="k", lw=0.8, ls=":")
    text = "\n".join(f"{name:>12}: {_fmt(c)}" for name, c in result["counts"].items())
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top", family="monospace", fontsize=8,
            bbox=dict(facecolor="white", alpha=0.8, lw=0))
    ax.set_title(f"all assumptions, m = {m} (log scale)", fontsize=10)
    small = {"independent": ("independent", 1), "Markov": ("markov", 1)}
    if k > 1:
        small[f"AR({k})"] = ("ar", k)
    for colour, (label, (assumption, order)) in zip(("C1", "C2", "C3"), small.items()):
        ns = [v for v in n_values if assumption != "ar" or order < v]   # the left panel's colours
        ax_small.plot(ns, [num_params(assumption, v, k=order, m=m) for v in ns], label=label,
                      color=colour)
    ax_small.set_yscale("log")
    ax_small.axvline(n, color="k", lw=0.8, ls=":")
    ax_small.set_xlabel("n (number of variables)")
    ax_small.set_title("the tractable ones, on their own axis", fontsize=10)
    ax_small.legend(fontsize=8)
    ax_small.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _fmt(count: int) -> str:
    """An exact count if short, else its leading digits and power of ten (it stays exact)."""
    s = str(count)
    return f"{count:,}" if len(s) <= 12 else f"{s[0]}.{s[1:4]}e{len(s) - 1} ({len(s)} digits)"


def param_count_explorer(n: int = 16, m: int = 2, k: int = 2) -> Explorer:
    """Sliders over n, m and k; the plot shows every assumption's count on a log axis."""
    controls = {"n": W.IntSlider(n, min=1, max=784, description="n"),
                "m": W.IntSlider(m, min=2, max=256, description="m"),
                "k": W.IntSlider(k, min=0, max=16, description="AR order k")}
    return Explorer(controls, param_count_summary, draw_param_counts)


# ----------------------------------------------------------------------------- lecture 02
def ar_patch_experiment(train_images, test_images, size: int, k: int, ordering: str,
                        num_train: int = 5_000, num_test: int = 20_000, alpha: float = 0.01,
                        seed: int = 0, cache: dict | None = None, valid_images=None) -> dict:
    """Fit the tabular models to ``size x size`` patches; the AR(k) uses ``ordering``.

    With ``valid_images``, each model's smoothing alpha is chosen on ``num_test`` validation
    patches (``choose_alpha``); without, every model uses ``alpha``.
    Returns the NLL table (``rows``, each with its ``alpha``) and 16 samples from the AR(k).
    """
    n = size * size
    k = min(k, n - 1)
    key = (size, num_train, num_test, seed, valid_images is not None)
    if cache is not None and key in cache:
        train, test, valid = cache[key]
    else:
        train = binary_patches(train_images, size, num_train, seed=seed).numpy()  # (N, n)
        test = binary_patches(test_images, size, num_test, seed=seed + 1).numpy()
        valid = None if valid_images is None else \
            binary_patches(valid_images, size, num_test, seed=seed + 2).numpy()
        if cache is not None:
            cache[key] = (train, test, valid)
    order = image_ordering(ordering, size, size, seed=seed)
    rows = compare_tabular_models(train, test, ks=(k,), order=order, alpha=alpha,
                                  full_table=n <= 16, valid=valid)
    ar_name = {0: "independent", 1: "Markov"}.get(k, f"AR({k})")  # AR(0), AR(1) by their names
    ar = next(r for r in rows if r["name"] == ar_name)
    return {"size": size, "k": k, "ordering": ordering, "order": order,
            "rows": [{key: v for key, v in r.items() if key != "model"} for r in rows],
            "samples": ar["model"].sample(16, seed=seed)}


def draw_patch_result(result: dict):
    fig, (ax_table, ax_samples) = plt.subplots(1, 2, figsize=(9, 3),
                                               gridspec_kw={"width_ratios": [1.6, 1]})
    tuned = "valid_nll" in result["rows"][0]  # alpha chosen on validation patches
    cells = [[r["name"], f"{r['params']:,}", f"{r['alpha']:.2g}", f"{r['train_nll']:.3f}",
              *([f"{r['valid_nll']:.3f}"] if tuned else []), f"{r['test_nll']:.3f}"]
             for r in result["rows"]]
    ax_table.axis("off")
    ax_table.table(cells, colLabels=["model", "params", "alpha", "train NLL",
                                     *(["valid NLL"] if tuned else []), "test NLL"],
                   loc="center").scale(1, 1.3)
    ax_table.set_title(f"{result['size']}x{result['size']} patches, "
                       f"{result['ordering']} ordering (nats per patch)")
    show_images(result["samples"], nrow=8, ax=ax_samples,
                title=f"samples from AR({result['k']})")
    return fig


def ar_patch_explorer(train_images, test_images, num_train: int = 5_000,
                      num_test: int = 20_000, valid_images=None) -> Explorer:
    """Choose patch size, AR order and ordering; the NLL table and samples update.

    With ``valid_images`` every model's alpha is chosen on validation patches at each update.
    """
    cache: dict = {}
    controls = {"size": W.Dropdown(options=[2, 3, 4], value=3, description="patch size"),
                "k": W.IntSlider(2, min=0, max=15, description="AR order k"),
                "ordering": W.Dropdown(options=list(ORDERINGS), value="raster",
                                       description="ordering")}

    def compute(size, k, ordering):
        return ar_patch_experiment(train_images, test_images, size, k, ordering,
                                   num_train=num_train, num_test=num_test, cache=cache,
                                   valid_images=valid_images)

    # AR(k) on n = size^2 variables: k from 0 (independent) to n - 1 (the chain rule)
    return Explorer(controls, compute, draw_patch_result,
                    ranges={"k": lambda v: (0, v["size"] ** 2 - 1)})


# ----------------------------------------------------------------------------- lecture 03
def made_connectivity(D: int = 5, num_layers: int = 1, hidden_size: int = 6, seed: int = 0,
                      ordering: str = "natural", output: int | None = None) -> dict:
    """The masks of a small MADE and what they let through.

    ``reach[d, j]`` counts the paths from input j to output d (the product of the masks); the
    autoregressive property is ``reach[d, j] == 0`` whenever j is not before d in the order.
    """
    order = None if ordering == "natural" else \
        torch.randperm(D, generator=torch.Generator().manual_seed(seed)).tolist()
    model = MADE(D, hidden=[hidden_size] * num_layers, order=order, seed=seed)
    order, masks, m = model.connectivity(0, return_numbers=True)
    reach = masks[0]
    for mask in masks[1:]:
        reach = mask @ reach  # (D, D): paths from input j to output d
    output = order[-1].item() if output is None else min(output, D - 1)
    return {"D": D, "order": order, "masks": masks, "m": m, "reach": reach,
            "output": output, "sees": sorted(torch.nonzero(reach[output]).flatten().tolist())}


def draw_made(result: dict):
    fig, (ax_graph, ax_reach) = plt.subplots(1, 2, figsize=(10, 3.8),
                                             gridspec_kw={"width_ratios": [1.6, 1]})
    plot_made_graph(result["m"], result["masks"], highlight=result["output"], ax=ax_graph)
    ax_reach.imshow((result["reach"] > 0).numpy(), cmap="Greens", vmin=0, vmax=1.4)
    ax_reach.set_xlabel("input j")
    ax_reach.set_ylabel("output d")
    ax_reach.set_title("can output d see input j?")
    ax_reach.set_xticks(range(result["D"]))
    ax_reach.set_yticks(range(result["D"]))
    return fig


def made_explorer(D: int = 5, num_layers: int = 1, hidden_size: int = 6, seed: int = 0):
    """Choose the size, depth, seed and ordering of a small MADE; see its masks and reach."""
    controls = {"D": W.IntSlider(D, min=2, max=10, description="inputs D"),
                "num_layers": W.IntSlider(num_layers, min=1, max=3, description="layers"),
                "hidden_size": W.IntSlider(hidden_size, min=1, max=12, description="units"),
                "seed": W.IntSlider(seed, min=0, max=20, description="seed"),
                "ordering": W.Dropdown(options=["natural", "random"], description="ordering"),
                "output": W.IntSlider(D - 1, min=0, max=D - 1, description="highlight d")}
    return Explorer(controls, made_connectivity, draw_made,
                    ranges={"output": lambda v: (0, v["D"] - 1)})   # one of the D outputs


# ----------------------------------------------------------------------------- lecture 04
def mask_table(kernel_size: int = 5, mask_type: str = "A", channel: str = "R") -> dict:
    """One output channel of a 3 -> 3 RGB masked convolution, read from ``causal_mask``:
    its k x k mask for each input channel, and the 3 x 3 table of which input channel each
    output channel sees at the centre (rows: outputs R, G, B; columns: inputs R, G, B)."""
    from gm_helpers.pixelcnn import causal_mask
    mask = causal_mask(kernel_size, mask_type, in_channels=3, out_channels=3, groups=3)
    out = "RGB".index(channel)
    c = kernel_size // 2
    return {"kernel_size": kernel_size, "mask_type": mask_type, "channel": channel,
            "kernels": mask[out].int(),  # (3, k, k): the mask from input R, G, B
            "centre": mask[:, :, c, c].int(),  # (3 out, 3 in) at the centre position
            "spatial": mask[out, out].int(),  # (k, k) for the channel's own input
            "centre_sees": [ch for i, ch in enumerate("RGB") if mask[out, i, c, c] > 0],
            "rows": ["".join(str(v) for v in row) for row in mask[out, out].int().tolist()]}


_RGB_TINT = np.array([[1.0, 0.55, 0.55], [0.5, 0.85, 0.5], [0.55, 0.65, 1.0]])  # R, G, B


def draw_mask(result: dict, ax=None):
    """The output channel's k x k mask from input R, G and B side by side (visible weights
    tinted in the input's colour, the centre outlined) and, without ``ax``, the 3 x 3 table
    of channel connections at the centre. With ``ax``: only the kernels, drawn into it."""
    k, kernels = result["kernel_size"], result["kernels"].numpy()  # (3, k, k)
    fig = None
    if ax is None:
        fig, (ax, ax_table) = plt.subplots(1, 2, figsize=(7.2, 2.9),
                                           gridspec_kw={"width_ratios": [3.4, 1.3]})
    image = np.ones((k, 3 * k + 2, 3))  # three k x k panels, one blank column between
    for i in range(3):
        left = i * (k + 1)
        image[:, left:left + k] = np.where(kernels[i][..., None] > 0, _RGB_TINT[i], 1.0)
        for (r, c), v in np.ndenumerate(kernels[i]):
            ax.text(left + c, r, v, ha="center", va="center", fontsize=7 if k > 5 else 9)
        ax.add_patch(plt.Rectangle((left + k // 2 - 0.5, k // 2 - 0.5), 1, 1, fill=False,
                                   ec="black", lw=2))
        ax.text(left + (k - 1) / 2, k - 0.3, f"input {'RGB'[i]}", ha="center", va="top",
                fontsize=8)
    ax.imshow(image)
    ax.set_axis_off()
    sees = "+".join(result["centre_sees"]) or "nothing"
    ax.set_title(f"{k}x{k} mask {result['mask_type']}, output {result['channel']}: "
                 f"centre sees: {sees}", fontsize=9)
    if fig is None:
        return ax.figure
    centre = result["centre"].numpy()  # (3 out, 3 in)
    out = "RGB".index(result["channel"])
    ax_table.imshow(centre, cmap="Greens", vmin=0, vmax=1.3)
    for (r, c), v in np.ndenumerate(centre):
        ax_table.text(c, r, v, ha="center", va="center", fontweight="bold" if r == out else None)
    ax_table.add_patch(plt.Rectangle((-0.5, out - 0.5), 3, 1, fill=False, ec="black", lw=2))
    ax_table.set_xticks(range(3), ["R", "G", "B"])
    ax_table.set_yticks(range(3), ["R", "G", "B"])
    ax_table.set_xlabel("input channel")
    ax_table.set_ylabel("output channel")
    ax_table.set_title(f"centre, mask {result['mask_type']}", fontsize=9)
    return fig


def mask_explorer() -> Explorer:
    """Kernel size, mask type and output channel; the mask from each input channel, drawn
    from ``causal_mask``, and the centre's channel connections."""
    controls = {"kernel_size": W.Dropdown(options=[1, 3, 5, 7, 9], value=5, description="kernel"),
                "mask_type": W.ToggleButtons(options=["A", "B"], description="mask"),
                "channel": W.ToggleButtons(options=["R", "G", "B"], description="output")}
    return Explorer(controls, mask_table, draw_mask)


RF_MODELS = {  # name -> (module, class, keyword for the depth)
    "PixelCNN": ("gm_helpers.pixelcnn", "PixelCNN", "num_layers"),
    "Gated PixelCNN": ("gm_helpers.pixelcnn", "GatedPixelCNN", "num_layers"),
    "Row LSTM": ("gm_helpers.pixelrnn", "RowLSTM", "num_layers"),
    "Diagonal BiLSTM": ("gm_helpers.pixelrnn", "DiagonalBiLSTM", "num_layers"),
}


def receptive_field(model: str = "PixelCNN", depth: int = 3, row: int = 7, col: int = 7,
                    size: int = 15, num_images: int = 8, seed: int = 0) -> dict:
    """Which input pixels can reach the logit of pixel (row, col): |gradient| summed over
    random images and random weights. Zero means unreachable: the blind spot shows as zeros."""
    import importlib
    module, cls, depth_arg = RF_MODELS[model]
    torch.manual_seed(seed)
    net = getattr(importlib.import_module(module), cls)(**{depth_arg: depth}, hidden=4,
                                                         image_size=size)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.5)
    x = torch.bernoulli(torch.full((num_images, 1, size, size), 0.5)).requires_grad_()
    (grad,) = torch.autograd.grad(net.logits(x)[:, 0, row, col].sum(), x)
    reach = grad.abs().sum(0)[0]  # (size, size)
    before = torch.arange(size * size).view(size, size) < row * size + col
    return {"model": model, "depth": depth, "target": (row, col), "reach": reach,
            "seen": int((reach > 0).sum()), "past": int(before.sum()),
            "blind": int((before & (reach == 0)).sum()), "leak": int((~before & (reach > 0)).sum())}


def draw_receptive_field(result: dict):
    fig, ax = plt.subplots(figsize=(3.6, 3.8))
    reach = result["reach"]
    shown = np.where(reach.numpy() > 0, np.log10(reach.numpy() + 1e-12), np.nan)
    ax.imshow(shown, cmap="viridis")
    r, c = result["target"]
    ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{result['model']}, {result['depth']} layers\n"
                 f"sees {result['seen']} of {result['past']} earlier pixels", fontsize=9)
    return fig


def receptive_field_explorer(size: int = 15) -> Explorer:
    """Model, depth and target pixel; the map shows what the target's logit depends on."""
    controls = {"model": W.Dropdown(options=list(RF_MODELS), description="model"),
                "depth": W.IntSlider(3, min=1, max=8, description="layers"),
                "row": W.IntSlider(size // 2, min=0, max=size - 1, description="row"),
                "col": W.IntSlider(size // 2, min=0, max=size - 1, description="column")}
    return Explorer(controls, lambda **v: receptive_field(**v, size=size), draw_receptive_field)
