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
# # Lecture 6 — GANs: the minimax game proved on a grid, training you can watch, and mode collapse measured
#
# Every model so far wrote down $p_\theta(x)$: exactly (lectures 2–4) or through a bound
# (lecture 5), and we trained it by maximum likelihood. A **generative adversarial network**
# gives that up. It keeps only a sampler, $x = G(z)$ with $z \sim \mathcal N(0, I)$, and trains
# it against a second network, a classifier $D$ that tries to tell data from samples.
#
# **What you will learn**
#
# * what an *implicit* model can and cannot do, next to the course's explicit models;
# * the value function $V(D, G)$ and Algorithm 1 of Goodfellow et al. (2014), with its $k$
#   discriminator steps per generator step, counted;
# * the optimal discriminator $D^* = p_\mathrm{data} / (p_\mathrm{data} + p_g)$, trained and
#   compared with the formula; $V(D^*, G) = 2\,\mathrm{JSD}(p_\mathrm{data} \,\|\, p_g) - 2\log 2$,
#   checked by quadrature; why the JSD gives no gradient when the supports do not overlap;
# * the saturating and the non-saturating generator loss: a run where one stalls and the other
#   trains, and both losses' gradients at the same generator;
# * training dynamics in 2-d (D's contours, G's gradient field), mode collapse, and a remedy
#   (a gradient penalty) measured over seeds, with and without it in the same recipe, beside
#   the published tables;
# * a DCGAN on binarized MNIST: samples, class coverage, and a Fréchet distance beside the VAE
#   and the PixelCNN;
# * two widgets, and two review questions answered from our measurements.
#
# Three exercises sit beside the ideas they practise (sections 2, 3 and 5): you write the
# discriminator's loss, the optimal discriminator and the non-saturating generator loss, each
# checked by a function from the package that names the usual mistakes. The small 2-d GANs
# train live; the DCGAN and the other models are loaded from shipped checkpoints (how they were
# made: "About these numbers", after section 9).
#
# **Study time:** about 105 minutes of reading and 20 minutes of exercises.

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
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from gm_helpers.analysis import mixtures
from gm_helpers.analysis.mixtures import js_divergence, mode_shares, value_at_optimum
from gm_helpers.analysis.sample_quality import (
    class_fractions,
    feature_statistics,
    frechet_distance,
    logits,
)
from gm_helpers.analysis.timing import cpu_time, one_thread
from gm_helpers.data import load_binarized_mnist
from gm_helpers.diagrams.gan import gan_loop
from gm_helpers.exercises.gan import (
    check_discriminator_loss,
    check_generator_loss,
    check_optimal_discriminator,
)
from gm_helpers.models import gan
from gm_helpers.models.dcgan import Discriminator, Generator
from gm_helpers.models.gan import mlp_discriminator, mlp_generator
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    load_shipped,
    load_shipped_samples,
    shipped_manifest,
)
from gm_helpers.training.gan import d_step, g_step, train_dcgan, train_discriminator, train_gan
from gm_helpers.training.gan_toy import run, summarise
from gm_helpers.training.loop import get_device, seed_everything
from gm_helpers.viz import plot_checkpoint_curves, show_images
from gm_helpers.widgets.gan import (
    dcgan_explorer,
    dcgan_result,
    draw_dcgan,
    draw_run,
    draw_toy_state,
    toy_gan_explorer,
)

seed_everything(0)
device = get_device()
manifest = shipped_manifest()
G_dcgan, dcgan_entry = load_shipped("dcgan.pt")          # z (B, 64) -> x (B, 1, 28, 28)
classifier, classifier_entry = load_shipped("digit_classifier.pt")
x_valid = load_binarized_mnist("valid")                  # (10000, 1, 28, 28): the reference digits
print(f"DCGAN generator: {sum(p.numel() for p in G_dcgan.parameters()):,} parameters; "
      f"digit classifier: held-out accuracy {classifier_entry['held_out_accuracy']:.1%}")

# %% [markdown]
# ## 1. Implicit vs explicit models
#
# An **explicit** model defines $p_\theta(x)$ and we can evaluate it (NADE, PixelCNN) or bound
# it (the VAE). An **implicit** model defines $p_g$ only as *the distribution of $G(z)$*: we can
# draw from it, as fast as one forward pass, but there is no formula for $p_g(x)$ at a given
# image $x$. Implicit models can only generate: no density estimation (so no outlier
# detection by likelihood, no NLL in a table), and a plain GAN has no encoder either, so no
# representation of a given $x$ comes out of it.
#
# The course's models, asked what they offer:

# %%
nade, _ = load_shipped("nade.pt")
pixelcnn, _ = load_shipped("gated_pixelcnn.pt")
vae, _ = load_shipped("vae.pt")
x_one = x_valid[:2]
rows = []
for name, model in (("NADE", nade), ("Gated PixelCNN", pixelcnn), ("VAE", vae), ("DCGAN", G_dcgan)):
    exact = hasattr(model, "log_prob") and not hasattr(model, "training_loss")
    rows.append((name, "yes" if hasattr(model, "sample") else "no",
                 "exact" if exact else "bound (ELBO) + IS estimate" if hasattr(model, "elbo") else "none",
                 "yes" if hasattr(model, "encode") else "no"))
print(f"{'model':16} {'sample':7} {'log p(x)':28} encoder")
for row in rows:
    print(f"{row[0]:16} {row[1]:7} {row[2]:28} {row[3]}")
print("NADE's log p(x) of two validation digits:", nade.log_prob(x_one).detach().numpy().round(2))
print("the DCGAN draws 4 digits in one pass:", tuple(G_dcgan.sample(4, seed=0).shape))

# %% jupyter={"source_hidden": true} tags=["claim-06-implicit-model", "hide-input"]
assert not hasattr(G_dcgan, "log_prob") and hasattr(G_dcgan, "sample")

# %% [markdown]
# ## 2. The game and Algorithm 1
#
# $D(x) \in (0, 1)$ is the probability that $x$ came from the data. The two networks play
#
# $$\min_G \max_D V(D, G), \qquad V(D, G) = \mathbb E_{x \sim p_\mathrm{data}}[\log D(x)]
#   + \mathbb E_{z \sim p(z)}[\log(1 - D(G(z)))] .$$
#
# The signs, once and for all: $D$ **maximises** $V$ over its parameters $\theta_d$; $G$
# **minimises** the same $V$ over its parameters $\theta_g$. For $D$, $V$ is the
# log-likelihood of a binary classifier that labels data 1 and samples 0, so $-V$ is that
# classifier's binary cross-entropy. $G$ changes only the second term (the first does not
# depend on $\theta_g$): it wants $D(G(z))$ near 1.
#
# The package computes everything from $D$'s **logit** $l$, $D = \sigma(l)$, because
# $\log D = -\mathrm{softplus}(-l)$ and $\log(1 - D) = -\mathrm{softplus}(l)$ are numerically
# stable where computing $\log \sigma(l)$ from a rounded $\sigma(l)$ would give $\log 0$.
#
# ### Algorithm 1, line by line
#
# To **ascend** an objective $J$ is to step along its gradient,
# $\theta \leftarrow \theta + \eta\, \nabla_\theta J$, which increases $J$; to **descend** a loss
# $L$ is to step against it, $\theta \leftarrow \theta - \eta\, \nabla_\theta L$, which decreases
# $L$. Goodfellow et al. (2014) train the game with minibatch stochastic gradient steps; $m$ is
# the minibatch size and $k$, the number of discriminator steps per generator step, a
# hyper-parameter:
#
# > **for** each training iteration **do**
# >
# > &emsp; **for** $k$ steps **do**
# >
# > &emsp;&emsp; (1) sample $m$ noise vectors $z^{(1)}, \dots, z^{(m)}$ from the prior $p(z)$;
# >
# > &emsp;&emsp; (2) sample $m$ examples $x^{(1)}, \dots, x^{(m)}$ from $p_\mathrm{data}$;
# >
# > &emsp;&emsp; (3) update $D$ by **ascending** its stochastic gradient
# > $\nabla_{\theta_d} \frac1m \sum_{i=1}^m \big[\log D(x^{(i)}) + \log\big(1 - D(G(z^{(i)}))\big)\big]$;
# >
# > &emsp; **end for**
# >
# > &emsp; (4) sample $m$ noise vectors $z^{(1)}, \dots, z^{(m)}$ from $p(z)$;
# >
# > &emsp; (5) update $G$ by **descending** its stochastic gradient
# > $\nabla_{\theta_g} \frac1m \sum_{i=1}^m \log\big(1 - D(G(z^{(i)}))\big)$.
# >
# > **end for**
#
# Line (3) climbs the minibatch estimate of $V$ in $\theta_d$ (the max of the game); line (5)
# goes down it in $\theta_g$ (the min; only the term that $G$ changes is written). The paper
# used $k = 1$, "the least expensive option". Its section 3 also gives the generator step that
# practice uses instead of line (5), which gives $G$ almost no gradient early in training
# (section 5 measures how little):
#
# > &emsp; (5′) update $G$ by **ascending**
# > $\nabla_{\theta_g} \frac1m \sum_{i=1}^m \log D(G(z^{(i)}))$, that is, by **descending**
# > $\nabla_{\theta_g} \frac1m \sum_{i=1}^m \big[-\log D(G(z^{(i)}))\big]$.
#
# In the paper's words: "Rather than training G to minimize $\log(1 - D(G(z)))$ we can train G
# to maximize $\log D(G(z))$. This objective function results in the same fixed point of the
# dynamics of G and D but provides much stronger gradients early in learning." With line (5′)
# $G$ no longer minimises $V$: it maximises another objective, $\mathbb E_z[\log D(G(z))]$.
#
# The code never ascends: a PyTorch optimizer's `step()` descends, so each step computes a
# **loss**, the quantity to minimise, and an objective to maximise enters with its sign turned.
# The three update lines and the lines of the package that implement them:
#
# | line | objective, and what the step does with it | loss the code descends | in the code |
# |---|---|---|---|
# | (3) | max over $\theta_d$ of $\frac1m\sum_i[\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))]$ | $-\frac1m\sum_i\log D(x^{(i)}) - \frac1m\sum_i\log(1 - D(G(z^{(i)})))$ | `d_step`: `loss = discriminator_loss(real_logits, fake_logits)` |
# | (5) | min over $\theta_g$ of $\frac1m\sum_i\log(1 - D(G(z^{(i)})))$ | the same, $\frac1m\sum_i\log(1 - D(G(z^{(i)})))$ | `g_step`: `loss = generator_loss(fake_logits, kind)` with `kind="minimax"` |
# | (5′) | max over $\theta_g$ of $\frac1m\sum_i\log D(G(z^{(i)}))$ | $-\frac1m\sum_i\log D(G(z^{(i)}))$ | the same line of `g_step`, `kind="non-saturating"` (the default) |
#
# The loop in one picture:

# %% mystnb={"figure": {"caption": "Algorithm 1 of Goodfellow et al. (2014) in one picture: noise $z$ goes through $G$ to a fake sample, which $D$ sees beside real data. Each iteration takes $k$ discriminator steps that ascend $V$ in $\\theta_d$, then one generator step whose gradient reaches $\\theta_g$ through $D$: the original descends $\\log(1 - D(G(z)))$, the non-saturating form ascends $\\log D(G(z))$.", "name": "fig-06-gan-loop"}, "image": {"alt": "Flow diagram under the formula min over G, max over D of V(D, G) = E over x from p_data of log D(x) + E over z from p(z) of log(1 minus D(G(z))). Top row: z from p(z) feeds the generator G, which outputs a dashed box, fake G(z). Fake G(z) and a box real x from p_data both feed the discriminator D, which outputs D(x), D(G(z)), P(real) between 0 and 1. Bottom row: a red box (1) discriminator step, repeated k = 1 time, ascend log D(x) + log(1 minus D(G(z))) in theta_d, with a loop arrow labelled times k and a dashed arrow labelled update theta_d up to D; an arrow labelled then leads to a red box (2) generator step, once, descend log(1 minus D(G(z))) (original) or ascend log D(G(z)) (non-saturating), with a dashed arrow labelled update theta_g (gradient through D) up to G; an arrow labelled next iteration returns to step 1."}}
gan_loop(k=1)
plt.show()

# %% [markdown]
# And the loop as the package runs it, whole: `train_gan`'s loop (`batch()` draws the data
# minibatch of line (2)), then its two steps, `d_step` and `g_step`.

# %%
source = inspect.getsource(train_gan)
print(source[source.index("    def batch():"):source.index("    return history")])
print(inspect.getsource(d_step))
print(inspect.getsource(g_step))

