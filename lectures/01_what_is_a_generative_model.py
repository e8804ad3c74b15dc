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
# # Lecture 1 — What is a generative model, and what does it cost?
#
# **What you will learn**
#
# * what it means for a model to be *generative*: $p_\text{model}(x) \approx p_\text{data}(x)$;
# * how generative, discriminative and conditional generative models differ, and how Bayes'
#   rule turns a generative model into a classifier;
# * the three things a generative model is used for: **generation**, **density estimation**
#   (and with it, outlier detection), and **representation learning**, each shown on real digits;
# * how many numbers it takes to write a distribution down: a Bernoulli, a categorical, an RGB
#   pixel, a binary image, and why independence is cheap but useless.
#
# **Time:** about 30 minutes to read; the notebook runs top to bottom in about 10 seconds on a
# laptop CPU.
#
# Everything below imports from `gm_helpers`, the tested package that sits beside these
# notebooks: what you see here is the code the tests check.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.counting import IndependentBernoulli, num_params, num_params_categorical
from gm_helpers.data import binarized_test_labels, load_binarized_mnist, load_mnist_test
from gm_helpers.exercises import check_bernoulli_nll, check_full_joint_params, check_posterior
from gm_helpers.train import get_device, seed_everything
from gm_helpers.viz import plot_param_counts, show_images
from gm_helpers.widgets import param_count_explorer

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

# %%
show_images(x_test[torch.randperm(len(x_test))[:20]], nrow=10,
            title="twenty binarized test digits")
plt.show()

# %% [markdown]
# The binary digits were drawn from the grayscale ones: each pixel is 1 with probability equal
# to its intensity. The test split is the grayscale MNIST test set sorted by label, so we can
# put each binary digit beside the grayscale digit it came from, and check the claim: every
# pixel that is 1 must be non-zero in grayscale.

# %%
x_gray, labels_gray = load_mnist_test()                 # (10000, 1, 28, 28) in [0, 1]
match = torch.argsort(labels_gray, stable=True)         # binarized[i] came from x_gray[match[i]]
ones_are_inked = bool(((x_test == 1) <= (x_gray[match] > 0)).all())
print("labels line up:", bool((labels_gray[match] == y_test).all()))
print("every binary 1 sits on ink:", ones_are_inked)
pairs = torch.stack([x_gray[match[::1000]], x_test[::1000]], 1).flatten(0, 1)  # (20, 1, 28, 28)
show_images(pairs, nrow=10, title="grayscale, then its binarization (one per digit class)")
plt.show()
del x_gray  # 31 MB we no longer need: this notebook stays small enough for Binder

# %% [markdown]
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
# $$\theta^\star = \arg\min_\theta \; -\frac{1}{N}\sum_{i=1}^N \log p_\theta(x^{(i)}),$$
#
# which, as $N \to \infty$, minimises $\mathrm{KL}(p_\text{data} \,\|\, p_\theta)$. We report
# the NLL in **nats** (natural logarithms) per image, as the papers do: lower is better.
#
# ### Discriminative, generative, conditional generative
#
# | model | learns | can it make an $x$? |
# |---|---|---|
# | discriminative | $p(y \mid x)$: the label given the image | no |
# | generative | $p(x)$, or the joint $p(x, y) = p(y)\,p(x \mid y)$ | yes |
# | conditional generative | $p(x \mid y)$: an image given a label (or a text, or half an image) | yes, on demand |
#
# A generative model of the joint gives the discriminative one for free, through **Bayes' rule**:
#
# $$p(y \mid x) = \frac{p(x \mid y)\, p(y)}{p(x)}, \qquad p(x) = \sum_{y'} p(x \mid y')\, p(y').$$
#
# The converse fails: knowing $p(y \mid x)$ tells us nothing about which $x$ are likely.
#
# ### A worked example of Bayes' rule
#
# Take one feature, the pixel at the centre of the image (row 14, column 14), and ask: *if
# that pixel is on, which digit is it?* Half of the test set (chosen at random) is our
# "training" half for this example; we read off the prior $p(y)$ and the likelihood
# $p(\text{centre on} \mid y)$ by counting.

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

# %% [markdown]
# A centre pixel that is on makes a **0 very unlikely** (zeros have a hole there) and a 1 or
# an 8 much more likely than the prior says. One pixel is weak evidence; the same rule with all
# 784 pixels is a real classifier. If we assume the pixels independent *given the class*
# (the "naive Bayes" generative model, $p(x \mid y) = \prod_d p(x_d \mid y)$), then
#
# $$\log p(y \mid x) = \log p(y) + \sum_d \log p(x_d \mid y) - \log p(x).$$

# %%
x_fit, x_eval = x_test[fit_idx].flatten(1), x_test[eval_idx].flatten(1)   # (5000, 784) each
models = [IndependentBernoulli(alpha=1.0).fit(x_fit[y_fit == c].numpy()) for c in range(10)]
log_joint = torch.stack([torch.from_numpy(m.log_prob(x_eval.numpy())) for m in models], 1) \
    + prior.log()                                       # (5000, 10): log p(x|y) + log p(y)
