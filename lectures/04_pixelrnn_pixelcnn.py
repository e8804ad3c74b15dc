# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 4 — PixelRNN and PixelCNN: masks you can watch, and the blind spot
#
# **What you will learn**
#
# * how an image becomes a sequence: raster order over pixels, and R, G, B within a pixel,
#   $p(x) = \prod_i p(x_{i,R} \mid x_{<i})\, p(x_{i,G} \mid x_{<i}, x_{i,R})\, p(x_{i,B} \mid x_{<i}, x_{i,R}, x_{i,G})$;
# * masked convolutions of type **A** (the first layer: the centre is excluded) and **B** (later
#   layers: the centre is included), for any kernel size and for colour channels;
# * the four architectures in their own code: the PixelCNN's residual blocks, the Gated
#   PixelCNN's two stacks, the Row LSTM's step, the Diagonal BiLSTM's skew;
# * what a stack of masked convolutions can and cannot see: the **blind spot**, measured by
#   gradients, and how the Gated PixelCNN's two stacks remove it;
# * PixelRNN: the Row LSTM's triangular view, and the Diagonal BiLSTM's skewed image
#   ($2N - 1$ steps for an $N \times N$ image);
# * why training is parallel but sampling is sequential, measured, and how cropping to the
#   rows already drawn gives the same samples for less work;
# * a colour PixelCNN trained on coloured digits: $p(R)\,p(G \mid R)\,p(B \mid R, G)$ in its
#   gradients, its samples and its per-channel likelihoods, in nats and bits per dimension;
# * PixelCNN++'s discretized logistic mixture over 256 levels, derived line by line, and a
#   softmax and a mixture on the same PixelCNN trunk compared on grayscale digits: likelihoods,
#   one pixel's predicted distribution, samples;
# * multi-scale models: a small image first, and why drawing groups of pixels in parallel
#   turns 784 sequential passes into 55;
# * five exercises, each in the section it practises: you build the type-A mask, the RGB mask,
#   a Gated PixelCNN layer (the last two checked by gradients) and the skew, and work out how
#   far up a PixelCNN sees.
#
# **Study time:** about 130 minutes of reading and 65 minutes of exercises.

# %% tags=["colab-setup"]
# On Google Colab this cell installs the course's package (gm_helpers) and downloads the data;
# anywhere else (JupyterLab, Binder) it does nothing. Run it first.
import sys

if "google.colab" in sys.modules:
    raise RuntimeError(
        "This copy of the course was not published with its repository's address, so it cannot "
        "install itself on Colab. Run it on your own machine (the course's README says how), or "
        "ask your instructor for the course's GitHub address, install the package from it with "
        "`%pip install \"gm_helpers @ git+<that address>\"` and run the notebook from the next "
        "cell. (Maintainers: set `repository` in course.toml and run "
        "`python -m gm_helpers.course colab-cell --write`.)")

# %%
import inspect
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.timing import cpu_time, one_thread
from gm_helpers.data import colour_digits, grayscale_digits, load_binarized_mnist
from gm_helpers.diagrams.autoregressive import multiscale_orders
from gm_helpers.exercises.pixel import (
    check_gated_layer,
    check_rgb_mask,
    check_rows_above,
    check_skew,
    check_type_a_mask,
)
from gm_helpers.models import logistic_mixture, multiscale, pixelcnn, pixelrnn
from gm_helpers.models.layers import MaskedConv2d, causal_mask
from gm_helpers.models.pixelcnn import MixturePixelCNN, PixelCNN
from gm_helpers.models.pixelcnn_cache import sample_cached, sample_cached_gated
from gm_helpers.models.pixelrnn import num_diagonal_steps, skew, unskew
from gm_helpers.training.checkpoint import load_shipped, load_shipped_samples, shipped_manifest
from gm_helpers.training.loop import bits_per_dim, evaluate_nll, get_device, seed_everything
from gm_helpers.viz import image_grid, plot_checkpoint_curves, show_images
from gm_helpers.widgets.pixel import (
    draw_mask,
    mask_explorer,
    mask_table,
    receptive_field,
    receptive_field_explorer,
)

seed_everything(0)
device = get_device()
x_test = load_binarized_mnist("test")                      # (10000, 1, 28, 28)


def excerpt(obj, start: str, stop: str | None = None) -> None:
    """Print the package's source of ``obj`` from the line holding ``start`` to the line
    before the one holding ``stop`` (or to the end)."""
    lines = inspect.getsource(obj).splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next((i for i, line in enumerate(lines) if stop and i > first and stop in line),
                len(lines))
    print("\n".join(lines[first:last]))


# %% [markdown]
# ## 1. Masks A and B
#
# A convolution computes each output from a $k \times k$ window around the same position. To
# respect the raster order, we zero every weight that would look at the current pixel's
# future: the rows below the centre, and the pixels right of the centre in its row. The
# **first** layer reads the raw image, so it must not see the centre pixel either (**mask A**);
# later layers read features that already exclude the pixel's own value, so they may use the
# centre (**mask B**). A masked convolution multiplies its weights by the 0/1 mask $M$ at every
# call, so the weights it uses, $W \odot M$, stay exactly zero wherever $M$ is 0, however
# training changes $W$ (the entries of $W$ under a 0 of the mask are stored but never act, and
# get zero gradient):
#
# $$y = (W \odot M) * x + b, \qquad W, M \in \mathbb R^{C_\text{out} \times C_\text{in} \times k \times k}.$$
#
# For one channel, with the kernel's rows and columns numbered $0, \dots, k - 1$ and the centre
# at $(c, c)$, $c = \lfloor k/2 \rfloor$, the two masks are
#
# $$M^A_{uv} = \begin{cases} 1 & u < c, \text{ or } u = c \text{ and } v < c,\\
#   0 & \text{otherwise,} \end{cases} \qquad
#   M^B_{uv} = \begin{cases} 1 & u = v = c,\\ M^A_{uv} & \text{otherwise.} \end{cases}$$
#
# The package's masked convolution, `MaskedConv2d` (`gm_helpers/models/layers.py`), is an
# ordinary `nn.Conv2d` holding its mask as a buffer; its whole forward pass is the equation
# above:

# %%
excerpt(MaskedConv2d, "def forward")

# %% [markdown]
# The 5×5 mask A row by row (1: the weight is kept, 0: it is zeroed), and the count of visible
# weights: mask A keeps the $(k^2 - 1)/2$ positions before the centre in raster order, mask B
# adds the centre.

# %%
for row in mask_table(5, "A", "R")["rows"]:
    print(row)
for k in (1, 3, 5, 7):
    a, b = causal_mask(k, "A")[0, 0], causal_mask(k, "B")[0, 0]
    assert a.sum() == (k * k - 1) // 2 and b.sum() == (k * k + 1) // 2
    print(f"k = {k}: mask A keeps {int(a.sum()):2d} of {k * k} weights, mask B {int(b.sum()):2d}")

# %% jupyter={"source_hidden": true} tags=["claim-04-mask-a-table", "hide-input"]
assert mask_table(5, "A", "R")["rows"] == ["11111", "11111", "11000", "00000", "00000"]

# %% [markdown]
# **Exercise 1: mask A.** Build the $k \times k$ mask A of one channel, $M^A$ above: every row
# above the centre, and the centre row up to (not including) the centre.
#
# * input `k`: an odd Python `int` (the checker tries 1, 3, 5 and 7);
# * return: a torch tensor or a NumPy array of shape `(k, k)` holding 0s and 1s, of any float
#   dtype from float32 up, or an integer or bool dtype.
#
# The checker compares with the package's mask and names the usual mistakes (the centre kept,
# the mask transposed or upside down).


# %%
def type_a_mask(k):
    """The k x k type-A mask (k odd)."""
    ### BEGIN SOLUTION
    import numpy as np
    mask = np.zeros((k, k))
    mask[: k // 2] = 1
    mask[k // 2, : k // 2] = 1
    return mask
    ### END SOLUTION


# %%
check_type_a_mask(type_a_mask)

# %% [markdown]
# **Colour.** For colour, each pixel is three variables, R then G then B, and a layer's
# channels are split into three groups (the first third "R", the next "G", the last "B"). Away
# from the centre every output channel sees every input channel: those pixels are all in the
# past. At the centre, mask A lets the R outputs see **no** channel of their own pixel, G sees
# R, B sees R and G; mask B adds each group's own channel (its features hold no value of the
# pixel that the group may not see). Below, each panel is one output channel's 5×5 mask from
# input R, G and B side by side (tinted where the weight is kept, the centre outlined), drawn
# from `causal_mask` itself; then the centre's connections as a table, output × input.

# %% mystnb={"figure": {"caption": "The 5\u00d75 masks of a colour PixelCNN, drawn from `causal_mask`: each panel is one output channel's mask from input R, G and B (tinted where the weight is kept, the centre outlined). Every pixel above or to the left is visible from every channel; only the centre differs: mask A lets R see nothing of its own pixel, G see R, B see R and G, and mask B adds each channel itself.", "name": "fig-04-rgb-masks"}, "image": {"alt": "Two rows of three panels, the top row mask A and the bottom row mask B, for output R, G and B. Each panel holds three 5 by 5 grids of 0s and 1s, tinted red, green and blue for input R, G and B; in every grid the top two rows and the two cells left of the centre are 1, the cells after the centre are 0, and the outlined centre cell is 1 or 0. Titles give what the centre sees: mask A, output R: nothing; output G: R; output B: R+G; mask B, output R: R; output G: R+G; output B: R+G+B."}}
fig, axes = plt.subplots(2, 3, figsize=(13, 4.6))
for i, mask_type in enumerate("AB"):
    for j, channel in enumerate("RGB"):
        draw_mask(mask_table(5, mask_type, channel), ax=axes[i, j])
fig.tight_layout()
plt.show()
for mask_type in "AB":
    centre = mask_table(5, mask_type)["centre"]            # (3 out, 3 in) at the centre
    print(f"mask {mask_type}, centre (rows: output R, G, B; columns: input R, G, B):")
    print(centre.numpy())
# with more channels per group, the same pattern in blocks: 6 -> 6 channels, 2 per colour
big = causal_mask(3, "A", 6, 6, groups=3)[:, :, 1, 1]

# %% jupyter={"source_hidden": true} tags=["claim-04-rgb-centre", "hide-input"]
assert mask_table(5, "A")["centre"].tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
assert mask_table(5, "B")["centre"].tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
assert torch.equal(big, torch.kron(mask_table(3, "A")["centre"].float(), torch.ones(2, 2)))

# %% [markdown]
# ### Explore the masks
# Choose the kernel size, the mask type and the output channel: the panel shows that channel's
# mask from each input channel, and the table the centre's connections.

# %% mystnb={"figure": {"caption": "The mask explorer, opening at a 5\u00d75 mask A for output R, which sees nothing of its own pixel, beside the centre's connections (G reads R; B reads R and G); in a running notebook, change the kernel size, mask type and output channel.", "name": "fig-04-mask-explorer"}, "image": {"alt": "Left: three 5 by 5 grids of 0s and 1s tinted red, green and blue, titled 5x5 mask A, output R: centre sees nothing, with the top two rows and the two cells left of the centre set to 1 and the outlined centre 0 in all three. Right: a 3 by 3 table titled centre, mask A, output channel R, G, B down the side and input channel R, G, B along the bottom, with 1s at G from R, B from R and B from G and 0s elsewhere; the R row is outlined."}} tags=["nbval-ignore-output"]
mask_explorer()

# %% [markdown]
# **Exercise 2: the RGB mask.** Write the mask of a masked convolution for colour images, whose
# channels form three contiguous groups (the first third R, the next third G, the last B).
# Every row above the centre and the centre row left of the centre are visible, from every
# input channel to every output channel; at the centre, output group $g$ sees input groups
# $g' < g$ (type `"A"`) or $g' \le g$ (type `"B"`), the tables above.
#
# * inputs: `kernel_size`, an odd Python `int`; `mask_type`, the string `"A"` or `"B"`;
#   `in_channels` and `out_channels`, Python `int`s, each a multiple of 3;
# * return: a torch tensor or a NumPy array of shape `(out_channels, in_channels, kernel_size,
#   kernel_size)` (the layout of a convolution's weight) holding 0s and 1s, of any float dtype
#   from float32 up, or an integer or bool dtype.
#
# The checker builds a 5×5 A, 3×3 B, 1×1 B stack from your masks and asks autograd which inputs
# each output depends on, across pixels and channels, then compares with the package's masks
# for $k$ = 1, 3, 5 and non-square channel counts; if something is wrong it names the mistake.


# %%
def rgb_mask(kernel_size, mask_type, in_channels, out_channels):
    """The (out_channels, in_channels, k, k) 0/1 mask for R -> G -> B channel groups."""
    ### BEGIN SOLUTION
    import torch
    k, c = kernel_size, kernel_size // 2
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :c, :] = 1                                  # every row above the centre
    mask[:, :, c, :c] = 1                                  # the centre row, left of the centre
    g_out = torch.arange(out_channels) // (out_channels // 3)  # 0 = R, 1 = G, 2 = B
    g_in = torch.arange(in_channels) // (in_channels // 3)
    if mask_type == "A":
        mask[:, :, c, c] = (g_in[None, :] < g_out[:, None]).float()
    else:
        mask[:, :, c, c] = (g_in[None, :] <= g_out[:, None]).float()
    return mask
    ### END SOLUTION


# %%
check_rgb_mask(rgb_mask)

# %% [markdown]
# The package's own masks, `causal_mask` (`gm_helpers/models/layers.py`), one function for
# both types, any kernel size and any number of channel groups (`groups=1` for a binary image,
# 3 for colour); `MaskedConv2d` calls it when it is built:

# %% tags=["answer-source"]
excerpt(causal_mask, "ch, cw = kh // 2")

# %% [markdown]
# ## 2. The four architectures in code
#
# ### PixelCNN: a type-A layer, residual blocks of type-B layers, a 1×1 head
#
# With $h$ hidden units per colour group ($C$ groups: 1 for binary images, 3 for RGB), the
# first layer is a 7×7 mask-A convolution to $2h$ features per group; each of the $L$ residual
# blocks is the paper's Figure 5, 1×1 ($2h \to h$), 3×3 mask B ($h \to h$), 1×1 ($h \to 2h$),
# all masked so the groups stay causal; the head is two 1×1 convolutions to one logit per
# pixel (binary) or a softmax over the levels per channel (colour):
#
# $$h_0 = M_A^{7\times7} * x, \qquad
#   h_{l+1} = h_l + M_B^{1\times1} * \mathrm{ReLU}\big(M_B^{3\times3} * \mathrm{ReLU}(M_B^{1\times1} * \mathrm{ReLU}(h_l))\big),$$
# $$\text{logits} = M_B^{1\times1} * \mathrm{ReLU}\big(M_B^{1\times1} * \mathrm{ReLU}(h_L)\big),
#   \qquad p(x_i = 1 \mid x_{<i}) = \sigma(\text{logit}_i).$$

# %%
excerpt(PixelCNN.__init__, "g = channels")
excerpt(PixelCNN.logits, "def logits")

# %% [markdown]
# ### Gated PixelCNN: a vertical stack, a horizontal stack, tanh · sigmoid
#
# The **vertical stack** $v$ convolves a $(p + 1) \times k$ window, the rows $r - p, \dots, r$
# (padding above only): its features at row $r$ see rows $\le r$, $p$ more columns on each
# side per layer. The
# horizontal stack may only use rows **strictly above**, so the vertical pre-activation is
# **shifted down one row** before it is added: at row $r$ it then holds rows $\le r - 1$. The
# **horizontal stack** $h$ convolves $1 \times (p + 1)$, the columns $c - p, \dots, c$ of its
# own row; in the first layer the input is shifted right one column (columns $< c$ only, like
# mask A). Each stack is gated, and the horizontal stack is residual:
#
# $$v_{l+1} = \tanh(W^v_f * v_l) \odot \sigma(W^v_g * v_l), \qquad
#   a_l = W^h * h_l + V\,\mathrm{shift}_\downarrow(W^v * v_l),$$
# $$h_{l+1} = h_l + U\,\big(\tanh(a_{l,f}) \odot \sigma(a_{l,g})\big),$$
#
# where $f$ and $g$ are the two halves of the $2h$ pre-activation channels, $V$ and $U$ are
# 1×1 convolutions, $v_0 = h_0 = x$, and the first layer has no residual term (its input is
# the image itself). Together the stacks see everything above and everything to the left: no
# blind spot (section 3 measures it).
#
# In code, "padding above only" and the shifts are zero padding on one side of the tensor: to
# shift a map down one row, pad one row of zeros on top and drop the last row; to shift it
# right one column, pad one column on the left and drop the last column.

# %% [markdown]
# **Exercise 3: a Gated PixelCNN layer.** Implement one layer of the equations above. You get
# the layer's convolutions, which do not pad: `v_conv` with a $(p + 1) \times k$ kernel
# (`v_conv.kernel_size` is `(p + 1, k)`), `h_conv` with $1 \times (p + 1)$, both to $2h$
# channels, and the 1×1 convolutions `v_to_h` ($V$, $2h \to 2h$) and `h_out` ($U$,
# $h \to h$). Pad as the equations need, shift the vertical pre-activation down one row, gate
# both stacks, and return the next `(v, h)`.
#
# * inputs: `v` and `h`, float torch tensors of shape `(B, C, H, W)` (the checker uses float64;
#   in the first layer both are the binary image, $C = 1$, later $C = h$, the hidden units);
#   `v_conv`, `h_conv`, `v_to_h`, `h_out`, `torch.nn.Conv2d` modules; `first`, a Python
#   `bool`, true for the first layer;
# * return: a tuple `(v, h)` of torch tensors, each of shape `(B, h, H, W)`, the dtype of the
#   inputs.
#
# The checker runs `GatedPixelCNN` with your layer in place of its own, compares the logits,
# names the usual mistakes (no down-shift, an unshifted first layer, the gates swapped, the
# residual lost or added in the first layer) and asks autograd whether any logit depends on its
# own pixel or a later one.


# %%
def gated_layer(v, h, v_conv, h_conv, v_to_h, h_out, first):
    """One Gated PixelCNN layer: (v, h) of shape (B, C, H, W) -> the next (v, h)."""
    ### BEGIN SOLUTION
    import torch
    import torch.nn.functional as F

    def gate(a):                                           # tanh(a_f) * sigmoid(a_g)
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    p = v_conv.kernel_size[1] // 2
    v_pre = v_conv(F.pad(v, (p, p, p, 0)))                 # (B, 2h, H, W): rows r-p..r
    v_shift = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]        # rows r-p-1..r-1: strictly above
    if first:
        h_in = F.pad(h, (p + 1, 0, 0, 0))[:, :, :, :-1]    # columns < c: not the pixel itself
    else:
        h_in = F.pad(h, (p, 0, 0, 0))                      # columns c-p..c
    h_new = h_out(gate(h_conv(h_in) + v_to_h(v_shift)))
    return gate(v_pre), (h_new if first else h + h_new)
    ### END SOLUTION


