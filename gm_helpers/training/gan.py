r"""Training GANs: Algorithm 1 as two explicit steps, ``d_step`` and ``g_step``, and the DCGAN.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import time

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from tqdm.auto import tqdm

from gm_helpers.checks import MAX_SAMPLES, arg_float, arg_int, check_size
from gm_helpers.models.dcgan import Discriminator, Generator, InstanceNoise
from gm_helpers.models.gan import GENERATOR_LOSSES, discriminator_loss, generator_loss
from gm_helpers.training.checkpoint import CheckpointError, hardware, read_manifest, record_in_manifest
from gm_helpers.training.resume import output_paths, resume_arguments
from gm_helpers.training.runs import load_run, restore_average, rng_state, set_rng_state
from gm_helpers.training.saving import atomic_save, cpu_state_dict, save_checkpoint


def _grad_norm(module) -> float:
    norms = [p.grad.norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm().item() if norms else 0.0


def stop_if_not_finite(name: str, loss, grad: float, x_real=None) -> None:
    """Called after ``backward`` and before ``optimizer.step``: a NaN or infinite loss or
    gradient must never reach the optimizer, which would write it into every weight. Raises
    ``FloatingPointError`` naming the cause; the networks are left as they were."""
    if x_real is not None and not torch.isfinite(x_real).all():
        raise FloatingPointError(f"the data batch holds {int((~torch.isfinite(x_real)).sum())} NaN "
                                 f"or infinite value(s): clean the data; G and D were not updated")
    if not (math.isfinite(loss.item()) and math.isfinite(grad)):
        raise FloatingPointError(f"{name}'s loss is {loss.item()} and its gradient norm {grad}: "
                                 f"lower the learning rates; G and D were not updated")


def d_step(G, D, x_real, optimizer_d, latent: int, amp: bool = False, r1: float = 0.0) -> dict:
    """One discriminator update on a batch of data and as many fresh samples of G.

    ``r1 > 0`` adds Mescheder et al.'s (2018) gradient penalty on the data,
    r1/2 * E_data ||grad_x l(x)||^2: D may not change steeply where the data are, which damps
    the game's oscillation around the equilibrium."""
    z = torch.randn(len(x_real), latent, device=x_real.device)
    x_real = x_real.detach().requires_grad_(r1 > 0)
    with torch.autocast(x_real.device.type, dtype=torch.bfloat16, enabled=amp):
        with torch.no_grad():
            x_fake = G(z)
        real_logits, fake_logits = D(x_real).float(), D(x_fake).float()
    loss = discriminator_loss(real_logits, fake_logits)
    if r1 > 0:
        (grad,) = torch.autograd.grad(real_logits.sum(), x_real, create_graph=True)
        loss = loss + r1 / 2 * grad.pow(2).flatten(1).sum(1).mean()
    optimizer_d.zero_grad(set_to_none=True)
    loss.backward()
    grad = _grad_norm(D)
    stop_if_not_finite("D", loss, grad, x_real)  # before the step that would spread it
    optimizer_d.step()
    return {"d_loss": loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
            "d_fake": torch.sigmoid(fake_logits).mean().item(), "d_grad": grad}


def g_step(G, D, batch_size: int, optimizer_g, latent: int, kind: str, device,
           amp: bool = False) -> dict:
    """One generator update through the (fixed) discriminator."""
    z = torch.randn(batch_size, latent, device=device)
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=amp):
        fake_logits = D(G(z)).float()
    loss = generator_loss(fake_logits, kind)
    optimizer_g.zero_grad(set_to_none=True)
    loss.backward()
    grad = _grad_norm(G)
    stop_if_not_finite("G", loss, grad)
    optimizer_g.step()
    D.zero_grad(set_to_none=True)  # G's step left gradients in D: not D's to use
    return {"g_loss": loss.item(), "g_grad": grad}


