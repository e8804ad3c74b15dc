"""Lecture 01's explorer: exact parameter counts per assumption, redrawn when the sliders move."""
from matplotlib.figure import Figure

from gm_helpers.widgets.counting import param_count_explorer, param_count_summary


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