# %% [markdown]
# Read against Algorithm 1:
#
# * `train_gan` repeats `d_step` $k$ times (`for _ in range(k):`), each time on a fresh data
#   minibatch from `batch()`, line (2), then calls `g_step` once.
# * `d_step` is lines (1) to (3). `z = torch.randn(len(x_real), latent, ...)` draws as many
#   noise vectors as there are data points, $m$; $G$'s samples are made under
#   `torch.no_grad()`, so $\theta_g$ stays fixed during $D$'s step. The line
#   `loss = discriminator_loss(real_logits, fake_logits)` is minus line (3)'s objective, and
#   `loss.backward()` then `optimizer_d.step()` descend it, which ascends the objective. (`r1`
#   adds the gradient penalty of section 6, off by default; `amp` runs the networks in
#   bfloat16, off by default; `stop_if_not_finite` stops training before a NaN could reach
#   the weights.)
# * `g_step` is line (4), then line (5) or (5′). Fresh noise; $D$'s logits on $G(z)$, with the
#   gradient flowing *through* $D$ into $G$; `loss = generator_loss(fake_logits, kind)`; and
#   `optimizer_g.step()`, which updates $\theta_g$ only. `D.zero_grad(set_to_none=True)` drops
#   the gradients that this step left in $D$: they are not $D$'s to use.
#
# The claim "$k$ discriminator steps per generator step" is counted, not assumed: hooks on the
# two optimizers record every step they take (`Optimizer.register_step_post_hook`).

# %%
G_tiny, D_tiny = mlp_generator(hidden=8, depth=1), mlp_discriminator(hidden=8, depth=1)
opt_g = torch.optim.Adam(G_tiny.parameters(), lr=1e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D_tiny.parameters(), lr=1e-3, betas=(0.5, 0.999))
steps = []
opt_d.register_step_post_hook(lambda *_: steps.append("D"))
opt_g.register_step_post_hook(lambda *_: steps.append("G"))
train_gan(G_tiny, D_tiny, torch.randn(500, 2), num_steps=4, k=3, batch_size=32,
          optimizers=(opt_g, opt_d), progress=False)
print(" ".join("".join(steps[i:i + 4]) for i in range(0, len(steps), 4)))

# %% jupyter={"source_hidden": true} tags=["claim-06-algorithm-1", "hide-input"]
assert steps == ["D", "D", "D", "G"] * 4

# %% jupyter={"source_hidden": true} tags=["claim-06-algorithm-1-in-code", "hide-input"]
loop_source, d_source, g_source = (inspect.getsource(f) for f in (train_gan, d_step, g_step))
assert "for _ in range(k):" in loop_source and "d_step(G, D, batch()," in loop_source   # k, (2)
assert loop_source.count("g_step(") == 1                                   # one G step
assert "z = torch.randn(len(x_real), latent" in d_source                  # (1): m noise vectors
assert "with torch.no_grad():\n            x_fake = G(z)" in d_source      # theta_g fixed in (3)
assert "loss = discriminator_loss(real_logits, fake_logits)" in d_source   # (3), as a loss
assert "optimizer_d.step()" in d_source and "optimizer_g" not in d_source
assert "z = torch.randn(batch_size, latent" in g_source                   # (4)
assert "loss = generator_loss(fake_logits, kind)" in g_source              # (5) or (5')
assert "optimizer_g.step()" in g_source and "optimizer_d" not in g_source
real, fake = torch.randn(64, dtype=torch.float64), torch.randn(64, dtype=torch.float64)
objective_3 = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
assert torch.allclose(gan.discriminator_loss(real, fake), -objective_3)   # the loss is minus (3)

# %% [markdown]
# **Exercise 1 (the discriminator's loss).** Write the loss that `d_step` descends: line (3)'s
# objective with its sign turned, from $D$'s logits,
# $-\big(\frac1B\sum_i \log D(x^{(i)}) + \frac1B\sum_i \log(1 - D(G(z^{(i)})))\big)$.
#
# * `real_logits`: a torch tensor of shape `(B,)`, float64, $D$'s logits on $B$ data points;
#   `fake_logits`: a torch tensor of shape `(B,)`, float64, its logits on $B$ samples of $G$
#   ($D = \sigma(\text{logit})$);
# * return: the loss, one number: a 0-d torch tensor (or a Python float), float32 or float64.
#
# `torch.sigmoid`, `torch.log` and `torch.nn.functional.logsigmoid` ($\log\sigma(l)$, stable)
# are all you need. Write the body of the function, then run the checker below it: it tries
# your function on several inputs and, when it disagrees, names the usual mistake (a sign
# error, real and fake swapped, one mean over both batches together).

# %%
import torch.nn.functional as F  # logsigmoid(l) = log sigmoid(l), stable


def discriminator_loss(real_logits, fake_logits):
    """-(mean log D(x) + mean log(1 - D(G(z)))), a scalar."""
    ### BEGIN SOLUTION
    return -(F.logsigmoid(real_logits).mean() + F.logsigmoid(-fake_logits).mean())
    ### END SOLUTION


# %%
check_discriminator_loss(discriminator_loss)

# %% [markdown]
# Once your answer passes, compare it with the package's `discriminator_loss`, the one that
# `d_step` calls:

# %% tags=["answer-source"]
print(inspect.getsource(gan.discriminator_loss))

# %% [markdown]
# ## 3. The optimal discriminator
#
# Fix $G$ and ask which $D$ maximises $V$ (Proposition 1 of the paper). First write both
# expectations as one integral over $x$:
#
# $$
# \begin{aligned}
# V(D, G) &= \int p_\mathrm{data}(x) \log D(x)\, dx + \int p(z) \log\big(1 - D(G(z))\big)\, dz
#   && \text{(the definition of } V) \\
# &= \int \Big[\, p_\mathrm{data}(x) \log D(x) + p_g(x) \log\big(1 - D(x)\big) \Big]\, dx
#   && \text{(change of variables } x = G(z) \text{, whose density is } p_g)
# \end{aligned}
# $$
#
# $D$ may take any value in $(0, 1)$ at each $x$ separately, so the integral is largest when
# the integrand is largest at every $x$. At one $x$, write $a = p_\mathrm{data}(x)$,
# $b = p_g(x)$ and $y = D(x)$:
#
# $$
# \begin{aligned}
# f(y) &= a \log y + b \log(1 - y)
#   && \text{(the integrand at one } x) \\
# f'(y) &= \frac{a}{y} - \frac{b}{1 - y}
#   && \text{(its derivative)} \\
# 0 &= \frac{a}{y^*} - \frac{b}{1 - y^*} \iff a (1 - y^*) = b\, y^* \iff y^* = \frac{a}{a + b}
#   && \text{(the stationary point)} \\
# f''(y) &= -\frac{a}{y^2} - \frac{b}{(1 - y)^2} < 0
#   && \text{(} f \text{ is concave: the stationary point is the maximum)} \\
# D^*(x) &= \frac{p_\mathrm{data}(x)}{p_\mathrm{data}(x) + p_g(x)}
#   && \text{(} y^* \text{ at every } x \text{ where } a + b > 0)
# \end{aligned}
# $$
#
# Where neither density has mass, $D$ does not enter $V$ and any value will do.
#
# We check it in 1-d, where both densities are known: $p_\mathrm{data} = \mathcal N(0, 1)$ and
# a *fixed* generator $G(z) = 2 + 0.5 z$, so $p_g = \mathcal N(2, 0.5^2)$. We train only $D$
# (an MLP, `train_discriminator`: the inner max of the game, 2,000 Adam steps) and lay it
# over the formula (`mixtures.optimal_discriminator`).

# %% mystnb={"figure": {"caption": "A discriminator trained for 2,000 steps against a fixed generator (dashed blue) lies on the formula $D^* = p_\\mathrm{data} / (p_\\mathrm{data} + p_g)$ (thick pale blue) wherever data or samples are; far to the right, where neither density has mass, nothing constrains it and the two part.", "name": "fig-06-optimal-discriminator"}, "image": {"alt": "Line plot over x from minus 3 to 4. A black bell curve, p_data = N(0, 1), peaks at 0.4 at x = 0; a red bell curve, p_g = N(2, 0.25), peaks at 0.8 at x = 2. A thick pale blue curve, D star from the formula, is 1 on the left, falls through 0.5 near x = 1.2 to almost 0 around x = 2.5, then rises again to about 0.33 at x = 4. A dashed blue curve, D trained, follows it exactly except beyond x = 3, where it stays near 0."}} tags=["nbval-ignore-output"]
# (training: the numbers vary with the CPU's rounding; the asserts hold on any CPU)
torch.manual_seed(0)
G_fixed = torch.nn.Linear(1, 1)                         # z (B, 1) -> x (B, 1) = 2 + 0.5 z
with torch.no_grad():
    G_fixed.weight.fill_(0.5)
    G_fixed.bias.fill_(2.0)
G_fixed.requires_grad_(False)                           # p_g = N(2, 0.5^2), not trained
D_1d = mlp_discriminator(inp=1, hidden=64, depth=2)
d_losses = train_discriminator(G_fixed, D_1d, lambda n: torch.randn(n, 1), 2000)


def normal_pdf(x, mu, sigma):
    return torch.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


x_line = torch.linspace(-3, 4, 701, dtype=torch.float64)   # (701,)
p_data, p_g = normal_pdf(x_line, 0, 1), normal_pdf(x_line, 2, 0.5)
d_star = mixtures.optimal_discriminator(p_data, p_g)
with torch.no_grad():
    d_trained = torch.sigmoid(D_1d(x_line.float()[:, None])).squeeze(1).double()
bulk = (p_data + p_g) > 0.05                            # where the data or the samples are
gap = (d_trained - d_star)[bulk].abs()
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(x_line, p_data, "k", lw=1, label="$p_{data}$ = N(0, 1)")
ax.plot(x_line, p_g, "tab:red", lw=1, label="$p_g$ = N(2, 0.25)")
ax.plot(x_line, d_star, "tab:blue", lw=3, alpha=0.4, label="$D^*$ (formula)")
ax.plot(x_line, d_trained, "tab:blue", lw=1, ls="--", label="D trained (2,000 steps)")
ax.set_xlabel("x")
ax.legend(fontsize=8)
plt.show()
print(f"|D - D*| where p_data + p_g > 0.05: max {gap.max():.4f}, mean {gap.mean():.4f}")
cross = torch.where(bulk, (p_data - p_g).abs(), math.inf).argmin()   # where the densities cross

# %% jupyter={"source_hidden": true} tags=["claim-06-optimal-discriminator", "hide-input"]
assert gap.max() < 0.05
assert abs(d_star[cross] - 0.5) < 0.02                  # the grid point nearest the crossing
assert torch.allclose(mixtures.optimal_discriminator(p_data, p_data), torch.full_like(p_data, 0.5))

# %% [markdown]
# The trained $D$ sits on the formula where there is data or samples to learn from; far out,
# where neither density has mass, nothing constrains it. $D^* = 1/2$ exactly where the two
# densities cross, and $D^* = 1/2$ *everywhere* once $p_g = p_\mathrm{data}$: the equilibrium of
# the game.
#
# **Exercise 2 (the optimal discriminator).** Write $D^*$ on a grid, as the figure above draws
# it: the two densities at $N$ points in, $D^*$ at each point out.
#
# * `p_data`, `p_g`: torch tensors of shape `(N,)`, float64, the two densities at $N$ grid
#   points (all positive);
# * return: $D^*$ at each point, shape `(N,)`: a torch tensor or a NumPy array, float32 or
#   float64.

# %%
def optimal_discriminator(p_data, p_g):
    """D*(x) at each grid point, shape (N,)."""
    ### BEGIN SOLUTION
    return p_data / (p_data + p_g)
    ### END SOLUTION


# %%
check_optimal_discriminator(optimal_discriminator)

# %% [markdown]
# Once your answer passes, compare it with the package's `optimal_discriminator` (in
# `gm_helpers.analysis.mixtures`), which drew $D^*$ above; it also gives $1/2$ where both
# densities are 0, where the formula is $0/0$:

# %% tags=["answer-source"]
print(inspect.getsource(mixtures.optimal_discriminator))