log_posterior = log_joint - log_joint.logsumexp(1, keepdim=True)   # Bayes' rule, in logs
accuracy = (log_posterior.argmax(1) == y_test[eval_idx]).float().mean()
print(f"generative (naive Bayes) classifier, held-out accuracy: {accuracy:.3f}")

# %% [markdown]
# About 83 % without ever fitting $p(y \mid x)$ directly: we fitted ten *generative* models,
# one per class, and let Bayes' rule do the rest. The same class-conditional models are **conditional
# generative** models: ask each for samples of its own digit.

# %%
samples = torch.cat([torch.from_numpy(m.sample(8, seed=c)) for c, m in enumerate(models)])
show_images(samples.float(), nrow=8, title="samples from p(x | y), one row per class y = 0..9")
plt.show()

# %% [markdown]
# Each row is recognisably "about" its class, a cloud of ink in the right place, yet none
# looks like handwriting: with the pixels independent, no pixel knows what its neighbours did.
# Better models of $p(x \mid y)$ are what the rest of the course is about.
#
# ## 3. What generative models are for
#
# ### (a) Generation
# Sample $x \sim p_\theta$ to make new data: above, and with far better models in Lectures 3–6.
#
# ### (b) Density estimation, and outlier detection
# A model that assigns a probability to every $x$ can tell typical data from strange data:
# strange $x$ get a high NLL. Here the simplest model of all, independent pixels fitted to
# the 50,000 training digits, scores test digits against four kinds of impostor.

# %%
independent = IndependentBernoulli(alpha=1.0).fit(x_train.flatten(1).byte().numpy())  # theta_d = mean


def nll(x):
    """NLL in nats of each image in x (B, 1, 28, 28) under the independent model."""
    return -independent.log_prob(x.flatten(1).byte().numpy())  # (B,)


g = torch.Generator().manual_seed(0)
x_some = x_test[perm[:2000]]                            # (2000, 1, 28, 28) a random 2,000
flip = torch.rand(x_some.shape, generator=g) < 0.1
impostors = {
    "noise (same ink)": (torch.rand(x_some.shape, generator=g) < x_train.mean()).float(),
    "10% pixels flipped": torch.where(flip, 1 - x_some, x_some),
    "shifted 5 px right": torch.roll(x_some, 5, dims=3),
    "upside down": torch.flip(x_some, dims=[2]),
}
threshold = np.quantile(nll(x_valid), 0.99)  # flag anything less likely than 99% of valid digits
print(f"threshold: {threshold:.1f} nats (99th percentile of validation NLL)")
print(f"{'test digits':>20}: mean NLL {nll(x_test).mean():6.1f}, flagged "
      f"{(nll(x_test) > threshold).mean():6.1%}")
for name, x in impostors.items():
    print(f"{name:>20}: mean NLL {nll(x).mean():6.1f}, flagged {(nll(x) > threshold).mean():6.1%}")

# %%
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
# flipped, and over a third of the shifted digits. The upside-down digits get through most often: many digits look
# much like themselves upside down, and a model that knows only where ink usually is cannot
# tell. (A word of caution for later: deep generative models can give *higher* likelihood to
# some out-of-distribution data; Nalisnick et al. 2019, "Do deep generative models know what
# they don't know?".)
#
# ### (c) Representation learning
# A model with a latent variable $z$ explains each $x$ by a few numbers. The simplest is
# probabilistic PCA, $x = Wz + \mu + \varepsilon$ with $z \sim \mathcal N(0, I)$, whose
# maximum-likelihood $W$ spans the top principal components (Tipping & Bishop 1999). We fit it
# on the training images **without labels**, then see whether the codes $z$ group the digits.

# %%
x_flat = x_train[:20000].flatten(1)                    # (20000, 784)
mu = x_flat.mean(0)                                      # (784,)
cov = (x_flat - mu).T @ (x_flat - mu) / len(x_flat)      # (784, 784) sample covariance
eigenvalues, eigenvectors = torch.linalg.eigh(cov)       # ascending order
W = eigenvectors[:, -20:].flip(1)                        # (784, 20) top 20 directions
z_test = (x_test.flatten(1) - mu) @ W                   # (10000, 20) codes

fig, ax = plt.subplots(figsize=(5.5, 4.5))
points = ax.scatter(z_test[::4, 0], z_test[::4, 1], c=y_test[::4], cmap="tab10", s=4)
ax.set_xlabel("$z_1$")
ax.set_ylabel("$z_2$")
ax.set_title("test digits in the first two latent dimensions")
fig.colorbar(points, ax=ax, label="digit (not used in fitting)")
plt.show()


# %%
def nearest_neighbour_accuracy(features):
    """1-NN: label each held-out test digit by its nearest neighbour in the other half."""
    queries = eval_idx[:2000]
    d = torch.cdist(features[queries], features[fit_idx])  # (2000, 5000) distances
    return (y_test[fit_idx][d.argmin(1)] == y_test[queries]).float().mean().item()


print(f"1-NN accuracy on raw pixels (784 numbers): {nearest_neighbour_accuracy(x_test.flatten(1)):.3f}")
print(f"1-NN accuracy on PCA codes  ( 20 numbers): {nearest_neighbour_accuracy(z_test):.3f}")

