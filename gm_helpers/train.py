"""The training core every lecture reuses: a plain, visible PyTorch loop.

Models expose ``log_prob(x) -> (B,)`` in nats, so maximum likelihood is one line:

    loss = -model.log_prob(x).mean()          # NLL in nats per image

``fit`` runs it with an optimizer, optional mixed precision on CUDA, gradient clipping, a
``tqdm.auto`` progress bar and an ``on_batch_end`` hook; ``evaluate_nll`` measures the test NLL;
checkpoints hold the model's name and config so ``load_checkpoint`` can rebuild it.

Command line, the one that trains the shipped checkpoints on CPU or GPU::

    python -m gm_helpers.train fvsbn --epochs 30 --out checkpoints/fvsbn.pt
"""
from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import os
import platform
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

# The checkpoints shipped with the lectures, and their manifest (command, NLL, sha256, ...)
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"

# name -> "module:Class". A lecture adds its model here; its config must be plain values.
MODELS = {
    "fvsbn": "gm_helpers.nade:FVSBN",
    "nade": "gm_helpers.nade:NADE",
    "made": "gm_helpers.nade:MADE",
    "pixelcnn": "gm_helpers.pixelcnn:PixelCNN",
    "gated_pixelcnn": "gm_helpers.pixelcnn:GatedPixelCNN",
    "row_lstm": "gm_helpers.pixelrnn:RowLSTM",
    "diagonal_bilstm": "gm_helpers.pixelrnn:DiagonalBiLSTM",
}


def get_device() -> torch.device:
    """The fastest device here: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _batches(data: torch.Tensor, batch_size: int, shuffle: bool, generator=None):
    idx = torch.randperm(len(data), generator=generator) if shuffle else torch.arange(len(data))
    for start in range(0, len(data), batch_size):
        yield data[idx[start:start + batch_size]]


def train_epoch(model, data, optimizer, batch_size=100, device="cpu", amp=False,
                clip_grad=None, progress=True, on_batch_end=None, step=0, desc="train"):
    """One pass over ``data`` (a tensor of examples); returns (mean training NLL, next step)."""
    device = torch.device(device)
    model.train()
    total, count = 0.0, 0
    bar = tqdm(_batches(data, batch_size, shuffle=True), total=math.ceil(len(data) / batch_size),
               desc=desc, disable=not progress, leave=False)
    for x in bar:
        x = x.to(device, non_blocking=True)
        # bfloat16 autocast: matmuls and convolutions in bf16 (about 2x on this CPU), the rest fp32
        with torch.autocast(device.type, dtype=torch.bfloat16,
                            enabled=amp and device.type in ("cpu", "cuda")):
            # maximum likelihood: minimise the NLL in nats per example
            loss = -model.log_prob(x).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss.item()} at step {step} ({desc}): "
                                     "lower the learning rate or clip the gradients")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_grad is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        total, count = total + loss.item() * len(x), count + len(x)
        bar.set_postfix(nll=f"{loss.item():.2f}")
        if on_batch_end is not None:
            on_batch_end(step, loss.item())
        step += 1
    return total / count, step


def fit(model, train_data, num_epochs=1, lr=1e-3, batch_size=100, device="cpu",
        valid_data=None, optimizer=None, amp=False, clip_grad=None, progress=True,
        on_batch_end=None, on_epoch_end=None, keep_best=True, lr_decay=1.0, max_seconds=None):
    """Train by maximum likelihood; returns the history of train and valid NLLs (nats).

    With ``valid_data`` and ``keep_best``, the weights of the epoch with the lowest validation
    NLL are restored at the end (early stopping without stopping). ``lr_decay`` multiplies the
    learning rate after every epoch (exponential decay; 1.0 keeps it constant). ``max_seconds``
    stops after the first epoch that ends past that wall time (a budget for CPU runs). Hooks:
    ``on_batch_end(step, loss)`` and ``on_epoch_end(epoch, history)``.
    """
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_nll": [], "valid_nll": [], "seconds": []}
    best, best_state, step, start = math.inf, None, 0, time.time()
    for epoch in tqdm(range(num_epochs), desc="epochs", disable=not progress):
        train_nll, step = train_epoch(model, train_data, optimizer, batch_size, device, amp,
                                      clip_grad, progress, on_batch_end, step,
                                      desc=f"epoch {epoch + 1}")
        history["train_nll"].append(train_nll)
        history["seconds"].append(round(time.time() - start, 1))
        for group in optimizer.param_groups:
            group["lr"] *= lr_decay
        if valid_data is not None:
            valid_nll = evaluate_nll(model, valid_data, device=device)
            history["valid_nll"].append(valid_nll)
            if keep_best and valid_nll < best:
                best = valid_nll
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        if on_epoch_end is not None:
            on_epoch_end(epoch, history)
        if max_seconds is not None and time.time() - start > max_seconds:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


@torch.no_grad()
def evaluate_nll(model, data, batch_size=1000, device=None) -> float:
    """Mean negative log-likelihood of ``data`` in nats per example (lower is better)."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    total = 0.0
    for x in _batches(data, batch_size, shuffle=False):
        total -= model.log_prob(x.to(device)).double().sum().item()
    return total / len(data)