def train_gan(G, D, data, num_steps: int, k: int = 1, loss: str = "non-saturating",
              batch_size: int = 256, lr_g: float = 1e-4, lr_d: float = 1e-4, latent: int = 2,
              betas=(0.5, 0.999), device="cpu", progress: bool = True, on_step=None,
              seed: int | None = None, optimizers=None, amp: bool = False,
              r1: float = 0.0) -> dict:
    """Algorithm 1 of Goodfellow et al.: each of ``num_steps`` iterations takes ``k``
    discriminator steps (each on a fresh minibatch of ``data``), then one generator step.

    ``data``: a tensor (N, ...) to draw minibatches from, or a function ``batch_size -> batch``.
    Returns the history, one entry per iteration: d_loss, g_loss, d_real = mean D(x),
    d_fake = mean D(G(z)) (before the G step), d_grad, g_grad (gradient norms).
    A non-finite loss or gradient stops training before the step that would spread it
    (``stop_if_not_finite``): the networks keep the weights of the last good step.

    ``optimizers``: (optimizer_g, optimizer_d) to go on with (the DCGAN's epochs call this
    once per epoch and keep Adam's state); by default two fresh Adams. ``amp``: bfloat16
    autocast for the networks (the losses stay fp32). ``r1``: D's gradient penalty (d_step).
    """
    num_steps, k = check_size("num_steps", num_steps), check_size("k", k)
    batch_size = check_size("batch_size", batch_size)
    if loss not in GENERATOR_LOSSES:
        raise ValueError(f"loss must be one of {GENERATOR_LOSSES}, got {loss!r}")
    if seed is not None:
        torch.manual_seed(seed)
    device = torch.device(device)
    G.to(device).train(), D.to(device).train()
    optimizer_g, optimizer_d = optimizers or (
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas))

    def batch():
        if callable(data):
            return data(batch_size).to(device)
        return data[torch.randint(len(data), (batch_size,))].to(device)

    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad")}
    for step in tqdm(range(num_steps), desc="GAN", disable=not progress):
        try:
            for _ in range(k):  # k steps of D: ascend V(D, G)
                d_stats = d_step(G, D, batch(), optimizer_d, latent, amp, r1)
            g_stats = g_step(G, D, batch_size, optimizer_g, latent, loss, device, amp)  # one of G
        except FloatingPointError as err:
            raise FloatingPointError(f"iteration {step}: {err}") from None
        for key, value in {**d_stats, **g_stats}.items():
            history[key].append(value)
        if on_step is not None:
            on_step(step, history)
    return history


def train_discriminator(G, D, data, num_steps: int, batch_size: int = 512, lr: float = 1e-3,
                        latent: int = 1, progress: bool = False) -> list:
    """The inner max of the game alone: ``num_steps`` of ``d_step`` against a fixed G, so D
    approaches D* = p_data / (p_data + p_g). ``data``: a function ``batch_size -> batch``.
    Returns D's loss per step."""
    optimizer_d = torch.optim.Adam(D.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(check_size("num_steps", num_steps)), desc="D", disable=not progress):
        losses.append(d_step(G, D, data(batch_size), optimizer_d, latent)["d_loss"])
    return losses


