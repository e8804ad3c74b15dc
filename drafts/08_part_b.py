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
# dequantization), so the digit DDPM is judged here by its **samples**; the likelihood of
# diffusion on binary digits comes in section 6, from a diffusion built for discrete data. It
# trained on $L_\text{simple}$ alone, one random $t$ per digit ("About these numbers" gives the
# command); the learning curve is that loss per epoch on the training and validation digits:

# %% mystnb={"figure": {"caption": "The digit DDPM's learning curves: the simple loss (the mean squared error of the predicted noise, summed over the 784 pixels) on the training digits and on the validation digits, per epoch.", "name": "fig-08-ddpm-curves"}, "image": {"alt": "A line plot titled ddpm.pt with two curves, training and validation loss against epoch, both falling steeply over the first epochs and then flattening, close to each other."}}
plot_checkpoint_curves(["ddpm.pt"], manifest, ncols=1, size=(4.5, 3))
plt.show()

# %% [markdown]
# ### The reverse process, on digits
#
# Sixteen digits drawn from noise with 50 deterministic (DDIM) steps, section 5's sampler: the
# first panel is $x_T$, pure noise; each later panel shows $x_t$ after a tenth of the steps.
# Most of the way through, the images are still noise to the eye, with the digits emerging
# only in the last fifth of the steps — the schedule of section 3 at work: $\bar\alpha_t$
# stays near zero for most of the chain, so the late steps carry the detail.

# %% mystnb={"figure": {"caption": "Sixteen digits emerging from noise over 50 DDIM steps of the shipped DDPM: x_T (pure noise), then x_t after every fifth step, and the binary samples (right).", "name": "fig-08-digit-reverse"}, "image": {"alt": "A strip of seven 4 by 4 grids of 28 by 28 images. The first five are grey speckled noise, the sixth shows faint blurred digit shapes, and the last shows sixteen crisp white-on-black digits."}}
digit_models = {"digits": ddpm}
frames = [0, 10, 20, 30, 40, 45, 50]
strip = [reverse_result(digit_models, "digits", 50, k) for k in frames]
draw_reverse_strip(strip)
plt.show()

# %% [markdown]
# ### Ten thousand samples: the label histogram and the Fréchet distance
#
# Lecture 6 judged the DCGAN by two numbers: the **label histogram** of its samples (a mode
# collapse shows as a class the generator rarely draws; the DCGAN drew zeros 2.7 % of the time)
# and the **Fréchet distance** between the classifier's logits on samples and on the
# validation digits. Ten thousand DDPM samples would take tens of minutes to draw here, so they
# ship with the course: 10,000 digits drawn with 50 DDIM steps by
# `python -m gm_helpers.train samples` (the command is in "About these numbers"), and so do
# 1,000 samples of lecture 7's flow (a MAF samples in 785 passes per layer). The table is
# lecture 6's, with the same reference digits, the same classifier and the same sample sizes,
# extended by the flow of lecture 7 and the DDPM.

# %%
classifier, classifier_entry = load_shipped("digit_classifier.pt")
x_valid = load_binarized_mnist("valid")                       # (10000, 1, 28, 28): the reference
x_train = load_binarized_mnist("train")[:10_000].clone()      # the real-vs-real baseline
G_dcgan, _ = load_shipped("dcgan.pt")
vae, _ = load_shipped("vae.pt")
torch.manual_seed(0)
with torch.no_grad():
    samples_vae = vae.sample(10_000).view(-1, 1, 28, 28)      # Bernoulli draws, as in lecture 6
samples_ddpm = load_shipped_samples("ddpm_samples.pt")       # (10000, 1, 28, 28), 50 DDIM steps
candidates = {"real (training digits)": x_train,
              "DCGAN (lecture 6)": G_dcgan.sample_binary(10_000, seed=0),
              "VAE (lecture 5)": samples_vae,
              "Gated PixelCNN (lecture 4)": load_shipped_samples("gated_pixelcnn_samples.pt"),
              "MAF flow (lecture 7)": load_shipped_samples("digit_flow_samples.pt"),  # (1000, 1, 28, 28)
              "DDPM, 50 DDIM steps (here)": samples_ddpm}
