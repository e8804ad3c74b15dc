# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lecture 2 — Chain rule, independence, Markov: finding the sweet spot
#
# **What you will learn**
#
# * the chain rule writes *any* distribution as a product of conditionals, exactly, and so
#   costs exactly as much as the full table: $2^n - 1$;
# * conditional independence and the Markov assumption ($2n - 1$ parameters), and AR($k$)
#   models in between;
# * on real data small enough to enumerate (4×4 patches of digits, $2^{16}$ states), how the
#   full table **overfits**, independence **underfits**, and a short-memory AR model wins;
# * that the **ordering** of the variables changes what an AR model can learn, measured;
# * the bridge to neural models: the **FVSBN**, a logistic autoregressive model of whole 28×28
#   digits, whose test NLL we compare with Larochelle & Murray's 97.45 nats.
#
# **Time:** about 40 minutes to read; the notebook runs top to bottom in about 20 seconds on a
# laptop CPU (it loads a trained checkpoint rather than training for minutes).

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.counting import (FullJointTable, TabularAR, all_binary_states,
                                 compare_tabular_models, image_ordering, num_params)
from gm_helpers.data import binary_patches, load_binarized_mnist
from gm_helpers.exercises import (check_ar_params, check_conditional_from_joint,
                                  check_markov_log_prob)
from gm_helpers.nade import FVSBN
from gm_helpers.train import evaluate_nll, fit, get_device, load_shipped, seed_everything
from gm_helpers.viz import plot_params_vs_nll, show_images
from gm_helpers.widgets import draw_patch_result, ar_patch_experiment, ar_patch_explorer

seed_everything(0)
device = get_device()

# %% [markdown]
# ## 1. The chain rule: exact, and no cheaper
#
# For any distribution over $x = (x_1, \dots, x_n)$, by the definition of conditional probability,
#
# $$p(x_1, \dots, x_n) = p(x_1)\, p(x_2 \mid x_1)\, p(x_3 \mid x_1, x_2) \cdots p(x_n \mid x_1, \dots, x_{n-1}) = \prod_{i=1}^n p(x_i \mid x_{<i}).$$
#
# No assumption has been made. Written as tables, the conditional of binary $x_i$ needs one
# number for each of the $2^{i-1}$ settings of its parents $x_{<i}$, so the total is
#
# $$\sum_{i=1}^n 2^{i-1} = 2^n - 1,$$
#
# exactly the count of the full joint table. We check that for every $n$ up to 784, in exact
# integer arithmetic:

# %%
chain_rule_counts = [sum(2 ** (i - 1) for i in range(1, n + 1)) for n in range(1, 785)]
print("sum_i 2**(i-1) == 2**n - 1 for n = 1..784:",
      all(c == num_params("full_joint", n) for n, c in enumerate(chain_rule_counts, 1)))

# %% [markdown]
# The chain rule is the *skeleton* of every autoregressive model in this course; what varies is
# how each conditional $p(x_i \mid x_{<i})$ is written down.
#
# ## 2. Data we can enumerate: 4×4 patches
#
# To compare models exactly we need a space small enough to list every state. We cut random
# 4×4 patches out of the binarized digits (from the central region, where the strokes are):
# $n = 16$ binary variables, $2^{16} = 65{,}536$ states. We fit on 5,000 training patches and
# test on 20,000 patches from the **test** digits.

# %%
x_train = load_binarized_mnist("train")                  # (50000, 1, 28, 28)
x_test = load_binarized_mnist("test")                    # (10000, 1, 28, 28)
size = 4
train = binary_patches(x_train, size, 5_000, seed=0).numpy()   # (5000, 16) uint8
test = binary_patches(x_test, size, 20_000, seed=1).numpy()    # (20000, 16)
print("train", train.shape, " test", test.shape, " states:", 2 ** train.shape[1])
as_int = lambda p: p.astype(np.int64) @ (1 << np.arange(15, -1, -1))   # each patch as a 16-bit number
print(f"distinct patches in train: {len(np.unique(as_int(train)))}; test patches whose exact "
      f"state never occurs in train: {(~np.isin(as_int(test), as_int(train))).mean():.1%}")
show_images(train[:48], nrow=16, title="48 training patches (4x4)")
plt.show()

# %% [markdown]
# ### The full joint table, and the chain rule read off it
#
# Maximum likelihood for a table is counting: $\hat p(s) = \text{count}(s)/N$. Because some test
# patches never occur in training, we add a pseudo-count $\alpha = 0.01$ to every state
# (*additive smoothing*), or the test NLL would be infinite:
# $\hat p(s) = (\text{count}(s) + \alpha) / (N + 2^n \alpha)$.
#
# From the table we can compute every conditional $p(x_i \mid x_{<i})$ by summing out the
# later variables and dividing. Multiplying them back together must give the table again,
# exactly: the chain rule in code.

