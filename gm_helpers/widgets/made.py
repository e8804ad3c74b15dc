r"""Lecture 03's explorer: MADE's masks and which inputs each output can reach.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from gm_helpers.models.made import MADE
from gm_helpers.viz import plot_made_graph
from gm_helpers.widgets.core import Explorer


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
