r"""Normalizing flows on the 2-d benchmark mixtures of lecture 06: maximum likelihood, measured
against the data's entropy and with lecture 06's mode table.

A flow's test NLL can never go below the data's entropy H = -E[log p_data(x)] (the NLL is
H + KL(p_data || p_model) >= H); the gap is the KL, in nats, and it is what ``gap`` reports.

    python -m gm_helpers.train spline_flow --data ring --seeds 0 1 2 3 4 --steps 5000 \
        --out gm_helpers/checkpoints/flow2d_ring.pt
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import torch
from tqdm.auto import tqdm

from gm_helpers.analysis.mixtures import MIXTURES, mixture_entropy, mode_coverage, sample_mixture
from gm_helpers.checks import arg_int, check_choice, check_size
from gm_helpers.models.spline_flows import spline_flow
from gm_helpers.training.checkpoint import hardware, record_in_manifest
from gm_helpers.training.saving import save_checkpoint

SPLITS = {"train": (100_000, 0), "valid": (10_000, 1), "test": (10_000, 2)}  # (size, seed offset)
CONFIG = {"D": 2, "num_layers": 6, "hidden": [64, 64], "bins": 32, "bound": 3.0}


def mixture_splits(name: str, seed: int = 0) -> dict:
    """Train, valid and test points of mixture ``name``, each from its own seed."""
    return {split: sample_mixture(name, size, seed=1000 * seed + offset)[0]
            for split, (size, offset) in SPLITS.items()}


def fit_flow(model, train, valid, steps: int = 5000, batch_size: int = 512, lr: float = 1e-3,
             clip: float = 5.0, record_every: int = 250, seed: int = 0, progress: bool = True):
    """The loop: draw a batch, minimise its mean -log p(x), Adam with a cosine learning rate.
    Returns the history: steps, the batches' training NLL and the validation NLL."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, check_size("steps", steps))
    history = {"step": [], "train_nll": [], "valid_nll": []}
    running = []
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="steps"):
        x = train[torch.randint(len(train), (batch_size,), generator=g)]
        loss = -model.log_prob(x).mean()                   # the NLL of the batch, nats
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        schedule.step()
        running.append(loss.item())
        if step % record_every == 0 or step == steps:
            with torch.no_grad():
                history["valid_nll"].append(-model.log_prob(valid).mean().item())
            history["step"].append(step)
            history["train_nll"].append(sum(running) / len(running))
            running = []
    return history


def new_flow(train, config: dict | None = None):
    """A spline flow whose first (elementwise affine) layer starts by scaling the data into the
    splines' interval [-B, B]."""
    config = {**CONFIG, **(config or {})}
    model = spline_flow(**config)
    with torch.no_grad():
        model.layers[0].log_scale.fill_(math.log(0.7 * config["bound"] / train.abs().max().item()))
    return model, config


@torch.no_grad()
def score(model, name: str, test, num_samples: int = 10_000, seed: int = 0) -> dict:
    """Test NLL, its gap above the data's entropy, and lecture 06's mode table of samples."""
    entropy, _ = mixture_entropy(name)
    nll = -model.log_prob(test).mean().item()
    _, means, std = sample_mixture(name, 1)
    samples = model.sample(num_samples, generator=torch.Generator().manual_seed(seed))
    coverage = mode_coverage(samples, means, std)
    return {"test_nll": nll, "entropy": entropy, "gap": nll - entropy, "modes": coverage["modes"],
            "num_modes": coverage["num_modes"], "high_quality": coverage["high_quality"]}


def train_one(name: str, seed: int, steps: int, progress: bool = True):
    """One flow on mixture ``name`` with ``seed``: (model, config, history, scores)."""
    check_choice("data", name, sorted(MIXTURES))
    data = mixture_splits(name, seed)
    torch.manual_seed(seed)
    model, config = new_flow(data["train"])
    history = fit_flow(model, data["train"], data["valid"], steps, seed=seed, progress=progress)
    return model, config, history, score(model, name, data["test"], seed=seed)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train spline_flow",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=sorted(MIXTURES), required=True)
    p.add_argument("--seeds", type=arg_int(minimum=0), nargs="+", default=[0])
    p.add_argument("--steps", type=arg_int(), default=5000)
    p.add_argument("--threads", type=arg_int(), default=1)
    p.add_argument("--out", help="save the first seed's flow here (and record it in the manifest)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    results, first = [], None
    for seed in args.seeds:
        start = time.time()
        model, config, history, scores = train_one(args.data, seed, args.steps, progress=False)
        scores = {**scores, "seed": seed, "seconds": round(time.time() - start, 1)}
        print(scores, flush=True)
        results.append(scores)
        first = first or (model, config, history, scores)
    if args.out:
        model, config, history, scores = first
        command = " ".join(["python -m gm_helpers.train spline_flow",
                            *(argv if argv is not None else sys.argv[1:])])
        sha = save_checkpoint(args.out, model, "spline_flow", config, {**scores, "history": history})
        record_in_manifest(args.out, {
            "model": "spline_flow", "config": config, "data": args.data, "seed": scores["seed"],
            "steps": args.steps, "command": command, "test_nll": round(scores["test_nll"], 4),
            "entropy": round(scores["entropy"], 4), "seeds": results, "history": history,
            "hardware": hardware(), "wall_time_s": scores["seconds"], "torch": torch.__version__,
            "sha256": sha})
    return results


if __name__ == "__main__":
    main()