# %% [markdown]
# ## 4. What G minimises: $V(D^*, G) = 2\,\mathrm{JSD} - 2 \log 2$
#
# Put $D^*$ back into $V$ (Theorem 1 of the paper). With the mixture
# $p_m = (p_\mathrm{data} + p_g)/2$, so that $p_\mathrm{data} + p_g = 2 p_m$:
#
# $$
# \begin{aligned}
# V(D^*, G) &= \mathbb E_{p_\mathrm{data}}\big[\log D^*(x)\big]
#   + \mathbb E_{p_g}\big[\log\big(1 - D^*(x)\big)\big]
#   && \text{(section 3's integral, at } D = D^*) \\
# &= \mathbb E_{p_\mathrm{data}}\Big[\log \frac{p_\mathrm{data}}{p_\mathrm{data} + p_g}\Big]
#   + \mathbb E_{p_g}\Big[\log \frac{p_g}{p_\mathrm{data} + p_g}\Big]
#   && \text{(insert } D^* \text{ and } 1 - D^* = \tfrac{p_g}{p_\mathrm{data} + p_g}) \\
# &= \mathbb E_{p_\mathrm{data}}\Big[\log \frac{p_\mathrm{data}}{p_m}\Big] - \log 2
#   + \mathbb E_{p_g}\Big[\log \frac{p_g}{p_m}\Big] - \log 2
#   && \text{(}\log \tfrac{p}{2 p_m} = \log \tfrac{p}{p_m} - \log 2 \text{, in each term)} \\
# &= \mathrm{KL}(p_\mathrm{data} \,\|\, p_m) + \mathrm{KL}(p_g \,\|\, p_m) - 2\log 2
#   && \text{(the definition of the KL divergence)} \\
# &= 2\,\mathrm{JSD}(p_\mathrm{data} \,\|\, p_g) - 2\log 2
#   && \text{(the definition } \mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, p_m)
#      + \tfrac12 \mathrm{KL}(q \,\|\, p_m) \text{, with } p_m = \tfrac{p + q}{2}) \\
# &\ge -2 \log 2 = -\log 4
#   && \text{(}\mathrm{JSD} \ge 0 \text{, with } 0 \text{ only at } p_g = p_\mathrm{data})
# \end{aligned}
# $$
#
# So against the best $D$, $G$ minimises the Jensen–Shannon divergence, and the game's minimum,
# $-\log 4$, is reached at $p_g = p_\mathrm{data}$ and only there.
#
# Checked by quadrature on a grid of 240,001 points: `value_at_optimum` integrates the
# first line; the JSD is computed independently, from entropies,
# $\mathrm{JSD} = H(p_m) - \tfrac12 H(p_\mathrm{data}) - \tfrac12 H(p_g)$.

# %%
x_grid = torch.linspace(-12, 12, 240001, dtype=torch.float64)
dx = (x_grid[1] - x_grid[0]).item()


def entropy(p):
    return -(torch.where(p > 0, p * torch.log(p.clamp_min(1e-300)), 0.0)).sum() * dx


p0 = normal_pdf(x_grid, 0, 1)
print(f"{'p_g':>14} {'V(D*, G)':>10} {'2 JSD - 2 log 2':>16} {'JSD':>8} {'difference':>11}")
values = {}                                             # (mu, sigma) -> (V(D*, G), JSD)
for mu, sigma in ((0, 1), (0.5, 1), (1, 1), (2, 0.5), (3, 2), (6, 1)):
    pg = normal_pdf(x_grid, mu, sigma)
    v = value_at_optimum(p0, pg, dx).item()
    jsd = (entropy((p0 + pg) / 2) - entropy(p0) / 2 - entropy(pg) / 2).item()
    values[mu, sigma] = v, jsd
    print(f"  N({mu}, {sigma}^2) {v:10.6f} {2 * jsd - 2 * math.log(2):16.6f} {jsd:8.5f} "
          f"{abs(v - (2 * jsd - 2 * math.log(2))):11.1e}")

# %% jupyter={"source_hidden": true} tags=["claim-06-value-is-jsd", "claim-06-minimum-at-data", "hide-input"]
for (mu, sigma), (v, jsd) in values.items():
    assert abs(v - (2 * jsd - 2 * math.log(2))) < 1e-4
    assert -1e-9 < jsd <= math.log(2) and v >= -math.log(4) - 1e-9   # the minimum is -log 4
    if (mu, sigma) == (0, 1):                           # p_g = p_data: JSD 0, V = -log 4
        assert abs(jsd) < 1e-9 and abs(v + math.log(4)) < 1e-9

# %% [markdown]
# ### When the supports do not overlap, the JSD is flat
#
# $\mathrm{JSD} \le \log 2$, with equality exactly when $p_\mathrm{data}$ and $p_g$ live on
# disjoint sets: then $D^*$ is 1 on one and 0 on the other, and $V(D^*, G) = 0$ **however far
# apart** they are. Move two distributions of the same shape apart and watch: two uniform
# boxes (disjoint supports as soon as they stop overlapping), and Gaussians, whose supports
# never separate but which overlap less and less as they narrow: for narrow ones the JSD is
# flat at $\log 2$ to machine precision.

# %% mystnb={"figure": {"caption": "The Jensen-Shannon divergence between two copies of one distribution as they move apart: for uniform boxes it reaches $\\log 2$ as soon as they stop overlapping and stays there however far apart they go, and the narrower the Gaussians, the sooner their JSD flattens at $\\log 2$, leaving the generator no signal.", "name": "fig-06-jsd-flat"}, "image": {"alt": "Line plot of JSD in nats against the distance between p_data and p_g, 0 to 8, with a dotted line at log 2, about 0.69. The curve for Gaussians of standard deviation 1 rises slowly and reaches 0.69 near distance 6; for 0.3 it reaches it near 2; for 0.05 almost at once, by 0.4. A dashed black line for uniform boxes of width 1 rises straight to 0.69 at distance 1 and is flat after it."}}
shifts = torch.linspace(0, 8, 41)
fig, ax = plt.subplots(figsize=(7, 3))
for sigma in (1.0, 0.3, 0.05):
    jsds = [js_divergence(normal_pdf(x_grid, 0, sigma), normal_pdf(x_grid, s.item(), sigma),
                              dx).item() for s in shifts]
    ax.plot(shifts, jsds, label=f"both N(·, {sigma}²)")


def box(a, b):
    """The uniform density on (a, b), on the grid: (240001,)."""
    return ((x_grid > a) & (x_grid < b)).double() / (b - a)


box_jsd = [js_divergence(box(-1, 0), box(-1 + s.item(), s.item()), dx).item() for s in shifts]
ax.plot(shifts, box_jsd, "k--", label="both uniform, width 1")
ax.axhline(math.log(2), color="gray", lw=0.6, ls=":")
ax.set_xlabel("distance between $p_{data}$ and $p_g$")
ax.set_ylabel("JSD (nats)")
ax.legend(fontsize=8)
plt.show()
far = [js_divergence(box(-1, 0), box(-1 + s, s), dx).item() for s in (1.5, 3.0, 6.0)]
print("uniform boxes 1.5, 3 and 6 apart: JSD =", [round(j, 6) for j in far],
      f"(log 2 = {math.log(2):.6f})")
narrow = [js_divergence(normal_pdf(x_grid, 0, 0.05), normal_pdf(x_grid, s, 0.05), dx).item()
          for s in (2.0, 2.01)]
print(f"narrow Gaussians 2 apart: d JSD / d distance = {(narrow[1] - narrow[0]) / 0.01:.1e}")

# %% jupyter={"source_hidden": true} tags=["claim-06-jsd-flat", "hide-input"]
assert all(abs(j - math.log(2)) < 1e-3 for j in far)
assert abs(narrow[1] - narrow[0]) / 0.01 < 1e-6

# %% [markdown]
# A generator whose samples all fall where there is no data (early in training, or in high
# dimensions where both distributions live near thin manifolds) gets **no signal** from the
# JSD: moving towards the data does not lower it until the supports touch. In practice $D$ is
# not $D^*$, but a $D$ that wins too easily behaves the same way, and that is the next
# section's problem.
#
# ## 5. The saturating and the non-saturating generator loss
#
# Early in training $G$ is poor, $D$ rejects its samples with confidence, $D(G(z)) \approx 0$.
# With $D = \sigma(l)$, the gradients of section 2's two generator losses, line (5) and line
# (5′), with respect to the logit $l$ of a sample are
#
# | G's loss | value | $\partial / \partial l$ | as $D(G(z)) \to 0$ |
# |---|---|---|---|
# | minimax, line (5): descend $\log(1 - D(G(z)))$ | $-\mathrm{softplus}(l)$ | $-\sigma(l) = -D$ | $\to 0$: **saturates** |
# | non-saturating, line (5′): descend $-\log D(G(z))$ | $\mathrm{softplus}(-l)$ | $-(1 - \sigma(l)) = -(1 - D)$ | $\to -1$ |
#
# Both losses decrease as $D(G(z))$ grows, so their gradients point the same way, but the
# minimax loss is flat exactly where $G$ needs to move most.
#
# Two slips are common when the non-saturating loss is written down. One writes it as
# $1 - \log D(G(z))$: the stray constant leaves the gradient unchanged, but the value is off
# by 1; the loss is $-\log D(G(z))$, the objective $\log D(G(z))$ that $G$ maximises, with its
# sign turned. The other takes $-\log l$, the log of the *logit*, as the loss: the logit goes
# through the sigmoid first, and the loss is $-\log \sigma(l) = \mathrm{softplus}(-l)$.
#
# **Exercise 3 (the non-saturating generator loss).** Write the loss of line (5′), the
# quantity $G$ descends, $-\frac1B \sum_i \log D(G(z^{(i)}))$, from $D$'s logits on $G$'s
# samples.
#
# * `fake_logits`: a torch tensor of shape `(B,)`, float64, $D$'s logits on $B$ samples of $G$;
# * return: the loss, one number: a 0-d torch tensor (or a Python float), float32 or float64.

# %%
import torch.nn.functional as F  # logsigmoid(l) = log sigmoid(l), stable


def generator_loss(fake_logits):
    """-mean log D(G(z)), a scalar."""
    ### BEGIN SOLUTION
    return -F.logsigmoid(fake_logits).mean()
    ### END SOLUTION


# %%
check_generator_loss(generator_loss)

# %% [markdown]
# The package's `generator_loss(fake_logits, kind)` (in `gm_helpers.models.gan`) returns the
# quantity $G$ descends for either line, and `g_step` always takes a descent step on it:
# `kind="minimax"` returns $\mathbb E[\log(1 - D(G(z)))] = -\mathbb E[\mathrm{softplus}(l)]$,
# line (5); `kind="non-saturating"`, the default, returns
# $-\mathbb E[\log D(G(z))] = \mathbb E[\mathrm{softplus}(-l)]$, line (5′). Once your answer
# passes, compare it with the package's:

# %% tags=["answer-source"]
print(inspect.getsource(gan.generator_loss))

# %% [markdown]
# Below, the two losses and their gradients computed by autograd through the package's
# `generator_loss`, against the closed forms of the table:

# %% mystnb={"figure": {"caption": "The two generator losses (left) and their gradients with respect to $D$'s logit (right) against $D(G(z))$: where $D$ confidently rejects the samples, $D(G(z)) \\to 0$, the minimax loss is flat and its gradient vanishes, while the non-saturating loss keeps a gradient near $-1$.", "name": "fig-06-saturating-loss"}, "image": {"alt": "Two line plots with a logarithmic x axis, D(G(z)) from about 0.0003 to 1. Left, G's loss: the non-saturating loss falls as a straight line from 8 to 0; the minimax loss is flat at 0 and drops to minus 8 only as D(G(z)) approaches 1. Right, d loss by d logit: the minimax gradient stays at 0 until D(G(z)) passes 0.1, then falls to minus 1; the non-saturating gradient stays at minus 1 and rises to 0 near D(G(z)) = 1. The curves cross near 0.5."}}
logit = torch.linspace(-8, 8, 401, dtype=torch.float64, requires_grad=True)   # (401,) logits of D
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
for kind, closed_form in (("minimax", lambda d: -d), ("non-saturating", lambda d: -(1 - d))):
    values = torch.stack([gan.generator_loss(l[None], kind) for l in logit])
    (grad,) = torch.autograd.grad(values.sum(), logit)
    d = torch.sigmoid(logit.detach())
    assert torch.allclose(grad, closed_form(d))
    ax1.plot(d, values.detach(), label=kind)
    ax2.plot(d, grad, label=kind)
ax1.set_xlabel("D(G(z))")
ax1.set_ylabel("G's loss")
ax2.set_xlabel("D(G(z))")
ax2.set_ylabel("d loss / d logit")
ax1.legend(fontsize=8)
ax2.set_xscale("log")
ax1.set_xscale("log")
fig.tight_layout()
plt.show()
far = torch.tensor([-200.0])                            # D certain that a sample is fake

# %% jupyter={"source_hidden": true} tags=["claim-06-generator-gradients", "claim-06-stable-logits", "claim-06-generator-loss-signs", "hide-input"]
assert torch.log(torch.sigmoid(far)).isinf().all()      # log of the rounded sigmoid: log 0
assert gan.generator_loss(far, "non-saturating").item() == 200.0   # softplus(200): exact
some = torch.linspace(-5, 5, 11, dtype=torch.float64)   # (11,) logits
d_some = torch.sigmoid(some)
assert torch.allclose(gan.generator_loss(some, "minimax"), torch.log(1 - d_some).mean())  # G descends it
assert torch.allclose(gan.generator_loss(some, "non-saturating"), -torch.log(d_some).mean())  # a loss
assert torch.allclose(gan.generator_loss(some), gan.generator_loss(some, "non-saturating"))  # default

