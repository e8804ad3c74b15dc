"""The training core every lecture reuses: a plain, visible PyTorch loop.

Models expose ``log_prob(x) -> (B,)`` in nats, so maximum likelihood is one line:

    loss = -model.log_prob(x).mean()          # NLL in nats per image

A model whose likelihood is intractable says what to minimise instead with a method
``training_loss(x) -> (B,)`` (a VAE: the negative ELBO, an upper bound on the NLL; an
autoencoder: its reconstruction error); ``per_example_loss`` picks whichever applies.

``fit`` runs it with an optimizer, optional bfloat16 autocast (CPU or CUDA), gradient clipping,
a ``tqdm.auto`` progress bar, an ``on_batch_end`` hook, a run file after every epoch (so a run
can stop and resume), and DistributedDataParallel when started by ``torchrun``.
``evaluate_nll`` measures the test NLL, always in fp32.

Command line, the one that trains the shipped checkpoints on CPU or GPU::

    python -m gm_helpers.train fvsbn --epochs 30 --out checkpoints/fvsbn.pt
    python -m gm_helpers.train --resume checkpoints/fvsbn.run.pt          # after a stop (cli.py)
    torchrun --nproc_per_node=2 -m gm_helpers.train fvsbn ...              # data parallel
"""
from __future__ import annotations

import math
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

# re-exported: lectures and tests import these from gm_helpers.train
from gm_helpers.checkpoint import (CHECKPOINT_DIR, MODELS, build_model,  # noqa: F401
                                   cpu_state_dict, hardware, load_checkpoint, load_run, load_shipped, run_path_for,
                                   save_checkpoint, save_run, set_rng_state, sha256_file,
                                   shipped_manifest)


def get_device() -> torch.device:
    """The fastest device here: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (all devices) so that a run can be repeated."""
    import random
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _rank_world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def _batches(data: torch.Tensor, batch_size: int, shuffle: bool, generator=None):
    """Minibatches of ``data``. Under torchrun, every process draws the same permutation and
    takes its share of each global batch of ``batch_size * world_size`` examples (a last batch
    too small to give every process one example is dropped, identically on every process)."""
    rank, world = _rank_world()
    idx = torch.randperm(len(data), generator=generator) if shuffle else torch.arange(len(data))
    for start in range(0, len(data), batch_size * world):
        chunk = idx[start:start + batch_size * world]
        if len(chunk) < world:
            return
        yield data[chunk.tensor_split(world)[rank]]


def per_example_loss(model, x) -> torch.Tensor:
    """What training minimises, per example (B,): ``model.training_loss(x)`` if the model has
    one, else the negative log-likelihood ``-model.log_prob(x)``."""
    training_loss = getattr(model, "training_loss", None)
    return training_loss(x) if training_loss is not None else -model.log_prob(x)


class PerExampleLoss(torch.nn.Module):
    """``forward(x) = per_example_loss(model, x)``: DistributedDataParallel synchronises
    gradients only through a module's forward, and our models' loss is a method."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return per_example_loss(self.model, x)


class TrainingDiverged(FloatingPointError):
    """The NLL went above the uniform model's: the run diverged (and nothing is saved)."""


def train_epoch(model, data, optimizer, batch_size=100, device="cpu", amp=False,
                clip_grad=None, progress=True, on_batch_end=None, step=0, desc="train"):
    """One pass over ``data`` (a tensor of examples); returns (mean training loss, next step).

    The loss is the NLL in nats, or the model's ``training_loss`` (see ``per_example_loss``).
    """
    device = torch.device(device)
    distributed = isinstance(model, DistributedDataParallel)
    model.train()
    total, count = torch.zeros(2, dtype=torch.float64, device=device).unbind()
    rank, world = _rank_world()
    bar = tqdm(_batches(data, batch_size, shuffle=True),
               total=math.ceil(len(data) / (batch_size * world)), desc=desc,
               disable=not progress or rank != 0, leave=False)
    for x in bar:
        x = x.to(device, non_blocking=True)
        # bfloat16 autocast: matmuls and convolutions in bf16 (about 2x on this CPU), the rest fp32
        with torch.autocast(device.type, dtype=torch.bfloat16,
                            enabled=amp and device.type in ("cpu", "cuda")):
            # maximum likelihood: minimise the NLL in nats per example (or a bound on it)
            loss = (model(x) if distributed else per_example_loss(model, x)).mean()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"the loss is {loss.item()} at step {step} ({desc}): "
                                     "lower the learning rate or clip the gradients")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip_grad is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
        optimizer.step()
        total, count = total + loss.detach() * len(x), count + len(x)
        bar.set_postfix(nll=f"{loss.item():.2f}")
        if on_batch_end is not None:
            on_batch_end(step, loss.item())
        step += 1
    if world > 1:  # the mean over every process's examples
        sums = torch.stack([total, count])
        dist.all_reduce(sums)
        total, count = sums.unbind()
    return (total / count).item(), step


