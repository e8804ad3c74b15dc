r"""Lecture 04's explorers: masked-convolution masks (types A and B, RGB groups) and the
receptive fields of PixelCNN, Gated PixelCNN and the PixelRNNs, blind spot included.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.models.pixelcnn import GatedPixelCNN, PixelCNN
from gm_helpers.models.pixelrnn import DiagonalBiLSTM, RowLSTM
from gm_helpers.widgets.core import Explorer


# ----------------------------------------------------------------------------- lecture 04
def mask_table(kernel_size: int = 5, mask_type: str = "A", channel: str = "R") -> dict:
    """One output channel of a 3 -> 3 RGB masked convolution, read from ``causal_mask``:
    its k x k mask for each input channel, and the 3 x 3 table of which input channel each
    output channel sees at the centre (rows: outputs R, G, B; columns: inputs R, G, B)."""
    from gm_helpers.models.layers import causal_mask
    mask = causal_mask(kernel_size, mask_type, in_channels=3, out_channels=3, groups=3)
    out = "RGB".index(channel)
    c = kernel_size // 2
    return {"kernel_size": kernel_size, "mask_type": mask_type, "channel": channel,
            "kernels": mask[out].int(),  # (3, k, k): the mask from input R, G, B
            "centre": mask[:, :, c, c].int(),  # (3 out, 3 in) at the centre position
            "spatial": mask[out, out].int(),  # (k, k) for the channel's own input
            "centre_sees": [ch for i, ch in enumerate("RGB") if mask[out, i, c, c] > 0],
            "rows": ["".join(str(v) for v in row) for row in mask[out, out].int().tolist()]}


_RGB_TINT = np.array([[1.0, 0.55, 0.55], [0.5, 0.85, 0.5], [0.55, 0.65, 1.0]])  # R, G, B


def draw_mask(result: dict, ax=None):
    """The output channel's k x k mask from input R, G and B side by side (visible weights
    tinted in the input's colour, the centre outlined) and, without ``ax``, the 3 x 3 table
    of channel connections at the centre. With ``ax``: only the kernels, drawn into it."""
    k, kernels = result["kernel_size"], result["kernels"].numpy()  # (3, k, k)
    fig = None
    if ax is None:
        fig, (ax, ax_table) = plt.subplots(1, 2, figsize=(7.2, 2.9),
                                           gridspec_kw={"width_ratios": [3.4, 1.3]})
    image = np.ones((k, 3 * k + 2, 3))  # three k x k panels, one blank column between
    for i in range(3):
        left = i * (k + 1)
        image[:, left:left + k] = np.where(kernels[i][..., None] > 0, _RGB_TINT[i], 1.0)
        for (r, c), v in np.ndenumerate(kernels[i]):
            ax.text(left + c, r, v, ha="center", va="center", fontsize=7 if k > 5 else 9)
        ax.add_patch(plt.Rectangle((left + k // 2 - 0.5, k // 2 - 0.5), 1, 1, fill=False,
                                   ec="black", lw=2))
        ax.text(left + (k - 1) / 2, k - 0.3, f"input {'RGB'[i]}", ha="center", va="top",
                fontsize=8)
    ax.imshow(image)
    ax.set_axis_off()
    sees = "+".join(result["centre_sees"]) or "nothing"
    ax.set_title(f"{k}x{k} mask {result['mask_type']}, output {result['channel']}: "
                 f"centre sees: {sees}", fontsize=9)
    if fig is None:
        return ax.figure
    centre = result["centre"].numpy()  # (3 out, 3 in)
    out = "RGB".index(result["channel"])
    ax_table.imshow(centre, cmap="Greens", vmin=0, vmax=1.3)
    for (r, c), v in np.ndenumerate(centre):
        ax_table.text(c, r, v, ha="center", va="center", fontweight="bold" if r == out else None)
    ax_table.add_patch(plt.Rectangle((-0.5, out - 0.5), 3, 1, fill=False, ec="black", lw=2))
    ax_table.set_xticks(range(3), ["R", "G", "B"])
    ax_table.set_yticks(range(3), ["R", "G", "B"])
    ax_table.set_xlabel("input channel")
    ax_table.set_ylabel("output channel")
    ax_table.set_title(f"centre, mask {result['mask_type']}", fontsize=9)
    return fig


def mask_explorer() -> Explorer:
    """Kernel size, mask type and output channel; the mask from each input channel, drawn
    from ``causal_mask``, and the centre's channel connections."""
    controls = {"kernel_size": W.Dropdown(options=[1, 3, 5, 7, 9], value=5, description="kernel"),
                "mask_type": W.ToggleButtons(options=["A", "B"], description="mask"),
                "channel": W.ToggleButtons(options=["R", "G", "B"], description="output")}
    return Explorer(controls, mask_table, draw_mask)


RF_MODELS = {"PixelCNN": PixelCNN, "Gated PixelCNN": GatedPixelCNN, "Row LSTM": RowLSTM,
             "Diagonal BiLSTM": DiagonalBiLSTM}


def receptive_field(model: str = "PixelCNN", depth: int = 3, row: int = 7, col: int = 7,
                    size: int = 15, num_images: int = 8, seed: int = 0) -> dict:
    """Which input pixels can reach the logit of pixel (row, col): |gradient| summed over
    random images and random weights. Zero means unreachable: the blind spot shows as zeros."""
    torch.manual_seed(seed)
    net = RF_MODELS[model](num_layers=depth, hidden=4, image_size=size)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.5)
    x = torch.bernoulli(torch.full((num_images, 1, size, size), 0.5)).requires_grad_()
    (grad,) = torch.autograd.grad(net.logits(x)[:, 0, row, col].sum(), x)
    reach = grad.abs().sum(0)[0]  # (size, size)
    before = torch.arange(size * size).view(size, size) < row * size + col
    return {"model": model, "depth": depth, "target": (row, col), "reach": reach,
            "seen": int((reach > 0).sum()), "past": int(before.sum()),
            "blind": int((before & (reach == 0)).sum()), "leak": int((~before & (reach > 0)).sum())}


def draw_receptive_field(result: dict):
    fig, ax = plt.subplots(figsize=(3.6, 3.8))
    reach = result["reach"]
    shown = np.where(reach.numpy() > 0, np.log10(reach.numpy() + 1e-12), np.nan)
    ax.imshow(shown, cmap="viridis")
    r, c = result["target"]
    ax.add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"{result['model']}, {result['depth']} layers\n"
                 f"sees {result['seen']} of {result['past']} earlier pixels", fontsize=9)
    return fig


def receptive_field_explorer(size: int = 15) -> Explorer:
    """Model, depth and target pixel; the map shows what the target's logit depends on."""
    controls = {"model": W.Dropdown(options=list(RF_MODELS), description="model"),
                "depth": W.IntSlider(3, min=1, max=8, description="layers"),
                "row": W.IntSlider(size // 2, min=0, max=size - 1, description="row"),
                "col": W.IntSlider(size // 2, min=0, max=size - 1, description="column")}
    return Explorer(controls, lambda **v: receptive_field(**v, size=size), draw_receptive_field)