# %% [markdown]
# ### A run where the minimax loss stalls and the non-saturating loss trains
#
# Same seed, same networks (MLPs with 32 hidden units), same data $\mathcal N(4, 0.5^2)$, far
# from where $G$ starts (near 0); SGD with learning rate 0.05 (the original paper used SGD,
# with momentum; here without), and $k = 5$ discriminator steps per generator step, so $D$
# can win early. Only the generator's loss differs.

# %% mystnb={"figure": {"caption": "The same 1-d GAN trained with each generator loss, $k = 5$: with the minimax loss $D$ wins within the first hundred iterations, $D(G(z))$ keeps sinking and $G$'s samples stay far from the data; with the non-saturating loss $D(G(z))$ settles near 1/2 and the samples reach the data, centred at 4.", "name": "fig-06-minimax-stalls"}, "image": {"alt": "Left: log-scale line plot of mean D(G(z)) against iteration, 0 to 1,000. The minimax curve falls steadily from about 0.3 to about 0.0001; the non-saturating curve jumps around for the first few iterations, then stays flat at about 0.5. Right: histograms over x from minus 1 to 6: the minimax samples form a narrow tall spike near 0.4; the non-saturating samples lie between about 3.7 and 5, with a spike at 3.7, under a black data curve centred at 4."}} tags=["nbval-ignore-output"]
# (training: the numbers vary with the CPU's rounding; the asserts hold on any CPU)
stall = {}                                # loss -> (history, samples, G, D) at the end of the run
for kind in ("minimax", "non-saturating"):
    torch.manual_seed(0)
    G1, D1 = mlp_generator(1, 32, 2, out=1), mlp_discriminator(1, 32, 2)
    optimizers = (torch.optim.SGD(G1.parameters(), lr=0.05), torch.optim.SGD(D1.parameters(), lr=0.05))
    history = train_gan(G1, D1, lambda n: 4 + 0.5 * torch.randn(n, 1), 1000, k=5,
                            loss=kind, batch_size=128, latent=1, optimizers=optimizers,
                            progress=False, seed=0)
    with torch.no_grad():
        samples = G1(torch.randn(5000, 1, generator=torch.Generator().manual_seed(1)))   # (5000, 1)
    stall[kind] = (history, samples, G1, D1)
    print(f"{kind:>15}: G's samples mean {samples.mean():.2f}, std {samples.std():.2f} "
          f"(data: 4, 0.5); mean D(G(z)) over iterations 100-200: "
          f"{np.mean(history['d_fake'][100:200]):.4f}")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
for kind, (history, samples, _, _) in stall.items():
    ax1.plot(history["d_fake"], lw=0.7, label=kind)
    ax2.hist(samples.squeeze(1).numpy(), bins=60, range=(-1, 6), density=True, alpha=0.6, label=kind)
ax2.plot(x_line + 2, normal_pdf(x_line + 2, 4, 0.5), "k", lw=1, label="data")
ax1.set_yscale("log")
ax1.set_xlabel("iteration")
ax1.set_ylabel("mean D(G(z)), before G's step")
ax1.legend(fontsize=8)
ax2.set_xlabel("x")
ax2.legend(fontsize=8)
fig.tight_layout()
plt.show()
mm, ns = stall["minimax"], stall["non-saturating"]

# %% jupyter={"source_hidden": true} tags=["claim-06-minimax-stalls", "hide-input"]
assert abs(ns[1].mean() - 4) < 0.2 and abs(mm[1].mean() - 4) > 3
assert np.mean(mm[0]["d_fake"][100:200]) < 0.01         # D wins: D(G(z)) near 0

# %% [markdown]
# In the minimax run $D$ wins within the first hundred iterations and $G$'s samples never get
# near the data; in the non-saturating run $G$'s samples reach the data and $D(G(z))$ settles near
# $1/2$. But two runs are in two different states after their first step, so their gradients
# cannot be compared directly: a smaller gradient might come from the state, not the loss.
# To isolate the loss, take **one** state, the same $G$, the same $D$ and the same 1,024 noise
# vectors, and differentiate both losses there with respect to $G$'s parameters. We do it at
# the end of each run: where $D$ has won (the minimax run) and near the equilibrium (the
# non-saturating run).

# %% tags=["nbval-ignore-output"]
z_same = torch.randn(1024, 1, generator=torch.Generator().manual_seed(2))   # (1024, 1)
grad_norm = {}                            # (state, loss) -> norm of d loss / d G's parameters
print(f"{'state: G and D at the end of the':36} {'mean D(G(z))':>12} {'minimax':>9} {'non-saturating':>15}")
for state, (_, _, G_s, D_s) in stall.items():
    fake_logits = D_s(G_s(z_same)).squeeze(1)           # (1024,), one graph for both losses
    for kind in ("minimax", "non-saturating"):
        grads = torch.autograd.grad(gan.generator_loss(fake_logits, kind), list(G_s.parameters()),
                                    retain_graph=True)
        grad_norm[state, kind] = torch.cat([g.flatten() for g in grads]).norm().item()
    d_state = torch.sigmoid(fake_logits).mean().item()
    grad_norm[state, "D(G(z))"] = d_state
    print(f"{state + ' run':36} {d_state:12.4f} {grad_norm[state, 'minimax']:9.4f} "
          f"{grad_norm[state, 'non-saturating']:15.4f}")
print("norm of the gradient of each loss with respect to G's parameters, at the same G, D and z")

# %% jupyter={"source_hidden": true} tags=["claim-06-saturation-same-state", "hide-input"]
assert grad_norm["minimax", "D(G(z))"] < 0.01                       # D has won
assert grad_norm["minimax", "non-saturating"] > 1000 * grad_norm["minimax", "minimax"]
assert abs(grad_norm["non-saturating", "D(G(z))"] - 0.5) < 0.1       # near the equilibrium
assert 0.5 < grad_norm["non-saturating", "non-saturating"] / grad_norm["non-saturating", "minimax"] < 2

# %% [markdown]
# At the state where $D$ has won, the same $G$ and $D$ give the minimax loss a gradient
# thousands of times smaller than the non-saturating loss's (the printed norms): each sample
# weighs in with $D(G(z))$ against $1 - D(G(z))$, the table's derivatives. That is the
# stall. Near $D(G(z)) = 1/2$ the two weights are equal, and so are the two gradients: the
# losses differ only where $D$ is confident.

# %% [markdown]
# ## 6. Watching a GAN train in 2-d, and mode collapse
#
# The benchmark of VEEGAN and PacGAN: a **ring** of 8 Gaussians (radius 1, std 0.01) and a
# **grid** of 25 (spacing 2, std 0.05). A generated point is *high quality* if it lies within
# 3 standard deviations of its nearest mean; a mode is *captured* if it is the nearest mean of
# at least one high-quality point, out of 2,500 generated (`mode_coverage`). Even perfect
# samples score only $1 - e^{-9/2} = 98.9\,\%$: a 2-d Gaussian puts 1.1 % of its mass beyond
# 3 standard deviations (the tests check both numbers).
#
# $G$ and $D$ are MLPs with 3 hidden layers of 128 units, $z$ is 2-d, batches of 256, Adam
# with learning rate $10^{-3}$ for both, the non-saturating loss, $k = 1$. One run on the ring,
# drawn every 200 iterations: data in black, $G$'s samples in red, $D(x)$ shaded (dark =
# "data"), and orange arrows where the generator's loss would move a generated point,
# $-\nabla_x \mathcal L_G(D(x))$: $G$ follows $D$'s gradient uphill, towards what $D$
# currently believes is data, and $D$ then moves its hills to where the data are not yet
# covered.

# %% mystnb={"figure": {"caption": "A GAN learning the ring of 8 Gaussians, one snapshot every 200 iterations: data in black, $G$'s samples in red, $D(x)$ shaded (dark = \"data\"), orange arrows where $G$'s loss would move a sample. The samples follow $D$'s gradient uphill, spread around the ring within a few hundred iterations, and by the end every mode has its share, though many samples still lie between modes.", "name": "fig-06-ring-run"}, "image": {"alt": "Eleven square panels, step 0 to step 2000 every 200, each with eight black-and-yellow markers in a ring, blue shading and a field of small orange arrows. Step 0: the red samples are a small blob at the centre. Steps 200 and 400: they stretch into a diagonal band and then an arc across the ring. Step 600: they lie around the whole ring. Steps 800 to 2000: they gather at the eight markers, with a thin trail of points along the ring between them, and the shading concentrates around the markers."}} tags=["nbval-ignore-output"]
ring_run = run("ring", num_steps=2000, snapshots=10, seed=0)
print(f"2,000 iterations in {ring_run['seconds']:.0f} s")
fig = draw_run(ring_run, ncols=6)
plt.show()

# %% tags=["nbval-ignore-output"]
# (training: the numbers vary with the CPU's rounding; the asserts hold on any CPU)
m = ring_run["metrics"]
print(f"after 2,000 iterations: {m['modes']}/8 modes captured, {m['high_quality']:.1%} high quality")
shares = mode_shares(ring_run["samples"], ring_run["means"])
print("share of samples nearest each mode:", shares.numpy().round(3))

# %% jupyter={"source_hidden": true} tags=["claim-06-modes-found-early", "hide-input"]
assert shares.min() > 0.05 and m["high_quality"] < 0.5

# %% [markdown]
# After 2,000 iterations every mode already has its share of the samples, but few of them lie
# within 3 standard deviations (0.03) of a mean: finding the modes is quick, sharpening the
# samples onto them takes far longer (the table below trains each run ten times longer).

# %% [markdown]
# ### Mode collapse
#
# Now the same networks, but the discriminator learns ten times more slowly than the
# generator ($10^{-4}$ against $10^{-3}$). $G$ is then optimised against an almost fixed $D$,
# and the best response to a fixed $D$ is to put **every** sample at the point $D$ likes most:
# the arrows all point to one place, and the samples follow them. By the time $D$ has learned
# to reject that place, $G$ jumps, as a whole, to the next one. We count, at every snapshot,
# how many modes hold at least 2 % of the samples (their nearest mean, however far) and the
# largest share one mode takes (a generator that covers the mixture gives each of the 8 ring
# modes 12.5 % and each of the 25 grid modes 4 %).

# %% mystnb={"figure": {"caption": "Mode collapse when $D$ learns ten times more slowly than $G$, on the ring of 8 Gaussians and then on the grid of 25: at every snapshot $G$ puts all its samples (red) in one small region where $D$ is highest, and once $D$ learns to reject it, the whole batch jumps to another place."}, "image": {"alt": "First image, titled ring: D's learning rate 1e-4, G's 1e-3: six panels, step 0 to 1500 every 300, each with eight ring markers; the red samples form one small blob or short streak, at the centre, then above the centre, at the left edge, at the lower right, in a vertical line at the bottom and in a short curve lower left. Second image, titled grid: the same for a 5 by 5 grid of markers; the red samples are again one small cluster or streak, moving between panels, from the centre to a line at the top, the middle, the top edge, the right and the lower left."}} tags=["nbval-ignore-output"]
collapse = {name: run(name, lr_g=1e-3, lr_d=1e-4, num_steps=1500, snapshots=5, seed=0)
            for name in ("ring", "grid")}
for name, result in collapse.items():
    draw_run(result, ncols=6, title=f"{name}: D's learning rate 1e-4, G's 1e-3")
    plt.show()

# %% tags=["nbval-ignore-output"]
# (training: the numbers vary with the CPU's rounding; the checks below hold on any CPU)
collapse_shares = {}                  # dataset -> share of the samples per mode, per snapshot
for name, result in collapse.items():
    collapse_shares[name] = [mode_shares(s["points"], result["means"]) for s in result["snapshots"][1:]]
    print(f"{name}: modes holding >= 2 % of the samples at each snapshot: "
          f"{[int((s >= 0.02).sum()) for s in collapse_shares[name]]} of {len(result['means'])}; "
          f"largest share {[round(s.max().item(), 2) for s in collapse_shares[name]]}; "
          f"the mode holding it {[int(s.argmax()) for s in collapse_shares[name]]}")

# %% jupyter={"source_hidden": true} tags=["claim-06-mode-collapse", "hide-input"]
for name in collapse:
    assert max(int((s >= 0.02).sum()) for s in collapse_shares[name]) <= 3
    assert min(s.max().item() for s in collapse_shares[name]) > 0.45