def fit(model, train_data, num_epochs=1, lr=1e-3, batch_size=100, device="cpu",
        valid_data=None, optimizer=None, amp=False, clip_grad=None, progress=True,
        on_batch_end=None, on_epoch_end=None, keep_best=True, lr_decay=1.0, max_seconds=None,
        eval_every=1, run_path=None, resume=False, run_info=None, diverged_above=None):
    """Train by maximum likelihood; returns the history of train and valid NLLs (nats).

    (For a model with ``training_loss``, e.g. a VAE, the history holds that loss instead: the
    negative ELBO, an upper bound on the NLL; its true NLL needs ``evaluate_nll``.)

    With ``valid_data`` and ``keep_best``, the weights of the epoch with the lowest validation
    NLL are restored at the end (early stopping without stopping); validation runs every
    ``eval_every`` epochs and after the last. ``lr_decay`` multiplies the learning rate after
    every epoch. ``max_seconds`` stops after the first epoch that ends past that wall time.

    ``run_path``: after every epoch, write a run file there (weights, optimizer, RNG states,
    history, best weights; plus ``run_info``, e.g. the command line). ``resume=True``: first
    load it and go on from its epoch: the result is the same as one uninterrupted run.
    ``diverged_above``: the uniform model's NLL, D ln 2 for binary pixels. Raise
    ``TrainingDiverged`` (naming the epoch, before that epoch's run file is written) when the
    run has diverged (see ``_diverged``): a "result" would be garbage.
    Under ``torchrun`` (an initialised process group) the model is wrapped in
    DistributedDataParallel; each process trains on its share of every batch and rank 0 writes.
    """
    model.to(device)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    rank, world = _rank_world()
    run = {"epoch": 0,
           "history": {"train_nll": [], "valid_nll": [], "valid_epoch": [], "seconds": []},
           "best_valid": math.inf, "best_state": None, **(run_info or {})}
    if resume:
        saved = load_run(run_path)
        model.load_state_dict(saved.pop("state_dict"))
        optimizer.load_state_dict(saved.pop("optimizer"))
        set_rng_state(saved.pop("rng"))
        run.update(saved)
        run.update(run_info or {})  # this call's command line and resumes, not the stored ones
    history, step = run["history"], run.get("step", 0)
    start = time.time() - (history["seconds"][-1] if history["seconds"] else 0.0)
    net = DistributedDataParallel(PerExampleLoss(model)) if world > 1 else model
    epoch = run["epoch"]
    try:
        for epoch in tqdm(range(run["epoch"], num_epochs), desc="epochs", initial=run["epoch"],
                          total=num_epochs, disable=not progress or rank != 0):
            train_nll, step = train_epoch(net, train_data, optimizer, batch_size, device, amp,
                                          clip_grad, progress, on_batch_end, step,
                                          desc=f"epoch {epoch + 1}")
            history["train_nll"].append(train_nll)
            history["seconds"].append(round(time.time() - start, 1))
            for group in optimizer.param_groups:
                group["lr"] *= lr_decay
            out_of_time = max_seconds is not None and time.time() - start > max_seconds
            if world > 1:  # every process must stop after the same epoch, or they deadlock
                flag = torch.tensor(float(out_of_time), device=device)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                out_of_time = bool(flag.item())
            last = epoch + 1 == num_epochs or out_of_time
            if valid_data is not None and ((epoch + 1) % eval_every == 0 or last):
                valid_nll = evaluate_loss(model, valid_data, device=device)
                history["valid_nll"].append(valid_nll)
                history["valid_epoch"].append(epoch + 1)
                if keep_best and valid_nll < run["best_valid"]:
                    run["best_valid"], run["best_epoch"] = valid_nll, epoch + 1
                    run["best_state"] = cpu_state_dict(model)
            if diverged_above is not None and _diverged(history, diverged_above):
                worst = max([history["train_nll"][-1]] + history["valid_nll"][-1:])
                raise TrainingDiverged(
                    f"epoch {epoch + 1}: the NLL reached {worst:,.1f} nats, above the uniform "
                    f"model's {diverged_above:,.1f}: the run diverged. Lower --lr or set "
                    f"--clip-grad; the last good state is in the run file of epoch {run['epoch']}"
                    if run_path else f"epoch {epoch + 1}: the NLL reached {worst:,.1f} nats, "
                    f"above the uniform model's {diverged_above:,.1f}: the run diverged")
            run.update(epoch=epoch + 1, step=step)
            if run_path is not None and rank == 0:
                save_run(run_path, model, optimizer, run)
            if on_epoch_end is not None:
                on_epoch_end(epoch, history)
            if out_of_time:
                break
    except KeyboardInterrupt:
        if rank == 0:
            where = f"; the run file {run_path} holds epoch {run['epoch']}" if run_path else ""
            print(f"\ninterrupted during epoch {epoch + 1}{where}", file=sys.stderr)
        raise
    finally:
        if run["best_state"] is not None:
            model.load_state_dict(run["best_state"])
    return history