# %%
check_gated_layer(gated_layer)

# %% [markdown]
# The package's gate and the loop of `GatedPixelCNN.logits` (`gm_helpers/models/pixelcnn.py`),
# with the optional class-conditioning bias of the paper:

# %% tags=["answer-source"]
excerpt(pixelcnn.GatedPixelCNN._gate, "def _gate")
excerpt(pixelcnn.GatedPixelCNN.logits, "for i in range")

# %% [markdown]
# ### Row LSTM: one row per step
#
# The Row LSTM runs down the image, one whole row per step. Its gates come from two
# convolutions: **input-to-state** $K^{is}$, a 1×3 mask-B convolution along the row, computed for
# all rows at once before the loop; and **state-to-state** $K^{ss}$, a 1-d convolution of size 3
# over the previous row's hidden state, inside the loop:
#
# $$[o_i, f_i, i_i, g_i] = \sigma\big(K^{ss} \circledast h_{i-1} + K^{is} \circledast x_i\big)
#   \ (\tanh \text{ for } g), \qquad c_i = f_i \odot c_{i-1} + i_i \odot g_i, \qquad
#   h_i = o_i \odot \tanh(c_i).$$
#
# Each row sees three positions of the row above, which saw three of its own row above: a
# triangle widening by one column per row on each side.

# %%
excerpt(pixelrnn._lstm_step, "o, f, i, g")
excerpt(pixelrnn._RowLSTMLayer.__init__, "# K^is")
excerpt(pixelrnn._RowLSTMLayer.forward, "x_is = ", "# residual")

# %% [markdown]
# ### Diagonal BiLSTM: skew, then one diagonal per step
#
# The Diagonal BiLSTM wants each state to depend on its left and upper neighbours, which lie
# on the previous *diagonal*. Shifting row $i$ right by $i$ (*skewing*) turns diagonals into
# columns, so a column-by-column recurrence with a 2×1 kernel $K^{ss}$ walks the diagonals:
# state $(i, j)$ reads the states at $(i - 1, j)$ and $(i, j - 1)$. An $N \times N$ image skews
# to $N \times (2N - 1)$: **$2N - 1$ steps**, one per diagonal $i + j = t$,
# $t = 0, \dots, 2N - 2$. A second LSTM runs right to left on the mirrored image; its map is
# shifted down one row so that no output sees its own pixel through it.
#
# In symbols, the skewed image $s$ of an $H \times W$ image $x$ is $H \times (H + W - 1)$, with
# $s_{i,\, i + j} = x_{ij}$ and zeros elsewhere: pixel $(i, j)$ lands in column $i + j$, its
# diagonal.

# %% [markdown]
# **Exercise 4: the skew.** Skew an $H \times W$ array: row $i$ shifted right by $i$, zeros
# elsewhere, shape $H \times (H + W - 1)$.
#
# * input `x`: a 2-D NumPy array of floats (float64), shape `(H, W)`, $H, W \ge 1$;
# * return: a NumPy array or a torch tensor of shape `(H, H + W - 1)`, float32 or float64.
#
# The checker tries square and non-square arrays (a single row and a single pixel among
# them) and names a skew the wrong way or of the transposed array.


# %%
def skew_array(x):
    """Skew a 2-D NumPy array for the Diagonal BiLSTM."""
    ### BEGIN SOLUTION
    import numpy as np
    H, W = x.shape
    out = np.zeros((H, H + W - 1))
    for i in range(H):
        out[i, i:i + W] = x[i]
    return out
    ### END SOLUTION


# %%
check_skew(skew_array)

# %% [markdown]
# The package's `skew` works on a batch of images at once, with no loop: it pads each row with
# $H$ zeros and reads the flat rows back one column shorter, which shifts row $i$ by $i$ (two
# reshapes; the index arithmetic is in its comment):

# %% tags=["answer-source"]
excerpt(skew, "B, C, H, W = x.shape")

# %% [markdown]
# A digit and its skew, and the number of steps for $N = 28$:

# %% mystnb={"figure": {"caption": "A digit and its skew: row $r$ is shifted $r$ pixels to the right, so each column of the 28\u00d755 skewed image is one diagonal of the original, and the Diagonal BiLSTM can process a whole diagonal in one of its $2 \\cdot 28 - 1 = 55$ steps.", "name": "fig-04-skew"}, "image": {"alt": "Left: a white-on-black binarized 0, titled a digit. Right: a wider black image titled skewed: each column is one diagonal, showing the same 0 sheared into a slanted oval that runs from the upper left to the lower right."}}
digit = x_test[:1]                                        # (1, 1, 28, 28)
skewed = skew(digit)                                      # (1, 1, 28, 55)
print("skewed shape:", tuple(skewed.shape), "; steps for N = 28:", num_diagonal_steps(28),
      "= 2 * 28 - 1 ;", "unskew(skew(x)) == x:", torch.equal(unskew(skewed), digit))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 2.6), gridspec_kw={"width_ratios": [1, 2]})
ax1.imshow(digit[0, 0].numpy(), cmap="gray")
ax1.set_title("a digit")
ax2.imshow(skewed[0, 0].numpy(), cmap="gray")
ax2.set_title("skewed: each column is one diagonal")
for ax in (ax1, ax2):
    ax.set_axis_off()
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-04-skew-steps", "hide-input"]
assert skewed.shape == (1, 1, 28, 55) and num_diagonal_steps(28) == 2 * 28 - 1
assert torch.equal(unskew(skewed), digit)

# %% [markdown]
# The Diagonal LSTM, one column of the skewed input per step, and the bidirectional layer
# around it (`gm_helpers/models/pixelrnn.py`):

# %%
excerpt(pixelrnn._DiagonalLSTM.forward, "x_is = ")
excerpt(pixelrnn._DiagonalBiLSTMLayer.forward, "h_left = ")

# %% [markdown]
# ## 3. What does a pixel see? Receptive fields by gradients
#
# The cleanest way to see what a network's output for pixel $i$ depends on is to ask autograd:
# $\partial\, \text{logit}_i / \partial x_j$ is exactly zero for every pixel $j$ the network cannot
# see. We take networks with random weights, sum $|\partial\, \text{logit}_i / \partial x|$ over a few
# random images, and colour the pixels it reaches (red square: the target; white: unreachable).
#
# A plain PixelCNN (7×7 mask A, then 3×3 mask B layers) grows its view by one row and one
# column per layer, but only up and to the left of the upward diagonal: the region above and
# to the right is never reached, however deep the stack. That is the **blind spot**. The
# Gated PixelCNN's two stacks see the whole past.

# %% mystnb={"figure": {"caption": "The receptive fields of six networks with random weights, measured by gradients on a 15\u00d715 image (red square: the target pixel; coloured: pixels it depends on, brighter more strongly; white: unreachable). The plain PixelCNN's view grows with depth but never reaches the region above and to the right, the blind spot; the Gated PixelCNN sees the whole past.", "name": "fig-04-receptive-fields"}, "image": {"alt": "Six small heat maps in green, yellow and purple, each with a red square marking the target pixel in the middle of the image and nothing coloured below it. PixelCNN with 1 layer: a small patch above and left of the target. PixelCNN with 3 and 6 layers: a larger patch whose upper-right corner is cut off diagonally. Gated PixelCNN with 6 layers: every row above the target and the pixels to its left. Row LSTM with 2 layers: a triangle above the target widening upwards. Diagonal BiLSTM with 2 layers: nearly every earlier pixel."}}
configs = [("PixelCNN", 1), ("PixelCNN", 3), ("PixelCNN", 6), ("Gated PixelCNN", 6),
           ("Row LSTM", 2), ("Diagonal BiLSTM", 2)]
fig, axes = plt.subplots(1, 6, figsize=(15, 3.2))
fields = {}
print(f"{'model':>16} {'layers':>6} {'sees':>5} {'of':>4} {'leaks':>5}")
for ax, (model, depth) in zip(axes, configs):
    result = fields[model, depth] = receptive_field(model, depth)
    shown = np.where(result["reach"].numpy() > 0, np.log10(result["reach"].numpy() + 1e-12), np.nan)
    ax.imshow(shown, cmap="viridis")
    ax.add_patch(plt.Rectangle((6.5, 6.5), 1, 1, fill=False, ec="red", lw=2))
    ax.set_title(f"{model}, {depth} layers", fontsize=9)
    ax.set_axis_off()
    print(f"{model:>16} {depth:>6} {result['seen']:>5} {result['past']:>4} {result['leak']:>5}")