# %% [markdown]
# ### The mode-coverage table, over seeds
#
# One run is an anecdote; GAN training is noisy from seed to seed. `gan_toy.mode_table` (in
# `gm_helpers.training`) trains five seeds for each dataset and each method: the recipe of the
# first run above, for 20,000 iterations, with both learning rates annealed to zero by a cosine
# over the run (so the last iterations refine rather than wander). Its results ship with the
# course, in `gm_helpers/checkpoints/gan_toy_modes.json` (the command that made them: "About
# these numbers"); `gan_toy.run` with the printed settings re-runs any row.
#
# The remedy we chose is a **gradient penalty on the data**, $R_1$ (Mescheder, Geiger and
# Nowozin 2018, `d_step(..., r1=0.1)`): $D$'s loss gets
# $\frac{\gamma}{2}\,\mathbb E_{p_\mathrm{data}} \|\nabla_x l(x)\|^2$ with $\gamma = 0.1$.
# Why this one: the high-quality criterion counts samples that sit *between* modes or wobble
# around them, and that is what a game that oscillates around its equilibrium produces. The
# penalty forbids $D$ from being steep where the data are, which damps that oscillation; the
# paper proves that the regularised game converges locally where the plain one need not. It
# changes nothing but $D$'s loss: same networks, same $G$ loss, one hyper-parameter. (The
# explorer below also offers PacGAN's packing, `remedy="pacgan"`: $D$ judges packs of 4
# points, so a collapsed $G$, whose packs have no variety, is easy to reject. Try it against
# the collapse above.)

# %%
sweep = json.loads((CHECKPOINT_DIR / "gan_toy_modes.json").read_text())
print("settings of every run:", sweep["settings"])
summary = summarise(sweep["rows"])
published = {"ring": [("GAN (VEEGAN Table 1)", "1 / 99.3 %"), ("Unrolled GAN (VEEGAN)", "7.6 / 35.6 %"),
                      ("VEEGAN", "8 / 52.9 %"), ("GAN (PacGAN Table 1)", "6.3 / 98.2 %"),
                      ("PacGAN4", "7.8 / 95.9 %")],
             "grid": [("GAN (VEEGAN Table 1)", "3.3 / 0.5 %"), ("Unrolled GAN (VEEGAN)", "23.6 / 16 %"),
                      ("VEEGAN", "24.6 / 40 %"), ("GAN (PacGAN Table 1)", "17.3 / 94.8 %"),
                      ("PacGAN4", "24.8 / 93.6 %")]}
print(f"\n{'':5} {'method':34} {'modes captured':>18} {'high quality':>18}")
for dataset in ("ring", "grid"):
    for remedy, label in (("none", "GAN, here (5 seeds)"), ("r1", "GAN + R1 penalty, here (5 seeds)")):
        s = summary[dataset, remedy]
        print(f"{dataset:5} {label:34} {s['modes_mean']:8.1f} ± {s['modes_std']:.1f} / {s['num_modes']:<2} "
              f"{100 * s['hq_mean']:9.1f} ± {100 * s['hq_std']:.1f} %")
    for label, value in published[dataset]:
        print(f"{'':5} {label:34} {value:>27} (published)")
plain_ring, plain_grid = summary["ring", "none"], summary["grid", "none"]
r1_ring, r1_grid = summary["ring", "r1"], summary["grid", "r1"]
ring_modes = sorted(r["modes"] for r in sweep["rows"]
                    if (r["dataset"], r["remedy"]) == ("ring", "none"))

# %% jupyter={"source_hidden": true} tags=["claim-06-r1-every-mode", "claim-06-plain-gan-unreliable", "hide-input"]
assert r1_ring["modes_mean"] == 8 and r1_grid["modes_mean"] == 25          # every seed, every mode
assert min(r1_ring["hq_mean"], r1_grid["hq_mean"]) >= 0.95                 # the course's target
assert plain_ring["modes_mean"] < 8 and plain_grid["modes_mean"] < 24
assert plain_grid["hq_mean"] < 0.95 < r1_grid["hq_mean"] and r1_ring["hq_mean"] < plain_ring["hq_mean"]
assert ring_modes == [7, 8, 8, 8, 8]                                       # one seed drops a mode
assert round(25 - plain_grid["modes_mean"]) == 3                           # about 3 missed
assert all(0.97 <= s["hq_mean"] < 0.985 for s in (r1_ring, r1_grid))       # about 97-98 %
shown = {key: (round(s["modes_mean"], 1), round(100 * s["hq_mean"], 1)) for key, s in summary.items()}
assert shown == {("ring", "none"): (7.8, 98.4), ("ring", "r1"): (8.0, 97.7),    # the prose's numbers
                 ("grid", "none"): (22.0, 94.6), ("grid", "r1"): (25.0, 97.2)}

# %% jupyter={"source_hidden": true} tags=["claim-06-recipe-not-remedy", "hide-input"]
assert plain_ring["modes_mean"] >= 7.8 and plain_ring["hq_mean"] > 0.959    # PacGAN4: 7.8 / 95.9 %
assert plain_ring["modes_mean"] > 6.3 and plain_grid["modes_mean"] > 17.3   # the papers' GAN rows

# %% [markdown]
# Read the table first within our recipe, where the penalty is the only difference: same
# networks, same 20,000 annealed iterations, same five seeds. Without it the GAN is good but
# not reliable: on the ring one of the five seeds drops a mode (7.8 of 8 on average), and on
# the grid it misses about 3 of the 25 modes on average (22.0), with high quality below 95 %
# (94.6 %). With the $R_1$ penalty every seed captures every mode of both mixtures, and the
# grid's high-quality fraction rises to 97.2 %, close to the 98.9 % that perfect samples would
# score. On the ring the penalty costs a little precision (97.7 % against 98.4 % without it) in
# exchange for never losing a mode.
#
# The published rows are context, not a contest: they come from other networks and training
# lengths, and the recipe alone moves the numbers a long way. Our GAN *without*
# any remedy already captures more modes than the "GAN" rows of both papers (7.8 against 1 and
# 6.3 on the ring, 22.0 against 3.3 and 17.3 on the grid), and on the ring it matches PacGAN4's
# 7.8 modes at a higher quality (98.4 % against 95.9 %). So this table measures what $R_1$ adds
# to our recipe; ranking it against PacGAN or VEEGAN would take running them in the same
# recipe (the explorer below offers PacGAN to try).

# %% [markdown]
# ## 7. A DCGAN on binarized MNIST
#
# The same game with convolutional networks (Radford et al. 2016; `gm_helpers.models.dcgan`): $G$
# maps $z \in \mathbb R^{64}$ through a linear layer to $128 \times 7 \times 7$, then two
# stride-2 transposed convolutions to $28 \times 28$, with batch normalisation and ReLU, and a
# sigmoid at the end; $D$ mirrors it with two stride-2 convolutions and LeakyReLU. Adam with
# learning rate $2 \cdot 10^{-4}$ and $\beta_1 = 0.5$, batches of 64, $k = 1$, the
# non-saturating loss, on the 50,000 binarized training digits.
#
# One addition, straight from section 4: **instance noise** (`dcgan.InstanceNoise`, Sønderby
# et al. 2017). The data are binary images, corners of the hypercube $\{0, 1\}^{784}$, and
# $G$'s outputs are grey images in its interior (a sigmoid never reaches exactly 0 or 1): two distributions on disjoint sets, the case
# where the JSD is stuck at $\log 2$ and $D$ can win on a technicality. $D$ therefore sees its
# input plus Gaussian noise of standard deviation 0.3, on data and samples alike; the noisy
# distributions overlap everywhere.
#
# And one change to the generator we keep: **an average of its weights** (Yazıcı et al. 2019,
# "The unusual effectiveness of averaging in GAN training"). In a game the weights need not
# settle: each player keeps answering the other, and $G$'s weights wander around the
# equilibrium instead of stopping at it. After every step of $G$ the run also updates
# $\bar\theta \leftarrow 0.999\,\bar\theta + 0.001\,\theta$, an average over roughly the
# last thousand steps (early in the run it still weighs the first weights: after the 781
# steps of epoch 1 by $0.999^{781} \approx 46\,\%$), which sits nearer the middle of that wandering than the latest step
# does. The average only watches: $D$ plays against the live $G$, and the average is what is
# judged and shipped (`train_dcgan(..., ema=0.999)`; its batch-norm statistics are recomputed
# for the averaged weights by `standing_statistics`). That is the paper's argument; this
# course measured no run of the same length without the average, so how much the average adds
# here is not known. Below, the shipped (averaged)
# generator's samples from the same 16 noise vectors after several of its 40 epochs (grey
# levels are $G$'s sigmoid outputs, before rounding to 0/1; how long it trained, and on what:
# "About these numbers").