def standing_statistics(G, num: int = 10_000, batch: int = 500, seed: int = 0) -> None:
    """Recompute the batch-norm statistics that ``G`` uses in eval mode from ``num`` fresh
    noise vectors (Brock et al. 2019's "standing statistics"): an average of G's weights over
    training (``ema``) never ran the data through itself, so the running statistics it inherited
    belong to other weights. ``torch.optim.swa_utils.update_bn`` does the pass, one cumulative
    average over every batch."""
    g = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    batches = [torch.randn(batch, G.latent, generator=g).to(device) for _ in range(-(-num // batch))]
    update_bn(batches, G, device=device)
    G.eval()


def train_dcgan(G, D, data, num_epochs: int, batch_size: int = 64, lr: float = 2e-4,
                k: int = 1, loss: str = "non-saturating", device="cpu", amp: bool = False,
                progress: bool = True, run_path=None, resume: bool = False, run_info=None,
                max_seconds: float | None = None, snapshot_z=None, on_epoch_end=None,
                ema: float | None = None, score=None, r1: float = 0.0) -> dict:
    """Algorithm 1 in epochs of len(data) / batch_size iterations (``train_gan`` with the
    same two Adams throughout). After each epoch: G's samples from the fixed ``snapshot_z``
    are kept (samples over training), ``score(G)`` (a dict, e.g. the Frechet distance of a
    few thousand samples) is appended to ``run["epoch_scores"]`` and, with ``run_path``, a run
    file lets ``resume=True`` go on where a stopped run ended. ``r1``: D's gradient penalty
    (``d_step``).

    ``ema``: also keep an exponential moving average of G's weights, w_ema <- d w_ema +
    (1 - d) w after every generator step with d = ``ema`` (Yazici et al. 2019, "The unusual
    effectiveness of averaging in GAN training"): the game makes G's weights circle around
    the equilibrium rather than settle, and their average sits nearer its centre. Snapshots,
    scores and the returned ``run["generator"]`` are then the averaged G's, with standing
    batch-norm statistics (``standing_statistics``); else ``run["generator"]`` is G.
    Returns the run: history (per iteration), snapshots, epoch_scores, generator."""
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    average = None
    if ema is not None:
        if not 0 < ema < 1:
            raise ValueError(f"ema must be in (0, 1), got {ema}")
        average = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(ema), use_buffers=False)
    run = {"epoch": 0, "history": {}, "snapshots": [], "seconds": [], "epoch_scores": [],
           **(run_info or {})}
    if resume:
        saved = load_run(run_path)
        G.load_state_dict(saved.pop("state_dict"))
        D.load_state_dict(saved.pop("d_state_dict"))
        opt_g.load_state_dict(saved.pop("optimizer"))
        opt_d.load_state_dict(saved.pop("d_optimizer"))
        restore_average(average, saved, run_path, "G's weights: resume it "
                        + ("with" if "ema_state" in saved else "without") + " --ema")
        set_rng_state(saved.pop("rng"))
        run.update(saved)
        run.update(run_info or {})
    G.to(device), D.to(device)
    if average is not None:
        average.to(device)
    start = time.time() - (run["seconds"][-1] if run["seconds"] else 0.0)
    steps_per_epoch = len(data) // batch_size
    after_step = (lambda step, history: average.update_parameters(G)) if average is not None else None
    shown = G if average is None else average.module  # the generator judged and kept

    for epoch in range(run["epoch"], num_epochs):
        history = train_gan(G, D, data, steps_per_epoch, k=k, loss=loss,
                            batch_size=batch_size, latent=G.latent, device=device,
                            progress=progress, optimizers=(opt_g, opt_d), amp=amp,
                            on_step=after_step, r1=r1)
        for key, values in history.items():
            run["history"].setdefault(key, []).extend(values)
        if average is not None:
            standing_statistics(shown)
        shown.eval()
        if snapshot_z is not None:
            with torch.no_grad():  # uint8 keeps 64 snapshots of 64 digits small
                run["snapshots"].append((shown(snapshot_z.to(device)) * 255).round().byte().cpu())
        if score is not None:
            run["epoch_scores"].append({"epoch": epoch + 1, **score(shown)})
        G.train()
        run["seconds"].append(round(time.time() - start, 1))
        run["epoch"] = epoch + 1
        if run_path is not None:
            extra = {"ema_state": cpu_state_dict(average)} if average is not None else {}
            atomic_save({**run, "state_dict": cpu_state_dict(G), "d_state_dict": cpu_state_dict(D),
                         "optimizer": opt_g.state_dict(), "d_optimizer": opt_d.state_dict(),
                         "rng": rng_state(), **extra}, run_path)
        if on_epoch_end is not None:
            on_epoch_end(epoch, run)
        if max_seconds is not None and run["seconds"][-1] > max_seconds:
            break
    G.eval(), shown.eval()  # the average's standing statistics: from its last epoch (or run file)
    run["generator"] = shown
    return run


# ----------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train dcgan", description=(
        "Train the DCGAN on the 50,000 binarized training digits by Algorithm 1, then score "
        "10,000 samples with the course's digit classifier (label histogram, Frechet distance "
        "to the validation digits) and record it in the checkpoints' manifest."))
    p.add_argument("--resume", default=None, metavar="RUN_FILE")
    p.add_argument("--epochs", type=arg_int(1), default=12)
    p.add_argument("--batch-size", type=arg_int(2), default=64,
                   help="at least 2 (batch normalisation) and at most the 50,000 training digits")
    p.add_argument("--lr", type=arg_float(0, low_open=True), default=2e-4)
    p.add_argument("--k", type=arg_int(1), default=1, help="discriminator steps per generator step")
    p.add_argument("--loss", default="non-saturating", choices=GENERATOR_LOSSES)
    p.add_argument("--latent", type=arg_int(1), default=64)
    p.add_argument("--width", type=arg_int(1), default=64)
    p.add_argument("--output", default="sigmoid", choices=("sigmoid", "bernoulli"))
    p.add_argument("--noise", type=arg_float(0), default=0.0, help="instance noise std on D's input")
    p.add_argument("--pack", type=arg_int(1), default=1, help="PacGAN: D judges packs of this "
                   "many images, stacked as channels (--batch-size must be a multiple)")
    p.add_argument("--r1", type=arg_float(0), default=0.0, help="D's gradient penalty on the "
                   "data, r1/2 E||grad_x D||^2 (Mescheder et al. 2018)")
    p.add_argument("--ema", type=arg_float(0, 1, low_open=True, high_open=True), default=None,
                   metavar="DECAY", help="keep, judge and ship an exponential moving average of "
                   "G's weights, updated after every generator step with this decay")
    p.add_argument("--epoch-scores", type=arg_int(0, MAX_SAMPLES), default=0, metavar="N",
                   help="after every epoch, score N samples (Frechet distance, label histogram); "
                   "0: only the final score")
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--device", default=None)
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast for both networks")
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--max-minutes", type=arg_float(0, low_open=True), default=None)
    p.add_argument("--score-samples", type=arg_int(100, MAX_SAMPLES), default=10_000,
                   help="samples scored by the classifier after training")
    p.add_argument("--classifier", default=None,
                   help="classifier checkpoint for the scores (default: the shipped one)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="checkpoints/dcgan.pt")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing checkpoint and run file at --out (else refused)")
    p.add_argument("--no-progress", action="store_true")
    return p


