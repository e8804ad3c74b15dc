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
# # Lecture 8 — Score-based and diffusion models: from Langevin dynamics to DDPM and masked diffusion
#
# Every model so far meets the same trade-off in a different place. Autoregressive models
# (lectures 2–4) have exact likelihoods and sample one pixel at a time; the VAE (lecture 5)
# samples in one pass and bounds its likelihood; the GAN (lecture 6) samples in one pass and
# has no likelihood; a flow (lecture 7) has both, at the price of an invertible network.
# **Diffusion models**, the family behind today's image generators, take another route: they
# never model the data directly. They learn to **remove a little noise**, and generate by
# starting from pure noise and removing it step by step. One network, trained by a plain
# regression loss, gives a sampler and a bound on the likelihood; for binary digits, a
# diffusion that masks pixels instead of adding noise is an autoregressive model over every
# ordering of the pixels at once.
#
# **What you will learn**
#
# * the **score** $\nabla_x \log p(x)$ of a distribution, and **Langevin dynamics**, which
#   samples from $p$ using nothing but its score; why a score learned from data fails between
#   the modes, and how **annealing** over noise levels fixes it — measured with lecture 6's
#   mode table;
# * **denoising score matching**: estimating the score of noisy data is the same as predicting
#   the noise that was added, and the best denoiser (Tweedie's formula), checked numerically;
# * **DDPM**: a fixed chain that adds Gaussian noise, its closed-form marginal checked against
#   the simulated chain, its posterior derived, the ELBO written as a sum of lecture 5's
#   Gaussian KL terms, the simplified loss, and 2-d models on lecture 6's ring and grid beside
#   the GAN and lecture 7's flow;
# * a DDPM on **binarized digits**, with a small U-Net: how its samples emerge from noise, and
#   lecture 6's two scores of samples (the label histogram and the Fréchet distance) beside the
#   DCGAN, the VAE, the PixelCNN and lecture 7's flow;
# * **the price of sampling**: the step count against sample quality, with and without fresh
#   noise at each step, and the CPU time of a DDPM sample against a PixelCNN's 784 passes;
# * **masked diffusion** on binary digits: its bound on the NLL in nats beside the course's
#   other digit models (lectures 3–5 and 7), and why it is an **any-order autoregressive model** — lecture 2's "the ordering
#   matters", measured on one network; sampling in fewer rounds than pixels;
# * a widget that scrubs through the reverse process, with ancestral and deterministic (DDIM)
#   sampling.
#
# Three exercises sit in section 3, beside the ideas they practise: the forward marginal, the
# noise-prediction loss and one step of ancestral sampling, each checked by a function of the
# package that names the usual mistakes. The small score models of section 1 train live; the
# others load from checkpoints shipped with the course ("About these numbers", after
# section 7, says how they were made).
#
# **Prerequisites:** lecture 2 (orderings), lecture 3 (NADE, MADE's masks, and the
# mixture of masks with its Jensen bound), lecture 5
# (the ELBO and the Gaussian KL), lecture 6 (the 2-d mixtures and the mode table) and lecture
# 7's table of likelihoods.
#
# **Study time:** about 150 minutes of reading and 25 minutes of exercises.

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
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.mixtures import (
    mixture_entropy,
    mixture_log_prob,
    mode_coverage,
    mode_shares,
    sample_mixture,
)
from gm_helpers.analysis.sample_quality import (
    class_fractions,
    feature_statistics,
    frechet_distance,
    logits,
)
from gm_helpers.analysis.scores import (
    NoiseConditionalScore,
    annealed_langevin,
    geometric_sigmas,
    langevin,
    mixture_score,
)
from gm_helpers.analysis.timing import cpu_time, one_thread
from gm_helpers.data import load_binarized_mnist
from gm_helpers.exercises.diffusion import check_ancestral_step, check_eps_loss, check_forward_marginal
from gm_helpers.models.diffusion import DDPM, cosine_betas, gaussian_kl, linear_betas
from gm_helpers.models.masked_diffusion import MaskedDiffusion
from gm_helpers.models.unet import UNet
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    load_shipped,
    load_shipped_samples,
    shipped_manifest,
)
from gm_helpers.training.diffusion2d import SCALE, fit_score
from gm_helpers.training.flows2d import mixture_splits
from gm_helpers.training.loop import seed_everything
from gm_helpers.viz import plot_checkpoint_curves, show_images
from gm_helpers.widgets.diffusion import draw_reverse, draw_reverse_strip, reverse_explorer, reverse_result

seed_everything(0)
torch.set_default_dtype(torch.float32)
manifest = shipped_manifest()
x_test = load_binarized_mnist("test")                    # (10000, 1, 28, 28), values 0 and 1
print(f"binarized MNIST test set: {tuple(x_test.shape)}")

# %% [markdown]
# ## 1. Scores and Langevin dynamics
#
# Every model of the course so far wrote down a density, or a bound on one, and paid for its
# normalisation: a product of conditionals that each sum to 1 (lectures 2–4), a latent variable
# integrated out (lecture 5), a Jacobian (lecture 7). The models of this lecture work with
# something that needs no normalisation at all, the **score**, the gradient of the log-density
# with respect to the data:
#
# $$s(x) = \nabla_x \log p(x).$$
#
# If $p(x) = \tilde p(x) / Z$, then $\nabla_x \log p(x) = \nabla_x \log \tilde p(x) -
# \nabla_x \log Z = \nabla_x \log \tilde p(x)$: the constant $Z$, the hard part of every
# likelihood model, drops out. The score is a vector field: at each point it points to where
# the density rises fastest, and it is long where the density changes quickly.
#
# For lecture 6's mixtures we know it exactly. With $K$ equal-weight Gaussians
# $\mathcal N(m_k, \tau^2 I)$ ($\tau$, the modes' standard deviation, keeps $s$ free for the
# score), differentiate $\log \sum_k \mathcal N(x; m_k, \tau^2 I)$:
#
# $$\nabla_x \log p(x) = \sum_k r_k(x)\, \frac{m_k - x}{\tau^2}, \qquad
#   r_k(x) = \frac{\mathcal N(x; m_k, \tau^2 I)}{\sum_j \mathcal N(x; m_j, \tau^2 I)},$$
#
# an average of arrows towards the means, weighted by how responsible each component is for
# $x$. The package computes it in three lines (its `sigma` argument, used from the next
# paragraphs on, blurs the mixture first):

# %%
print(inspect.getsource(mixture_score))

# %% [markdown]
# Lecture 6's two benchmarks, the **ring** of 8 Gaussians (radius 1, $\tau = 0.01$) and the
# **grid** of 25 (spacing 2, $\tau = 0.05$), with their score fields. Away from the other modes
# the length of the score is the distance $d$ to the nearest mode over $\tau^2$, so it grows
# with the distance, and the modes are so narrow that arrows drawn to scale would fill the
# panels: on the ring the lengths run from about $10^{2.7}$ at the lattice points next to a
# mode to $10^4$ at the square's corners, on the grid from about $10^{1.8}$ to $10^{2.9}$ (the
# printed ranges below; 0 exactly on a mode). The figure draws only their directions and colours their length. Between two
# modes the field splits: each point is pulled towards the mode it is closest to.

# %%
mixtures = {name: sample_mixture(name, 20_000, seed=0) for name in ("ring", "grid")}   # (points, means, std)
extent = {"ring": 1.5, "grid": 5.5}                      # the plotted square, in the data's units

# %% mystnb={"figure": {"caption": "The score $\\nabla_x \\log p(x)$ of lecture 6's two mixtures over their log-density: arrows show its direction on a 21 x 21 lattice, coloured by $\\log_{10}$ of its length (one colour scale for both panels). Every arrow points to its nearest mode; the field splits halfway between modes.", "name": "fig-08-score-field"}, "image": {"alt": "Two square panels. Left, the ring: a dark background with eight tiny bright dots on a circle of radius 1; arrows on a lattice all point towards the nearest dot, radially inwards from outside the circle and outwards from its centre, and change direction along lines halfway between neighbouring dots; arrow colours go from green near the dots to yellow far from them. Right, the grid: 25 bright dots in a 5 by 5 lattice from -4 to 4; each arrow points to its nearest dot, so the field is split into 25 square cells; its arrows are blue to green, shorter than the ring's (its modes are wider)."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
score_lengths = {}                                       # name -> |score| on the 21 x 21 lattice, (441,)
for ax, (name, (points, means, std)) in zip(axes, mixtures.items()):
    lim = extent[name]
    axis = torch.linspace(-lim, lim, 301, dtype=torch.float64)
    plane = torch.cartesian_prod(axis, axis)             # (301 * 301, 2), x1 slowest
    log_p = mixture_log_prob(plane, name).view(301, 301)
    ax.imshow(log_p.T.clamp(min=log_p.max() - 40).numpy(), origin="lower", extent=(-lim, lim, -lim, lim),
              cmap="magma")
    arrows = torch.cartesian_prod(*[torch.linspace(-lim, lim, 21, dtype=torch.float64)] * 2)
    score = mixture_score(arrows, means.double(), std)    # (441, 2)
    length = score_lengths[name] = score.norm(dim=1)
    unit = score / length[:, None]
    quiver = ax.quiver(arrows[:, 0], arrows[:, 1], unit[:, 0], unit[:, 1], length.clamp(min=10).log10(),
                       cmap="viridis", scale=30, width=0.004)   # (at the ring's centre the score is 0)
    quiver.set_clim(1, 4.5)                              # one colour scale for both panels
    ax.set_title(f"{name}: score directions over log p(x)")
    ax.set_aspect("equal")
fig.colorbar(quiver, ax=axes, shrink=0.8, label="log10 |score|")
for name, length in score_lengths.items():                # leaving out the lattice points on a mode or the centre
    print(f"{name}: log10 |score| on the lattice (data units) from {length[length > 1].min().log10():.1f} "
          f"to {length.max().log10():.1f}")
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-08-score-field", "hide-input"]
for name, (points, means, std) in mixtures.items():
    lattice = torch.cartesian_prod(*[torch.linspace(-extent[name], extent[name], 21, dtype=torch.float64)] * 2)
    distances = torch.cdist(lattice, means.double())
    two_nearest, nearest = distances.topk(2, largest=False)
    clear = two_nearest[:, 1] > 1.05 * two_nearest[:, 0]       # not on a boundary between two modes
    towards = means.double()[nearest[:, 0]] - lattice
    score = mixture_score(lattice, means.double(), std)
    cosine = (score * towards).sum(1) / (score.norm(dim=1) * towards.norm(dim=1))
    assert clear.float().mean() > 0.8 and (cosine[clear] > 0.999).all()   # towards the nearest mode
    # the score is the gradient of the log-density (autograd)
    x = lattice[:50].clone().requires_grad_(True)
    mixture_log_prob(x, name).sum().backward()
    assert torch.allclose(score[:50], x.grad, rtol=1e-6, atol=1e-6)
    # |s| = d / tau^2 away from the boundaries: the prose's ranges of lengths
    length = score_lengths[name]
    low, high = length[length > 1].min().log10().item(), length.max().log10().item()
    assert (2.5 < low < 2.9 and 3.9 < high < 4.2) if name == "ring" else (1.6 < low < 2.0 and 2.8 < high < 3.05)
    assert (length <= 1).sum() <= 1                                    # only the ring's centre, a grid mode

# %% [markdown]
# ### Langevin dynamics
#
# A score is enough to *sample*. **Langevin dynamics** starts anywhere and repeats
#
# $$x \leftarrow x + \frac{\eta}{2}\, \nabla_x \log p(x) + \sqrt{\eta}\, z,
#   \qquad z \sim \mathcal N(0, I):$$
#
# a step of size $\eta$ up the log-density plus a little noise. As $\eta \to 0$ and the number
# of steps grows, the chain's distribution tends to $p$ (the noise keeps it from collapsing onto
# the modes: without $z$ it would be gradient ascent), but only after very many steps when $p$
# has separate modes: a chain moves from one mode to another only through the low-density space
# between them, and with narrow modes far apart it practically never does. The package's sampler
# (its `step` is $\eta$):

# %%
print(inspect.getsource(langevin))

# %% [markdown]
# We run it with the exact score on 2,500 points drawn uniformly over each plotted square, 300
# steps of $\eta = 0.1\, \tau^2$ (small beside the modes' variance), and score the result with
# lecture 6's protocol (`mode_coverage`): a sample is *high quality* within 3 standard
# deviations of its nearest mode, and a mode is *captured* by at least one high-quality sample.
# The mixtures weight their modes equally, so we also count the samples nearest to each mode
# (`mode_shares`): 2,500 / 8 = 312.5 per mode on the ring, 100 on the grid, up to sampling
# noise, which Pearson's $\chi^2 = \sum_k (n_k - N/K)^2 / (N/K)$ measures (about $K - 1$ under
# equal weights: 7 on the ring, 24 on the grid; above 24.3 and 51.2 one time in 1,000).

# %%
def mode_weights(x, means, std, start):
    """mode_coverage's dict plus the samples nearest to each mode (K,), their chi-square against
    equal weights, and the fraction of chains that end nearest to the mode nearest their start."""
    counts = (mode_shares(x, means) * len(x)).round()
    expected = len(x) / len(means)
    nearest = lambda y: torch.cdist(y.float(), means.float()).argmin(1)   # noqa: E731
    return {**mode_coverage(x, means, std), "counts": counts, "chi2": ((counts - expected) ** 2 / expected).sum().item(),
            "stayed": (nearest(x) == nearest(start)).float().mean().item()}


langevin_rows = {}                                       # (data, sampler) -> mode_weights' dict
starts = {name: (2 * torch.rand(2500, 2, generator=torch.Generator().manual_seed(0)) - 1) * extent[name]
          for name in mixtures}                          # uniform over the square, (2500, 2)
for name, (points, means, std) in mixtures.items():
    x = langevin(lambda y: mixture_score(y, means, std), starts[name], step=0.1 * std ** 2, num_steps=300,
                 generator=torch.Generator().manual_seed(1))
    row = langevin_rows[name, "exact score, one level"] = mode_weights(x, means, std, starts[name])
    print(f"{name}: {row['modes']} modes captured, {100 * row['high_quality']:.1f} % high quality; samples per mode "
          f"{row['counts'].min():.0f} to {row['counts'].max():.0f} (equal weights: {2500 / len(means):.1f}), "
          f"chi-square {row['chi2']:.0f} on {len(means) - 1} degrees of freedom; "
          f"{100 * row['stayed']:.1f} % of the chains end at the mode nearest to their start")

# %% jupyter={"source_hidden": true} tags=["claim-08-langevin-exact", "hide-input"]
for name, total in (("ring", 8), ("grid", 25)):
    row = langevin_rows[name, "exact score, one level"]
    # 3 stds in 2-d hold 1 - exp(-9/2) = 98.9 % of a Gaussian's mass
    assert row["modes"] == total and row["high_quality"] > 0.96
    # the chains stay in the basin they started in, so the modes' counts follow the basins' areas
    assert row["stayed"] > 0.995 and row["chi2"] > {8: 2 * 24.3, 25: 51.2}[total]   # above the 1-in-1,000 line
    _, means_, _ = mixtures[name]
    basin = torch.cdist(torch.cartesian_prod(*[torch.linspace(-extent[name], extent[name], 401)] * 2),
                        means_).argmin(1).bincount(minlength=total) / 401 ** 2      # each basin's share of the square
    assert (row["counts"] / 2500 - basin).abs().max() < 0.02
    assert row["counts"].max() / row["counts"].min() > 1.3
# the 1-in-1,000 thresholds quoted for chi-square (Wilson-Hilferty's approximation, within 0.5)
for df, threshold in ((7, 24.3), (24, 51.2)):
    assert abs(df * (1 - 2 / (9 * df) + 3.090 * math.sqrt(2 / (9 * df))) ** 3 - threshold) < 0.5

