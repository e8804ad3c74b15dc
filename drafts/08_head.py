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
# section 5, says how they were made).
#
# **Prerequisites:** lecture 2 (orderings), lecture 3 (NADE, MADE's masks, and the
# mixture of masks with its Jensen bound), lecture 5
# (the ELBO and the Gaussian KL), lecture 6 (the 2-d mixtures and the mode table) and lecture
# 7's table of likelihoods.
#
# **Study time:** about 125 minutes of reading and 25 minutes of exercises.

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