# %%
states = all_binary_states(16)                            # (65536, 16)
full = FullJointTable(alpha=0.01).fit(train)
print("sum over all 65,536 states:", round(float(np.exp(full.log_prob(states)).sum()), 12))
chain = TabularAR(k=15).fit(train)                        # shape only; we overwrite its tables
chain.theta = full.conditionals()                         # p(x_i = 1 | x_<i) from the table
gap = np.abs(chain.log_prob(states) - full.log_prob(states)).max()
print(f"max |log p_chain(x) - log p_table(x)| over all states: {gap:.1e}")
print("parameters of the chain-rule factorisation:",
      sum(len(t) for t in chain.theta), "=", full.num_params())

# %% [markdown]
# ## 3. Assumptions that cut the count
#
# **Independence**, $p(x) = \prod_i p(x_i)$: $n$ parameters. **Conditional independence**:
# $x_i$ is independent of the distant past *given* the recent past. The **Markov assumption**
# keeps only the previous variable,
#
# $$p(x) = p(x_1) \prod_{i=2}^n p(x_i \mid x_{i-1}), \qquad 1 + 2(n - 1) = 2n - 1 \text{ parameters},$$
#
# and **AR($k$)** keeps the previous $k$: $p(x_i \mid x_{i-k}, \dots, x_{i-1})$, with
# $\sum_i 2^{\min(i-1, k)} = 2^k - 1 + (n - k)\,2^k$ parameters. AR(0) is independence, AR(1)
# is Markov, AR($n-1$) is the chain rule again.
#
# Every model here is a proper distribution: each sums to 1 over all 65,536 states.

# %%
rows = compare_tabular_models(train, test, ks=(2, 4, 8), alpha=0.01)
print(f"{'model':>12} {'params':>8} {'sum p':>7} {'train NLL':>10} {'test NLL':>9}   (nats/patch)")
for r in rows:
    total = np.exp(r["model"].log_prob(states)).sum()
    print(f"{r['name']:>12} {r['params']:>8,} {total:7.4f} {r['train_nll']:10.3f} "
          f"{r['test_nll']:9.3f}")
for k in (2, 4, 8):
    assert next(r for r in rows if r["name"] == f"AR({k})")["params"] == num_params("ar", 16, k=k)

# %%
plot_params_vs_nll(rows, title="4x4 patches: more parameters is not always better")
plt.show()

# %% [markdown]
# Read the plot from left to right:
#
# * **independence** (16 parameters) **underfits**: train and test NLL are both high; it
#   cannot express that neighbouring pixels agree;
# * **Markov** and **AR(2)** help a lot: most of what a pixel needs to know is next to it;
# * **AR(4)** is the sweet spot: in raster order on a 4-wide patch, the four variables before
#   a pixel are the pixels to its left (wrapping to the end of the row above) and, four steps
#   back, **the pixel directly above it**: its two most informative neighbours are parents;
# * **AR(8)** and above all the **full table** (65,535 parameters for 5,000 examples)
#   **overfit**: the lowest train NLL, and the train–test gap opens wide.
#
# The samples tell the same story: independent samples are salt and pepper; AR(4) samples are
# strokes.

# %%
fig, axes = plt.subplots(1, len(rows), figsize=(2.2 * len(rows), 2.6))
for ax, r in zip(axes, rows):
    show_images(r["model"].sample(25, seed=0), nrow=5, ax=ax, title=r["name"])
plt.show()

# %% [markdown]
# ## 4. The ordering matters
#
# The chain rule holds in **any** order of the variables: the full table gives the same
# likelihood whichever order we factorise it in. An AR($k$) model is different: its $k$
# parents are the $k$ variables that come just before it *in the chosen order*, so the order
# decides which pixels can inform which. Four orders of a 4×4 patch:

# %%
fig, axes = plt.subplots(1, 4, figsize=(9, 2.4))
for ax, name in zip(axes, ["raster", "column", "snake", "random"]):
    step = np.empty(16, dtype=int)
    step[image_ordering(name, 4, 4)] = np.arange(16)   # step at which each pixel is visited
    ax.imshow(step.reshape(4, 4), cmap="viridis")
    for (r, c), s in np.ndenumerate(step.reshape(4, 4)):
        ax.text(c, r, s, ha="center", va="center", color="w")
    ax.set_title(name)
    ax.set_axis_off()
plt.show()

# %%
print(f"{'order':>8} " + " ".join(f"{'AR(%d)' % k:>7}" for k in (1, 2, 4, 15)) + "   test NLL")
for name in ["raster", "column", "snake", "random"]:
    order = image_ordering(name, size, size, seed=0)
    nlls = [-TabularAR(k, alpha=0.01, order=order).fit(train).log_prob(test).mean()
            for k in (1, 2, 4, 15)]
    print(f"{name:>8} " + " ".join(f"{v:7.3f}" for v in nlls))