def _diverged(history: dict, uniform: float) -> bool:
    """Has the run diverged? Its NLL (training mean and, if measured, validation) is either
    above twice the uniform model's, which no random start comes near (the course's models
    start within 10 % of it), or above the uniform model's and higher than an epoch before:
    worse than a fair coin per pixel, and getting worse."""
    train = history["train_nll"]
    if train[-1] > 2 * uniform or (history["valid_nll"] and history["valid_epoch"][-1] == len(
            train) and history["valid_nll"][-1] > 2 * uniform):
        return True
    rising = len(train) > 1 and train[-1] > uniform and train[-1] > train[-2]
    valid = history["valid_nll"]
    rising_valid = (len(valid) > 1 and history["valid_epoch"][-1] == len(train)
                    and valid[-1] > uniform and valid[-1] > valid[-2])
    return rising or rising_valid


@torch.no_grad()
def evaluate_loss(model, data, batch_size=1000, device=None, loss_fn=per_example_loss) -> float:
    """Mean of ``loss_fn(model, x)`` over ``data`` (default: what training minimises).

    Always fp32 (no autocast). Under torchrun each process scores a share and the sums meet.
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    rank, world = _rank_world()
    shard = data.tensor_split(world)[rank]
    total = torch.zeros((), dtype=torch.float64, device=device)
    with torch.autocast(device.type, enabled=False):  # fp32 even inside a caller's autocast
        for start in range(0, len(shard), batch_size):
            total += loss_fn(model, shard[start:start + batch_size].to(device)).double().sum()
    if world > 1:
        dist.all_reduce(total)
    return total.item() / len(data)


def subset_nll(model, test, num_samples: int, seed: int = 0) -> float:
    """A latent-variable model's importance-sampled NLL on every 20th test image (500 images,
    the same for every model) with a fixed seed: a repeatable check of a checkpoint in seconds,
    where the full-test estimate with k = 5000 takes minutes (the manifest records both)."""
    torch.manual_seed(seed)
    return evaluate_loss(model, test[::20], 100,
                         loss_fn=lambda m, x: -m.log_prob(x, num_samples=num_samples))


def evaluate_nll(model, data, batch_size=1000, device=None) -> float:
    """Mean negative log-likelihood of ``data`` in nats per example (lower is better), fp32."""
    return evaluate_loss(model, data, batch_size, device, lambda m, x: -m.log_prob(x))


def bits_per_dim(nll_nats: float, num_dims: int) -> float:
    """An NLL in nats per image as bits per dimension: nll / (D ln 2), D = pixels x channels.

    The unit of the PixelRNN/PixelCNN papers for colour images; it puts images of different
    sizes on one scale (binarized MNIST: 784 dimensions, 80 nats = 0.147 bits/dim).
    """
    if num_dims < 1:
        raise ValueError(f"num_dims must be at least 1, got {num_dims}")
    return nll_nats / (num_dims * math.log(2))


def main(argv=None) -> dict:
    """The command line, ``python -m gm_helpers.train MODEL ...``: see ``gm_helpers/cli.py``."""
    from gm_helpers.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    main()
