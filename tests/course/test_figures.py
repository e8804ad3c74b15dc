"""Every figure of every committed lecture has a caption and an alt text (myst-nb cell metadata)."""
from __future__ import annotations

import copy
import json

import pytest

from gm_helpers.course import figures
from gm_helpers.course.figures import REPO, WIDGET_STATE, WIDGET_VIEW

LECTURES = sorted((REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))
PNG = "iVBORw0KGgo="   # the outputs' contents do not matter to the checks


def _load(path):
    return json.loads(path.read_text())


def _cell(metadata=None, outputs=()):
    return {"cell_type": "code", "metadata": metadata or {}, "source": "plt.show()", "outputs": list(outputs),
            "execution_count": 1}


def _image():
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": PNG, "text/plain": "<Figure>"}}


def _meta(caption="A curve that falls as 1/S: the thing to notice.",
          alt="A straight line falling from the upper left to the lower right.", name=None):
    figure = {"caption": caption} | ({"name": name} if name else {})
    return {"mystnb": {"figure": figure, "image": {"alt": alt}}}


def _nb(*cells, state=None):
    metadata = {"widgets": {WIDGET_STATE: {"state": state}}} if state else {}
    return {"cells": list(cells), "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


@pytest.mark.parametrize("ipynb", LECTURES, ids=lambda p: p.name)
def test_every_figure_of_the_lecture_has_a_caption_and_an_alt_text(ipynb):
    nb = _load(ipynb)
    assert figures.figures(nb), f"{ipynb.name} draws no figure?"
    assert figures.problems(nb) == [], "caption the figure in the .py's '# %% mystnb=...' line"


def test_no_caption_alt_text_or_name_is_used_twice_in_the_course():
    assert figures.across(figures.load(LECTURES)) == []


@pytest.mark.parametrize("ipynb", LECTURES, ids=lambda p: p.name)
def test_every_explorer_is_found_with_the_image_in_its_widget_state(ipynb):
    nb = _load(ipynb)
    calls = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and any(WIDGET_VIEW in o.get("data", {}) for o in c.get("outputs", []))
             and "_explorer(" in "".join(c["source"])]
    found = {f.index for f in figures.figures(nb) if f.explorer_images}
    assert calls and set(calls) == found


def test_a_lecture_figure_without_a_caption_is_caught():
    nb = _load(LECTURES[0])
    broken = copy.deepcopy(nb)
    first = figures.figures(broken)[0]
    del broken["cells"][first.index]["metadata"]["mystnb"]
    found = figures.problems(broken, "01 ")
    assert len(found) == 2 and all(f"cell {first.index}" in p for p in found)
    assert "no caption" in found[0] and "no alt text" in found[1]
    assert figures.problems(nb) == []


def test_the_command_fails_on_a_notebook_with_an_uncaptioned_figure(tmp_path, capsys):
    path = tmp_path / "99_x.ipynb"
    path.write_text(json.dumps(_nb(_cell(outputs=[_image()]))))
    with pytest.raises(SystemExit) as exit_:
        figures.main([str(path)])
    assert exit_.value.code == 1 and "no caption" in capsys.readouterr().out
    path.write_text(json.dumps(_nb(_cell(_meta(), [_image()]))))
    figures.main([str(path)])
    assert "every figure has a caption" in capsys.readouterr().out


@pytest.mark.parametrize("metadata, message", [
    (_meta(caption=""), "no caption"),
    (_meta(alt=""), "no alt text"),
    (_meta(alt="Figure."), "does not say what is drawn"),
    (_meta(alt="plot"), "does not say what is drawn"),
    (_meta(alt="a curve going down"), "does not say what is drawn"),
    (_meta(alt=r"A line of slope $-1$ on log-log axes, falling."), "LaTeX"),
    (_meta(caption="Two lines.\n\nA second paragraph.", alt="Two lines that cross near the middle."),
     "more than one paragraph"),
    (_meta(caption="The KL $\\mathrm{KL}(q \\| p) falls."), "do not pair up"),
    (_meta(caption="A straight line falling from the upper left to the lower right."), "repeats the caption"),
    (_meta(name="Figure 3"), "not like 'fig-05-vae-diagram'"),
])
def test_bad_captions_and_alt_texts_are_named(metadata, message):
    found = figures.problems(_nb(_cell(metadata, [_image()])))
    assert len(found) == 1 and message in found[0]


def test_a_name_on_a_cell_with_two_images_and_a_caption_without_a_figure_are_named():
    two = _cell(_meta(name="fig-99-two"), [_image(), _image()])
    assert "duplicate target" in figures.problems(_nb(two))[0]
    assert figures.problems(_nb(_cell(_meta(), [_image(), _image()]))) == []   # no name: fine
    text = {"output_type": "execute_result", "metadata": {}, "data": {"text/plain": "0.5"}}
    assert "would get the caption too" in figures.problems(_nb(_cell(_meta(), [_image(), text])))[0]
    assert "no longer draws" in figures.problems(_nb(_cell(_meta(), [])))[0]


def test_the_same_caption_twice_is_named():
    one, two = _nb(_cell(_meta(), [_image()])), _nb(_cell(_meta(alt="Another thing that is drawn here."),
                                                          [_image()]))
    found = figures.across({"a": one, "b": two})
    assert len(found) == 1 and "the same caption" in found[0]


def test_an_explorer_image_inside_nested_widgets_counts_and_needs_a_caption():
    state = {"box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_out"]}},
             "out": {"model_name": "OutputModel", "state": {"outputs": [_image()]}}}
    view = {"output_type": "display_data", "metadata": {},
            "data": {WIDGET_VIEW: {"model_id": "box"}, "text/plain": "[interactive explorer]"}}
    nb = _nb(_cell(outputs=[view]), state=state)
    (found,) = figures.figures(nb)
    assert found.explorer_images == 1 and found.images == 0
    assert "no caption" in figures.problems(nb)[0]
    nb["cells"][0]["metadata"] = _meta(name="fig-99-explorer")
    assert figures.problems(nb) == []
