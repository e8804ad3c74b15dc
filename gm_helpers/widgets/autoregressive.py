r"""Lecture 02's explorer: AR(k) models on image patches, by order k and pixel ordering.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt

from gm_helpers.analysis.counting import compare_tabular_models
from gm_helpers.data import binary_patches
from gm_helpers.models.tabular import ORDERINGS, image_ordering
from gm_helpers.viz import show_images
from gm_helpers.widgets.core import Explorer


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