# %% mystnb={"figure": {"caption": "The shipped DCGAN's samples from the same 16 noise vectors after epochs 1, 2, 3, 20 and 40: a grey, speckled haze at first, then white fragments, then strokes that take the shape of digits, mostly the same digits at epochs 20 and 40, a few of them redrawn.", "name": "fig-06-dcgan-epochs"}, "image": {"alt": "Five rows of sixteen white-on-black images, titled after epoch 1, 2, 3, 20 and 40. Epoch 1 shows grey speckled blobs; epochs 2 and 3 nearly identical white broken fragments; by epoch 20 most images are digit-like shapes, such as a 9, a 3, a 6 and a 4; epoch 40 shows mostly the same digits as epoch 20, a few of them redrawn, still with ragged edges."}}
snapshots = torch.load(CHECKPOINT_DIR / "dcgan.pt", weights_only=True)["metrics"]["snapshots"]   # (epochs, 64, 1, 28, 28) uint8
epochs_to_show = sorted({0, 1, 2, len(snapshots) // 2 - 1, len(snapshots) - 1})
fig, axes = plt.subplots(len(epochs_to_show), 1, figsize=(9, 1.3 * len(epochs_to_show)))
for ax, e in zip(axes, epochs_to_show):
    show_images(snapshots[e][:16].float() / 255, nrow=16, ax=ax, title=f"after epoch {e + 1}")
fig.tight_layout()
plt.show()

# %% jupyter={"source_hidden": true} tags=["claim-06-instance-noise", "claim-06-dcgan-architecture", "hide-input"]
assert dcgan_entry["instance_noise"] == 0.3 and "--noise 0.3" in dcgan_entry["command"]
assert len(snapshots) == dcgan_entry["epochs"]                 # one snapshot per epoch
assert (G_dcgan.latent, G_dcgan.width) == (64, 64)              # z in R^64; 2 x 64 = 128 channels

# %% [markdown]
# The training curves are the game's, not a likelihood: $D$'s and $G$'s losses, and $D$'s
# outputs on data and on samples, each averaged over 100 iterations. Over the run $D$'s loss
# rises from 0.34 to about 1.2 by iteration 12,000 and stays there, short of
# $2 \ln 2 = 1.386$, its value when $D$ cannot tell samples from data, and $D$'s
# outputs on the two approach each other, but $D$ keeps an edge to the end: its mean output
# on data stays above its mean output on samples at every point logged.

# %% mystnb={"figure": {"caption": "The DCGAN's game over its 40 epochs, each point a mean over 100 iterations. First: $D$'s loss rises to about 1.2 and stays there, short of $2 \\ln 2 \\approx 1.39$, its value when it cannot tell samples from data, and $G$'s falls. Second: $D$'s mean outputs on data and on samples approach each other, but the data's stay above 1/2 and the samples' below it to the end."}, "image": {"alt": "First image: a line plot titled dcgan.pt, 40 epochs, 55 min, loss in nats against iteration 0 to about 31,000; D's loss rises from about 0.35 to 1.0 by iteration 2,000 and levels off near 1.2 from iteration 12,000; G's loss falls from about 3.0 to about 1.45 by iteration 3,000 and ends near 1.05, crossing D's near iteration 11,000. Second image: a line plot against iteration with a dotted line at 0.5; mean D(x) on data falls from about 0.87 to 0.59, and mean D(G(z)) on samples rises from about 0.14 to 0.41; the curves never cross."}}
dcgan_history = dcgan_entry["history"]                  # means over 100 iterations
plot_checkpoint_curves(["dcgan.pt"], manifest, size=(4.2, 2.8))
plt.show()
fig, ax = plt.subplots(figsize=(7, 3))
iters = np.arange(len(dcgan_history["d_real"])) * 100
ax.plot(iters, dcgan_history["d_real"], label="mean D(x), data")
ax.plot(iters, dcgan_history["d_fake"], label="mean D(G(z)), samples")
ax.axhline(0.5, color="k", lw=0.5, ls=":")
ax.set_xlabel("iteration")
ax.set_ylim(0, 1)
ax.legend(fontsize=8)
plt.show()
d_real, d_fake, d_loss = (np.array(dcgan_history[k]) for k in ("d_real", "d_fake", "d_loss"))
print(f"mean D(x) - mean D(G(z)): {d_real[0] - d_fake[0]:.2f} in the first 100 iterations, "
      f"{d_real[-1] - d_fake[-1]:.2f} in the last; D's loss {d_loss[0]:.2f} -> {d_loss[-1]:.2f} "
      f"(2 ln 2 = {2 * np.log(2):.3f})")

# %% jupyter={"source_hidden": true} tags=["claim-06-dcgan-curves", "hide-input"]
assert (d_real > d_fake).all()                           # D keeps an edge throughout
assert d_loss[-1] > 3 * d_loss[0] and d_loss.max() < 2 * np.log(2)
assert round(d_loss[0], 2) == 0.34 and d_loss.max() < 1.25 and d_loss[120:].min() > 1.1  # ~1.2
assert d_real[-1] - d_fake[-1] < 0.4 * (d_real[0] - d_fake[0])

# %% [markdown]
# ### Which digits does it draw? The classifier's label histogram
#
# With no likelihood, we judge samples by a classifier's eyes
# (`gm_helpers.analysis.sample_quality`, with the classifier of
# `gm_helpers.models.classifier`). The classifier is a small CNN, shipped with the course,
# trained on the one labelled binarized split, the 10,000 test digits:
# 8,000 to train on, 2,000 held out to measure it. A generator that covers every mode of the
# data draws each digit about 10 % of the time; mode collapse shows as missing or rare
# classes. The course's target: every class at least 5 % of the samples, half its share
# under even coverage. $G$'s sigmoid outputs are nearly binary already (printed below); we round them at
# 1/2 to the data's 0s and 1s (`Generator.sample_binary`). First, the classifier's own
# learning curves (cross-entropy per digit, on its 8,000 training and 2,000 held-out digits);
# the file keeps the weights of the last epoch.

# %% mystnb={"figure": {"caption": "The digit classifier's learning curves over 15 epochs, cross-entropy per digit on its 8,000 training digits (dashed) and 2,000 held-out digits (solid): both fall, and the file keeps the last epoch's weights, 98.2 % accurate on the held-out digits.", "name": "fig-06-classifier-curves"}, "image": {"alt": "Line plot titled digit_classifier.pt, 15 epochs, 1 min, cross-entropy in nats against epoch 1 to 15. The dashed training curve falls from off the top of the axis to about 0.07; the solid validation curve falls from about 0.155 at epoch 2 to about 0.06, with small bumps at epochs 12 to 14."}}
plot_checkpoint_curves(["digit_classifier.pt"], manifest, size=(4.2, 2.8))
plt.show()
cls_history = classifier_entry["history"]
print(f"held-out accuracy per epoch: {[round(a, 3) for a in cls_history['valid_accuracy']]}")

# %% jupyter={"source_hidden": true} tags=["claim-06-classifier-curves", "hide-input"]
assert cls_history["valid_accuracy"][-1] == classifier_entry["held_out_accuracy"] == 0.982
assert max(cls_history["valid_accuracy"]) == cls_history["valid_accuracy"][-1]
assert cls_history["valid_loss"][-1] < cls_history["valid_loss"][0] / 5

# %% mystnb={"figure": {"caption": "The fraction of each label the classifier gives to 10,000 validation digits (blue) and 10,000 DCGAN samples (orange): the real digits are near 10 % each; the DCGAN draws every class above the 5 % target (dotted), but unevenly: zeros 6.2 %, nines 18.1 %.", "name": "fig-06-class-histogram"}, "image": {"alt": "Bar chart of fraction against the classifier's label 0 to 9, two bars per label, with a dotted line at 0.05. The blue validation bars are all between 0.09 and 0.11. The orange DCGAN bars: 0.062 for 0, about 0.076 for 1, between 0.084 and 0.096 for 2, 3, 4, 5 and 6, about 0.12 for 7 and 8, and 0.18 for 9."}}
grey = G_dcgan.sample(10_000, seed=0)                       # (10000, 1, 28, 28) in [0, 1]
grey_fraction = ((grey > 0.1) & (grey < 0.9)).float().mean().item()
print(f"pixels of G's samples strictly between 0.1 and 0.9: {grey_fraction:.2%}")
samples_dcgan = G_dcgan.sample_binary(10_000, seed=0)       # (10000, 1, 28, 28) of 0s and 1s
del grey
fractions = class_fractions(classifier, samples_dcgan)
fractions_real = class_fractions(classifier, x_valid)
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(np.arange(10) - 0.2, fractions_real, 0.4, label="10,000 validation digits")
ax.bar(np.arange(10) + 0.2, fractions, 0.4, label="10,000 DCGAN samples")
ax.axhline(0.05, color="k", lw=0.6, ls=":")
ax.set_xticks(range(10))
ax.set_xlabel("classifier's label")
ax.set_ylabel("fraction")
ax.legend(fontsize=8)
plt.show()
print("DCGAN samples per class (%):", [round(100 * f, 1) for f in fractions])
print("validation digits per class (%):", [round(100 * f, 1) for f in fractions_real])
print(f"classifier: held-out accuracy {classifier_entry['held_out_accuracy']:.1%}")
rare = [d for d in range(10) if fractions[d] < 0.05]
print("classes below 5 % of the samples:", rare)

# %% jupyter={"source_hidden": true} tags=["claim-06-dcgan-nearly-binary", "claim-06-dcgan-class-coverage", "hide-input"]
assert grey_fraction < 0.05                                 # nearly binary already
assert rare == [] and min(fractions) == fractions[0] and round(100 * fractions[0], 1) == 6.2
assert max(fractions) == fractions[9] and round(100 * fractions[9], 1) == 18.1   # nines
assert round(100 * fractions_real[9], 1) == 10.0 and all(0.085 < f < 0.115 for f in fractions_real)
assert fractions[1] < 0.8 * fractions_real[1]               # ones: also below their share

# %% [markdown]
# Every digit class is present, the rarest, zeros, in 6.2 % of the samples: the course's
# target of at least 5 % for every class is met, so there is no mode collapse here. The
# coverage is still uneven: nines are nearly twice as common as they should be (18.1 %
# against 10.0 % of the validation digits), and zeros and ones fall short of their share.
# Nothing in the loss asks $G$ to draw each digit as often as the data do; the game asks only
# that $D$ cannot tell its samples from data, one image at a time. (The histogram was worse
# earlier in training: zeros, the rarest class after every epoch, made 0.7 to 3.3 % of the
# samples in the first dozen epochs; the right panel of the figure in "Sample quality over
# training" follows it epoch by epoch.)

# %% [markdown]
# ### Sample quality and likelihood, side by side
#
# The Fréchet distance (Heusel et al. 2017) fits a Gaussian to a feature vector of the real
# images and another to that of the samples, and measures
# $\|\mu_r - \mu_s\|^2 + \mathrm{tr}\big(C_r + C_s - 2 (C_r C_s)^{1/2}\big)$. The usual
# features are an ImageNet Inception network's; no such weights are available offline, so,
# like TF-GAN's MNIST score, we use the **10 logits of our digit classifier**. A number on
# this scale means something only beside a **real-vs-real baseline**: 10,000 training digits
# against the 10,000 validation digits (every row is measured against those). The estimate
# depends on the number of samples, so the rows are compared at the same size, 1,000 samples
# each, and at 10,000 where we have them (with ten times the samples the real-vs-real
# distance falls from 1.1 to 0.1, while a model's, mostly a real difference between two
# distributions, need not fall: the rows below move by less than the 1.1 floor): 1,000 samples of the PixelCNN ship with the course
# (drawn once, 784 network passes each, by lecture 4's cached sampler). The VAE's and the PixelCNN's samples are
# Bernoulli draws from their pixel probabilities, as their likelihoods assume; the DCGAN's are
# its rounded outputs. The likelihood column: exact for the PixelCNN, importance-sampled for the VAE,
# none for the GAN.

# %% mystnb={"figure": {"caption": "Thirty-six real training digits beside 36 samples of the DCGAN, the VAE and the Gated PixelCNN: the DCGAN's are solid strokes with ragged edges, most of them readable digits; the VAE's Bernoulli samples read as speckled digits; the PixelCNN's are thin, often broken strokes, many of them digits, some globally malformed, although the PixelCNN has the best likelihood of the three.", "name": "fig-06-samples-side-by-side"}, "image": {"alt": "Four 6 by 6 grids of white-on-black digits, titled real (training digits), DCGAN, VAE (ELBO-trained) and Gated PixelCNN. The real grid shows clean handwritten digits; the DCGAN grid solid, bold digit shapes with ragged edges, most readable (8s, 9s, 0s, 6s, a 5, a 3, a 7), a few malformed; the VAE grid mostly recognisable speckled digits; the PixelCNN grid thin, broken strokes, about half of them recognisable digits (0s, 1s, 6s, a 4, a 3), the rest loops and hooks."}}
x_train = load_binarized_mnist("train")[:10_000].clone()     # the real-vs-real baseline
torch.manual_seed(0)
with torch.no_grad():
    samples_vae = vae.sample(10_000).view(-1, 1, 28, 28)    # (10000, 1, 28, 28) Bernoulli draws
samples_pixelcnn = load_shipped_samples("gated_pixelcnn_samples.pt")   # (1000, 1, 28, 28)
candidates = {"real (training digits)": x_train, "DCGAN": samples_dcgan,
              "VAE (ELBO-trained)": samples_vae, "Gated PixelCNN": samples_pixelcnn}
nll = {"real (training digits)": "—", "DCGAN": "none (implicit)",
       "VAE (ELBO-trained)": f"{manifest['vae.pt']['test_nll']:.2f} (IS)",
       "Gated PixelCNN": f"{manifest['gated_pixelcnn.pt']['test_nll']:.2f} (exact)"}
reference = feature_statistics(logits(classifier, x_valid))   # mean (10,), cov (10, 10)
fd = {name: {n: frechet_distance(*feature_statistics(logits(classifier, x[:n])), *reference)
             for n in (1000, 10_000) if len(x) >= n}
      for name, x in candidates.items()}
print(f"{'samples':24} {'FD, 1,000':>10} {'FD, 10,000':>11} {'test NLL (nats)':>18}")
for name in candidates:
    row = fd[name]
    big = f"{row[10_000]:11.2f}" if 10_000 in row else f"{'—':>11}"
    print(f"{name:24} {row[1000]:10.2f} {big} {nll[name]:>18}")
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2))
for ax, (name, x) in zip(axes, candidates.items()):
    show_images(x[:36], nrow=6, ax=ax, title=name)
plt.show()
at_1000 = {name: row[1000] for name, row in fd.items()}
baseline = at_1000["real (training digits)"]

# %% jupyter={"source_hidden": true} tags=["claim-06-frechet-ranking", "hide-input"]
assert abs(fd["real (training digits)"][10_000] - classifier_entry["frechet_real_vs_real"]) < 1e-3
assert at_1000["real (training digits)"] < at_1000["DCGAN"] < at_1000["VAE (ELBO-trained)"] < at_1000["Gated PixelCNN"]
assert abs(at_1000["Gated PixelCNN"] - at_1000["VAE (ELBO-trained)"]) < baseline  # not separated
assert round(at_1000["Gated PixelCNN"] - at_1000["VAE (ELBO-trained)"], 2) == 0.77
assert all(abs(row[10_000] - row[1000]) < baseline for row in fd.values() if 10_000 in row)
assert at_1000["DCGAN"] < 0.55 * at_1000["VAE (ELBO-trained)"]                   # about half
assert all(v > 5 * baseline for name, v in at_1000.items() if name != "real (training digits)")
assert manifest["gated_pixelcnn.pt"]["test_nll"] < manifest["vae.pt"]["test_nll"] - 3   # best NLL
assert [round(at_1000[n], 1) for n in at_1000] == [1.1, 9.5, 19.1, 19.8]

# %% [markdown]
# Every model is far from the real-vs-real baseline. On this classifier's scale the DCGAN's
# samples come closest to the data (9.5, about half the others' distance), and the VAE's and
# the Gated PixelCNN's about equally close (19.1 and 19.8: their difference, 0.77, is below the
# real-vs-real floor at this size, 1.1, so we do not read it as a ranking). By likelihood the
# order turns around: the PixelCNN is far ahead (87.10 nats, exact, against the VAE's 90.63),
# and the GAN, whose samples score best, has no likelihood at all. Likelihood and sample
# quality rank models differently. The three checkpoints had unequal training budgets ("About
# these numbers"), so this ranks these checkpoints, not the model families (Theis et al. 2016,
# "A note on the evaluation of generative models", make the general point). A reading of the
# figure above, not a measurement: the classifier's logits see digit identity and confidence,
# not stroke texture, so the VAE's smooth shapes, speckled by Bernoulli draws, read as clear
# digits, and so do many of the PixelCNN's, drawn pixel by pixel with thin, broken strokes.
#
# ### Sample quality over training
#
# A GAN has no likelihood to plot per epoch, but its samples can be scored per epoch. After
# each of its 40 epochs the training run drew 2,000 samples from the averaged generator and
# recorded their Fréchet distance and label histogram (`--epoch-scores 2000`; the manifest
# keeps them): a learning curve in the units of this section.

