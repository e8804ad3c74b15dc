# Sections on the digit DDPM (samples, Fréchet table, steps against quality and cost):
# waiting for a digit DDPM trained long enough (issue 23). Numbered 4 and 5; they go before
# masked diffusion when they land.

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

