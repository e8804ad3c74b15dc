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
# # Lecture 1 — What is a generative model, and what does it cost?
#
# **What you will learn**
#
# * what it means for a model to be *generative*: $p_\text{model}(x) \approx p_\text{data}(x)$,
#   and why fitting by maximum likelihood is minimising a KL divergence (checked to floating-point
#   precision);
# * how generative, discriminative and conditional generative models differ, and how Bayes'
#   rule goes both ways: class-conditional generative models make a classifier, and a classifier
#   plus a generative model make a conditional generative model;
# * why counts need smoothing (a pixel never seen on gets probability 0, and a test image an
#   infinite NLL), and what additive smoothing is in Bayesian terms;
# * the three things a generative model is used for: **generation**, **density estimation**
#   (and with it, outlier detection), and **representation learning** (probabilistic PCA),
#   each shown on real digits;
# * why a class-conditional generative model can label a digit *and* refuse to label an
#   impostor, through $p(x) = \sum_y p(x \mid y)\,p(y)$, while a classifier $p(y \mid x)$
#   labels everything it is shown;
# * the map of the course: explicit models with a tractable density, explicit models with an
#   approximate one, and implicit models;
# * how many numbers it takes to write a distribution down: a Bernoulli, a categorical, an RGB
#   pixel, a binary image, and why independence is cheap but useless.
#
# **Study time:** about 85 minutes of reading and 20 minutes of exercises.
#
# Everything below imports from `gm_helpers`, the tested package that sits beside these
# notebooks: what you see here is the code the tests check.

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

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.bayes import (
    REFUSED,
    conditional_from_classifier,
    label_or_refuse,
    log_evidence,
    posterior_from_generative,
)
from gm_helpers.analysis.sample_quality import logits
from gm_helpers.data import (
    binarized_test_labels,
    binary_patches,
    load_binarized_mnist,
    load_mnist_test,
)
from gm_helpers.diagrams.taxonomy import taxonomy
from gm_helpers.exercises.probability import (
    check_bernoulli_nll,
    check_full_joint_params,
    check_posterior,
)
from gm_helpers.models.ppca import fit_ppca
from gm_helpers.models.tabular import (
    FullJointTable,
    IndependentBernoulli,
    MarkovChain,
    all_binary_states,
    num_params,
    num_params_categorical,
)
from gm_helpers.training.checkpoint import load_shipped, load_shipped_samples, shipped_manifest
from gm_helpers.training.loop import get_device, seed_everything
from gm_helpers.viz import plot_param_counts, show_images
from gm_helpers.widgets.counting import param_count_explorer

seed_everything(0)
device = get_device()  # nothing in this lecture needs a GPU; later lectures train on `device`

# %% [markdown]
# ## 1. The data
#
# Our running example is **statically binarized MNIST**: 28×28 images of handwritten digits
# whose pixels are 0 or 1, fixed once and for all by Salakhutdinov & Murray (2008), split into
# 50,000 training, 10,000 validation and 10,000 test images by Larochelle & Murray (2011).
# Every likelihood in this course is measured on this test set, so our numbers can be compared
# with the papers'.

# %%
x_train = load_binarized_mnist("train")  # (50000, 1, 28, 28), float32 in {0, 1}
x_valid = load_binarized_mnist("valid")  # (10000, 1, 28, 28)
x_test = load_binarized_mnist("test")    # (10000, 1, 28, 28)
y_test = binarized_test_labels()         # (10000,) the test split is sorted by label
print(tuple(x_train.shape), tuple(x_valid.shape), tuple(x_test.shape))
print(f"fraction of pixels that are on: {x_train.mean():.4f}")

# %% jupyter={"source_hidden": true} tags=["claim-01-data-splits", "hide-input"]
assert (len(x_train), len(x_valid), len(x_test)) == (50_000, 10_000, 10_000)

# %% mystnb={"figure": {"caption": "Twenty test digits of statically binarized MNIST, drawn at random: every pixel is either off (0) or on (1), and the ragged stroke edges come from drawing each pixel once at random from its grayscale intensity.", "name": "fig-01-binarized-digits"}, "image": {"alt": "Two rows of ten white-on-black handwritten digits in pure black and white, with speckled, ragged stroke edges."}}
show_images(x_test[torch.randperm(len(x_test))[:20]], nrow=10,
            title="twenty binarized test digits")
plt.show()

# %% [markdown]
# The binary digits were drawn from the grayscale ones: each pixel is 1 with probability equal
# to its intensity. The test split is the grayscale MNIST test set sorted by label, so we can
# put each binary digit beside the grayscale digit it came from and check both halves of that
# sentence: a pixel of intensity 0 is never 1, and among the pixels of intensity near $v$ the
# fraction that are 1 is $v$.

# %% mystnb={"figure": {"caption": "Ten grayscale test digits, the first of each class 0 to 9, each followed by its binarization: full-intensity ink always stays on, while faint edge pixels come out on only some of the time, as the table above says.", "name": "fig-01-grayscale-vs-binary"}, "image": {"alt": "Two rows of white-on-black digits arranged in pairs: a smooth grayscale digit, then the same digit in pure black and white with rougher edges. The pairs show the digits 0, 1, 1, 2, 3, 4, 5, 7, 7 and 9."}}
x_gray, labels_gray = load_mnist_test()                 # (10000, 1, 28, 28) in [0, 1]
match = torch.argsort(labels_gray, stable=True)         # binarized[i] came from x_gray[match[i]]
gray = x_gray[match]                                    # (10000, 1, 28, 28), aligned with x_test
del x_gray                                              # 31 MB we no longer need
labels_line_up = bool((labels_gray[match] == y_test).all())
ones_on_blank = int(((gray == 0) & (x_test == 1)).sum())
print("labels line up:", labels_line_up)
print("binary 1s on pixels of intensity 0:", ones_on_blank)
on = gray.flatten() > 0                                 # (7840000,) pixels with some ink
bin_of = ((gray.flatten()[on] * 10).ceil().long() - 1).clamp(0, 9)  # (0.1 b, 0.1 (b+1)] -> b
pixels = torch.bincount(bin_of, minlength=10)           # (10,) pixels per bin
mean_intensity = torch.bincount(bin_of, weights=gray.flatten()[on], minlength=10) / pixels
fraction_of_ones = torch.bincount(bin_of, weights=x_test.flatten()[on], minlength=10) / pixels
print("intensity bin   pixels     mean intensity   fraction of 1s")
for b in range(10):
    print(f"  ({b / 10:.1f}, {(b + 1) / 10:.1f}]  {int(pixels[b]):9,d}      {mean_intensity[b]:.3f}"
          f"           {fraction_of_ones[b]:.3f}")
worst = (fraction_of_ones - mean_intensity).abs().max().item()
first = torch.stack([torch.nonzero(y_test == c)[0, 0] for c in range(10)])  # the first of each class
pairs = torch.stack([gray[first], x_test[first]], 1).flatten(0, 1)  # (20, 1, 28, 28)
show_images(pairs, nrow=10, title="grayscale, then its binarization (one per digit class)")
plt.show()
del gray, on, bin_of  # this notebook stays small enough for Binder

# %% jupyter={"source_hidden": true} tags=["claim-01-test-split-sorted", "claim-01-binarization", "hide-input"]
assert labels_line_up and ones_on_blank == 0 and worst < 0.01

# %% [markdown]
# In every intensity bin the fraction of 1s matches the mean intensity to within 0.01, and no
# pixel of intensity 0 became a 1: exactly what one random draw per pixel predicts. That is
# why this binarization is called *stochastic*, and *static* because it was drawn once and saved.
#
# ## 2. What is a generative model?
#
# The data are samples from an unknown distribution $p_\text{data}(x)$. A **generative model**
# is a distribution $p_\text{model}(x)$, chosen from a family $\{p_\theta\}$, that we fit so that
#
# $$p_\theta(x) \approx p_\text{data}(x).$$
#
# The usual way to fit it is **maximum likelihood**: make the observed data as probable as
# possible, or equivalently minimise the negative log-likelihood (NLL)
#
# $$\theta^\star = \arg\min_\theta \; -\frac{1}{N}\sum_{i=1}^N \log p_\theta(x^{(i)}).$$
#
# We report the NLL in **nats** (natural logarithms) per image, as the papers do: lower is better.
#
# ### Maximum likelihood is minimising $\mathrm{KL}(p_\text{data} \,\|\, p_\theta)$
#
# Let $\hat p(x)$ be the fraction of the $N$ data points equal to $x$ (the *empirical
# distribution*). Grouping equal terms of the sum,
#
# $$-\frac{1}{N}\sum_{i=1}^N \log p_\theta(x^{(i)}) = -\sum_x \hat p(x) \log p_\theta(x)
#   = \underbrace{-\sum_x \hat p(x)\log \hat p(x)}_{H(\hat p)}
#   + \underbrace{\sum_x \hat p(x) \log\frac{\hat p(x)}{p_\theta(x)}}_{\mathrm{KL}(\hat p \,\|\, p_\theta)}.$$
#
# The entropy $H(\hat p)$ does not depend on $\theta$, so the $\theta$ that minimises the NLL
# minimises $\mathrm{KL}(\hat p \,\|\, p_\theta)$, exactly, for every $N$; as $N \to \infty$,
# $\hat p \to p_\text{data}$. Since $\mathrm{KL} \ge 0$ with equality only when
# $p_\theta = \hat p$, no model at all can get an NLL below $H(\hat p)$ on these data.
#
# We can check all of this on data small enough to enumerate: 3×3 patches of training digits,
# $2^9 = 512$ possible patches. The models are tables from `gm_helpers.models.tabular` (Lecture 2
# builds them properly): independent pixels, a Markov chain over the 9 pixels, the full table
# of all 512 probabilities, and the uniform distribution. "ML" means fitted by maximum
# likelihood, which for tables is counting: each probability is a count ratio.