plt.show()
diagonal_reach = fields["Diagonal BiLSTM", 2]["reach"]

# %% jupyter={"source_hidden": true} tags=["claim-04-no-leak", "claim-04-blind-spot", "claim-04-rnn-fields", "hide-input"]
assert all(result["leak"] == 0 for result in fields.values())
assert fields["PixelCNN", 6]["seen"] < 112 and fields["Gated PixelCNN", 6]["seen"] == 112
assert fields["Row LSTM", 2]["seen"] == 99 and fields["Diagonal BiLSTM", 2]["seen"] == 111
assert diagonal_reach[6, 14] == 0 and (diagonal_reach.flatten()[:6 * 15 + 14] > 0).all()

# %% [markdown]
# Read the numbers: no model ever sees a pixel at or after its target (*leaks* = 0: the
# autoregressive property, checked by gradients as in the tests). Six masked layers still
# miss part of the 112 earlier pixels of this 15×15 image; six gated layers see all of them.
# The Row LSTM sees a triangle above the pixel that widens with every row up (99 of 112 with
# two layers). The Diagonal BiLSTM sees 111 of the 112 earlier pixels with two layers (the
# tests find the same with one). The one it misses is the last pixel of the row above,
# (6, 14): the 7×7 mask-A first layer puts that pixel only into features of its own row at
# columns $\ge 11$ and of the rows below, and the target may use only features to its left in
# its own row (`tests/models/test_pixelrnn.py` pins down exactly this pattern). The paper describes
# the Diagonal BiLSTM as seeing the entire context; with its own first layer, as here, that
# holds up to this one corner.

# %% [markdown]
# **Exercise 5: how far up does a PixelCNN see?** A PixelCNN has one 7×7 mask-A layer followed
# by $L$ 3×3 mask-B layers. How many rows above the target pixel can its output see?
#
# * input `L`: a Python `int`, $L \ge 0$;
# * return: the number of rows, a Python `int` (an exact count).
#
# You can test your formula in the explorer below: a PixelCNN with $d$ layers there is the
# 7×7 layer and $d$ residual blocks, each holding one 3×3 mask-B convolution (the 1×1
# convolutions around it do not widen the view), so $L = d$.


# %%
def rows_above(L):
    """Rows above the target visible after a 7x7 A layer and L 3x3 B layers."""
    ### BEGIN SOLUTION
    return 3 + L
    ### END SOLUTION


# %%
check_rows_above(rows_above)

# %% [markdown]
# ### Explore receptive fields
# Choose the model, its depth and the target pixel.

# %% mystnb={"figure": {"caption": "The receptive-field explorer, opening at a 3-layer PixelCNN that sees 78 of the 112 earlier pixels, missing the blind spot above and to the right; in a running notebook, choose the model, its depth and the target pixel.", "name": "fig-04-receptive-field-explorer"}, "image": {"alt": "A heat map titled PixelCNN, 3 layers, sees 78 of 112 earlier pixels: a coloured region above and to the left of a red target square in the middle of a 15 by 15 image, its upper-right corner cut off diagonally; everything below the target is white."}} tags=["nbval-ignore-output"]
receptive_field_explorer()

# %% [markdown]
# ## 4. Parallel training, sequential sampling
#
# During training every pixel's value is known, so one forward pass computes all 784
# conditionals at once. Sampling cannot: pixel $i$ must be drawn before pixel $i + 1$ can be
# computed, so a sample costs one forward pass **per pixel**. We time the four shipped
# checkpoints in the same conditions: batches of 32 for scoring and for a training step's
# forward and backward pass; sampling timed for one row of 28 pixels, each pass on the whole
# image (the naive loop, without the row crop described below), and multiplied by 28. The
# timer is the course's one method, `gm_helpers.analysis.timing`: `cpu_time(fn, repeats)` is
# the least CPU time of a few calls, and `one_thread()` runs them on one thread (why, in
# "About these numbers" at the end).

# %% tags=["nbval-ignore-output"]
names = {"PixelCNN": "pixelcnn.pt", "Gated PixelCNN": "gated_pixelcnn.pt",
         "Row LSTM": "row_lstm.pt", "Diagonal BiLSTM": "diagonal_bilstm.pt"}
models = {name: load_shipped(file) for name, file in names.items()}
batch = x_test[:32]                                        # (32, 1, 28, 28), a training batch


def training_step(model):
    (-model.log_prob(batch).mean()).backward()            # forward and backward, all pixels
    model.zero_grad(set_to_none=True)


timing = {}
with one_thread():                                         # one thread: CPU time = the work
    for name, (model, _) in models.items():
        with torch.no_grad():
            score = cpu_time(lambda: model.log_prob(batch), repeats=3) / len(batch)
        train = cpu_time(lambda: training_step(model), repeats=3) / len(batch)
        x = torch.zeros(1, 1, 28, 28)
        with torch.no_grad():
            sample = cpu_time(lambda: [model.logits(x) for _ in range(28)], repeats=1) * 28
        timing[name] = {"score": score, "train": train, "sample": sample}
        print(f"{name:>16}, CPU time: scoring {1e3 * score:6.2f} ms/image, training "
              f"{1e3 * train:6.2f} ms/image, sampling {sample:5.2f} s/image "
              f"({sample / score:,.0f}x scoring)")

# %% jupyter={"source_hidden": true} tags=["claim-04-sampling-cost", "hide-input"]
assert all(t["sample"] > 100 * t["score"] for t in timing.values())

# %% mystnb={"figure": {"caption": "CPU time to score one image (one parallel pass) and to sample one (784 passes) for the four shipped models, on a log scale: sampling costs hundreds to thousands of times more than scoring.", "name": "fig-04-score-vs-sample-time"}, "image": {"alt": "Bar chart with a logarithmic y axis of CPU seconds from 10 to the minus 3 to 10, two bars per model for PixelCNN, Gated PixelCNN, Row LSTM and Diagonal BiLSTM: blue bars for scoring one image, near 0.001 to 0.005 seconds, and orange bars for sampling one image, between about 1.5 and 10 seconds."}} tags=["nbval-ignore-output"]
fig, ax = plt.subplots(figsize=(7, 3))
pos = np.arange(len(timing))
ax.bar(pos - 0.2, [t["score"] for t in timing.values()], 0.4, label="score one image (parallel)")
ax.bar(pos + 0.2, [t["sample"] for t in timing.values()], 0.4,
       label="sample one image (784 passes)")
