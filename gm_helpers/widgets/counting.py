r"""Lecture 01's explorer: how many numbers each assumption needs.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt

from gm_helpers.models.tabular import num_params
from gm_helpers.viz import plot_param_counts
from gm_helpers.widgets.core import Explorer


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