# what a resumed DCGAN run may change: its budget and where it runs, never its recipe
RESUMABLE = {"--epochs", "--max-minutes", "--threads", "--device", "--no-progress"}


def main(argv) -> dict:
    from gm_helpers.analysis.sample_quality import score_samples
    from gm_helpers.data import load_binarized_mnist
    from gm_helpers.training.classifier import load_classifier, shipped_classifier
    from gm_helpers.training.loop import get_device, seed_everything

    argv = list(argv)
    p = parser()
    args, command, saved = resume_arguments(p, argv, RESUMABLE, program="dcgan")
    out, run_path = output_paths(p, args)  # before any data are loaded or minutes spent
    try:  # everything the scores need, before the training they score
        read_manifest(out.parent / "manifest.json")
        classifier = (load_classifier(args.classifier) if args.classifier
                      else shipped_classifier())
    except CheckpointError as err:
        p.error(f"{'--classifier: ' if args.classifier else ''}{err}; nothing was trained")
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    G = Generator(args.latent, args.width, args.output)
    D = InstanceNoise(Discriminator(args.width, args.pack), args.noise)
    train = load_binarized_mnist("train", args.data_dir)
    valid = load_binarized_mnist("valid", args.data_dir)
    if args.batch_size > len(train):  # an epoch would have no iteration
        p.error(f"--batch-size {args.batch_size} is more than the {len(train):,} training digits")
    if args.batch_size % args.pack:
        p.error(f"--batch-size {args.batch_size} does not split into packs of --pack {args.pack}")
    snapshot_z = torch.randn(64, args.latent, generator=torch.Generator().manual_seed(1))
    resumes = (saved or {}).get("resumes", []) + (
        ["python -m gm_helpers.train dcgan " + shlex.join(argv)] if saved else [])
    def epoch_score(G) -> dict | None:  # the Frechet distance and label histogram of a few samples
        scores = score_samples(classifier, G.sample_binary(args.epoch_scores, seed=0), valid)
        return {"frechet": round(scores["frechet"], 4), "class_fractions": scores["class_fractions"]}

    print(f"training dcgan on {device} with {torch.get_num_threads()} thread(s)"
          + (f", resuming after epoch {saved['epoch']}" if saved else ""), flush=True)
    run = train_dcgan(
        G, D, train, args.epochs, args.batch_size, args.lr, args.k, args.loss, device, args.amp,
        not args.no_progress, run_path, saved is not None,
        {"program": "dcgan", "argv": command, "resumes": resumes},
        args.max_minutes * 60 if args.max_minutes else None, snapshot_z,
        on_epoch_end=lambda e, r: print(
            f"epoch {e + 1}: D(x) {sum(r['history']['d_real'][-200:]) / 200:.3f} "
            f"D(G(z)) {sum(r['history']['d_fake'][-200:]) / 200:.3f}"
            + (f", {args.epoch_scores} samples: Frechet {r['epoch_scores'][-1]['frechet']:.2f}, "
               f"rarest class {min(r['epoch_scores'][-1]['class_fractions']):.1%}"
               if args.epoch_scores else "") + f" ({r['seconds'][-1]:.0f} s)", flush=True),
        ema=args.ema, score=epoch_score if args.epoch_scores else None, r1=args.r1)
    samples = run["generator"].to("cpu").sample_binary(args.score_samples, seed=0)
    scores = score_samples(classifier, samples, valid)
    config = {"latent": args.latent, "width": args.width, "output": args.output}
    metrics = {"frechet": round(scores["frechet"], 4), "class_fractions": scores["class_fractions"]}
    # the samples over training (uint8, epochs x 64 digits) travel inside the checkpoint
    sha = save_checkpoint(out, run["generator"], "dcgan", config,
                          {**metrics, "snapshots": torch.stack(run["snapshots"])})
    entry = {"model": "dcgan", "config": config, "seed": args.seed, "epochs": run["epoch"],
             "instance_noise": args.noise, "ema": args.ema, "pack": args.pack, "r1": args.r1,
             "command": "python -m gm_helpers.train dcgan " + shlex.join(command),
             **metrics, "hardware": hardware(), "wall_time_s": run["seconds"][-1],
             "torch": torch.__version__, "sha256": sha,
             "history": {key: [round(sum(v[i:i + 100]) / len(v[i:i + 100]), 4)
                               for i in range(0, len(v), 100)]  # means of 100 iterations
                         for key, v in run["history"].items()}}
    if args.epoch_scores:
        entry["epoch_scores"] = {"samples": args.epoch_scores, "scores": run["epoch_scores"]}
    if resumes:
        entry["resumed"] = resumes
    record_in_manifest(out, entry)
    print(json.dumps({k: v for k, v in entry.items() if k != "history"}, indent=2))
    return entry