ax.set_xticks(pos, list(timing))
ax.set_yscale("log")
ax.set_ylabel("CPU seconds (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# ### Which trains faster here? The live step and the recorded epochs
#
# The manifest records how each checkpoint was trained: its epochs and its wall time
# (validation included), hence minutes per epoch. Beside it, the live training step above
# scaled to an epoch of 50,000 images. The recorded runs (all in bf16 on one thread) differ in
# their epochs and learning-rate schedules, and shared their CPU with other work (the last column, and "About these numbers"): their minutes are
# budgets, not clean speed measurements.
#
# The table counts **free parameters** (`model.num_params()`): the weights and biases that act
# on the output, so a kernel entry that a mask multiplies by 0 is not counted. The parameter
# tensors store those entries too (never used, they get zero gradient), so
# `sum(p.numel() for p in model.parameters())`, the total PyTorch reports, is larger for every
# model with a masked convolution; the lines under the table give both counts.

# %% tags=["nbval-ignore-output"]
manifest = shipped_manifest()
print(f"{'model':>16} {'free params':>11} {'live, CPU':>11} {'-> min/epoch':>12} | "
      f"{'recorded: epochs':>16} {'min':>4} {'min/epoch':>9}  precision")
for name, file in names.items():
    entry, model = manifest[file], models[name][0]
    per_epoch = entry["wall_time_s"] / entry["epochs"] / 60
    timing[name]["epoch_min"] = per_epoch
    precision = ("bf16" if "--amp" in entry["command"] else "fp32") + \
        (", compiled" if "--compile" in entry["command"] else "")
    note = entry.get("note", "")
    shared = "; CPU shared" if "shared" in note or "other core" in note else ""
    print(f"{name:>16} {model.num_params():>11,} {1e3 * timing[name]['train']:>8.2f} ms "
          f"{timing[name]['train'] * 50000 / 60:>12.1f} | {entry['epochs']:>16} "
          f"{entry['wall_time_s'] / 60:>4.0f} {per_epoch:>9.1f}  {precision}{shared}")
params = {name: model.num_params() for name, (model, _) in models.items()}
stored = {name: sum(p.numel() for p in model.parameters()) for name, (model, _) in models.items()}
print("\nfree = weights and biases that the masks let act, model.num_params(); stored = every entry")
print("of the parameter tensors, sum(p.numel() for p in model.parameters()), masked ones included:")
for name in names:
    masked = stored[name] - params[name]                   # kernel entries under a 0 of a mask
    print(f"{name:>16} {params[name]:>11,} free {stored[name]:>8,} stored  " +
          (f"({masked:,} masked entries)" if masked else "(no masked convolution)"))
train = {name: t["train"] for name, t in timing.items()}
cheapest = min(train, key=train.get)
slowest_recorded = max(timing, key=lambda n: timing[n]["epoch_min"])
print(f"per image, live: cheapest {cheapest}; PixelCNN / Row LSTM "
      f"{train['PixelCNN'] / train['Row LSTM']:.1f}x, Diagonal BiLSTM / Row LSTM "
      f"{train['Diagonal BiLSTM'] / train['Row LSTM']:.1f}x, PixelCNN / Diagonal BiLSTM "
      f"{train['PixelCNN'] / train['Diagonal BiLSTM']:.1f}x; slowest per epoch, recorded: "
      f"{slowest_recorded}")

# %% jupyter={"source_hidden": true} tags=["claim-04-training-speed", "claim-04-param-counts", "hide-input"]
pixelcnn_model = models["PixelCNN"][0]
(-pixelcnn_model.log_prob(batch[:4]).mean()).backward()   # which stored weights get a gradient?
masked_grads = [m.weight.grad[(m.mask == 0).expand_as(m.weight)]   # entries under a 0 of the mask
                for m in pixelcnn_model.modules() if isinstance(m, MaskedConv2d)]
pixelcnn_model.zero_grad(set_to_none=True)
assert cheapest == "Row LSTM" and slowest_recorded == "Diagonal BiLSTM"
assert train["PixelCNN"] > 3 * train["Row LSTM"]
assert train["Diagonal BiLSTM"] > 3 * train["Row LSTM"]
assert 0.5 < train["PixelCNN"] / train["Diagonal BiLSTM"] < 2     # about the same
assert sorted(params, key=params.get)[:2] == ["Row LSTM", "Diagonal BiLSTM"]  # the two smallest
assert 4.5 < params["PixelCNN"] / params["Diagonal BiLSTM"] < 5.5
assert (params["PixelCNN"], stored["PixelCNN"]) == (99_265, 141_825)
assert params["Gated PixelCNN"] == stored["Gated PixelCNN"] == 44_689     # no masked convolution
assert all(stored[n] > params[n] for n in ("PixelCNN", "Row LSTM", "Diagonal BiLSTM"))
assert sum(g.numel() for g in masked_grads) == 42_560 and all((g == 0).all() for g in masked_grads)
assert all(any(word in manifest[file].get("note", "") for word in ("shared", "other core"))
           for file in names.values())
assert not any("--compile" in manifest[file]["command"] for file in names.values())

# %% [markdown]
# What these measurements show, and what they do not:
#
# * **The Row LSTM is the cheapest per training image here, and the PixelCNN among the
#   dearest.** With one thread, the shipped 10-block PixelCNN costs more than three times the
#   Row LSTM per image, and about as much as the Diagonal BiLSTM (the ratios above), which has
#   a fifth of its free parameters: each Diagonal BiLSTM layer is $2 \times 55$ small steps
#   that must wait for each other. In the recorded runs the Diagonal BiLSTM took the longest
#   per epoch (all four in bf16 on one shared thread: the table's last column).
# * **So "PixelCNN trains faster than PixelRNN" is not what these models show on this
#   CPU.** The models differ in size, so these timings compare these particular models, not
#   the architectures at equal size.
# * **The papers' argument is about parallel hardware.** A PixelCNN layer is one convolution
#   over every position at once; a Row LSTM layer is 28 sequential row steps, a Diagonal BiLSTM
#   layer 2 × 55 diagonal steps, each waiting for the one before. That is the papers' reason
#   why PixelCNNs train faster on GPUs, where a convolution over every position runs in
#   parallel; the Gated PixelCNN paper reports matching the PixelRNN's likelihood for less
#   training time. A single CPU thread has nothing to parallelise, so this notebook cannot
#   test that argument; here the models' sizes and step counts differ, and so do their costs.
#
# ### Cropping: the same samples for less work
# Pixel $(r, c)$ depends only on rows $0..r$, so to sample row $r$ we may run the network on
# rows $0..r$ alone: the samples are identical (the test suite checks them bit for bit), and
# the network processes 14.5 of the 28 rows on average, about half the image. How much time
# that saves depends on how much of each forward pass grows with the image: a pass also has
# fixed costs (calling each layer, drawing the pixel) that cropping does not cut, and they
# weigh most when a pass holds few images.
# `PixelCNN.sample(crop=True)`, the default, does this; here it is against the naive loop on
# the Gated PixelCNN, drawing a batch of 8 (the batch of the completions in section 5) with
# the same random numbers, in CPU seconds on one thread.

# %% tags=["nbval-ignore-output"]
gated = models["Gated PixelCNN"][0]
runs, seconds = {}, {}
with one_thread():
    for crop in (False, True):
        seconds[crop] = cpu_time(lambda: runs.update({crop: gated.sample(
            8, generator=torch.Generator().manual_seed(0), crop=crop)}), repeats=1)
        print(f"crop={crop!s:>5}: {seconds[crop]:5.1f} CPU seconds for 8 samples "
              f"({seconds[crop] / 8:.2f} s per sample)")
print(f"identical samples: {torch.equal(runs[False], runs[True])}; "
      f"the crop saves {seconds[False] - seconds[True]:.1f} CPU seconds, "
      f"a speed-up of {seconds[False] / seconds[True]:.1f}x")

# %% jupyter={"source_hidden": true} tags=["claim-04-crop-exact", "hide-input"]
assert torch.equal(runs[False], runs[True])
assert seconds[True] < seconds[False]     # only "less": the measured speed-up varies with load

# %% [markdown]
# The samples are identical, bit for bit, and the cropped loop takes less CPU time: the last
# line gives the saving and the speed-up, measured on this machine at a batch of 8. It is a
# measurement, not a constant: it changes with the batch, the machine and the other work on it.
#
# ### Slow because sequential, not because wasteful: caching what is already computed
# The crop still recomputes, for each new pixel, every layer at every position of the rows
# drawn so far, although none of those values can change: each layer's output at a pixel is a
# function of the pixels before it only (that is what the masks guarantee). Ramachandran et
# al. (2017) keep every layer's outputs in a cache as they are computed and, for each new
# pixel, compute each layer **at that one position**, from the cached neighbourhood of the
# layer below: the first layer reads a 7 × 7 patch of the image, each residual block's 3 × 3
# layer a 3 × 3 patch of its cached input, and everything else is 1 × 1. The 784 sequential
# steps remain (that is the autoregressive model's nature), but each costs about 1/784 of a
# full pass. MADE (lecture 3) has the same waste and the same cure: a hidden unit of degree
# $m(k)$ cannot change once the first $m(k)$ pixels are drawn, so `MADE.sample_incremental`
# keeps running sums of the pre-activations, as NADE does, and adds each unit to the next
# layer once. The package's cached PixelCNN sampler:

# %%
print(inspect.getsource(sample_cached))

# %% [markdown]
# The Gated PixelCNN caches as well, row by row: its vertical stack at row $r$ depends on
# rows $\le r$ only, and the horizontal stack at row $r$ reads the vertical stack's row $r - 1$
# (shifted down one row), so when a row begins every
# layer's vertical view of it is final and is computed once, for the whole row
# (`sample_cached_gated`); then, pixel by pixel, each layer's horizontal stack reads a
# $1 \times 3$ patch of the layer below in the current row.
#
# All three fast samplers draw the plain sampler's samples: the same conditionals, in the same
# order, from the same random numbers. Here, on the shipped PixelCNN, Gated PixelCNN and
# one-mask MADE (1 × 500), four samples each, CPU seconds on one thread:

# %% tags=["nbval-ignore-output"]
made_model = load_shipped("made_1mask.pt")[0]
pixelcnn_model = models["PixelCNN"][0]
fast_runs = {
    "PixelCNN, cached": (lambda: pixelcnn_model.sample(4, generator=torch.Generator().manual_seed(1)),
                         lambda: sample_cached(pixelcnn_model, 4, generator=torch.Generator().manual_seed(1))),
    "Gated PixelCNN, cached": (lambda: gated.sample(4, generator=torch.Generator().manual_seed(1)),
                               lambda: sample_cached_gated(gated, 4, generator=torch.Generator().manual_seed(1))),
    "MADE, incremental": (lambda: made_model.sample(4, generator=torch.Generator().manual_seed(1)),
                          lambda: made_model.sample_incremental(4, generator=torch.Generator().manual_seed(1))),
}
fast = {}
with one_thread():
    for name, (plain_fn, fast_fn) in fast_runs.items():
        drawn = {}
        t_plain = cpu_time(lambda: drawn.update(plain=plain_fn()), repeats=1)
        t_fast = cpu_time(lambda: drawn.update(fast=fast_fn()), repeats=3)
        fast[name] = {"same": torch.equal(drawn["plain"], drawn["fast"]), "plain": t_plain,
                      "fast": t_fast}
        print(f"{name:>22}: plain {t_plain:5.2f} s, fast {t_fast:5.3f} s ({t_plain / t_fast:4.0f}x); "
              f"identical samples: {fast[name]['same']}")

# %% jupyter={"source_hidden": true} tags=["claim-04-fast-samplers", "hide-input"]
assert all(f["same"] for f in fast.values())
assert all(f["plain"] > 3 * f["fast"] for f in fast.values())
shipped_samples = shipped_manifest()["gated_pixelcnn_samples.pt"]
assert shipped_samples["sampler"] == "cached" and shipped_samples["num"] == 1000
assert round(shipped_samples["wall_time_s"]) == 4

# %% [markdown]
# Identical samples, for a fraction of the CPU time. The saving grows with the batch: at 16
# samples the benchmark (`python -m gm_helpers.training.bench --fast-sampling`, the speed
# section of the instructor guide, `docs/instructors.md`) measured the cached PixelCNN 13–27×
# cheaper than the plain one, the cached Gated PixelCNN about 40×, and the incremental MADE
# with 8,000 hidden units about 140× (230× for a single sample; the paper reports up to 183×
# for PixelCNN++). At a
# batch of 1,000, the cached sampler drew the Gated PixelCNN's 1,000 samples shipped with the
# course (section 5) in about 4 seconds of wall-clock time. What stays is the sequence itself: 784 steps, each
# waiting for the one before. That cost, and not wasted arithmetic, is the autoregressive
# models' price for sampling; lecture 6's GAN draws a digit in one pass.
#
# ## 5. Samples, completions and likelihoods
#
# The checkpoints were trained with `python -m gm_helpers.train` (each manifest entry holds the
# command, hardware and wall time). We measure the NLL here on a fixed random 2,000 of the
# test images, beside the full-test number in the manifest (which `tests/test_repo.py`
# re-measures, on all 10,000 images or, for the slower models, on every fourth). Beside nats
# per image, **bits per dimension**, the unit of the PixelRNN paper's colour results:
# $\text{NLL} / (D \ln 2)$ with $D = 784$ binary pixels here.

# %%
subset_index = torch.randperm(10000, generator=torch.Generator().manual_seed(0))[:2000]
subset = x_test[subset_index]
paper = {"NADE (lecture 3)": "88.86", "PixelCNN": "81.30",
         "Gated PixelCNN": "(not reported on binary MNIST)", "Row LSTM": "80.54",
         "Diagonal BiLSTM": "79.20 (7 layers)"}
nade, nade_entry = load_shipped("nade.pt")
rows = {"NADE (lecture 3)": (nade, nade_entry), **models}
measured = {}
print(f"{'model':>16} {'free params':>11} {'2,000 test':>10} {'full test':>10} {'bits/dim':>8} "
      f"{'paper':>31}  training")
for name, (model, entry) in rows.items():
    nll = measured[name] = evaluate_nll(model, subset, batch_size=50)  # NADE: (50, 784, 500)
    print(f"{name:>16} {model.num_params():11,} {nll:10.2f} {entry['test_nll']:10.2f} "
          f"{bits_per_dim(entry['test_nll'], 784):8.4f} {paper[name]:>31}  {entry['epochs']} "
          f"epochs, {entry['wall_time_s'] / 60:.0f} min")
ranked = sorted(rows, key=lambda name: rows[name][1]["test_nll"])
print("\nranked by full-test NLL, best first:", " < ".join(ranked))
print(f"the papers' 79.20 to 81.30 nats are {bits_per_dim(79.20, 784):.4f} to "
      f"{bits_per_dim(81.30, 784):.4f} bits/dim")
del nade

# %% jupyter={"source_hidden": true} tags=["claim-04-nll-table", "hide-input"]
assert all(abs(measured[name] - rows[name][1]["test_nll"]) < 1.0 for name in rows)  # subset ~ full
assert ranked[-1] == "NADE (lecture 3)"

# %% [markdown]
# Each number above is a budget as much as a model: the last column says how long each one
# trained. The learning curves, recorded in the manifest by `python -m gm_helpers.train`, show
# where each run was heading when its budget ran out: per epoch, the training NLL dashed and
# the validation NLL solid, the star at the epoch whose weights were kept. (Per epoch rather
# than per minute: "About these numbers" says why.)

# %% mystnb={"figure": {"caption": "The learning curves of the four shipped models of this lecture, per epoch (training NLL dashed, validation solid, the kept epoch starred): every run stopped at its budget while its validation NLL was still falling, slowly.", "name": "fig-04-learning-curves"}, "image": {"alt": "Four small line plots of NLL in nats against epoch, titled pixelcnn.pt (14 epochs, 130 min), gated_pixelcnn.pt (20 epochs, 134 min), row_lstm.pt (15 epochs, 49 min) and diagonal_bilstm.pt (8 epochs, 96 min). In each, the dashed training curve and the solid validation curve fall together, flattening, with small bumps in the validation curve, to the last epoch, where a star marks the kept weights, at about 88.0, 87.6, 88.0 and 86.0 nats."}}
plot_checkpoint_curves(["pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt", "diagonal_bilstm.pt"],
                       manifest, ncols=4)
plt.show()

# %% [markdown]
# The budgets side by side, and the one comparison the manifest allows at an equal budget:
# the validation NLL after 3 epochs, an epoch count every run reached.

# %%
def valid_nll_at(entry, epoch):
    """Validation NLL after ``epoch`` epochs, from the manifest's learning curve (or, for a run
    without one, its final validation NLL when it stopped at that epoch)."""
    history = entry.get("history") or {}
    if history.get("valid_epoch"):
        return dict(zip(history["valid_epoch"], history["valid_nll"])).get(epoch)
    return entry["valid_nll"] if entry["epochs"] == epoch == entry["best_epoch"] else None


budgets = {name: manifest[file] for name, file in names.items()}
at_3 = {name: valid_nll_at(entry, 3) for name, entry in budgets.items()}
for name, entry in budgets.items():
    print(f"{name:>16}: {entry['epochs']} epochs, {entry['wall_time_s'] / 60:4.0f} min; "
          f"validation NLL after 3 epochs {at_3[name]:.2f}, at the end {entry['valid_nll']:.2f}")
by_end = sorted(budgets, key=lambda n: budgets[n]["test_nll"])
by_epoch_3 = sorted(at_3, key=at_3.get)
print("at the end of each budget (test):", " < ".join(by_end))
print("after 3 epochs each (validation):", " < ".join(by_epoch_3))
minutes = {name: round(entry["wall_time_s"] / 60) for name, entry in budgets.items()}
epochs = {name: entry["epochs"] for name, entry in budgets.items()}

# %% jupyter={"source_hidden": true} tags=["claim-04-budgets", "hide-input"]
assert (min(epochs.values()), max(epochs.values())) == (8, 20)       # the budgets differ
assert (min(minutes.values()), max(minutes.values())) == (49, 134)
assert min(minutes, key=minutes.get) == "Row LSTM"
assert by_end[0] == by_epoch_3[0] == "Diagonal BiLSTM"
assert 2.5 < min(v for n, v in at_3.items() if n != "Diagonal BiLSTM") - at_3["Diagonal BiLSTM"] < 3.5
assert by_epoch_3.index("Row LSTM") < by_epoch_3.index("PixelCNN")
assert by_end.index("Row LSTM") < by_end.index("PixelCNN")                  # as in the paper
assert budgets["PixelCNN"]["test_nll"] - budgets["Row LSTM"]["test_nll"] < 0.1
assert by_end.index("Gated PixelCNN") < by_end.index("PixelCNN")
assert max(entry["test_nll"] for entry in budgets.values()) < nade_entry["test_nll"]
assert all(entry["best_epoch"] == entry["epochs"] for entry in budgets.values())  # still improving

# %% [markdown]
# ### Which gets the better likelihood?
#
# In the paper the recurrent models win: 80.54 (Row LSTM) and 79.20 (Diagonal BiLSTM, 7 layers)
# against 81.30 (PixelCNN), which the authors attribute to the LSTMs seeing all, or nearly
# all, of the past while a masked convolution stack has a bounded, blind-spotted view; the Gated
# PixelCNN was designed to close that gap with convolutions alone. What our runs show:
#
# * **The budgets differ** (the table above: 8 to 20 epochs, 49 to 134 minutes), and every run
#   was still improving when its budget ran out (its best validation epoch is its last), so
#   each ranking is of budgets as much as of architectures. We are far from the papers'
#   79 to 81 nats (0.146 to 0.150 bits/dim).
# * **At the end of each budget** every PixelCNN and PixelRNN is below NADE's NLL from
#   lecture 3, the Gated PixelCNN is below the PixelCNN, and the Diagonal BiLSTM is the lowest
#   of all; the Row LSTM, with the smallest budget (49 minutes), is below the PixelCNN, as in
#   the paper, but by less than a tenth of a nat.
# * **After an equal 3 epochs** the Diagonal BiLSTM is again the lowest, by about three nats,
#   and the Row LSTM is again just below the PixelCNN. But an epoch costs each model a
#   different number of minutes (section 4), so equal epochs are not equal compute either.
#
# Neither ranking separates the architecture from its budget: they agree with the paper's
# order of the PixelRNNs and the PixelCNN, without testing the paper's claim. That would take
# every model trained to convergence, or at least for the same compute.

# %% [markdown]
# Samples of the Gated PixelCNN: a whole sample is 784 forward passes (timed in section 4);
# we show 16 of the 1,000 samples drawn once, by the cached sampler, with the command in the manifest
# (`gated_pixelcnn_samples.pt`, used again in lectures 1 and 6), and complete the lower halves
# of 8 test digits live.

# %% mystnb={"figure": {"caption": "Left: sixteen of the Gated PixelCNN's 1,000 shipped samples, with locally convincing strokes, some digits and some not. Right: the upper halves of eight test digits (top row) and the model's completions of their lower halves (bottom row).", "name": "fig-04-gated-samples"}, "image": {"alt": "Left: two rows of eight white-on-black images of handwritten-looking strokes, including 0s, a 6, a 2, a 9 and a 1, and some loops and hooks that are no digit. Right: a top row of eight digit tops above a grey band, and below them the eight completed digits, including a 0, a 1, a 3, a blob and a 5."}}
samples = load_shipped_samples("gated_pixelcnn_samples.pt")[:16]   # (16, 1, 28, 28)
given = x_test[::1250][:8]                                 # (8, 1, 28, 28)
completions = gated.sample(8, given=given, num_given_rows=14,
                           generator=torch.Generator().manual_seed(2))
half = given.clone()
half[:, :, 14:] = 0.5
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 2.6))
show_images(samples, nrow=8, ax=ax1, title="Gated PixelCNN samples")
show_images(torch.cat([half, completions]), nrow=8, ax=ax2,
            title="top: upper half given; bottom: the model's completion")