# %%
patches = binary_patches(x_train, 3, 20_000, seed=0).numpy()   # (20000, 9) uint8: 3x3 crops
states = all_binary_states(9)                                  # (512, 9): every possible patch
index = patches.astype(np.int64) @ (1 << np.arange(8, -1, -1))  # (20000,) state number
p_hat = np.bincount(index, minlength=512) / len(patches)       # (512,) empirical distribution
seen = p_hat > 0
entropy = -np.sum(p_hat[seen] * np.log(p_hat[seen]))           # H(p_hat)
candidates = {"uniform over 512 patches": None,
              "independent pixels (ML)": IndependentBernoulli(alpha=0.0),
              "Markov chain (ML)": MarkovChain(alpha=0.0),
              "full table, alpha = 1": FullJointTable(alpha=1.0),
              "full table (ML)": FullJointTable(alpha=0.0)}
print(f"{len(patches):,} patches, {seen.sum()} of the 512 states seen;  "
      f"H(p_hat) = {entropy:.4f} nats")
print(f"{'model':>26}  NLL on the patches   H + KL      KL(p_hat||q)   |NLL - (H + KL)|")
kl_of = {}
for name, model in candidates.items():
    log_q = np.full(512, -np.log(512)) if model is None else model.fit(patches).log_prob(states)
    nll_patches = -log_q[index].mean()                         # (1/N) sum_i -log q(x_i)
    kl_of[name] = np.sum(p_hat[seen] * (np.log(p_hat[seen]) - log_q[seen]))  # KL(p_hat || q)
    gap = abs(nll_patches - (entropy + kl_of[name]))
    print(f"{name:>26}  {nll_patches:12.6f}   {entropy + kl_of[name]:12.6f}   {kl_of[name]:10.6f}"
          f"      {gap:.1e}")
    assert gap < 1e-12

# %% jupyter={"source_hidden": true} tags=["claim-01-ml-is-min-kl", "hide-input"]
assert abs(kl_of["full table (ML)"]) < 1e-12 and min(kl_of, key=kl_of.get) == "full table (ML)"

# %% [markdown]
# The identity holds to floating-point precision for every model, and the ML full table *is*
# $\hat p$: its KL is 0 and its NLL is the entropy, the floor. Within a smaller family the ML
# fit is the member closest to $\hat p$ in KL. Here is that for the independent family, moving one
# parameter, the centre pixel's $\theta_5 = p(x_5 = 1)$, with the other eight at their ML
# values: the NLL is smallest exactly at the count ratio (the fraction of patches whose centre
# is on), and random moves of all nine parameters away from the ML fit all raise it.

# %% mystnb={"figure": {"caption": "The NLL of the 3\u00d73 patches under independent pixels as the centre pixel's $\\theta_5$ varies, the other eight held at their ML values: the minimum sits at the count ratio (dotted), and the gap down to the dashed line, the full table's NLL $H(\\hat p)$, is the price of assuming independence.", "name": "fig-01-nll-vs-theta"}, "image": {"alt": "Line plot of NLL in nats per patch against theta 5 from 0 to 1: a U-shaped curve whose lowest point, about 5.37, lies at theta 5 of about 0.29, where a vertical dotted line marks the count ratio. A horizontal dashed green line at about 3.3, far below the curve, marks the full table's NLL."}}
x_bar = patches.mean(0)                                         # (9,) count ratios = ML thetas


def independent_nll(theta):
    """Mean NLL of the patches under independent Bernoulli(theta), theta (9,):
    -sum_d [x_bar_d log theta_d + (1 - x_bar_d) log(1 - theta_d)]."""
    return -np.sum(x_bar * np.log(theta) + (1 - x_bar) * np.log1p(-theta))


grid = np.linspace(0.005, 0.995, 199)
curve = [independent_nll(np.where(np.arange(9) == 4, t, x_bar)) for t in grid]
rng = np.random.default_rng(0)
moves = [independent_nll(np.clip(x_bar + 0.02 * rng.standard_normal(9), 1e-3, 1 - 1e-3))
         for _ in range(1000)]
nll_ml = independent_nll(x_bar)
print(f"ML theta_5 = count ratio = {x_bar[4]:.4f}; "
      f"the grid's best theta_5 = {grid[np.argmin(curve)]:.3f}")
