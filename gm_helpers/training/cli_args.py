"""The arguments of ``python -m gm_helpers.train``: its parser, a resumed run's stored command line,
and every check made before the data are loaded.

``resolve_args`` parses a command line, or for ``--resume X.run.pt`` the command stored in the run
file with the few options a resume may change (``RESUMABLE``); ``check_before_training`` then
builds the config on the meta device, checks it against ``--data`` and the output path, and reads
the manifest there, so that a mistake costs a message and not a training run. ``cli.main`` calls
both; ``half.py`` reuses the parser to read a finished run's command.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

from gm_helpers.checks import arg_float, arg_int
from gm_helpers.models.registry import MODELS, build_model
from gm_helpers.training import classifier, diffusion2d, diffusion_tables, flows2d, gan
from gm_helpers.training.checkpoint import CheckpointError, read_manifest
from gm_helpers.training.resume import output_paths, resume_arguments
from gm_helpers.training.runs import load_run

# trained by their own command line, ``python -m gm_helpers.train NAME``
OWN_LOOP = {"dcgan": gan.main, "digit_classifier": classifier.main,
            "samples": classifier.samples_main, "spline_flow": flows2d.main, "ddpm_2d": diffusion2d.main,
            "diffusion_steps": diffusion_tables.main, "masked_orders": diffusion_tables.orders_main}


def _parse_value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train", description=(
        "Train a model on statically binarized MNIST, keep the epoch with the best validation "
        "NLL, measure the test NLL and record it in the checkpoints' manifest. A run file "
        "X.run.pt beside the checkpoint X.pt is written after every epoch: --resume it. A float16 "
        "copy of a finished checkpoint: python -m gm_helpers.train half --help."))
    p.add_argument("model", nargs="?", choices=sorted(set(MODELS) - set(OWN_LOOP)),
                   help=f"or one with its own loop and options: {', '.join(sorted(OWN_LOOP))}")
    p.add_argument("--resume", default=None, metavar="RUN_FILE",
                   help="continue a stopped run from its X.run.pt (may change only --epochs, "
                        "--max-minutes, --threads, --device, --no-progress)")
    p.add_argument("--epochs", type=arg_int(1), default=10)
    p.add_argument("--lr", type=arg_float(0, low_open=True), default=1e-3)
    p.add_argument("--batch-size", type=arg_int(1), default=100, help="per process under torchrun")
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest)")
    p.add_argument("--amp", action="store_true",
                   help="bfloat16 autocast on CPU or CUDA (evaluation stays fp32)")
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count(),
                   help="CPU threads per process (default: every core, %(default)s here)")
    p.add_argument("--clip-grad", type=arg_float(0, low_open=True), default=None,
                   help="clip the gradient's norm to this (> 0)")
    p.add_argument("--weight-decay", type=arg_float(0), default=0.0, help="L2 penalty (Adam's)")
    p.add_argument("--lr-decay", type=arg_float(0, 1, low_open=True), default=1.0,
                   help="lr *= this after each epoch, in (0, 1]")
    p.add_argument("--lr-schedule", choices=("exponential", "iwae"), default="exponential",
                   help="exponential: --lr-decay per epoch; iwae: the IWAE paper's 8 stages, stage i "
                        "= 0..7 lasting 3^i epochs at --lr x 10^(-i/7) (3,280 epochs; the last "
                        "rate holds after them)")
    p.add_argument("--adam-eps", type=arg_float(0, low_open=True), default=1e-8,
                   help="Adam's epsilon (PyTorch's default; the IWAE paper used 1e-4)")
    p.add_argument("--ema", type=arg_float(0, 1, low_open=True, high_open=True), default=None,
                   metavar="DECAY",
                   help="validate and keep an exponential moving average of the weights, updated "
                        "after every step with this decay (DDPM: 0.9999; 0.999 for a few "
                        "thousand steps)")
    p.add_argument("--limit", type=arg_int(1), default=None, help="train on the first N images only")
    p.add_argument("--max-minutes", type=arg_float(0, low_open=True), default=None,
                   help="stop after the epoch that ends past this wall time")
    p.add_argument("--eval-every", type=arg_int(1), default=1,
                   help="validate every N epochs (and after the last)")
    p.add_argument("--eval-samples", type=arg_int(1), default=5000,
                   help="latent-variable models: importance samples of the test NLL estimate")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="model config, e.g. --set hidden=500 (values parsed as JSON)")
    p.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                   help="start from the weights of a checkpoint (a shipped file name such as vae.pt, "
                        "or a path) wherever the names and shapes match, e.g. a flow posterior "
                        "that keeps a trained VAE's decoder")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--data", choices=("binarized", "colour", "grayscale"), default="binarized",
                   help="binarized MNIST; colour digits (data.colour_digits, the model's levels); "
                        "or grayscale digits, the MNIST test set split 8,000 / 1,000 / 1,000 "
                        "(data.grayscale_digits, the model's levels)")
    p.add_argument("--out", default=None, help="checkpoint path (default checkpoints/MODEL.pt)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing checkpoint and run file at --out (else refused)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model's loss (log_prob or training_loss)")
    p.add_argument("--channels-last", action="store_true",
                   help="NHWC weights for the convolutional models")
    p.add_argument("--half-weights", action="store_true",
                   help="store the kept weights rounded to float16 (half the bytes: a flow of "
                        "millions of parameters ships under 5 MiB); the test numbers are measured "
                        "on the rounded weights, and the model loads as float32")
    p.add_argument("--no-progress", action="store_true")
    return p


# --half-weights changes only what is saved at the end, not the training: a resume may add it
RESUMABLE = {"--epochs", "--max-minutes", "--threads", "--device", "--no-progress", "--half-weights"}


def resolve_args(argv):
    """Parse ``argv``; for ``--resume``, the stored command line with the allowed overrides."""
    p = parser()
    args, command, saved = resume_arguments(p, argv, RESUMABLE)
    if args.model is None:
        p.error("name a model to train, or --resume a run file")
    return args, command, saved


def resumes_a_dcgan(argv) -> bool:
    """Is this ``--resume PATH`` of a run file that the DCGAN's command wrote?"""
    args, _ = parser().parse_known_args(argv)
    if args.resume is None:
        return False
    try:
        return load_run(args.resume).get("program") == "dcgan"
    except CheckpointError:
        return False  # the usual checks name the problem


