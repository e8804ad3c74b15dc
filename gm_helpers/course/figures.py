"""Every figure of a lecture has a caption and an alt text: myst-nb's cell metadata, checked.

    python -m gm_helpers.course figures [lectures/*.ipynb]   # figures per lecture, and problems

A code cell that draws a figure carries both in its metadata, written on the cell's ``# %%``
line of the paired .py (jupytext keeps it in the .ipynb)::

    # %% mystnb={"figure": {"caption": "...", "name": "fig-05-vae-diagram"}, "image": {"alt": "..."}}

myst-nb, the site's reader, wraps **each** display output of such a cell in a ``<figure>`` with
that caption (MyST Markdown, one paragraph: math allowed) and gives each ``<img>`` the alt text
(myst_nb/sphinx_.py ``_render_nb_cell_code_outputs``, core/render.py ``create_figure_context``
and ``render_image``). So a cell with two images shows the caption under both and the same alt
on both, and a ``name`` there is a duplicate target (a Sphinx warning): ``name`` is only for
cells with one display output. The image an explorer (ipywidgets) draws lives in the widget
state, which myst-nb does not render as an image: the cell still gets a caption, and the alt
text describes its opening view for renderers that show it.

The caption says what the figure shows and what to notice; the alt text says what is drawn, for
a reader who cannot see it (plain text, no LaTeX, not just "figure" or "plot").
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE_MIMES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif", "image/webp")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
GENERIC = {"figure", "plot", "image", "graph", "chart", "picture", "output", "img", "diagram",
           "a figure", "a plot", "an image", "the figure", "the plot", "see caption", "todo"}
MIN_ALT_WORDS = 5
NAME = re.compile(r"^fig-[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass
class Figure:
    """One code cell that draws: its index among the notebook's cells, what it shows, its texts."""

    index: int
    images: int           # image outputs of the cell (each one a <figure> on the site)
    explorer_images: int  # images inside its ipywidgets (widget state), not rendered by myst-nb
    displays: int         # display outputs of any kind (myst-nb wraps each one in the figure)
    caption: str
    alt: str
    name: str
    source: str


def _widget_images(state: dict, model_id: str, seen: set) -> int:
    """Images the widget ``model_id`` and its children hold in their Output widgets."""
    if model_id in seen or model_id not in state:
        return 0
    seen.add(model_id)
    model = state[model_id]
    inner = model.get("state", {})
    count = sum(1 for o in inner.get("outputs", []) if set(o.get("data", {})) & set(IMAGE_MIMES))
    children = inner.get("children", [])
    return count + sum(_widget_images(state, str(c).removeprefix("IPY_MODEL_"), seen) for c in children)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def figures(nb: dict) -> list[Figure]:
    """The code cells of ``nb`` (a notebook as a dict) that draw an image, or that carry a caption."""
    state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        images = explorer = displays = 0
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result"):
                displays += 1
            if set(data) & set(IMAGE_MIMES):
                images += 1
            elif WIDGET_VIEW in data:
                explorer += _widget_images(state, data[WIDGET_VIEW].get("model_id", ""), set())
        meta = cell.get("metadata", {}).get("mystnb", {})
        figure = meta.get("figure", {}) if isinstance(meta.get("figure"), dict) else {}
        image = meta.get("image", {}) if isinstance(meta.get("image"), dict) else {}
        if images or explorer or "caption" in figure:
            found.append(Figure(index, images, explorer, displays, _text(figure.get("caption")).strip(),
                                _text(image.get("alt")).strip(), _text(figure.get("name")).strip(),
                                _text(cell.get("source"))))
    return found


def _where(label: str, f: Figure) -> str:
    first = f.source.strip().splitlines()[0][:60].rstrip() if f.source.strip() else ""
    return f"{label}cell {f.index} ({first!r})"


def problems(nb: dict, label: str = "") -> list[str]:
    """What is missing or wrong in one notebook's captions and alt texts (empty when all is well)."""
    found = []
    for f in figures(nb):
        where = _where(label, f)
        if not f.images and not f.explorer_images:
            found.append(f"{where}: a caption but no figure (the cell no longer draws one?)")
            continue
        if not f.caption:
            found.append(f"{where}: no caption (mystnb.figure.caption)")
        elif "\n\n" in f.caption or "\n \n" in f.caption:
            found.append(f"{where}: the caption has more than one paragraph")
        elif len(re.findall(r"(?<!\\)\$", f.caption)) % 2:
            found.append(f"{where}: the caption's $ signs do not pair up (math left open)")
        alt = f.alt.lower().strip(" .:")
        if not f.alt:
            found.append(f"{where}: no alt text (mystnb.image.alt)")
        elif alt in GENERIC or len(alt.split()) < MIN_ALT_WORDS:
            found.append(f"{where}: the alt text {f.alt!r} does not say what is drawn")
        elif "$" in f.alt or "\\" in f.alt:
            found.append(f"{where}: the alt text has LaTeX; a screen reader reads it out symbol by symbol")
        elif f.caption and alt == f.caption.lower().strip(" .:"):
            found.append(f"{where}: the alt text repeats the caption; say what is drawn instead")
        if f.name and not NAME.match(f.name):
            found.append(f"{where}: the figure name {f.name!r} is not like 'fig-05-vae-diagram'")
        if f.name and f.displays > 1:
            found.append(f"{where}: a name on a cell with {f.displays} display outputs (myst-nb wraps "
                         "each in a figure with this name: a duplicate target)")
        if f.displays > f.images + (1 if f.explorer_images else 0):
            found.append(f"{where}: {f.displays - f.images} display outputs that are not images would "
                         "get the caption too")
    return found


def across(notebooks: dict[str, dict]) -> list[str]:
    """Captions, alt texts and names used by two cells (anywhere in the course)."""
    seen: dict[tuple[str, str], str] = {}
    found = []
    for label, nb in notebooks.items():
        for f in figures(nb):
            where = _where(f"{label} ", f)
            for kind, text in (("caption", f.caption), ("alt text", f.alt), ("name", f.name)):
                if not text:
                    continue
                if (kind, text) in seen:
                    found.append(f"{where}: the same {kind} as {seen[kind, text]}")
                else:
                    seen[kind, text] = where
    return found


def load(paths) -> dict[str, dict]:
    return {Path(p).name: json.loads(Path(p).read_text()) for p in paths}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    paths = argv or sorted(str(p) for p in (REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))
    notebooks = load(paths)
    found = []
    total = [0, 0, 0]
    print(f"{'lecture':44} {'figure cells':>12} {'images':>7} {'explorers':>9}")
    for label, nb in notebooks.items():
        figs = figures(nb)
        row = [len(figs), sum(f.images for f in figs), sum(1 for f in figs if f.explorer_images)]
        total = [a + b for a, b in zip(total, row)]
        print(f"{label:44} {row[0]:12d} {row[1]:7d} {row[2]:9d}")
        found += problems(nb, f"{label} ")
    print(f"{'all':44} {total[0]:12d} {total[1]:7d} {total[2]:9d}")
    found += across(notebooks)
    print("\n".join(found) if found else "every figure has a caption and an alt text")
    if found:
        sys.exit(1)