reference = feature_statistics(logits(classifier, x_valid))   # mean (10,), cov (10, 10)
fd = {name: {n: frechet_distance(*feature_statistics(logits(classifier, x[:n])), *reference)
             for n in (1000, 10_000) if len(x) >= n}
      for name, x in candidates.items()}
print(f"{'samples':28} {'FD, 1,000':>10} {'FD, 10,000':>11} {'rarest class':>13}")
fractions = {}
for name, x in candidates.items():
    fractions[name] = class_fractions(classifier, x)          # 10 fractions, summing to 1
    rarest = min(range(10), key=lambda c: fractions[name][c])
    big = f"{fd[name][10_000]:11.2f}" if 10_000 in fd[name] else f"{'—':>11}"
    print(f"{name:28} {fd[name][1000]:10.2f} {big} "
          f"{rarest:>6}: {100 * fractions[name][rarest]:4.1f} %")

# %% mystnb={"figure": {"caption": "Left: 100 of the DDPM's 10,000 shipped samples. Right: the share of each digit class among the 10,000 samples (as the course's classifier labels them) against the validation digits' and the DCGAN's.", "name": "fig-08-ddpm-samples"}, "image": {"alt": "Left: a 10 by 10 grid of white-on-black binary digits, nearly all clearly readable. Right: a bar chart of ten classes with three bars each (validation digits, DCGAN, DDPM); the DDPM's bars stay close to the validation digits' ten per cent, while the DCGAN's zero bar is far shorter and its nine bar far taller."}}
fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.3]})
show_images(samples_ddpm[:100], nrow=10, ax=ax_img, title="100 DDPM samples (50 DDIM steps)")
width = 0.27
valid_fractions = class_fractions(classifier, x_valid)
for i, (label, values) in enumerate([("validation digits", valid_fractions),
                                     ("DCGAN", fractions["DCGAN (lecture 6)"]),
                                     ("DDPM", fractions["DDPM, 50 DDIM steps (here)"])]):
    ax_bar.bar(np.arange(10) + (i - 1) * width, [100 * v for v in values], width, label=label)
ax_bar.axhline(5, color="k", lw=0.8, ls="--")
ax_bar.set(xticks=range(10), xlabel="class (the classifier's label)", ylabel="% of samples",
           title="label histogram of 10,000 samples")
ax_bar.legend()
fig.tight_layout()
plt.show()
ddpm_fractions = fractions["DDPM, 50 DDIM steps (here)"]

# %% jupyter={"source_hidden": true} tags=["claim-08-digits-frechet", "hide-input"]
assert abs(fd["real (training digits)"][10_000] - classifier_entry["frechet_real_vs_real"]) < 1e-3
assert min(ddpm_fractions) >= 0.05                                   # every class >= 5 %
assert min(fractions["DCGAN (lecture 6)"]) < 0.05                     # the DCGAN misses zeros
assert fd["DDPM, 50 DDIM steps (here)"][10_000] < fd["VAE (lecture 5)"][10_000] < fd["DCGAN (lecture 6)"][10_000]
assert all(fd["DDPM, 50 DDIM steps (here)"][1000] < fd[name][1000] for name in candidates
           if name not in ("real (training digits)", "DDPM, 50 DDIM steps (here)"))

# %% [markdown]
# PLACEHOLDER-4: what the table shows.

# %% [markdown]
# ## 5. The price of sampling: steps against quality and cost
#
# A DDPM trained with $T = 1000$ samples ancestrally in 1000 network passes, one per step:
# more than the PixelCNN's 784. The **DDIM** sampler (Song et al. 2021) uses the same network
# and skips steps. At step $t$ it forms the network's guess of the clean image,
#
# $$\hat x_0 = \frac{x_t - \sqrt{1 - \bar\alpha_t}\,\hat\varepsilon_\theta(x_t, t)}{\sqrt{\bar\alpha_t}},$$
#
# and jumps straight to an earlier step $s < t$ by putting that guess and the same noise
# direction back at the noise level of $s$, with no fresh noise:
#
# $$x_s = \sqrt{\bar\alpha_s}\,\hat x_0 + \sqrt{1 - \bar\alpha_s}\,\hat\varepsilon_\theta(x_t, t).$$
#
# Both quantities are the forward marginal of section 3 read backwards, so the sampler needs no
# retraining; for binary digits the guess $\hat x_0$ is clipped to $[-1, 1]$, where the data
# lie. The package's step:

