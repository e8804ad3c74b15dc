r"""The explorer framework: the logic is plain functions; widgets only call them.

Every explorer is an ``Explorer``: ``controls`` (name -> ipywidget), ``result`` (what the last
update computed) and ``figure`` (what it drew). Tests set ``controls[...].value`` and check
both, with no browser; a notebook displays ``explorer`` itself.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

STATIC_TEXT = ("[interactive explorer: run the notebook to move its controls; the figure above "
               "is a static view of what it draws]")


def controls_box(controls) -> W.Box:
    """The controls in rows that wrap to fit a 900-px notebook column: every slider and menu a
    fixed, usable width (never squeezed to a 0-px track), toggle buttons kept on one line."""
    for control in controls:
        if isinstance(control, W.ToggleButtons):
            control.style.button_width = "44px"
            control.style.description_width = "60px"
        elif isinstance(control, (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.Dropdown,
                                  W.IntText, W.BoundedIntText)):
            control.layout.width = "320px"
            control.style.description_width = "90px"
    return W.Box(list(controls), layout=W.Layout(display="flex", flex_flow="row wrap",
                                                 align_items="center", max_width="900px",
                                                 grid_gap="2px 12px"))


class Explorer:
    """Controls wired to ``compute(**values) -> result`` and ``draw(result) -> figure``.

    ``ranges``: control name -> ``f(values) -> (min, max)``, for a slider whose range follows
    the other controls (e.g. the output to highlight among D inputs); applied before every
    update, so the value is never silently out of range. A setting ``compute`` refuses (its
    ValueError or TypeError) clears the figure and shows the message: ``error`` holds it.
    """

    def __init__(self, controls: dict, compute, draw, ranges: dict | None = None):
        self.controls, self.compute, self.draw = controls, compute, draw
        self.ranges = ranges or {}
        self.output = W.Output()
        self.ui = W.VBox([controls_box(controls.values()), self.output])
        self.result = self.figure = self.error = None
        self._busy = False
        for control in controls.values():
            control.observe(self.update, names="value")
        self.update()

    def values(self) -> dict:
        return {name: control.value for name, control in self.controls.items()}

    def _apply_ranges(self) -> None:
        for name, bounds in self.ranges.items():
            low, high = bounds(self.values())
            control = self.controls[name]
            if low > control.max:            # move the range in an order traitlets accepts
                control.max, control.min = high, low
            else:
                control.min, control.max = low, high

    def update(self, change=None) -> None:
        if self._busy:   # a range change that moved a value: one update, not two
            return
        self._busy = True
        try:
            self._apply_ranges()
        finally:
            self._busy = False
        try:
            self.result = self.compute(**self.values())
        except (ValueError, TypeError) as err:  # a value the model cannot take: say so, and
            self.result, self.error = None, str(err)  # leave no stale figure that looks current
            with self.output:
                self.output.clear_output(wait=True)
                print(f"cannot draw this setting: {err}")
            return
        self.error = None
        with self.output:
            self.output.clear_output(wait=True)
            if self.figure is not None:
                plt.close(self.figure)
            self.figure = self.draw(self.result)
            display(self.figure)
            # shown once, as a PNG in the output; closed, so that the inline backend does not
            # show it again under the widget (a stale copy) or send it after each change
            plt.close(self.figure)

    def _repr_mimebundle_(self, **kwargs):
        """The widget for a live kernel; for a saved notebook (GitHub, nbviewer), a sentence
        instead of the widget's Python repr (``VBox(children=(...``)."""
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = STATIC_TEXT
        return bundle
