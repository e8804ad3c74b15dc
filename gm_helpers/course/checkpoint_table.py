"""The checkpoint table of the instructor guide, from gm_helpers/checkpoints/manifest.json.

    python -m gm_helpers.course checkpoint-table            # print it
    python -m gm_helpers.course checkpoint-table --write    # put it into docs/instructors.md

tests/test_repo.py fails when the guide's table and the manifest disagree.
"""
import math

from gm_helpers.training.checkpoint import shipped_manifest

# file -> (what it is, filled in from the entry's config; the paper's number; the target): the
# papers' tables on statically binarized MNIST (NADE, MADE, PixelRNN, IWAE App. D)
DESCRIPTIONS = {
    "fvsbn.pt": ("FVSBN, logistic autoregression", "97.45", "≈ 97.5"),
    "nade.pt": ("NADE, {H} hidden units", "88.86 / 88.33", "≤ 88.9"),
    "made_1mask.pt": ("MADE, 1 hidden layer of {hidden[0]}, 1 mask", "88.40", "≤ 88.4"),
    "made_2x500_1mask.pt": ("MADE, 2 hidden layers of {hidden[0]}, 1 mask", "89.59",
                            "above the mask ensemble"),
    "made_8masks.pt": ("MADE, 2 hidden layers of {hidden[0]}, {num_masks}-mask ensemble",
                       "86.64 (32 masks)", "≤ 86.6; below 1 mask"),
    "pixelcnn.pt": ("PixelCNN, {hidden} channels, {num_layers} residual blocks", "81.30", "≤ 81.3"),
    "gated_pixelcnn.pt": ("Gated PixelCNN, {hidden} channels, {num_layers} layers", "—",
                          "≤ 79.2, below PixelCNN"),
    "colour_pixelcnn.pt": ("colour PixelCNN, R → G → B with {levels} levels each, {hidden} channels per "
                           "colour, {num_layers} blocks; colour digits (2,352 dimensions)", "—", "—"),
    "grayscale_softmax.pt": ("PixelCNN, {hidden} channels, {num_layers} blocks, a {levels}-way softmax "
                             "per pixel; grayscale digits (8,000 training images of the MNIST test "
                             "set)", "—", "—"),
    "grayscale_mixture.pt": ("PixelCNN, {hidden} channels, {num_layers} blocks, PixelCNN++'s mixture of "
                             "{num_mixtures} logistics per pixel; grayscale digits, the same split",
                             "—", "below the softmax"),
    "row_lstm.pt": ("Row LSTM, h = {hidden}, {num_layers} layers", "80.54", "≤ 80.5"),
    "diagonal_bilstm.pt": ("Diagonal BiLSTM, h = {hidden}, {num_layers} layers", "79.20", "≤ 79.2"),
    "vae.pt": ("VAE 784-200-200-{latent} (IWAE App. D), k = 1", "88.71", "≤ 88.7"),
    "iwae.pt": ("IWAE 784-200-200-{latent} (IWAE App. D), k = 5", "87.63", "≤ 87.6 (stretch)"),
    "vae_2d.pt": ("VAE with a {latent}-d latent (lecture 5's map)", "—", "—"),
    "vae_beta0.25.pt": ("β-VAE, β = {beta}, latent {latent}", "—", "—"),
    "vae_beta1.pt": ("β-VAE, β = {beta}, latent {latent} (same recipe as the other β)", "—", "—"),
    "vae_beta4.pt": ("β-VAE, β = {beta}, latent {latent}", "—", "—"),
    "vae_beta16.pt": ("β-VAE, β = {beta}, latent {latent}", "—", "—"),
    "autoencoder.pt": ("autoencoder 784-200-200-{latent}, squared error", "—", "—"),
    "iaf_vae_0.pt": ("vae.pt's frozen decoder, its diagonal Gaussian encoder re-trained "
                     "({flow_steps} IAF steps): the baseline of the next row", "—", "—"),
    "iaf_vae_2.pt": ("vae.pt's frozen decoder, the encoder re-trained with {flow_steps} IAF steps "
                     "(Kingma et al. 2016)", "—", "—"),
    "flow2d_ring.pt": ("rational-quadratic spline flow, {num_layers} layers of {bins} bins; 2-d "
                       "ring of 8 Gaussians (lecture 6's)", "—", "—"),
    "flow2d_grid.pt": ("rational-quadratic spline flow, {num_layers} layers of {bins} bins; 2-d "
                       "grid of 25 Gaussians (lecture 6's)", "—", "—"),
    "digit_flow.pt": ("MAF of {num_layers} MADE layers (1 hidden layer of {hidden[0]}), {dequantizer} "
                      "dequantization ({deq_layers} conditional coupling layers of {deq_hidden[0]}): a "
                      "bound on the discrete NLL", "—", "< 97.8 (FVSBN), then towards the VAE's 90.6"),
    "ddpm2d_ring.pt": ("DDPM, MLP noise predictor {hidden}, T = {T}, {schedule} schedule, points / "
                       "{scale}; 2-d ring of 8 Gaussians (lecture 6's)", "—",
                       "8/8 modes, ≥ 95 % high quality"),
    "ddpm2d_grid.pt": ("DDPM, MLP noise predictor {hidden}, T = {T}, {schedule} schedule, points / "
                       "{scale}; 2-d grid of 25 Gaussians (lecture 6's)", "—",
                       "25/25 modes, ≥ 95 % high quality"),
    "masked_diffusion.pt": ("masked (absorbing-state) diffusion: an any-order autoregressive model, U-Net "
                            "of widths {widths}, no time input: a bound on the NLL", "—",
                            "< 97.8 (FVSBN), then < 91.1 (NADE, as shipped when the target was set)"),
}
# lecture 06: no likelihood; scored by the digit classifier (gm_helpers.digits)
OTHER = {
    "digit_classifier.pt": "digit classifier (CNN, width {width}) trained on 8,000 labelled test digits",
    "dcgan.pt": "DCGAN generator, latent {latent}, width {width}",
    "gated_pixelcnn_samples.pt": "1,000 samples of gated_pixelcnn.pt (the cached sampler: the plain "
                                 "sampler's images), bit-packed",
    "digit_flow_samples.pt": "1,000 samples of digit_flow.pt, bit-packed",
    "ddpm.pt": "DDPM on binarized digits (±1), U-Net of widths {widths}, T = {T}, {schedule} schedule, "
               "trained on the simple loss; its weights: their moving average (decay 0.999)",
    "ddpm_samples.pt": "10,000 samples of ddpm.pt in 50 strided steps with fresh noise (eta = 1), "
                       "bit-packed",
    "masked_diffusion_samples.pt": "100 samples of masked_diffusion.pt drawn one pixel per round "
                                   "(784 rounds: exact, in a random ordering), bit-packed",
}
DEFAULTS = {"latent": 50, "beta": 1, "k": 1,  # the VAE's defaults, for configs that omit them
            "widths": [32, 64],        # the U-Net's (masked diffusion, the digit DDPM)
            "T": 1000, "schedule": "linear"}   # the digit DDPM's
