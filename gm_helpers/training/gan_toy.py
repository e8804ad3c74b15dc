r"""GANs on the 2-d benchmark mixtures: runs you can watch, mode collapse, and two remedies.

Paper card: Which Training Methods for GANs do actually Converge?
    L. Mescheder, A. Geiger, S. Nowozin. ICML 2018. arXiv:1801.04406.
    Idea: near its equilibrium the plain GAN game can circle instead of converge. Penalise the
    discriminator's gradient on the data (R1) and the game converges locally: D may not be
    steep where the data are, so it cannot keep pushing G's samples past them.

    L_D^{R1} = L_D + \frac{\gamma}{2} E_{x \sim p_data} \|\nabla_x l(x)\|^2   (``remedy="r1"``)

Paper card: PacGAN: The power of two samples in generative adversarial networks
    Z. Lin, A. Khetan, G. Fanti, S. Oh. NeurIPS 2018. arXiv:1712.04086.
    Idea: let the discriminator judge m samples at once ("packing"): a pack of m real points
    or of m generated points, concatenated into one input of m * d numbers. A generator that
    has collapsed onto a few modes makes packs with no variety, which a packed D tells from
    real packs easily. Same loss, same G, D's first layer m times wider (``remedy="pacgan"``).

``run`` trains one GAN by ``train_gan`` and keeps snapshots (generated points, D on a grid,
G's gradient field) for the figures and the explorer widget; ``mode_table`` runs seeds:

    python -m gm_helpers.gan_toy --seeds 5 --steps 20000 --anneal --workers 2
"""
from __future__ import annotations

import math
import time

import torch
from tqdm.auto import tqdm

from gm_helpers.analysis.mixtures import MIXTURES, mode_coverage, sample_mixture
from gm_helpers.models.gan import generator_loss, networks
from gm_helpers.training.checkpoint import CHECKPOINT_DIR
from gm_helpers.training.gan import train_gan


@torch.no_grad()
def snapshot(G, D, step: int, latent: int, lim: float, num_points: int = 500, res: int = 60,
             arrows: int = 15, kind: str = "non-saturating") -> dict:
    """What the figures draw at one moment of training: ``num_points`` samples of G (fixed
    noise), D(x) on a res x res grid over [-lim, lim]^2, and the direction a generated point at
    each of arrows x arrows places would move: -grad_x of the generator loss."""
    z = torch.randn(num_points, latent, generator=torch.Generator().manual_seed(123))
    axis = torch.linspace(-lim, lim, res)
    grid = torch.cartesian_prod(axis, axis).flip(1)  # (res*res, 2), x fastest
    d_grid = torch.sigmoid(D.point_logit(grid)).view(res, res)  # rows: y, columns: x
    coarse = torch.cartesian_prod(*[torch.linspace(-lim, lim, arrows)] * 2).flip(1)
    with torch.enable_grad():
        x = coarse.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(generator_loss(D.point_logit(x), kind) * len(x), x)
    return {"step": step, "points": G(z), "d_grid": d_grid, "arrows": coarse, "field": -grad}


