"""The training loop of the course, and the helpers it calls: plain, visible PyTorch.

Models expose ``log_prob(x) -> (B,)`` in nats, so maximum likelihood is one line:

    loss = -model.log_prob(x).mean()          # NLL in nats per image

A model whose likelihood is intractable says what to minimise instead with a method
``training_loss(x) -> (B,)`` (a VAE: the negative ELBO, an upper bound on the NLL; an
autoencoder: its reconstruction error); ``per_example_loss`` picks whichever applies.

``fit`` is the loop a lecture prints: batches, loss, backward, step, validation, progress bar.
Everything a long run needs besides (resume, time budgets, best-epoch weights, divergence
checks, bfloat16, gradient clipping, torchrun) wraps around it in ``runs.py``.
``evaluate_nll`` measures the test NLL, always in fp32.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.distributed as dist
from tqdm.auto import tqdm


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


def rank_world() -> tuple[int, int]:
    return (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)


def batches(data: torch.Tensor, batch_size: int, shuffle: bool = True, generator=None):
    """Minibatches of ``data``. Under torchrun, every process draws the same permutation and
    takes its share of each global batch of ``batch_size * world_size`` examples (a last batch
    too small to give every process one example is dropped, identically on every process)."""
    rank, world = rank_world()
    idx = torch.randperm(len(data), generator=generator) if shuffle else torch.arange(len(data))
    for start in range(0, len(data), batch_size * world):
        chunk = idx[start:start + batch_size * world]
        if len(chunk) < world:
            return
        yield data[chunk.tensor_split(world)[rank]]


def num_batches(num_examples: int, batch_size: int) -> int:
    """How many batches ``batches`` yields to this process (for the progress bar)."""
    return math.ceil(num_examples / (batch_size * rank_world()[1]))


def per_example_loss(model, x) -> torch.Tensor:
    """What training minimises, per example (B,): ``model.training_loss(x)`` if the model has
    one, else the negative log-likelihood ``-model.log_prob(x)``."""
    training_loss = getattr(model, "training_loss", None)
    return training_loss(x) if training_loss is not None else -model.log_prob(x)


def fit(model, train_data, valid_data=None, num_epochs=1, batch_size=100, optimizer=None,
        on_epoch_end=None, progress=True):
    """Train ``model`` by maximum likelihood; return its learning curves (nats per example).

    Every epoch: shuffled minibatches of ``train_data``, the mean loss (the NLL, or the model's
    ``training_loss``: see ``per_example_loss``), backward, one optimizer step; then the mean
    loss on ``valid_data``. ``optimizer`` defaults to Adam with lr 1e-3; each batch goes to the
    device the model is on. ``on_epoch_end(epoch, history)`` runs after every epoch and may
    return True to stop: ``gm_helpers.training.runs`` hangs run files, time budgets, early
    stopping and learning-rate schedules there, around this loop and not inside it.
    """
    device = next(model.parameters()).device
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=1e-3)
    history = {"train_nll": [], "valid_nll": []}
    for epoch in tqdm(range(num_epochs), desc="epochs", disable=not progress):
        model.train()
        total, count = 0.0, 0
        for x in tqdm(batches(train_data, batch_size), desc=f"epoch {epoch + 1}",
                      total=num_batches(len(train_data), batch_size), disable=not progress,
                      leave=False):
            x = x.to(device)
            loss = per_example_loss(model, x).mean()  # NLL in nats per example (or a bound)
            optimizer.zero_grad()
            loss.backward()  # d loss / d theta for every parameter
            optimizer.step()  # theta <- theta - lr * (Adam's rescaled gradient)
            total, count = total + loss.item() * len(x), count + len(x)
        history["train_nll"].append(total / count)
        if valid_data is not None:
            history["valid_nll"].append(evaluate_loss(model, valid_data))
        if on_epoch_end is not None and on_epoch_end(epoch, history):
            break
    return history


@torch.no_grad()
def evaluate_loss(model, data, batch_size=None, device=None, loss_fn=per_example_loss) -> float:
    """Mean of ``loss_fn(model, x)`` over ``data`` (default: what training minimises).

    Always fp32 (no autocast). Under torchrun each process scores a share and the sums meet.
    ``batch_size``: images per pass, by default the model's ``eval_batch_size`` if it has one
    (a U-Net's activations for 1,000 images take gigabytes), else 1,000.
    """
    batch_size = batch_size or getattr(model, "eval_batch_size", 1000)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    rank, world = rank_world()
    shard = data.tensor_split(world)[rank]
    total = torch.zeros((), dtype=torch.float64, device=device)
    with torch.autocast(device.type, enabled=False):  # fp32 even inside a caller's autocast
        for start in range(0, len(shard), batch_size):
            total += loss_fn(model, shard[start:start + batch_size].to(device)).double().sum()
    if world > 1:
        dist.all_reduce(total)
    return total.item() / len(data)


def evaluate_nll(model, data, batch_size=None, device=None) -> float:
    """Mean negative log-likelihood of ``data`` in nats per example (lower is better), fp32."""
    return evaluate_loss(model, data, batch_size, device, lambda m, x: -m.log_prob(x))


def subset_nll(model, test, num_samples: int, seed: int = 0) -> float:
    """A latent-variable model's importance-sampled NLL on every 20th test image (500 images,
    the same for every model) with a fixed seed: a repeatable check of a checkpoint in seconds,
    where the full-test estimate with k = 5000 takes minutes (the manifest records both)."""
    torch.manual_seed(seed)
    return evaluate_loss(model, test[::20], 100,
                         loss_fn=lambda m, x: -m.log_prob(x, num_samples=num_samples))


def bits_per_dim(nll_nats: float, num_dims: int) -> float:
    """An NLL in nats per image as bits per dimension: nll / (D ln 2), D = pixels x channels.

    The unit of the PixelRNN/PixelCNN papers for colour images; it puts images of different
    sizes on one scale (binarized MNIST: 784 dimensions, 80 nats = 0.147 bits/dim).
    """
    if num_dims < 1:
        raise ValueError(f"num_dims must be at least 1, got {num_dims}")
    return nll_nats / (num_dims * math.log(2))