# %% [markdown]
# With the exact score Langevin finds every mode, and about 99 % of its samples are high
# quality, which is what exact samples would give: 3 standard deviations in 2-d hold
# $1 - e^{-9/2} = 98.9\,\%$ of a Gaussian's mass. But the samples are *not* spread over the
# modes as $p$ spreads them: the counts per mode are far from equal, and practically every chain
# ends at the mode nearest to where it started. In 300 small steps no chain crosses between
# modes, so each mode keeps the chains that started in its basin, the part of the square
# closer to it than to any other mode: on the ring the diagonal modes' basins reach the
# square's corners and collect more chains than the modes on the axes; on the grid the corner
# modes' basins are the largest and the inner modes' the smallest. Langevin's limit, $p$
# itself, is many more steps away.
#
# ### Why one noise level fails
#
# For data we do not know the score; we must learn it from samples. The trick (next section
# derives it) is to blur the data with Gaussian noise of a small standard deviation $\sigma$
# and train a network to undo the noise: **denoising score matching**. Its optimum is the score
# of the *blurred* data, $\nabla \log p_\sigma$, with $p_\sigma = p * \mathcal N(0, \sigma^2 I)$.
# But it is trained only where the blurred data are. With $\sigma = 0.01$ the training points
# never leave a thin neighbourhood of the modes, and the network's score everywhere else, the
# empty space between the modes where Langevin chains start, is whatever the network
# happens to extrapolate.
#
# We train the package's noise-conditional MLP (`NoiseConditionalScore`: three hidden layers of
# 64, trained by section 2's loss, whose code section 3 prints after exercise 2) for 3,000 steps on 20,000 points, at the single level
# $\sigma = 0.01$.
#
# **Units.** Every network of this lecture's 2-d models, these and the shipped DDPMs of
# section 3, works in *model units*: the data divided by `SCALE` $= 0.25$, i.e. multiplied by
# 4. We convert everything back, so that every number printed is in the data's units unless a
# table says otherwise. A score changes with the units by the chain rule,
# $s_\mathrm{data}(x) = s_\mathrm{model}(x / 0.25) / 0.25$, and a density by the Jacobian
# of the scaling, $\log p_\mathrm{data}(x) = \log p_\mathrm{model}(x / 0.25) - D \log 4$ in
# $D = 2$ dimensions: a negative log-density measured in model units becomes one in data units
# by adding $D \log 0.25 = -2.77$ nats. (For these score networks the choice of units is
# mostly a convenience; section 3 shows where it matters.)
#
# Then we compare the network's score with the exact score of the blurred mixture (a mixture
# of wider Gaussians, variance $\tau^2 + \sigma^2$), by the relative error
# $|s_\theta - \nabla \log p_\sigma| / |\nabla \log p_\sigma|$, at two kinds of points:
# blurred data points, and the uniform starting points of the chains.

# %%
S = SCALE["ring"]                                        # the same 0.25 for both mixtures
sigma_one = 0.01                                         # the single noise level, data units


def relative_error(score_fn, exact_fn, x):
    """|s_theta(x) - s(x)| / |s(x)| per point, (N,)."""
    with torch.no_grad():
        exact = exact_fn(x)
        return (score_fn(x) - exact).norm(dim=1) / exact.norm(dim=1)


one_level, one_level_errors = {}, {}
with one_thread():
    for name, (points, means, std) in mixtures.items():
        torch.manual_seed(0)
        net = NoiseConditionalScore(hidden=(64, 64, 64))
        fit_score(net, points / S, torch.tensor([sigma_one / S]), steps=3000, batch_size=512, progress=False)
        # back to the data's units: s_data(x) = s_model(x / S) / S
        one_level[name] = lambda y, net=net: net.score(y / S, sigma_one / S) / S
        blurred = points[:2500] + sigma_one * torch.randn(2500, 2, generator=torch.Generator().manual_seed(2))
        exact = lambda y, means=means, std=std: mixture_score(y, means, std, sigma_one)   # noqa: E731
        one_level_errors[name] = {"near the data": relative_error(one_level[name], exact, blurred).median().item(),
                                  "over the square": relative_error(one_level[name], exact, starts[name]).median().item()}
print(f"{'data':5} {'median relative error (no units): near the data':>49} {'over the square':>16}")
for name, errors in one_level_errors.items():
    print(f"{name:5} {errors['near the data']:49.2f} {errors['over the square']:16.2f}")

# %% [markdown]
# Then Langevin from the same starting points with the learned score (300 steps, as before,
# the step scaled to the blurred modes' variance $\tau^2 + \sigma^2$):

# %%
for name, (points, means, std) in mixtures.items():
    with torch.no_grad():
        x = langevin(one_level[name], starts[name], step=0.1 * (std ** 2 + sigma_one ** 2), num_steps=300,
                     generator=torch.Generator().manual_seed(1))
    langevin_rows[name, "learned score, one level"] = row = mode_weights(x, means, std, starts[name])
    print(f"{name}: {row['modes']} modes captured, {100 * row['high_quality']:.1f} % high quality")