# %% mystnb={"figure": {"caption": "The DCGAN's samples over training, 2,000 per epoch from the averaged generator: left, their Fr\u00e9chet distance, which falls over all 40 epochs; right, the share of the rarest class, which stays under 3.5 % for the first dozen epochs, then climbs, reaching the 5 % target (dotted) at epoch 22.", "name": "fig-06-dcgan-quality-over-training"}, "image": {"alt": "Two line plots against epoch 1 to 40. Left, Fr\u00e9chet distance of 2,000 samples on a logarithmic axis: 143 after epoch 1, about 50 after epoch 4, 31 after epoch 9, 20 after epoch 17, and 9.5 after epoch 40, still falling slowly. Right, the rarest class's share in per cent: below 1 after epoch 1, between 1.7 and 3.3 until epoch 12, then rising to 4.5 by epoch 20, reaching the dotted 5 % line at epoch 22, dipping to 4.8, and rising to 6.5 at epoch 36, ending at 6.2."}}
epoch_scores = dcgan_entry["epoch_scores"]["scores"]          # one dict per epoch
epochs = [s["epoch"] for s in epoch_scores]
fd_per_epoch = [s["frechet"] for s in epoch_scores]
rarest = [100 * min(s["class_fractions"]) for s in epoch_scores]
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3))
ax1.plot(epochs, fd_per_epoch, marker=".")
ax1.set_yscale("log")
ax1.set_xlabel("epoch")
ax1.set_ylabel(f"Fréchet distance, {dcgan_entry['epoch_scores']['samples']:,} samples")
ax2.plot(epochs, rarest, marker=".")
ax2.axhline(5, color="k", lw=0.6, ls=":")
ax2.set_xlabel("epoch")
ax2.set_ylabel("rarest class (%)")
fig.tight_layout()
plt.show()
first_above = next(e for e, r in zip(epochs, rarest) if r >= 5)
print(f"Fréchet distance: {fd_per_epoch[0]:.1f} after epoch 1, {fd_per_epoch[10]:.1f} after "
      f"epoch 11, {fd_per_epoch[-1]:.1f} after epoch {epochs[-1]}")
print(f"rarest class: {rarest[10]:.1f} % after epoch 11; first at 5 % or more after epoch "
      f"{first_above}; {rarest[-1]:.1f} % after epoch {epochs[-1]}")

# %% jupyter={"source_hidden": true} tags=["claim-06-dcgan-quality-over-training", "hide-input"]
assert epochs == list(range(1, 41)) and dcgan_entry["epoch_scores"]["samples"] == 2000
assert fd_per_epoch[-1] == min(fd_per_epoch) and 2.5 < fd_per_epoch[10] / fd_per_epoch[-1] < 3
assert max(rarest[:12]) < 3.5 and rarest[10] < 3 and first_above == 22
assert min(rarest[first_above - 1:]) >= 4.5 and max(rarest) == rarest[35]
assert all(min(range(10), key=lambda c: s["class_fractions"][c]) == 0 for s in epoch_scores)
assert [round(min(rarest[:12]), 1), round(max(rarest[:12]), 1)] == [0.7, 3.3]   # zeros
assert fd_per_epoch[-1] < fd_per_epoch[-2] and all(5.9 < r < 6.6 for r in rarest[33:])
assert rarest[-1] > 5 and any(b < a for a, b in zip(rarest[first_above:], rarest[first_above + 1:]))

# %% [markdown]
# The distance was still falling when the run stopped; the rarest class's share had levelled
# off near 6 % from epoch 34. A dozen epochs would have been far from enough: after epoch 11 the rarest class is
# still under 3 %, and the distance nearly three times its final value. The class balance
# improves later and more slowly than the distance, and not monotonically: the share of the
# rarest class goes down as well as up from one epoch to the next, as the players keep
# answering each other.

# %% [markdown]
# ## 8. Explore
#
# ### (a) A GAN in 2-d, live
#
# Choose the data, the generator's loss, $k$, the two learning rates, the remedy and the seed;
# press **train** (2,000 iterations take about as long as the ring run of section 6, whose
# time is printed there), then scrub through
# the snapshots. Things to try: the minimax loss; $k = 5$ with a small generator learning
# rate; a discriminator learning rate ten times the generator's, and the reverse; PacGAN on
# the grid. The static figure shows the starting state: the last snapshot of the ring run of
# section 6.

# %% mystnb={"figure": {"caption": "The last snapshot of the ring run, as the 2-d GAN explorer first shows it: left, $D(x)$ shaded with $G$'s gradient field in orange and the samples (red) at all 8 modes; right, $D$'s mean outputs on data and on samples, which oscillate around 1/2 once the game is near its equilibrium.", "name": "fig-06-toy-gan-state"}, "image": {"alt": "Left: a square panel titled step 2000: D(x) shaded, G's gradient field in orange, with eight black-and-yellow markers in a ring, small clusters of red points at each marker and a few red points between them, and orange arrows pointing towards the ring. Right: a line plot titled after 2000 iterations: 8/8 modes, 18.1% high quality, of mean D(x) in blue and mean D(G(z)) in orange against iteration 0 to 2,000; both start near 0.5, and after about iteration 450 they oscillate rapidly, D(x) mostly between 0.5 and 0.75 and D(G(z)) between 0.25 and 0.5."}}
fig = draw_toy_state(ring_run, len(ring_run["snapshots"]) - 1)
plt.show()

# %% mystnb={"figure": {"caption": "The 2-d GAN explorer, opening at the last snapshot of the ring run shown above; in a running notebook, choose the data, the loss, $k$, the learning rates, the remedy and the seed, train, and scrub through the snapshots.", "name": "fig-06-toy-gan-explorer"}, "image": {"alt": "The same picture as the static figure above: the ring of eight modes with red samples at each and orange gradient arrows, beside the oscillating curves of mean D(x) and mean D(G(z))."}} tags=["nbval-ignore-output"]
toy_gan_explorer(initial_run=ring_run, num_steps=2000)

# %% [markdown]
# ### (b) The DCGAN's latent space
#
# A grid of samples for a noise seed, and the straight line between two noise vectors: a GAN's
# $G$ is a smooth function of $z$, so neighbouring $z$ give similar digits and the path morphs
# one digit into another (compare lecture 5's VAE, whose latent space we could also *encode*
# into; a GAN has no encoder).

# %% mystnb={"figure": {"caption": "The DCGAN's latent space: 36 samples for noise seed 0 (top), and the straight line from one noise vector to another (bottom), along which $G$, a smooth function of $z$, morphs one digit gradually into another.", "name": "fig-06-dcgan-latent"}, "image": {"alt": "Top: a 4 by 9 grid of white-on-black digit samples, titled 36 samples, noise seed 0, including 0s, 8s, 9s, 7s, a 5, a 6 and a 3, a few malformed. Bottom: one row of nine images, titled G((1 - t) z_a + t z_b), z_a from seed 1, z_b from seed 2, changing gradually from a 7-like shape with a long top bar through open loops to a 2-like curl."}}
fig = draw_dcgan(dcgan_result(G_dcgan, seed=0, seed_a=1, seed_b=2))
plt.show()

# %% mystnb={"figure": {"caption": "The DCGAN explorer, opening at the grid and path of the figure above; in a running notebook, pick the noise seed and the two ends of the path: neighbouring $z$ give similar digits.", "name": "fig-06-dcgan-explorer"}, "image": {"alt": "The same picture as the static figure above: a 4 by 9 grid of DCGAN samples and a row of nine images morphing along a straight line in noise space."}} tags=["nbval-ignore-output"]
dcgan_explorer(G_dcgan)

# %% [markdown]
# ## 9. Review questions, answered from our measurements
#
# **"Explain the meaning of the GAN loss."** $V(D, G)$ is the log-likelihood of a classifier
# $D$ that labels data 1 and samples 0; $D$ maximises it, $G$ minimises it (section 2,
# Algorithm 1's lines (3) and (5)). Against the best $D$,
# $D^* = p_\mathrm{data}/(p_\mathrm{data} + p_g)$ (section 3, trained and matched to the
# formula within the printed error), the value of the game becomes
# $2\,\mathrm{JSD}(p_\mathrm{data} \| p_g) - 2\log 2$ (section 4, to $10^{-4}$ by quadrature), so
# $G$ minimises a divergence from the data **without ever evaluating a density**: the
# discriminator estimates the density ratio from samples, and its gradient tells $G$ where to
# move its samples (section 6's arrows). Its minimum, $-\log 4$, is reached at
# $p_g = p_\mathrm{data}$ with $D = 1/2$ everywhere. Two caveats measured above: the JSD is
# flat when supports do not overlap, and the minimax form of the generator loss saturates when
# $D$ wins, which is why $G$ descends $-\log D(G(z))$ instead, line (5′) (section 5).
#
# **"Why does PixelCNN work better than PixelRNN?"** On likelihood it does not: in the
# PixelRNN paper's MNIST table the Diagonal BiLSTM (79.20) beats the PixelCNN (81.30), and the
# best of our checkpoints so far is a Diagonal BiLSTM too. The papers' argument is about the **cost of
# training**, and it is a property of one layer: a masked convolution computes a layer's
# features at every pixel in one operation, all positions at once, while an LSTM layer must
# walk the image step by step, each step waiting for the one before (28 rows for the Row LSTM;
# 2N − 1 = 55 skewed diagonals, in each of two directions, for the Diagonal BiLSTM). What one
# training step of a whole model costs depends also on how many layers it has and how wide they
# are. Below, the four shipped models of lecture 4, with their sizes (free parameters,
# `model.num_params()`, as lecture 4 counts them, and layers × width), timed as lecture 4 times
# them (`cpu_time`; the method is in "About these numbers"): one training step (forward and
# backward on the same 32 digits, without the optimizer's update) and one forward pass on a
# single image (28 passes, one row of a sample, divided by 28), which sampling repeats once
# per pixel, 784 times.

# %% tags=["nbval-ignore-output"]
x_batch, x_single = x_valid[:32], x_valid[:1]          # (32, 1, 28, 28), (1, 1, 28, 28)
step_time, pass_time = {}, {}
print(f"{'checkpoint':20} {'free params':>11} {'layers x width':>14} {'test NLL':>9} "
      f"{'training step':>14} {'one pass':>9} {'sample (784 passes)':>20}")
with one_thread():
    for name in ("pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt", "diagonal_bilstm.pt"):
        model, entry = load_shipped(name)

        def training_step():
            (-model.log_prob(x_batch).mean()).backward()    # one training step's work, minus Adam
            model.zero_grad(set_to_none=True)

        step_time[name] = cpu_time(training_step, repeats=3)
        with torch.no_grad():                               # 28 passes, as one row of a sample
            pass_time[name] = cpu_time(lambda: [model.logits(x_single) for _ in range(28)],
                                       repeats=3) / 28
        size = f"{entry['config']['num_layers']} x {entry['config']['hidden']}"
        print(f"{name:20} {model.num_params():>11,} {size:>14} {entry['test_nll']:9.2f} "
              f"{1000 * step_time[name]:11.0f} ms {1000 * pass_time[name]:6.1f} ms "
              f"{784 * pass_time[name]:17.1f} s")
    with torch.no_grad():
        dcgan_draw = cpu_time(lambda: G_dcgan(torch.randn(1, 64)), repeats=3)   # one pass: one digit
dcgan_params = sum(p.numel() for p in G_dcgan.parameters())   # no masks: every entry is free
print(f"{'dcgan.pt (G)':20} {dcgan_params:>11,} {'':>14} {'none':>9} {'':>14} "
      f"{1000 * dcgan_draw:6.1f} ms {'(one pass per digit)':>20}")
print("training step relative to the Diagonal BiLSTM's:",
      {n: round(t / step_time["diagonal_bilstm.pt"], 2) for n, t in step_time.items()})
slowest_other = max(t for n, t in pass_time.items() if n != "diagonal_bilstm.pt")
print(f"one pass: the Diagonal BiLSTM's takes {pass_time['diagonal_bilstm.pt'] / slowest_other:.1f}"
      f" times the slowest of the other three; a DCGAN digit is "
      f"{min(784 * t for t in pass_time.values()) / dcgan_draw:,.0f} times faster than the "
      f"fastest of their 784-pass samples")

# %%
best = manifest["diagonal_bilstm.pt"]["test_nll"]
print("behind the Diagonal BiLSTM by (nats):",
      {n: round(manifest[n]["test_nll"] - best, 2) for n in ("pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt")})
row_lstm = manifest["row_lstm.pt"]

# %% jupyter={"source_hidden": true} tags=["claim-06-pixelcnn-vs-pixelrnn", "hide-input"]
assert manifest["diagonal_bilstm.pt"]["test_nll"] < min(manifest[n]["test_nll"] for n in ("pixelcnn.pt", "gated_pixelcnn.pt"))
assert manifest["gated_pixelcnn.pt"]["test_nll"] < manifest["row_lstm.pt"]["test_nll"] < manifest["pixelcnn.pt"]["test_nll"]
LATER_LECTURES = {"iaf_vae", "digit_flow", "spline_flow", "ddpm", "masked_diffusion"}  # lectures 7-8
assert best == min(e["test_nll"] for e in manifest.values()    # the best of lectures 1-6's checkpoints
                   if "test_nll" in e and e.get("data", "binarized") == "binarized"
                   and e["model"] not in LATER_LECTURES)
