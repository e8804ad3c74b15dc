"""The explorer framework: no figure left open, one sentence when saved, controls that wrap in rows."""
import matplotlib.pyplot as plt
from matplotlib.figure import Figure


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