# %% mystnb={"figure": {"caption": "Where the score learned at the single level $\\sigma = 0.01$ is wrong: the relative error $|s_\\theta - \\nabla \\log p_\\sigma| / |\\nabla \\log p_\\sigma|$ over the plane ($\\log_{10}$, clipped at $\\pm 1$; white is an error as large as the score itself), with the modes as dots. On the ring the error is small (dark blue) only near the modes and along rays running outwards from them; on the grid the network's score is almost 0 everywhere, an error of 100 %.", "name": "fig-08-one-level-error"}, "image": {"alt": "Two square heat maps of log10 relative error, from dark blue (0.1) through white (1) to red (10). Left, the ring: pale blue and white over most of the square, with dark blue at the eight modes and dark blue rays fanning outwards from each of them to the square's edge; a red speck at the centre. Right, the grid: uniformly white, with 25 small dots in a 5 by 5 lattice and a faint smudge near the centre."}}
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6))
for ax, (name, (points, means, std)) in zip(axes, mixtures.items()):
    lim = extent[name]
    axis = torch.linspace(-lim, lim, 121)
    plane = torch.cartesian_prod(axis, axis)              # (121 * 121, 2)
    error = relative_error(one_level[name], lambda y: mixture_score(y, means, std, sigma_one), plane)
    image = ax.imshow(error.log10().clamp(-1, 1).view(121, 121).T.numpy(), origin="lower",
                      extent=(-lim, lim, -lim, lim), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.scatter(means[:, 0], means[:, 1], s=8, color="white", edgecolor="black", linewidth=0.5)
    ax.set_title(f"{name}: learned at sigma = {sigma_one}")
    ax.set_aspect("equal")
fig.colorbar(image, ax=axes, shrink=0.8, label="log10 relative error")
plt.show()

# %% [markdown]
# ### Annealed Langevin: many noise levels
#
# Song and Ermon's remedy (NCSN, 2019) is to learn the score at *many* levels at once, from a
# large $\sigma_1$, at which the blurred data fill the whole plane and the score is easy and
# known everywhere, down to a small $\sigma_L$, at which $p_\sigma$ is almost $p$. One network
# takes $\sigma$ as an input, $s_\theta(x, \sigma)$. Sampling then runs Langevin at each level
# in turn, largest first, each level starting where the previous one stopped, with a step that
# shrinks with the level's variance, $\eta_i = \eta\, \sigma_i^2 / \sigma_L^2$ (the package's
# `eps`, Song and Ermon's name, is this step $\eta$, not the noise $\epsilon$ of sections 2–3): early levels move points across the plane with a score that is right there,
# and later levels only refine them near the data, where their score was trained. The early
# levels also do a second job (Song and Ermon's second reason for annealing): at a large
# $\sigma$ the blurred modes overlap, chains move freely between them, and they spread over the
# modes in proportion to the modes' weights before the small levels pin them down. The levels
# are geometric (equal ratios), here 10 of them down to $\sigma_L = 0.01$, from $\sigma_1 = 2$
# on the ring, its diameter, which is Song and Ermon's later rule of thumb (2020: $\sigma_1$ as
# large as the largest distance between two data points), and from 4 on the grid, below that
# rule's $8\sqrt 2 \approx 11.3$ (the grid's half-width, twice the spacing of its modes: the
# blurred modes already overlap there, and the same 10 levels stay closer together):

# %%
print(inspect.getsource(annealed_langevin))
print(inspect.getsource(geometric_sigmas))

# %% [markdown]
# The network and training budget are the ones of the single level (three layers of 64, 3,000
# steps of 512 points): only the levels change, one drawn at random for each training point.
# The sampler runs 100 steps per level, 1,000 in all, with $\eta = 2 \times 10^{-5}$. As a
# reference the same annealed sampler runs on the exact blurred scores. The table gathers all
# four samplers, with the samples per mode (fewest and most, against 312.5 and 100 for equal
# weights) and their $\chi^2$.

# %%
sigma_max = {"ring": 2.0, "grid": 4.0}
sigmas = {name: geometric_sigmas(sigma_max[name], sigma_one, 10) for name in mixtures}   # data units
annealed = {}
with one_thread():
    for name, (points, means, std) in mixtures.items():
        torch.manual_seed(0)
        net = NoiseConditionalScore(hidden=(64, 64, 64))
        fit_score(net, points / S, sigmas[name] / S, steps=3000, batch_size=512, progress=False)
        annealed[name] = lambda y, sigma, net=net: net.score(y / S, sigma / S) / S
        for label, score_fn in (("learned score, annealed", annealed[name]),
                                ("exact score, annealed", lambda y, sigma, means=means, std=std:
                                 mixture_score(y, means, std, sigma))):
            with torch.no_grad():
                x = annealed_langevin(score_fn, starts[name], sigmas[name], eps=2e-5, steps_per_level=100,
                                      generator=torch.Generator().manual_seed(1))
            langevin_rows[name, label] = mode_weights(x, means, std, starts[name])
print("noise levels (ring, data units):", " ".join(f"{s:.3g}" for s in sigmas["ring"].tolist()))
print(f"\n{'data':5} {'Langevin with':28} {'modes captured':>14} {'high quality':>13} {'samples per mode':>17} "
      f"{'chi-square':>11}")
for name, label in [(n, l) for n in mixtures for l in ("exact score, one level", "learned score, one level",
                                                         "learned score, annealed", "exact score, annealed")]:
    row = langevin_rows[name, label]
    print(f"{name:5} {label:28} {row['modes']:5d} / {row['num_modes']:<3} {100 * row['high_quality']:9.1f} % "
          f"{row['counts'].min():9.0f} to {row['counts'].max():<4.0f} {row['chi2']:10.0f}")

# %% jupyter={"source_hidden": true} tags=["claim-08-one-level-fails", "hide-input"]
ring_one, grid_one = one_level_errors["ring"], one_level_errors["grid"]
assert ring_one["near the data"] < 0.2 and ring_one["over the square"] > 0.4    # right only near the modes
assert grid_one["near the data"] > 0.8 and grid_one["over the square"] > 0.8    # learned little anywhere
_, grid_means_, grid_std = mixtures["grid"]
with torch.no_grad():                                    # the grid's learned score is almost 0
    ratio = one_level["grid"](starts["grid"]).norm(dim=1) / mixture_score(starts["grid"], grid_means_, grid_std,
                                                                          sigma_one).norm(dim=1)
assert ratio.median() < 0.1
rows = langevin_rows
assert rows["grid", "learned score, one level"]["modes"] < 25
assert rows["grid", "learned score, one level"]["high_quality"] < 0.2
assert rows["ring", "learned score, one level"]["high_quality"] < min(0.75, rows["ring", "exact score, one level"]["high_quality"] - 0.15)   # > a quarter outside

# %% jupyter={"source_hidden": true} tags=["claim-08-annealed-langevin", "hide-input"]
for name, total in (("ring", 8), ("grid", 25)):
    assert rows[name, "learned score, annealed"]["modes"] == rows[name, "exact score, annealed"]["modes"] == total
    assert rows[name, "learned score, annealed"]["high_quality"] > rows[name, "learned score, one level"]["high_quality"] + 0.05
    assert 0.5 < rows[name, "learned score, annealed"]["high_quality"] < rows[name, "exact score, one level"]["high_quality"]
# the exact annealed chain ends at p blurred by sigma_L: its high-quality share is the chi-square's
# P(|x - m|^2 / (tau^2 + sigma_L^2) <= 9 tau^2 / (tau^2 + sigma_L^2)) in 2-d, 1 - exp(-9 tau^2 / (2 (tau^2 + sigma_L^2)))
for name, (_, _, std) in mixtures.items():
    predicted = 1 - math.exp(-9 * std ** 2 / (2 * (std ** 2 + sigma_one ** 2)))
    assert abs(rows[name, "exact score, annealed"]["high_quality"] - predicted) < 0.02
# the second reason for annealing: the exact annealed chains spread over the modes as equal weights do
for name, threshold in (("ring", 24.3), ("grid", 51.2)):
    assert rows[name, "exact score, annealed"]["chi2"] < threshold < rows[name, "exact score, one level"]["chi2"]
    assert rows[name, "exact score, annealed"]["stayed"] < 0.9                     # chains crossed between modes
assert 24.3 < rows["ring", "learned score, annealed"]["chi2"] < 0.75 * rows["ring", "exact score, one level"]["chi2"]
grid_counts = rows["grid", "learned score, annealed"]["counts"]
assert grid_counts.max() / grid_counts.min() > 8                                    # "ten times as many"

# %% [markdown]
# Read the table by rows. With the exact score, one level of Langevin puts its samples inside
# the modes, in the proportions of the starting points' basins rather than the mixture's equal
# weights. The score learned at the single level $\sigma = 0.01$ is another matter. On the ring
# it is accurate near the modes (a median error of 5 %) and wrong over most of the square, where
# its error is comparable to the score itself (the pale regions of the figure), and more than a
# quarter of its samples (28 %) end up outside the modes. On the grid the network learned almost
# nothing in 3,000 steps: with noise five times smaller than the modes' own spread, a noisy
# point says little about its noise (the next section makes this precise), and the chains miss
# modes and land almost nowhere near one.
#
# Annealing, with the same network size and the same number of training steps, captures every
# mode of both mixtures and puts most samples inside them. With the exact score it also evens out
# the counts per mode: $\chi^2$ falls from 66 to 9 on the ring and from 54 to 20 on the grid,
# values that equal weights give, because at the large levels the chains crossed between modes.
# The learned scores do this only partly on the ring ($\chi^2 = 36$) and not at all on the grid,
# where some modes receive ten times as many samples as others. Nor do the annealed chains reach
# the exact score's one-level quality, for two reasons the table separates. The learned scores
# are not exact (the learned and the exact annealed rows differ by that alone). And even the
# exact annealed chain ends at the data blurred by $\sigma_L = 0.01$, whose modes are wider than
# the data's: on the ring, where $\tau = \sigma_L$, the fraction within 3 standard deviations
# drops to $1 - e^{-9 \tau^2 / 2(\tau^2 + \sigma_L^2)} = 89.5\,\%$, as measured; on the grid,
# where $\tau = 5\sigma_L$, it stays near 99 %.
#
# ## 2. Denoising score matching = predicting the noise
#
# Why does a network trained to remove noise learn a score? Take a data point $x$ and blur it,
# $\tilde x = x + \sigma \epsilon$ with $\epsilon \sim \mathcal N(0, I)$, so that $\tilde x$ has
# the blurred density $p_\sigma(\tilde x) = \int q_\sigma(\tilde x \mid x)\, p(x)\, dx$ with
# $q_\sigma(\tilde x \mid x) = \mathcal N(\tilde x; x, \sigma^2 I)$. Line by line:
#
# 1. **The score of the noise kernel.** $\log q_\sigma(\tilde x \mid x) = -\frac{|\tilde x -
#    x|^2}{2\sigma^2} + \text{const}$, so
#    $$\nabla_{\tilde x} \log q_\sigma(\tilde x \mid x) = -\frac{\tilde x - x}{\sigma^2}
#      = -\frac{\epsilon}{\sigma}.$$
# 2. **The blurred score is its average over the clean points.** Differentiate under the
#    integral, $\nabla p_\sigma(\tilde x) = \int q_\sigma(\tilde x \mid x) \nabla_{\tilde x}
#    \log q_\sigma(\tilde x \mid x)\, p(x)\, dx$, and divide by $p_\sigma(\tilde x)$: by Bayes,
#    $q_\sigma(\tilde x \mid x) p(x) / p_\sigma(\tilde x) = p(x \mid \tilde x)$, so
#    $$\nabla \log p_\sigma(\tilde x) = \mathbb E\big[\nabla_{\tilde x} \log q_\sigma(\tilde x
#      \mid x) \,\big|\, \tilde x\big] = -\frac{\mathbb E[\epsilon \mid \tilde x]}{\sigma}.$$
# 3. **Denoising score matching** (Vincent 2011) regresses on the kernel's score,
#    $L_\mathrm{DSM}(\theta) = \mathbb E_{x, \epsilon}\, |s_\theta(\tilde x) + \epsilon /
#    \sigma|^2$. A squared loss is minimised by the conditional mean of its target, so by line 2
#    its optimum is $s^*(\tilde x) = -\mathbb E[\epsilon \mid \tilde x] / \sigma = \nabla \log
#    p_\sigma(\tilde x)$: the blurred data's score, learned from samples alone.
# 4. **The same loss as predicting the noise.** Write $s_\theta(\tilde x) = -\hat\epsilon_\theta
#    (\tilde x) / \sigma$. Then $\sigma^2 L_\mathrm{DSM} = \mathbb E\, |\epsilon - \hat
#    \epsilon_\theta(\tilde x)|^2$: the network predicts the noise that was added, and the
#    score is $s(\tilde x) = -\hat\epsilon(\tilde x) / \sigma$. (The factor $\sigma^2$ also makes
#    every level's loss of the same size, about 1 per dimension at the start, so that many levels
#    can share one network.)
# 5. **Tweedie's formula** (Efron 2011). From $x = \tilde x - \sigma \epsilon$ and line 2, the best guess of
#    the clean point is
#    $$\mathbb E[x \mid \tilde x] = \tilde x - \sigma\, \mathbb E[\epsilon \mid \tilde x]
#      = \tilde x + \sigma^2 \nabla \log p_\sigma(\tilde x).$$
#    A denoiser and a score are the same object.
#
# Line 3 also explains why one level worked on the ring and failed on the grid. The optimum
# predicts only $\mathbb E[\epsilon \mid \tilde x]$, and near a mode $m$ of standard deviation
# $\tau$ that is $\frac{\sigma}{\tau^2 + \sigma^2}(\tilde x - m)$, which carries a fraction
# $\sigma^2 / (\tau^2 + \sigma^2)$ of the noise's variance. On the ring, where $\tau = \sigma
# = 0.01$, that is 50 %: the loss $\sigma^2 L_\mathrm{DSM}$ can fall from 2 (predicting 0, in
# 2 dimensions) to 1, a strong signal. On the grid ($\tau = 0.05$) it is 4 %, so the loss can
# fall only from 2 to 1.92, a faint signal to learn from. The package's network is line 4
# exactly (its loss is printed after exercise 2, which asks for DDPM's version of it):

# %%
print(inspect.getsource(NoiseConditionalScore.score))

# %% [markdown]
# Two numerical checks. First, the annealed networks of section 1 against the exact blurred
# scores, level by level, at blurred data points $\tilde x = x + \sigma\epsilon$ (where the
# training points were). We measure the error in the units training fits, the noise's:
# $\sigma\,|s_\theta - \nabla \log p_\sigma| = |\hat\epsilon - \epsilon^*|$, with
# $\epsilon^* = -\sigma \nabla \log p_\sigma$ the optimal prediction (a standard normal
# $\epsilon$ in 2-d has a median length of 1.18), and, for comparison, relative to the exact
# score, which exaggerates the error wherever the exact score is near 0. Second, Tweedie's formula at one
# level, $\sigma = 0.34$ on the ring and $0.54$ on the grid (the fourth level): the posterior
# mean $\mathbb E[x \mid \tilde x]$ computed by Bayes' rule over the 20,000 data points
# (weights $q_\sigma(\tilde x \mid x_i)$), against $\tilde x + \sigma^2 \nabla\log p_\sigma$ with
# the exact score, and with the learned one, $\tilde x - \sigma \hat\epsilon$.

# %%
dsm_errors, tweedie = {}, {}
g = torch.Generator().manual_seed(3)
for name, (points, means, std) in mixtures.items():
    x_clean = points[:2000]
    for sigma in sigmas[name].tolist():
        x_tilde = x_clean + sigma * torch.randn(2000, 2, generator=g)
        with torch.no_grad():
            exact, learned = mixture_score(x_tilde, means, std, sigma), annealed[name](x_tilde, sigma)
        dsm_errors[name, sigma] = {"noise units": (sigma * (learned - exact).norm(dim=1)).median().item(),
                                   "relative": ((learned - exact).norm(dim=1) / exact.norm(dim=1)).median().item(),
                                   "exact eps*": (sigma * exact.norm(dim=1)).median().item()}
    sigma = sigmas[name][3].item()
    x_tilde = x_clean[:500] + sigma * torch.randn(500, 2, generator=g)
    weights = torch.softmax(-torch.cdist(x_tilde, points) ** 2 / (2 * sigma ** 2), dim=1)   # p(x_i | x_tilde)
    bayes = weights @ points                                                     # (500, 2)
    with torch.no_grad():
        tweedie[name] = {"sigma": sigma,
                         "exact score": (x_tilde + sigma ** 2 * mixture_score(x_tilde, means, std, sigma) - bayes).norm(dim=1).mean().item(),
                         "learned score": (x_tilde + sigma ** 2 * annealed[name](x_tilde, sigma) - bayes).norm(dim=1).mean().item(),
                         "no denoising": (x_tilde - bayes).norm(dim=1).mean().item()}
print("the learned score against the exact blurred score at 2,000 blurred points, medians by level sigma (data units):")
for name in mixtures:
    print(f"\n{name:5} {'sigma':16}", "".join(f"{sigma:7.3g}" for sigma in sigmas[name].tolist()))
    for what, label in (("noise units", "|eps_hat - eps*|"), ("exact eps*", "|eps*|"), ("relative", "relative error")):
        print(f"{'':5} {label:16}", "".join(f"{dsm_errors[name, sigma][what]:7.2f}" for sigma in sigmas[name].tolist()))
print("\nTweedie: mean distance from Bayes' E[x | x_tilde] over 500 blurred points (data units)")
print(f"{'data':5} {'sigma':>6} {'x_tilde itself':>15} {'exact score':>12} {'learned score':>14}")
for name, row in tweedie.items():
    print(f"{name:5} {row['sigma']:6.3f} {row['no denoising']:15.3f} {row['exact score']:12.4f} {row['learned score']:14.3f}")

# %% jupyter={"source_hidden": true} tags=["claim-08-dsm-is-the-score", "hide-input"]
levels = {name: sigmas[name].tolist() for name in mixtures}
noise_err = {name: [dsm_errors[name, sigma]["noise units"] for sigma in levels[name]] for name in mixtures}
for name in mixtures:
    assert tweedie[name]["exact score"] < 0.03 * tweedie[name]["no denoising"]   # Tweedie = Bayes
# in noise units, level by level: the ring within 0.15 everywhere
assert all(e < 0.15 for e in noise_err["ring"])
# the grid: close at its three largest levels and its two smallest, 0.25 to 0.6 off at the five between
assert all(e < 0.2 for e in noise_err["grid"][:3]) and all(e < 0.3 for e in noise_err["grid"][8:])
assert all(0.25 < e < 0.6 for e in noise_err["grid"][3:8])
# at sigma = 1.06 the blurred grid is nearly flat: eps* is small, so the relative error is large
assert abs(math.sqrt(2 * math.log(2)) - 1.18) < 0.005                    # median length of a 2-d standard normal
flat = dsm_errors["grid", levels["grid"][2]]
assert flat["exact eps*"] < 0.2 and flat["relative"] > 0.6 and flat["noise units"] < 0.2
assert tweedie["ring"]["learned score"] < 0.3 * tweedie["ring"]["no denoising"]
assert 0.3 * tweedie["grid"]["no denoising"] < tweedie["grid"]["learned score"] < 0.75 * tweedie["grid"]["no denoising"]
assert tweedie["ring"]["learned score"] < 0.2 * tweedie["ring"]["no denoising"]                  # removes most (85 %)
# the exact annealed chain against the learned one: a few points on the ring, tens on the grid
gap_ring = rows["ring", "exact score, annealed"]["high_quality"] - rows["ring", "learned score, annealed"]["high_quality"]
gap_grid = rows["grid", "exact score, annealed"]["high_quality"] - rows["grid", "learned score, annealed"]["high_quality"]
assert 0 < gap_ring < 0.1 and 0.2 < gap_grid < 0.45
assert rows["grid", "learned score, annealed"]["chi2"] > 5 * 51.2               # counts far from equal

# %% [markdown]
# Tweedie's formula with the exact score lands on Bayes' posterior mean, up to the Monte Carlo
# error of 20,000 points. On the ring the learned network's $\hat\epsilon$ is within about 0.1 of
# the optimal $\epsilon^*$ at every level, and its denoiser removes most (85 %) of the noise's
# displacement. The grid's network is as close at its three largest levels and its two smallest,
# but 0.35 to 0.53 off at the five levels between ($\sigma$ from 0.54 down to 0.038, where the
# blurred modes come apart), and its denoiser removes only about half of the displacement.
# (Relative to the exact score, the grid's error at $\sigma = 1.06$ looks as large as the score
# itself, 0.98: at that level the blurred grid is almost flat, the optimal $\epsilon^*$ has a
# median length of only 0.10, and a small error in the noise is large beside it.) The same
# contrast is in section 1's table: each learned annealed chain against the exact annealed chain
# with the same levels, the ring's is 5 points of high-quality samples below it, the grid's 33
# points, with its counts per mode far from equal.

# %% [markdown]
# ## 3. DDPM: a fixed chain of noise, and a network that undoes it
#
# Annealed Langevin fixes a ladder of noise levels by hand and runs many steps at each. The
# **denoising diffusion probabilistic model** (DDPM; Ho, Jain and Abbeel 2020, after
# Sohl-Dickstein et al. 2015) builds the ladder into a model: a *forward* Markov chain adds a
# little Gaussian noise at each of $T = 1{,}000$ steps until nothing of the data is left, and a
# network learns the *reverse* chain, one small denoising step at a time. It is a VAE whose
# encoder is fixed (the forward chain) and whose latent variables $x_1, \dots, x_T$ have the
# data's shape, so lecture 5's ELBO applies to it term by term.
#
# **The forward process.** With a schedule $\beta_1, \dots, \beta_T$ of small variances,
#
# $$q(x_t \mid x_{t-1}) = \mathcal N\big(\sqrt{1 - \beta_t}\, x_{t-1},\ \beta_t I\big),
#   \qquad \text{i.e. } x_t = \sqrt{\alpha_t}\, x_{t-1} + \sqrt{\beta_t}\, z_t,\quad \alpha_t = 1 - \beta_t.$$
#
# Each step shrinks the signal a little and adds noise, with the coefficients chosen so that a
# unit variance stays a unit variance. Its $t$-step marginal has a closed form, by induction:
#
# * $t = 1$: $x_1 = \sqrt{\alpha_1}\, x_0 + \sqrt{1 - \alpha_1}\, z_1$.
# * Suppose $x_{t-1} = \sqrt{\bar\alpha_{t-1}}\, x_0 + \sqrt{1 - \bar\alpha_{t-1}}\, \epsilon'$,
#   $\epsilon'$ a standard normal, with $\bar\alpha_t = \prod_{i \le t} \alpha_i$. Then
#   $x_t = \sqrt{\alpha_t \bar\alpha_{t-1}}\, x_0 + \sqrt{\alpha_t (1 - \bar\alpha_{t-1})}\,
#   \epsilon' + \sqrt{\beta_t}\, z_t$.
# * The two noises are independent Gaussians, so their variances add:
#   $\alpha_t (1 - \bar\alpha_{t-1}) + 1 - \alpha_t = 1 - \bar\alpha_t$. Hence
#
# $$q(x_t \mid x_0) = \mathcal N\big(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\big),
#   \qquad x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon .$$
#
# Any $x_t$ is one draw away from $x_0$: training never simulates the chain. This is section
# 2's blurring again, with the signal shrunk by $\sqrt{\bar\alpha_t}$ and the noise level
# $\sqrt{1 - \bar\alpha_t}$ growing with $t$. Two schedules in the package: DDPM's **linear**
# $\beta_t$ from $10^{-4}$ to $0.02$, and Nichol and Dhariwal's **cosine** schedule, which
# defines $\bar\alpha_t$ directly and destroys the signal more evenly over $t$:

# %%
print(inspect.getsource(linear_betas))
print(inspect.getsource(cosine_betas))
alpha_bars = {label: torch.cumprod(1 - betas(1000), 0) for label, betas in (("linear", linear_betas),
                                                                            ("cosine", cosine_betas))}
t_shown = (1, 10, 100, 250, 500, 750, 1000)
print(f"{'schedule':8} {'t':>36}" + "".join(f"{t:>9d}" for t in t_shown) + "   (last row: model units)")
for label, a_bar in alpha_bars.items():
    print(f"{label:8} {'sqrt(alpha_bar_t)':>36}" + "".join(f"{a_bar[t - 1].sqrt():9.4f}" for t in t_shown))
a_bar = alpha_bars["linear"]                            # the level of x_t / sqrt(alpha_bar_t) (below), model units
print(f"{'linear':8} {'sqrt((1 - alpha_bar_t) / alpha_bar_t)':>36}"
      + "".join(f"{((1 - a_bar[t - 1]) / a_bar[t - 1]).sqrt():9.3g}" for t in t_shown))

# %% [markdown]
# **Exercise 1 (the forward marginal).** Write $x_t$ drawn from $q(x_t \mid x_0)$, given the
# noise: the closed form above, from the schedule alone.
#
# * `x0`: a float64 tensor of any shape; `eps`: standard normal noise of the same shape;
#   `t`: a 0-d integer tensor, the step (1-based, as in the paper: `betas[t - 1]` is $\beta_t$);
#   `betas`: the `(T,)` float64 schedule;
# * return: $x_t$, a tensor of the shape of `x0`.
#
# `torch.cumprod` or `torch.prod` gives $\bar\alpha_t$. The checker names the usual mistakes:
# $\alpha_t$ where $\bar\alpha_t$ belongs, a missing square root, a variance used as a standard
# deviation, a product off by one step.

# %%
def forward_marginal(x0, eps, t, betas):
    """A draw from q(x_t | x_0) made with the noise eps, x0's shape."""
    ### BEGIN SOLUTION
    alpha_bar = torch.prod(1 - betas[:int(t)])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps
    ### END SOLUTION


# %%
check_forward_marginal(forward_marginal)

# %% [markdown]
# The package's version, `DDPM.q_sample`, reads $\bar\alpha_t$ from a table computed once
# (`alpha_bars`, entry $t - 1$ for step $t$) and shapes it to broadcast over a batch of any
# shape:

# %% tags=["answer-source"]
print(inspect.getsource(DDPM.q_sample))

# %% [markdown]
# **Checked: the closed form against the chain.** We take 10,000 of the ring's points in the shipped
# models' units (divided by 0.25), run the chain one step at a time with the linear schedule,
# and compare $x_t$ at a few $t$ with one draw of the closed form: the residual
# $x_t - \sqrt{\bar\alpha_t}\, x_0$ should have mean 0 and variance $1 - \bar\alpha_t$ per
# coordinate, whichever way $x_t$ was made.

# %%
ring_model, ring_entry = load_shipped("ddpm2d_ring.pt")
x0 = mixtures["ring"][0][:10_000] / ring_model.scale     # (10000, 2), model units
g = torch.Generator().manual_seed(4)
x_chain, checks, snapshots = x0.clone(), {}, {}
for t in range(1, 1001):
    beta = ring_model.betas[t - 1]
    x_chain = (1 - beta).sqrt() * x_chain + beta.sqrt() * torch.randn(x0.shape, generator=g)   # one step
    if t in (10, 100, 300, 1000):
        x_closed = ring_model.q_sample(x0, torch.full((len(x0),), t), torch.randn(x0.shape, generator=g))
        a_bar = ring_model.alpha_bars[t - 1].item()
        checks[t] = {"1 - alpha_bar": 1 - a_bar}
        for label, x_t in (("chain", x_chain), ("closed form", x_closed)):
            residual = x_t - math.sqrt(a_bar) * x0
            checks[t][label] = (residual.mean().item(), residual.var(0).mean().item())
        snapshots[t] = (x_chain[:2000].clone(), x_closed[:2000])
print(f"{'t':>5} {'1 - alpha_bar_t':>16} {'chain: mean, var of residual':>30} {'closed form: mean, var':>24}"
      f"   (model units)")
for t, row in checks.items():
    print(f"{t:5d} {row['1 - alpha_bar']:16.4f} {row['chain'][0]:14.4f} {row['chain'][1]:14.4f} "
          f"{row['closed form'][0]:11.4f} {row['closed form'][1]:11.4f}")

# %% jupyter={"source_hidden": true} tags=["claim-08-forward-marginal", "hide-input"]
for t, row in checks.items():
    for label in ("chain", "closed form"):
        mean, var = row[label]
        assert abs(mean) < 0.02 and abs(var - row["1 - alpha_bar"]) < 0.03 * row["1 - alpha_bar"] + 1e-4
assert checks[1000]["1 - alpha_bar"] > 0.9999                              # x_T: almost pure noise

# %% mystnb={"figure": {"caption": "The forward process on the ring (in model units, the data divided by 0.25), run step by step (top) and drawn in one step from the closed form $q(x_t \\mid x_0)$ (bottom), 2,000 points at each $t$: the two rows agree, and by $t = 1{,}000$ nothing of the ring is left.", "name": "fig-08-forward-process"}, "image": {"alt": "Two rows of four square scatter plots, orange on top and blue below, at t = 10, 100, 300 and 1000. At t = 10 both show eight tight clusters on a circle of radius 4; at t = 100 the clusters have spread into eight blobs still on a ring; at t = 300 a clear annulus of radius about 2.5, wide and diffuse, with an empty centre; at t = 1000 a round Gaussian cloud of radius about 3. The two rows look alike at every t."}}
fig, axes = plt.subplots(2, 4, figsize=(10, 5.2), sharex=True, sharey=True)
for j, (t, (chain, closed)) in enumerate(snapshots.items()):
    for i, (points, colour, label) in enumerate(((chain, "#c05621", "chain, step by step"),
                                                  (closed, "#2b6cb0", "closed form"))):
        axes[i, j].scatter(points[:, 0], points[:, 1], s=1, alpha=0.4, color=colour)
        axes[i, j].set_title(f"{label}, t = {t}", fontsize=9)
        axes[i, j].set_aspect("equal")
        axes[i, j].set_xlim(-5, 5)
        axes[i, j].set_ylim(-5, 5)
fig.tight_layout()
plt.show()

# %% [markdown]
# Both ways give the same mean and variance at every $t$; at $t = 1{,}000$,
# $\bar\alpha_T < 10^{-4}$, so $x_T$ is a standard Gaussian for any data: the reverse chain can
# start there.
#
# ### The reverse process and the ELBO
#
# The generative model runs the chain backwards: $p(x_T) = \mathcal N(0, I)$, and Gaussian
# steps $p_\theta(x_{t-1} \mid x_t) = \mathcal N(\mu_\theta(x_t, t), \sigma_t^2 I)$, with a fixed
# variance $\sigma_t^2$ ($\sigma_t$ is the reverse step's standard deviation, Ho et al.'s
# notation; the noise levels of sections 1 and 2 have no index $t$). For small
# $\beta_t$ the true reverse step is close to Gaussian, so this family can fit it. As in
# lecture 5, the forward chain is the encoder and Jensen's inequality gives a bound on
# $-\log p_\theta(x_0)$; regrouped (Ho et al., their eq. 5), it is a sum of KL divergences:
#
# $$-\log p_\theta(x_0) \le \underbrace{\mathrm{KL}\big(q(x_T \mid x_0) \,\|\, p(x_T)\big)}_{L_T}
#   + \sum_{t=2}^{T} \underbrace{\mathrm{KL}\big(q(x_{t-1} \mid x_t, x_0) \,\|\, p_\theta(x_{t-1}
#   \mid x_t)\big)}_{L_{t-1}} \underbrace{-\, \log p_\theta(x_0 \mid x_1)}_{L_0}.$$
#
# The trick is the conditioning on $x_0$. The **posterior** $q(x_{t-1} \mid x_t, x_0)$, a
# backward step of the forward chain for a known clean point, is by Bayes' rule
# $q(x_{t-1} \mid x_t, x_0) \propto q(x_t \mid x_{t-1}, x_0)\, q(x_{t-1} \mid x_0)
# = q(x_t \mid x_{t-1})\, q(x_{t-1} \mid x_0)$, the equality by the Markov property (given
# $x_{t-1}$, the next step does not depend on $x_0$). Both factors are Gaussians in $x_{t-1}$,
# so the posterior is a Gaussian $\mathcal N(\tilde\mu_t, \tilde\beta_t I)$, found by completing
# the square in the exponent $-\frac12\big[|x_t - \sqrt{\alpha_t}\, x_{t-1}|^2 / \beta_t +
# |x_{t-1} - \sqrt{\bar\alpha_{t-1}}\, x_0|^2 / (1 - \bar\alpha_{t-1})\big]$:
#
# 1. The coefficient of $|x_{t-1}|^2$ is the precision: $\dfrac{1}{\tilde\beta_t} =
#    \dfrac{\alpha_t}{\beta_t} + \dfrac{1}{1 - \bar\alpha_{t-1}} = \dfrac{\beta_t + \alpha_t
#    (1 - \bar\alpha_{t-1})}{\beta_t (1 - \bar\alpha_{t-1})} = \dfrac{1 - \bar\alpha_t}{\beta_t
#    (1 - \bar\alpha_{t-1})}$, using $\beta_t + \alpha_t (1 - \bar\alpha_{t-1}) = 1 - \bar\alpha_t$.
# 2. The coefficient of $x_{t-1}$ is the precision times the mean: $\tilde\mu_t = \tilde\beta_t
#    \Big(\dfrac{\sqrt{\alpha_t}}{\beta_t}\, x_t + \dfrac{\sqrt{\bar\alpha_{t-1}}}{1 -
#    \bar\alpha_{t-1}}\, x_0\Big)$.
# 3. Put in $\tilde\beta_t$ from line 1:
#
# $$\tilde\mu_t = \frac{\sqrt{\bar\alpha_{t-1}}\,\beta_t}{1 - \bar\alpha_t}\, x_0 +
#   \frac{\sqrt{\alpha_t}\,(1 - \bar\alpha_{t-1})}{1 - \bar\alpha_t}\, x_t, \qquad
#   \tilde\beta_t = \frac{1 - \bar\alpha_{t-1}}{1 - \bar\alpha_t}\, \beta_t .$$
#
# So every $L_{t-1}$ is a KL between two Gaussians: lecture 5's formula, per dimension.
# $L_T$ has no parameters (and is almost 0), $L_0$ is a Gaussian log-likelihood.

# %%
print(inspect.getsource(DDPM.posterior))
print(inspect.getsource(gaussian_kl))

# %% [markdown]
# **From the KL to the simple loss.** Write $x_0$ through the noise that made $x_t$,
# $x_0 = (x_t - \sqrt{1 - \bar\alpha_t}\,\epsilon) / \sqrt{\bar\alpha_t}$, in $\tilde\mu_t$. Since
# $\sqrt{\bar\alpha_{t-1}} / \sqrt{\bar\alpha_t} = 1 / \sqrt{\alpha_t}$, the $x_0$ term becomes
# $\frac{\beta_t}{\sqrt{\alpha_t}\,(1 - \bar\alpha_t)}\, x_t - \frac{\beta_t}{\sqrt{\alpha_t}
# \sqrt{1 - \bar\alpha_t}}\, \epsilon$, and the coefficient of $x_t$ collapses by the same
# identity as line 1:
# $\frac{\beta_t + \alpha_t (1 - \bar\alpha_{t-1})}{\sqrt{\alpha_t}\,(1 - \bar\alpha_t)}
# = \frac{1}{\sqrt{\alpha_t}}$. So
#
# $$\tilde\mu_t = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,
#   \epsilon\Big).$$

# %% jupyter={"source_hidden": true} tags=["claim-08-eps-form", "hide-input"]
# DDPM.posterior(x_0, x_t) with x_0 written through the noise equals the eps-form, at every t
g = torch.Generator().manual_seed(5)
t_all = torch.arange(1, 1001)
x0_, eps_ = torch.randn(1000, 2, generator=g), torch.randn(1000, 2, generator=g)
x_t_ = ring_model.q_sample(x0_, t_all, eps_)
mu_posterior, var_posterior = ring_model.posterior(x0_, x_t_, t_all)
beta_, a_bar_ = ring_model.betas[:, None], ring_model.alpha_bars[:, None]
mu_eps_form = (x_t_ - beta_ / (1 - a_bar_).sqrt() * eps_) / (1 - beta_).sqrt()
assert torch.allclose(mu_posterior, mu_eps_form, rtol=1e-3, atol=1e-3)          # float32 tables: 1 - a_bar_1 = 1e-4
# beta_tilde from the precision of line 1, and beta_t + alpha_t (1 - a_bar_{t-1}) = 1 - a_bar_t
a_bar_prev_ = torch.cat([torch.ones(1), ring_model.alpha_bars[:-1]])[:, None]
assert torch.allclose(beta_ + (1 - beta_) * (1 - a_bar_prev_), 1 - a_bar_, atol=1e-6)
assert torch.allclose(var_posterior[1:], 1 / ((1 - beta_[1:]) / beta_[1:] + 1 / (1 - a_bar_prev_[1:])), rtol=1e-4)
# the levels sqrt((1 - a_bar_t) / a_bar_t) of the rescaled x_t / sqrt(a_bar_t): 0.01 at t = 1, about 160 at T
levels_ = ((1 - ring_model.alpha_bars) / ring_model.alpha_bars).sqrt()
assert abs(levels_[0] - 0.01) < 0.0005 and 140 < levels_[-1] < 180

# %% [markdown]
# Let the network predict the noise, $\hat\epsilon_\theta(x_t, t)$, and put it in the same place:
#
# $$\mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\Big(x_t - \frac{\beta_t}{\sqrt{1 -
#   \bar\alpha_t}}\, \hat\epsilon_\theta(x_t, t)\Big).$$
#
# The two Gaussians of $L_{t-1}$ have different variances, $\tilde\beta_t$ for the posterior and
# the fixed $\sigma_t^2$ for the model, and neither depends on $\theta$, so lecture 5's KL is the
# squared distance of the means over $2\sigma_t^2$ plus a constant:
#
# $$L_{t-1} = \frac{|\tilde\mu_t - \mu_\theta|^2}{2\sigma_t^2} + \text{const}
#   = \frac{\beta_t^2}{2 \sigma_t^2\, \alpha_t\, (1 - \bar\alpha_t)}\,
#   \big|\epsilon - \hat\epsilon_\theta(x_t, t)\big|^2 + \text{const}.$$
#
# Each term of the ELBO is section 2's noise prediction at the noise level of step $t$, with a
# weight. Ho et al. found that dropping the weights trains better samples, and that is DDPM's
# loss, with $t$ drawn uniformly:
#
# $$L_\mathrm{simple} = \mathbb E_{t, x_0, \epsilon}\, \big|\epsilon - \hat\epsilon_\theta
#   \big(\sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon,\ t\big)\big|^2 .$$
#
# By section 2 the optimal $\hat\epsilon$ is $-\sqrt{1 - \bar\alpha_t}$ times the score of
# $q(x_t)$. Section 2's blurring adds noise to an unshrunk signal; here the signal is shrunk
# too, and dividing by $\sqrt{\bar\alpha_t}$ undoes that: $x_t / \sqrt{\bar\alpha_t} = x_0 +
# \sigma \epsilon$ with $\sigma = \sqrt{(1 - \bar\alpha_t) / \bar\alpha_t}$. A DDPM is a
# noise-conditional score network on these levels, from $0.01$ at $t = 1$ to about 160 at
# $t = 1{,}000$ with the linear schedule (model units: the table above), applied to the
# rescaled $x_t / \sqrt{\bar\alpha_t}$.
#
# **Exercise 2 (the noise-prediction loss).** Write $L_\mathrm{simple}$ for one draw of $t$
# and $\epsilon$ per example.
#
# * `eps_net`: a function `eps_net(x_t, t)` returning the predicted noise, shaped like `x_t`;
#   `x0`: a float64 batch `(B, ...)`; `t`: `(B,)` integer (`torch.long`) steps (1-based), the
#   same tensor to pass on to `eps_net`; `eps`: the noise, shaped like `x0`; `alpha_bars`: the
#   `(T,)` float64 table, $\bar\alpha_t$ at index `t - 1`;
# * return: the loss of each example, summed over its dimensions, shape `(B,)`.
#
# The checker names the usual mistakes: the network given $x_0$ instead of $x_t$, the
# prediction compared with $x_0$, a mean over dimensions, missing square roots, `alpha_bars[t]`
# for `alpha_bars[t - 1]`.

# %%
def eps_loss(eps_net, x0, t, eps, alpha_bars):
    """|| eps - eps_net(x_t, t) ||^2 per example, x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps."""
    ### BEGIN SOLUTION
    a_bar = alpha_bars[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))     # (B, 1, ..., 1)
    x_t = a_bar.sqrt() * x0 + (1 - a_bar).sqrt() * eps
    return (eps - eps_net(x_t, t)).pow(2).flatten(1).sum(1)
    ### END SOLUTION