def _parse_set(items) -> dict:
    """``--set KEY=VALUE ...`` as a config dict (values parsed as JSON, else kept as strings)."""
    config = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ValueError(f"--set expects KEY=VALUE, e.g. --set hidden=500; got {item!r}")
        if key.strip() in config:
            raise ValueError(f"--set gives {key.strip()} twice ({item!r} after "
                             f"{key.strip()}={json.dumps(config[key.strip()])}); give it once")
        config[key.strip()] = _parse_value(value)
    return config


def _data_problem(data: str, model) -> str | None:
    """Why ``--data`` does not fit the model's channels and levels, or None."""
    channels, levels = getattr(model, "channels", 1), getattr(model, "levels", 2)
    has = f"this config has {channels} channel(s) of {levels} levels"
    if data == "binarized" and (channels, levels) != (1, 2):
        return f"--data binarized gives one channel of 0/1 pixels; {has}: use --data colour or grayscale"
    if data == "colour" and channels != 3:
        return (f"--data colour gives 3 channels (levels set by the model); {has}: a model with "
                f"--set channels=3 (the PixelCNN), or --data binarized")
    if data == "grayscale" and (channels != 1 or levels < 3):
        return (f"--data grayscale gives one channel of many levels; {has}: --set levels=256 "
                f"(the PixelCNN), or --data binarized")
    return None


def check_before_training(args) -> tuple[dict, Path, Path]:
    """Everything that can be checked before the data are loaded and a minute is spent: the
    config builds a model (on the meta device: nothing allocated), the output can be written,
    the manifest beside it is valid. Exits with status 2 and a message otherwise."""
    def fail(message):
        print(f"python -m gm_helpers.train: error: {message}", file=sys.stderr)
        raise SystemExit(2)
    try:
        config = _parse_set(args.set)
    except ValueError as err:
        fail(err)
    try:
        with torch.device("meta"):
            shell = build_model(args.model, config)
    except Exception as err:  # noqa: BLE001 - the model's own message, with the flag to fix
        fail(f"--set: {args.model} does not accept the config {config}: "
             f"{type(err).__name__}: {err}")
    problem = _data_problem(args.data, shell)
    if problem:
        fail(problem)
    if args.lr_schedule != "exponential" and args.lr_decay != 1.0:
        fail(f"--lr-schedule {args.lr_schedule} sets every epoch's rate from --lr; it cannot be "
             f"combined with --lr-decay {args.lr_decay} (drop one of them)")
    if args.out is None:
        args.out = f"checkpoints/{args.model}.pt"
    out, run_path = output_paths(parser(), args)   # never over another run's files
    try:
        read_manifest(out.parent / "manifest.json")
    except CheckpointError as err:
        fail(f"{err}; nothing was trained")
    return config, out, run_path