assert round(manifest["gated_pixelcnn.pt"]["test_nll"] - best, 1) == 1.7
assert round(manifest["pixelcnn.pt"]["test_nll"] - best, 1) == 2.1
assert round(manifest["row_lstm.pt"]["test_nll"] - best, 1) == 2.0
assert row_lstm["config"] == {"hidden": 16, "num_layers": 2} and round(row_lstm["wall_time_s"] / 60) == 49
assert row_lstm["wall_time_s"] == min(manifest[n]["wall_time_s"] for n in
                                      ("pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt", "diagonal_bilstm.pt"))
assert manifest["pixelcnn.pt"]["config"] == {"hidden": 32, "num_layers": 10}
assert manifest["gated_pixelcnn.pt"]["config"] == {"hidden": 16, "num_layers": 5}

# %% jupyter={"source_hidden": true} tags=["claim-06-pixelrnn-step-times", "hide-input"]
assert step_time["gated_pixelcnn.pt"] < step_time["diagonal_bilstm.pt"] / 2      # less than half
assert 0.5 < step_time["pixelcnn.pt"] / step_time["diagonal_bilstm.pt"] < 2      # about the same
assert step_time["row_lstm.pt"] < step_time["gated_pixelcnn.pt"]                 # the cheapest
assert max(step_time["row_lstm.pt"], step_time["gated_pixelcnn.pt"]) < \
    min(step_time["pixelcnn.pt"], step_time["diagonal_bilstm.pt"]) / 1.5

# %% jupyter={"source_hidden": true} tags=["claim-06-sampling-sequential", "hide-input"]
assert pass_time["diagonal_bilstm.pt"] > 2 * slowest_other
assert 100 * dcgan_draw < min(784 * t for t in pass_time.values())    # one pass against 784

# %% [markdown]
# What the numbers show. The Diagonal BiLSTM has the best likelihood. The gated PixelCNN (5
# layers of 16) is 1.7 nats behind, and its training step takes less than half as long as the
# Diagonal BiLSTM's (the printed ratios). The plain PixelCNN, deeper and wider (10 layers of
# 32), takes about as long per step as the Diagonal BiLSTM (within a factor of two), for a
# likelihood 2.1 nats behind: each of its layers is one parallel operation, but ten layers of
# 32 channels are much more work than five of 16. The cheapest step of the four is the small
# Row LSTM's (2 layers of 16 units), a recurrent model, and its likelihood, 2.0 nats behind,
# falls between the two PixelCNNs', just below the plain one's, as in the paper (where it
# beats the PixelCNN), with the smallest budget of the four (49 minutes). So here the gated PixelCNN steps faster than the Diagonal BiLSTM, the
# plain PixelCNN does not, and the fastest step is a recurrent one: the cost of a step follows
# each model's depth and width as well as its kind of layer. These timings run on one thread,
# where nothing runs in parallel, so the papers' reason, that a convolution's positions run at
# once on a GPU while an LSTM's steps cannot, is not tested here; they compare these
# particular models, not the architectures at equal size (lecture 4 makes the same point with
# its own measurements).
#
# Sampling, on the other hand, is **sequential for all four**: pixel $i$ must be drawn before
# pixel $i + 1$ can be computed, so a digit costs 784 forward passes (the last column). The
# cost of one pass then sets the sampling time, and there the Diagonal BiLSTM, whose single
# pass is 2 × 55 small steps per layer, is more than twice as slow as any of the other three
# (the printed ratio). The DCGAN draws a digit in a single pass, not 784, so more than a
# hundred times faster than any of the four, and it has no likelihood at all.

# %% [markdown]
# > **About these numbers**
# >
# > * **What runs live.** The small GANs of sections 2, 3, 5 and 6 train in the notebook, in
# >   fp32 on the CPU, from fixed seeds; their printed numbers vary a little with the CPU's
# >   rounding, and the checks beside them hold on any CPU. Everything else is loaded from
# >   files shipped with the course: the DCGAN, the digit classifier, the mode-coverage table,
# >   the gated PixelCNN's 1,000 samples and lectures 3 to 5's checkpoints (NADE, the
# >   PixelCNNs and PixelRNNs, the VAE).
# > * **How each file was made.** The manifest (`gm_helpers/checkpoints/manifest.json`)
# >   records each checkpoint's command, epochs, wall time, hardware and PyTorch version;
# >   printed below for the files this lecture uses. The DCGAN trained in bfloat16 autocast
# >   (`--amp`) on one CPU thread, in one recipe and two sittings: its command asked for 20
# >   epochs, and since its sample scores were still improving, the run was resumed from its
# >   run file to 40 (`--resume ... --epochs 40`; a resume may change the budget, never the
# >   recipe), 55 minutes in all. `train_dcgan` also looks at the clock after each epoch and
# >   stops after the first epoch that ends past `--max-minutes`; neither sitting reached its
# >   budget.
# > * **Unequal budgets.** The checkpoints compared in sections 7 and 9 trained for different
# >   numbers of epochs and minutes, most of them while other runs shared the 2-core
# >   machine (the `note` fields of their manifest entries say so): their minutes are budgets, not speed
# >   measurements, and the comparisons rank these checkpoints, not the model families.
# > * **Timings** (section 9): `gm_helpers.analysis.timing`, the course's one method: CPU time
# >   (`time.process_time`, which other programs sharing the machine do not stretch), on one
# >   PyTorch thread (`one_thread()`), the fastest of three repeats (`cpu_time(fn, repeats=3)`),
# >   in fp32.
# > * **This notebook** runs top to bottom in under two minutes of CPU time on one core (most
# >   of it the live 2-d GANs; a busy machine stretches the wall-clock time, as the printed
# >   time of section 6's ring run shows), with a peak memory under 1.5 GB.

# %%
print(f"{'file':26} {'epochs':>6} {'minutes':>7}  {'hardware':28} precision")
for name in ("dcgan.pt", "digit_classifier.pt", "gated_pixelcnn_samples.pt", "nade.pt", "vae.pt",
             "pixelcnn.pt", "gated_pixelcnn.pt", "row_lstm.pt", "diagonal_bilstm.pt"):
    entry = manifest[name]
    precision = "bf16 autocast" if "--amp" in entry["command"] else "fp32"
    print(f"{name:26} {entry.get('epochs', '-'):>6} {entry['wall_time_s'] / 60:7.0f}  "
          f"{entry['hardware']:28} {precision}")
print(f"{'gan_toy_modes.json':26} {'':>6} {sweep['wall_time_s'] / 60:7.0f}  {sweep['hardware']}")
print("\nthe DCGAN's command:", dcgan_entry["command"])
print("resumed by:", *dcgan_entry["resumed"])
print("the mode table's command:", sweep["command"])
argv = dcgan_entry["command"].split()
epochs_asked = int(argv[argv.index("--epochs") + 1])
resumed_argv = dcgan_entry["resumed"][-1].split()
budgets = [float(a[a.index("--max-minutes") + 1]) for a in (argv, resumed_argv)]

# %% jupyter={"source_hidden": true} tags=["claim-06-dcgan-time-budget", "hide-input"]
assert (epochs_asked, dcgan_entry["epochs"]) == (20, 40) and len(dcgan_entry["resumed"]) == 1
assert resumed_argv[resumed_argv.index("--epochs") + 1] == "40" and "--amp" in argv
assert dcgan_entry["wall_time_s"] < 60 * min(budgets)     # neither budget was reached
assert round(dcgan_entry["wall_time_s"] / 60) == 55 and "--ema" in argv
with torch.random.fork_rng():                           # the budget rule, on a tiny DCGAN
    torch.manual_seed(0)                                # whose epochs take >= 0.2 s each
    tiny_run = train_dcgan(Generator(8, 4), Discriminator(4), x_valid[:16], num_epochs=3,
                           batch_size=8, progress=False, max_seconds=0.1,
                           on_epoch_end=lambda epoch, run: time.sleep(0.2))
first_past = next(i for i, t in enumerate(tiny_run["seconds"]) if t > 0.1)
assert tiny_run["epoch"] == first_past + 1 < 3          # stops after the first epoch past budget

# %% [markdown]
# ## Exercises
#
# The three exercises sit beside the ideas they practise:
#
# * **Exercise 1**, the discriminator's loss from its logits (`discriminator_loss`): section 2,
#   after Algorithm 1 and the package's loop;
# * **Exercise 2**, the optimal discriminator on a grid (`optimal_discriminator`): section 3,
#   after $D^*$ is derived and trained;
# * **Exercise 3**, the non-saturating generator loss (`generator_loss`): section 5, after the
#   two generator losses.

# %% [markdown]
# ## Summary
#
# * A GAN is an **implicit** model: a sampler $G(z)$ and no $p_g(x)$. It trains by a game
#   against a classifier $D$; Algorithm 1 alternates $k$ steps of $D$, each ascending $V$,
#   with one step of $G$, descending $V$ (line (5)) or, in practice, ascending
#   $\log D(G(z))$ (line (5′)). In the code every step descends a loss: an objective to
#   maximise enters with its sign turned.
# * For a fixed $G$ the best classifier is $D^* = p_\mathrm{data}/(p_\mathrm{data} + p_g)$, and
#   then the game's value is $2\,\mathrm{JSD} - 2\log 2$: $G$ minimises the Jensen–Shannon
#   divergence, estimated through $D$, never computed.
# * Two failure modes of that gradient: a JSD that is flat for disjoint supports, and the
#   saturating minimax loss; descending the non-saturating $-\log D(G(z))$ instead fixes the
#   second (at the same $G$ and $D$, its gradient is thousands of times larger where $D$ wins).
# * Mode collapse is the GAN's signature failure; it is measured with the mode-coverage
#   protocol in 2-d and with a classifier's label histogram on digits; a slow discriminator
#   caused it in the 2-d runs (the DCGAN on digits drew every class at least 5 % of the
#   time). A remedy, the R1 gradient penalty, was measured over seeds with and without it in
#   the same recipe: with it every seed captured every mode; the published tables, from
#   other recipes, are context, not a ranking.
# * Quality and likelihood are different axes: the table of section 7 puts the DCGAN, the VAE
#   and the PixelCNN on the same Fréchet scale, beside the likelihoods the GAN cannot report;
#   the GAN's samples come closest to the data, the PixelCNN has the best likelihood.
# * A GAN has no likelihood curve, but its samples can be scored epoch by epoch: the DCGAN
#   (whose shipped weights are an average over its last steps) drew its rarest class under
#   3.5 % of the time for a dozen epochs and above 5 % at the end of its 40.
#
# ## References
# * I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville,
#   Y. Bengio. *Generative adversarial nets.* NeurIPS 2014 (Algorithm 1, Proposition 1,
#   Theorem 1, the non-saturating loss).
# * A. Radford, L. Metz, S. Chintala. *Unsupervised representation learning with deep
#   convolutional generative adversarial networks.* ICLR 2016 (DCGAN).
# * A. Srivastava, L. Valkov, C. Russell, M. U. Gutmann, C. Sutton. *VEEGAN: reducing mode
#   collapse in GANs using implicit variational learning.* NeurIPS 2017 (Table 1).
# * Z. Lin, A. Khetan, G. Fanti, S. Oh. *PacGAN: the power of two samples in generative
#   adversarial networks.* NeurIPS 2018 (Table 1).
# * L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. *Unrolled generative adversarial
#   networks.* ICLR 2017.
# * L. Mescheder, A. Geiger, S. Nowozin. *Which training methods for GANs do actually
#   converge?* ICML 2018 (the R1 penalty).
# * Y. Yazıcı, C.-S. Foo, S. Winkler, K.-H. Yap, G. Piliouras, V. Chandrasekhar. *The unusual
#   effectiveness of averaging in GAN training.* ICLR 2019 (the average of G's weights).
# * M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter. *GANs trained by a
#   two time-scale update rule converge to a local Nash equilibrium.* NeurIPS 2017 (the
#   Fréchet distance).
# * C. K. Sønderby, J. Caballero, L. Theis, W. Shi, F. Huszár. *Amortised MAP inference for
#   image super-resolution.* ICLR 2017 (instance noise).
# * L. Theis, A. van den Oord, M. Bethge. *A note on the evaluation of generative models.*
#   ICLR 2016.
# * A. van den Oord, N. Kalchbrenner, K. Kavukcuoglu. *Pixel recurrent neural networks.*
#   ICML 2016 (Table 4: PixelCNN and PixelRNN on MNIST).