# %%
check_eps_loss(eps_loss)

# %% [markdown]
# The package's loss draws $t$ and $\epsilon$ itself; section 2's `NoiseConditionalScore` has the
# same loss on its levels $\sigma$ ($\sigma^2 L_\mathrm{DSM}$, line 4):

# %% tags=["answer-source"]
print(inspect.getsource(DDPM.training_loss))
print(inspect.getsource(NoiseConditionalScore.dsm_loss))

# %% [markdown]
# ### Sampling: one reverse step at a time
#
# Sampling is **ancestral**: draw $x_T \sim \mathcal N(0, I)$ and for $t = T, \dots, 1$ draw
# $x_{t-1} = \mu_\theta(x_t, t) + \sigma_t z$, $z \sim \mathcal N(0, I)$, except at the last
# step, which returns its mean (noise there would only blur the sample). Written with the
# network's score $s_\theta = -\hat\epsilon_\theta / \sqrt{1 - \bar\alpha_t}$ and $\sigma_t^2 =
# \beta_t$, one step is
#
# $$x_{t-1} = \frac{x_t + \beta_t\, s_\theta(x_t, t)}{\sqrt{\alpha_t}} + \sqrt{\beta_t}\, z :$$
#
# a score step plus noise. It is not section 1's Langevin step with $\eta = \beta_t$, which
# would move by $\frac{\beta_t}{2} s$ and stay at one noise level: the ancestral step moves by
# the full $\beta_t s_\theta$ and divides by $\sqrt{\alpha_t}$, undoing one forward step's
# shrinking, so that each step goes from the noise level of step $t$ to that of step $t - 1$.
# $T = 1{,}000$ network passes per sample: slow; the deterministic DDIM sampler below takes far fewer.
#
# **Exercise 3 (one ancestral step).** Write $x_{t-1}$ from $x_t$, with $\sigma_t^2 = \beta_t$
# and no noise at $t = 1$. Derive its mean yourself from the posterior mean $\tilde\mu_t(x_t,
# x_0)$ of the three-line derivation: replace $x_0$ by the network's estimate of it, from
# $x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \hat\epsilon$ (either simplify
# first or compute the estimate and then $\tilde\mu_t$: both pass).
#
# * `x_t`: a float64 tensor of any shape; `t`: a 0-d integer tensor (1-based); `eps_hat`: the
#   network's prediction, shaped like `x_t`; `z`: a standard normal draw of the same shape;
#   `betas`: the `(T,)` float64 schedule;
# * return: $x_{t-1}$, shaped like `x_t`.
#
# The checker names the usual mistakes: noise at $t = 1$, the variance used as a standard
# deviation, all the noise subtracted at once, the division by $\sqrt{\alpha_t}$ missing or
# replaced by $\sqrt{\bar\alpha_t}$, the prediction added instead of subtracted.

# %%
def ancestral_step(x_t, t, eps_hat, z, betas):
    """One ancestral step from x_t given the predicted noise (sigma_t^2 = beta_t, no noise at t = 1)."""
    ### BEGIN SOLUTION
    t = int(t)
    beta, alpha_bar = betas[t - 1], torch.prod(1 - betas[:t])
    mean = (x_t - beta / (1 - alpha_bar).sqrt() * eps_hat) / (1 - beta).sqrt()
    return mean + beta.sqrt() * z if t > 1 else mean
    ### END SOLUTION


# %%
check_ancestral_step(ancestral_step)

# %% [markdown]
# The package's reverse step and sampler. It uses $\sigma_t^2 = \tilde\beta_t$, the
# posterior's variance, rather than $\beta_t$ (Ho et al. found both work; $\tilde\beta_t$ is
# the right one when the data are a single point, $\beta_t$ when they are a unit Gaussian); at
# $t = 1$, where $\tilde\beta_1 = 0$, the ELBO's decoder term uses $\beta_1$. The `else`
# branch is a second sampler, **DDIM** (Song, Meng and Ermon 2021), which uses the same network
# and skips steps. At step $t$ it forms the network's guess of the clean point,
# $\hat x_0 = \big(x_t - \sqrt{1 - \bar\alpha_t}\,\hat\epsilon_\theta(x_t, t)\big) / \sqrt{\bar\alpha_t}$
# (exercise 1's closed form solved for $x_0$), and jumps straight to an earlier step $t' < t$ by
# putting that guess and the same predicted noise back at the noise level of $t'$, with no fresh
# noise: $x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1 - \bar\alpha_{t'}}\,
# \hat\epsilon_\theta(x_t, t)$. It needs no retraining; section 7's explorer sets it against the
# 1,000 ancestral steps. The same jump can also draw fresh noise, as an ancestral step does: with
# a parameter $\eta \in [0, 1]$, of the variance $1 - \bar\alpha_{t'}$ at $t'$ a part
# $\sigma^2 = \eta^2\,\frac{1 - \bar\alpha_{t'}}{1 - \bar\alpha_t}\big(1 - \bar\alpha_t /
# \bar\alpha_{t'}\big)$ is fresh noise, $x_{t'} = \sqrt{\bar\alpha_{t'}}\,\hat x_0 + \sqrt{1 - \bar\alpha_{t'} - \sigma^2}\,
# \hat\epsilon_\theta(x_t, t) + \sigma z$. With $t' = t - 1$ this $\sigma^2$ is exactly
# $\tilde\beta_t$, so $\eta = 1$ on all 1,000 steps *is* the ancestral sampler (a test checks
# it on a 2-d model; for digits the strided sampler also clips $\hat x_0$ to $[-1, 1]$);
# $\eta = 0$ is the deterministic DDIM. Section 5 measures what the fresh noise buys.

# %% tags=["answer-source"]
print(inspect.getsource(DDPM.reverse_mean_var))
print(inspect.getsource(DDPM.sample))

# %%
print(inspect.getsource(DDPM.ddim_step))

# %% [markdown]
# ### DDPM on the ring and the grid
#
# The course ships a DDPM for each mixture: the noise predictor is an MLP of three hidden layers
# of 128 units on $x_t$ and 32 sinusoidal features of $t/T$; $T = 1{,}000$ with the linear
# schedule; 10,000 steps of $L_\mathrm{simple}$ on batches of 512, on five seeds each (the
# command: "About these numbers"). Like section 1's networks they work in model units, the
# data divided by `SCALE` $= 0.25$, and here the units matter, because the $\beta$ schedule is
# fixed in model units: the last reverse steps' noise is $\sqrt{\beta_1} = 0.01$ in whatever
# units the model sees. In the data's own units the ring's modes have $\tau = 0.01$, the size
# of that noise, and the network would have to place its samples with that precision; in model
# units they have $\tau = 0.04$. Samples are multiplied back by 0.25 and a bound computed in
# model units is moved to the data's by adding $D \log 0.25$ nats (section 1's units
# paragraph). The learning curves (one $t$ per point, so both are noisy):

