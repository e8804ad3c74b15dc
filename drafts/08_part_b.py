# %% [markdown]
# ## 4. Masked diffusion: a diffusion model with a likelihood on binary digits
#
# The course's digits are binary, and its table of models compares them by their NLL in nats. A
# Gaussian diffusion like section 3's can run on binary pixels (as $\pm 1$), but, like lecture
# 7's flow, it then defines a density on a continuous space, not probabilities of binary
# images: its ELBO is not a bound on the discrete NLL without a dequantization step. For
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
# The network is a small **U-Net**: convolutions at two resolutions (28 × 28 with 32 channels,
# 14 × 14 with 64), residual blocks with GroupNorm, and skip connections from each
# downsampling stage to the upsampling stage of the same resolution, so that it can copy the
# visible pixels' detail it must not lose. It needs no time input: the mask itself says how far
# the reverse process has come. Its `forward`, and the two functions of the bound:

# %%
masked_model, masked_entry = load_shipped("masked_diffusion.pt")
print(inspect.getsource(MaskedDiffusion.bound_terms))
print(inspect.getsource(MaskedDiffusion.nll_bound))
print(f"network: a U-Net with 2 input channels (the visible pixels as ±1, 0 where masked; and "
      f"the mask), one Bernoulli logit per pixel out; {masked_model.num_params():,} parameters")
print(inspect.getsource(UNet.forward))

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
assert masked_nll == min(course_nll.values())                         # the table's lowest
assert masked_entry["epochs"] == 3 and masked_entry["wall_time_s"] < 75 * 60
history = masked_entry["history"]                                     # still falling steeply
assert history["valid_nll"][-1] < history["valid_nll"][-2] - 2
with torch.no_grad():   # the shipped number, re-estimated on 100 digits spread over the test set
    recheck = masked_model.nll_bound(x_test[::100], 16, generator=torch.Generator().manual_seed(1))
standard_error = recheck.std().item() / len(recheck) ** 0.5       # the first test digits are harder
assert abs(recheck.mean().item() - masked_nll) < 3 * standard_error

# %% [markdown]
# After three epochs (an hour on one CPU thread), the masked diffusion model's bound is below
# FVSBN's and NADE's exact NLLs, and below every other number in the course's table, the
# Diagonal BiLSTM's included: and its true NLL is lower still, by the bound's gap. The learning
# curve was still falling steeply when the budget ran out. Two cautions before reading this as
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
# ## 5. Explore: the reverse process
#
# The explorer below runs section 3's shipped DDPMs backwards: choose the data (the ring or the
# grid), the number of sampling steps (1000: all $T$ ancestral steps; fewer: section 3's
# deterministic DDIM sampler, which jumps from step $t$ to an earlier step $t'$ along the
# network's guess $\hat x_0$ of the clean point, with no fresh noise), and scrub the frame
# slider from pure
# noise to the samples. Things to try: on the ring, watch when the points split into 8 groups;
# on the grid, compare 10 DDIM steps with 1000 ancestral ones, and find the step count below
# which the samples leave the modes. The static figure shows one frame of it: the ring, 50 DDIM
# steps, halfway through, where the points are still a round cloud.

# %% mystnb={"figure": {"caption": "One frame of the explorer: 2,000 points of the ring DDPM halfway through 50 DDIM steps, still a round cloud; the ring forms in the last steps.", "name": "fig-08-reverse-state"}, "image": {"alt": "A square scatter plot of orange points titled ring, 50 DDIM steps: 25/50 of the way; the points form a round diffuse cloud in the middle of the panel, densest at its centre, with no ring visible yet."}}
explorer_models = {"ring": ddpm2d["ring"], "grid": ddpm2d["grid"]}
fig = draw_reverse(reverse_result(explorer_models, "ring", 50, 25))
plt.show()

# %% mystnb={"figure": {"caption": "The reverse-process explorer: a model menu (ring, grid), a steps menu and a frame slider from pure noise to the samples.", "name": "fig-08-reverse-explorer"}, "image": {"alt": "The same picture as the static figure above, under a row of controls: a model menu, a steps menu and a frame slider."}} tags=["nbval-ignore-output"]
reverse_explorer(explorer_models, "ring", steps=50)
