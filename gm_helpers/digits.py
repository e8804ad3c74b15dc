r"""Scoring samples of digits without Inception weights: a digit classifier trained here.

A GAN has no likelihood to report, so its samples are scored by a classifier's eyes:

* **label histogram**: the classifier's label for each of 10,000 samples. A model that covers
  every mode of p_data puts about 10 % in each class; mode collapse shows as missing classes.
* **Frechet distance** (FID, Heusel et al. 2017, arXiv:1706.08500) between Gaussians fitted to
  the classifier's 10 logits on samples and on real digits (TF-GAN's ``mnist_frechet_distance``
  uses the logits the same way):

      FD = ||mu_s - mu_r||^2 + tr(C_s + C_r - 2 (C_s C_r)^{1/2})

  Lower is better; 0 only for identical feature statistics. A number is comparable only under
  the same classifier, so every score comes with a real-vs-real baseline: 10,000 training
  digits against the 10,000 validation digits.

The classifier is trained on the one labelled binarized split, the test split (it is MNIST's test
set sorted by label): 8,000 images to train on, 2,000 held out to measure its accuracy. The
models are scored against the *validation* digits, which the classifier never saw.

    python -m gm_helpers.train digit_classifier --out gm_helpers/checkpoints/digit_classifier.pt
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import time

import numpy as np
import torch
import torch.nn as nn

from gm_helpers.checks import MAX_SAMPLES, arg_int, check_output_path, check_size
import torch.nn.functional as F
from tqdm.auto import tqdm

from gm_helpers.checkpoint import (CHECKPOINT_DIR, atomic_save, hardware, load_checkpoint,
                                   load_shipped, record_in_manifest, save_checkpoint,
                                   sha256_file, shipped_manifest)
from gm_helpers.gan import feature_statistics, frechet_distance


class DigitClassifier(nn.Module):
    """x (B, 1, 28, 28) -> logits (B, 10): two conv-pool blocks and two linear layers."""

    def __init__(self, width: int = 32):
        super().__init__()
        width = check_size("width", width)
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, 2w, 7, 7)
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * width * 49, 128), nn.ReLU(),
            nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


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


@torch.no_grad()
def logits(model, x, batch_size: int = 1000) -> torch.Tensor:
    """The classifier's 10 logits for images (N, 1, 28, 28): (N, 10), fp32, eval mode."""
    if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"images must be (N, 1, 28, 28), got {tuple(x.shape)}")
    model.eval()
    return torch.cat([model(chunk.float()) for chunk in x.split(batch_size)])


def accuracy(model, x, y) -> float:
    return (logits(model, x).argmax(1) == y).float().mean().item()


def class_fractions(model, x) -> list:
    """Fraction of images the classifier puts in each class 0..9 (the label histogram)."""
    counts = torch.bincount(logits(model, x).argmax(1), minlength=10)
    return (counts / len(x)).tolist()


def frechet_to(model, x, reference) -> float:
    """Frechet distance between the classifier's logits on ``x`` and on ``reference``."""
    return frechet_distance(*feature_statistics(logits(model, x)),
                            *feature_statistics(logits(model, reference)))


def score_samples(model, samples, reference) -> dict:
    """Both scores of ``samples`` (N, 1, 28, 28): Frechet distance to ``reference``, label
    histogram."""
    return {"frechet": frechet_to(model, samples, reference),
            "class_fractions": [round(f, 4) for f in class_fractions(model, samples)]}


def load_classifier(path) -> DigitClassifier:
    return load_checkpoint(path)


def shipped_classifier() -> DigitClassifier:
    return load_shipped("digit_classifier.pt")[0]


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
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    try:
        check_output_path(args.out)   # before any data are loaded or minutes spent
    except ValueError as err:
        p.error(str(err))
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


def samples_main(argv) -> dict:
    """``python -m gm_helpers.train samples --of X.pt --num N``: draw N samples of a shipped
    likelihood model once (an autoregressive model's sampling is 784 passes: minutes) and ship
    them, bit-packed, for lecture 06's sample-quality table."""
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train samples")
    p.add_argument("--of", required=True, help="a shipped checkpoint, e.g. gated_pixelcnn.pt")
    p.add_argument("--num", type=arg_int(1, MAX_SAMPLES), default=1000)
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    try:
        check_output_path(args.out)
    except ValueError as err:
        p.error(str(err))
    torch.set_num_threads(args.threads)
    start = time.time()
    model, _ = load_shipped(args.of)
    g = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        x = model.sample(args.num, generator=g)  # (N, 1, 28, 28) of 0s and 1s
    sha = atomic_save({"of": args.of, "packed": pack_bits(x)}, args.out)
    entry = {"model": "samples", "of": args.of, "num": args.num, "seed": args.seed,
             "command": "python -m gm_helpers.train samples " + shlex.join(argv),
             "hardware": hardware(), "wall_time_s": round(time.time() - start, 1),
             "torch": torch.__version__, "sha256": sha}
    record_in_manifest(args.out, entry)
    print(json.dumps(entry, indent=2))
    return entry


def pack_bits(x: torch.Tensor) -> torch.Tensor:
    """Binary images (N, 1, 28, 28) -> uint8 (N, 98), 8 pixels a byte (as the data file)."""
    return torch.from_numpy(np.packbits(x.view(len(x), -1).byte().numpy(), axis=1))


def unpack_bits(packed: torch.Tensor) -> torch.Tensor:
    bits = np.unpackbits(packed.numpy(), axis=1)[:, :784]
    return torch.from_numpy(bits.astype(np.float32)).view(-1, 1, 28, 28)


def load_shipped_samples(filename: str) -> torch.Tensor:
    """Shipped samples (N, 1, 28, 28), after checking their sha256 against the manifest."""
    entry = shipped_manifest()[filename]
    if sha256_file(CHECKPOINT_DIR / filename) != entry["sha256"]:
        raise ValueError(f"{filename} does not match its sha256; redo: {entry['command']}")
    return unpack_bits(torch.load(CHECKPOINT_DIR / filename, weights_only=True)["packed"])
