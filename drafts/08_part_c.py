# %% [markdown]
# > **About these numbers**
# >
# > * **What runs live.** The score models of sections 1 and 2 train in the notebook, in fp32 on
# >   the CPU, from fixed seeds; their printed numbers vary a little with the CPU's rounding,
# >   and the checks beside them hold on any CPU. Everything else is loaded from files shipped
# >   with the course: the 2-d DDPMs (`ddpm2d_ring.pt`, `ddpm2d_grid.pt`), the digit DDPM
# >   (`ddpm.pt`) and its 10,000 samples (`ddpm_samples.pt`), the masked diffusion model
# >   (`masked_diffusion.pt`), the two tables of sections 5 and 6 (`ddpm_steps.json`,
# >   `masked_orders.json`) and the earlier lectures' checkpoints.
# > * **How each file was made.** The manifest (`gm_helpers/checkpoints/manifest.json`)
# >   records each checkpoint's command, epochs or steps, wall time, hardware and PyTorch
# >   version; printed below for the files this lecture adds. The digit models trained on one
# >   CPU thread of an AVX2 machine in fp32 (bfloat16 autocast would have been several times
# >   slower there: that CPU has no native bf16), each under a wall-clock budget (`--max-minutes`:
# >   training stops after the first epoch that ends past it), while a second run shared the
# >   2-core machine. Their budgets are an hour or so each, far from the papers' (DDPM trained
# >   for 800k steps on 8 TPU cores): the numbers rank these checkpoints, not the families.
# > * **The masked model's bound** is estimated on the full test set with 16 stratified draws of
# >   $m$ per digit: an unbiased estimate of the bound (the test set's mean; its Monte Carlo
# >   error is a small fraction of a nat), not an importance-weighted one.
# > * **Timings** (section 5): `gm_helpers.analysis.timing`, the course's one method: CPU time
# >   on one PyTorch thread, the fastest of three repeats, in fp32.
# > * **This notebook** runs top to bottom in under two minutes on this 2-core machine, with a
# >   peak memory under 1.5 GB.

# %%
print(f"{'file':24} {'epochs/steps':>12} {'minutes':>7}  hardware")
for name in ("ddpm2d_ring.pt", "ddpm2d_grid.pt", "ddpm.pt", "ddpm_samples.pt", "masked_diffusion.pt"):
    entry = manifest[name]
    size = entry.get("epochs", entry.get("steps", entry.get("num")))
    print(f"{name:24} {size:>12} {entry['wall_time_s'] / 60:7.0f}  {entry['hardware']}")
for name in ("ddpm.pt", "ddpm_samples.pt", "masked_diffusion.pt"):
    print(f"\n{name}: {manifest[name]['command']}")

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
# * **Denoising score matching** is noise prediction: the optimal $\hat\varepsilon$ at noise
#   level $\sigma$ gives the score of the noisy data, $-\hat\varepsilon/\sigma$.
# * **DDPM** fixes a chain that adds Gaussian noise, whose marginal $q(x_t \mid x_0)$ has a
#   closed form, and learns the reverse steps. Its ELBO is a sum of Gaussian KL terms, one per
#   step; dropping their weights leaves the simple loss, a regression onto the added noise.
# * On digits a small DDPM, trained for about an hour on one CPU thread, draws every class
#   and beats the DCGAN and the VAE on the course's Fréchet distance; the deterministic DDIM
#   sampler trades steps for quality with the same network (section 5's table).
# * **Masked diffusion** on binary digits is an any-order autoregressive model: its ELBO is
#   the NLL averaged over orderings, and the same network gives an exact NLL for each ordering,
#   which depends on the ordering (lecture 2's point, on one network).
#
# ## References
# * J. Sohl-Dickstein, E. Weiss, N. Maheswaranathan, S. Ganguli. *Deep unsupervised learning
#   using nonequilibrium thermodynamics.* ICML 2015.
# * Y. Song, S. Ermon. *Generative modeling by estimating gradients of the data distribution.*
#   NeurIPS 2019 (annealed Langevin dynamics, noise-conditional scores).
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
# * M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter. *GANs trained by a
#   two time-scale update rule converge to a local Nash equilibrium.* NeurIPS 2017.
