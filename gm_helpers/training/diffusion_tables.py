r"""The tables lecture 08 measures once: sampling steps against sample quality, and the exact NLL
of the masked diffusion model along single orderings.

**Steps.** A diffusion model's sampler can take fewer steps than it was trained with (DDIM, for a DDPM; for
masked diffusion, unmasking several pixels a step); fewer steps cost less and, past a point, give
worse digits. For each step count this draws ``--num`` digits with one seed, times them (CPU
seconds, and network passes), and scores them with the course's digit classifier (lecture 06's
label histogram and Frechet distance to the validation digits), with the real-vs-real baseline at
the same number of digits. The table is written as JSON beside the checkpoints:

    python -m gm_helpers.train diffusion_steps --of ddpm.pt --num 1000 --steps 10 20 50 100 1000 \
        --out gm_helpers/checkpoints/ddpm_steps.json

**Orderings.** The masked diffusion model holds an autoregressive model for every ordering of the
pixels; along one ordering its NLL is exact (784 network passes per digit). For a few orderings
(raster, column by column, from the centre out, from the border in, and random ones) this
measures it on the first ``--num`` test digits, beside the model's bound (the expectation over
all orderings) on the same digits:

    python -m gm_helpers.train masked_orders --of masked_diffusion.pt --num 100 \
        --out gm_helpers/checkpoints/masked_orders.json
"""
from __future__ import annotations

import argparse
import inspect
import json
import shlex
import sys
import time

import torch

from gm_helpers.analysis.sample_quality import feature_statistics, frechet_distance, logits
from gm_helpers.checks import arg_int
from gm_helpers.data import load_binarized_mnist
from gm_helpers.training.checkpoint import CheckpointError, hardware, load_shipped


def sample_in_chunks(model, num: int, generator, **kwargs) -> torch.Tensor:
    """``model.sample`` in chunks of the model's ``eval_batch_size`` (a U-Net on 10,000 digits at
    once needs gigabytes of activations), one generator drawn on in turn: the same seed gives the
    same samples."""
    chunk = getattr(model, "eval_batch_size", None) or num
    with torch.no_grad():
        return torch.cat([model.sample(min(chunk, num - start), generator=generator, **kwargs)
                          for start in range(0, num, chunk)])


def sample_with_steps(model, num: int, steps: int, seed: int, eta: float = 0.0) -> torch.Tensor:
    """``num`` binary digits (N, 1, 28, 28) in ``steps`` sampling steps: a DDPM with steps >= T
    samples ancestrally (all T steps), else by DDIM with noise ``eta``; masked diffusion unmasks
    in ``steps`` rounds."""
    g = torch.Generator().manual_seed(seed)
    if hasattr(model, "T"):
        strided = {"steps": steps, "eta": eta} if steps < model.T else {}
        x = sample_in_chunks(model, num, g, **strided)
    else:
        x = sample_in_chunks(model, num, g, steps=steps)
    return x.reshape(num, 1, 28, 28)


def steps_table(model, classifier, steps_list, num: int, seed: int = 0, data_dir=None,
                etas=(0.0,)) -> dict:
    """For each step count (and, for a DDPM's strided sampler, each noise level ``eta``): seconds,
    seconds per digit, class fractions, Frechet distance; and the real-vs-real Frechet distance of
    ``num`` training digits (the floor at this sample size)."""
    reference = feature_statistics(logits(classifier, load_binarized_mnist("valid", data_dir)))
    real = load_binarized_mnist("train", data_dir)[:num]
    rows = []
    strided = hasattr(model, "T")
    runs = [(steps, eta) for steps in steps_list
            for eta in (etas if strided and steps < model.T else (None,))]
    for steps, eta in runs:
        start = time.process_time()
        x = sample_with_steps(model, num, steps, seed, **({"eta": eta} if eta else {}))
        seconds = time.process_time() - start
        features = logits(classifier, x)
        counts = torch.bincount(features.argmax(1), minlength=10)
        rows.append({"steps": steps, **({"eta": eta} if eta is not None else {}),
                     "cpu_seconds": round(seconds, 1),
                     "cpu_seconds_per_digit": round(seconds / num, 4),
                     "frechet": round(frechet_distance(*feature_statistics(features), *reference), 3),
                     "class_fractions": [round(c, 4) for c in (counts / num).tolist()]})
        print(rows[-1], flush=True)
    real_fd = frechet_distance(*feature_statistics(logits(classifier, real)), *reference)
    return {"num": num, "seed": seed, "rows": rows, "frechet_real_vs_real": round(real_fd, 3)}


