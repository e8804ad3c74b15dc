r"""Training the digit classifier whose eyes score generated digits, and its command lines.

The classifier is trained on the one labelled binarized split, the test split (it is MNIST's test
set sorted by label): 8,000 images to train on, 2,000 held out to measure its accuracy. The
models are scored against the *validation* digits, which the classifier never saw (the scores:
``gm_helpers.analysis.sample_quality``).

    python -m gm_helpers.train digit_classifier --out gm_helpers/checkpoints/digit_classifier.pt
    python -m gm_helpers.train samples --of gated_pixelcnn.pt --num 1000 --out ...
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import shlex
import time

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from gm_helpers.analysis.sample_quality import accuracy, frechet_to, logits
from gm_helpers.checks import MAX_SAMPLES, arg_int
from gm_helpers.data import pack_bits
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    CheckpointError,
    hardware,
    load_checkpoint,
    load_shipped,
    read_manifest,
    record_in_manifest,
)
from gm_helpers.training.diffusion_tables import sample_in_chunks
from gm_helpers.training.resume import output_paths
from gm_helpers.training.saving import atomic_save, save_checkpoint


def split_labelled(images, labels, held_out: int = 2000, seed: int = 0):
    """A seeded random split of the labelled digits: (train_x, train_y, test_x, test_y)."""
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    fit_idx, held_idx = order[held_out:], order[:held_out]
    return images[fit_idx], labels[fit_idx], images[held_idx], labels[held_idx]


def train_classifier(model, x, y, num_epochs: int = 15, batch_size: int = 64, lr: float = 1e-3,
                     progress: bool = True, seed: int = 0, valid=None, history=None):
    """Cross-entropy with Adam; each batch is shifted by up to 2 pixels (augmentation).

    ``valid`` = (x_valid, y_valid) and a dict ``history``: after every epoch, append the mean
    training loss, the validation loss (cross-entropy, nats per image) and accuracy, and the
    seconds so far (the learning curves). Evaluation draws no random numbers, so the weights
    are the same with or without it.
    """
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.time()
    for _ in tqdm(range(num_epochs), desc="classifier", disable=not progress):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
            xb = torch.roll(x[idx], shifts=(dy, dx), dims=(2, 3))  # (B, 1, 28, 28)
            loss = F.cross_entropy(model(xb), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        if history is not None:
            history.setdefault("train_loss", []).append(round(total / len(x), 4))
            if valid is not None:
                out = logits(model, valid[0])  # (N, 10), eval mode
                history.setdefault("valid_loss", []).append(
                    round(F.cross_entropy(out, valid[1]).item(), 4))
                history.setdefault("valid_accuracy", []).append(
                    round((out.argmax(1) == valid[1]).float().mean().item(), 4))
            history.setdefault("seconds", []).append(round(time.time() - start, 1))
    model.eval()
    return model


def load_classifier(path) -> DigitClassifier:
    return load_checkpoint(path)


def shipped_classifier() -> DigitClassifier:
    return load_shipped("digit_classifier.pt")[0]


def _check_outputs(p, args) -> None:
    """--out may be written (and does not exist, unless --overwrite) and the manifest beside it
    is valid: checked before any work, as every training command does."""
    args.resume = None
    out, _ = output_paths(p, args)
    try:
        read_manifest(out.parent / "manifest.json")
    except CheckpointError as err:
        p.error(f"{err}; nothing was done")


def main(argv) -> dict:
    """``python -m gm_helpers.train digit_classifier``: train, measure, ship."""
    from gm_helpers.data import binarized_test_labels, load_binarized_mnist
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train digit_classifier")
    p.add_argument("--epochs", type=arg_int(1), default=15)
    p.add_argument("--width", type=arg_int(1), default=32)
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=str(CHECKPOINT_DIR / "digit_classifier.pt"))
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    _check_outputs(p, args)   # before any data are loaded or minutes spent
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    start = time.time()
    x_fit, y_fit, x_held, y_held = split_labelled(load_binarized_mnist("test", args.data_dir),
                                                  binarized_test_labels(), seed=args.seed)
    history = {}  # learning curves: training loss, held-out loss and accuracy per epoch
    model = train_classifier(DigitClassifier(args.width), x_fit, y_fit, args.epochs,
                             progress=not args.no_progress, seed=args.seed,
                             valid=(x_held, y_held), history=history)
    held_out = accuracy(model, x_held, y_held)
    train = load_binarized_mnist("train", args.data_dir)[:10_000]
    valid = load_binarized_mnist("valid", args.data_dir)
    metrics = {"held_out_accuracy": round(held_out, 4),  # 2,000 test digits it never saw
               "frechet_real_vs_real": round(frechet_to(model, train, valid), 4)}
    config = {"width": args.width}
    sha = save_checkpoint(args.out, model, "digit_classifier", config, metrics)
    entry = {"model": "digit_classifier", "config": config, "seed": args.seed,
             "epochs": args.epochs, **metrics,
             "command": "python -m gm_helpers.train digit_classifier " + shlex.join(argv),
             "hardware": hardware(), "wall_time_s": round(time.time() - start, 1),
             "torch": torch.__version__, "sha256": sha, "history": history}
    record_in_manifest(args.out, entry)
    print(json.dumps({k: v for k, v in entry.items() if k != "history"}, indent=2))
    return entry


def _sampler(model, steps: int | None = None, eta: float = 0.0):
    """``(num, seed) -> samples`` for a model that can sample, else None. ``steps``: the number of
    sampling steps, for a sampler that takes them (the diffusion models); ``eta``: a DDPM's
    strided sampler's noise (0: deterministic DDIM)."""
    if hasattr(model, "sample_binary"):   # the DCGAN: rounded (or Bernoulli) binary digits
        return lambda num, seed: model.sample_binary(num, seed=seed)
    parameters = inspect.signature(getattr(model, "sample", lambda: None)).parameters
    if "generator" in parameters:
        extra = {"steps": steps} if steps is not None and "steps" in parameters else {}
        if eta:
            extra["eta"] = eta
        def draw(num, seed):   # in chunks of the model's eval_batch_size, where it has one
            x = sample_in_chunks(model, num, torch.Generator().manual_seed(seed), **extra)
            return x.view(num, 1, 28, 28) if x.dim() == 2 else x   # (N, 784) digits as images
        return draw
    return None