# %%
print(inspect.getsource(DDPM.ddim_step))

# %% [markdown]
# How many steps are enough? For each step count the table below draws the same number of
# digits with one seed and scores them as in section 4 (the Fréchet distance at this sample
# size, beside its real-vs-real floor at the same size), with the CPU time per digit. It takes
# an hour or so of CPU time, so it ships as a table, made by
# `python -m gm_helpers.train diffusion_steps` (command below).

# %%
steps_table = json.loads((CHECKPOINT_DIR / "ddpm_steps.json").read_text())
print(f"{steps_table['num']:,} digits per row, seed {steps_table['seed']}; "
      f"real-vs-real at this size: {steps_table['frechet_real_vs_real']:.2f}")
print(f"{'sampler':26} {'passes':>7} {'CPU s / digit':>14} {'Fréchet':>8} {'rarest class':>13}")
for row in steps_table["rows"]:
    ancestral = row["steps"] >= ddpm.T
    name = f"ancestral, {ddpm.T} steps" if ancestral else f"DDIM, {row['steps']} steps"
    rarest = min(row["class_fractions"])
    print(f"{name:26} {row['steps']:7d} {row['cpu_seconds_per_digit']:14.3f} "
          f"{row['frechet']:8.2f} {100 * rarest:12.1f} %")
print("\ncommand:", steps_table["command"])
steps_fd = {row["steps"]: row["frechet"] for row in steps_table["rows"]}

# %% [markdown]
# PLACEHOLDER-5a: what the steps table shows.
#
# **Against the PixelCNN.** Counting network passes hides how expensive each pass is. The
# cell below measures one pass of each network on a batch of 100 digits (CPU time, one thread,
# fp32, the fastest of three; the course's timing method) and multiplies by the passes a
# sample needs: 784 for the gated PixelCNN of lecture 4, the step count for the DDPM.

# %%
gated, _ = load_shipped("gated_pixelcnn.pt")
x_batch = x_valid[:100]
t_batch = torch.full((100,), 500, dtype=torch.long)
with one_thread(), torch.no_grad():
    pass_seconds = {"Gated PixelCNN": cpu_time(lambda: gated(x_batch)) / 100,
                    "DDPM U-Net": cpu_time(lambda: ddpm.eps_hat(2 * x_batch - 1, t_batch)) / 100}
per_digit = {"Gated PixelCNN, 784 passes": 784 * pass_seconds["Gated PixelCNN"]}
for steps in (1000, 50, 10):
    per_digit[f"DDPM, {steps} passes"] = steps * pass_seconds["DDPM U-Net"]
for name, seconds in pass_seconds.items():
    print(f"one pass of the {name}: {1000 * seconds:.2f} ms per digit")
for name, seconds in per_digit.items():
    print(f"{name:28} {seconds:7.3f} CPU s per digit")

# %% jupyter={"source_hidden": true} tags=["claim-08-sampling-cost", "hide-input"]
assert [row["steps"] for row in steps_table["rows"]] == sorted(r["steps"] for r in steps_table["rows"])
assert steps_fd[min(steps_fd)] > steps_fd[50]                       # too few steps cost quality
assert pass_seconds["DDPM U-Net"] > pass_seconds["Gated PixelCNN"]   # a bigger network per pass

# %% [markdown]
# PLACEHOLDER-5b: the cost comparison.

