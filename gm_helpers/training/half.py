"""A float16 copy of a finished checkpoint, re-measured: ``python -m gm_helpers.train half``.

    python -m gm_helpers.train half runs/digit_flow.pt --out gm_helpers/checkpoints/digit_flow.pt

A float32 weight takes 4 bytes, a float16 one 2: a flow of millions of parameters ships under
5 MiB only in half precision. ``--half-weights`` does this at the end of a training run; this
command does it afterwards, for a run that is already over:

1. read X.pt and its entry in the manifest beside it (the file must match the entry's sha256);
2. round every weight to the nearest float16 value (``saving.round_to_half``), so that what
   is measured is what the file holds;
3. measure the test numbers again as the training command's final evaluation did
   (``cli.final_evaluation``, with the run's ``--data``, ``--eval-samples`` and seed; or with
   more importance samples, ``--eval-samples K``, recorded in the entry as ``eval_samples``);
4. write Y.pt in float16 and its entry in the manifest beside Y.pt: the training command and the
   learning curves kept (they describe the float32 training), ``"weights": "float16"``, this
   command as ``export_command``, and the float32 file's sha256 and numbers under ``float32``.

``load_checkpoint(Y.pt)`` gives the usual float32 model: ``load_state_dict`` converts.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

import torch

from gm_helpers.checks import arg_int, check_output_path
from gm_helpers.training.checkpoint import CheckpointError, load_checkpoint, read_manifest, record_in_manifest
from gm_helpers.training.cli import final_evaluation, load_training_data
from gm_helpers.training.cli_args import OWN_LOOP
from gm_helpers.training.cli_args import parser as train_parser
from gm_helpers.training.loop import get_device
from gm_helpers.training.saving import round_to_half, save_checkpoint

PREFIX = "python -m gm_helpers.train "


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train half", description=(
        "Round a finished checkpoint's weights to float16, measure its test numbers again as the "
        "training command did, and write the float16 file with its manifest entry."))
    p.add_argument("checkpoint", help="a finished checkpoint X.pt with its entry in the "
                                      "manifest.json beside it (not a run file X.run.pt)")
    p.add_argument("--out", required=True, help="the float16 copy, another file than X.pt; the "
                                                "manifest beside it gets its entry")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--device", default=None, help="cpu, cuda, mps (default: the fastest)")
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--eval-samples", type=arg_int(1), default=None,
                   help="importance samples for a latent-variable model's or a dequantized "
                        "flow's test numbers (default: the training command's); recorded in the "
                        "entry as eval_samples")
    return p


def read_finished_run(path):
    """(model, payload, entry, training args) of the checkpoint ``path`` and its manifest entry;
    a ``CheckpointError`` saying what to do when it is not a finished run of the training command."""
    path = Path(path)
    model, payload = load_checkpoint(path, return_info=True)   # sha256 checked against the entry
    entry = read_manifest(path.parent / "manifest.json").get(path.name)
    if entry is None:
        raise CheckpointError(
            f"{path} has no entry in {path.parent / 'manifest.json'}: the float16 copy keeps the "
            f"training command and learning curves from it, and measures again with its --data "
            f"and --eval-samples; give a checkpoint that the training command recorded")
    if entry.get("weights") == "float16":
        raise CheckpointError(f"{path} already holds float16 weights (its entry says so): "
                              f"there is nothing to round")
    command = entry.get("command", "")
    argv = shlex.split(command)[len(shlex.split(PREFIX)):] if command.startswith(PREFIX) else []
    if entry["model"] in OWN_LOOP or not argv or argv[0] != entry["model"]:
        raise CheckpointError(
            f"{path}: a {entry['model']} trained by {command or 'no recorded command'!r}; this "
            f"command measures again as `python -m gm_helpers.train MODEL` does at the end of a "
            f"run, so it copies only that command's checkpoints (not those of "
            f"{', '.join(sorted(OWN_LOOP))}, which have their own loops and scores)")
    return model, payload, entry, train_parser().parse_args(argv)


def main(argv=None) -> dict:
    """Check everything, then round, measure, save and record; returns the new manifest entry."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    args = p.parse_args(argv)
    source, out = Path(args.checkpoint), Path(args.out)
    try:
        model, payload, entry, trained = read_finished_run(source)
    except CheckpointError as err:
        p.error(str(err))
    if out.resolve() == source.resolve():
        p.error(f"--out {out} is the checkpoint itself: write the float16 copy to another file "
                f"(the float32 one stays, with its entry)")
    if out.exists() and not args.overwrite:
        p.error(f"{out} already exists: choose another --out, or pass --overwrite to replace it")
    try:
        check_output_path(out)
        read_manifest(out.parent / "manifest.json")
    except (ValueError, CheckpointError) as err:
        p.error(str(err))
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    test = load_training_data(trained.data, args.data_dir, getattr(model, "levels", 2))[2]
    round_to_half(model).to(device)
    k = args.eval_samples or trained.eval_samples
    measured = final_evaluation(model, test, k, device, seed=trained.seed)
    sha = save_checkpoint(out, model, entry["model"], payload["config"],
                          {**payload["metrics"], **measured}, half=True)
    float32 = {"sha256": entry["sha256"], **{k: entry[k] for k in measured if k in entry}}
    new = {**entry, **measured, "weights": "float16", "float32": float32, "sha256": sha,
           **({"eval_samples": k} if args.eval_samples else {}),
           "export_command": PREFIX + "half " + shlex.join(argv)}
    record_in_manifest(out, new)
    print(json.dumps({k: v for k, v in new.items() if k != "history"}, indent=2))
    return new
