"""The command line that trains the shipped checkpoints: ``python -m gm_helpers.train``.

    python -m gm_helpers.train MODEL [--set KEY=VALUE ...] [--epochs N] ... --out X.pt
    python -m gm_helpers.train --resume X.run.pt [--epochs N]
    torchrun --nproc_per_node=N -m gm_helpers.train MODEL ...
    python -m gm_helpers.train half X.pt --out Y.pt    # a float16 copy: training/half.py

It checks its arguments, trains with ``training.runs.train_run`` (``fit`` with a run file after every epoch),
measures the test NLL in fp32 (``final_evaluation``) and records the run in the checkpoint folder's
manifest. ``--half-weights`` rounds the kept weights to float16 before measuring, and stores them so.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from gm_helpers.checks import arg_float, arg_int
from gm_helpers.models.registry import MODELS, build_model
from gm_helpers.training import classifier, flows2d, gan
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    CheckpointError,
    hardware,
    read_file,
    read_manifest,
    record_in_manifest,
    round_to_half,
    save_checkpoint,
)
from gm_helpers.training.loop import (
    evaluate_loss,
    evaluate_nll,
    get_device,
    rank_world,
    seed_everything,
    subset_nll,
)
from gm_helpers.training.resume import output_paths, resume_arguments
from gm_helpers.training.runs import (
    TrainingDiverged,
    amp_problem,
    iwae_lr_factor,
    load_run,
    native_bf16,
    train_run,
)

# trained by their own command line, ``python -m gm_helpers.train NAME``
OWN_LOOP = {"dcgan": gan.main, "digit_classifier": classifier.main,
            "samples": classifier.samples_main, "spline_flow": flows2d.main}


def init_from(model, source) -> int:
    """Copy into ``model`` every tensor of checkpoint ``source`` (a shipped file name or a path)
    whose name and shape match; a source that shares no tensor with the model is refused."""
    path = Path(source) if Path(source).exists() else CHECKPOINT_DIR / str(source)
    if not path.exists():
        raise SystemExit(f"python -m gm_helpers.train: error: --init-from: no checkpoint {source!r} "
                         f"(neither a path nor a file in {CHECKPOINT_DIR})")
    state = read_file(path)["state_dict"]
    own = model.state_dict()
    matching = {k: v for k, v in state.items()
                if k in own and torch.is_tensor(v) and v.shape == own[k].shape}
    if not matching:
        raise SystemExit(f"python -m gm_helpers.train: error: --init-from: {source} shares no tensor "
                         "(same name and shape) with this model")
    with torch.no_grad():
        for k, v in matching.items():
            own[k].copy_(v)
    return len(matching)


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


def _resolve_args(argv):
    """Parse ``argv``; for ``--resume``, the stored command line with the allowed overrides."""
    p = parser()
    args, command, saved = resume_arguments(p, argv, RESUMABLE)
    if args.model is None:
        p.error("name a model to train, or --resume a run file")
    return args, command, saved


def _resumes_a_dcgan(argv) -> bool:
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


def _check_before_training(args) -> tuple[dict, Path, Path]:
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


def _bf16_kind(device) -> str:
    if device.type != "cpu":
        return ""
    return {True: " (native bf16 on this CPU)", None: " (whether this CPU has native bf16 is "
            "unknown: compare one epoch with and without --amp)"}[native_bf16()]


def _uniform_nll(model, train) -> float | None:
    """The uniform model's NLL, D ln(levels) nats: a run whose NLL (or bound) is above it has
    diverged. None for a loss that is not a likelihood (the autoencoder's squared error)."""
    if not hasattr(model, "log_prob"):
        return None
    return train[0].numel() * math.log(getattr(model, "levels", 2))


def load_training_data(data: str = "binarized", data_dir=None, levels: int = 2):
    """(train, valid, test) of ``data``: binarized MNIST, or the same digits in colour
    (``data.colour_digits`` with ``levels`` values per channel, seeds 0, 1, 2 per split), or
    the grayscale digits with ``levels`` levels (``data.grayscale_digits``, 8,000 / 1,000 /
    1,000 images of the MNIST test set)."""
    from gm_helpers.data import colour_digits, grayscale_digits, load_binarized_mnist

    if data == "grayscale":
        return grayscale_digits(levels, data_dir=data_dir)
    if data not in ("binarized", "colour"):
        raise ValueError(f"data must be 'binarized', 'colour' or 'grayscale', got {data!r}")
    splits = [load_binarized_mnist(s, data_dir) for s in ("train", "valid", "test")]
    if data == "colour":
        splits = [colour_digits(x, levels, seed) for seed, x in enumerate(splits)]
    return tuple(splits)


def final_evaluation(model, test, eval_samples: int, device=None, seed: int = 0) -> dict:
    """The run's final evaluation, in fp32, seeded with ``seed`` so that it repeats exactly; each
    number rounded to 4 decimals as the manifest records it. A likelihood model: its exact
    ``test_nll`` (and on every 4th image of a 10,000-image test set, ``test_nll_quarter``, what
    tests/test_repo.py re-measures quickly). A model trained on a bound: the bound, ``test_loss``
    (or an autoencoder's squared error), and if it has ``log_prob`` the importance-sampled
    ``test_nll`` with ``eval_samples`` draws and the same on the fixed 500-image subset,
    ``test_nll_subset`` (``loop.subset_nll``)."""
    torch.manual_seed(seed)
    bound = hasattr(model, "training_loss")  # trained on a bound or a reconstruction error
    latent = bound and hasattr(model, "log_prob")
    metrics = {}
    if latent:  # importance-sampled log p(x), in chunks of 100
        metrics["test_nll"] = evaluate_loss(model, test, 100, device, lambda m, x: -m.log_prob(
            x, num_samples=eval_samples))
        metrics["test_nll_subset"] = subset_nll(model, test, eval_samples)
    elif not bound:
        metrics["test_nll"] = evaluate_nll(model, test, device=device)
        if len(test) > 2000:   # the grayscale digits' 1,000 test images: quick whole, no quarter
            metrics["test_nll_quarter"] = evaluate_nll(model, test[::4], device=device)
    if bound:
        metrics["test_loss"] = evaluate_loss(model, test, device=device)
    order = ("test_nll", "test_nll_quarter", "test_loss", "test_nll_subset")  # as files always had
    return {k: round(metrics[k], 4) for k in order if k in metrics}


def main(argv=None) -> dict:

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in OWN_LOOP and _resumes_a_dcgan(argv):
        argv = ["dcgan", *argv]  # --resume of a DCGAN's run file: its own command continues it
    if argv and argv[0] in OWN_LOOP:  # the GAN and the classifier: not maximum likelihood
        return OWN_LOOP[argv[0]](argv[1:])
    args, command_argv, resumed = _resolve_args(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:  # started by torchrun: NCCL between GPUs, gloo between CPU processes
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    rank, world = rank_world()
    seed_everything(args.seed)  # the same seed in every process: same init, same batches
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    if device.type == "cuda" and distributed:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(device)
    config, out, run_path = _check_before_training(args)   # every argument and the output, before data
    if args.amp and amp_problem(device):
        print(f"python -m gm_helpers.train: error: --amp: {amp_problem(device)}", file=sys.stderr)
        raise SystemExit(2)
    model = build_model(args.model, config).to(device)
    if args.init_from:
        say_init = print if rank == 0 else (lambda *a, **k: None)
        say_init(f"initialised {init_from(model, args.init_from)} tensors from {args.init_from}")
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    train, valid, test = load_training_data(args.data, args.data_dir, getattr(model, "levels", 2))
    train = train[:args.limit]
    if hasattr(model, "init_biases"):  # data-dependent start: the independent model's biases
        model.init_biases(train)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, eps=args.adam_eps,
                                 weight_decay=args.weight_decay)
    if args.compile:  # same weights and maths, fewer passes over memory
        name = "training_loss" if hasattr(model, "training_loss") else "log_prob"
        setattr(model, name, torch.compile(getattr(model, name)))
    say = print if rank == 0 else (lambda *a, **k: None)
    resuming = f", resuming after epoch {resumed['epoch']}" if resumed else ""
    say(f"training {args.model} on {device} with {torch.get_num_threads()} CPU thread(s) per "
        f"process, {world} process(es){', bf16 autocast' + _bf16_kind(device) if args.amp else ''}{resuming}",
        flush=True)
    resumes = (resumed or {}).get("resumes", []) + (["python -m gm_helpers.train " + shlex.join(argv)]
                                                   if resumed else [])
    try:
        history = train_run(model, train, args.epochs, batch_size=args.batch_size, device=device,
                      valid_data=valid, optimizer=optimizer, amp=args.amp,
                      clip_grad=args.clip_grad, progress=not args.no_progress,
                      lr_decay=args.lr_decay, eval_every=args.eval_every,
                      lr_schedule={"exponential": None, "iwae": iwae_lr_factor}[args.lr_schedule],
                      max_seconds=args.max_minutes * 60 if args.max_minutes else None,
                      run_path=run_path, resume=resumed is not None,
                      run_info={"argv": command_argv, "resumes": resumes},
                      diverged_above=_uniform_nll(model, train),
                      on_epoch_end=lambda e, h: say(
                          f"epoch {e + 1}: train {h['train_nll'][-1]:.3f}" + (
                              f" valid {h['valid_nll'][-1]:.3f}" if h["valid_nll"] else "")
                          + f" ({h['seconds'][-1]:.0f} s)", flush=True))
    except TrainingDiverged as err:
        say(f"error: {err}", file=sys.stderr)
        raise SystemExit(3) from None
    except KeyboardInterrupt:
        say(f"stopped; the best weights so far are in {run_path}. Go on with:\n"
            f"  python -m gm_helpers.train --resume {run_path}", file=sys.stderr)
        raise SystemExit(130)
    if args.half_weights:   # the file will hold float16 weights: measure those, not fp32's
        round_to_half(model)
    measured = final_evaluation(model, test, args.eval_samples, device, seed=args.seed)
    if rank != 0:
        dist.destroy_process_group()
        return {}
    valid_best = int(np.argmin(history["valid_nll"]))
    bound = hasattr(model, "training_loss")
    valid_key = "valid_loss" if bound else "valid_nll"  # a bound is not a likelihood
    metrics = {valid_key: round(history["valid_nll"][valid_best], 4),
               "best_epoch": history["valid_epoch"][valid_best], **measured}
    sha = save_checkpoint(out, model, args.model, config, metrics, half=args.half_weights)
    entry = {"model": args.model, "config": config,
             "command": "python -m gm_helpers.train " + shlex.join(command_argv),
             **({"data": args.data} if args.data != "binarized" else {}),
             **({"weights": "float16"} if args.half_weights else {}),
             "seed": args.seed, "epochs": len(history["train_nll"]), **metrics,
             "hardware": hardware() + (f", {world} processes" if world > 1 else ""),
             "wall_time_s": history["seconds"][-1], "torch": torch.__version__, "sha256": sha,
             "history": {k: [round(v, 4) for v in vs] for k, vs in history.items()}}  # curves
    if resumes:
        entry["resumed"] = resumes
    record_in_manifest(out, entry)
    print(json.dumps({k: v for k, v in entry.items() if k != "history"}, indent=2))
    if distributed:
        dist.destroy_process_group()
    return entry
