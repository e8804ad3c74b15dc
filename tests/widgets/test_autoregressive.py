"""Lecture 02's explorer: AR(k) models on image patches, by order k, patch size and pixel ordering."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from gm_helpers.analysis.counting import ALPHAS
from gm_helpers.widgets.autoregressive import ar_patch_experiment, ar_patch_explorer


def _nll(result, name, column="test_nll"):
    return next(r[column] for r in result["rows"] if r["name"] == name)


def _table_texts(fig):
    table = fig.axes[0].tables[0]
    return {cell.get_text().get_text() for cell in table.get_celld().values()}


@pytest.fixture
def patch_explorer(train_images_subset, test_images_subset):
    return ar_patch_explorer(train_images_subset, test_images_subset, num_train=2000,
                             num_test=2000)


def test_ar_patch_explorer_ordering_changes_the_ar_model(patch_explorer):
    """A new ordering reorders the AR(k) model: new order, new AR test NLL, same full joint."""
    before = patch_explorer.result
    assert before["ordering"] == "raster" and before["order"].tolist() == list(range(9))
    patch_explorer.controls["ordering"].value = "snake"
    after = patch_explorer.result
    assert after["order"].tolist() == [0, 1, 2, 5, 4, 3, 6, 7, 8]
    assert _nll(after, "AR(2)") != pytest.approx(_nll(before, "AR(2)"), abs=1e-6)
    assert _nll(after, "full joint") == pytest.approx(_nll(before, "full joint"), abs=1e-12)
    assert _nll(after, "independent") == pytest.approx(_nll(before, "independent"), abs=1e-12)


def test_ar_patch_explorer_size_two(patch_explorer):
    """2x2 patches: n = 4, rows through the full joint with 2**4 - 1 = 15 parameters."""
    patch_explorer.controls["size"].value = 2
    result = patch_explorer.result
    assert [(r["name"], r["params"]) for r in result["rows"]] == [
        ("independent", 4), ("Markov", 7), ("AR(2)", 11), ("full joint", 15)]
    assert result["samples"].shape == (16, 4)
    assert set(np.unique(result["samples"]).tolist()) <= {0, 1}


def test_ar_patch_explorer_figure_shows_the_table(patch_explorer):
    """The drawn table carries each row's name, parameter count and both NLLs."""
    patch_explorer.controls["k"].value = 4
    result, fig = patch_explorer.result, patch_explorer.figure
    assert isinstance(fig, Figure)
    texts = _table_texts(fig)
    for r in result["rows"]:
        assert {r["name"], f"{r['params']:,}", f"{r['train_nll']:.3f}",
                f"{r['test_nll']:.3f}"} <= texts
    assert "AR(4)" in texts and result["samples"].shape == (16, 9)


def test_ar_patch_experiment_directly(train_images_subset, test_images_subset):
    """k is capped at n - 1; AR(0) and AR(1) are reported under their own names; cache reuse."""
    cache = {}
    kwargs = dict(num_train=1000, num_test=1000, cache=cache)
    capped = ar_patch_experiment(train_images_subset, test_images_subset, 2, 15, "column",
                                 **kwargs)
    assert capped["k"] == 3
    assert [r["name"] for r in capped["rows"]][-2:] == ["AR(3)", "full joint"]
    assert _nll(capped, "AR(3)", "params") == 15  # AR(n - 1) is the chain rule: 2**4 - 1
    assert len(cache) == 1
    zero = ar_patch_experiment(train_images_subset, test_images_subset, 2, 0, "raster",
                               **kwargs)
    assert [r["name"] for r in zero["rows"]] == ["independent", "Markov", "full joint"]
    assert len(cache) == 1  # same patches, taken from the cache
    big = ar_patch_experiment(train_images_subset, test_images_subset, 4, 3, "random",
                              **kwargs)
    assert big["samples"].shape == (16, 16) and big["rows"][-1]["params"] == 2**16 - 1
    train_nll = [r["train_nll"] for r in big["rows"]]
    assert train_nll[0] > train_nll[-1]  # the richer the table, the better it fits
    assert all(r["alpha"] == 0.01 for r in big["rows"])  # no validation images: fixed alpha


def test_ar_patch_explorer_chooses_alpha_on_validation_patches(train_images_subset,
                                                             test_images_subset):
    """With validation images each row has its own alpha, chosen by its validation NLL,
    and the drawn table shows the alpha and the validation NLL."""
    valid_images = train_images_subset[-1000:]  # any held-out images will do for the test
    explorer = ar_patch_explorer(train_images_subset[:4000], test_images_subset, num_train=1000,
                                 num_test=1000, valid_images=valid_images)
    result = explorer.result
    for r in result["rows"]:
        assert r["alpha"] in ALPHAS and r["valid_nll"] == min(r["valid_curve"])
    texts = _table_texts(explorer.figure)
    assert {"alpha", "valid NLL"} <= texts
    assert {f"{r['alpha']:.2g}" for r in result["rows"]} <= texts
    explorer.controls["k"].value = 5
    assert "AR(5)" in {r["name"] for r in explorer.result["rows"]}


def test_ar_order_slider_follows_the_patch_size(patch_explorer):
    k = patch_explorer.controls["k"]
    patch_explorer.controls["size"].value = 2
    assert k.max == 3 and k.value <= 3 and patch_explorer.result["k"] == k.value
    patch_explorer.controls["size"].value = 4
    assert k.max == 15