# %%
ddpm2d = {"ring": ring_model}
ddpm2d["grid"], grid_entry = load_shipped("ddpm2d_grid.pt")
ddpm_entries = {"ring": ring_entry, "grid": grid_entry}
for name, model in ddpm2d.items():
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters")

# %% jupyter={"source_hidden": true} tags=["claim-08-ddpm2d-config", "hide-input"]
for name, model in ddpm2d.items():     # the prose's description of the shipped models
    config = ddpm_entries[name]["config"]
    assert config["hidden"] == [128, 128, 128] and config["T"] == model.T == 1000
    assert config["schedule"] == "linear" and config["scale"] == model.scale == SCALE[name] == 0.25
    assert len(ddpm_entries[name]["seeds"]) == 5 and ddpm_entries[name]["steps"] == 10_000
    assert abs(model.betas[0].item() - 1e-4) < 1e-9

# %% mystnb={"figure": {"caption": "Learning curves of the two shipped 2-d DDPMs: $L_\\mathrm{simple}$ per 250 steps (the panels' axis says NLL, the course's label for every curve; here it is the noise-prediction loss), training dashed (the mean of the batches since the last point) and validation solid (one $t$ per point).", "name": "fig-08-ddpm2d-curves"}, "image": {"alt": "Two small line plots over 10,000 steps. ddpm2d_ring.pt: the loss falls from above 0.48 to about 0.42 by step 6,000 and then wanders around it, training and validation close together and jagged. ddpm2d_grid.pt: the loss falls from about 1.1 to 0.78 by step 3,000 and flattens near 0.71, the two curves on top of each other."}}
plot_checkpoint_curves(["ddpm2d_ring.pt", "ddpm2d_grid.pt"], manifest)
plt.show()

# %% [markdown]
# **Samples over the reverse process.** 2,500 points from $x_T \sim \mathcal N(0, I)$ through
# all 1,000 ancestral steps (`reverse_result` keeps 100 evenly spaced frames of the path; the
# widget of section 7 scrubs through all of them). The structure appears late: through
# the first half of the chain the cloud only widens, and the modes separate in the last few
# hundred steps, where the noise level becomes smaller than their spacing.

# %%
frames = (0, 50, 80, 90, 95, 100)                        # of 100: step t = 1000 (1 - frame / 100)
with one_thread():                                       # 2 x 1,000 passes over 2,500 points
    strips = {name: [reverse_result(ddpm2d, name, steps=1000, frame=k, num=2500, seed=0) for k in frames]
              for name in ddpm2d}

# %% mystnb={"figure": {"caption": "The ring's DDPM sampling: 2,500 points after 0, 50, 80, 90, 95 and all 100 frames of the 1,000 ancestral steps (a frame is 10 steps), in the data's units. The cloud widens first; the ring forms in the last fifth of the chain.", "name": "fig-08-reverse-ring"}, "image": {"alt": "Six square scatter plots of orange points. The first, pure noise, is a round cloud; at frame 50 a wider round cloud; at frame 80 a ring of eight blurred clumps with a hole in the middle; at 90 eight separate blobs on a circle; at 95 eight tight blobs; the samples are eight small dots with a few stray points between them."}}
fig = draw_reverse_strip(strips["ring"])
for ax in fig.axes:                                      # the package's strip has no ticks: data units
    ax.xaxis.set_major_locator(plt.MaxNLocator(3))
    ax.yaxis.set_major_locator(plt.MaxNLocator(3))
    ax.tick_params(labelsize=7)
plt.show()

# %% mystnb={"figure": {"caption": "The grid's DDPM sampling, the same frames: the cloud widens into a square by frame 50, and the 5 x 5 lattice has emerged, blurred, by frame 80.", "name": "fig-08-reverse-grid"}, "image": {"alt": "Six square scatter plots of orange points. The first, pure noise, is a small round cloud in the middle of the panel; at frame 50 a uniform square patch about half the panel's width; at frame 80 a 5 by 5 lattice of fuzzy clusters; at 90 and 95 the clusters tighten; the samples are 25 small dots with a few stray points between them."}}
fig = draw_reverse_strip(strips["grid"])
for ax in fig.axes:
    ax.xaxis.set_major_locator(plt.MaxNLocator(3))
    ax.yaxis.set_major_locator(plt.MaxNLocator(3))
    ax.tick_params(labelsize=7)
plt.show()

# %% [markdown]
# **The ELBO, term by term.** `DDPM.elbo_terms` computes every term of the bound for each test
# point (one draw of $x_t$ per term): $L_T$, the 999 KL terms, and $L_0$, all in model units
# (it sees the points divided by 0.25). Which steps hold the bound? On 250 test points of each
# mixture: the terms, the share of the KL terms' sum in the 100 smallest-noise steps
# ($t \le 100$), and the bound moved to the data's units against the data's entropy $H$
# (lecture 7: any model's expected test NLL is $H$ plus a KL, so the gap above $H$ is how far
# the model is from the data, in nats; here the gap also holds the bound's own slack).

# %%
print(inspect.getsource(DDPM.elbo_terms))

# %%
elbo_rows = {}
for name, model in ddpm2d.items():
    test = mixture_splits(name, ddpm_entries[name]["seed"])["test"][:250]
    torch.manual_seed(0)
    with one_thread():
        terms = model.elbo_terms(test / model.scale)     # 1,000 passes over 250 points, model units
    kl_by_t = terms["kl"].mean(1)                         # (999,): L_{t-1} for t = 2..T, averaged
    shift = 2 * math.log(model.scale)                     # D log 0.25: model units -> data units
    elbo_rows[name] = {"kl_by_t": kl_by_t, "first_100": kl_by_t[:99].sum().item() / kl_by_t.sum().item(),
                       "prior": terms["prior"].mean().item(), "decoder": terms["decoder"].mean().item(),
                       "total_model": terms["total"].mean().item(), "shift": shift,
                       "neg_elbo": terms["total"].mean().item() + shift, "entropy": mixture_entropy(name)[0]}
print(f"{'':5} {'model units':-^47} {'data units':-^35}")
print(f"{'data':5} {'L_T':>8} {'sum of KLs':>11} {'L_0':>8} {'-ELBO':>8} {'D log 0.25':>11} {'-ELBO':>8} "
      f"{'entropy H':>10} {'gap':>6}   {'share of KLs in t <= 100':>24}")
for name, row in elbo_rows.items():
    print(f"{name:5} {row['prior']:8.4f} {row['kl_by_t'].sum():11.3f} {row['decoder']:8.3f} {row['total_model']:8.3f} "
          f"{row['shift']:11.3f} {row['neg_elbo']:8.3f} {row['entropy']:10.3f} {row['neg_elbo'] - row['entropy']:6.3f} "
          f"{100 * row['first_100']:24.1f} %")
print("\ngaps above H over the manifest's 5 seeds (nats): " + "; ".join(
    f"{name}: DDPM {min(s['gap'] for s in manifest[f'ddpm2d_{name}.pt']['seeds']):.2f} to "
    f"{max(s['gap'] for s in manifest[f'ddpm2d_{name}.pt']['seeds']):.2f}, spline flow (lecture 7) "
    f"{min(s['gap'] for s in manifest[f'flow2d_{name}.pt']['seeds']):.3f} to "
    f"{max(s['gap'] for s in manifest[f'flow2d_{name}.pt']['seeds']):.3f}" for name in ddpm2d))
# where the forward noise sqrt(1 - alpha_bar_t) (model units) matches the modes' std tau / 0.25
noise_level = (1 - ring_model.alpha_bars).sqrt()
match_t = {name: int((noise_level < mixtures[name][2] / ring_model.scale).sum()) + 1 for name in ddpm2d}
print(f"forward noise sqrt(1 - alpha_bar_t), model units: {noise_level[99]:.2f} at t = 100; it reaches the modes' "
      f"std (model units) at t = {match_t['ring']} (ring, 0.04) and t = {match_t['grid']} (grid, 0.2)")

# %% mystnb={"figure": {"caption": "Where the DDPMs' ELBO lies: the KL term $L_{t-1}$ of each step $t$ (model units; mean over 250 test points, one draw each, log scales), for the ring and the grid. The smallest-noise steps hold most of the KL terms' sum; each curve has a second, much lower bump where the noise is comparable to the spacing of the modes.", "name": "fig-08-elbo-by-t"}, "image": {"alt": "A line plot with t from 2 to 1000 on a logarithmic horizontal axis and the KL term in nats on a logarithmic vertical axis from 0.00001 to 1. Both curves start near 1 nat at t = 2, the ring's at about 1.1 and the grid's at about 1.4, and fall steadily. The ring's reaches a jagged minimum of about 0.0002 to 0.0003 near t = 130 to 150, rises from about t = 200 to a bump of about 0.006 between t = 300 and 450, and falls to about 0.00002 at t = 1000. The grid's stays above the ring's, reaches a minimum of about 0.0005 near t = 280, rises to a peak of about 0.01 near t = 600, and falls to about 0.0001 at t = 1000."}}
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for name, row in elbo_rows.items():
    ax.plot(range(2, 1001), row["kl_by_t"].clamp(min=1e-6).numpy(), lw=1, label=name)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("step t")
ax.set_ylabel("L_{t-1} (nats, model units)")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-08-elbo", "hide-input"]
for name, row in elbo_rows.items():
    assert (row["kl_by_t"] >= 0).all() and 0 <= row["prior"] < 0.01               # L_T: almost 0
    assert 0.55 < row["first_100"] < 0.75                                        # t <= 100 hold most
    assert row["decoder"] < -5.5                                                 # L_0: a negative NLL
    # the columns add up: model units, then D log 0.25 to the data's units
    assert abs(row["prior"] + row["kl_by_t"].sum().item() + row["decoder"] - row["total_model"]) < 1e-3
    assert abs(row["shift"] - 2 * math.log(0.25)) < 1e-9
    assert row["neg_elbo"] > row["entropy"]                                      # a bound above H
    assert abs(row["neg_elbo"] - ddpm_entries[name]["test_loss"]) < 0.15         # 250 vs 2,000 points (manifest)
    seeds_ = ddpm_entries[name]["seeds"]
    flow_gaps = [s["gap"] for s in manifest[f"flow2d_{name}.pt"]["seeds"]]
    assert min(s["gap"] for s in seeds_) > 10 * max(flow_gaps)                   # every seed, far above the flows
    assert max(flow_gaps) < 0.06 and min(flow_gaps) > 0.01
# the gaps printed for this run: about 0.7 (ring) and 1.4 (grid)
assert 0.6 < elbo_rows["ring"]["neg_elbo"] - elbo_rows["ring"]["entropy"] < 0.8
assert 1.25 < elbo_rows["grid"]["neg_elbo"] - elbo_rows["grid"]["entropy"] < 1.55
# L_0 at its best: -log N(x_0; mu, beta_1) >= D/2 log(2 pi beta_1), about -7.4 in model units with D = 2
assert abs(math.log(2 * math.pi * 1e-4) - -7.37) < 0.01
# the forward noise matches the modes' std near t = 9 (ring) and t = 60 (grid); at t = 100 it is 0.32
assert match_t["ring"] == 9 and match_t["grid"] == 60 and abs(noise_level[99] - 0.32) < 0.01
# the figure's alt text: minima and bumps of the curves (smoothed over 21 steps)
for name, (t_min, t_peak, low, high) in (("ring", ((100, 200), (250, 500), 1e-4, 5e-4)),
                                         ("grid", ((200, 350), (450, 750), 2e-4, 1e-3))):
    smooth = torch.nn.functional.avg_pool1d(elbo_rows[name]["kl_by_t"][None, None], 21, 1).flatten()
    t_axis = torch.arange(2, 1001)[10:-10]
    after = t_axis > 200
    t_of_peak = t_axis[after][smooth[after].argmax()].item()        # the bump
    inner = (t_axis > 30) & (t_axis < t_of_peak)
    t_of_min = t_axis[inner][smooth[inner].argmin()].item()          # the dip before it
    assert t_min[0] <= t_of_min <= t_min[1] and t_peak[0] <= t_of_peak <= t_peak[1], (name, t_of_min, t_of_peak)
    assert low < smooth[inner].min() < high and 3e-3 < smooth[after].max() < 2e-2, (name, smooth[inner].min(), smooth[after].max())
    assert (1.0 if name == "ring" else 1.25) < elbo_rows[name]["kl_by_t"][0] < (1.25 if name == "ring" else 1.6)
assert (elbo_rows["ring"]["kl_by_t"][-1] < 1e-4) and (elbo_rows["grid"]["kl_by_t"][-1] < 5e-4)

# %% [markdown]
# The columns in model units add up to the bound in model units; adding $D \log 0.25 = -2.77$
# moves it to the data's units. $L_0 = -\log p_\theta(x_0 \mid x_1)$ is negative: it is a
# negative log-*density*, and the decoder is a Gaussian of standard deviation $\sqrt{\beta_1} =
# 0.01$ (model units), whose density near its mean is far above 1; at best it is
# $\frac{D}{2}\log(2\pi\beta_1) = -7.4$ nats in $D = 2$ dimensions. The prior term $L_T$ is a
# few thousandths of a nat at most (the chain ends in noise whatever the data). Most of the KL
# terms' sum, 63 % on the ring and 66 % on the grid, sits in the 100 smallest-noise steps,
# $t \le 100$, where the forward noise is at most 0.32 model units; it matches the modes'
# widths (0.04 and 0.2 in model units) at $t = 9$ on the ring and $t = 60$ on the grid. The
# later steps, which decide the coarse layout, cost little, with a small bump where the noise is
# comparable to the spacing of the modes (the figure).
#
# Both bounds lie above the data's entropy, by 0.695 nats on the ring and 1.393 on the grid
# here, and on every seed of the manifest by 0.66 to 0.79 (ring) and 1.25 to 1.52 (grid);
# lecture 7's spline flows are 0.016 to 0.053 above it on both. $L_\mathrm{simple}$ weights every step alike, so training did not
# minimise this bound, and the bound itself has slack. A DDPM's ELBO is a poor likelihood
# score for it, and the papers that need good likelihoods train other weightings.
#
# ### DDPM beside the GAN and the flow: lecture 6's mode table
#
# The mode-coverage protocol of lecture 6 on the DDPMs' samples, the mean over the five seeds
# in the manifest (each scored on 10,000 samples), beside lecture 6's GANs and lecture 7's
# spline flows (five seeds each; high quality in the data's units, within 3 $\tau$ of a mode).

# %%
gan_runs = json.loads((CHECKPOINT_DIR / "gan_toy_modes.json").read_text())["rows"]
mode_table = {}
for name in ddpm2d:
    ddpm_seeds = ddpm_entries[name]["seeds"]
    num_modes = ddpm_seeds[0]["num_modes"]
    _, means, std = mixtures[name]
    mode_table[name] = {
        "DDPM (mean of 5 seeds)": (np.mean([s["modes"] for s in ddpm_seeds]),
                                   np.mean([s["high_quality"] for s in ddpm_seeds])),
        "spline flow (lecture 7)": (np.mean([s["modes"] for s in manifest[f"flow2d_{name}.pt"]["seeds"]]),
                                    np.mean([s["high_quality"] for s in manifest[f"flow2d_{name}.pt"]["seeds"]]))}
    for remedy, label in (("none", "GAN (lecture 6)"), ("r1", "GAN + R1 penalty (lecture 6)")):
        runs = [r for r in gan_runs if (r["dataset"], r["remedy"]) == (name, remedy)]
        mode_table[name][label] = (np.mean([r["modes"] for r in runs]), np.mean([r["high_quality"] for r in runs]))
    mode_table[name]["num_modes"] = num_modes
print(f"{'data':5} {'model (mean of 5 seeds)':30} {'modes captured':>14} {'high quality':>13}")
for name, rows_ in mode_table.items():
    for label, value in rows_.items():
        if label != "num_modes":
            print(f"{name:5} {label:30} {value[0]:5.1f} / {rows_['num_modes']:<3} {100 * value[1]:9.1f} %")

# %% jupyter={"source_hidden": true} tags=["claim-08-ddpm-mode-table", "hide-input"]
for name, total in (("ring", 8), ("grid", 25)):
    seeds_ = ddpm_entries[name]["seeds"]
    assert len(seeds_) >= 5 and all(s["modes"] == total for s in seeds_)          # every mode, every seed
    assert mode_table[name]["DDPM (mean of 5 seeds)"][1] >= 0.95                    # at least 95 %
    assert all(s["high_quality"] > 0.94 for s in seeds_)
    # the manifest holds: seed 0 re-measured here on the 2,500 samples of the reverse-process figure
    again = mode_coverage(strips[name][-1]["x"], mixtures[name][1], mixtures[name][2])
    assert again["modes"] == total and abs(again["high_quality"] - seeds_[0]["high_quality"]) < 0.03
