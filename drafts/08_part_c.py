# %% [markdown]
# > **About these numbers**
# >
# > * **What runs live.** The score models of section 1 train in the notebook, in fp32 on the
# >   CPU, from fixed seeds; their printed numbers vary a little with the CPU's rounding, and the
# >   checks beside them hold on any CPU. Everything else is loaded from files shipped with the
# >   course: the 2-d DDPMs (`ddpm2d_ring.pt`, `ddpm2d_grid.pt`), the masked diffusion model
# >   (`masked_diffusion.pt`) and 100 of its exact samples (`masked_diffusion_samples.pt`), the
# >   table of orderings of section 4 (`masked_orders.json`; its bound uses 64 draws of $m$ per
# >   digit), and earlier lectures' files: lecture 6's `gan_toy_modes.json`, lecture 7's
# >   `flow2d_*.pt` manifest entries, and the digit checkpoints of the NLL table.
# > * **How each file was made.** The manifest (`gm_helpers/checkpoints/manifest.json`)
# >   records each file's command, steps or epochs, wall time, hardware and PyTorch version;
# >   the cell below prints the first four for the files this lecture adds. Each 2-d DDPM
# >   trained for 10,000 steps on one CPU thread, five seeds in a row (the manifest's minutes are
# >   the first seed's). The masked
# >   diffusion model trained on one CPU thread of an AVX2 machine in fp32 (bfloat16 autocast
# >   would have been several times slower there: that CPU has no native bf16), under a
# >   wall-clock budget (`--max-minutes`: training stops after the first epoch that ends past it,
# >   and keeps the epoch with the best validation bound), while a second run shared the 2-core
# >   machine: its minutes are a budget, not a speed measurement, and far from the papers'
# >   (hundreds of epochs on accelerators): the table ranks these checkpoints, not the families.
# > * **This notebook** runs top to bottom in about 95 seconds of CPU time on one core of a
# >   2-core AMD EPYC (no GPU), most of it section 1's live training and section 3's 1,000-step
# >   samplers. Its peak memory was 1.25 to 1.28 GB in three runs and 1.58 GB in a fourth;
# >   about 0.9 GB of it is PyTorch's libraries.

# %%
print(f"{'file':22} {'steps or epochs':>15} {'minutes':>7}  hardware")
for name in ("ddpm2d_ring.pt", "ddpm2d_grid.pt", "masked_diffusion.pt", "masked_diffusion_samples.pt"):
    entry = manifest[name]
    size = (f"{entry['steps']:,} steps" if "steps" in entry and "epochs" not in entry and entry["model"] != "samples"
            else f"{entry['epochs']} epochs" if "epochs" in entry else f"{entry['num']} samples")
    print(f"{name:22} {size:>15} {entry['wall_time_s'] / 60:7.0f}  {entry['hardware']}")
for name in ("ddpm2d_ring.pt", "masked_diffusion.pt", "masked_diffusion_samples.pt"):
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
#   of the clean data, deterministically; the explorer compares it with ancestral sampling.
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