def named_orders(side: int = 28, num_random: int = 2) -> dict:
    """Orderings of a side x side image: name -> permutation of range(side^2)."""
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    centre = (side - 1) / 2
    radius = ((rows - centre) ** 2 + (cols - centre) ** 2).flatten()
    # ties broken by raster position: a stable sort
    orders = {"raster (row by row)": torch.arange(side * side),
              "column by column": (cols * side + rows).flatten().argsort(),
              "centre outwards": radius.argsort(stable=True),
              "border inwards": (-radius).argsort(stable=True)}
    for seed in range(num_random):
        g = torch.Generator().manual_seed(seed)
        orders[f"random (seed {seed})"] = torch.randperm(side * side, generator=g)
    return orders


def orders_table(model, x, num_draws: int = 64, seed: int = 0, num_random: int = 2) -> dict:
    """Each named ordering's exact NLL of the digits ``x`` (mean, nats), with ``num_random``
    random orderings among them, and the bound (the expectation over orderings, ``num_draws``
    stratified draws per digit) on the same digits."""
    rows = []
    for name, order in named_orders(num_random=num_random).items():
        start = time.process_time()
        nll = model.order_nll(x, order).mean().item()
        seconds = time.process_time() - start
        rows.append({"order": name, "nll": round(nll, 3), "cpu_seconds": round(seconds, 1)})
        print(rows[-1], flush=True)
    bound = model.nll_bound(x, num_draws, generator=torch.Generator().manual_seed(seed)).mean().item()
    return {"num": len(x), "rows": rows, "bound": round(bound, 3), "bound_draws": num_draws}


def orders_main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train masked_orders",
                                description="The masked diffusion model's exact NLL along single orderings.")
    p.add_argument("--of", required=True, help="a shipped masked diffusion checkpoint")
    p.add_argument("--num", type=arg_int(1, 10_000), default=100, help="the first NUM test digits")
    p.add_argument("--random", type=arg_int(0), default=2, help="how many random orderings")
    p.add_argument("--threads", type=arg_int(1), default=1)
    p.add_argument("--out", required=True, help="the JSON file to write")
    args = p.parse_args(argv)
    try:
        model, _ = load_shipped(args.of)
    except CheckpointError as err:
        p.error(str(err))
    if not hasattr(model, "order_nll"):
        p.error(f"--of {args.of}: a {type(model).__name__} has no orderings to choose")
    torch.set_num_threads(args.threads)
    table = orders_table(model, load_binarized_mnist("test")[:args.num], num_random=args.random)
    _write(table, args, "masked_orders", argv)
    return table


def _write(table: dict, args, name: str, argv) -> None:
    command = f"python -m gm_helpers.train {name} " + shlex.join(argv if argv is not None else sys.argv[1:])
    table.update({"of": args.of, "command": command, "hardware": hardware(), "threads": args.threads,
                  "torch": torch.__version__})
    with open(args.out, "w") as f:
        json.dump(table, f, indent=1)
        f.write("\n")


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train diffusion_steps",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--of", required=True, help="a shipped diffusion checkpoint, e.g. ddpm.pt")
    p.add_argument("--num", type=arg_int(1, 10_000), default=1000)
    p.add_argument("--steps", type=arg_int(1), nargs="+", required=True)
    p.add_argument("--eta", type=float, nargs="+", default=[0.0],
                   help="a DDPM's strided sampler: a row for each noise level (0: DDIM, 1: as "
                        "much fresh noise as the ancestral sampler)")
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--threads", type=arg_int(1), default=1)
    p.add_argument("--out", required=True, help="the JSON file to write")
    args = p.parse_args(argv)
    if any(not 0 <= eta <= 1 for eta in args.eta):
        p.error(f"--eta: every value must be in [0, 1], got {args.eta}")
    try:
        model, _ = load_shipped(args.of)
        classifier, _ = load_shipped("digit_classifier.pt")
    except CheckpointError as err:
        p.error(str(err))
    if "steps" not in inspect.signature(getattr(model, "sample", lambda: None)).parameters:
        p.error(f"--of {args.of}: a {type(model).__name__} has no sampler with steps")
    torch.set_num_threads(args.threads)
    if args.eta != [0.0] and not hasattr(model, "T"):
        p.error(f"--eta: a {type(model).__name__} has no strided DDPM sampler")
    table = steps_table(model, classifier, args.steps, args.num, args.seed, etas=args.eta)
    _write(table, args, "diffusion_steps", argv)
    return table


if __name__ == "__main__":
    main()