table_hq = {name: {label: value[1] for label, value in rows_.items() if label != "num_modes"}
            for name, rows_ in mode_table.items()}
assert abs(table_hq["ring"]["DDPM (mean of 5 seeds)"] - table_hq["ring"]["spline flow (lecture 7)"]) < 0.01
assert table_hq["grid"]["DDPM (mean of 5 seeds)"] > table_hq["grid"]["spline flow (lecture 7)"] + 0.01
assert table_hq["ring"]["GAN + R1 penalty (lecture 6)"] > table_hq["ring"]["DDPM (mean of 5 seeds)"] + 0.01
assert abs(table_hq["grid"]["GAN + R1 penalty (lecture 6)"] - table_hq["grid"]["DDPM (mean of 5 seeds)"]) < 0.01
assert mode_table["ring"]["GAN (lecture 6)"][0] < 8 and mode_table["grid"]["GAN (lecture 6)"][0] < 25
# the plain GAN: the highest share of high-quality samples on the ring, yet missing modes
assert max(table_hq["ring"], key=table_hq["ring"].get) == "GAN (lecture 6)"
assert abs(table_hq["ring"]["GAN (lecture 6)"] - 0.984) < 0.0005 and abs(mode_table["ring"]["GAN (lecture 6)"][0] - 7.8) < 1e-9

# %% [markdown]
# The DDPMs capture every mode on every seed, like the flows and unlike the plain GAN, with at
# least 95 % high-quality samples on average: as sharp as the flows on the ring and sharper on
# the grid. On the ring the R1-penalised GAN is sharper still, and the plain GAN has the
# highest share of all (98.4 %) while missing modes (7.8 of 8 on average): a share of
# high-quality samples says nothing about the modes a model leaves out. On the grid the DDPM
# matches the R1-penalised GAN. The budgets differ
# (20,000 GAN steps, 5,000 flow steps, 10,000 DDPM steps, and a DDPM sample costs 1,000 network
# passes): this compares these runs, not the families at their best.

# %% [markdown]
# ## 4. Digits: a DDPM on binarized MNIST
#
# The same recipe scales from two coordinates to 784 pixels. The binary digits enter as
# $2x - 1 \in \{-1, +1\}$, the forward process adds Gaussian noise to them exactly as in
# section 3, and a sample $x_0$ is turned back into a binary image by its sign. The noise
# predictor $\hat\varepsilon_\theta(x_t, t)$ is now a small **U-Net**: two resolutions
# (28 × 28 with 32 channels, 14 × 14 with 64), residual blocks with GroupNorm, the step $t$
# entering every block through a sinusoidal embedding (the Transformer's position code), and
# skip connections from each downsampling stage to the upsampling stage at the same
# resolution, so that the network can copy the fine detail it must not destroy. Its
# `forward` reads top to bottom:

# %%
ddpm, ddpm_entry = load_shipped("ddpm.pt")                   # a DigitDDPM: U-Net, T = 1000
print(inspect.getsource(UNet.forward))
print(f"U-Net: {sum(p.numel() for p in ddpm.parameters()):,} parameters; "
      f"T = {ddpm.T} steps, {ddpm_entry['config'].get('schedule', 'linear')} schedule")

# %% [markdown]
# A Gaussian diffusion on binary pixels has no discrete likelihood of its own (lecture 7 met the
# same problem: a density on a continuous space gives a discrete probability only through
# dequantization), so the digit DDPM is judged here by its **samples**; a likelihood for
# diffusion on binary digits comes in section 6, from a diffusion built for discrete data. It
# trained on $L_\text{simple}$ alone, one random $t$ per digit ("About these numbers" gives the
# command). The learning curves are that loss per epoch: on the training digits for the weights
# as they trained (the mean over each epoch's batches), and on the validation digits for the
# moving average of the weights that the model keeps and ships (decay 0.999: each step moves the
# average a thousandth of the way to the current weights). The average starts far behind, so
# its validation loss is high for the first epochs (377 after the first), then falls below the
# training loss:

# %% mystnb={"figure": {"caption": "The digit DDPM's learning curves: the simple loss (the squared error of the predicted noise, summed over the 784 pixels) on the training digits (the weights as they trained, dashed) and on the validation digits (their moving average, solid), per epoch; a star at the epoch kept.", "name": "fig-08-ddpm-curves"}, "image": {"alt": "A line plot titled ddpm.pt, 15 epochs, 84 min: the dashed training curve falls from 54 to about 20 by epoch 2 and then slowly to 16.5; the solid validation curve starts off the top of the axes, is at 157 at epoch 2, 77 at epoch 3 and 45 at epoch 4, and meets the training curve near 20 by epoch 7; a star marks epoch 15."}}
plot_checkpoint_curves(["ddpm.pt"], manifest, ncols=1, size=(4.5, 3))
plt.show()

# %% [markdown]
# ### The reverse process, on digits
#
# Sixteen digits drawn from noise with 50 steps of section 3's deterministic DDIM sampler (for
# digits its guess $\hat x_0$ is clipped to $[-1, 1]$, where the data lie): the first panel is
# $x_T$, pure noise; the later ones show $x_t$ after 10, 20, 30, 40, 45 and all 50 steps.
# For the first 20 steps the images are noise to the eye; faint shapes show after 30, and the
# digits are clear after 40. That is section 3's schedule at work: $x_t = \sqrt{\bar\alpha_t}\,x_0
# + \sqrt{1 - \bar\alpha_t}\,\epsilon$, and the digit's weight $\sqrt{\bar\alpha_t}$ is 0.16 at
# $t = 600$ (20 of the 50 steps done), 0.44 at $t = 400$ (30 done) and 0.81 at $t = 200$ (40
# done): the first half of the chain holds almost no digit.

# %% mystnb={"figure": {"caption": "Sixteen digits emerging from noise over 50 DDIM steps of the shipped DDPM: x_T (pure noise), then x_t after 10, 20, 30, 40 and 45 steps, and the binary samples (right).", "name": "fig-08-digit-reverse"}, "image": {"alt": "A strip of seven 4 by 4 grids of 28 by 28 images. The first three are black-and-white speckled noise, the fourth shows faint digit shapes in the noise, the fifth and sixth clear digits on a speckled background, and the last sixteen crisp white-on-black binary digits such as a 0, a 7, a 9 and a 2."}}
digit_models = {"digits": ddpm}
frames = [0, 10, 20, 30, 40, 45, 50]
strip = [reverse_result(digit_models, "digits", 50, k) for k in frames]
draw_reverse_strip(strip)
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-08-digit-ddpm", "hide-input"]
assert tuple(ddpm.net.config["widths"]) == (32, 64) and ddpm.net.config["blocks"] == 1
assert ddpm.T == 1000 and ddpm.binary and ddpm_entry["config"] == {}
assert all(flag in ddpm_entry["command"].split() for flag in ("--amp", "--ema", "0.999"))
digit_weight = {t: ddpm.alpha_bars[t - 1].sqrt().item() for t in (600, 400, 200)}
assert [round(w, 2) for w in digit_weight.values()] == [0.16, 0.44, 0.81]
assert ddpm_entry["history"]["valid_nll"][0] > 300 and ddpm_entry["history"]["valid_nll"][-1] < \
    ddpm_entry["history"]["train_nll"][-1]                  # the average: far behind, then ahead

# %% [markdown]
# ### Ten thousand samples: the label histogram and the Fréchet distance
#
# Lecture 6 judged the DCGAN by two numbers: the **label histogram** of its samples (a mode
# collapse shows as a class the generator rarely draws; the DCGAN's rarest, zeros, made 6.2 %
# of its samples)
# and the **Fréchet distance** between the classifier's logits on samples and on the
# validation digits. Ten thousand DDPM samples took 40 minutes to draw here (wall clock, one
# thread of a shared CPU), so they
# ship with the course: 10,000 digits drawn in 50 steps of section 3's strided sampler *with
# fresh noise* ($\eta = 1$; section 5 shows why not the deterministic $\eta = 0$), by
# `python -m gm_helpers.train samples` (the command is in "About these numbers"), and so do
# 1,000 samples of lecture 7's flow (a MAF samples in 785 passes per layer). The table has
# lecture 6's rows, with the same reference digits, the same classifier and the same sample
# sizes, extended by the flow of lecture 7 and the DDPM, and each row's rarest and commonest
# class in place of the likelihood.

# %%
classifier, classifier_entry = load_shipped("digit_classifier.pt")
x_valid = load_binarized_mnist("valid")                       # (10000, 1, 28, 28): the reference
x_train = load_binarized_mnist("train")[:10_000].clone()      # the real-vs-real baseline
G_dcgan, _ = load_shipped("dcgan.pt")
vae, _ = load_shipped("vae.pt")
torch.manual_seed(0)
with torch.no_grad():
    samples_vae = vae.sample(10_000).view(-1, 1, 28, 28)      # Bernoulli draws, as in lecture 6
samples_ddpm = load_shipped_samples("ddpm_samples.pt")       # (10000, 1, 28, 28), 50 steps, eta = 1
candidates = {"real (training digits)": x_train,
              "DCGAN (lecture 6)": G_dcgan.sample_binary(10_000, seed=0),
              "VAE (lecture 5)": samples_vae,
              "Gated PixelCNN (lecture 4)": load_shipped_samples("gated_pixelcnn_samples.pt"),
              "MAF flow (lecture 7)": load_shipped_samples("digit_flow_samples.pt"),  # (1000, 1, 28, 28)
              "DDPM, 50 steps, η = 1 (here)": samples_ddpm}
reference = feature_statistics(logits(classifier, x_valid))   # mean (10,), cov (10, 10)
fd = {name: {n: frechet_distance(*feature_statistics(logits(classifier, x[:n])), *reference)
             for n in (1000, 10_000) if len(x) >= n}
      for name, x in candidates.items()}
print(f"{'samples':28} {'FD, 1,000':>10} {'FD, 10,000':>11} {'rarest class':>13} "
      f"{'commonest':>11}")
fractions = {}
for name, x in candidates.items():
    fractions[name] = class_fractions(classifier, x)          # 10 fractions, summing to 1
    rarest = min(range(10), key=lambda c: fractions[name][c])
    commonest = max(range(10), key=lambda c: fractions[name][c])
    big = f"{fd[name][10_000]:11.2f}" if 10_000 in fd[name] else f"{'—':>11}"
    print(f"{name:28} {fd[name][1000]:10.2f} {big} "
          f"{rarest:>6}: {100 * fractions[name][rarest]:4.1f} % "
          f"{commonest:>3}: {100 * fractions[name][commonest]:4.1f} %")

# %% mystnb={"figure": {"caption": "Left: 100 of the DDPM's 10,000 shipped samples. Right: the share of each digit class among the 10,000 samples (as the course's classifier labels them) against the validation digits' and the DCGAN's.", "name": "fig-08-ddpm-samples"}, "image": {"alt": "Left: a 10 by 10 grid of white-on-black binary digits with ragged, speckled strokes: many readable (8s, 9s, 7s, 2s, 3s, 1s, a 0), some malformed. Right: a bar chart of ten classes with three bars each (validation digits, DCGAN, DDPM); the validation digits are near ten per cent in every class; the DDPM's bars are all above the dashed 5 % line, its 0 bar lowest, just above it, its 4 bar near 13 and its 9 bar near 17 per cent; the DCGAN's bars are also all above the line, its 0 bar about 6, its 7 and 8 bars about 12 and its 9 bar about 18 per cent."}}
fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.3]})
show_images(samples_ddpm[:100], nrow=10, ax=ax_img, title="100 DDPM samples (50 steps, η = 1)")
width = 0.27
valid_fractions = class_fractions(classifier, x_valid)
for i, (label, values) in enumerate([("validation digits", valid_fractions),
                                     ("DCGAN", fractions["DCGAN (lecture 6)"]),
                                     ("DDPM", fractions["DDPM, 50 steps, η = 1 (here)"])]):
    ax_bar.bar(np.arange(10) + (i - 1) * width, [100 * v for v in values], width, label=label)
ax_bar.axhline(5, color="k", lw=0.8, ls="--")
ax_bar.set(xticks=range(10), xlabel="class (the classifier's label)", ylabel="% of samples",
           title="label histogram of 10,000 samples")
ax_bar.legend()
fig.tight_layout()
plt.show()
ddpm_fractions = fractions["DDPM, 50 steps, η = 1 (here)"]

# %% jupyter={"source_hidden": true} tags=["claim-08-digits-frechet", "hide-input"]
assert abs(fd["real (training digits)"][10_000] - classifier_entry["frechet_real_vs_real"]) < 1e-3
samples_entry = manifest["ddpm_samples.pt"]                          # how they were drawn
assert min(ddpm_fractions) >= 0.05                                    # every class: the target
assert min(range(10), key=lambda c: ddpm_fractions[c]) == 0          # zeros are the rarest
assert samples_entry["eta"] == 1.0 and samples_entry["steps"] == 50 and samples_entry["num"] == 10_000
dcgan_fractions = fractions["DCGAN (lecture 6)"]
assert min(dcgan_fractions) >= 0.05 and min(dcgan_fractions) == dcgan_fractions[0]  # also met
assert fd["DCGAN (lecture 6)"][10_000] < fd["DDPM, 50 steps, η = 1 (here)"][10_000] < fd["VAE (lecture 5)"][10_000]
second = sorted(candidates, key=lambda name: fd[name][1000])[1:3]     # after the real digits
assert second == ["DCGAN (lecture 6)", "DDPM, 50 steps, η = 1 (here)"]
assert fd["DDPM, 50 steps, η = 1 (here)"][1000] - fd["DCGAN (lecture 6)"][1000] > fd["real (training digits)"][1000]
rounded = {name: [round(fd[name][n], 1) for n in (1000, 10_000) if n in fd[name]] for name in fd}
assert [round(100 * dcgan_fractions[c], 1) for c in (0, 9)] == [6.2, 18.1]
assert rounded == {"real (training digits)": [1.1, 0.1], "DCGAN (lecture 6)": [9.5, 9.9],
                   "VAE (lecture 5)": [19.1, 20.0], "Gated PixelCNN (lecture 4)": [19.8],
                   "MAF flow (lecture 7)": [28.0], "DDPM, 50 steps, η = 1 (here)": [11.4, 11.7]}
assert [round(100 * ddpm_fractions[c], 1) for c in (0, 9)] == [5.4, 16.9]
pixelcnn_zeros = fractions["Gated PixelCNN (lecture 4)"][0]
assert round(100 * pixelcnn_zeros, 1) == 3.9 and round(1000 * pixelcnn_zeros) == 39
assert all(max(fractions[name]) == fractions[name][9] for name in
           ("DCGAN (lecture 6)", "DDPM, 50 steps, η = 1 (here)"))                # nines commonest
assert round(samples_entry["wall_time_s"] / 60) == 40
assert ddpm_entry["epochs"] == 15 and round(ddpm_entry["wall_time_s"] / 60) == 84

# %% [markdown]
# Fifteen epochs, 84 minutes on one CPU thread, and the DDPM's samples come second in the
# course's table, behind lecture 6's DCGAN (40 epochs, 55 minutes) and far ahead of the
# models with a likelihood: a Fréchet distance of 11.7 at 10,000 samples against the DCGAN's
# 9.9 and the VAE's 20.0, and at 1,000 samples 11.4, against the DCGAN's 9.5, the VAE's 19.1,
# the Gated PixelCNN's 19.8 and the flow's 28.0 (real digits: 1.1, so the DCGAN's lead is
# more than the real-vs-real floor). Both meet lecture 6's target of at least 5 % for every
# class, with the same rarest and commonest digits: zeros make 5.4 % of the DDPM's samples
# (6.2 % of the DCGAN's), and nines are over-represented (16.9 %, and 18.1 % for the DCGAN,
# against about 10 % of the validation digits). The Gated PixelCNN's zeros, at 3.9 %, fall
# below the target, though its 1,000 samples hold only 39 of them, too few to settle it. At
# these budgets the GAN, which has no
# likelihood at all, still draws the closest samples; the DDPM comes near them with a loss
# derived from a bound on the likelihood (section 3's ELBO), a plain regression instead of a
# game. The picture
# agrees with the numbers and shows what they leave out: most samples read as digits, with
# ragged strokes and stray pixels that binarized MNIST digits rarely have, and some are shapes
# no one would label. Section 5 shows that the sampler, not only the network, decides much of
# this: the same network with the deterministic sampler draws worse digits.

# %% [markdown]
# ## 5. The price of sampling: steps against quality and cost
#
# A DDPM trained with $T = 1000$ samples ancestrally in 1,000 network passes, one per step:
# more than the PixelCNN's 784. Section 3's strided sampler uses the same network and skips
# steps, jumping from step $t$ to an earlier step along the network's guess $\hat x_0$ of the
# clean image, either deterministically (DDIM, $\eta = 0$) or with fresh noise at each jump
# ($\eta = 1$, the ancestral chain's amount of noise for a jump of that length).
#
# How many steps are enough, and does the noise matter? For each step count and each $\eta$ the
# table below draws the same number of digits with one seed and scores them as in section 4
# (the Fréchet distance at this sample size, beside its real-vs-real floor at the same size),
# with the CPU time per digit. It took about 20 minutes of CPU time, most of it the 1,000-step row, so
# it ships as a table, made by `python -m gm_helpers.train diffusion_steps` (command below).