# %% [markdown]
# ## 6. Masked diffusion: a diffusion model with a likelihood on binary digits
#
# Gaussian noise suits continuous data. For discrete data there is a simpler corruption: replace
# pixels by a special **mask** symbol. In the forward process of **masked** (absorbing-state)
# diffusion (Austin et al. 2021), each pixel is masked independently with a probability that
# rises from 0 to 1; once masked it stays masked, and at the end every pixel is. The reverse
# process **unmasks**: given the visible pixels, a network gives each masked pixel a Bernoulli
# probability, and some of them are revealed. The network is lecture 4's PixelCNN turned
# inside out: not "every pixel given the ones above it", but "every masked pixel given whatever
# is visible", for any pattern of visible pixels.
#
# Look at the reverse process one pixel at a time. Starting from all masked, revealing the
# pixels in some order $\sigma$ and drawing each from the network given the ones revealed
# before it is exactly sampling from an **autoregressive model in the ordering $\sigma$**
# (lecture 2's chain rule). Hoogeboom et al. (2022) showed that the diffusion's ELBO is the NLL of
# that autoregressive model, averaged over a uniformly random ordering — the objective of
# lecture 3's **order-agnostic** NADE and MADE:
#
# $$-\log p(x) \;\le\; \mathbb E_{\sigma}\big[-\log p_\sigma(x)\big]
#   = \mathbb E_\sigma \sum_{i=1}^{D} -\log p\big(x_{\sigma(i)} \mid x_{\sigma(<i)}\big)
#   = D\; \mathbb E_{m \sim \mathcal U\{1..D\}}\; \frac{1}{m}\; \mathbb E_{|M| = m}
#     \sum_{d \in M} -\log p\big(x_d \mid x_{\setminus M}\big).$$
#
# The first inequality is Jensen's ($p(x) = \mathbb E_\sigma\, p_\sigma(x)$: the model is a mixture of
# $D!$ autoregressive models). The last form is what a training step computes: pick how many
# pixels are still masked, $m$, mask a random set $M$ of that size, predict them all in one
# pass, and weight their summed NLL by $D/m$ (in a random ordering, the pixels still masked
# when $m$ remain are a uniformly random $m$-subset, and one of the $m$ is next). Every
# training step is one network pass, for every ordering at once:

# %%
masked_model, masked_entry = load_shipped("masked_diffusion.pt")
print(inspect.getsource(MaskedDiffusion.bound_terms))
print(inspect.getsource(MaskedDiffusion.nll_bound))
print(f"network: the same U-Net without the time input, 2 input channels (the visible pixels "
      f"as ±1, and the mask); {masked_model.num_params():,} parameters")

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
# ### Its bound beside every model of the course
#
# The shipped model's bound on the full test set, estimated with 16 stratified draws of $m$
# per digit (the estimate is unbiased for the bound; "About these numbers"), in the course's
# table. Every autoregressive number is an exact NLL, the VAE's an importance-sampled
# estimate, the flow's an importance-weighted bound; the masked model's is a **bound**, so its
# true NLL is at most this.

# %% mystnb={"figure": {"caption": "The masked diffusion model's learning curves: the one-draw bound per epoch on the training digits and the stratified bound on the validation digits, in nats.", "name": "fig-08-masked-curves"}, "image": {"alt": "A line plot titled masked_diffusion.pt with the training and validation bound against epoch, both falling from above 90 nats and flattening in the mid 80s."}}
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
with torch.no_grad():   # the shipped number, re-estimated on 200 test digits with other draws
    recheck = masked_model.nll_bound(x_test[:200], 16, generator=torch.Generator().manual_seed(1)).mean().item()
assert abs(recheck - masked_nll) < 3

# %% [markdown]
# PLACEHOLDER-6a: what the NLL table shows.
#
# ### The ordering matters: one network, many autoregressive models
#
# Lecture 2 showed, on a small table of binary variables, that the chain rule holds in any
# ordering but that a *model* of limited capacity fits some orderings better than others. The
# masked diffusion network holds an autoregressive model for every ordering, so the question
# can be put to one network: fix an ordering $\sigma$ and compute
# $-\log p_\sigma(x) = \sum_i -\log p(x_{\sigma(i)} \mid x_{\sigma(<i)})$ exactly, with 784
# passes per digit. The table below does it for row by row (lecture 4's raster order), column
# by column, from the centre outwards, from the border inwards and two random orderings, on
# the first test digits, beside the bound (the average over all orderings) on the same digits.
# It takes minutes, so it ships as a table (`python -m gm_helpers.train masked_orders`).

