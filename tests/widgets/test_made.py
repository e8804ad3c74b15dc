"""Lecture 03's explorer: MADE's connectivity is autoregressive, and the explorer redraws on every change."""
import torch


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
