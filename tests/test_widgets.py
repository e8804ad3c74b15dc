"""gm_helpers.widgets: the explorers compute the right numbers and draw them, with no browser."""
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from gm_helpers.analysis.counting import ALPHAS
from gm_helpers.viz import plot_param_counts, plot_params_vs_nll, show_images
from gm_helpers.widgets.autoregressive import ar_patch_experiment, ar_patch_explorer
from gm_helpers.widgets.counting import param_count_explorer, param_count_summary


# ----------------------------------------------------------------------------- lecture 01
def test_param_count_summary_exact():
    s = param_count_summary(n=10, m=3, k=2)
    assert s["counts"] == {"full joint": 3**10 - 1, "independent": 20,
                           "Markov": 2 + 9 * 3 * 2, "AR(2)": 3**2 - 1 + 8 * 9 * 2}
    assert param_count_summary(784, 2, 2)["counts"]["full joint"] == 2**784 - 1


def test_param_count_summary_caps_k():
    """AR order k is capped at n - 1 (there are only n - 1 earlier variables)."""
    s = param_count_summary(n=3, m=2, k=8)
    assert s["k"] == 2 and s["counts"]["AR(2)"] == 2**3 - 1


def _legend_labels(fig):
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_param_count_explorer_updates_on_slider_change():
    """Moving n to 784 recomputes the exact counts and redraws every assumption's curve."""
    explorer = param_count_explorer()
    first = explorer.figure
    explorer.controls["n"].value = 784
    explorer.controls["m"].value = 2
    assert explorer.result["n"] == 784
    assert explorer.result["counts"]["full joint"] == 2**784 - 1
    assert explorer.result["counts"]["independent"] == 784
    assert isinstance(explorer.figure, Figure) and explorer.figure is not first
    labels = _legend_labels(explorer.figure)
    assert {"full joint", "independent", "Markov", "AR(2)"} <= set(labels)
    assert len(explorer.figure.axes[0].get_lines()) >= 4  # one curve per assumption (+ marker)
    assert "237 digits" in "".join(t.get_text() for t in explorer.figure.axes[0].texts)


def test_param_count_explorer_caps_k_for_small_n():
    explorer = param_count_explorer(n=16, m=2, k=5)
    explorer.controls["n"].value = 3
    assert explorer.result["k"] == 2
    assert explorer.result["counts"]["AR(2)"] == 2**3 - 1


def test_param_count_explorer_m_slider():
    explorer = param_count_explorer(n=4, m=2, k=2)
    explorer.controls["m"].value = 10
    assert explorer.result["counts"]["full joint"] == 10**4 - 1
    assert explorer.result["counts"]["Markov"] == 9 + 3 * 10 * 9


# ----------------------------------------------------------------------------- lecture 02
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


# ----------------------------------------------------------------------------- plots
def test_show_images_shapes():
    ax = show_images(np.zeros((6, 16)), nrow=3, title="t")
    assert ax.get_title() == "t" and len(ax.images) == 1
    with pytest.raises(ValueError, match="square"):
        show_images(np.zeros((4, 10)))


def test_plot_helpers_label_every_curve():
    ax = plot_param_counts(range(1, 20), ks=(2, 4))
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["full joint", "independent", "Markov", "AR(2)", "AR(4)"]
    rows = [{"name": "a", "params": 3, "train_nll": 2.0, "test_nll": 2.1},
            {"name": "b", "params": 30, "train_nll": 1.5, "test_nll": 1.9}]
    ax = plot_params_vs_nll(rows, ax=plt.subplots()[1])
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.texts] == ["a", "b"]


def test_made_connectivity_is_autoregressive_in_every_setting():
    """reach[d, j] > 0 only when input j comes before output d, for many sizes and seeds."""
    from gm_helpers.widgets.made import made_connectivity
    for D, layers, units, seed, ordering in [(5, 1, 6, 0, "natural"), (7, 2, 4, 3, "random"),
                                             (10, 3, 12, 11, "random"), (2, 1, 1, 0, "natural")]:
        r = made_connectivity(D, layers, units, seed, ordering)
        position = {int(p): t for t, p in enumerate(r["order"])}
        for d in range(D):
            for j in range(D):
                if position[j] >= position[d]:
                    assert r["reach"][d, j] == 0, (D, layers, seed, d, j)
        assert r["sees"] == sorted(j for j in range(D) if r["reach"][r["output"], j] > 0)


def test_made_explorer_redraws_on_change():
    from gm_helpers.widgets.made import made_explorer
    explorer = made_explorer(D=5)
    assert explorer.result["reach"].shape == (5, 5)
    explorer.controls["D"].value = 8
    assert explorer.result["reach"].shape == (8, 8)
    first = explorer.result["order"].clone()
    explorer.controls["ordering"].value = "random"
    explorer.controls["seed"].value = 4
    assert not torch.equal(first, explorer.result["order"])
    explorer.controls["output"].value = 9  # beyond D - 1: capped
    assert explorer.result["output"] == 7
    ax_graph = explorer.figure.axes[0]
    assert "hidden 1" in [t.get_text() for t in ax_graph.get_yticklabels()]


def test_mask_table_matches_the_seed_and_colour_rules():
    from gm_helpers.widgets.pixel import mask_explorer, mask_table
    assert mask_table(5, "A", "R")["rows"] == ["11111", "11111", "11000", "00000", "00000"]
    assert mask_table(3, "A", "G")["centre_sees"] == ["R"]
    assert mask_table(3, "B", "B")["centre_sees"] == ["R", "G", "B"]
    explorer = mask_explorer()
    explorer.controls["mask_type"].value = "B"
    explorer.controls["kernel_size"].value = 3
    assert explorer.result["rows"] == ["111", "110", "000"]
    assert "centre sees: R" in explorer.figure.axes[0].get_title()


