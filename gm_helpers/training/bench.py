"""How fast does each model train and sample on this machine? A benchmark, not a test.

    python -m gm_helpers.training.bench           # every registered model, all settings
    python -m gm_helpers.training.bench made pixelcnn --no-compile --seconds 2
    python -m gm_helpers.training.bench --fast-sampling    # plain vs incremental / cached sampling

For each model, at the size the lectures ship, it measures training images/s (one Adam step
on a batch of random binary images, timed over a few seconds after warm-up) and sampling
images/s, in fp32 and under bfloat16 autocast, eager and ``torch.compile``d. For the models
whose work is matrix products (MADE, FVSBN, the VAE) it also prints the achieved fraction of
this machine's measured matmul throughput: FLOPs of a training step / time / peak FLOP/s,
where the peak is measured here on a large square matmul of the same dtype.

The output is a Markdown table for the instructor guide (docs/instructors.md, Speed). Timings are
noisy while anything else runs: compare numbers from one run only.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn as nn

from gm_helpers.analysis.timing import cpu_time, one_thread
from gm_helpers.models.pixelcnn_cache import sample_cached, sample_cached_gated
from gm_helpers.models.registry import build_model
from gm_helpers.training.loop import per_example_loss
from gm_helpers.training.runs import native_bf16

# name -> (registered model, config, training batch size): the sizes the lectures ship
BENCH = {
    "fvsbn": ("fvsbn", {}, 100),
    "nade": ("nade", {"H": 500}, 100),
    "made 1x500": ("made", {"hidden": [500]}, 100),
    "made 2x500, 8 masks": ("made", {"hidden": [500, 500], "num_masks": 8}, 100),
    "made 1x8000": ("made", {"hidden": [8000]}, 100),
    "pixelcnn 32x10": ("pixelcnn", {"hidden": 32, "num_layers": 10}, 32),
    "gated_pixelcnn 16x5": ("gated_pixelcnn", {"hidden": 16, "num_layers": 5}, 32),
    "pixelcnn 256-way softmax 32x5": ("pixelcnn", {"hidden": 32, "num_layers": 5, "levels": 256}, 32),
    "mixture_pixelcnn 32x5, K=5": ("mixture_pixelcnn", {"hidden": 32, "num_layers": 5}, 32),
    "row_lstm h16x2": ("row_lstm", {"hidden": 16, "num_layers": 2}, 32),
    "diagonal_bilstm h16x2": ("diagonal_bilstm", {"hidden": 16, "num_layers": 2}, 32),
    "vae 784-200-200-50": ("vae", {}, 100),
    "iwae 784-200-200-50, k=5": ("iwae", {}, 100),
}

# torch.compile unrolls Python loops: the Diagonal BiLSTM's 2 directions x 2 layers x 55
# diagonal steps make a graph that takes minutes to compile on this CPU, so it is not timed
NOT_COMPILED = {"diagonal_bilstm h16x2"}


def matmul_peak(dtype=torch.float32, n=2048, seconds=2.0) -> float:
    """FLOP/s of an (n, n) @ (n, n) matrix product on this CPU, in the given dtype."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b  # warm-up
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start)


def train_flops(model) -> float | None:
    """FLOPs of one training step per image for the models made of matrix products (forward
    2 per multiply-add, backward twice the forward); None for the others."""
    leaves = [m for m in model.modules() if not list(m.children())]
    if type(model).__name__ == "FVSBN":
        macs = model.W.numel()
    elif leaves and all(isinstance(m, (nn.Linear, nn.Tanh, nn.ReLU)) for m in leaves):
        macs = sum(m.weight.numel() for m in leaves if isinstance(m, nn.Linear))  # MADE, VAE
        if getattr(model, "k", 1) > 1:  # IWAE: the decoder runs once per importance sample
            macs += (model.k - 1) * sum(m.weight.numel() for m in model.decoder.modules()
                                        if isinstance(m, nn.Linear))
    else:
        return None
    return 3 * 2 * macs


def _images(model, batch_size):
    shape = (batch_size, 1, 28, 28) if hasattr(model, "image_size") else (batch_size, model.D)
    return torch.bernoulli(torch.full(shape, 0.13), generator=torch.Generator().manual_seed(0))


def _timed(step, seconds) -> float:
    """Seconds per call of ``step``, after two warm-up calls (compilation happens there)."""
    step()
    step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or count < 2:
        step()
        count += 1
    return (time.perf_counter() - start) / count


def bench_training(name, config, batch_size, amp, compiled, seconds) -> float:
    """Training images/s: Adam steps on what training minimises (the NLL, or a VAE's -ELBO)
    for a random batch."""
    torch.manual_seed(0)
    model = build_model(name, config).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def loss_fn(x):
        return per_example_loss(model, x)
    loss_fn = torch.compile(loss_fn) if compiled else loss_fn
    x = _images(model, batch_size)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            loss = loss_fn(x).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return batch_size / _timed(step, seconds)


def bench_sampling(name, config, amp, num_samples=4) -> float:
    """Sampling images/s: ``model.sample(num_samples)``, one pass per pixel (eager only: the
    samplers call the network on a growing crop, which would recompile at every shape)."""
    torch.manual_seed(0)
    model = build_model(name, config).eval()
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
        model.sample(num_samples)
    return num_samples / (time.perf_counter() - start)


