"""Lecture 07's explorer: a flow's density and samples after each of its layers, from the noise.

``layers_result`` computes (plain functions, tested without a browser); ``draw_layers`` draws one
setting, ``draw_layer_strip`` several side by side;
``flow_layers_explorer(flows)`` wires a data set menu and a layer slider to them.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from gm_helpers.analysis.flow_layers import log_density_after, samples_after
from gm_helpers.checks import InvalidArgument
from gm_helpers.widgets.core import Explorer


def layers_result(flows: dict, data: str, layers: int, lim: float | None = None, res: int = 150,
                  num_samples: int = 2000, seed: int = 0) -> dict:
    """The density p_j on a res x res grid over [-lim, lim]^2 and ``num_samples`` base samples
    after j = ``layers`` inverse layers of ``flows[data]``. With ``lim=None`` the square is fitted
    to the samples (1.15 times the 99.5th percentile of their largest coordinate): the layers
    between the noise and the data work at their own scales."""
    if data not in flows:
        raise InvalidArgument(f"data must be one of {sorted(flows)}, got {data!r}")
    flow = flows[data]
    z = torch.randn(num_samples, 2, generator=torch.Generator().manual_seed(seed))
    samples = samples_after(flow, z, layers)
    if lim is None:
        lim = 1.15 * torch.quantile(samples.abs().amax(1), 0.995).item()
    axis = torch.linspace(-lim, lim, res)
    grid = torch.cartesian_prod(axis, axis)                      # (res^2, 2): x varies slowest
    density = log_density_after(flow, grid, layers).exp().view(res, res).T   # rows: y
    return {"data": data, "layers": layers, "num_layers": len(flow.layers), "lim": lim,
            "density": density, "samples": samples}


LOG_RANGE = 12.0   # nats of log-density shown below the peak: the tiny modes and the bridges


def _panels(result: dict, ax_p, ax_s, titles: bool = True) -> None:
    lim, j, K = result["lim"], result["layers"], result["num_layers"]
    # the log-density, clipped LOG_RANGE nats below its peak: a linear scale would show the
    # narrow modes as single pixels and the thin bridges between them not at all
    log_p = result["density"].clamp_min(1e-300).log()
    ax_p.imshow(log_p.clamp_min(log_p.max() - LOG_RANGE), origin="lower",
                extent=(-lim, lim, -lim, lim), cmap="magma")
    s = result["samples"]
    ax_s.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4, color="#2b6cb0")
    ax_s.set_xlim(-lim, lim)
    ax_s.set_ylim(-lim, lim)
    ax_s.set_aspect("equal")
    if titles:
        ax_p.set_title(f"log-density after {j} of {K} layers" + (
            "\n(the base N(0, I))" if j == 0 else "\n(the model)" if j == K else ""))
        ax_s.set_title(f"2,000 samples of N(0, I)\nafter {j} inverse layers")
    for ax in (ax_p, ax_s):
        ax.set_xticks([])
        ax.set_yticks([])


def draw_layers(result: dict):
    """One setting: the log-density (left) and the pushed samples (right)."""
    fig, (ax_p, ax_s) = plt.subplots(1, 2, figsize=(9, 4.6))
    _panels(result, ax_p, ax_s)
    fig.suptitle(f"{result['data']}: from the noise (0 layers) to the data "
                 f"({result['num_layers']} layers); the square spans ±{result['lim']:.2g}")
    fig.tight_layout()
    return fig


def draw_layer_strip(results: list[dict]):
    """Several settings side by side: log-densities on the top row, samples below."""
    if not results:
        raise InvalidArgument("draw_layer_strip needs at least one result of layers_result")
    fig, axes = plt.subplots(2, len(results), figsize=(2.6 * len(results), 5.4), squeeze=False)
    for col, result in enumerate(results):
        _panels(result, axes[0, col], axes[1, col], titles=False)
        j, K = result["layers"], result["num_layers"]
        axes[0, col].set_title(f"after {j} of {K} layers\n(±{result['lim']:.2g})", fontsize=10)
    axes[0, 0].set_ylabel("log-density")
    axes[1, 0].set_ylabel("samples")
    fig.suptitle(f"{results[0]['data']}: the noise (left) pushed through more and more layers")
    fig.tight_layout()
    return fig


def flow_layers_explorer(flows: dict, data: str | None = None, layers: int | None = None) -> Explorer:
    """A menu of data sets (one trained flow each) and a slider over its layers, 0..K."""
    data = data or next(iter(flows))
    K = len(flows[data].layers)
    controls = {"data": W.Dropdown(options=list(flows), value=data, description="data"),
                "layers": W.IntSlider(K if layers is None else layers, min=0, max=K,
                                      description="layers")}
    return Explorer(controls, lambda data, layers: layers_result(flows, data, layers), draw_layers,
                    ranges={"layers": lambda v: (0, len(flows[v["data"]].layers))})