BEGIN = "<!-- checkpoint table: python -m gm_helpers.course checkpoint-table -->"
END = "<!-- end of checkpoint table -->"


def eval_samples(entry: dict) -> int:
    """The importance samples behind a latent-variable model's test NLL: the entry's
    ``eval_samples`` (a float16 export measured with more), else the training command's
    --eval-samples, default 5000."""
    if "eval_samples" in entry:
        return int(entry["eval_samples"])
    argv = entry["command"].split()
    return int(argv[argv.index("--eval-samples") + 1]) if "--eval-samples" in argv else 5000


def flow2d_cell(entry: dict) -> str:
    """A 2-d flow: its test NLL against the data's entropy (the floor), and every seed's gap."""
    gaps = [row["gap"] for row in entry["seeds"]]
    fewest, modes = min(row["modes"] for row in entry["seeds"]), entry["seeds"][0]["num_modes"]
    found = f"all {modes} modes in each" if fewest == modes else f"at least {fewest} of {modes} modes"
    return (f"**{entry['test_nll']:.3f}**, {entry['test_nll'] - entry['entropy']:.3f} above the "
            f"data's entropy {entry['entropy']:.3f} (seed {entry['seed']}; {len(gaps)} seeds: "
            f"{min(gaps):.3f}–{max(gaps):.3f} above it, {found})")


def ddpm2d_cell(entry: dict) -> str:
    """A 2-d DDPM: its negative ELBO against the data's entropy, and the seeds' mode table."""
    seeds = entry["seeds"]
    quality = [row["high_quality"] for row in seeds]
    fewest, modes = min(row["modes"] for row in seeds), seeds[0]["num_modes"]
    found = f"all {modes} modes in each" if fewest == modes else f"at least {fewest} of {modes} modes"
    return (f"−ELBO **{entry['test_loss']:.3f}**, {entry['test_loss'] - entry['entropy']:.3f} above the "
            f"data's entropy {entry['entropy']:.3f} (seed {entry['seed']}); {len(seeds)} seeds: {found}, "
            f"{sum(quality) / len(quality):.1%} high-quality samples on average")