# %% [markdown]
# Twenty numbers learned without a single label classify as well as the 784 raw pixels
# (slightly better here). The VAE of Lecture 5 learns a non-linear version of this.
#
# ## 4. What does it cost? Counting parameters
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

# %% [markdown]
# No data set could pin down $10^{236}$ numbers; no computer could store them. We need
# **assumptions** that cut the count. The strongest is **independence**:
#
# $$p(x_1, \dots, x_n) = \prod_{i=1}^n p(x_i), \qquad \text{one Bernoulli per pixel: } n \text{ parameters.}$$
#
# For MNIST that is 784 numbers, and maximum likelihood gives each one in closed form: the
# fraction of training images in which that pixel is on. We fitted this model above as
# `independent`; here are its 784 parameters as an image, and what it generates.

# %%
print("parameters:", independent.num_params(), "=", num_params("independent", 784))
theta = torch.tensor([t[0] for t in independent.theta]).view(1, 1, 28, 28)   # (1, 1, 28, 28)
fig, (ax_theta, ax_samples) = plt.subplots(1, 2, figsize=(10, 3.2),
                                           gridspec_kw={"width_ratios": [1, 3]})
ax_theta.imshow(theta[0, 0].numpy(), cmap="gray")
ax_theta.set_title(r"$\theta_d = p(x_d = 1)$")
ax_theta.set_axis_off()
show_images(torch.from_numpy(independent.sample(24, seed=0)).float(), nrow=8, ax=ax_samples,
            title="samples from the independent model")
plt.show()
print(f"test NLL of the independent model: {nll(x_test).mean():.2f} nats per image")

# %% [markdown]
# The mean image is a blurred "average digit", and the samples are **noise** shaped like it:
# each pixel flips its own coin, so strokes never form. Its test NLL, about 206 nats, is the
# baseline every model in this course must beat (the papers' best are near 80).
#
# Between $n$ and $2^n - 1$ lies the whole subject: the chain rule, Markov and autoregressive
# assumptions (Lecture 2), then neural networks that share parameters across the conditionals
# (Lectures 3–4). Here is how the counts grow.

# %%
plot_param_counts(range(1, 101), m=2, ks=(2, 4, 8))
plt.show()

# %% [markdown]
# ### Explore: parameter counts
# The figure above is for binary variables. Move the sliders to change the number of
# variables $n$, the number of values $m$ and the AR order $k$; the box lists the exact counts
# (they are Python integers, so even $256^{784} - 1$ is exact).

# %%
# NBVAL_IGNORE_OUTPUT
param_count_explorer(n=784, m=2, k=4)

# %% [markdown]
# ## 5. Exercises
#
# Write the body of each function, then run the checker below it. A checker tries your
# function on several inputs and, when it disagrees, tells you which common mistake fits.
#
# **Exercise 1.** How many free parameters does a full joint table over $n$ variables with $m$
# values each need? (Your answer must be exact for $n = 784$: use integers.)

# %%
def full_joint_params(n, m):
    """Free parameters of a table over n variables with m values each."""
    ### BEGIN SOLUTION
    return m**n - 1
    ### END SOLUTION


# %%
check_full_joint_params(full_joint_params)


# %% [markdown]
# **Exercise 2.** Bayes' rule. Given the prior $p(y)$ and the likelihood $p(x \mid y)$ of one
# observed $x$ for each class (both NumPy arrays over the classes), return the posterior
# $p(y \mid x)$.

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
# **Exercise 3.** The NLL of one binary image $x$ (a vector of 0s and 1s) under independent
# Bernoullis with parameters $\theta$, in nats:
# $-\sum_d \left[x_d \log\theta_d + (1 - x_d)\log(1 - \theta_d)\right]$.

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
# ## Summary
#
# * A generative model is a distribution $p_\theta(x)$ fitted so that $p_\theta \approx
#   p_\text{data}$, usually by maximum likelihood; we measure it by the test NLL in nats.
# * With Bayes' rule a generative model of $p(x \mid y)$ and $p(y)$ is also a classifier
#   (83 % on MNIST from ten independent-pixel models); a discriminative model cannot generate.
# * Generation, density estimation (outliers get a high NLL) and representation learning
#   (20 unsupervised PCA codes classify as well as 784 pixels) are the three uses.
# * A table over $n$ binary pixels needs $2^n - 1$ numbers, a 237-digit number for MNIST;
#   independence needs $n$, and its samples are noise. Next lecture: the assumptions in between.
#
# ## References
# * R. Salakhutdinov, I. Murray. *On the quantitative analysis of deep belief networks.* ICML 2008.
# * H. Larochelle, I. Murray. *The neural autoregressive distribution estimator.* AISTATS 2011.
# * M. E. Tipping, C. M. Bishop. *Probabilistic principal component analysis.* JRSS B, 1999.
# * E. Nalisnick et al. *Do deep generative models know what they don't know?* ICLR 2019.
# * A. Ng, M. Jordan. *On discriminative vs. generative classifiers.* NeurIPS 2001.