# %%
steps_table = json.loads((CHECKPOINT_DIR / "ddpm_steps.json").read_text())
print(f"{steps_table['num']:,} digits per row, seed {steps_table['seed']}; "
      f"real-vs-real at this size: {steps_table['frechet_real_vs_real']:.2f}")
print(f"{'sampler':30} {'passes':>7} {'CPU s / digit':>14} {'Fréchet':>8} {'rarest class':>13}")
for row in steps_table["rows"]:
    if row["steps"] >= ddpm.T:
        name = f"ancestral, {ddpm.T} steps"
    else:
        name = f"{row['steps']} steps, " + ("DDIM (η = 0)" if row["eta"] == 0 else f"η = {row['eta']:g}")
    rarest = min(row["class_fractions"])
    print(f"{name:30} {row['steps']:7d} {row['cpu_seconds_per_digit']:14.3f} "
          f"{row['frechet']:8.2f} {100 * rarest:12.1f} %")
print("\ncommand:", steps_table["command"])
steps_fd = {(row["steps"], row.get("eta", 1.0)): row["frechet"] for row in steps_table["rows"]}

# %% [markdown]
# More steps buy better digits, at a price proportional to the steps, and the fresh noise buys
# more than the steps do. Without it (DDIM, $\eta = 0$), from 10 to 100 steps the Fréchet
# distance falls from 26.0 to 18.5 (the floor at 300 digits: 4.3) while the CPU time per digit
# grows tenfold, from 0.03 to 0.28 s. With fresh noise at every jump ($\eta = 1$) the same
# passes do far better: 17.3 at 20 steps, 11.6 at 50 and 11.8 at 100, close to the 1,000
# ancestral steps' 10.5, which cost ten times more again (2.8 s per digit). The deterministic
# jumps keep the network's errors, while a step with fresh noise lets the next steps correct
# them. The rarest class tells mostly the same story, although at 300 digits a class is a handful of
# digits (14 to 19 of the rarest class in the $\eta = 1$ and ancestral rows): the DDIM rows draw
# zeros only 2.7 to 4.7 % of the time, while the $\eta = 1$ rows leave their rarest class at
# 4.7 to 6.0 % (the 50-step row's 4.7 % is 14 zeros of 300; of the 10,000 shipped samples
# zeros are 5.4 %) and the ancestral row at 6.3 %. So the
# shipped 10,000 samples use 50 steps with $\eta = 1$, about 0.14 s of CPU per digit here,
# where 10,000 ancestral samples would take over seven hours.
#
# **Against the PixelCNN.** Counting network passes hides how expensive each pass is. The
# cell below measures one pass of each network on a batch of 100 digits (CPU time, one thread,
# fp32, the fastest of three; the course's timing method) and multiplies by the passes a
# sample needs: 784 for the gated PixelCNN of lecture 4, the step count for the DDPM.

# %% tags=["nbval-ignore-output"]
gated, _ = load_shipped("gated_pixelcnn.pt")
x_batch = x_valid[:100]
t_batch = torch.full((100,), 500, dtype=torch.long)
with one_thread(), torch.no_grad():
    pass_seconds = {"Gated PixelCNN": cpu_time(lambda: gated.logits(x_batch)) / 100,
                    "DDPM U-Net": cpu_time(lambda: ddpm.eps_hat(2 * x_batch - 1, t_batch)) / 100}
per_digit = {"Gated PixelCNN, 784 passes": 784 * pass_seconds["Gated PixelCNN"]}
for steps in (1000, 50, 10):
    per_digit[f"DDPM, {steps} passes"] = steps * pass_seconds["DDPM U-Net"]
for name, seconds in pass_seconds.items():
    print(f"one pass of the {name}: {1000 * seconds:.2f} ms per digit")
for name, seconds in per_digit.items():
    print(f"{name:28} {seconds:7.3f} CPU s per digit")

# %% jupyter={"source_hidden": true} tags=["claim-08-sampling-cost", "hide-input"]
rows = steps_table["rows"]
assert [(row["steps"], row.get("eta")) for row in rows] == [
    (k, eta) for k in (10, 20, 50, 100) for eta in (0.0, 1.0)] + [(1000, None)]
assert steps_table["num"] == 300
ddim = [row for row in rows if row.get("eta") == 0.0]
noisy = [row for row in rows if row.get("eta") == 1.0]
assert all(a["frechet"] > b["frechet"] for a, b in zip(ddim, ddim[1:]))   # more steps, better
assert all(n["frechet"] < d["frechet"] for n, d in zip(noisy, ddim))         # noise, better
assert [round(steps_fd[k], 1) for k in ((10, 0.0), (100, 0.0), (20, 1.0), (50, 1.0), (100, 1.0),
                                        (1000, 1.0))] == [26.0, 18.5, 17.3, 11.6, 11.8, 10.5]
assert round(steps_table["frechet_real_vs_real"], 1) == 4.3
per_digit_table = {row["steps"]: row["cpu_seconds_per_digit"] for row in ddim + rows[-1:]}
assert 9 < per_digit_table[100] / per_digit_table[10] < 11 and 9 < per_digit_table[1000] / per_digit_table[100] < 11
assert [round(per_digit_table[k], 2) for k in (10, 100)] == [0.03, 0.28] and round(per_digit_table[1000], 1) == 2.8
assert 18 < sum(row["cpu_seconds"] for row in rows) / 60 < 22                # about 20 minutes
rarest = lambda group: [round(100 * min(row["class_fractions"]), 1) for row in group]
assert (min(rarest(ddim)), max(rarest(ddim))) == (2.7, 4.7)
assert (min(rarest(noisy)), max(rarest(noisy))) == (4.7, 6.0) and rarest(rows[-1:]) == [6.3]
assert sorted(round(300 * min(row["class_fractions"])) for row in noisy + rows[-1:])[::4] == [14, 19]
assert round(noisy[2]["cpu_seconds_per_digit"], 2) == 0.14 and 10_000 * per_digit_table[1000] / 3600 > 7
ratio = pass_seconds["DDPM U-Net"] / pass_seconds["Gated PixelCNN"]   # machine-dependent: wide
assert 1.2 < ratio < 2.0                                              # "1.2 to 2 times"
assert 1.5 < per_digit["DDPM, 1000 passes"] / per_digit["Gated PixelCNN, 784 passes"] < 2.5
assert 0.05 < per_digit["DDPM, 50 passes"] / per_digit["Gated PixelCNN, 784 passes"] < 0.15
assert 0.01 < per_digit["DDPM, 10 passes"] / per_digit["Gated PixelCNN, 784 passes"] < 0.03

# %% [markdown]
# One pass of this U-Net costs 1.2 to 2 times a pass of lecture 4's gated PixelCNN (2.5
# against 1.5 ms per digit in the run printed above; timings vary from run to run), so the
# 1,000 ancestral passes cost up to twice the PixelCNN's 784 (2.5 against 1.2 s per digit),
# while 50 strided passes cost a tenth of it and 10 passes a fiftieth. The DDPM's advantage is
# not cheaper passes but freedom in their number: an autoregressive model over 784 pixels
# needs 784 passes, one per pixel, whatever its network, while a diffusion model trades passes
# against quality, and its passes are parallel over the pixels. All of this is against the
# PixelCNN's *plain* sampler, which recomputes the whole image at every pass. Lecture 4's
# cached sampler computes each pass at the new pixel only and drew the Gated PixelCNN's 1,000
# shipped samples in about 4 seconds, a few milliseconds a digit: far cheaper than any row
# above. Caching cannot help a diffusion model, whose every pass changes every pixel.

# %% [markdown]
# ## 6. Masked diffusion: a diffusion model with a likelihood on binary digits
#
# The course's digits are binary, and its table of models compares them by their NLL in nats.
# Section 4's DDPM ran on binary pixels (as $\pm 1$), but, like lecture 7's flow, it defines a
# density on a continuous space, not probabilities of binary images: its ELBO is not a bound
# on the discrete NLL without a dequantization step. For
# discrete data there is a simpler corruption, with a likelihood bound of its own: replace
# pixels by a special **mask** symbol. In the forward process of **masked** (absorbing-state)
# diffusion (Austin et al. 2021), each pixel is masked independently with a probability that
# rises from 0 to 1; once masked it stays masked, and at the end every pixel is. The reverse
# process **unmasks**: given the visible pixels, a network gives each masked pixel a Bernoulli
# probability, and some of them are revealed. The schedule drops out of the bound: in
# continuous time, summing over how many pixels are masked turns the ELBO into the form below
# whatever the schedule (Shi et al. 2024), so the package trains and samples by the number of
# masked pixels, with no time variable. The network is lecture 4's PixelCNN turned
# inside out: not "every pixel given the ones above it", but "every masked pixel given whatever
# is visible", for any pattern of visible pixels.
#
# Look at the reverse process one pixel at a time. Starting from all masked, revealing the
# pixels in some order $\pi$ and drawing each from the network given the ones revealed before it
# is exactly sampling from an **autoregressive model in the ordering $\pi$** (lecture 2's chain
# rule). Hoogeboom et al. (2022) showed that the diffusion's ELBO is the NLL of that
# autoregressive model averaged over a uniformly random ordering. This is the objective of
# order-agnostic NADE (Uria et al. 2014), which lecture 3 mentioned when MADE's masks redraw the
# ordering; the model itself is lecture 3's mixture of masks, with every ordering as a member:
#
# $$-\log p_\theta(x) \;\le\; \mathbb E_\pi\big[-\log p_\pi(x)\big]
#   = \mathbb E_\pi \sum_{i=1}^{D} -\log p_\theta\big(x_{\pi(i)} \mid x_{\pi(<i)}\big)
#   = D\, \mathbb E_{m \sim \mathcal U\{1,\dots,D\}}\, \frac1m\, \mathbb E_M
#     \sum_{d \in M} -\log p_\theta\big(x_d \mid x_{\setminus M}\big),$$
#
# with $D = 784$ pixels (sections 1–3 had $D = 2$), $\pi$ a uniformly random ordering, $M$ a
# uniformly random set of $m$ of the $D$ pixels (the masked ones) and $x_{\setminus M}$ the
# visible ones (Hoogeboom et al. write $\sigma$ for the ordering; here $\sigma$ is a noise
# level). Line by line:
#
# 1. **Jensen.** The model is the sampler that unmasks one pixel per round in a uniformly random
#    order, so $p_\theta(x) = \mathbb E_\pi\, p_\pi(x)$: a mixture of $D!$ autoregressive
#    models. $-\log$ is convex, so the mixture's NLL is at most its members' average, as lecture
#    3 measured for its mixture of 8 masks. The gap is 0 only if every ordering gives the same
#    $p_\pi(x)$.
# 2. **One network for every ordering.** The chain rule in ordering $\pi$ gives $D$
#    conditionals. The network's conditional depends only on *which* pixels are visible, not on
#    the order they were revealed in, so all $D!$ models share it.
# 3. **A random step instead of the sum.** $\sum_{i=1}^D f_i = D\,\mathbb E_{i\sim\mathcal
#    U\{1..D\}} f_i$. At step $i$, $m = D - i + 1$ pixels are still masked, so $m$ is uniform on
#    $1..D$. For a uniform ordering the still-masked set $\{\pi(i),\dots,\pi(D)\}$ is a
#    uniformly random $m$-subset $M$, and given $M$ the next pixel is equally likely to be any of
#    its $m$ members. So the expected term is $\frac1m\sum_{d\in M}$, hence the weight $D/m$.
#
# A training step computes the last form: pick $m$, mask a random set of that size, predict all
# the masked pixels in one pass, and weight their summed NLL by $D/m$: one network pass, for
# every ordering at once. Sampling in fewer rounds (the end of this section) draws from a
# different distribution, which this bound does not cover.
#
# The network is section 4's **U-Net** with two changes: it takes two input channels, the
# visible pixels (as $\pm 1$, 0 where masked) and the mask itself, and it needs no time input,
# because the mask says how far the reverse process has come. It gives one Bernoulli logit per
# pixel. The two functions of the bound:

# %%
masked_model, masked_entry = load_shipped("masked_diffusion.pt")
print(inspect.getsource(MaskedDiffusion.bound_terms))
print(inspect.getsource(MaskedDiffusion.nll_bound))
print(f"network: a U-Net with 2 input channels (the visible pixels as ±1, 0 where masked; and "
      f"the mask), one Bernoulli logit per pixel out; {masked_model.num_params():,} parameters")

# %% [markdown]
# What the network does with a partly masked digit: three test digits with 700, 400 and 100 of
# their 784 pixels masked (a random set), and the model's probability of white for every
# masked pixel, in one pass each. With most of the digit hidden the predictions are a blur of
# plausible strokes; with a few pixels hidden they are nearly certain.