def test_receptive_field_shows_the_blind_spot_and_never_a_leak():
    from gm_helpers.widgets.pixel import receptive_field, receptive_field_explorer
    plain, gated = receptive_field("PixelCNN", 6), receptive_field("Gated PixelCNN", 6)
    assert plain["leak"] == 0 and gated["leak"] == 0
    assert plain["blind"] > 0, "six masked layers still miss part of the past"
    assert gated["blind"] == 0, "the gated stacks see every earlier pixel"
    explorer = receptive_field_explorer(size=9)
    explorer.controls["model"].value = "Gated PixelCNN"
    explorer.controls["row"].value = 0
    explorer.controls["col"].value = 0
    assert explorer.result["seen"] == 0 and explorer.result["past"] == 0


def test_plot_learning_curves_from_manifest_entries():
    """Curves at the validated epochs' wall times; entries without a history are named."""
    from gm_helpers.viz import plot_learning_curves
    entries = {"a": {"history": {"seconds": [60, 120, 180], "valid_nll": [99.0, 95.0],
                                 "valid_epoch": [2, 3]}},
               "old": {"test_nll": 90.0},
               "b": {"history": {"seconds": [30, 60], "valid_nll": [97.0, 96.0]}}}
    ax = plot_learning_curves(entries, reference=91.1)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["a"].get_xdata()) == [2.0, 3.0] and list(lines["a"].get_ydata()) == [99, 95]
    assert list(lines["b"].get_xdata()) == [0.5, 1.0]
    assert "old: no curve recorded" in lines
    plt.close(ax.figure)
    entries["a"]["history"]["train_nll"] = [120.0, 100.0, 90.0]
    ax = plot_learning_curves({"a": entries["a"]}, train=True)
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and list(dashed[0].get_ydata()) == [120.0, 100.0, 90.0]
    assert list(dashed[0].get_xdata()) == [1.0, 2.0, 3.0]  # every epoch, at its minute


# ----------------------------------------------------------------------------- issue 12: layout,
# ranges, and what a saved notebook shows
def test_an_explorer_leaves_no_open_figure_behind():
    """The figure is shown once, inside the widget's output, then closed: the inline backend
    has nothing left to show again under the widget (the stale copy) or after a change."""
    from gm_helpers.widgets.made import made_explorer
    plt.close("all")
    explorer = made_explorer()
    assert plt.get_fignums() == []
    explorer.controls["seed"].value = 3
    assert plt.get_fignums() == [] and isinstance(explorer.figure, Figure)
    assert explorer.figure.axes   # still drawable and inspectable after closing


def test_a_saved_explorer_shows_a_sentence_not_its_python_repr():
    from gm_helpers.widgets.core import STATIC_TEXT
    from gm_helpers.widgets.made import made_explorer
    bundle = made_explorer()._repr_mimebundle_()
    assert bundle["text/plain"] == STATIC_TEXT
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_highlight_slider_follows_the_number_of_inputs():
    from gm_helpers.widgets.made import made_explorer
    explorer = made_explorer(D=8)
    output = explorer.controls["output"]
    assert (output.min, output.max, output.value) == (0, 7, 7)
    explorer.controls["D"].value = 4          # the slider shrinks; its value moves inside
    assert (output.max, output.value) == (3, 3) and explorer.result["output"] == 3
    explorer.controls["D"].value = 10
    assert output.max == 9
    output.value = 9
    assert explorer.result["output"] == 9 and explorer.result["D"] == 10


def test_ar_order_slider_follows_the_patch_size(patch_explorer):
    k = patch_explorer.controls["k"]
    patch_explorer.controls["size"].value = 2
    assert k.max == 3 and k.value <= 3 and patch_explorer.result["k"] == k.value
    patch_explorer.controls["size"].value = 4
    assert k.max == 15


def test_controls_wrap_in_rows_and_keep_a_usable_width():
    import ipywidgets as W

    from gm_helpers.widgets.core import controls_box
    from gm_helpers.widgets.made import made_explorer
    from gm_helpers.widgets.pixel import mask_explorer
    box = made_explorer().ui.children[0]
    assert box.layout.flex_flow == "row wrap" and box.layout.max_width == "900px"
    assert all(c.layout.width == "320px" for c in box.children if isinstance(c, W.IntSlider))
    toggles = [c for c in mask_explorer().ui.children[0].children if isinstance(c, W.ToggleButtons)]
    assert toggles and all(t.style.button_width == "44px" for t in toggles)
    assert isinstance(controls_box([W.IntSlider()]), W.Box)


def test_param_count_figure_separates_the_small_counts():
    """At n = 784 and m = 5 the full joint reaches 10^547: the other three curves get an axis of
    their own, where they are distinct."""
    from gm_helpers.widgets.counting import draw_param_counts, param_count_summary
    fig = draw_param_counts(param_count_summary(784, 5, 4))
    small = fig.axes[1]
    ends = sorted(line.get_ydata()[-1] for line in small.get_lines() if len(line.get_ydata()) > 2)
    assert len(ends) == 3 and ends[0] * 4 < ends[1] and ends[1] * 4 < ends[2]
    low, high = small.get_ylim()
    assert high < 1e8      # not squeezed by the full joint's scale