plt.show()

# %% [markdown]
# ### Improvements on the first PixelCNN, and where they are in this lecture
#
# | improvement | here? | what it buys |
# |---|---|---|
# | gated layers (tanh · sigmoid) with vertical + horizontal stacks | yes, `GatedPixelCNN` | no blind spot (measured above: all 112 earlier pixels seen) |
# | short-cut (residual) connections | yes: PixelCNN blocks, both PixelRNNs, the Gated PixelCNN's horizontal stack | deep stacks train; the PixelRNN paper's deepest models (12 layers) use them |
# | discretized logistic mixture likelihood (PixelCNN++) | yes, section 7, on 256-level digits (binary pixels need only a Bernoulli; section 6's 4-level colours use a softmax) | $3K$ outputs per pixel instead of 256; neighbouring levels share mass |
# | multi-scale (coarse image first, then details) | section 8: the sampling orders and their pass counts, no trained model | global structure; with groups drawn in parallel, far fewer sequential passes |
#
# ## 6. Colour: p(R) p(G | R) p(B | R, G), trained
#
# To see the colour factorisation at work we need colour data. `colour_digits` paints each
# binarized digit with a random foreground and a random background colour, each channel one of
# 4 levels (64 colours; the two colours of an image differ in at least one channel). A colour
# PixelCNN models every pixel as three 4-way softmaxes, one per channel, in the order R, G, B:
#
# $$p(x) = \prod_{i=1}^{784} p(x_{i,R} \mid x_{<i})\; p(x_{i,G} \mid x_{<i}, x_{i,R})\;
#   p(x_{i,B} \mid x_{<i}, x_{i,R}, x_{i,G}).$$
#
# The grouped masks of section 1 make this exact: every layer's channels are three groups, and
# at the centre the group of G reads only the group of R, the group of B those of R and G.
# The training, validation and test images are coloured with seeds 0, 1 and 2, as the
# command line does (`--data colour`).

# %% mystnb={"figure": {"caption": "Colour digits: each binarized test digit painted with a random foreground and background colour, each channel one of 4 levels, the two colours always different.", "name": "fig-04-colour-digits"}, "image": {"alt": "One row of sixteen small square images, digits 0 to 9 in varied colour pairs, such as a light green 0 on dark green, a dark red 1 on red, a purple 1 on yellow and a dark green 8 on pink."}}
x_colour = colour_digits(x_test, levels=4, seed=2)        # (10000, 3, 28, 28), values 0..3


def show_colour(x, nrow=8, ax=None, title=None, levels=4):
    """Draw colour images with values 0..levels-1 as one grid."""
    grid = image_grid(x / (levels - 1), nrow=nrow, padding=1, pad_value=1.0)  # (3, H', W')
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)


fig, ax = plt.subplots(figsize=(10, 1.6))
show_colour(x_colour[::625][:16], nrow=16, ax=ax, title="colour digits (test split, seed 2)")
plt.show()

# %% [markdown]
# ### The factorisation, checked by gradients
#
# A small colour PixelCNN with random weights, on 4×4 images, so the whole Jacobian fits on the
# page: for every output $i$ (a pixel's R, G or B logits, in the order pixel by pixel, then
# R, G, B) and every input $j$, is $\partial\, \text{logits}_i / \partial x_j$ ever non-zero over
# 8 random images? The autoregressive property says exactly the inputs **before** $i$: a
# strictly lower-triangular matrix, whose $3 \times 3$ blocks on the diagonal are the
# centre pattern of mask A.

# %% mystnb={"figure": {"caption": "Which inputs each output of a small colour PixelCNN depends on (green: a non-zero gradient), outputs and inputs ordered pixel by pixel and then R, G, B: exactly the strict lower triangle, so every channel sees everything before it and nothing after.", "name": "fig-04-colour-jacobian"}, "image": {"alt": "A 48 by 48 square grid titled d logits i by d x j not equal to 0, with output i down the side and input j along the bottom, labelled pixel 0, 4, 8 and 12. Everything strictly below the diagonal is dark green and everything on or above it is pale, with a staircase edge along the diagonal."}}
torch.manual_seed(0)
small = PixelCNN(channels=3, levels=4, hidden=2, num_layers=2, image_size=4).double()
with torch.no_grad():
    for p in small.parameters():
        p.normal_(0, 0.5)
xs = torch.randint(0, 4, (8, 3, 4, 4)).double()            # 8 random colour images
# logits (B, 4 levels, 3, 4, 4); images are independent, so d sum_b / d x_b is per image
jacobian = torch.autograd.functional.jacobian(lambda x: small.logits(x).sum(0), xs)
reach = jacobian.abs().sum((0, 4))                        # (3, 4, 4, 3, 4, 4): out, in
# order: pixel by pixel (raster), then R, G, B: index (r * 4 + c) * 3 + channel
depends = (reach.permute(1, 2, 0, 4, 5, 3).reshape(48, 48) > 0)  # (out i, in j)
strictly_before = torch.ones(48, 48).tril(-1).bool()
print("depends only on earlier inputs:", bool((~depends | strictly_before).all()),
      "; depends on every earlier input:", bool(depends[strictly_before].all()))
print("one pixel's block (rows: output R, G, B; columns: input R, G, B):")
print(depends[15:18, 15:18].int().numpy())
fig, ax = plt.subplots(figsize=(4.2, 4.2))
ax.imshow(depends.numpy(), cmap="Greens", vmin=0, vmax=1.3)
ax.set_xlabel("input j (pixel, then R, G, B)")
ax.set_ylabel("output i")
ax.set_title("d logits_i / d x_j ≠ 0", fontsize=10)
ax.set_xticks(np.arange(0, 48, 12) - 0.5, [f"pixel {4 * i}" for i in range(4)], fontsize=7)
ax.set_yticks([])
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-04-colour-jacobian", "hide-input"]
assert torch.equal(depends, strictly_before)

# %% [markdown]
# On a 4×4 image the 7×7 first layer already reaches every earlier pixel, so the
# dependencies are *exactly* the strict lower triangle: every output sees every input before
# it and none after. `tests/models/test_pixelcnn.py` checks the same for the 256-level case, and
# `tests/models/test_pixelcnn.py` checks that each factor is a normalised distribution (for one pixel,
# $\sum_R p(R) = 1$, $\sum_G p(G \mid R) = 1$ for every R, ...) by enumerating all 64 colours.
#
# ### The trained colour PixelCNN
#
# `colour_pixelcnn.pt` was trained by the command in its manifest entry. Its per-channel
# log-likelihoods come from `log_prob_channels`: the columns are
# $\log p(R)$, $\log p(G \mid R)$, $\log p(B \mid R, G)$, each summed over the 784 pixels (each
# also given the pixels before), and they add up to $\log p(x)$. Two references: the uniform
# model, $784 \ln 4 = 1086.9$ nats per channel, **2 bits per dimension**; and what the data's
# own structure allows. A colour digit is a binary shape plus an ordered pair of distinct
# colours, uniform over $64 \times 63 = 4032$ pairs, so a model that knew this colour rule
# exactly and modelled the shapes as well as the binary PixelCNN of section 5 would score that
# PixelCNN's NLL plus $\ln 4032 = 8.30$ nats. (We score 1,000 of the test images here; the
# manifest has the full test set.)

# %%
colour, colour_entry = load_shipped("colour_pixelcnn.pt")
colour_subset = x_colour[subset_index[:1000]]              # (1000, 3, 28, 28) test images
with torch.no_grad():
    per_channel = torch.cat([-colour.log_prob_channels(xb) for xb in colour_subset.split(50)])
total = per_channel.sum(1)                                 # (1000,) nats per image
uniform = 784 * math.log(4)                                # nats per channel
rule = manifest["pixelcnn.pt"]["test_nll"] + math.log(64 * 63)  # binary shapes + the colour rule
print(f"colour PixelCNN, {colour.num_params():,} free parameters, {colour_entry['epochs']} "
      f"epoch(s), {colour_entry['wall_time_s'] / 60:.0f} min; NLL on 1,000 test images:")
for name, nll in zip(["R: -log p(R)", "G: -log p(G | R)", "B: -log p(B | R, G)"],
                     per_channel.mean(0).tolist()):
    print(f"  {name:>20} {nll:8.2f} nats {bits_per_dim(nll, 784):7.4f} bits/dim   "
          f"(uniform: {uniform:.1f} nats, 2 bits/dim)")
print(f"  {'all three':>20} {total.mean():8.2f} nats {bits_per_dim(total.mean(), 3 * 784):7.4f} "
      f"bits/dim   (uniform: {3 * uniform:.1f} nats; full test: {colour_entry['test_nll']:.2f})")
print(f"  {'shapes + colour rule':>20} {rule:8.2f} nats {bits_per_dim(rule, 3 * 784):7.4f} "
      f"bits/dim   (the binary PixelCNN's {manifest['pixelcnn.pt']['test_nll']:.2f} + ln 4032)")

# %% jupyter={"source_hidden": true} tags=["claim-04-colour-nll", "hide-input"]
# log p(R) + log p(G | R) + log p(B | R, G) = log p(x), checked on 100 images
with torch.no_grad():
    assert torch.allclose(total[:100], -colour.log_prob(colour_subset[:100]), rtol=1e-5)
assert abs(bits_per_dim(3 * uniform, 3 * 784) - 2) < 1e-12
assert total.mean() < 0.1 * 3 * uniform
assert abs(total.mean() - colour_entry["test_nll"]) < 5
assert round(rule, 1) == 95.8

# %% [markdown]
# Its learning curves, from the manifest: the training NLL (dashed, the mean over each epoch)
# and the validation NLL (solid, after each epoch). Four epochs are very few: the training
# curve has not flattened. At the fourth epoch the validation NLL jumped up while the training
# NLL went on falling, a sign of an unstable last stretch of updates rather than of slow
# overfitting (that would show as a gradual rise); the file keeps the weights of epoch 3, the
# lowest validation NLL.

# %% mystnb={"figure": {"caption": "The colour PixelCNN's learning curves over its four epochs: the training NLL keeps falling, while the validation NLL jumps up at the fourth epoch, so the kept weights are those of epoch 3.", "name": "fig-04-colour-curves"}, "image": {"alt": "Line plot titled colour_pixelcnn.pt, 4 epochs, 88 min, NLL in nats against epoch 1 to 4. The dashed training curve falls from above 350 to about 175. The solid validation curve falls from about 367 to 186 at epoch 3, marked by a star, then rises to about 275 at epoch 4."}}
plot_checkpoint_curves(["colour_pixelcnn.pt"], manifest, size=(4.2, 2.8))
plt.show()
h = colour_entry["history"]
print("epoch  training NLL  validation NLL")
for epoch, train_nll, valid_nll in zip(h["valid_epoch"], h["train_nll"], h["valid_nll"]):
    print(f"{epoch:5d} {train_nll:13.2f} {valid_nll:15.2f}")

# %% jupyter={"source_hidden": true} tags=["claim-04-colour-curves", "hide-input"]
assert colour_entry["best_epoch"] == 3 and colour_entry["epochs"] == 4
assert all(a > b for a, b in zip(h["train_nll"], h["train_nll"][1:]))   # training still falling
assert h["train_nll"][-2] - h["train_nll"][-1] > 30                      # and not flattened
assert h["valid_nll"][3] > h["valid_nll"][2] + 50                        # the jump at epoch 4

# %% [markdown]
# Which channel pays for what? A digit's shape is information that one channel must reveal
# first: in most images R already varies with the digit, and then G and B need only their own
# two values, the background's and the digit's, each uniform over 4 levels: the data allow
# them $2 \ln 4 = 2.77$ nats each, the shape being known from R. When the two colours share
# their R value, R is constant and the shape must be paid for by G (or, if G is also shared,
# by B). We split the test images by the first channel in which the two colours differ and
# average each channel's NLL within each group. (With uniform colours, R differs in
# $48/63 \approx 76\,\%$ of images, R is shared and G differs in $12/63 \approx 19\,\%$, and only B
# differs in $3/63 \approx 5\,\%$.)

# %%
varies = colour_subset.flatten(2).std(2) > 0               # (1000, 3): channel shows the digit
first = varies.float().argmax(1)                           # first channel that differs
copy_cost = 2 * math.log(4)                                # two colour values, shape known
print(f"{'digit first shown by':>21} {'images':>7} {'-log p(R)':>10} {'-log p(G|R)':>12} "
      f"{'-log p(B|R,G)':>14}")
group_nll = {}
for ch, name in enumerate("RGB"):
    chosen = first == ch
    group_nll[name] = per_channel[chosen].mean(0)          # (3,) mean NLL of each channel
    print(f"{name:>21} {int(chosen.sum()):>7} " +
          " ".join(f"{v:{w}.2f}" for v, w in zip(group_nll[name].tolist(), (10, 12, 14))))