train_nll_15 = {name: -TabularAR(15, order=image_ordering(name, 4, 4)).fit(train)
                .log_prob(train).mean() for name in ["raster", "column", "snake", "random"]}
print("AR(15) = chain rule, unsmoothed, train NLL in every order:",
      ", ".join(f"{k} {v:.6f}" for k, v in train_nll_15.items()))

# %% [markdown]
# With few parents the order changes the test NLL by more than half a nat per patch. The
# random order is worst: its "previous" pixels are scattered across the patch. Raster and
# column orders are close, because strokes run both ways; the snake order, whose predecessor
# is always an adjacent pixel, does best at $k = 1$. With all 15 parents (the chain rule)
# and no smoothing, the train NLL is *identical* in every order, as it must be: the chain
# rule makes no assumption, only AR($k$) truncations do. (With smoothing the test NLLs
# differ slightly, because smoothing 15 conditionals is not the same as smoothing the table.)
#
# ## 5. From tables to functions: the FVSBN
#
# Even AR($k$) tables grow as $2^k$: a model of whole 28×28 digits with useful $k$ is out of
# reach. The way out, taken by every model from here on, is to **write each conditional as a
# function** with few parameters. The simplest is a logistic regression on all the pixels
# before it, the *fully visible sigmoid belief network* (Frey 1998):
#
# $$p(x_d = 1 \mid x_{<d}) = \sigma\Big(b_d + \sum_{j<d} W_{dj}\, x_j\Big).$$
#
# It keeps the exact chain rule (no independence assumption at all) and uses
# $\sum_d d = D(D+1)/2$ parameters: 307,720 for MNIST, against $2^{784} - 1$. The whole model
# is one masked matrix product (from `gm_helpers/nade.py`):
#
# ```python
# # mask[d, j] = 1 iff pixel j comes before pixel d: strictly lower triangular in the order
# def logits(self, x):
#     return x @ (self.W * self.mask).T + self.b          # (B, D)
# def log_prob(self, x):
#     return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)
# ```
#
# Training maximises the likelihood of all 784 conditionals at once, in parallel: one forward
# pass per image. Here is a short live run (two epochs on 10,000 images), just to watch the
# loop work; the training loop is `gm_helpers.train.fit`.