def _cached_sampler(model):
    """``(num, seed) -> samples`` by a (mixture) PixelCNN's or Gated PixelCNN's cached sampler (the plain
    sampler's images for the same seed, all in one batch as the plain sampler draws them);
    None for other models."""
    from gm_helpers.models.pixelcnn import GatedPixelCNN, PixelCNN
    from gm_helpers.models.pixelcnn_cache import sample_cached, sample_cached_gated
    if isinstance(model, GatedPixelCNN):
        fast = sample_cached_gated
    elif isinstance(model, PixelCNN):  # a MixturePixelCNN too: its own heads, the same stack
        fast = sample_cached
    else:
        return None
    return lambda num, seed: fast(model, num, generator=torch.Generator().manual_seed(seed))


def samples_main(argv) -> dict:
    """``python -m gm_helpers.train samples --of X.pt --num N``: draw N samples of a shipped
    likelihood model once (an autoregressive model's sampling is 784 passes: minutes) and ship
    them for lecture 06's sample-quality table: binary images bit-packed, multi-level ones (the
    colour PixelCNN) as bytes. A model that cannot sample (a classifier, the autoencoder) is
    refused before any work."""
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train samples")
    p.add_argument("--of", required=True, help="a shipped checkpoint, e.g. gated_pixelcnn.pt")
    p.add_argument("--num", type=arg_int(1, MAX_SAMPLES), default=1000)
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--steps", type=arg_int(1), help="sampling steps, for a diffusion model "
                   "(DDPM: DDIM in this many steps, or all T ancestral steps if omitted)")
    p.add_argument("--cached", action="store_true", help="a PixelCNN or Gated PixelCNN: draw "
                   "with the cached sampler (the plain sampler's images, tens of times faster)")
    p.add_argument("--eta", type=float, default=0.0, help="a DDPM's strided sampler: 0 is "
                   "deterministic DDIM, 1 draws as much fresh noise as the ancestral sampler")
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--out", required=True)
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    args = p.parse_args(argv)
    _check_outputs(p, args)
    try:
        model, _ = load_shipped(args.of)
    except CheckpointError as err:
        p.error(f"--of: {err}")
    if args.eta and ("eta" not in inspect.signature(getattr(model, "sample", lambda: None)).parameters
                     or args.steps is None):
        p.error(f"--eta is the noise of a DDPM's strided sampler: it needs --steps and a DDPM "
                f"(--of {args.of} is a {type(model).__name__})")
    if not 0 <= args.eta <= 1:
        p.error(f"--eta must be in [0, 1], got {args.eta}")
    draw = _sampler(model, args.steps, args.eta)
    if args.cached:
        draw = _cached_sampler(model)
        if draw is None:
            p.error(f"--cached: a {type(model).__name__} has no cached sampler (the PixelCNN, "
                    f"the mixture PixelCNN and the Gated PixelCNN have)")
    if draw is None:
        p.error(f"--of {args.of}: a {type(model).__name__} cannot sample (it models no "
                f"distribution over images to draw from); choose a generative model")
    torch.set_num_threads(args.threads)
    start = time.time()
    with torch.no_grad():
        x = draw(args.num, args.seed)  # (N, C, H, W): 0s and 1s, or levels 0..L-1
    binary = x.shape[1] == 1 and bool(((x == 0) | (x == 1)).all())
    stored = ({"packed": pack_bits(x)} if binary else   # 8 pixels a byte
              {"samples": x.round().to(torch.uint8), "levels": int(getattr(model, "levels", 256))})
    sha = atomic_save({"of": args.of, **stored}, args.out)
    entry = {"model": "samples", "of": args.of, "num": args.num, "seed": args.seed,
             **({"steps": args.steps} if args.steps is not None else {}),
             **({"eta": args.eta} if args.eta else {}),
             **({"sampler": "cached"} if args.cached else {}),
             "command": "python -m gm_helpers.train samples " + shlex.join(argv),
             "hardware": hardware(), "wall_time_s": round(time.time() - start, 1),
             "torch": torch.__version__, "sha256": sha}
    record_in_manifest(args.out, entry)
    print(json.dumps(entry, indent=2))
    return entry
