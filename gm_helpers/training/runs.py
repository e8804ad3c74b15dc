r"""Runs you can stop and resume: everything a long run needs, wrapped around ``loop.fit``.

``train_run`` trains with the course's loop (``fit``, unchanged) and adds, through the model it
hands to ``fit``, the optimizer's hooks and ``fit``'s ``on_epoch_end``:

* a **run file** after every epoch (weights, optimizer, random-number states, learning curves,
  best weights): ``resume=True`` goes on from it, and the result equals one uninterrupted run;
* **early stopping without stopping**: the weights of the best validation epoch are kept;
  validation every ``eval_every`` epochs and after the last;
* a **time budget** (``max_seconds``), a learning-rate decay per epoch or a stagewise schedule
  (``iwae_lr_factor``, the IWAE paper's), gradient clipping;
* an **exponential moving average of the weights** (``ema_decay``, DDPM's 0.9999; PyTorch's
  ``AveragedModel`` updated by an optimizer hook after every step): validation, the best epoch
  and the checkpoint use the averaged weights, which sample better than the last step's;
* **divergence checks**: a non-finite loss stops before the step that would spread it, and an
  NLL above the uniform model's ends the run with ``TrainingDiverged``;
* **bfloat16 autocast** for training (evaluation stays fp32) and **DistributedDataParallel**
  under ``torchrun`` (each process trains on its share of every batch; rank 0 writes).
"""
from __future__ import annotations

import math
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from gm_helpers.training.checkpoint import CheckpointError, read_file
from gm_helpers.training.loop import evaluate_loss, fit, per_example_loss, rank_world
from gm_helpers.training.saving import atomic_save, cpu_state_dict