def run(dataset: str = "ring", loss: str = "non-saturating", k: int = 1, lr_g: float = 1e-3,
        lr_d: float = 1e-3, remedy: str = "none", seed: int = 0, num_steps: int = 2000,
        batch_size: int = 256, snapshots: int = 10, latent: int = 2, hidden: int = 128,
        depth: int = 3, pack: int = 4, anneal: bool = False, r1: float = 0.1,
        progress: bool = False) -> dict:
    """Train one GAN on the mixture ``dataset`` by Algorithm 1; return its history, its
    snapshots (``snapshots`` evenly spaced, plus the start), and the mode metrics of 2,500
    samples (the benchmark's protocol). ``remedy="r1"`` trains D with the gradient penalty
    ``r1`` (``d_step``). ``anneal``: both learning rates follow a cosine from
    their start to 0 over the run, so the last steps only refine."""
    torch.manual_seed(seed)
    G, D = networks(remedy, latent, hidden, depth, pack)
    _, means, std = sample_mixture(dataset, 1)
    lim = means.abs().max().item() * 1.5
    every = max(1, num_steps // snapshots)
    shots = [snapshot(G, D, 0, latent, lim, kind=loss)]

    optimizers = (torch.optim.Adam(G.parameters(), lr=lr_g, betas=(0.5, 0.999)),
                  torch.optim.Adam(D.parameters(), lr=lr_d, betas=(0.5, 0.999)))

    def keep(step, history):
        if anneal:  # lr_t = lr_0 (1 + cos(pi t / T)) / 2
            for optimizer, lr in zip(optimizers, (lr_g, lr_d)):
                optimizer.param_groups[0]["lr"] = lr * (1 + math.cos(math.pi * (step + 1) / num_steps)) / 2
        if (step + 1) % every == 0 or step + 1 == num_steps:
            shots.append(snapshot(G, D, step + 1, latent, lim, kind=loss))

    data_seed = iter(range(seed * 10**6, (seed + 1) * 10**6))  # fresh, repeatable batches
    start = time.time()
    history = train_gan(G, D, lambda n: sample_mixture(dataset, n, next(data_seed))[0],
                            num_steps, k=k, loss=loss, batch_size=batch_size, lr_g=lr_g,
                            lr_d=lr_d, latent=latent, progress=progress, on_step=keep, seed=seed,
                            optimizers=optimizers, r1=r1 if remedy == "r1" else 0.0)
    with torch.no_grad():
        samples = G(torch.randn(2500, latent, generator=torch.Generator().manual_seed(seed)))
    metrics = mode_coverage(samples, means, std)
    real = sample_mixture(dataset, 1000, seed=10**9)[0]  # for the figures
    return {"history": history, "snapshots": shots, "metrics": metrics, "samples": samples,
            "real": real, "means": means, "std": std,
            "final_lr": [optimizer.param_groups[0]["lr"] for optimizer in optimizers], "lim": lim,
            "seconds": time.time() - start, "G": G, "D": D}


def _table_row(job) -> dict:
    dataset, remedy, seed, settings = job
    torch.set_num_threads(1)  # one run per core
    result = run(dataset, remedy=remedy, seed=seed, snapshots=1, **settings)
    return {"dataset": dataset, "remedy": remedy, "seed": seed,
            "modes": result["metrics"]["modes"],
            "high_quality": round(result["metrics"]["high_quality"], 4),
            "seconds": round(result["seconds"], 1)}


def mode_table(datasets=("ring", "grid"), remedies=("none", "r1"), seeds=range(5),
               progress: bool = True, workers: int = 1, **settings) -> list:
    """Modes captured and % high quality for every (dataset, remedy, seed): a list of rows.
    ``workers > 1`` runs that many in parallel processes (each run seeds itself, so the rows
    are the same either way)."""
    jobs = [(d, r, s, settings) for d in datasets for r in remedies for s in seeds]
    if workers == 1:
        return [_table_row(job) for job in tqdm(jobs, desc="runs", disable=not progress)]
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return list(tqdm(pool.imap(_table_row, jobs), total=len(jobs), desc="runs",
                         disable=not progress))


def summarise(rows) -> dict:
    """(dataset, remedy) -> mean and std over seeds of modes captured and % high quality."""
    out = {}
    for key in sorted({(r["dataset"], r["remedy"]) for r in rows}):
        group = [r for r in rows if (r["dataset"], r["remedy"]) == key]
        modes = torch.tensor([float(r["modes"]) for r in group])
        hq = torch.tensor([float(r["high_quality"]) for r in group])
        out[key] = {"seeds": len(group), "num_modes": len(MIXTURES[key[0]][0]()),
                    "modes_mean": modes.mean().item(), "modes_std": modes.std(unbiased=False).item(),
                    "hq_mean": hq.mean().item(), "hq_std": hq.std(unbiased=False).item()}
    return out


def parser():
    import argparse
    p = argparse.ArgumentParser(prog="python -m gm_helpers.gan_toy")
    p.add_argument("--datasets", default="ring,grid")
    p.add_argument("--remedies", default="none,r1")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--steps", type=int, default=10000)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--anneal", action="store_true")
    p.add_argument("--r1", type=float, default=0.1, help="the remedy r1's penalty weight")
    p.add_argument("--workers", type=int, default=1, help="runs in parallel, one core each")
    p.add_argument("--out", default=str(CHECKPOINT_DIR / "gan_toy_modes.json"))
    return p


def main(argv=None) -> dict:
    """``python -m gm_helpers.gan_toy --seeds 5 --steps 20000 --anneal``: the mode table."""
    import json
    import shlex
    import sys

    from gm_helpers.training.checkpoint import hardware
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    settings = {"num_steps": args.steps, "lr_g": args.lr, "lr_d": args.lr, "anneal": args.anneal,
                "r1": args.r1}
    start = time.time()
    rows = mode_table(args.datasets.split(","), args.remedies.split(","), range(args.seeds),
                      workers=args.workers, **settings)
    result = {"command": "python -m gm_helpers.gan_toy " + shlex.join(argv), "settings": settings,
              "hardware": f"{hardware().split(' CPU')[0]} CPU, {args.workers} process(es) of 1 thread",
              "wall_time_s": round(time.time() - start, 1), "torch": torch.__version__, "rows": rows}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    for key, s in summarise(rows).items():
        print(key, s)
    return result


if __name__ == "__main__":
    main()