mean = per_channel.mean(0)
print(f"{'all':>21} {len(first):>7} " +
      " ".join(f"{v:{w}.2f}" for v, w in zip(mean.tolist(), (10, 12, 14))))
print(f"after the revealing channel the data allow {copy_cost:.2f} nats per channel")
later = torch.arange(3)[None, :] > first[:, None]          # (1000, 3): channels after it
excess = ((per_channel - copy_cost) * later).sum(1).mean()  # what the copying still costs
gap = total.mean() - rule
print(f"the later channels' excess over {copy_cost:.2f} nats: {excess:.1f} of the {gap:.1f} nats "
      f"between the model and the shapes-plus-colour reference")

# %% jupyter={"source_hidden": true} tags=["claim-04-colour-channels", "hide-input"]
assert abs((first == 0).float().mean() - 48 / 63) < 0.05
assert mean[0] > mean[1] > mean[2]                         # R, then G, then B on average
for ch, name in enumerate("RGB"):
    assert group_nll[name].argmax() == ch                  # the revealing channel pays most
    assert (group_nll[name][:ch] < 12).all()               # constant channels before it: cheap
    assert (group_nll[name][ch + 1:] > 3 * copy_cost).all()  # after it: far from copying
assert group_nll["R"][2] < group_nll["R"][1]               # B (given R and G) below G
assert 0.4 < excess / gap < 0.7                             # about half of the gap
assert group_nll["R"][1] > 10 * copy_cost                  # G after R: over ten times

# %% [markdown]
# What the table shows, for this model after its short training (the epochs and minutes
# printed above):
#
# * **The channel that first shows the digit pays for its shape**: R in the first row, G in
#   the second, B in the third; a channel that is constant and comes before it costs only a
#   few nats.
# * **The later channels do not copy the shape yet.** Once R has shown the digit, the data
#   allow G and B 2.77 nats each, but the model pays more than three times that for each of
#   them, and for G more than ten times: it has learned only part of the rule "the digit's
#   pixels in G are the digit's pixels in R". B, which can read both R and G, pays less
#   than G.
# * So on average R costs most, then G, then B, and G and B are cheaper than R; but they are
#   not yet as cheap as copying R would make them. The later channels' excess over 2.77 nats
#   is about half of the gap between the model and the 95.8 nats of the shapes-plus-colour
#   reference (the last line above): that copying is what longer training, or a larger
#   model, would have to learn.
#
# **Samples.** A colour sample takes $28 \times 28 \times 3 = 2352$ forward passes, one per
# channel of each pixel (with the row crop), several seconds of CPU time each: we draw two
# whole images and complete the lower halves of two test images, and time both.

# %% mystnb={"figure": {"caption": "Left: two samples of the colour PixelCNN, each with one dominant background colour but strokes that change colour and form no digit. Right: two test images' upper halves (top) and their completions (bottom), which keep the given background.", "name": "fig-04-colour-samples"}, "image": {"alt": "Left: two square images titled colour PixelCNN samples: one light green with brown, purple and yellow-green blobs, one purple with blue and pink blobs. Right: two upper halves, a purple stroke on light blue and a blue stroke on bright green, above grey lower halves; below, the same images completed with blue, purple and grey patches in the light blue one and teal and green blobs in the green one."}} tags=["nbval-ignore-output"]
given_colour = x_colour[[2500, 7500]]                      # (2, 3, 28, 28)
drawn = {}
with one_thread():
    sample_seconds = cpu_time(lambda: drawn.update(samples=colour.sample(
        2, generator=torch.Generator().manual_seed(0))), repeats=1)       # (2, 3, 28, 28)
    complete_seconds = cpu_time(lambda: drawn.update(completions=colour.sample(
        2, given=given_colour, num_given_rows=14, generator=torch.Generator().manual_seed(1))),
        repeats=1)
colour_samples, colour_completions = drawn["samples"], drawn["completions"]
print(f"2 samples: {sample_seconds:.1f} CPU seconds (2352 passes each); 2 completions of 14 "
      f"rows: {complete_seconds:.1f} CPU seconds (1176 passes each)")
half_colour = given_colour.clone()
half_colour[:, :, 14:] = 1.5                               # grey where the model fills in
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [1, 1]})
show_colour(colour_samples, nrow=2, ax=ax1, title="colour PixelCNN samples")
show_colour(torch.cat([half_colour, colour_completions]), nrow=2, ax=ax2,
            title="top: upper half given; bottom: completed")
plt.show()
index = (colour_samples * torch.tensor([16.0, 4.0, 1.0])[:, None, None]).sum(1).long()
# index: (2, 28, 28), one of 64 colours per pixel
counts = torch.stack([torch.bincount(i.flatten(), minlength=64) for i in index])  # (2, 64)
print("colours per sample:", (counts > 0).sum(1).tolist(), "(data: always 2); the commonest "
      "colour covers", [f"{c:.0%}" for c in (counts.max(1).values / 784).tolist()])
# the completions keep the given half's background: its commonest colour stays the commonest
top, bottom = [(colour_completions[:, :, rows] * torch.tensor([16.0, 4.0, 1.0])[:, None, None])
               .sum(1).long().flatten(1).mode(1).values for rows in (slice(0, 14), slice(14, 28))]

# %% jupyter={"source_hidden": true} tags=["claim-04-colour-samples", "hide-input"]
assert ((counts > 0).sum(1) > 2).all() and (counts.max(1).values > 0.4 * 784).all()
assert torch.equal(top, bottom)


# %% [markdown]
# The samples agree with the table. In each, one colour covers much of the image (the shares
# printed), like the data's background, but the strokes are not digits and change colour
# along the way: more than the two colours every training image has. The completions keep the
# background colour of the given half. The model has learned "one background colour" but not
# yet "one digit colour", which is the copying that G and B still pay for.

# %% [markdown]
# ## 7. 256 levels: a softmax, or PixelCNN++'s discretized logistic mixture
#
# A grayscale pixel of an 8-bit image has 256 levels, 0 (black) to 255 (white). The PixelCNN of
# section 6 would give each pixel a 256-way softmax: 256 logits, one per level, each level
# learned on its own. Nothing in a softmax says that level 200 is close to level 201; if the
# training images hold many pixels at 200 and 202 but few at 201, the softmax may learn a hole
# at 201. **PixelCNN++** (Salimans et al. 2017) puts a continuous distribution on the line
# instead and cuts it into 256 bins, one per level: neighbouring levels get similar
# probabilities because they lie under the same smooth curve, and a mixture of $K$ components
# needs $3K$ numbers per pixel (a weight, a mean and a scale each) instead of 256.
#
# **The formula, line by line.** A logistic distribution with mean $\mu$ and scale $s$ has the
# cumulative distribution function $F(y) = \sigma\big((y - \mu)/s\big)$, where
# $\sigma(z) = 1 / (1 + e^{-z})$ is the sigmoid.
#
# 1. *A level inside the range* gets the mass of its bin $[x - \tfrac12, x + \tfrac12]$, the
#    increase of $F$ over it:
#    $$P(x \mid \mu, s) = \sigma\Big(\frac{x + \frac12 - \mu}{s}\Big) - \sigma\Big(\frac{x - \frac12 - \mu}{s}\Big), \qquad 0 < x < 255.$$
# 2. *The edges:* the lowest bin reaches down to $-\infty$ and the highest up to $+\infty$, so
#    no mass falls outside the 256 levels:
#    $$P(0 \mid \mu, s) = \sigma\Big(\frac{\frac12 - \mu}{s}\Big), \qquad
#      P(255 \mid \mu, s) = 1 - \sigma\Big(\frac{254.5 - \mu}{s}\Big).$$
# 3. *The mixture*, with weights $\pi = \mathrm{softmax}$ of $K$ logits:
#    $$P(x) = \sum_{k=1}^{K} \pi_k \, P(x \mid \mu_k, s_k).$$
# 4. *It sums to 1.* Write $b_x = (x - \frac12 - \mu)/s$ for the lower edge of bin $x$ (the
#    upper edge of bin $x - 1$); the sum over the levels telescopes:
#    $$\sum_{x=0}^{255} P(x \mid \mu, s) = \sigma(b_1) + \sum_{x=1}^{254} \big(\sigma(b_{x+1}) - \sigma(b_x)\big) + 1 - \sigma(b_{255}) = 1,$$
#    and a mixture of distributions that each sum to 1 sums to 1.
# 5. *In log space.* Far from $\mu$ both sigmoids are nearly 0 (or nearly 1), and their
#    difference rounds to 0 in floating point: $\log 0 = -\infty$. With
#    $a = (x + \frac12 - \mu)/s$ and $b = (x - \frac12 - \mu)/s$ the code uses instead
#    $$\sigma(a) - \sigma(b) = \sigma(a)\,\sigma(-b)\,\big(1 - e^{-(a - b)}\big), \qquad
#      \log P = \log \sigma(a) + \log \sigma(-b) + \log\big(1 - e^{-(a - b)}\big),$$
#    three terms that are each computed without rounding to 0 (`-softplus(-a)`, `-softplus(b)`,
#    `log(-expm1(-(a - b)))`; $a - b = 1/s > 0$). To check the identity: $\sigma(a)\,\sigma(-b) =
#    e^a / \big((1 + e^a)(1 + e^b)\big)$, and multiplying by $1 - e^{b - a}$ gives
#    $(e^a - e^b) / \big((1 + e^a)(1 + e^b)\big) = \sigma(a) - \sigma(b)$.
#
# The usual mistake is to take the density at $x$ times the bin's width, or to forget the
# edges: the probabilities then no longer sum to 1, and level 0, the background of most of a
# digit, gets only the sliver of its own bin instead of the whole left tail.
#
# The code works in the scale of the network's inputs: level $x$ sits at
# $\tilde x = 2x/255 - 1 \in [-1, 1]$, half a bin is $1/255$, and $\mu$ and $\log s$ are
# measured in that scale too (the argument of $\sigma$, a distance divided by a scale, is the
# same in both). Here is the heart of `gm_helpers/models/logistic_mixture.py`, each equation as
# a comment above the line that computes it:

# %%
excerpt(logistic_mixture._log_probs, "x_tilde =")

# %% [markdown]
# A mixture of three components, chosen by hand: one with its mean below level 0, one in the
# middle, one above level 255. The probabilities of all 256 levels, from `level_probs`, and
# their sum:

# %% mystnb={"figure": {"caption": "The 256 level probabilities of a hand-chosen discretized mixture of three logistics: the component centred below level 0 and the one above 255 put their mass on the end levels (0.26 and 0.33), and the middle one makes a smooth bump near 150; the 256 probabilities sum to 1.", "name": "fig-04-logistic-mixture"}, "image": {"alt": "Bar chart of P(x) against level x from 0 to 255: a tall bar of about 0.26 at level 0, a tall bar of about 0.33 at level 255, and a low smooth bump peaking near 0.02 around level 150; almost nothing elsewhere."}}
logit_pi = torch.tensor([[[0.0], [0.0], [0.0]]], dtype=torch.float64)  # (1 pixel, K = 3, 1)
mu = torch.tensor([[[-1.1], [0.2], [1.2]]], dtype=torch.float64)        # in the [-1, 1] scale
log_s = torch.tensor([[[-2.5], [-3.5], [-3.0]]], dtype=torch.float64)
probs = logistic_mixture.level_probs(logit_pi, mu, log_s)[0, 0]          # (256,)
print(f"P(0) = {probs[0]:.4f}, P(255) = {probs[255]:.4f}, the largest level inside: "
      f"{probs[1:255].max():.4f}; the sum over all 256 levels: {probs.sum().item():.15f}")
assert abs(probs.sum().item() - 1) < 1e-12        # exact, to float64's precision
fig, ax = plt.subplots(figsize=(7.5, 2.6))
ax.bar(np.arange(256), probs.numpy(), width=1.0, color="#2b6cb0")
ax.set_xlabel("level x")
ax.set_ylabel("P(x)")
ax.set_xlim(-3, 258)
ax.set_title("a discretized mixture of 3 logistics: the end levels take the tails", fontsize=10)
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-04-mixture-sums-to-one", "hide-input"]
# the edges take whole tails: P(0) and P(255) are far above any level inside
assert probs[0] > 0.25 and probs[255] > 0.25 and probs[1:255].max() < 0.05
naive = torch.sigmoid((torch.arange(1, 255) * 2 / 255 - 1 + 1 / 255 - mu[0, :, :])
                      / log_s[0].exp()) - torch.sigmoid(
    (torch.arange(1, 255) * 2 / 255 - 1 - 1 / 255 - mu[0, :, :]) / log_s[0].exp())
assert torch.allclose(probs[1:255], (naive / 3).sum(0), atol=1e-12)  # line 1 and 3, level by level

# %% [markdown]
# **The model** is the course's PixelCNN with one change, its last 1×1 layer: $3K$ outputs per
# pixel (the weights' logits, the means and the log-scales) instead of 256 logits. Sampling a
# pixel is exact and cheap: choose a component $k$ with probability $\pi_k$, draw a logistic
# value by inverting its CDF at a uniform $u$, $y = \mu_k + s_k \log\frac{u}{1 - u}$, and
# return the level whose bin holds $y$ (the end levels take everything beyond them), which is
# the bin mass of lines 1 to 3. (`tests/models/test_logistic_mixture.py` checks the sums, a
# naive level-by-level loop, finite gradients at the edges and the sampler by a χ² test.)

# %%
excerpt(MixturePixelCNN.__init__, "# the one change")
excerpt(MixturePixelCNN._draw, "def _draw")
excerpt(logistic_mixture.sample, "k = torch.multinomial")

