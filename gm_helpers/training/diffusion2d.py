r"""Diffusion models on the 2-d benchmark mixtures of lecture 06: DDPM trained by its simple loss,
judged by lecture 06's mode table and by its ELBO against the data's entropy.

Points are divided by a scale of 0.25, i.e. made 4 times larger: the modes' standard deviations
(0.01 on the ring, 0.05 on the grid) become 0.04 and 0.2, wide beside the noise of the last steps
(sqrt(beta_1) = 0.01), so a small network can place its samples inside them. Measured on the
ring with seed 0 and 10,000 steps: 22 % high-quality samples at scale 1, 96 % at 0.25 (on the
grid 62 % at scale 1, 89 % at 0.5, 97.5 % at 0.25). The ELBO of the scaled points is corrected
by D log(scale) nats, so that it is in the data's own units.

    python -m gm_helpers.train ddpm_2d --data ring --seeds 0 1 2 3 4 --steps 10000 \
        --out gm_helpers/checkpoints/ddpm2d_ring.pt
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
from gm_helpers.models.diffusion import ddpm_2d
from gm_helpers.training.checkpoint import hardware, record_in_manifest
from gm_helpers.training.flows2d import mixture_splits
from gm_helpers.training.saving import save_checkpoint

SCALE = {"ring": 0.25, "grid": 0.25}
CONFIG = {"hidden": [128, 128, 128], "T": 1000, "schedule": "linear"}


def fit_score(net, train, sigmas, steps: int = 3000, batch_size: int = 1024, lr: float = 3e-3,
              seed: int = 0, progress: bool = True) -> list:
    """Denoising score matching at the noise levels ``sigmas``: a batch, a level per point, the
    mean || eps_hat - eps ||^2, Adam with a cosine learning rate. Returns the losses."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, check_size("steps", steps))
    losses = []
    for _ in tqdm(range(steps), disable=not progress, desc="steps"):
        loss = net.dsm_loss(train[torch.randint(len(train), (batch_size,), generator=g)], sigmas).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        losses.append(loss.item())
    return losses


def fit_ddpm(model, train, valid, steps: int = 10_000, batch_size: int = 512, lr: float = 1e-3,
             record_every: int = 250, seed: int = 0, progress: bool = True):
    """The loop: a batch, its mean L_simple, Adam with a cosine learning rate. Returns the
    history: steps, the batches' mean loss and the validation loss (one t per point)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, check_size("steps", steps))
    history = {"step": [], "train_loss": [], "valid_loss": []}
    running = []
    for step in tqdm(range(1, steps + 1), disable=not progress, desc="steps"):
        x = train[torch.randint(len(train), (batch_size,), generator=g)]
        loss = model.training_loss(x).mean()        # || eps - eps_theta(x_t, t) ||^2
        opt.zero_grad()
        loss.backward()
        opt.step()
        schedule.step()
        running.append(loss.item())
        if step % record_every == 0 or step == steps:
            with torch.no_grad():
                history["valid_loss"].append(model.training_loss(valid).mean().item())
            history["step"].append(step)
            history["train_loss"].append(sum(running) / len(running))
            running = []
    return history


@torch.no_grad()
def score(model, name: str, test, num_samples: int = 10_000, elbo_points: int = 2000,
          seed: int = 0) -> dict:
    """Lecture 06's mode table of ``num_samples`` ancestral samples (T steps), and the negative
    ELBO of ``elbo_points`` test points in the data's units against the data's entropy."""
    scale = SCALE[name]
    torch.manual_seed(seed)
    samples = model.sample(num_samples, generator=torch.Generator().manual_seed(seed)) * scale
    _, means, std = sample_mixture(name, 1)
    coverage = mode_coverage(samples, means, std)
    entropy, _ = mixture_entropy(name)
    # -log p(x) = -log p(x / scale) + D log(scale)
    neg_elbo = model.elbo_terms(test[:elbo_points] / scale)["total"].mean().item() + 2 * math.log(scale)
    return {"neg_elbo": neg_elbo, "entropy": entropy, "gap": neg_elbo - entropy,
            "modes": coverage["modes"], "num_modes": coverage["num_modes"],
            "high_quality": coverage["high_quality"]}


def train_one(name: str, seed: int, steps: int, progress: bool = True):
    """One DDPM on mixture ``name`` with ``seed``: (model, history, scores)."""
    check_choice("data", name, sorted(MIXTURES))
    data = {k: v / SCALE[name] for k, v in mixture_splits(name, seed).items()}
    torch.manual_seed(seed)
    model = ddpm_2d(**CONFIG, scale=SCALE[name])
    history = fit_ddpm(model, data["train"], data["valid"], steps, seed=seed, progress=progress)
    return model, history, score(model, name, data["test"] * SCALE[name], seed=seed)


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train ddpm_2d",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=sorted(MIXTURES), required=True)
    p.add_argument("--seeds", type=arg_int(minimum=0), nargs="+", default=[0])
    p.add_argument("--steps", type=arg_int(), default=10_000)
    p.add_argument("--threads", type=arg_int(), default=1)
    p.add_argument("--out", help="save the first seed's model here (and record it in the manifest)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    results, first = [], None
    for seed in args.seeds:
        start = time.time()
        model, history, scores = train_one(args.data, seed, args.steps, progress=False)
        scores = {**scores, "seed": seed, "seconds": round(time.time() - start, 1)}
        print(scores, flush=True)
        results.append(scores)
        first = first or (model, history, scores)
    if args.out:
        model, history, scores = first
        given = argv if argv is not None else sys.argv[1:]
        command = " ".join(["python -m gm_helpers.train ddpm_2d", *given])
        config = {**CONFIG, "scale": model.scale}
        sha = save_checkpoint(args.out, model, "ddpm_2d", config, {**scores, "history": history})
        record_in_manifest(args.out, {
            "model": "ddpm_2d", "config": config, "data": args.data, "seed": scores["seed"],
            "steps": args.steps, "command": command, "test_loss": round(scores["neg_elbo"], 4),
            "entropy": round(scores["entropy"], 4), "seeds": results, "history": history,
            "hardware": hardware(), "wall_time_s": scores["seconds"], "torch": torch.__version__,
            "sha256": sha})
    return results


if __name__ == "__main__":
    main()