print(f"NLL at the ML fit {nll_ml:.4f}; lowest of 1000 random moves {min(moves):.4f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(grid, curve, label=r"independent pixels, $\theta_5$ varied")
ax.axvline(x_bar[4], color="k", ls=":", label=r"count ratio $n_1 / N$")
ax.axhline(entropy, color="C2", ls="--", label=r"$H(\hat p)$: the full table's NLL")
ax.set_xlabel(r"$\theta_5$ (centre pixel)")
ax.set_ylabel("NLL (nats per patch)")
ax.set_ylim(entropy - 0.2, entropy + 2.5)
ax.legend(fontsize=8)
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-01-ml-is-count-ratio", "hide-input"]
assert abs(grid[np.argmin(curve)] - x_bar[4]) <= 0.005 and min(moves) > nll_ml

# %% [markdown]
# The gap between the curve's minimum and the dashed line is the KL of the best independent
# model from $\hat p$, the price of assuming independence on these patches.
#
# ### Discriminative, generative, conditional generative
#
# | model | learns | can it make an $x$? |
# |---|---|---|
# | discriminative | $p(y \mid x)$: the label given the image | no |
# | generative | $p(x)$, or the joint $p(x, y) = p(y)\,p(x \mid y)$ | yes |
# | conditional generative | $p(x \mid y)$: an image given a label (or a text, or half an image) | yes, on demand |
#
# Bayes' rule connects them in both directions:
#
# $$p(y \mid x) = \frac{p(x \mid y)\, p(y)}{\sum_{y'} p(x \mid y')\, p(y')}
#   \qquad\text{and}\qquad
#   p(x \mid y) = \frac{p(y \mid x)\, p(x)}{p(y)}.$$
#
# The left one makes a classifier from class-conditional generative models. The right one
# makes a conditional generative model from a classifier **and** a generative model of $p(x)$;
# a classifier alone cannot generate, because $p(y \mid x)$ says nothing about which $x$ are
# likely (every $p(x)$ is consistent with the same $p(y \mid x)$).
#
# ### Generative to discriminative: a worked example
#
# Take one feature, the pixel at the centre of the image (row 14, column 14), and ask: *if
# that pixel is on, which digit is it?* The binarized training split has no labels, so we use
# the labelled test split: half of it (chosen at random) is our "training" half for this
# example. We read off the prior $p(y)$ and the likelihood $p(\text{centre on} \mid y)$ by
# counting: each is a count ratio, the maximum-likelihood estimate.

# %%
perm = torch.randperm(len(x_test))
fit_idx, eval_idx = perm[:5000], perm[5000:]
centre_on = x_test[fit_idx, 0, 14, 14]                  # (5000,) the feature x
y_fit = y_test[fit_idx]
prior = torch.bincount(y_fit, minlength=10) / len(y_fit)                # p(y)
likelihood = torch.stack([centre_on[y_fit == c].mean() for c in range(10)])  # p(x=1 | y)
evidence = (prior * likelihood).sum()                                     # p(x=1)
posterior = prior * likelihood / evidence                                 # p(y | x=1)
print("digit   p(y)  p(on|y)  p(y)p(on|y)  p(y|on)")
for c in range(10):
    print(f"{c:5d}  {prior[c]:.3f}   {likelihood[c]:.3f}      {prior[c] * likelihood[c]:.4f}   "
          f"{posterior[c]:.3f}")
print(f"p(x=1) = {evidence:.4f};  the posterior sums to {posterior.sum():.3f}")

# %% jupyter={"source_hidden": true} tags=["claim-01-bayes-centre-pixel", "hide-input"]
assert posterior[0] < 0.01 and (posterior[[1, 8]] > 1.5 * prior[[1, 8]]).all()

# %% [markdown]
# A centre pixel that is on makes a **0 very unlikely** (zeros have a hole there; the
# posterior is below 1 %) and a 1 or an 8 more than 1.5 times as likely as the prior says.
#
# **Exercise 1 (Bayes' rule).** Write the step the table above takes from its columns `p(y)`
# and `p(on|y)` to `p(y|on)`, for any number of classes: given the prior $p(y)$ and the
# likelihood $p(x \mid y)$ of one observed $x$ for each of the $K$ classes, return the posterior
# $p(y \mid x)$.
#
# * `prior`, `likelihood`: NumPy arrays of shape (K,), float64 (the prior sums to 1);
# * return: the posterior, shape (K,): a NumPy array or a torch tensor, float32 or float64.
#
# Write the body of each exercise's function, then run the checker below it. A checker tries
# your function on several inputs and, when it disagrees, tells you which common mistake fits.

# %%
def posterior(prior, likelihood):
    """p(y | x) for each class y, from p(y) and p(x | y) (arrays of the same shape)."""
    ### BEGIN SOLUTION
    joint = prior * likelihood
    return joint / joint.sum()
    ### END SOLUTION


# %%
check_posterior(posterior)

# %% [markdown]
# One pixel is weak evidence; the same rule with all 784 pixels is a real classifier. If we
# assume the pixels independent *given the class* (the "naive Bayes" generative model,
# $p(x \mid y) = \prod_d p(x_d \mid y)$, one Bernoulli $\theta_{d,y}$ per pixel and class), then
#
# $$\log p(y \mid x) = \log p(y) + \sum_d \log p(x_d \mid y) - \log p(x).$$
#
# ### Why counts need smoothing
#
# The maximum-likelihood estimate of each $\theta_{d,y}$ is again a count ratio,
# $\theta_{d,y} = n_{d,y} / n_y$: the fraction of the $n_y \approx 500$ fitting images of class $y$
# in which pixel $d$ is on. A pixel that is never on in those images gets $\theta_{d,y} = 0$,
# and then *any* image with that pixel on has $p(x \mid y) = 0$: log-probability $-\infty$,
# an infinite NLL, however much the rest of the image looks like a $y$. With about 500 images
# per class, between 270 and 439 of the 784 pixels of each class are never on (below).
#
# **Additive (Laplace) smoothing** adds $\alpha$ pseudo-counts to each outcome,
#
# $$\theta_{d,y} = \frac{n_{d,y} + \alpha}{n_y + 2\alpha},$$
#
# as if every pixel had been seen on $\alpha$ times and off $\alpha$ times more. It is a Bayesian
# estimate: with a $\mathrm{Beta}(a, b)$ prior on $\theta$, the posterior after $n_1$ ones in $n$
# is $\mathrm{Beta}(n_1 + a, n - n_1 + b)$, whose mean is $(n_1 + a)/(n + a + b)$ and whose mode
# (the MAP estimate) is $(n_1 + a - 1)/(n + a + b - 2)$. So the smoothed $\theta$ is the
# **posterior mean** under a $\mathrm{Beta}(\alpha, \alpha)$ prior and the **MAP estimate** under
# $\mathrm{Beta}(\alpha + 1, \alpha + 1)$; $\alpha = 1$ is the posterior mean under the uniform
# prior (Laplace's rule of succession). For a categorical over $m$ values the same holds with
# $(n_k + \alpha)/(n + m\alpha)$ and a Dirichlet prior. It is *not* maximum likelihood: it
# trades a little fit to the counts for never assigning probability 0.
# (`tests/models/test_tabular.py` checks all of these statements numerically.) Here $\alpha = 1$ is
# a fixed choice, not a tuned one; Lecture 2 chooses $\alpha$ on held-out data.

# %%
x_fit, x_eval = x_test[fit_idx].flatten(1), x_test[eval_idx].flatten(1)   # (5000, 784) each
y_eval = y_test[eval_idx]


def class_models(alpha):
    """Ten independent-pixel models p(x | y), one per class; log p(x | y) of x_eval, (5000, 10)."""
    models = [IndependentBernoulli(alpha).fit(x_fit[y_fit == c].numpy()) for c in range(10)]
    log_lik = torch.stack([torch.from_numpy(m.log_prob(x_eval.numpy())) for m in models], 1)
    return models, log_lik


results = {}
for alpha in (0.0, 1.0):
    models, log_lik = class_models(alpha)
    log_posterior = posterior_from_generative(log_lik, prior.log())  # (5000, 10) Bayes' rule
    defined = ~log_posterior.isnan().any(1)             # p(x) = 0 makes p(y | x) = 0/0
    results[alpha] = {
        "zeros": [int((np.concatenate(m.theta) == 0).sum()) for m in models],  # per class
        "some": torch.isinf(log_lik).any(1).float().mean().item(),
        "every": (~defined).float().mean().item(),
        "nll": -log_lik[torch.arange(5000), y_eval].mean().item(),
        "accuracy": ((log_posterior.argmax(1) == y_eval) & defined).float().mean().item()}
r0, r1 = results[0.0], results[1.0]  # `models` now holds the alpha = 1 models
print(f"{'':>48}alpha = 0 (ML)   alpha = 1")
print(f"{'parameters theta_dy = 0 (of 7,840)':>48}{sum(r0['zeros']):10,d}   "
      f"{sum(r1['zeros']):10,d}")
print(f"{'... per class, fewest and most':>48}{min(r0['zeros']):5d} {max(r0['zeros']):4d}   "
      f"{min(r1['zeros']):5d} {max(r1['zeros']):4d}")
print(f"{'held-out digits with p(x | y) = 0 for some y':>48}{r0['some']:10.1%}   "
      f"{r1['some']:10.1%}")
print(f"{'... for every y (p(y | x) undefined)':>48}{r0['every']:10.1%}   {r1['every']:10.1%}")
print(f"{'mean NLL -log p(x | its own y), nats':>48}{r0['nll']:10.1f}   {r1['nll']:10.1f}")
print(f"{'accuracy (undefined counted wrong)':>48}{r0['accuracy']:10.1%}   {r1['accuracy']:10.1%}")
accuracy = r1["accuracy"]

# %% jupyter={"source_hidden": true} tags=["claim-01-smoothing-naive-bayes", "claim-01-naive-bayes-accuracy", "hide-input"]
assert r0["nll"] == np.inf and 0.985 <= r0["some"] < 0.995 and round(r0["every"], 3) == 0.008
assert (min(r0["zeros"]), max(r0["zeros"])) == (270, 439)
assert sum(r1["zeros"]) == 0 and r1["some"] == 0 and round(r0["accuracy"], 3) == 0.825
assert 0.825 <= accuracy < 0.835

# %% [markdown]
# Without smoothing, 99 % of the held-out digits have probability 0 under at least one class,
# and the mean NLL of the held-out digits under their own class is infinite (one zero is
# enough); for 0.8 % of them every class gives 0, so Bayes' rule divides 0 by 0. The decisions
# suffer less than the probabilities (82.5 % correct, counting the undefined ones as wrong).
# With $\alpha = 1$ every probability is positive, and the ten generative models classify
# **83 %** of the held-out digits correctly without ever fitting $p(y \mid x)$ directly: we
# fitted ten *generative* models, one per class, and let Bayes' rule do the rest.
#
# The same class-conditional models are **conditional generative** models: ask each for samples
# of its own digit. To judge the samples with more than our eyes we use the course's digit
# classifier (a small CNN, `gm_helpers.models.classifier`, 98.2 % accurate on digits it never
# saw) on 100 samples per class, and count how often it names the class each sample was drawn
# for.

# %% mystnb={"figure": {"caption": "Eight samples from each class-conditional independent-pixel model, one row per class $y = 0, \\dots, 9$: each row puts its ink where its digit usually has ink, but with every pixel drawn on its own no strokes form, and the classifier recognises only 47 % of them.", "name": "fig-01-class-conditional-samples"}, "image": {"alt": "A grid of 10 rows by 8 columns of speckled white-on-black images. Each row is a noisy cloud of dots roughly in the shape of one digit, 0 in the top row through 9 in the bottom row, with no connected strokes."}}
classifier, classifier_entry = load_shipped("digit_classifier.pt")   # p(y | x), a CNN
samples = torch.cat([torch.from_numpy(m.sample(100, seed=c)) for c, m in enumerate(models)])
samples = samples.float().view(-1, 1, 28, 28)           # (1000, 1, 28, 28), 100 per class
named = logits(classifier, samples, batch_size=200).argmax(1).view(10, 100)  # its label
recognised = (named == torch.arange(10)[:, None]).float().mean(1)  # (10,) per class
print("classifier held-out accuracy (manifest):", classifier_entry["held_out_accuracy"])
print("fraction of the samples of p(x | y) that the classifier labels y:",
      " ".join(f"{c}: {r:.2f}" for c, r in enumerate(recognised.tolist())))
print(f"overall: {recognised.mean():.1%}")
show_images(samples.view(10, 100, 1, 28, 28)[:, :8].flatten(0, 1), nrow=8,
            title="samples from p(x | y), one row per class y = 0..9")
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-01-class-conditional-samples", "hide-input"]
assert classifier_entry["held_out_accuracy"] == 0.982
assert round(recognised.mean().item(), 2) == 0.47
assert round(recognised.min().item(), 2) == 0.15 and recognised.max() == 1

# %% [markdown]
# Each row puts its ink where its class usually has ink, yet none looks like handwriting: with
# the pixels independent, no pixel knows what its neighbours did. The classifier names the
# intended class for 47 % of the 1,000 samples, from 15 % of the 9s to all of the 8s. Better
# models of $p(x \mid y)$ are what the rest of the course is about.
#
# ### Discriminative plus generative to conditional generative
#
# Now the other direction, $p(x \mid y) \propto p(y \mid x)\,p(x)$. For $p(x)$ we take an
# autoregressive model of Lecture 4, the Gated PixelCNN (1,000 of its samples, drawn once and
# shipped with the course: one pixel at a time, 784 network passes per sample, which
# Lecture 4's cached sampler does in seconds and its plain one in hours); for $p(y \mid x)$ the
# classifier. We
# cannot evaluate $p(x \mid y)$ for an image, but we can sample it by **self-normalised
# importance resampling**: give each sample $x_i \sim p(x)$ the weight
# $w_i = p(y \mid x_i)$, proportional to $p(x_i \mid y) / p(x_i)$, and redraw from the
# samples with probabilities $w_i / \sum_j w_j$. As the number of samples grows, the redrawn
# images follow $p(x \mid y)$ exactly. With 1,000 samples, the **effective sample size**
# $\mathrm{ESS} = (\sum_i w_i)^2 / \sum_i w_i^2$ says how many independent draws of
# $p(x \mid y)$ the weighted set is worth, and the average weight
# $\frac{1}{N}\sum_i p(y \mid x_i)$ estimates $p(y) = \mathbb E_{p(x)}[p(y \mid x)]$, how often
# the PixelCNN draws a $y$ (as the classifier judges).

# %% mystnb={"figure": {"caption": "Gated PixelCNN samples redrawn with weights $p(y \\mid x)$, eight draws of $p(x \\mid y)$ per row for $y = 0, \\dots, 9$: in most rows most draws show the row's digit in the PixelCNN's shaky hand; the others are samples the classifier gives only some probability of being a $y$.", "name": "fig-01-resampled-pixelcnn"}, "image": {"alt": "A grid of 10 rows by 8 columns of white-on-black handwritten-looking digits, one row per class from 0 at the top to 9 at the bottom. Most images in a row show that row's digit with wobbly strokes; a few are broken or ambiguous shapes."}}
x_model = load_shipped_samples("gated_pixelcnn_samples.pt")    # (1000, 1, 28, 28), x_i ~ p(x)
print(f"{len(x_model)} samples of the Gated PixelCNN")
log_p_y_given_x = logits(classifier, x_model, batch_size=200).log_softmax(1)  # (1000, 10)
label = log_p_y_given_x.argmax(1)                              # (1000,) the classifier's label
g = torch.Generator().manual_seed(0)
print("  y   p(y) est.  labelled y: before   after resampling    ESS   distinct of 1000 draws")
shown, after, ess = [], [], []
for y in range(10):
    out = conditional_from_classifier(log_p_y_given_x, y, 1000, generator=g)
    after.append((label[out["indices"]] == y).float().mean().item())
    ess.append(out["ess"])
    shown.append(x_model[out["indices"][:8]])           # (8, 1, 28, 28) draws of p(x | y)
    print(f"{y:3d}    {out['p_y']:.3f}          {(label == y).float().mean():5.1%}       "
          f"{after[-1]:6.1%}        {out['ess']:6.1f}   {out['distinct']:5d}")
before = torch.bincount(label, minlength=10) / len(label)
show_images(torch.cat(shown), nrow=8,
            title="Gated PixelCNN samples resampled by p(y | x): draws of p(x | y), y = 0..9")
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-01-classifier-to-conditional", "hide-input"]
samples_entry = shipped_manifest()["gated_pixelcnn_samples.pt"]       # drawn by the cached sampler
assert samples_entry["sampler"] == "cached" and samples_entry["wall_time_s"] < 60
assert (round(before.min().item(), 3), round(before.max().item(), 3)) == (0.039, 0.198)
assert before.argmin() == 0 and before.argmax() == 9                 # zeros and nines
assert (round(min(after), 3), round(max(after), 3)) == (0.744, 0.936)
assert all(a > b + 0.5 for a, b in zip(after, before.tolist())) and min(ess) < 70

# %% [markdown]
# Before resampling, the classifier gives each label to between 3.9 % (zeros) and 19.8 %
# (nines) of the 1,000 PixelCNN samples: the PixelCNN does not draw the ten digits equally
# often. After resampling towards class $y$, between 74.4 % and 93.6 % of the draws carry
# label $y$, and in most rows of the figure most draws show their digit, in the PixelCNN's own
# shaky hand. The rest are samples whose most likely label is another class but which the
# classifier still gives some probability of being a $y$: each such weight is small, but there
# are many of them. This check uses the same classifier that made the weights, so it confirms
# the resampling, not the classifier. The ESS column is the honest limit: resampling cannot
# create new images, and for a class the PixelCNN rarely draws, the weighted set is worth only a
# few dozen independent draws. More samples of $p(x)$, or a better $p(y \mid x)$, give better
# draws of $p(x \mid y)$.
#
# ## 3. What generative models are for
#
# ### (a) Generation
# Sample $x \sim p_\theta$ to make new data: above, and with far better models in Lectures 3–6.
#
# ### (b) Density estimation, and outlier detection
# A model that assigns a probability to every $x$ can tell typical data from strange data:
# strange $x$ get a high NLL. Here the simplest model of all, independent pixels fitted to
# the 50,000 training digits, scores test digits against four kinds of impostor. We fit it with
# $\alpha = 1$, for the reason above: 97 pixels, all within 3 pixels of the edge, are never on
# in the 50,000 training digits, and 5 test digits have one of them on, so the ML fit would
# give those 5 an infinite NLL.

# %%
x_train_bits = x_train.flatten(1).byte().numpy()        # (50000, 784) uint8
ml_fit = IndependentBernoulli(alpha=0.0).fit(x_train_bits)           # theta_d = n_d / N
independent = IndependentBernoulli(alpha=1.0).fit(x_train_bits)      # (n_d + 1) / (N + 2)
theta_ml, theta_smooth = np.concatenate(ml_fit.theta), np.concatenate(independent.theta)  # (784,)
never_on = int((theta_ml == 0).sum())
rows, cols = np.nonzero(theta_ml.reshape(28, 28) == 0)
to_edge = np.minimum.reduce([rows, cols, 27 - rows, 27 - cols])  # pixels between it and the edge
infinite = int(np.isinf(ml_fit.log_prob(x_test.flatten(1).byte().numpy())).sum())
shift = np.abs(theta_smooth - theta_ml).max()
print(f"pixels never on in training: {never_on}, all within {to_edge.max() + 1} pixels of the edge")
print(f"test digits with infinite NLL under ML: {infinite}")
print(f"largest change of a theta by smoothing: {shift:.2e} <= 1 / (N + 2) = {1 / 50002:.2e}")
del x_train_bits, ml_fit  # keep the notebook's memory small


def nll(x):
    """NLL in nats of each image in x (B, 1, 28, 28) under the independent model (alpha = 1)."""
    return -independent.log_prob(x.flatten(1).byte().numpy())  # (B,)


# %% jupyter={"source_hidden": true} tags=["claim-01-smoothing-independent", "hide-input"]
assert never_on == 97 and to_edge.max() == 2 and infinite == 5 and shift <= 1 / 50002 + 1e-15

# %%
g = torch.Generator().manual_seed(0)
x_some = x_test[eval_idx[:2000]]      # (2000, 1, 28, 28) held-out: section 2's models never saw them
flip = torch.rand(x_some.shape, generator=g) < 0.1
impostors = {
    "noise (same ink)": (torch.rand(x_some.shape, generator=g) < x_train.mean()).float(),
    "10% pixels flipped": torch.where(flip, 1 - x_some, x_some),
    "shifted 5 px right": torch.roll(x_some, 5, dims=3),
    "upside down": torch.flip(x_some, dims=[2]),
}
threshold = np.quantile(nll(x_valid), 0.99)  # flag anything less likely than 99% of valid digits
flagged = {name: (nll(x) > threshold).mean() for name, x in impostors.items()}
print(f"threshold: {threshold:.1f} nats (99th percentile of validation NLL)")
print(f"{'test digits':>20}: mean NLL {nll(x_test).mean():6.1f}, flagged "
      f"{(nll(x_test) > threshold).mean():6.1%}")
for name, x in impostors.items():
    print(f"{name:>20}: mean NLL {nll(x).mean():6.1f}, flagged {flagged[name]:6.1%}")

# %% jupyter={"source_hidden": true} tags=["claim-01-outliers", "hide-input"]
assert flagged["noise (same ink)"] == 1 and flagged["10% pixels flipped"] == 1
assert 1 / 3 < flagged["shifted 5 px right"] < 1 / 2
assert min(flagged, key=flagged.get) == "upside down"

# %% mystnb={"figure": {"caption": "The NLL under independent pixels of test digits and of four kinds of impostor, with the threshold that keeps 99 % of real digits (dotted): noise and flipped-pixel digits lie far to the right, shifted digits straddle the threshold, and upside-down digits overlap the real ones almost entirely.", "name": "fig-01-outlier-histograms"}, "image": {"alt": "Overlapping histograms of NLL in nats from 0 to 900. Test digits peak near 200 and upside-down digits just beside them; shifted digits spread from about 200 to 500; digits with 10 % of pixels flipped peak near 550 and noise images near 600. A dotted vertical line near 340 marks the 99 % threshold."}}
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(0, 900, 90)
ax.hist(nll(x_test), bins, alpha=0.7, label="test digits", density=True)
for name, x in impostors.items():
    ax.hist(nll(x), bins, alpha=0.5, label=name, density=True, histtype="stepfilled")
ax.axvline(threshold, color="k", ls=":", label="99% threshold")
ax.set_xlabel("NLL under the independent model (nats)")
ax.set_ylabel("density")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Even this crude model flags every noise image and every digit with 10 % of its pixels
# flipped, and over a third of the shifted digits. The upside-down digits get through most
# often. The reason is in the model: it knows only where ink usually is. How much does that map
# change when it is turned over, and how much does turning a digit over change its NLL?

# %%
theta_map = theta_smooth.reshape(28, 28)
symmetry = np.corrcoef(theta_map.ravel(), theta_map[::-1].ravel())[0, 1]
raise_nll = (nll(impostors["upside down"]) - nll(x_some)).mean()
print(f"correlation of the ink map theta with its upside-down image: {symmetry:.2f}")
print(f"turning a digit upside down raises its NLL by {raise_nll:.1f} nats on average "
      f"(test digits' NLLs have standard deviation {nll(x_test).std():.1f})")

# %% jupyter={"source_hidden": true} tags=["claim-01-upside-down", "hide-input"]
assert round(symmetry, 2) == 0.91 and raise_nll < nll(x_test).std() / 3 and round(raise_nll) == 15

# %% [markdown]
# The ink map is nearly symmetric top to bottom (correlation 0.91 with its own upside-down
# image), so turning a digit over raises its NLL by about 15 nats on average, less than a third of
# the spread of the test digits' own NLLs: most upside-down digits stay below the threshold.
#
# ### Label, or refuse to: one generative model does both
#
# Section 2's ten class models $p(x \mid y)$ and the prior $p(y)$ made a classifier by Bayes'
# rule. The denominator of that rule is itself a density of the image, a mixture of the ten
# class models:
#
# $$p(x) = \sum_{y=0}^{9} p(x \mid y)\, p(y).$$
#
# So the same generative model can do two things with a new image: **label** it,
# $\arg\max_y p(y \mid x)$, and **refuse** to label it when $p(x)$ is too small for a digit,
# with the same kind of threshold as above: the 99th percentile of $-\log p(x)$ on the
# validation digits. A discriminative classifier learns only $p(y \mid x)$; its ten
# probabilities sum to 1 for *any* input, noise included, so it has no "none of these". The
# rule, from `gm_helpers/analysis/bayes.py`:

# %%
print(inspect.getsource(label_or_refuse))

# %% [markdown]
# We ask the generative model about the 5,000 held-out test digits of section 2 (the class
# models never saw them), then both models about the validation digits, which neither saw,
# and about the four kinds of impostor above, made from 2,000 of those held-out test digits.
# The classifier answers with its label and its confidence, the largest of its ten
# probabilities. To be fair to it we also try the usual patch, refusing whenever that
# confidence falls below its 1st percentile on the validation digits, which refuses the same
# 1 % of real digits as the generative model's threshold.

# %%
log_prior = prior.log()                                   # (10,) log p(y) from section 2


def class_log_lik(x):
    """log p(x | y) under section 2's ten class models (alpha = 1): (B, 1, 28, 28) -> (B, 10)."""
    bits = x.flatten(1).byte().numpy()                    # (B, 784)
    return torch.stack([torch.from_numpy(m.log_prob(bits)) for m in models], 1)


def confidence(x):
    """The classifier's max_y p(y | x): (B, 1, 28, 28) -> (B,)."""
    return logits(classifier, x, batch_size=500).softmax(1).max(1).values


max_nll = float(np.quantile(-log_evidence(class_log_lik(x_valid), log_prior), 0.99))
min_confidence = float(confidence(x_valid).quantile(0.01))
log_lik_held_out = class_log_lik(x_test[eval_idx])         # (5000, 10)
kept = label_or_refuse(log_lik_held_out, log_prior, max_nll)["label"] != REFUSED
bayes_label = posterior_from_generative(log_lik_held_out, log_prior).argmax(1)
right = bayes_label == y_eval                              # what Bayes' rule alone would say
print(f"threshold: -log p(x) > {max_nll:.1f} nats; classifier confidence < {min_confidence:.2f}")
print(f"5,000 held-out test digits: kept {kept.float().mean():.1%}, refused {(~kept).sum()};"
      f" accuracy on the kept {right[kept].float().mean():.1%}, on the refused (had we labelled"
      f" them) {right[~kept].float().mean():.0%}")
print(f"{'':>20}  {'generative p(x|y)p(y)':>22}  {'classifier p(y|x)':^38}")
print(f"{'':>20}  {'refused':>22}  {'median confidence':>18} {'> 0.9':>7} {'refused':>10}")
refused, sure = {}, {}
for name, x in {"validation digits": x_valid, **impostors}.items():
    out, conf = label_or_refuse(class_log_lik(x), log_prior, max_nll), confidence(x)
    refused[name] = ((out["label"] == REFUSED).float().mean().item(),
                     (conf < min_confidence).float().mean().item())
    sure[name] = (conf.median().item(), (conf > 0.9).float().mean().item())
    print(f"{name:>20}  {refused[name][0]:22.1%}  {sure[name][0]:18.2f} {sure[name][1]:7.0%}"
          f" {refused[name][1]:10.1%}")

# %% jupyter={"source_hidden": true} tags=["claim-01-label-or-refuse", "hide-input"]
assert 0.99 < kept.float().mean() < 0.997 and 0.83 < right[kept].float().mean() < 0.84
assert right[~kept].float().mean() < 0.5
assert refused["noise (same ink)"][0] == 1 and refused["10% pixels flipped"][0] == 1
assert 0.5 < refused["shifted 5 px right"][0] < 0.6 and refused["upside down"][0] < 0.05
assert all(sure[name][1] > 0.5 for name in ("shifted 5 px right", "upside down"))
assert 0.4 < refused["noise (same ink)"][1] < 0.6
assert all(refused[name][1] < 0.2 for name in ("10% pixels flipped", "shifted 5 px right", "upside down"))
assert (round(kept.float().mean().item(), 3), round(right[kept].float().mean().item(), 3)) == (0.994, 0.835)
assert round(right.float().mean().item(), 3) == round(accuracy, 3) == 0.833
assert refused["upside down"][1] > refused["upside down"][0]

# %% [markdown]
# On real digits refusing costs little: 99.4 % of the held-out digits are kept and 83.5 % of
# those are labelled right, a little better than all 5,000 (83.3 %, section 2); the few
# refused are odd digits that Bayes' rule would have labelled right less than half the time. On impostors the two models part ways. The
# generative model refuses every noise image and every flipped-pixel digit, and about half of
# the shifted digits. The classifier labels every impostor, because it must, and is often sure
# of itself: its median confidence on shifted and upside-down digits is above 0.9. Its
# confidence, used as a refusal score, catches about half of the noise and fewer than one in
# five of the other impostors. Neither is a complete detector: upside-down digits fool the
# generative model more than the classifier's confidence, because the class models know only
# where each digit's ink usually is, and a 0, a 1 or an 8 turned over puts it in much the same
# places. A better $p(x \mid y)$ would refuse more; the classifier has no $p(x)$ to improve.
# Three impostors of each kind, the first in the set, with both models' verdicts:

# %% mystnb={"figure": {"caption": "The first three impostors of each kind with both models' verdicts: the generative model refuses every noise and flipped-pixel image, while the classifier must label every image and is often confident even on noise-corrupted ones.", "name": "fig-01-impostor-verdicts"}, "image": {"alt": "A grid of 4 rows by 3 columns of black-and-white images, each titled with two verdicts. Row 1, noise: scattered white pixels; the generative model refuses all three, the classifier says 2, 2 and 5 with confidence 0.86, 0.93 and 0.49. Row 2, digits with 10 % of pixels flipped: all refused; the classifier says 2, 4 and 1. Row 3, digits shifted 5 pixels right: the generative model says 4, refuses, says 4; the classifier says 1, 4 and 4. Row 4, upside-down digits: the generative model says 3, 6 and 1; the classifier says 8, 4 and 1."}}
fig, axes = plt.subplots(4, 3, figsize=(6.6, 8.8))
for row, (name, x) in zip(axes, impostors.items()):
    out = label_or_refuse(class_log_lik(x[:3]), log_prior, max_nll)
    p_y = logits(classifier, x[:3]).softmax(1)             # (3, 10)
    for i, ax in enumerate(row):
        verdict = "refuses" if out["label"][i] == REFUSED else f"says {out['label'][i].item()}"
        ax.imshow(x[i, 0].numpy(), cmap="gray")
        ax.set_title(f"generative: {verdict}\nclassifier: {p_y[i].argmax().item()} "
                     f"({p_y[i].max():.2f})", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, fontsize=9)
fig.tight_layout()
plt.show()

# %% [markdown]
# (A word of caution for later: deep generative models can give *higher* likelihood to
# some out-of-distribution data; Nalisnick et al. 2019, "Do deep generative models know what
# they don't know?".)
#
# ### (c) Representation learning: probabilistic PCA
# A model with a latent variable $z$ explains each $x$ by a few numbers. The simplest is
# **probabilistic PCA** (Tipping & Bishop 1999):
#
# $$z \sim \mathcal N(0, I_q), \qquad x \mid z \sim \mathcal N(W z + \mu,\; \sigma^2 I_d),
#   \qquad\text{so}\qquad x \sim \mathcal N(\mu,\; W W^\top + \sigma^2 I_d).$$
#
# Its maximum-likelihood fit has a closed form. With $\lambda_1 \ge \dots \ge \lambda_d$ the
# eigenvalues of the sample covariance and $U_q$ the top $q$ eigenvectors:
#
# $$\sigma^2 = \frac{1}{d - q}\sum_{j > q} \lambda_j \quad\text{(the variance left over)},\qquad
#   W = U_q\,(\Lambda_q - \sigma^2 I)^{1/2},$$
#
# and the code of an image is the posterior mean
#
# $$\mathbb E[z \mid x] = M^{-1} W^\top (x - \mu), \qquad M = W^\top W + \sigma^2 I_q,$$
#
# which here equals the PCA projection $U_q^\top (x - \mu)$ with coordinate $j$ scaled by
# $(\lambda_j - \sigma^2)^{1/2} / \lambda_j$. `gm_helpers/models/ppca.py` implements this;
# `tests/models/test_ppca.py` checks $\sigma^2$, that the closed form beats every perturbed $W$,
# $\sigma^2$ and $\mu$, and $\mathbb E[z \mid x]$ against brute-force Gaussian conditioning.
# We fit $q = 20$ on the first 10,000 training images **without labels**.

# %%
x_flat = x_train[:10000].flatten(1)                     # (10000, 784)
ppca = fit_ppca(x_flat, q=20)                           # mu (784,), W (784, 20), sigma2
lam, d, q = ppca.eigenvalues, ppca.d, ppca.q
print(f"top eigenvalues {lam[0]:.3f} ... {lam[q - 1]:.3f};  sigma^2 = {ppca.sigma2:.4f}, "
      f"the mean of the other {d - q}")
# at the ML solution the mean log-likelihood has a closed form (Tipping & Bishop 1999):
#   -1/2 (d log 2 pi + sum_{j <= q} log lambda_j + (d - q) log sigma^2 + d)
closed_form = -0.5 * (d * np.log(2 * np.pi) + lam[:q].log().sum().item()
                      + (d - q) * np.log(ppca.sigma2) + d)
train_ll = ppca.log_prob(x_flat).mean().item()             # a pass over the 10,000 images


def mean_log_lik(a, b):
    """(1/N) log-likelihood of the training images with W -> a W and sigma^2 -> b sigma^2.
    It depends on the data only through S: -1/2 [d log 2 pi + log|C| + tr(C^{-1} S)], and in
    the eigenbasis of S the covariance C is diagonal, with eigenvalues c_j."""
    c = torch.full((d,), b * ppca.sigma2, dtype=torch.float64)  # (d,) sigma^2 in every direction
    c[:q] += a**2 * (lam[:q] - ppca.sigma2)                    # plus W W^T in the top q
    return -0.5 * (d * np.log(2 * np.pi) + c.log().sum() + (lam / c).sum()).item()


print(f"mean training log-likelihood: {train_ll:.4f} from the images, "
      f"{mean_log_lik(1, 1):.4f} from S, {closed_form:.4f} from the closed form")
scales = np.round(np.linspace(0.5, 1.5, 21), 2)
surface = np.array([[mean_log_lik(a, b) for b in scales] for a in scales])  # (21, 21)
best_a, best_b = np.unravel_index(surface.argmax(), surface.shape)
print(f"over W x a and sigma^2 x b for a, b in 0.50, 0.55, ..., 1.50 the best is "
      f"a = {scales[best_a]}, b = {scales[best_b]};  at a = 1.1: {mean_log_lik(1.1, 1):.3f}, "
      f"at b = 1.1: {mean_log_lik(1, 1.1):.3f}")
test_ll = ppca.log_prob(x_test.flatten(1)).mean().item()
print(f"test log-density per image: {test_ll:.1f} nats")

# %% jupyter={"source_hidden": true} tags=["claim-01-ppca-ml", "hide-input"]
assert abs(train_ll - closed_form) < 1e-6 * abs(closed_form)
assert abs(mean_log_lik(1, 1) - closed_form) < 1e-9 * abs(closed_form)
assert (scales[best_a], scales[best_b]) == (1.0, 1.0)
assert test_ll > 0

# %% [markdown]
# The fitted model is a maximum of the likelihood: the log-likelihood computed image by image
# matches the closed form, and over a grid of scalings of $W$ and $\sigma^2$ (from half to one
# and a half times) the best is the fitted model itself. Note the sign of the test number: a
# *positive* log-likelihood. pPCA is a density on $\mathbb R^{784}$, and a density can exceed 1; it is not the probability of a binary image, so it cannot be compared
# with the NLLs in nats of the binary models in this course. pPCA is a generative model, too:
# here are the means $Wz + \mu$ of $p(x \mid z)$ for a few $z \sim \mathcal N(0, I)$, and the
# test digits laid out by the first two coordinates of their codes.

# %% mystnb={"figure": {"caption": "Left: the pPCA means $Wz + \\mu$ for sixteen draws $z \\sim \\mathcal N(0, I)$, blurred digit-like shapes. Right: test digits placed by the first two coordinates of their codes $\\mathbb E[z \\mid x]$ and coloured by a label the fit never saw: the digits already group, 1s on the right and 0s on the left.", "name": "fig-01-ppca"}, "image": {"alt": "Left: a 4 by 4 grid of blurry grey digit-like blobs. Right: a scatter plot of test digits by their first two latent coordinates, coloured by digit 0 to 9. The 1s form a tight cluster on the right, the 0s spread to the left, 7s and 9s sit at the bottom, and the other digits overlap in the middle."}}
means = ppca.sample(16, generator=torch.Generator().manual_seed(0), noise=False)  # (16, 784)
z_test = ppca.posterior_mean(x_test.flatten(1)).float()  # (10000, 20) codes E[z | x]
fig, (ax_samples, ax_codes) = plt.subplots(1, 2, figsize=(11, 4.5),
                                           gridspec_kw={"width_ratios": [1, 1.2]})
show_images(means.clamp(0, 1), nrow=4, ax=ax_samples, title="pPCA: W z + mu for z ~ N(0, I)")
points = ax_codes.scatter(z_test[::4, 0], z_test[::4, 1], c=y_test[::4], cmap="tab10", s=4)
ax_codes.set_xlabel("$E[z_1 | x]$")
ax_codes.set_ylabel("$E[z_2 | x]$")
ax_codes.set_title("test digits in the first two latent dimensions")
fig.colorbar(points, ax=ax_codes, label="digit (not used in fitting)")
plt.show()


# %%
def nearest_neighbour_accuracy(features):
    """1-NN: label each held-out test digit by its nearest neighbour in the other half."""
    queries = eval_idx[:2000]
    dist = torch.cdist(features[queries], features[fit_idx])  # (2000, 5000) distances
    return (y_test[fit_idx][dist.argmin(1)] == y_test[queries]).float().mean().item()


acc_pixels = nearest_neighbour_accuracy(x_test.flatten(1))
acc_codes = nearest_neighbour_accuracy(z_test)
print(f"1-NN accuracy on raw pixels (784 numbers): {acc_pixels:.3f}")
print(f"1-NN accuracy on pPCA codes ( 20 numbers): {acc_codes:.3f}")

# %% jupyter={"source_hidden": true} tags=["claim-01-ppca-codes-1nn", "hide-input"]
assert acc_codes > acc_pixels

# %% [markdown]
# The means are blurred digit-like shapes (a linear model of 20 directions cannot make sharp
# strokes), and the codes group the digits: twenty numbers learned without a single label
# classify better than the 784 raw pixels with one nearest neighbour (the accuracies above,
# on 2,000 held-out digits). The VAE of Lecture 5 is a non-linear version of this model:
# a neural network in place of $Wz + \mu$ (and, for binary pixels, Bernoulli outputs in place
# of Gaussian noise).
#
# ## 4. A map of the course: explicit and implicit models
#
# Generative models differ in what they let us compute, and that decides how they are trained
# and how they are scored. The map below sorts them by how they handle the likelihood
# $p_\theta(x)$ (after Goodfellow's 2016 tutorial on GANs); the table after it says what each
# kind computes, how it is trained and scored, and where this course meets it.

# %% mystnb={"figure": {"caption": "The map of generative models by how they handle the likelihood (after Goodfellow's 2016 tutorial): explicit models with a tractable or an approximate density, and implicit models that only sample. Each leaf names the lecture that teaches it; dashed leaves are families this course leaves out.", "name": "fig-01-taxonomy"}, "image": {"alt": "A tree diagram read from left to right. The root, Generative models, highlighted in gold and labelled lecture 01: this map, splits into Explicit density and Implicit density. Explicit density splits into Tractable density, with the leaves Autoregressive (FVSBN, NADE, MADE, PixelRNN and PixelCNN; lectures 02 to 04) and Normalizing flows (lecture 07), and Approximate density, with the leaves Variational (VAE; lecture 05), Diffusion or score-based (lecture 08) and Markov chain (Boltzmann machines; dashed, not in this course). Implicit density splits into Direct, with the leaf GAN (lecture 06), and Markov chain, with the leaf GSN (dashed, not in this course)."}}
taxonomy(highlight=1)
plt.show()

# %% [markdown]
# Read the map from left to right. An **explicit** model writes $p_\theta(x)$ down. Its density
# is either *tractable*, computed exactly (autoregressive models such as the FVSBN, NADE, MADE
# and the PixelCNN, Lectures 2–4, and normalizing flows), or *approximate*, known only
# through a bound or an estimate (variational models such as the VAE, Lecture 5, diffusion
# models, and Boltzmann machines, which need Markov chains). An **implicit** model has no
# density at all and only draws samples: directly, as the GAN does (Lecture 6), or by running
# a Markov chain (generative stochastic networks). The gold box is this lecture, which draws the
# map. The dashed boxes are families this course does not teach; the flow and diffusion leaves
# are labelled lectures 07 and 08, beyond the six lectures of this repository. The map shows
# families, not every model: the small models of this lecture (independent pixels, naive
# Bayes, pPCA) have tractable densities too, as the table lists.
#
# | kind | what we can compute | trained by | scored by | where in the course |
# |---|---|---|---|---|
# | **explicit, tractable density** | $\log p_\theta(x)$ exactly | maximum likelihood | exact test NLL | this lecture (independent pixels, naive Bayes, pPCA); Lecture 2 (tables, Markov, AR($k$)); Lecture 3 (FVSBN, NADE, MADE); Lecture 4 (PixelRNN, PixelCNN) |
# | **explicit, approximate density** | a lower bound on $\log p_\theta(x) = \log \int p(z)\,p_\theta(x \mid z)\,dz$ (the ELBO, or the IWAE's tighter $\mathcal L_k$ with $k$ importance samples); importance-sampled estimates | maximising the bound | the negated bound ($-$ELBO or $-\mathcal L_k$, an upper bound on the NLL) and an importance-sampled NLL | Lecture 5 (VAE, IWAE) |
# | **implicit** | samples $x = G(z)$ only: no density at all | a two-player game with a discriminator | sample-based scores (Fréchet distance, label histogram) | Lecture 6 (GAN, DCGAN) |
#
# pPCA and the VAE have the same shape, $p(x) = \int p(z)\,p(x \mid z)\,dz$: for pPCA the
# integral is a Gaussian in closed form, for the VAE's neural decoder it is not, hence the bound.
# Autoregressive models (Lectures 2–4) need no latent variable: the chain rule gives
# $\log p(x)$ as a sum of conditionals. The shipped checkpoints show the three kinds of number
# side by side (read from `gm_helpers/checkpoints/manifest.json`). For the two latent-variable
# models the bound is the one each was trained on: the VAE's $-$ELBO, and the IWAE's
# $-\mathcal L_5$, the importance-weighted bound with $k = 5$ samples (Lecture 5).

# %% tags=["nbval-ignore-output"]
# (the numbers come from the manifest, which retraining a checkpoint of Lectures 2-6 updates)
manifest = shipped_manifest()
independent_nll = nll(x_test).mean()
print(f"{'lecture':>7}  {'model':<24} {'kind':<22} test NLL (nats)")
print(f"{'1':>7}  {'independent pixels':<24} {'explicit, tractable':<22} "
      f"{independent_nll:.2f} (exact)")
exact = [("2, 3", "fvsbn.pt", "FVSBN"), ("3", "nade.pt", "NADE"), ("3", "made_1mask.pt", "MADE"),
         ("4", "pixelcnn.pt", "PixelCNN"), ("4", "gated_pixelcnn.pt", "Gated PixelCNN"),
         ("4", "row_lstm.pt", "Row LSTM"), ("4", "diagonal_bilstm.pt", "Diagonal BiLSTM")]
for lecture, file, name in exact:
    print(f"{lecture:>7}  {name:<24} {'explicit, tractable':<22} "
          f"{manifest[file]['test_nll']:.2f} (exact)")
# test_loss is the bound each was trained on: -ELBO for the VAE, -L_5 (k = 5) for the IWAE
latent = [("vae.pt", "VAE", "-ELBO, a bound"), ("iwae.pt", "IWAE", "-L_5, the k = 5 bound")]
for file, name, bound_name in latent:
    bound, estimate = manifest[file]["test_loss"], manifest[file]["test_nll"]
    print(f"{'5':>7}  {name:<24} {'explicit, approximate':<22} {bound:.2f} ({bound_name}), "
          f"{estimate:.2f} (importance-sampled)")
print(f"{'6':>7}  {'DCGAN':<24} {'implicit':<22} none; Fréchet distance "
      f"{manifest['dcgan.pt']['frechet']:.2f} (lower is better)")

# %% jupyter={"source_hidden": true} tags=["claim-01-taxonomy", "hide-input"]
assert all(manifest[file]["test_nll"] < independent_nll for _, file, _ in exact)
assert all(manifest[file]["test_nll"] <= manifest[file]["test_loss"] < independent_nll
           for file, _, _ in latent)
assert load_shipped("iwae.pt")[0].k == 5 and load_shipped("vae.pt")[0].k == 1  # -L_5, -ELBO

# %% [markdown]
# Every likelihood model in the table beats the independent baseline; the bound of each
# latent-variable model (the VAE's $-$ELBO, the IWAE's $-\mathcal L_5$) sits above its
# importance-sampled NLL, as an upper bound must; and the GAN has no NLL at all, so Lecture 6
# scores its samples with the classifier used above.
#
# ## 5. What does it cost? Counting parameters
#
# To write a distribution down as a table we need one probability per outcome, minus one,
# because they must sum to 1.
#
# * **Bernoulli** (a coin, a binary pixel): $p(x = 1) = p$, $p(x = 0) = 1 - p$: **1** parameter.
# * **Categorical** over $m$ values: $p_1, \dots, p_m$ with $\sum_i p_i = 1$: **$m - 1$**.
# * **An RGB pixel**: three channels of 256 levels, $256^3$ colours: **$256^3 - 1$**.
# * **A binary image of $n$ pixels**: $2^n$ possible images: **$2^n - 1$**.

# %%
print("Bernoulli:        ", num_params_categorical(2))
print("die (m = 6):      ", num_params_categorical(6))
print("RGB pixel:        ", f"{num_params_categorical(256 ** 3):,}", "=", "256**3 - 1")
full = num_params("full_joint", 784)
print(f"binary 28x28 image: 2**784 - 1, a number with {len(str(full))} digits:")
print(full)
print("more than the ~10**80 atoms in the observable universe:", full > 10 ** 80)

# %% jupyter={"source_hidden": true} tags=["claim-01-param-counts", "hide-input"]
assert full == 2**784 - 1 and len(str(full)) == 237 and 10**236 < full < 2 * 10**236
assert num_params_categorical(256**3) == 256**3 - 1

# %% [markdown]
# **Exercise 2 (counting).** How many free parameters does a full joint table over $n$
# variables with $m$ values each need?
#
# * `n`, `m`: Python ints, $n \ge 1$ and $m \ge 2$;
# * return: a Python int, exact: for $n = 784$, $m = 2$ the answer has 237 digits, and a float
#   cannot hold $2^{784} - 1$, so compute with integers.

# %%
def full_joint_params(n, m):
    """Free parameters of a table over n variables with m values each."""
    ### BEGIN SOLUTION
    return m**n - 1
    ### END SOLUTION


# %%
check_full_joint_params(full_joint_params)

# %% [markdown]
# No data set could pin down the $10^{236}$ numbers of a full table over 784 binary pixels; no
# computer could store them. We need
# **assumptions** that cut the count. The strongest is **independence**:
#
# $$p(x_1, \dots, x_n) = \prod_{i=1}^n p(x_i), \qquad \text{one Bernoulli per pixel: } n \text{ parameters.}$$
#
# For MNIST that is 784 numbers, and maximum likelihood gives each one in closed form: the
# fraction of training images in which that pixel is on. We fitted this model above as
# `independent`, with $\alpha = 1$, which moved no $\theta_d$ by more than $1/(N + 2) = 2.0\times
# 10^{-5}$; here are its 784 parameters as an image, and what it generates.

# %% mystnb={"figure": {"caption": "Left: the 784 parameters $\\theta_d = p(x_d = 1)$ of the independent model, a blurred average digit. Right: 24 of its samples, noise shaped like that average, because each pixel flips its own coin and strokes never form.", "name": "fig-01-independent-model"}, "image": {"alt": "Left: a blurry grey oval, brightest where digits usually have ink. Right: a 3 by 8 grid of white-on-black images of scattered dots filling an oval region, none of them a digit."}}
print("parameters:", independent.num_params(), "=", num_params("independent", 784))
theta = torch.from_numpy(theta_smooth).view(1, 1, 28, 28)   # (1, 1, 28, 28)
fig, (ax_theta, ax_samples) = plt.subplots(1, 2, figsize=(10, 3.2),
                                           gridspec_kw={"width_ratios": [1, 3]})
ax_theta.imshow(theta[0, 0].numpy(), cmap="gray")
ax_theta.set_title(r"$\theta_d = p(x_d = 1)$")
ax_theta.set_axis_off()
show_images(torch.from_numpy(independent.sample(24, seed=0)).float(), nrow=8, ax=ax_samples,
            title="samples from the independent model")
plt.show()
print(f"test NLL of the independent model: {nll(x_test).mean():.2f} nats per image")

# %% jupyter={"source_hidden": true} tags=["claim-01-independent-baseline", "hide-input"]
assert independent.num_params() == 784 and 205.5 < nll(x_test).mean() < 206.5

# %% [markdown]
# The parameter image is a blurred "average digit", and the samples are **noise** shaped like
# it: each pixel flips its own coin, so strokes never form. Its test NLL, about 206 nats, is the
# baseline: every likelihood model of section 4's table is far below it (the best number in the
# papers Lecture 4 reads, the Diagonal BiLSTM's, is 79.20).
#
# **Exercise 3 (the Bernoulli NLL).** The NLL in nats of one binary image $x$ under independent
# Bernoullis with parameters $\theta$,
# $-\sum_d \left[x_d \log\theta_d + (1 - x_d)\log(1 - \theta_d)\right]$: the test NLL printed
# above is this number for each test image, averaged.
#
# * `x`: NumPy array of shape (D,) of 0s and 1s (integer or float64); `theta`: NumPy array of
#   shape (D,), float64, every entry strictly between 0 and 1;
# * return: one number, the NLL in nats: a Python float, a NumPy scalar or a 0-d torch tensor,
#   float32 or float64.

# %%
def bernoulli_nll(x, theta):
    """Negative log-likelihood in nats of binary vector x under independent Bernoulli(theta)."""
    ### BEGIN SOLUTION
    import numpy as np
    return -np.sum(x * np.log(theta) + (1 - x) * np.log(1 - theta))
    ### END SOLUTION


# %%
check_bernoulli_nll(bernoulli_nll)

# %% [markdown]
# Between $n$ and $2^n - 1$ lies the whole subject: the chain rule, Markov and autoregressive
# assumptions (Lecture 2), then neural networks that share parameters across the conditionals
# (Lectures 3–4). Here is how the counts grow.

# %% mystnb={"figure": {"caption": "Free parameters of a distribution over $n$ binary variables under each assumption, on a log scale: the full joint grows exponentially ($2^n - 1$, a straight line here), while independence, Markov and AR($k$) grow only linearly in $n$ and stay near the bottom.", "name": "fig-01-param-counts"}, "image": {"alt": "Line plot with a logarithmic y axis from 1 to 10 to the 30 and n from 1 to 100 on the x axis. The full joint is a straight line rising to 10 to the 30 at n = 100; the independent, Markov, AR(2), AR(4) and AR(8) counts are low curves that stay below 10 to the 5."}}
plot_param_counts(range(1, 101), m=2, ks=(2, 4, 8))
plt.show()

# %% [markdown]
# ### Explore: parameter counts
# The figure above is for binary variables. Move the sliders to change the number of
# variables $n$, the number of values $m$ and the AR order $k$; the box lists the exact counts
# (they are Python integers, so even $256^{784} - 1$ is exact).

# %% mystnb={"figure": {"caption": "The parameter-count explorer, opening at $n = 784$, $m = 2$, $k = 4$, where the full joint needs a number of parameters with 237 digits, independence 784, Markov 1,567 and AR(4) 12,495; in a running notebook its sliders change $n$, $m$ and $k$.", "name": "fig-01-param-count-explorer"}, "image": {"alt": "Two line plots of parameter counts against n up to 784, on logarithmic scales. Left: the full joint rises as a straight line to about 10 to the 236, while independent, Markov and AR(4) lie flat along the bottom; a text box lists full joint 1.017e236 (237 digits), independent 784, Markov 1,567, AR(4) 12,495. Right: the three tractable counts on their own axis, from 1 to about 10 to the 4, AR(4) highest."}} tags=["nbval-ignore-output"]
param_count_explorer(n=784, m=2, k=4)

# %% [markdown]
# ## Exercises
#
# The three exercises sit beside the ideas they practise:
#
# * **Exercise 1**, Bayes' rule (`posterior`): section 2, after the centre-pixel example;
# * **Exercise 2**, the parameters of a full table (`full_joint_params`): section 5, after the
#   counts;
# * **Exercise 3**, the NLL of a binary image under independent pixels (`bernoulli_nll`):
#   section 5, after the independent model.

# %% [markdown]
# > **About these numbers**
# >
# > * Nothing here trains for long or needs a GPU: the notebook runs top to bottom in well under
# >   two minutes on a 2-core CPU, with PyTorch on one thread.
# > * The digit classifier (`digit_classifier.pt`) was trained on 8,000 of the 10,000 labelled
# >   test digits, the only labelled binarized split; its 98.2 % is measured on the other 2,000.
# >   So it has seen most of the test digits used here. Every threshold in section 3 is set on
# >   the validation digits, which neither it nor the class models saw.
# > * The 1,000 Gated PixelCNN samples of section 2 were drawn once, in about 4 seconds on one
# >   CPU thread with Lecture 4's cached sampler, and shipped with the course.
# > * Section 4's NLLs are read from `gm_helpers/checkpoints/manifest.json`, which records each
# >   checkpoint's training command, epochs, hardware and wall time; `tests/test_repo.py`
# >   re-measures every one on the test set.

# %% [markdown]
# ## Summary
#
# * A generative model is a distribution $p_\theta(x)$ fitted so that $p_\theta \approx
#   p_\text{data}$, usually by maximum likelihood, which is minimising
#   $\mathrm{KL}(\hat p \,\|\, p_\theta)$ (NLL $= H(\hat p) + \mathrm{KL}$, checked to $10^{-12}$);
#   we measure it by the test NLL in nats.
# * Bayes' rule goes both ways: ten independent-pixel models of $p(x \mid y)$ and $p(y)$ make a
#   classifier (83 % on held-out digits), and a classifier $p(y \mid x)$ plus a generative
#   $p(x)$ make draws of $p(x \mid y)$ by importance resampling. A classifier alone cannot
#   generate.
# * Maximum-likelihood counts give unseen outcomes probability 0 and test data an infinite NLL;
#   additive smoothing with $\alpha$ pseudo-counts is the posterior mean under a
#   $\mathrm{Beta}(\alpha, \alpha)$ prior and fixes it.
# * Generation, density estimation (outliers get a high NLL) and representation learning
#   (20 unsupervised pPCA codes classify better than 784 pixels) are the three uses.
# * The class-conditional models give $p(x) = \sum_y p(x \mid y)\,p(y)$ as well as
#   $p(y \mid x)$: they label held-out digits and refuse every noise image and every
#   flipped-pixel digit; a classifier labels every impostor, often with confidence above 0.9.
# * Explicit models with a tractable density (Lectures 2–4) report exact NLLs; the VAE
#   (Lecture 5) a bound and an importance-sampled estimate; the GAN (Lecture 6) no density.
# * A table over $n$ binary pixels needs $2^n - 1$ numbers, a 237-digit number for MNIST;
#   independence needs $n$, and its samples are noise. Next lecture: the assumptions in between.
#
# ## References
# * R. Salakhutdinov, I. Murray. *On the quantitative analysis of deep belief networks.* ICML 2008.
# * H. Larochelle, I. Murray. *The neural autoregressive distribution estimator.* AISTATS 2011.
# * M. E. Tipping, C. M. Bishop. *Probabilistic principal component analysis.* JRSS B, 1999.
# * D. B. Rubin. Comment: *A noniterative sampling/importance resampling alternative to the data
#   augmentation algorithm for creating a few imputations when fractions of missing information
#   are modest: the SIR algorithm.* JASA, 1987.
# * E. Nalisnick et al. *Do deep generative models know what they don't know?* ICLR 2019.
# * A. Ng, M. Jordan. *On discriminative vs. generative classifiers.* NeurIPS 2001.