# ----------------------------------------------------------------------------- checkpoints
def build_model(name: str, config: dict):
    """Instantiate the registered model ``name`` with keyword arguments ``config``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    module, cls = MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)(**config)


def save_checkpoint(path, model, name: str, config: dict, metrics: dict | None = None) -> str:
    """Write weights, config and metrics atomically; return the file's sha256."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"model": name, "config": config, "state_dict": state, "metrics": metrics or {}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_file(path)


def load_checkpoint(path, device="cpu", return_info=False):
    """Rebuild a model from a checkpoint (``weights_only=True``: no pickled code is run)."""
    payload = torch.load(path, map_location=device, weights_only=True)
    model = build_model(payload["model"], payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    return (model, payload) if return_info else model


def shipped_manifest() -> dict:
    """The manifest of the shipped checkpoints: file name -> how it was trained and scored."""
    return json.loads((CHECKPOINT_DIR / "manifest.json").read_text())


def load_shipped(filename: str, device="cpu"):
    """A shipped checkpoint and its manifest entry, after checking the file's sha256."""
    entry = shipped_manifest()[filename]
    path = CHECKPOINT_DIR / filename
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match the sha256 in the manifest: re-download it "
                         f"or retrain it with: {entry['command']}")
    return load_checkpoint(path, device), entry


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    threads = torch.get_num_threads()
    return f"{platform.processor() or platform.machine()} CPU, {threads} thread{'s' * (threads > 1)}"


# ----------------------------------------------------------------------------- command line
def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> dict:
    from gm_helpers.data import load_binarized_mnist

    p = argparse.ArgumentParser(prog="python -m gm_helpers.train", description=(
        "Train a model on statically binarized MNIST, keep the epoch with the best validation "
        "NLL, measure the test NLL and record it in the checkpoints' manifest."))
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest)")
    p.add_argument("--amp", action="store_true",
                   help="bfloat16 autocast on CPU or CUDA (evaluation stays fp32)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="CPU threads for training (default: every core, %(default)s here)")
    p.add_argument("--clip-grad", type=float, default=None)
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 penalty (Adam's)")
    p.add_argument("--lr-decay", type=float, default=1.0, help="lr *= this after each epoch")
    p.add_argument("--limit", type=int, default=None, help="train on the first N images only")
    p.add_argument("--max-minutes", type=float, default=None,
                   help="stop after the epoch that ends past this wall time")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="model config, e.g. --set hidden=500 (values parsed as JSON)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default=None, help="checkpoint path (default checkpoints/MODEL.pt)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model's log_prob (fuses NADE's elementwise work)")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)

    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    config = dict(kv.split("=", 1) for kv in args.set)
    config = {k: _parse_value(v) for k, v in config.items()}
    model = build_model(args.model, config).to(device)
    train = load_binarized_mnist("train", args.data_dir)[:args.limit]
    valid = load_binarized_mnist("valid", args.data_dir)
    test = load_binarized_mnist("test", args.data_dir)
    if hasattr(model, "init_biases"):  # data-dependent start: the independent model's biases
        model.init_biases(train)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    if args.compile:  # same weights and maths, fewer passes over memory
        model.log_prob = torch.compile(model.log_prob)

    print(f"training {args.model} on {device} with {torch.get_num_threads()} CPU thread(s)"
          f"{', bf16 autocast' if args.amp else ''}", flush=True)
    start = time.time()
    history = fit(model, train, args.epochs, batch_size=args.batch_size, device=device,
                  valid_data=valid, optimizer=optimizer, amp=args.amp,
                  clip_grad=args.clip_grad, progress=not args.no_progress, lr_decay=args.lr_decay,
                  max_seconds=args.max_minutes * 60 if args.max_minutes else None,
                  on_epoch_end=lambda e, h: print(f"epoch {e + 1}: train {h['train_nll'][-1]:.3f}"
                                                  f" valid {h['valid_nll'][-1]:.3f}"
                                                  f" ({h['seconds'][-1]:.0f} s)", flush=True))
    wall = time.time() - start
    metrics = {"test_nll": round(evaluate_nll(model, test, device=device), 4),
               "valid_nll": round(min(history["valid_nll"]), 4),
               "best_epoch": int(np.argmin(history["valid_nll"])) + 1}
    out = Path(args.out or f"checkpoints/{args.model}.pt")
    sha = save_checkpoint(out, model.cpu(), args.model, config, metrics)
    entry = {"model": args.model, "config": config,
             "command": "python -m gm_helpers.train " + shlex.join(argv or sys.argv[1:]),
             "seed": args.seed, "epochs": len(history["train_nll"]), **metrics,
             "hardware": hardware(), "wall_time_s": round(wall, 1),
             "torch": torch.__version__, "sha256": sha,
             "history": {k: [round(v, 4) for v in vs] for k, vs in history.items()}}
    manifest = out.parent / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else {}
    entries[out.name] = entry
    manifest.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    print(json.dumps(entry, indent=2))
    return entry


if __name__ == "__main__":
    main()
