"""The command line that trains the shipped checkpoints: ``python -m gm_helpers.train``.

    python -m gm_helpers.train MODEL [--set KEY=VALUE ...] [--epochs N] ... --out X.pt
    python -m gm_helpers.train --resume X.run.pt [--epochs N]
    torchrun --nproc_per_node=N -m gm_helpers.train MODEL ...
    python -m gm_helpers.train half X.pt --out Y.pt    # a float16 copy: training/half.py

It checks its arguments (``cli_args.py``: the parser, ``--resume``, the checks made before any data are
loaded), trains with ``training.runs.train_run`` (``fit`` with a run file after every epoch),
measures the test NLL in fp32 (``final_evaluation``) and records the run in the checkpoint folder's
manifest. ``--half-weights`` rounds the kept weights to float16 before measuring, and stores them so.
"""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from gm_helpers.models.registry import build_model
from gm_helpers.training import runs
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    hardware,
    read_file,
    record_in_manifest,
)
from gm_helpers.training.cli_args import (
    OWN_LOOP,
    check_before_training,
    resolve_args,
    resumes_a_dcgan,
)
from gm_helpers.training.loop import (
    evaluate_loss,
    evaluate_nll,
    get_device,
    rank_world,
    seed_everything,
    subset_nll,
)
from gm_helpers.training.runs import (
    TrainingDiverged,
    amp_problem,
    iwae_lr_factor,
    train_run,
)
from gm_helpers.training.saving import round_to_half, save_checkpoint


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



def _bf16_kind(device) -> str:
    """What the start line says of bf16 on ``device`` (read from ``runs``, where ``amp_problem``
    reads it too, so that the two never disagree)."""
    if device.type != "cpu":
        return ""
    return {True: " (native bf16 on this CPU)",
            False: " (emulated: this CPU has no native bf16)",
            None: " (whether this CPU has native bf16 is unknown: compare one epoch with and "
                  "without --amp)"}[runs.native_bf16()]


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
    if argv and argv[0] not in OWN_LOOP and resumes_a_dcgan(argv):
        argv = ["dcgan", *argv]  # --resume of a DCGAN's run file: its own command continues it
    if argv and argv[0] in OWN_LOOP:  # the GAN and the classifier: not maximum likelihood
        return OWN_LOOP[argv[0]](argv[1:])
    args, command_argv, resumed = resolve_args(argv)
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
    config, out, run_path = check_before_training(args)   # every argument and the output, before data
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
                      run_path=run_path, resume=resumed is not None, ema_decay=args.ema,
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