def native_bf16() -> bool | None:
    """Does this CPU compute bfloat16 natively (the AVX512-BF16 or AMX-BF16 instructions)?
    None where the CPU's flags cannot be read (not Linux)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


def amp_problem(device) -> str | None:
    """Why bfloat16 autocast should not be used on ``device``, or None when it may.

    On a CPU without native bf16 (AVX2 only, e.g. some AMD EPYCs) every bf16 product is emulated:
    measured 7-10 times *slower* than fp32 there, where native bf16 is about twice as fast."""
    device = torch.device(device)
    if device.type == "cpu" and native_bf16() is False:
        return ("this CPU has no native bfloat16 (its flags lack avx512_bf16 and amx_bf16): "
                "bf16 autocast would run 7-10 times slower than fp32 here; train without --amp")
    if device.type not in ("cpu", "cuda"):
        return f"bfloat16 autocast is used on the CPU and CUDA only, not on {device.type}"
    return None


class TrainingLoss(torch.nn.Module):
    """The model as ``fit`` sees it in a long run: ``training_loss(x)`` is the model's
    per-example loss, under bfloat16 autocast if ``amp``, through DistributedDataParallel under
    torchrun (DDP synchronises gradients only through a module's ``forward``), and checked:
    a non-finite loss raises before ``backward`` and the optimizer step can spread it."""

    def __init__(self, model, amp: bool = False, distributed: bool = False):
        super().__init__()
        self.model, self.amp, self.step, self.epoch = model, amp, 0, 1
        self.ddp = DistributedDataParallel(_Forward(model)) if distributed else None

    def training_loss(self, x):
        device = x.device
        with torch.autocast(device.type, dtype=torch.bfloat16,
                            enabled=self.amp and device.type in ("cpu", "cuda")):
            loss = self.ddp(x) if self.ddp is not None else per_example_loss(self.model, x)
        if not torch.isfinite(loss).all():
            bad = loss[~torch.isfinite(loss)][0].item()
            raise FloatingPointError(f"the loss is {bad} at step {self.step} (epoch {self.epoch}): "
                                     "lower the learning rate or clip the gradients")
        self.step += 1
        return loss


class _Forward(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return per_example_loss(self.model, x)


class TrainingDiverged(FloatingPointError):
    """The NLL went above the uniform model's: the run diverged (and nothing is saved)."""


def diverged(history: dict, uniform: float, train_now: float | None = None) -> bool:
    """Has the run diverged? Its NLL (training mean and, if measured, validation) is either
    above twice the uniform model's, which no random start comes near (the course's models
    start within 10 % of it), or above the uniform model's and higher than an epoch before:
    worse than a fair coin per pixel, and getting worse.

    ``train_now``: the NLL of the current weights on (some of) the training images. When it is
    below the uniform model's, a bad validation NLL is overfitting (a model trained on a handful
    of images, ``--limit 1``), not divergence, and only the training NLL counts."""
    train = history["train_nll"]
    if train[-1] > 2 * uniform or (len(train) > 1 and train[-1] > uniform and train[-1] > train[-2]):
        return True
    if train_now is not None and train_now <= uniform:
        return False
    valid, fresh = history["valid_nll"], history["valid_epoch"][-1:] == [len(train)]
    return fresh and (valid[-1] > 2 * uniform or (
        len(valid) > 1 and valid[-1] > uniform and valid[-1] > valid[-2]))


def iwae_lr_factor(epoch: int) -> float:
    """The IWAE paper's learning-rate schedule (Burda, Grosse & Salakhutdinov 2016, appendix:
    Adam, batches of 20): stage i = 0, ..., 7 lasts 3^i epochs at lr * 10^(-i/7), 3,280 epochs
    in all; after the last stage its rate holds. ``epoch``: the epochs finished before this one
    (0 for the first), so a resumed run continues the schedule exactly. (The authors' code rounds
    each stage's rate to two digits, 7.2e-4 for 7.197e-4; this is the paper's formula.)"""
    if epoch < 0:
        raise ValueError(f"epoch must be >= 0, got {epoch}")
    stage = 0
    while stage < 7 and epoch >= (3 ** (stage + 1) - 1) // 2:  # stage i ends after 1 + 3 + ... + 3^i
        stage += 1
    return 10 ** (-stage / 7)


# ----------------------------------------------------------------------------- resumable runs
def run_path_for(out) -> Path:
    """The run file that goes with checkpoint ``out``: ``X.pt`` -> ``X.run.pt``."""
    out = Path(out)
    return out.with_name(out.stem + ".run.pt")


def rng_state() -> dict:
    """Every random-number generator a training run draws from, as tensors and plain values."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_run(path, model, optimizer, run: dict) -> str:
    """Write a run file: weights, optimizer, RNG states and ``run`` (epoch, history, best, ...).

    When the best weights are the current ones (the last epoch was the best so far, the usual
    case while a run improves), they are stored once, not twice: a NADE's run file is 9.4 MB
    instead of 12.5, small enough to commit and resume in a later session."""
    state = cpu_state_dict(model)
    best = run.get("best_state")
    same = best is not None and best.keys() == state.keys() and all(
        torch.equal(best[k], state[k]) if torch.is_tensor(state[k]) else best[k] == state[k]
        for k in state)
    payload = {**run, "state_dict": state, "optimizer": optimizer.state_dict(), "rng": rng_state(),
               **({"best_state": None, "best_is_current": True} if same else {})}
    return atomic_save(payload, path)


def load_run(path) -> dict:
    """Read a run file written by ``save_run`` (weights_only: tensors and plain values); every
    problem is a ``CheckpointError``."""
    payload = read_file(path)
    missing = {"state_dict", "optimizer", "rng", "epoch", "history"} - set(payload)
    if missing:
        raise CheckpointError(f"{path} is not a run file of gm_helpers.train (it lacks "
                              f"{sorted(missing)}); resume from the X.run.pt written beside X.pt")
    bad = [k for k, v in payload["state_dict"].items()
           if torch.is_tensor(v) and v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{path}: {bad[0]} has NaN or infinite values; the run cannot go on")
    if payload.pop("best_is_current", False):  # stored once by save_run: a copy, not an alias
        payload["best_state"] = {k: v.clone() if torch.is_tensor(v) else v
                                 for k, v in payload["state_dict"].items()}
    return payload


def restore_average(average, saved: dict, run_path, how: str) -> None:
    """Load the averaged weights that a run file ``saved`` keeps under ``ema_state`` into
    ``average`` (an ``AveragedModel``, or None for a run without one), popping them from
    ``saved``. A run file and a resume that disagree on the average are refused, with ``how``
    completing "trained with an average of ..." (what to resume with)."""
    state = saved.pop("ema_state", None)
    if (average is None) != (state is None):
        raise CheckpointError(f"{run_path} was {'not ' * (state is None)}trained with an "
                              f"average of {how}")
    if average is not None:
        average.load_state_dict(state)


def train_run(model, train_data, num_epochs=1, lr=1e-3, batch_size=100, device="cpu",
              valid_data=None, optimizer=None, amp=False, clip_grad=None, progress=True,
              on_epoch_end=None, keep_best=True, lr_decay=1.0, max_seconds=None, eval_every=1,
              run_path=None, resume=False, run_info=None, diverged_above=None, lr_schedule=None,
              ema_decay=None):
    """Train ``model`` with ``fit`` as a long run; returns the history of train and valid NLLs.

    History: ``train_nll`` per epoch, ``valid_nll`` at the epochs in ``valid_epoch``, and the
    wall-clock ``seconds`` at the end of each epoch. (For a model with ``training_loss``, e.g. a
    VAE, the history holds that loss: the negative ELBO, an upper bound on the NLL.)

    With ``valid_data`` and ``keep_best``, the weights of the epoch with the lowest validation
    loss are restored at the end. ``lr_decay`` multiplies the learning rate after every epoch;
    or ``lr_schedule(e)`` (e.g. ``iwae_lr_factor``) sets the rate of the epoch after e finished
    ones to the optimizer's initial rate times ``lr_schedule(e)`` (the initial rate is kept in
    the optimizer's state as ``initial_lr``, as PyTorch's schedulers keep it, so that it resumes);
    ``max_seconds`` stops after the first epoch that ends past that wall time; ``clip_grad``
    clips the gradient's norm before each step. ``run_path``: a run file after every epoch
    (plus ``run_info``, e.g. the command line); ``resume=True`` first loads it and goes on from
    its epoch. ``diverged_above``: the uniform model's NLL, D ln 2 for binary pixels: raise
    ``TrainingDiverged`` (before that epoch's run file is written) when the run has diverged
    (see ``diverged``). ``ema_decay``: keep w_ema <- d w_ema + (1 - d) w after every optimizer
    step (w_ema starts at the first step's weights); validation and the best epoch are those of
    the averaged weights, which the model holds at the end (the run file keeps both).
    """
    if lr_schedule is not None and lr_decay != 1.0:
        raise ValueError(f"give lr_schedule or lr_decay, not both (lr_decay={lr_decay})")
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    rank, world = rank_world()
    run = {"epoch": 0,
           "history": {"train_nll": [], "valid_nll": [], "valid_epoch": [], "seconds": []},
           "best_valid": math.inf, "best_state": None, **(run_info or {})}
    ema = None
    if ema_decay is not None:  # a copy of the model, averaged after every optimizer step
        if not 0 < ema_decay < 1:
            raise ValueError(f"ema_decay must be in (0, 1), got {ema_decay}")
        # parameters averaged; buffers (masks, orderings, a schedule) copied as they are: an
        # average of two orderings is no ordering
        ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=False)

        def average(optimizer, args, kwargs) -> None:
            ema.update_parameters(model)
            with torch.no_grad():
                for mine, theirs in zip(ema.module.buffers(), model.buffers()):
                    mine.copy_(theirs)
        optimizer.register_step_post_hook(average)
    if resume:
        saved = load_run(run_path)
        model.load_state_dict(saved.pop("state_dict"))
        optimizer.load_state_dict(saved.pop("optimizer"))
        restore_average(ema, saved, run_path, "its weights (ema_decay); resume it with ema_decay "
                        + ("set" if "ema_state" in saved else "None"))
        set_rng_state(saved.pop("rng"))
        run.update(saved)
        run.update(run_info or {})  # this call's command line and resumes, not the stored ones
    if lr_schedule is not None:  # this epoch's rate: the initial one (stored on resume) x factor
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
            group["lr"] = group["initial_lr"] * lr_schedule(run["epoch"])
    history = run["history"]
    start = time.time() - (history["seconds"][-1] if history["seconds"] else 0.0)
    net = TrainingLoss(model, amp, distributed=world > 1)
    net.step, net.epoch = run.get("step", 0), run["epoch"] + 1
    if clip_grad is not None:  # clip every gradient's norm just before each optimizer step
        def clip(optimizer, args, kwargs) -> None:  # a pre-hook returns None (or new arguments)
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.register_step_pre_hook(clip)

    def after_epoch(i, fitted) -> bool:
        epoch = run["epoch"] + 1
        history["train_nll"].append(_mean_over_processes(fitted["train_nll"][-1], len(train_data),
                                                         batch_size, device))
        history["seconds"].append(round(time.time() - start, 1))
        for group in optimizer.param_groups:  # the next epoch's learning rate
            group["lr"] = (group["initial_lr"] * lr_schedule(epoch) if lr_schedule is not None
                           else group["lr"] * lr_decay)
        out_of_time = max_seconds is not None and time.time() - start > max_seconds
        if world > 1:  # every process must stop after the same epoch, or they deadlock
            flag = torch.tensor(float(out_of_time), device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        last = epoch == num_epochs or out_of_time
        kept = ema.module if ema is not None else model  # the weights validated and kept
        if valid_data is not None and (epoch % eval_every == 0 or last):
            valid_nll = evaluate_loss(kept, valid_data, device=device)
            history["valid_nll"].append(valid_nll)
            history["valid_epoch"].append(epoch)
            if keep_best and valid_nll < run["best_valid"]:
                run["best_valid"], run["best_epoch"] = valid_nll, epoch
                run["best_state"] = cpu_state_dict(kept)
        if diverged_above is not None and diverged(history, diverged_above):
            # diverged, or overfitted a few images? the current weights on training images
            train_now = evaluate_loss(model, train_data[:1000], device=device)
            if diverged(history, diverged_above, train_now):
                worst = max([history["train_nll"][-1]] + history["valid_nll"][-1:])
                where = (f"the last good state is in the run file of epoch {run['epoch']}"
                         if run_path and run["epoch"] > 0 else "no epoch finished, nothing was saved")
                raise TrainingDiverged(f"epoch {epoch}: the NLL reached {worst:,.1f} nats, above "
                                       f"the uniform model's {diverged_above:,.1f}: the run "
                                       f"diverged. Lower --lr or set --clip-grad; {where}")
        run.update(epoch=epoch, step=net.step)
        if ema is not None:
            run["ema_state"] = cpu_state_dict(ema)
        net.epoch = epoch + 1
        if run_path is not None and rank == 0:
            save_run(run_path, model, optimizer, run)
        if on_epoch_end is not None:
            on_epoch_end(epoch - 1, history)
        return out_of_time

    try:
        fit(net, train_data, None, num_epochs - run["epoch"], batch_size, optimizer,
            on_epoch_end=after_epoch, progress=progress and rank == 0)
    except KeyboardInterrupt:
        if rank == 0:
            where = f"; the run file {run_path} holds epoch {run['epoch']}" if run_path else ""
            print(f"\ninterrupted during epoch {run['epoch'] + 1}{where}", file=sys.stderr)
        raise
    finally:
        if run["best_state"] is not None:
            model.load_state_dict(run["best_state"])
        elif ema is not None:
            model.load_state_dict(ema.module.state_dict())
    return history


def _mean_over_processes(mean: float, num_examples: int, batch_size: int, device) -> float:
    """Under torchrun, the mean training loss over every process's examples (each process
    knows only its own): weighted by how many examples each one saw this epoch."""
    rank, world = rank_world()
    if world == 1:
        return mean
    chunks = [range(num_examples)[start:start + batch_size * world]  # as loop.batches splits
              for start in range(0, num_examples, batch_size * world)]
    count = sum(len(chunk[rank::world]) for chunk in chunks if len(chunk) >= world)
    sums = torch.tensor([mean * count, count], dtype=torch.float64, device=device)
    dist.all_reduce(sums)
    return (sums[0] / sums[1]).item()
