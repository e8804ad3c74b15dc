"""What every training command does with ``--resume``, ``--out`` and ``--overwrite``.

One set of rules for ``python -m gm_helpers.train MODEL``, ``... dcgan``, ``... digit_classifier``
and ``... samples``, so that hours of training are never lost or silently mixed up:

* ``--resume PATH`` continues **the run in PATH**: its weights, optimizer, random states and
  command line come from PATH, its run file goes on being written to PATH, and its checkpoint
  is written beside it (``X.run.pt`` -> ``X.pt``), wherever the run file was copied or moved.
* On resume only the flags in ``allowed`` (time budget, epochs, threads, ...) may change: a
  changed learning rate or width would make the run's recorded command a lie.
* A new run never replaces files: if its checkpoint ``X.pt`` or its run file ``X.run.pt``
  exists (a finished run, or a stopped one that ``--resume`` could continue), the command stops
  before any work and names both ways on: ``--resume``, or ``--overwrite``.
* ``--out`` names a checkpoint, never a run file (``X.run.pt``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from gm_helpers.checks import check_output_path
from gm_helpers.training.checkpoint import CheckpointError
from gm_helpers.training.runs import load_run, run_path_for

RUN_SUFFIX = ".run.pt"


def checkpoint_path_for(run_path) -> Path:
    """The checkpoint that goes with run file ``run_path``: ``X.run.pt`` -> ``X.pt``."""
    run_path = Path(run_path)
    if not run_path.name.endswith(RUN_SUFFIX) or run_path.name == RUN_SUFFIX:
        raise ValueError(f"{run_path}: a run file's name ends in {RUN_SUFFIX} (its checkpoint is "
                         f"written beside it without '.run'); rename it, e.g. to "
                         f"{run_path.with_name(run_path.stem + RUN_SUFFIX).name}")
    return run_path.with_name(run_path.name[:-len(RUN_SUFFIX)] + ".pt")


def _without_resume(argv: list[str]) -> list[str]:
    """``argv`` without ``--resume PATH`` / ``--resume=PATH``."""
    rest, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--resume":
            skip = True
        elif not a.startswith("--resume="):
            rest.append(a)
    return rest


def resume_arguments(p: argparse.ArgumentParser, argv: list[str], allowed: set[str],
                     program: str = "train"):
    """Parse ``argv``. For ``--resume PATH``: the command stored in PATH with this call's
    ``allowed`` flags on top. Returns (args, the run's original argv, the stored run or None);
    any problem is a usage error (exit status 2) before anything is loaded or trained.
    ``program``: which command wrote the run files this one continues ("train" or "dcgan")."""
    args = p.parse_args(argv)
    if args.resume is None:
        return args, list(argv), None
    try:
        saved = load_run(args.resume)
        checkpoint_path_for(args.resume)
    except (CheckpointError, ValueError) as err:
        p.error(f"--resume: {err}")
    theirs = saved.get("program", "train")
    if theirs != program:
        how = "python -m gm_helpers.train" + (" dcgan" if theirs == "dcgan" else "")
        p.error(f"--resume: {args.resume} is a run of '{theirs}', not of '{program}': continue it "
                f"with {how} --resume {args.resume}")
    command = saved.get("argv")
    if not isinstance(command, list) or not all(isinstance(a, str) for a in command):
        p.error(f"--resume: {args.resume} holds no command line to continue (not written by "
                f"{p.prog})")
    rest = _without_resume(argv)
    changed = sorted({a.split("=")[0] for a in rest if a.startswith("--")} - allowed)
    if getattr(args, "model", None) is not None or changed:
        p.error(f"--resume continues the stored command ({' '.join(command)}); only "
                f"{sorted(allowed)} may change, not {changed or [args.model]}")
    resumed = p.parse_args(command + rest)
    resumed.resume = args.resume
    return resumed, command, saved


def output_paths(p: argparse.ArgumentParser, args) -> tuple[Path, Path]:
    """(checkpoint, run file) of this call, checked before any work: on resume, the run file
    given and the checkpoint beside it; else ``--out`` and its run file, neither of which may
    exist unless ``--overwrite``."""
    if args.resume is not None:
        run_path = Path(args.resume)
        out = checkpoint_path_for(run_path)
    else:
        out = Path(args.out)
        if out.name.endswith(RUN_SUFFIX):
            p.error(f"--out {out} names a run file; give the checkpoint's name, e.g. "
                    f"{checkpoint_path_for(out)} (its run file is written beside it)")
        try:
            check_output_path(out)
        except ValueError as err:
            p.error(str(err))
        run_path = run_path_for(out)
        existing = [str(f) for f in (out, run_path) if f.exists()]
        if existing and not getattr(args, "overwrite", False):
            how = (f"continue the stopped run with --resume {run_path}, " if run_path.exists()
                   else "")
            p.error(f"{' and '.join(existing)} already exist{'s' * (len(existing) == 1)}: "
                    f"{how}choose another --out, or pass --overwrite to replace "
                    f"{'them' if len(existing) > 1 else 'it'}")
    return out, run_path