# %% [markdown]
# ### The data: grayscale digits, 256 levels
#
# The only grayscale digits here are the 10,000 images of the MNIST test set (the binarized
# digits of the other sections come from it too). `grayscale_digits` splits them with a seeded
# permutation into 8,000 training, 1,000 validation and 1,000 test images and keeps the 256
# levels of the file. How often does each level occur in the training images?

# %% mystnb={"figure": {"caption": "Left: ten grayscale test digits. Right: how often each of the 256 levels occurs in the training pixels, on a log scale: most pixels are 0, many are near 255, and between them lie spikes at 64, 128 and 191.", "name": "fig-04-gray-levels"}, "image": {"alt": "Left: one row of ten white-on-black grayscale digits, 3, 8, 6, 1, 8, 9, 5, 7, 4 and 4. Right: a bar chart of training pixels per level on a log scale: a spike of about 5 million at level 0, a flat floor of a few thousand per level with three isolated spikes near 64, 128 and 191, and a rise to about 200,000 near 250 to 255."}}
gray_train, gray_valid, gray_test = grayscale_digits(256)  # (8000 | 1000 | 1000, 1, 28, 28)
counts = torch.bincount(gray_train.flatten().long(), minlength=256)  # (256,) pixels per level
share = counts / counts.sum()
print(f"training pixels at level 0: {share[0]:.1%}; at 255: {share[255]:.1%}; at 250 to 254: "
      f"{share[250:255].sum():.1%}; at the 249 levels 1 to 249 together: {share[1:250].sum():.1%}")
print(f"the rarest level inside the range, {int(counts[1:255].argmin()) + 1}, occurs "
      f"{int(counts[1:255].min()):,} times in the 8,000 images")
# spikes: levels inside the range seen over twice as often as their two neighbours on average
spikes = [x for x in range(2, 250) if counts[x] > (counts[x - 1] + counts[x + 1])]
print("spikes inside the range (count, and its neighbours' counts):",
      "; ".join(f"{x}: {int(counts[x]):,} ({int(counts[x - 1]):,}, {int(counts[x + 1]):,})"
                for x in spikes))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 2.4), gridspec_kw={"width_ratios": [1, 1.3]})
show_images(gray_test[:10] / 255, nrow=10, ax=ax1, title="grayscale test digits")
ax2.bar(np.arange(256), counts.numpy(), width=1.0, color="#2b6cb0")
ax2.set_yscale("log")
ax2.set_xlabel("level")
ax2.set_ylabel("training pixels (log scale)")
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-04-grayscale-data", "hide-input"]
assert (len(gray_train), len(gray_valid), len(gray_test)) == (8000, 1000, 1000)
assert share[0] > 0.75 and share[1:250].sum() < 0.15 and counts[1:255].min() > 1000
assert spikes == [64, 128, 191]

# %% [markdown]
# ### Two models of one trunk: a 256-way softmax against a mixture of 5 logistics
#
# Both checkpoints are the same PixelCNN trunk (32 hidden units per layer, 5 residual blocks,
# the same initial weights), trained by the command line with the same options (`--data
# grayscale`, seed 0, the same learning rate and its decay per epoch, batches of 32, and a
# budget of 10 epochs or 10 minutes, whichever comes first; the commands are in the
# manifest); they differ only in the last layer and its likelihood. We score the whole
# 1,000-image test split, in nats per image and bits per dimension ($D = 784$; the uniform
# model over 256 levels costs 8 bits/dim, $784 \ln 256 = 4347$ nats):

# %% mystnb={"figure": {"caption": "The learning curves of the two grayscale models, one trunk with a 256-way softmax (left) or a mixture of 5 logistics (right): the softmax's validation NLL is lower after every epoch, although the mixture ran one epoch more.", "name": "fig-04-gray-curves"}, "image": {"alt": "Two line plots of NLL in nats against epoch. Left, grayscale_softmax.pt, 9 epochs, 11 min: validation falls from about 658 to 621 at epoch 9, marked by a star, with the dashed training curve below it. Right, grayscale_mixture.pt, 10 epochs, 7 min: validation falls from about 745 off the top of the axis to 628 at epoch 10, marked by a star, training alongside it."}}
gray = {"softmax": load_shipped("grayscale_softmax.pt"),
        "mixture": load_shipped("grayscale_mixture.pt")}
gray_nll = {}
print(f"{'likelihood':>20} {'free params':>11} {'output layer':>12} {'test NLL':>9} "
      f"{'bits/dim':>8}  training")
for name, (model, entry) in gray.items():
    out = model.head[-1]                                    # the last 1x1 layer
    out_params = int(out.mask.sum()) + out.bias.numel()     # free weights and biases
    nll = gray_nll[name] = evaluate_nll(model, gray_test, batch_size=25)  # 256 logits a pixel
    label = "256-way softmax" if name == "softmax" else f"{model.num_mixtures} logistics (3K = " \
        f"{3 * model.num_mixtures})"
    print(f"{label:>20} {model.num_params():>11,} {out_params:>12,} {nll:9.2f} "
          f"{bits_per_dim(nll, 784):8.4f}  {entry['epochs']} epochs, "
          f"{entry['wall_time_s'] / 60:.0f} min")
print(f"mixture minus softmax: {gray_nll['mixture'] - gray_nll['softmax']:+.1f} nats per image "
      f"({bits_per_dim(gray_nll['mixture'] - gray_nll['softmax'], 784):+.4f} bits/dim)")
valid = {name: entry["history"]["valid_nll"] for name, (_, entry) in gray.items()}  # per epoch
print("validation NLL per epoch:")
print("  epoch  " + "  ".join(f"{e:>6}" for e in range(1, max(map(len, valid.values())) + 1)))
for name, curve in valid.items():
    print(f"{name:>7}  " + "  ".join(f"{v:6.1f}" for v in curve))
plot_checkpoint_curves(["grayscale_softmax.pt", "grayscale_mixture.pt"], shipped_manifest(),
                       ncols=2, size=(4.2, 2.6))
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-04-grayscale-nll", "hide-input"]
soft_entry, mix_entry = gray["softmax"][1], gray["mixture"][1]
assert all(abs(gray_nll[n] - gray[n][1]["test_nll"]) < 0.01 for n in gray)  # the whole test split
assert [int(m.head[-1].mask.sum()) + m.head[-1].bias.numel() for m, _ in gray.values()] == [16_640, 975]
recipe = [e["command"].split(" --epochs ")[1].replace(n, "X") for n, (_, e) in gray.items()]
assert recipe[0] == recipe[1]                               # the same options after the model's
assert (soft_entry["epochs"], mix_entry["epochs"]) == (9, 10)
assert gray_nll["softmax"] < gray_nll["mixture"] < 1.015 * gray_nll["softmax"]
assert all(s < m for s, m in zip(valid["softmax"], valid["mixture"]))   # after every epoch

# %% [markdown]
# On these digits the **softmax wins**: its test NLL is lower (the table), and so is its
# validation NLL after every epoch, although the mixture ran one epoch more. PixelCNN++'s
# paper reports that the mixture speeds up training on photographs (CIFAR-10); on these digits,
# with this trunk and these budgets, it does not. The data of the previous section say why:
# every level inside the range has over 1,600 training examples, so the softmax is short of
# data for no level, and the levels 64, 128 and 191 are spikes, which a sum of 5 smooth bumps
# cannot follow (the next figure shows both). What the mixture does buy is an output layer 17
# times smaller (975 free parameters instead of 16,640) and a likelihood within about 1 % of
# the softmax's.
#
# An epoch of the two models does not cost the same: the softmax's last layer and its
# likelihood handle 256 numbers per pixel, the mixture's 15. One training step of each on 16
# test digits, timed as in section 4 (CPU time, one thread):

# %% tags=["nbval-ignore-output"]
def train_cost(model, x):
    """CPU seconds per image of one training step (forward and backward), on one thread."""
    def step():
        (-model.log_prob(x).mean()).backward()
        model.zero_grad(set_to_none=True)
    with one_thread():
        return cpu_time(step, repeats=3) / len(x)


cost = {name: train_cost(model, gray_test[:16]) for name, (model, _) in gray.items()}
print(f"training, CPU time per image: softmax {1e3 * cost['softmax']:.1f} ms, mixture "
      f"{1e3 * cost['mixture']:.1f} ms: the softmax costs {cost['softmax'] / cost['mixture']:.1f}x")

# %% [markdown]
# The mixture's step is the cheaper one (the ratio printed), but not by a large factor at
# this size: most of the work is the trunk's convolutions, the same in both. (The runs'
# minutes per epoch, from the table above, differ by more: they trained with bfloat16 autocast
# on a CPU that other work shared unevenly, so those minutes are budgets, not measurements:
# "About these numbers".)

# %% [markdown]
# ### One pixel's predicted distribution over the 256 levels
#
# The difference is easiest to see in one prediction. We take the first test digit and, among
# its pixels on the edge of a stroke (level strictly between 0 and 255), the one whose level
# the softmax finds hardest to pin down (the most mass strictly inside the range), and plot
# what each model predicts for that pixel given the pixels before it; the dashed line marks
# the pixel's true level. To put a number on "jagged" we use the second difference of the
# curve: the **jaggedness** $J = \sum_{x=2}^{253} |P(x-1) - 2P(x) + P(x+1)| \,/\,
# \big(2 \sum_{x=1}^{254} P(x)\big)$, 0 for a straight line, small for a smooth curve, large
# when neighbouring levels go up and down.

# %% mystnb={"figure": {"caption": "Each model's predicted distribution over the 256 levels for one edge pixel of a test digit, given the pixels before it (dashed red: its true level, 142): the softmax's is jagged, with spikes at 128 and 191 like the data's own histogram; the mixture's is smooth, neighbouring levels sharing their mass.", "name": "fig-04-one-pixel-distribution"}, "image": {"alt": "Left: a grayscale 3 with a red square on an edge pixel, titled pixel (19, 15), level 142. Middle: a bar chart for the 256-way softmax, J = 0.353, a ragged hump from about 50 to 230 with tall narrow spikes near 128 and 191. Right: a bar chart for the mixture of 5 logistics, J = 0.001, a smooth skewed hump peaking near 165, with a small shoulder near 100. A dashed red line at level 142 crosses both charts."}}
image = gray_test[:1]                                      # (1, 1, 28, 28)
softmax_model, mixture_model = gray["softmax"][0], gray["mixture"][0]
with torch.no_grad():
    p_softmax = softmax_model.logits(image).softmax(1)[0, :, 0].permute(1, 2, 0)  # (28, 28, 256)
    p_mixture = mixture_model.level_probs(image)[0, 0]     # (28, 28, 256)
edge = (image[0, 0] > 0) & (image[0, 0] < 255)             # (28, 28) pixels inside the range
inside = p_softmax[..., 1:255].sum(-1)                      # (28, 28) softmax mass inside
r, c = divmod(int(torch.where(edge, inside, -1.0).argmax()), 28)
true_level = int(image[0, 0, r, c])


def jaggedness(p):
    """J of distributions over the levels (..., 256): |second differences| inside the range,
    divided by twice the mass there."""
    inside = p[..., 1:255]
    return (inside[..., :-2] - 2 * inside[..., 1:-1] + inside[..., 2:]).abs().sum(-1) / (
        2 * inside.sum(-1))


fig, axes = plt.subplots(1, 3, figsize=(13, 2.8), gridspec_kw={"width_ratios": [0.45, 1, 1]})
axes[0].imshow(image[0, 0].numpy(), cmap="gray", vmin=0, vmax=255)
axes[0].add_patch(plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, ec="red", lw=2))
axes[0].set_title(f"pixel ({r}, {c}), level {true_level}", fontsize=9)
axes[0].set_axis_off()
for ax, name, p in ((axes[1], "256-way softmax", p_softmax[r, c]),
                    (axes[2], "mixture of 5 logistics", p_mixture[r, c])):
    ax.bar(np.arange(256), p.numpy(), width=1.0, color="#2b6cb0")
    ax.axvline(true_level, color="red", lw=1, ls="--")
    ax.set_title(f"{name}: P(x | the pixels before), J = {jaggedness(p):.3f}", fontsize=9)
    ax.set_xlabel("level x")
plt.show()
j_softmax = jaggedness(p_softmax[edge])                     # (edge pixels,)
j_mixture = jaggedness(p_mixture[edge])
j_data = jaggedness(counts / counts.sum())
top = [int(x) for x in p_softmax[r, c].argsort(descending=True)[:4]]
print(f"over this digit's {int(edge.sum())} edge pixels, median J: softmax {j_softmax.median():.3f}, "
      f"mixture {j_mixture.median():.3f}; the softmax is more jagged at "
      f"{(j_softmax > j_mixture).float().mean():.0%} of them")
print(f"the training data's own histogram of levels: J = {j_data:.3f}; the softmax's four most "
      f"likely levels at pixel ({r}, {c}): {top}")

# %% jupyter={"source_hidden": true} tags=["claim-04-grayscale-jagged", "hide-input"]
assert j_softmax.median() > 3 * j_mixture.median() and (j_softmax > j_mixture).float().mean() > 0.85
assert jaggedness(p_softmax[r, c]) > 5 * jaggedness(p_mixture[r, c])
assert j_data > 0.2 and top[0] == 128                  # the data are jagged; the softmax's top: a spike

# %% [markdown]
# The softmax's curve is jagged and the mixture's smooth: in the mixture neighbouring levels
# share their mass, in the softmax they need not (the median jaggedness over the digit's edge
# pixels, printed). But jagged is not simply wrong here. The training data's own histogram of
# levels is nearly as jagged, with its spikes at 64, 128 and 191, and the softmax's most likely
# level at this pixel is the spike 128. A softmax can learn such spikes; a mixture of 5 smooth
# logistics cannot. The mixture's smoothness is a prior: it suits data whose neighbouring
# levels are alike, and it misses these digits' three spikes.

