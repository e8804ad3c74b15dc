"""Lecture 08's explorer: scrub through a diffusion model's reverse process, from noise to data.

``reverse_result`` computes (a plain function, tested without a browser): the samples after
``frame`` of ``steps`` reverse steps, for a 2-d DDPM (points) or the digit DDPM (images). Each
(model, steps, seed) trajectory is computed once and kept, so moving the frame slider only
redraws. ``draw_reverse`` draws one frame, ``draw_reverse_strip`` several side by side;
``reverse_explorer(models)`` wires a model menu, a steps menu and a frame slider to them.
"""
from __future__ import annotations

import functools

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from gm_helpers.checks import InvalidArgument, check_size
from gm_helpers.widgets.core import Explorer

STEP_CHOICES = (10, 20, 50, 100, 1000)   # 1000 on the 2-d models: all T ancestral steps
MAX_IMAGE_STEPS = 100                     # the digits: DDIM, at most 100 steps (16 images, seconds)


@functools.lru_cache(maxsize=32)
def _trajectory(model, steps: int, num: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    ancestral = steps >= model.T
    _, path = model.sample(num, steps=None if ancestral else steps, generator=g, trajectory=True)
    if ancestral and len(path) > 101:      # keep 100 evenly spaced frames of T + 1 (a copy:
        keep = torch.linspace(0, len(path) - 1, 101).round().long()   # the rest is freed)
        path = path[keep]
    return path, ancestral


def reverse_result(models: dict, data: str, steps: int, frame: int, num: int | None = None,
                   seed: int = 0) -> dict:
    """x after ``frame`` of the trajectory's frames (0: the noise x_T; the last: the sample).
    2-d models: ``steps`` DDIM steps, or T ancestral ones (steps >= T, shown as 100 frames);
    the digit model: DDIM, at most 100 steps."""
    if data not in models:
        raise InvalidArgument(f"data must be one of {sorted(models)}, got {data!r}")
    model = models[data]
    image = len(model.shape) == 3
    steps = check_size("steps", steps, maximum=MAX_IMAGE_STEPS if image else None)
    num = num or (16 if image else 2000)
    path, ancestral = _trajectory(model, steps, num, seed)
    frame = check_size("frame", frame, minimum=0, maximum=len(path) - 1)
    x = path[frame]
    if not image:
        x = x * getattr(model, "scale", 1.0)  # back to the data's units
    return {"data": data, "steps": steps, "frame": frame, "num_frames": len(path),
            "ancestral": ancestral, "image": image, "x": x, "T": model.T}


def _label(result) -> str:
    kind = f"{result['T']} ancestral steps" if result["ancestral"] else f"{result['steps']} DDIM steps"
    k, n = result["frame"], result["num_frames"] - 1
    where = "pure noise x_T" if k == 0 else "the samples" if k == n else f"{k}/{n} of the way"
    return f"{result['data']}, {kind}: {where}"


def _draw_on(ax, result, lim=None) -> None:
    x = result["x"]
    if result["image"]:
        grid = x[:16].clamp(-1, 1).view(-1, 28, 28)                  # (16, 28, 28)
        rows = grid.view(4, 4, 28, 28).permute(0, 2, 1, 3).reshape(112, 112)
        ax.imshow(rows.numpy(), cmap="gray", vmin=-1, vmax=1)
    else:
        ax.scatter(x[:, 0].numpy(), x[:, 1].numpy(), s=2, alpha=0.4, color="#c05621")
        lim = lim or 1.2 * max(float(x.abs().max()), 1.0)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_reverse(result: dict):
    """One frame: the points (2-d) or 16 images (digits, x_t clipped to [-1, 1])."""
    fig, ax = plt.subplots(figsize=(4.8, 4.8))
    _draw_on(ax, result, lim=None if result["image"] else 6.0 if result["data"] == "grid" else 2.0)
    ax.set_title(_label(result), fontsize=10)
    fig.tight_layout()
    return fig


def draw_reverse_strip(results: list[dict]):
    """Several frames side by side, the same axes for every 2-d frame."""
    if not results:
        raise InvalidArgument("draw_reverse_strip needs at least one result of reverse_result")
    fig, axes = plt.subplots(1, len(results), figsize=(2.4 * len(results), 2.8), squeeze=False)
    lim = None if results[0]["image"] else 1.2 * max(float(r["x"].abs().quantile(0.99)) for r in results)
    for ax, result in zip(axes[0], results):
        _draw_on(ax, result, lim)
        k, n = result["frame"], result["num_frames"] - 1
        ax.set_title("x_T (noise)" if k == 0 else "sample" if k == n else f"{k}/{n}", fontsize=10)
    fig.tight_layout()
    return fig


def reverse_explorer(models: dict, data: str | None = None, steps: int = 50) -> Explorer:
    """A menu of models (ring, grid, digits), a menu of step counts and a frame slider."""
    data = data or next(iter(models))
    controls = {"data": W.Dropdown(options=list(models), value=data, description="model"),
                "steps": W.Dropdown(options=list(STEP_CHOICES), value=steps, description="steps"),
                "frame": W.IntSlider(0, min=0, max=steps, description="frame")}

    def frames(values):
        model = models[values["data"]]
        if len(model.shape) == 3 and values["steps"] > MAX_IMAGE_STEPS:
            return (0, 0)   # refused below with a message
        return (0, min(model.T, 100) if values["steps"] >= model.T else values["steps"])
    return Explorer(controls, lambda data, steps, frame: reverse_result(models, data, steps, frame),
                    draw_reverse, ranges={"frame": frames})