def nll_cell(entry: dict) -> str:
    """Likelihood models: the exact test NLL. Latent-variable models: the importance-sampled
    estimate and the -ELBO. The autoencoder has no likelihood: its squared error. A 2-d flow:
    ``flow2d_cell``."""
    if entry["model"] == "spline_flow":
        return flow2d_cell(entry)
    if entry["model"] == "ddpm_2d":
        return ddpm2d_cell(entry)
    if entry["model"] == "masked_diffusion":   # test_nll: the bound, 16 stratified draws of m
        return (f"**{entry['test_nll']:.2f}** ({entry['test_nll'] / (784 * math.log(2)):.3f} bits/dim; "
                f"bound, {eval_samples(entry)} stratified draws of the masked count per digit)")
    if "test_nll" not in entry:
        return f"— (squared error {entry['test_loss']:.2f} per image)"
    dims = 784 * (3 if entry.get("data") == "colour" else 1)  # pixels x channels
    cell = f"**{entry['test_nll']:.2f}** ({entry['test_nll'] / (dims * math.log(2)):.3f} bits/dim)"
    if entry["model"] == "digit_flow":   # dequantized: both numbers are upper bounds
        return (f"**{entry['test_nll']:.2f}** ({entry['test_nll'] / (dims * math.log(2)):.3f} bits/dim; "
                f"importance-weighted bound, k = {eval_samples(entry)}; one-sample bound "
                f"{entry['test_loss']:.2f})")
    if "test_loss" in entry:
        config = {**DEFAULTS, **entry["config"]}
        bound = (f"−L_{config['k']}" if config["k"] > 1 else "−ELBO" if config["beta"] == 1
                 else "training loss −(E log p(x|z) − β KL)")
        cell += f" (IS, k = {eval_samples(entry)}; {bound} {entry['test_loss']:.2f})"
    return cell


def other_cell(entry: dict) -> str:
    if entry["model"] == "digit_classifier":
        return (f"held-out accuracy {entry['held_out_accuracy']:.1%}; Fréchet distance real vs "
                f"real (10,000 train vs 10,000 valid) {entry['frechet_real_vs_real']:.2f}")
    if entry["model"] == "ddpm":
        return ("simple loss (squared error of the predicted noise) on the test digits "
                f"{entry['test_loss']:.2f}")
    if entry["model"] == "dcgan":
        low = min(entry["class_fractions"])
        return (f"Fréchet distance {entry['frechet']:.2f} (10,000 samples vs valid); every digit "
                f"class present, the rarest {low:.1%}")
    return f"{entry['num']:,} samples, seed {entry['seed']}"


def table() -> str:
    manifest = shipped_manifest()
    likelihood = {n: e for n, e in manifest.items() if n not in OTHER}
    rows = ["| checkpoint | model | test NLL (nats) | paper | target | epochs | wall time | hardware |",
            "|---|---|---|---|---|---|---|---|"]
    for name, entry in sorted(likelihood.items(), key=lambda kv: list(DESCRIPTIONS).index(kv[0])):
        what, paper, target = DESCRIPTIONS[name]
        what = what.format(**{**DEFAULTS, **entry["config"]})
        if "--limit" in entry["command"]:
            what += ", " + entry["command"].split("--limit ")[1].split()[0] + " training images"
        if entry.get("weights") == "float16":
            what += "; weights stored in float16"
        length = entry["epochs"] if "epochs" in entry else f"{entry['steps']:,} steps"
        rows.append(f"| `{name}` | {what} | {nll_cell(entry)} | {paper} | {target} | "
                    f"{length} | {entry['wall_time_s'] / 60:.0f} min | {entry['hardware']} |")
    rows += ["", "| file | what | measured | epochs | wall time | hardware |", "|---|---|---|---|---|---|"]
    for name in (n for n in OTHER if n in manifest):
        entry = manifest[name]
        rows.append(f"| `{name}` | {OTHER[name].format(**{**DEFAULTS, **entry.get('config', {})})} | "
                    f"{other_cell(entry)} | {entry.get('epochs', '—')} | "
                    f"{entry['wall_time_s'] / 60:.0f} min | {entry['hardware']} |")
    return "\n".join(rows)


def block() -> str:
    """The table between its markers, as docs/instructors.md holds it."""
    return "\n".join([BEGIN, "", table(), "", END])