# %% [markdown]
# **Samples.** Each model draws 784 pixels one at a time (section 4): 4 samples each, from the
# same seed.

# %% mystnb={"figure": {"caption": "Four samples from each grayscale model, from the same seed: strokes, hooks and loops with grey edges on black, not yet digits, after about 10 minutes of training.", "name": "fig-04-gray-samples"}, "image": {"alt": "Two groups of four white-on-black grayscale images, titled 256-way softmax: samples and mixture of 5 logistics: samples, each image showing a few curved or hooked strokes with soft edges."}}
with torch.no_grad():
    gray_samples = {name: model.sample(4, generator=torch.Generator().manual_seed(0))
                    for name, (model, _) in gray.items()}             # (4, 1, 28, 28) each
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 2.0))
show_images(gray_samples["softmax"] / 255, nrow=4, ax=ax1, title="256-way softmax: samples")
show_images(gray_samples["mixture"] / 255, nrow=4, ax=ax2, title="mixture of 5 logistics: samples")
plt.show()
for name, x in gray_samples.items():
    print(f"{name}: {(x == 0).float().mean():.0%} of the pixels at level 0, "
          f"{((x > 0) & (x < 255)).float().mean():.0%} strictly inside the range")
print(f"training data: {share[0]:.0%} at level 0, {share[1:255].sum():.0%} strictly inside")
del gray_train, gray_valid, p_softmax, p_mixture

# %% jupyter={"source_hidden": true} tags=["claim-04-grayscale-samples", "hide-input"]
for x in gray_samples.values():
    assert 0.6 < (x == 0).float().mean() < 0.95 and ((x > 0) & (x < 255)).float().mean() > 0.05

# %% [markdown]
# Neither model's samples are digits yet: strokes, hooks and loops on a black background, with
# grey edges, and in proportions of black and grey near the data's (the shares printed). These
# are models of 53,000 and 69,000 free parameters trained for about 10 minutes on 8,000 images.

# %% [markdown]
# ## 8. Multi-scale: a small image first, and fewer sequential passes
#
# Section 4 measured the price of the raster order: one network pass per pixel, 784 passes
# for a 28×28 digit, each waiting for the one before. Three ideas carry the name
# "multi-scale":
#
# * **The Multi-Scale PixelRNN** (van den Oord et al. 2016, section 3.5) first draws a small
#   image, a subsampled $s \times s$ version of the digit, with an ordinary PixelRNN; a second,
#   conditional PixelRNN then draws the full image pixel by pixel, every pixel also seeing
#   the small image. The small image gives the model the digit's overall shape before any
#   detail. It does **not** make sampling cheaper: $s^2 + 784$ passes.
# * **The parallel multiscale PixelCNN** (Reed et al. 2017) makes the small image part of the
#   big one: the base is every $(N/b)$-th pixel of each row and column, drawn pixel by pixel
#   by a PixelCNN ($b^2$ passes). Then it doubles the resolution, again and again. Each
#   doubling adds the other three pixels of every 2×2 block, in three groups (top right,
#   bottom left, bottom right), and the pixels of one group are modelled as independent of each
#   other given everything drawn before:
#   $$p(x) = p\big(x^{(1)}\big) \prod_{g > 1} \prod_{i \in G_g} p\big(x_i \mid x^{(1)}, \dots, x^{(g-1)}\big).$$
#   One pass of a network then draws a whole group, so a sample costs
#   $b^2 + 3 \log_2(N / b)$ passes: logarithmic in the image size instead of quadratic. The
#   price is that independence: two pixels of one group cannot agree with each other except
#   through what came before. The paper reports likelihoods it calls competitive, the best
#   among models that sample this fast, not better than the fully sequential models'.
# * **PixelCNN++'s downsampling** happens inside one network: strided convolutions shrink the
#   feature maps (32×32 to 16×16 to 8×8 for CIFAR-10) and transposed convolutions bring them
#   back, with short-cut connections between layers of the same size, so that a few layers see
#   far. The order stays the raster order: its samples still cost one pass per pixel.
#
# The figure numbers every pixel of an 8×8 image by the pass that draws it, in the three
# orders, from `gm_helpers/models/multiscale.py`; its last line counts the passes for a 28×28
# digit from a 7×7 base (28 = 7 × 2 × 2: two doublings).

# %% mystnb={"figure": {"caption": "Three orders of sampling an 8\u00d78 image, each pixel numbered by the network pass that draws it (equal numbers: drawn together): raster order needs 64 passes, the multi-scale PixelRNN 68 (a 2\u00d72 image first), and Reed et al.'s parallel multiscale 10, because after the base each doubling draws three groups of pixels at once. For a 28\u00d728 digit from a 7\u00d77 base: 784, 833 and 55 passes.", "name": "fig-04-multiscale-orders"}, "image": {"alt": "Three 8 by 8 grids of numbered cells shaded from pale yellow-green to dark blue. Left, PixelCNN: raster order, 64 passes, cells numbered 1 to 64 row by row. Middle, multi-scale PixelRNN: a 2 by 2 grid numbered 1 to 4 with an arrow to an 8 by 8 grid numbered 5 to 68 row by row, 68 passes. Right, parallel multiscale (Reed et al.), 4 + 3 times 2 = 10 passes: four outlined base cells numbered 1 to 4, and the other cells numbered 5 to 10 in a repeating pattern. The bottom line reads: a 28 by 28 digit from a 7 by 7 base: raster 784 passes, multi-scale PixelRNN 833, parallel multiscale 55."}}
multiscale_orders(image_size=8, base_size=2)
plt.show()

# %% [markdown]
# The order of the parallel scheme in code (the base, then three groups per doubling), and the
# number of sequential passes for a few image sizes:

# %%
excerpt(multiscale.sampling_steps, "stride = 2 ** m")
print(f"\n{'image':>9} {'base':>6} {'raster':>8} {'multi-scale PixelRNN':>21} "
      f"{'parallel multiscale':>20}")
passes = {}
for N, b in ((28, 7), (28, 14), (32, 4), (64, 4), (256, 4)):
    passes[N, b] = {scheme: multiscale.num_passes(N, scheme, b) for scheme in multiscale.SCHEMES}
    row = passes[N, b]
    print(f"{N:>4} × {N:<3} {b:>2} × {b:<2} {row['raster']:>8,} {row['multiscale_pixelrnn']:>21,} "
          f"{row['parallel_multiscale']:>20,}")

# %% jupyter={"source_hidden": true} tags=["claim-04-multiscale-passes", "hide-input"]
assert passes[28, 7] == {"raster": 784, "multiscale_pixelrnn": 833, "parallel_multiscale": 55}
assert all(row["parallel_multiscale"] == b * b + 3 * round(math.log2(N // b))
           for (N, b), row in passes.items())
assert passes[256, 4]["parallel_multiscale"] == 34 and passes[256, 4]["raster"] == 65_536

# %% [markdown]
# For a 28×28 digit from a 7×7 base, the parallel scheme needs 55 sequential passes instead of
# 784, about 14 times fewer; for a 256×256 image from a 4×4 base, 34 instead of 65,536. Each
# pass of the conditional networks processes the whole image, so the saving is in the number
# of passes that must wait for each other, the quantity that no hardware can parallelise. We
# have not trained a multi-scale model here: these are counts of the sampling order, not
# measured timings.

# %% [markdown]
# > **About these numbers**
# >
# > * **Timings** (sections 4, 6 and 7) are CPU time, `time.process_time` through
# >   `gm_helpers.analysis.timing.cpu_time`, on one thread (`one_thread()`), the fastest of
# >   three repeats (a sampling run: one repeat), in fp32. CPU time rather than the clock:
# >   other programs sharing the machine stretch the clock time of a call but not the work it
# >   does, and with one thread the CPU time is that work; on an idle machine the two agree.
# > * **Training**: every checkpoint was trained by `python -m gm_helpers.train` on a 2-core CPU
# >   that other work shared (other training runs, tests, notebooks), with `--threads 1`. Its
# >   entry in
# >   `gm_helpers/checkpoints/manifest.json` holds the command, hardware, wall time, epochs,
# >   test NLL, sha256, learning curves and a note on what shared the CPU, and
# >   `tests/test_repo.py` re-measures the test NLL. Training used bfloat16 autocast (`--amp`);
# >   every NLL is evaluated in fp32. So the minutes are budgets, not speed measurements.
# > * **Budgets**: the four binary models 49 to 134 minutes (8 to 20 epochs), each still
# >   improving at its end; the colour PixelCNN 88 minutes (stopped by its time budget after 2 epochs,
# >   resumed for 2 more); the two grayscale models 10 epochs or 10 minutes, whichever came
# >   first (`--max-minutes 10` stops a run after the epoch that ends past 10 minutes: it
# >   stopped the softmax after 9 epochs and 11 minutes; the mixture finished its 10 epochs in
# >   7). Other work shared the CPU during every run, so its minutes measure a budget, not a
# >   speed: the learning curves are plotted per epoch.
# > * **Test images**: the NLLs printed here use a fixed 2,000 of the binarized test images
# >   (section 5) and 1,000 colour test images (section 6), beside the manifest's full-test
# >   numbers; section 7 scores the whole 1,000-image test split of the grayscale digits.
# > * This notebook loads the shipped checkpoints and trains nothing; the samples it draws live
# >   are few (section 4: 8 Gated PixelCNN samples twice, for the crop, and 4 per model for the
# >   fast samplers; section 5: 8 completions; section 6: 4 colour images; section 7: 4 per
# >   model).

# %% jupyter={"source_hidden": true} tags=["claim-04-about-numbers", "hide-input"]
about = shipped_manifest()
trained = ["pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt", "diagonal_bilstm.pt", "colour_pixelcnn.pt",
           "grayscale_softmax.pt", "grayscale_mixture.pt"]
assert all("--threads 1" in about[f]["command"] and "--amp" in about[f]["command"] for f in trained)
assert not any("--compile" in about[f]["command"] for f in trained)
assert round(about["colour_pixelcnn.pt"]["wall_time_s"] / 60) == 88
assert all("--epochs 10" in about[f]["command"] and "--max-minutes 10" in about[f]["command"]
           for f in ("grayscale_softmax.pt", "grayscale_mixture.pt"))
assert [(about[f]["epochs"], round(about[f]["wall_time_s"] / 60)) for f in
        ("grayscale_softmax.pt", "grayscale_mixture.pt")] == [(9, 11), (10, 7)]

# %% [markdown]
# ## Summary
#
# * Masked convolutions implement the chain rule over pixels: mask A for the first layer,
#   mask B after it, channel groups for R → G → B (at the centre, G sees R and B sees R and G).
# * Gradients show exactly what each output sees: plain masked stacks have a blind spot above
#   and to the right; the Gated PixelCNN's two stacks see the whole past; the Row LSTM sees a
#   triangle; the Diagonal BiLSTM all but one corner pixel.
# * Training is one parallel pass; sampling is one pass per pixel (and per channel), measured
#   above; cropping to the rows already drawn gives the same samples, bit for bit, for less CPU
#   time (the saving measured above). On one CPU thread the shipped PixelCNN costs about as
#   much per training image as the Diagonal BiLSTM and more than three times the Row LSTM: the
#   papers' speed argument is about parallel hardware, which this notebook cannot test.
# * Our likelihood rankings compare unequal budgets; they agree with the paper's order
#   (Diagonal BiLSTM < Row LSTM < PixelCNN), without testing it.
# * A colour PixelCNN computes $p(R)\,p(G \mid R)\,p(B \mid R, G)$: its gradients are exactly
#   triangular in that order. On coloured digits the channel that first shows the digit pays
#   for its shape; after this short training the later channels have not learned to copy it
#   (several times the 2.77 nats the data allow).
# * PixelCNN++'s discretized logistic mixture gives each of the 256 levels the mass of its bin
#   under a mixture of $K$ logistics, the end levels the tails; its probabilities sum to 1
#   exactly, and in log space it stays finite far from every mean. On a PixelCNN trunk it needs
#   $3K = 15$ outputs per pixel instead of 256. On 256-level digits, the same trunk with the
#   same options and a 10-minute budget each: the softmax 615.7 nats per image (1.133
#   bits/dim, 9 epochs), the mixture 622.3 (1.145 bits/dim, 10 epochs). The softmax is ahead after every
#   epoch: these digits have examples of every level and spikes at 64, 128 and 191, which the
#   softmax's jagged distributions follow and the mixture's smooth ones cannot.
# * Multi-scale models draw a small image first. Drawn pixel by pixel, as in the Multi-Scale
#   PixelRNN, that adds passes (833 for a 28×28 digit); with groups of conditionally
#   independent pixels, as in Reed et al.'s parallel multiscale PixelCNN, a 28×28 digit from a
#   7×7 base takes 55 sequential passes instead of 784.
#
# ## References
# * A. van den Oord, N. Kalchbrenner, K. Kavukcuoglu. *Pixel recurrent neural networks.* ICML 2016.
# * A. van den Oord et al. *Conditional image generation with PixelCNN decoders.* NeurIPS 2016.
# * T. Salimans, A. Karpathy, X. Chen, D. P. Kingma. *PixelCNN++: Improving the PixelCNN with
#   discretized logistic mixture likelihood and other modifications.* ICLR 2017. arXiv:1701.05517.
# * P. Ramachandran et al. *Fast generation for convolutional autoregressive models.* ICLR 2017 workshop.
# * S. Reed, A. van den Oord, N. Kalchbrenner, S. Gómez Colmenarejo, Z. Wang, Y. Chen, D. Belov,
#   N. de Freitas. *Parallel multiscale autoregressive density estimation.* ICML 2017.
#   arXiv:1703.03664.