# %% mystnb={"figure": {"caption": "Masked diffusion's predictions: for three test digits (rows), the digit, then for 700, 400 and 100 masked pixels the visible part (masked pixels grey) and the model's probability of white at every masked pixel (visible pixels shown as they are).", "name": "fig-08-masked-predictions"}, "image": {"alt": "A grid of three rows and seven columns of 28 by 28 images. Each row starts with a test digit; then, for 700, 400 and 100 masked pixels, a picture of the digit with the masked pixels in grey, and a picture of the model's predictions, in which the masked pixels are shades of grey that trace the digit's strokes, blurred when most pixels are masked and nearly black and white when few are."}}
x_show = x_test[:3].view(3, -1)                                # (3, 784)
g = torch.Generator().manual_seed(0)
fig, axes = plt.subplots(3, 7, figsize=(9.5, 4.4))
for row in range(3):
    axes[row, 0].imshow(x_show[row].view(28, 28), cmap="gray", vmin=0, vmax=1)
    for j, m in enumerate((700, 400, 100)):
        masked = masked_model.random_masks(1, torch.tensor([m]), "cpu", g)        # (1, 784)
        with torch.no_grad():
            p = torch.sigmoid(masked_model.logits(x_show[row:row + 1], masked))  # (1, 784)
        visible = torch.where(masked, torch.full_like(p, 0.5), x_show[row:row + 1])
        predicted = torch.where(masked, p, x_show[row:row + 1])
        axes[row, 1 + 2 * j].imshow(visible.view(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[row, 2 + 2 * j].imshow(predicted.view(28, 28), cmap="gray", vmin=0, vmax=1)
        if row == 0:
            axes[0, 1 + 2 * j].set_title(f"{m} masked", fontsize=9)
            axes[0, 2 + 2 * j].set_title("p(white)", fontsize=9)
axes[0, 0].set_title("test digit", fontsize=9)
for ax in axes.flat:
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Its bound beside the course's digit models
#
# The shipped model's bound on the full test set, estimated with 16 stratified draws of $m$
# per digit (the estimate is unbiased for the bound; "About these numbers"), in the course's
# table. Every autoregressive number is an exact NLL, the VAE's an importance-sampled
# estimate, the flow's an importance-weighted bound, and the masked model's a bound on the NLL of
# its one-pixel-per-round sampler, which is therefore at most this (up to the estimate's noise).

# %% mystnb={"figure": {"caption": "The masked diffusion model's learning curves: the bound, estimated with one draw of the number of masked pixels per digit, on the training digits (the mean over each epoch's batches, dashed) and on the validation digits (solid), in nats; a star at the epoch kept.", "name": "fig-08-masked-curves"}, "image": {"alt": "A line plot titled masked_diffusion.pt, 3 epochs, 62 min: the validation bound falls in a straight line from 92.3 nats at epoch 1 to 90.0 at epoch 2 and 87.4 at epoch 3, where a star marks the kept epoch; the dashed training curve falls from above 93 to 91.2 and 88.9, still steeply."}}
plot_checkpoint_curves(["masked_diffusion.pt"], manifest, ncols=1, size=(4.5, 3))
plt.show()

# %%
course_table = [("FVSBN (lecture 3)", "fvsbn.pt", "exact"), ("NADE (lecture 3)", "nade.pt", "exact"),
                ("MADE, 8 masks (lecture 3)", "made_8masks.pt", "exact"),
                ("PixelCNN (lecture 4)", "pixelcnn.pt", "exact"),
                ("Gated PixelCNN (lecture 4)", "gated_pixelcnn.pt", "exact"),
                ("Row LSTM (lecture 4)", "row_lstm.pt", "exact"),
                ("Diagonal BiLSTM (lecture 4)", "diagonal_bilstm.pt", "exact"),
                ("VAE (lecture 5)", "vae.pt", "IS estimate, k = 5,000"),
                ("MAF flow (lecture 7)", "digit_flow.pt", "IW bound, k = 100"),
                ("masked diffusion (here)", "masked_diffusion.pt", "bound, 16 draws of m")]
print(f"{'model':30} {'test NLL (nats)':>15} {'bits/dim':>9}  kind")
course_nll = {}
for label, name, kind in course_table:
    course_nll[name] = manifest[name]["test_nll"]
    print(f"{label:30} {course_nll[name]:15.2f} {course_nll[name] / (784 * math.log(2)):9.3f}  {kind}")

# %% jupyter={"source_hidden": true} tags=["claim-08-masked-bound", "hide-input"]
masked_nll = course_nll["masked_diffusion.pt"]
assert masked_nll < course_nll["fvsbn.pt"] and masked_nll < course_nll["nade.pt"]
assert sorted(name for name, v in course_nll.items() if v < masked_nll) == ["diagonal_bilstm.pt", "gated_pixelcnn.pt"]
assert round(masked_nll - course_nll["gated_pixelcnn.pt"], 2) == 0.04 and round(course_nll["diagonal_bilstm.pt"], 2) == 85.44
assert [manifest[n]["epochs"] for n in ("gated_pixelcnn.pt", "diagonal_bilstm.pt")] == [20, 8]
assert masked_entry["epochs"] == 3 and masked_entry["wall_time_s"] < 75 * 60
history = masked_entry["history"]                                     # still falling steeply
assert history["valid_nll"][-1] < history["valid_nll"][-2] - 2
with torch.no_grad():   # the shipped number, re-estimated on 100 digits spread over the test set
    recheck = masked_model.nll_bound(x_test[::100], 16, generator=torch.Generator().manual_seed(1))
standard_error = recheck.std().item() / len(recheck) ** 0.5       # the first test digits are harder
assert abs(recheck.mean().item() - masked_nll) < 3 * standard_error

# %% [markdown]
# After three epochs (an hour on one CPU thread), the masked diffusion model's bound is below
# FVSBN's and NADE's exact NLLs and every other number in the course's table but two: the Gated
# PixelCNN's, 0.04 nats lower (a tie), and the Diagonal BiLSTM's, 85.44, exact NLLs after 20
# and 8 epochs (over two hours and an hour and a half on the same kind of CPU). Its true NLL is
# lower than its bound, by the bound's gap. The learning curve was still falling steeply when
# the budget ran out. Two cautions before reading this as
# "diffusion beats autoregression": the models had very different budgets (each one's manifest
# entry, printed in its lecture), and this model *is* an autoregressive model, averaged over
# orderings, built on a convolutional network with a view of every visible pixel, where the
# PixelCNN sees only the pixels above and to the left.
#
# ### The ordering matters: one network, many autoregressive models
#
# Lecture 2 showed, on 4 × 4 patches of digits, that the chain rule holds in any ordering, but
# that an AR($k$) model, which sees only the $k$ pixels before each one, fits some orderings
# better than others. Here every conditional sees *all* the pixels revealed before it. A perfect
# network would therefore give the same NLL in every ordering (the chain rule), and the bound
# would be tight; differences between orderings measure how far the learned conditionals are
# from one consistent distribution. The masked diffusion network holds an autoregressive model
# for every ordering, so the question can be put to one network: fix an ordering $\pi$ and
# compute $-\log p_\pi(x) = \sum_i -\log p(x_{\pi(i)} \mid x_{\pi(<i)})$ exactly, with 784
# passes per digit. The table below does it for row by row (lecture 4's raster order), column
# by column, from the centre outwards and from the border inwards, on the first 50 test digits,
# beside the bound (the average over all orderings) on the same digits. It takes about 20
# minutes of CPU, so it ships as a table (`python -m gm_helpers.train masked_orders`).

# %%
orders = json.loads((CHECKPOINT_DIR / "masked_orders.json").read_text())
print(f"the first {orders['num']} test digits; exact NLL along one ordering (784 passes each)")
print(f"{'ordering':24} {'NLL (nats)':>10}")
for row in orders["rows"]:
    print(f"{row['order']:24} {row['nll']:10.2f}")
print(f"{'bound (all orderings)':24} {orders['bound']:10.2f}   ({orders['bound_draws']} draws of m per digit)")
order_nll = {row["order"]: row["nll"] for row in orders["rows"]}
print("\ncommand:", orders["command"])

# %% jupyter={"source_hidden": true} tags=["claim-08-orderings", "hide-input"]
assert max(order_nll.values()) - min(order_nll.values()) > 3          # the ordering matters
assert min(order_nll.values()) > orders["bound"] + 5                  # each worse than the average
assert orders["bound"] > masked_nll + 5                               # these digits are harder

# %% [markdown]
# On these 50 digits (the first of the test set, harder than most: the bound on them is about 97
# nats, against 87 on the whole set) the four orderings' exact NLLs lie about 5 nats apart, from
# raster (the best) to column by column (the worst), and every one of them is 8 to 13 nats
# *worse* than the bound, which is the average over uniformly random orderings. The structured
# orderings are the network's hard cases: training draws the masked set uniformly at random, so
# it almost never shows the network a digit whose top rows are all visible and whose bottom rows
# are all masked, which is what the raster ordering asks at every step; a random ordering asks
# what the network was trained on. So the ordering matters here too, through what the network
# learned rather than through the chain rule, and the average over orderings the network knows
# beats any of these single ones.
#
# ### Sampling: one pixel per step, or many
#
# Unmasking one pixel per step is exact autoregressive sampling in a random ordering: 784
# passes, like the PixelCNN. Unmasking several pixels per step draws them **independently**
# given the visible ones, an approximation that is cheaper and, when too many pixels are drawn
# at once, visibly wrong: pixels that belong together are drawn as if they did not know about
# each other.

# %% mystnb={"figure": {"caption": "Sixteen samples of the masked diffusion model for each number of unmasking rounds: 784 (one pixel per round: exact sampling in a random ordering; shipped, drawn once), 100, 20 and 5 (drawn here).", "name": "fig-08-masked-samples"}, "image": {"alt": "Four 4 by 4 grids of white-on-black binary digits, titled 784 rounds (exact), 100 rounds, 20 rounds and 5 rounds. With 784 and 100 rounds most are digit-like strokes (a 0, 9s, 3s, 8s, 7s), some malformed; with 20 rounds the strokes are still digit-like but fringed with loose pixels; with 5 rounds the shapes are clouds of scattered speckles in which a digit can only be guessed."}}
exact_samples = load_shipped_samples("masked_diffusion_samples.pt")     # (100, 1, 28, 28), 784 rounds
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
show_images(exact_samples[:16], nrow=4, ax=axes[0], title="784 rounds (exact)")
for ax, rounds in zip(axes[1:], (100, 20, 5)):
    with torch.no_grad():
        x = masked_model.sample(16, steps=rounds, generator=torch.Generator().manual_seed(0))
    show_images(x.view(-1, 1, 28, 28), nrow=4, ax=ax, title=f"{rounds} rounds")
plt.show()

# %% [markdown]
# ## 7. Explore: the reverse process
#
# The explorer below runs the shipped DDPMs backwards: choose the model (section 3's ring or
# grid, or section 4's digits), the number of sampling steps (1000: all $T$ ancestral steps;
# fewer: the deterministic DDIM sampler of section 3, which jumps from step $t$ to an earlier
# step $t'$ along the network's guess $\hat x_0$ of the clean point, with no fresh noise), and
# scrub the frame slider from pure noise to the samples. The digits run DDIM only, with at
# most 100 steps (16 digits take a few seconds per 50 steps here). Things to try: on the ring,
# watch when the points split into 8 groups; on the grid, compare 10 DDIM steps with 1000
# ancestral ones, and find the step count below which the samples leave the modes; on the
# digits, find the frame where you can first tell which digit each one will be. The static
# figure shows one frame of it: the ring, 50 DDIM steps, halfway through, where the points are
# still a round cloud.

# %% mystnb={"figure": {"caption": "One frame of the explorer: 2,000 points of the ring DDPM halfway through 50 DDIM steps, still a round cloud; the ring forms in the last steps.", "name": "fig-08-reverse-state"}, "image": {"alt": "A square scatter plot of orange points titled ring, 50 DDIM steps: 25/50 of the way; the points form a round diffuse cloud in the middle of the panel, densest at its centre, with no ring visible yet."}}
explorer_models = {"ring": ddpm2d["ring"], "grid": ddpm2d["grid"], "digits": ddpm}
fig = draw_reverse(reverse_result(explorer_models, "ring", 50, 25))
plt.show()

# %% mystnb={"figure": {"caption": "The reverse-process explorer: a model menu (ring, grid, digits), a steps menu and a frame slider from pure noise to the samples.", "name": "fig-08-reverse-explorer"}, "image": {"alt": "The same picture as the static figure above, under a row of controls: a model menu, a steps menu and a frame slider."}} tags=["nbval-ignore-output"]
reverse_explorer(explorer_models, "ring", steps=50)

# %% [markdown]
# > **About these numbers**
# >
# > * **What runs live.** The score models of section 1 train in the notebook, in fp32 on the
# >   CPU, from fixed seeds; their printed numbers vary a little with the CPU's rounding, and the
# >   checks beside them hold on any CPU. Everything else is loaded from files shipped with the
# >   course: the 2-d DDPMs (`ddpm2d_ring.pt`, `ddpm2d_grid.pt`); the digit DDPM (`ddpm.pt`),
# >   10,000 of its samples (`ddpm_samples.pt`, 50 steps, $\eta = 1$) and its table of sampling steps
# >   (`ddpm_steps.json`); 1,000 samples of lecture 7's flow (`digit_flow_samples.pt`); the
# >   masked diffusion model (`masked_diffusion.pt`) and 100 of its exact samples
# >   (`masked_diffusion_samples.pt`); the table of orderings of section 6
# >   (`masked_orders.json`; its bound uses 64 draws of $m$ per digit); and earlier lectures'
# >   files: lecture 6's `gan_toy_modes.json`, the DCGAN, the VAE, the classifier and the PixelCNN
# >   samples of its Fréchet table, lecture 7's `flow2d_*.pt` manifest entries, and the digit
# >   checkpoints of the NLL table.
# > * **How each file was made.** The manifest (`gm_helpers/checkpoints/manifest.json`)
# >   records each file's command, steps or epochs, wall time, hardware and PyTorch version;
# >   the cell below prints the first four for the files this lecture adds. Each 2-d DDPM
# >   trained for 10,000 steps on one CPU thread, five seeds in a row (the manifest's minutes are
# >   the first seed's). The digit DDPM trained on one CPU thread with bfloat16 autocast (that CPU,
# >   an AMD EPYC, computes bf16 natively; evaluation stays fp32) and kept an exponential moving
# >   average of its weights (decay 0.999: the weights it ships and samples with); its samples
# >   and the steps table were drawn in fp32. The masked diffusion model
# >   trained on one CPU thread of an AVX2 machine in fp32 (bfloat16 autocast would have been
# >   several times slower there: that CPU has no native bf16). Both trained under a wall-clock
# >   budget (`--max-minutes`: training stops after the first epoch that ends past it, and keeps
# >   the epoch with the best validation loss), while a second run shared the 2-core machine: their
# >   minutes are a budget, not a speed measurement, and far from the papers' (hundreds of epochs
# >   on accelerators): the tables rank these checkpoints, not the families.
# > * **This notebook** runs top to bottom in about 75 seconds of CPU time on one core of a
# >   2-core AMD EPYC (no GPU), most of it section 1's live training, section 3's 1,000-step
# >   samplers and section 4's 50-step digits. Its peak memory was 1.2 GiB in the run that
# >   produced this notebook, with PyTorch's CUDA build, which pip installs on Linux by default
# >   (about 0.7 GiB of it is that build's libraries; before a fix to how section 3's sampler
# >   keeps its path, two runs had reached 1.4 and 1.9 GiB), and 0.9 GiB with the CPU build that
# >   Binder installs.

# %%
print(f"{'file':22} {'steps or epochs':>15} {'minutes':>7}  hardware")
for name in ("ddpm2d_ring.pt", "ddpm2d_grid.pt", "ddpm.pt", "ddpm_samples.pt", "digit_flow_samples.pt",
             "masked_diffusion.pt", "masked_diffusion_samples.pt"):
    entry = manifest[name]
    size = (f"{entry['steps']:,} steps" if "steps" in entry and "epochs" not in entry and entry["model"] != "samples"
            else f"{entry['epochs']} epochs" if "epochs" in entry else f"{entry['num']} samples")
    print(f"{name:22} {size:>15} {entry['wall_time_s'] / 60:7.0f}  {entry['hardware']}")
for name in ("ddpm2d_ring.pt", "ddpm.pt", "ddpm_samples.pt", "digit_flow_samples.pt", "masked_diffusion.pt",
             "masked_diffusion_samples.pt"):
    print(f"\n{name}: {manifest[name]['command']}")
print(f"\nmasked_orders.json: {orders['command']}")

# %% [markdown]
# ## Exercises
#
# The three exercises sit in section 3, beside the ideas they practise:
#
# * **Exercise 1**, the forward marginal $q(x_t \mid x_0)$ (`forward_marginal`), after the
#   closed form is derived and checked against the chain;
# * **Exercise 2**, the noise-prediction loss (`eps_loss`), after the simplified loss;
# * **Exercise 3**, one step of ancestral sampling (`ancestral_step`), after the reverse process.

# %% [markdown]
# ## Summary
#
# * The **score** $\nabla_x \log p(x)$ is all Langevin dynamics needs to sample. Learned from
#   data at one noise level, it is wrong where the data never go, between the modes; learned
#   at many noise levels and used from the largest down (annealing), it finds every mode.
# * **Denoising score matching** is noise prediction: the optimal $\hat\epsilon$ at noise level
#   $\sigma$ gives the score of the noisy data, $-\hat\epsilon/\sigma$, and the best denoiser,
#   $\tilde x - \sigma\hat\epsilon$ (Tweedie's formula).
# * **DDPM** fixes a chain that adds Gaussian noise, whose marginal $q(x_t \mid x_0)$ has a
#   closed form, and learns the reverse steps. Its ELBO is a sum of Gaussian KL terms, one per
#   step; dropping their weights leaves the simple loss, a regression onto the added noise.
# * On the ring and the grid the shipped DDPMs capture every mode on every seed. Their ELBO is
#   loose, though: 0.7 to 1.5 nats above the data's entropy, against the spline flows' 0.02 to
#   0.05 (different budgets).
# * DDIM reuses the same network with fewer steps, jumping between noise levels along its guess
#   of the clean data, deterministically; with fresh noise at each jump ($\eta = 1$) the same
#   number of passes draws far better digits from 20 steps on. The explorer compares DDIM with
#   ancestral sampling.
# * On digits, a U-Net of 0.38 M parameters trained for 84 minutes on one CPU thread draws the
#   course's second-lowest Fréchet distance: 10,000 samples in 50 noisy steps score 11.7 (the
#   DCGAN's 9.9, the VAE's 20.0), with every class at least 5 %.
#   Each of its passes costs 1.2 to 2 times a Gated PixelCNN's, but 50 of them cost a tenth of
#   the PixelCNN's 784 plain passes (its cached sampler is cheaper still).
# * **Masked diffusion** on binary digits is an any-order autoregressive model: its ELBO is
#   the NLL averaged over orderings, and the same network gives an exact NLL for each ordering,
#   which depends on the ordering (lecture 2's point, on one network). Unmasking one pixel per
#   round samples exactly; many per round is faster and approximate.
#
# ## References
# * J. Sohl-Dickstein, E. Weiss, N. Maheswaranathan, S. Ganguli. *Deep unsupervised learning
#   using nonequilibrium thermodynamics.* ICML 2015.
# * Y. Song, S. Ermon. *Generative modeling by estimating gradients of the data distribution.*
#   NeurIPS 2019 (annealed Langevin dynamics, noise-conditional scores).
# * Y. Song, S. Ermon. *Improved techniques for training score-based generative models.*
#   NeurIPS 2020 (the largest noise level).
# * P. Vincent. *A connection between score matching and denoising autoencoders.* Neural
#   Computation 2011 (denoising score matching).
# * B. Efron. *Tweedie's formula and selection bias.* JASA 2011.
# * J. Ho, A. Jain, P. Abbeel. *Denoising diffusion probabilistic models.* NeurIPS 2020.
# * J. Song, C. Meng, S. Ermon. *Denoising diffusion implicit models.* ICLR 2021.
# * A. Nichol, P. Dhariwal. *Improved denoising diffusion probabilistic models.* ICML 2021
#   (the cosine schedule).
# * J. Austin, D. D. Johnson, J. Ho, D. Tarlow, R. van den Berg. *Structured denoising
#   diffusion models in discrete state-spaces.* NeurIPS 2021 (D3PM, the absorbing state).
# * E. Hoogeboom, A. A. Gritsenko, J. Bastings, B. Poole, R. van den Berg, T. Salimans.
#   *Autoregressive diffusion models.* ICLR 2022.
# * B. Uria, I. Murray, H. Larochelle. *A deep and tractable density estimator.* ICML 2014
#   (order-agnostic NADE).
# * J. Shi, K. Han, Z. Wang, A. Doucet, M. K. Titsias. *Simplified and generalized masked
#   diffusion for discrete data.* NeurIPS 2024 (MD4).
# * O. Ronneberger, P. Fischer, T. Brox. *U-Net: convolutional networks for biomedical image
#   segmentation.* MICCAI 2015.