# %%
orders = json.loads((CHECKPOINT_DIR / "masked_orders.json").read_text())
print(f"the first {orders['num']} test digits; exact NLL along one ordering (784 passes each)")
print(f"{'ordering':24} {'NLL (nats)':>10}")
for row in orders["rows"]:
    print(f"{row['order']:24} {row['nll']:10.2f}")
print(f"{'bound (all orderings)':24} {orders['bound']:10.2f}   ({orders['bound_draws']} draws of m per digit)")
order_nll = {row["order"]: row["nll"] for row in orders["rows"]}
print("\ncommand:", orders["command"])

# %% [markdown]
# A single ordering's number is cheap to check on one digit here (784 passes, about a second):

# %%
with torch.no_grad():
    one = {name: masked_model.order_nll(x_test[:1], order).item()
           for name, order in named_orders(num_random=0).items() if name.startswith(("raster", "border"))}
for name, value in one.items():
    print(f"test digit 0, {name:20}: {value:7.2f} nats")

# %% jupyter={"source_hidden": true} tags=["claim-08-orderings", "hide-input"]
assert max(order_nll.values()) - min(order_nll.values()) > 1          # the ordering matters
assert min(order_nll.values()) < orders["bound"] + 1                  # ... some near or below the mean

# %% [markdown]
# PLACEHOLDER-6b: what the orderings table shows.
#
# ### Sampling: one pixel per step, or many
#
# Unmasking one pixel per step is exact autoregressive sampling in a random ordering: 784
# passes, like the PixelCNN. Unmasking several pixels per step draws them **independently**
# given the visible ones, an approximation that is cheaper and, when too many pixels are drawn
# at once, visibly wrong: pixels that belong together are drawn as if they did not know about
# each other.

# %% mystnb={"figure": {"caption": "Sixteen samples of the masked diffusion model for each number of unmasking rounds: 784 (one pixel per round: exact sampling in a random ordering), 100, 20 and 5.", "name": "fig-08-masked-samples"}, "image": {"alt": "Four 4 by 4 grids of binary digits. With 784 and 100 rounds most are readable digits; with 20 rounds strokes are broken and speckled; with 5 rounds the images are scattered speckles with only faint digit shapes."}}
fig, axes = plt.subplots(1, 4, figsize=(11, 3.2))
for ax, rounds in zip(axes, (784, 100, 20, 5)):
    with torch.no_grad():
        x = masked_model.sample(16, steps=rounds, generator=torch.Generator().manual_seed(0))
    show_images(x.view(-1, 1, 28, 28), nrow=4, ax=ax, title=f"{rounds} rounds")
plt.show()

# %% [markdown]
# ## 7. Explore: the reverse process
#
# The explorer below runs a shipped DDPM backwards: choose the model (the ring and grid of
# section 3, or the digits), the number of sampling steps (1000: all $T$ ancestral steps,
# otherwise DDIM; the digits take at most 100), and scrub the frame slider from pure noise to
# the samples. Things to try: on the ring, watch when the points split into 8 groups; on the
# grid, compare 10 DDIM steps with 1000 ancestral ones; on the digits, find the frame where
# you can first name the digits. The static figure shows the explorer's first view: the ring,
# 50 DDIM steps, halfway.

# %% mystnb={"figure": {"caption": "The explorer's first view: 2,000 points of the ring DDPM halfway through 50 DDIM steps.", "name": "fig-08-reverse-state"}, "image": {"alt": "A square scatter plot of orange points titled ring, 50 DDIM steps: 25/50 of the way; the points form a diffuse cloud whose density is already higher in a ring than at the centre."}}
explorer_models = {"ring": ddpm2d["ring"], "grid": ddpm2d["grid"], "digits": ddpm}
fig = draw_reverse(reverse_result(explorer_models, "ring", 50, 25))
plt.show()

# %% mystnb={"figure": {"caption": "The reverse-process explorer: a model menu (ring, grid, digits), a steps menu and a frame slider from pure noise to the samples.", "name": "fig-08-reverse-explorer"}, "image": {"alt": "The same picture as the static figure above, under a row of controls: a model menu, a steps menu and a frame slider."}} tags=["nbval-ignore-output"]
reverse_explorer(explorer_models, "ring", steps=50)