def _share(achieved: float, peak: float, amp: bool, native: bool | None) -> str:
    """The fraction of the matmul peak a training step reached, or a dash with the reason where
    the fraction means nothing: bf16 without native support (the emulated peak is a few
    GFLOP/s, and a model whose small products stay fp32 would show thousands of percent)."""
    if amp and native is False:
        return "— (no native bf16)"
    return f"{achieved / peak:.0%}" if peak > 0 else "—"


# name -> (model, config, the fast sampler): samplers that skip recomputing the pixels drawn
FAST_SAMPLERS = {
    "made 1x8000": ("made", {"hidden": [8000]}, "incremental",
                    lambda model, n, g: model.sample_incremental(n, generator=g)),
    "pixelcnn 32x10": ("pixelcnn", {"hidden": 32, "num_layers": 10}, "cached",
                       lambda model, n, g: sample_cached(model, n, generator=g)),
    "gated pixelcnn 16x5": ("gated_pixelcnn", {"hidden": 16, "num_layers": 5}, "cached",
                            lambda model, n, g: sample_cached_gated(model, n, generator=g)),
}


def bench_fast_sampling(batches=(1, 16)) -> list[dict]:
    """CPU seconds (one thread, the fastest of a few runs; the plain sampler once) to draw a
    batch with each model's plain sampler and with its fast one, which draws the same images."""
    rows = []
    print("| model | sampler | batch | plain (s) | fast (s) | speed-up |\n|---|---|---|---|---|---|")
    for key, (name, config, kind, fast) in FAST_SAMPLERS.items():
        torch.manual_seed(0)
        model = build_model(name, config).eval()
        for n in batches:
            with one_thread():
                plain = cpu_time(lambda: model.sample(n, generator=torch.Generator().manual_seed(0)), 1)
                quick = cpu_time(lambda: fast(model, n, torch.Generator().manual_seed(0)), 3)
            rows.append({"model": key, "batch": n, "plain": plain, "fast": quick})
            print(f"| {key} | {kind} | {n} | {plain:.2f} | {quick:.3f} | {plain / quick:.0f}x |",
                  flush=True)
    return rows


def main(argv=None) -> list[dict]:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.training.bench",
                                description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="*", default=list(BENCH),
                   help=f"which (prefix match) of: {', '.join(BENCH)}")
    p.add_argument("--seconds", type=float, default=3.0, help="timing window per measurement")
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--no-compile", action="store_true", help="skip the torch.compile columns")
    p.add_argument("--no-sampling", action="store_true")
    p.add_argument("--fast-sampling", action="store_true",
                   help="only the table of plain against incremental / cached sampling")
    args = p.parse_args(argv)
    if args.fast_sampling:
        return bench_fast_sampling()
    torch.set_num_threads(args.threads)
    chosen = [k for k in BENCH if any(k.startswith(m) for m in args.models)]
    if not chosen:
        p.error(f"no model matches {args.models}; choose from {list(BENCH)}")

    native = native_bf16()
    # an emulated bf16 peak means nothing (the share column prints a dash there) and takes
    # minutes to measure on a 2048-matrix: it is measured only where bf16 may be native
    peak = {False: matmul_peak(torch.float32, seconds=min(2.0, args.seconds)),
            True: matmul_peak(torch.bfloat16, seconds=min(2.0, args.seconds))
            if native is not False else 0.0}
    bf16_peak = f"{peak[True] / 1e9:.1f} GFLOP/s bf16" if native is not False else "bf16 not measured"
    print(f"# {platform.processor() or platform.machine()}, {args.threads} threads, torch "
          f"{torch.__version__}; matmul peak {peak[False] / 1e9:.0f} GFLOP/s fp32, "
          f"{bf16_peak}; native bf16 on this CPU: "
          f"{ {True: 'yes', False: 'no (bf16 is emulated: slow)', None: 'unknown'}[native]}",
          flush=True)
    settings = [(amp, c) for c in ([False] if args.no_compile else [False, True]) for amp in (False, True)]
    head = [f"train {'bf16' if a else 'fp32'}{' compiled' if c else ''}" for a, c in settings]
    print("| model | batch | " + " | ".join(f"{h} (img/s)" for h in head)
          + " | sample fp32 (img/s) | sample bf16 (img/s) | matmul peak used, fp32 / bf16 |")
    print("|---" * (len(head) + 5) + "|")
    rows = []
    for key in chosen:
        name, config, batch_size = BENCH[key]
        row = {"model": key, "batch_size": batch_size, "train": {}, "sample": {}}
        for amp, compiled in settings:
            if compiled and key in NOT_COMPILED:
                continue
            row["train"][(amp, compiled)] = bench_training(name, config, batch_size, amp,
                                                           compiled, args.seconds)
        if not args.no_sampling:
            row["sample"] = {amp: bench_sampling(name, config, amp) for amp in (False, True)}
        flops = train_flops(build_model(name, config))
        used = " / ".join(_share(row["train"][(amp, False)] * flops, peak[amp], amp, native)
                          for amp in (False, True)) if flops else "—"
        cells = [f"{row['train'][s]:,.0f}" if s in row["train"] else "—" for s in settings]
        cells += [f"{row['sample'][a]:.2f}" if row["sample"] else "—" for a in (False, True)]
        print(f"| {key} | {batch_size} | " + " | ".join(cells) + f" | {used} |", flush=True)
        rows.append(row)
    return rows


if __name__ == "__main__":
    main()