# %%
# NBVAL_IGNORE_OUTPUT
x_valid = load_binarized_mnist("valid")
live = FVSBN(D=784)
live.init_biases(x_train)                    # start from the independent model's logits
print("parameters:", f"{live.num_params():,}", "=", 784 * 785 // 2)
start = time.time()
history = fit(live, x_train[:10_000], num_epochs=2, lr=3e-3, batch_size=100, device=device,
              valid_data=x_valid)
print(f"2 epochs in {time.time() - start:.1f} s; valid NLL per epoch:",
      [round(v, 1) for v in history["valid_nll"]])

# %% [markdown]
# The shipped checkpoint was trained with the same code from the command line, on all 50,000
# training images, keeping the epoch with the best validation NLL. Its manifest entry records
# the command, the measured NLL and the file's sha256; here we load it and **measure** its NLL
# on the full test set again.

# %%
fvsbn, entry = load_shipped("fvsbn.pt")
print("trained with:", entry["command"])
test_nll = evaluate_nll(fvsbn, x_test)
print(f"FVSBN test NLL: {test_nll:.2f} nats   (Larochelle & Murray 2011: 97.45; "
      f"manifest: {entry['test_nll']:.2f})")
print(f"independent pixels (Lecture 1): {-TabularAR(0, alpha=1.0).fit(x_train.flatten(1).byte().numpy()).log_prob(x_test.flatten(1).byte().numpy()).mean():.2f} nats")

# %% [markdown]
# From about 206 nats (independent pixels) to about 98 with a model that is *still linear* in
# each conditional. Sampling is the price of the chain rule: 784 sequential steps, one per
# pixel, because pixel $d$ needs the pixels drawn before it.

# %%
# NBVAL_IGNORE_OUTPUT
start = time.time()
samples = fvsbn.sample(32, generator=torch.Generator().manual_seed(0))   # (32, 784)
sampling = time.time() - start
start = time.time()
with torch.no_grad():
    fvsbn.log_prob(samples)                  # all 784 conditionals of 32 images, in parallel
scoring = time.time() - start
print(f"sampling 32 images (784 sequential steps): {1e3 * sampling:6.1f} ms")
print(f"scoring the same 32 images (one pass):     {1e3 * scoring:6.1f} ms "
      f"({sampling / scoring:.0f}x faster)")

# %%
show_images(samples, nrow=16, title="FVSBN samples")
plt.show()

# %% [markdown]
# The samples have strokes and some digit-like structure, far from the noise of Lecture 1,
# but a linear conditional cannot hold a whole digit's shape in mind. What does it look at?
# Row $d$ of the masked weight matrix is pixel $d$'s logistic regression: blue pixels make pixel
# $d$ more likely to be on, red ones less (the colour range is clipped at the 99th percentile
# so that the weaker, distant weights show).

# %%
W = (fvsbn.W * fvsbn.mask).detach()                       # (784, 784)
pixels = [(8, 14), (14, 10), (14, 14), (20, 16)]
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for ax, (r, c) in zip(axes, pixels):
    w = W[r * 28 + c].view(28, 28)
    lim = w.abs().flatten().quantile(0.99)       # clip the few large neighbour weights
    ax.imshow(w.numpy(), cmap="RdBu", vmin=-lim, vmax=lim)
    ax.plot(c, r, "k+", ms=10)
    ax.set_title(f"into pixel ({r}, {c})")
    ax.set_axis_off()
plt.show()

# %% [markdown]
# Each pixel leans on its immediate neighbours to the left and above (strongly positive: ink
# continues), and everything after it in raster order is exactly zero, the mask. NADE
# (Lecture 3) replaces these 784 separate regressions by one shared hidden layer, and gets
# close to 88 nats.
#
# ## 6. Explore: patch size, order $k$ and ordering
#
# A static picture first (4×4 patches, AR(4), raster order), for readers without a kernel;
# then the explorer. Change the patch size (2×2 to 4×4), the AR order $k$ and the ordering:
# the table of NLLs and the samples from AR($k$) update.

# %%
draw_patch_result(ar_patch_experiment(x_train, x_test, size=4, k=4, ordering="raster"))
plt.show()

# %%
# NBVAL_IGNORE_OUTPUT
ar_patch_explorer(x_train, x_test)


# %% [markdown]
# ## 7. Exercises
#
# **Exercise 1.** How many free parameters does an AR($k$) model with tabular conditionals need
# for $n$ binary variables? (Careful with the first $k$ variables.)

# %%
def ar_params(n, k):
    """Free parameters of a binary AR(k) model over n variables, 0 <= k < n."""
    ### BEGIN SOLUTION
    return sum(2 ** min(i - 1, k) for i in range(1, n + 1))
    ### END SOLUTION


# %%
check_ar_params(ar_params)


# %% [markdown]
# **Exercise 2.** The chain rule backwards. `joint[a, b, c]` is $p(x_1 = a, x_2 = b, x_3 = c)$
# for three binary variables. Return the 2×2 array of conditionals
# $p(x_3 = 1 \mid x_1 = a, x_2 = b)$.

# %%
def conditional_from_joint(joint):
    """p(x3 = 1 | x1, x2) as a (2, 2) array, from the (2, 2, 2) joint table."""
    ### BEGIN SOLUTION
    return joint[:, :, 1] / joint.sum(axis=2)
    ### END SOLUTION


# %%
check_conditional_from_joint(conditional_from_joint)


# %% [markdown]
# **Exercise 3.** The log-likelihood, in nats, of a binary sequence `x` under a Markov chain with
# $p(x_1 = 1) = $ `p1` and transition table `T[a, b]` $= p(x_{i+1} = b \mid x_i = a)$.

# %%
def markov_log_prob(x, p1, T):
    """log p(x) in nats under the Markov chain (p1, T)."""
    ### BEGIN SOLUTION
    import math
    logp = math.log(p1 if x[0] == 1 else 1 - p1)
    for a, b in zip(x[:-1], x[1:]):
        logp += math.log(T[a, b])
    return logp
    ### END SOLUTION


# %%
check_markov_log_prob(markov_log_prob)

# %% [markdown]
# ## Summary
#
# * The chain rule is exact for any distribution and any order, and as tables it costs
#   $2^n - 1$, like the full joint.
# * Independence ($n$) underfits; the Markov assumption ($2n - 1$) and AR($k$) trade memory for
#   parameters; the full table overfits. On 4×4 digit patches AR(4) has the best test NLL.
# * The order of the variables matters for every truncated model; for the chain rule itself
#   it does not (identical train NLL in all four orders above).
# * Writing each conditional as a function instead of a table breaks the $2^k$ barrier: the
#   FVSBN models whole digits with $D(D+1)/2$ parameters, near the paper's 97.45 nats.
#   Next: NADE, which shares parameters across the conditionals.
#
# ## References
# * B. J. Frey. *Graphical models for machine learning and digital communication.* MIT Press, 1998.
# * H. Larochelle, I. Murray. *The neural autoregressive distribution estimator.* AISTATS 2011.
# * R. M. Neal. *Connectionist learning of belief networks.* Artificial Intelligence, 1992.
# * I. Goodfellow, Y. Bengio, A. Courville. *Deep Learning*, ch. 20.10.7 (autoregressive networks).
