r"""A DCGAN for 28x28 binary digits, trained by Algorithm 1 (``gan.train_gan``) epoch by epoch.

Paper card: Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks
    A. Radford, L. Metz, S. Chintala. ICLR 2016. arXiv:1511.06434.
    Idea: the GAN game of Goodfellow et al. with convolutional nets that train stably:
    strided (transposed) convolutions instead of pooling, batch normalisation in G, ReLU in G
    and LeakyReLU in D, Adam with lr 2e-4 and beta1 = 0.5.

    \min_G \max_D E_{x \sim p_data}[\log D(x)] + E_{z \sim N(0, I)}[\log(1 - D(G(z)))]
    (G trained with the non-saturating loss -E[log D(G(z))] by default)

G's last layer is a sigmoid, so a sample is a grey image in [0, 1]; the data are 0s and 1s, so
D pushes G towards nearly binary pixels. ``binarize`` rounds a sample to the data's {0, 1}.

Command line (registered with ``python -m gm_helpers.train``)::

    python -m gm_helpers.train dcgan --epochs 12 --out gm_helpers/checkpoints/dcgan.pt
    python -m gm_helpers.train dcgan --resume gm_helpers/checkpoints/dcgan.run.pt
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import time

import torch
import torch.nn as nn

from gm_helpers import gan
from gm_helpers.checks import (arg_float, arg_int, check_choice, check_num_samples,
                               check_output_path, check_size)
from gm_helpers.checkpoint import (CheckpointError, atomic_save, cpu_state_dict, hardware, load_run,
                                   record_in_manifest, rng_state, run_path_for, save_checkpoint,
                                   set_rng_state)


class Generator(nn.Module):
    """z (B, latent) -> x (B, 1, 28, 28) in [0, 1]: project to 7x7, then two stride-2
    transposed convolutions (7 -> 14 -> 28).

    ``output="sigmoid"``: x is the sigmoid image itself. ``output="bernoulli"``: the sigmoid
    gives pixel probabilities p and, while training, x ~ Bernoulli(p) with the straight-through
    gradient of p (Bengio et al. 2013), so D compares binary samples with binary digits,
    speckle and all, as the VAE's and PixelCNN's samples are drawn. In eval mode forward
    returns p; ``sample_binary`` draws."""

    def __init__(self, latent: int = 64, width: int = 64, output: str = "sigmoid"):
        super().__init__()
        check_choice("output", output, ("sigmoid", "bernoulli"))
        latent, width = check_size("latent", latent), check_size("width", width)
        self.latent, self.width, self.output = latent, width, output
        self.project = nn.Sequential(nn.Linear(latent, 2 * width * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1))  # (B, 1, 28, 28)

    def forward(self, z):
        h = self.project(z).view(len(z), 2 * self.width, 7, 7)  # (B, 2w, 7, 7)
        p = torch.sigmoid(self.up(h))  # (B, 1, 28, 28)
        if self.output == "bernoulli" and self.training:
            return p + (torch.bernoulli(p) - p).detach()  # value: a 0/1 draw; gradient: p's
        return p

    @torch.no_grad()
    def sample(self, num: int, seed: int | None = None, device=None) -> torch.Tensor:
        """``num`` images (num, 1, 28, 28) in [0, 1], from N(0, I) noise (seeded if asked)."""
        num = check_num_samples(num, "num")
        weight = next(self.parameters())
        device = device or weight.device
        g = torch.Generator().manual_seed(check_size("seed", seed, 0)) if seed is not None else None
        z = torch.randn(num, self.latent, generator=g).to(device=device, dtype=weight.dtype)
        if num == 0:
            return torch.zeros(0, 1, 28, 28, device=device, dtype=weight.dtype)
        was_training = self.training
        self.eval()
        x = torch.cat([self(chunk) for chunk in z.split(1000)])
        self.train(was_training)
        return x


    @torch.no_grad()
    def sample_binary(self, num: int, seed: int = 0) -> torch.Tensor:
        """``num`` binary images: Bernoulli draws from p (``output="bernoulli"``), else the
        sigmoid image rounded at 1/2 (``binarize``)."""
        p = self.sample(num, seed)
        if self.output == "bernoulli":
            return torch.bernoulli(p, generator=torch.Generator().manual_seed(seed + 1))
        return binarize(p)


class Discriminator(nn.Module):
    """x (B, 1, 28, 28) -> logit (B, 1): two stride-2 convolutions (28 -> 14 -> 7), LeakyReLU."""

    def __init__(self, width: int = 64):
        super().__init__()
        width = check_size("width", width)
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1))  # (B, 1)

    def forward(self, x):
        return self.net(x)


class InstanceNoise(nn.Module):
    """D's input plus Gaussian noise of std ``sigma`` while training, on data and samples alike
    (Sonderby et al. 2016, arXiv:1610.04490; Arjovsky & Bottou 2017). Binary digits and G's
    grey images live on different sets; the noise makes the two distributions overlap, so D
    cannot win by the support alone and the JSD is not stuck at log 2 (lecture 06, section 4)."""

    def __init__(self, D, sigma: float = 0.0):
        super().__init__()
        self.D, self.sigma = D, sigma

    def forward(self, x):
        if self.training and self.sigma > 0:
            x = x + self.sigma * torch.randn_like(x)
        return self.D(x)


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Round G's grey samples to the data's 0s and 1s (threshold 1/2)."""
    return (x > 0.5).float()


def interpolate(G, z0, z1, steps: int = 9) -> torch.Tensor:
    """Images along the straight line from z0 to z1 in latent space: (steps, 1, 28, 28)."""
    t = torch.linspace(0, 1, steps).view(-1, 1)
    z = (1 - t) * z0.view(1, -1) + t * z1.view(1, -1)  # (steps, latent)
    G.eval()
    with torch.no_grad():
        return G(z.to(next(G.parameters()).device))


def train_dcgan(G, D, data, num_epochs: int, batch_size: int = 64, lr: float = 2e-4,
                k: int = 1, loss: str = "non-saturating", device="cpu", amp: bool = False,
                progress: bool = True, run_path=None, resume: bool = False, run_info=None,
                max_seconds: float | None = None, snapshot_z=None, on_epoch_end=None) -> dict:
    """Algorithm 1 in epochs of len(data) / batch_size iterations (``gan.train_gan`` with the
    same two Adams throughout). After each epoch: G's samples from the fixed ``snapshot_z``
    are kept (samples over training) and, with ``run_path``, a run file lets ``resume=True``
    go on where a stopped run ended. Returns the run: history (per iteration), snapshots."""
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    run = {"epoch": 0, "history": {}, "snapshots": [], "seconds": [], **(run_info or {})}
    if resume:
        saved = load_run(run_path)
        G.load_state_dict(saved.pop("state_dict"))
        D.load_state_dict(saved.pop("d_state_dict"))
        opt_g.load_state_dict(saved.pop("optimizer"))
        opt_d.load_state_dict(saved.pop("d_optimizer"))
        set_rng_state(saved.pop("rng"))
        run.update(saved)
        run.update(run_info or {})
    G.to(device), D.to(device)
    start = time.time() - (run["seconds"][-1] if run["seconds"] else 0.0)
    steps_per_epoch = len(data) // batch_size
    for epoch in range(run["epoch"], num_epochs):
        history = gan.train_gan(G, D, data, steps_per_epoch, k=k, loss=loss,
                                batch_size=batch_size, latent=G.latent, device=device,
                                progress=progress, optimizers=(opt_g, opt_d), amp=amp)
        for key, values in history.items():
            run["history"].setdefault(key, []).extend(values)
        if snapshot_z is not None:
            G.eval()
            with torch.no_grad():  # uint8 keeps 64 snapshots of 64 digits small
                run["snapshots"].append((G(snapshot_z.to(device)) * 255).round().byte().cpu())
            G.train()
        run["seconds"].append(round(time.time() - start, 1))
        run["epoch"] = epoch + 1
        if run_path is not None:
            atomic_save({**run, "state_dict": cpu_state_dict(G), "d_state_dict": cpu_state_dict(D),
                         "optimizer": opt_g.state_dict(), "d_optimizer": opt_d.state_dict(),
                         "rng": rng_state()}, run_path)
        if on_epoch_end is not None:
            on_epoch_end(epoch, run)
        if max_seconds is not None and run["seconds"][-1] > max_seconds:
            break
    G.eval()
    return run


# ----------------------------------------------------------------------------- command line
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.train dcgan", description=(
        "Train the DCGAN on the 50,000 binarized training digits by Algorithm 1, then score "
        "10,000 samples with the course's digit classifier (label histogram, Frechet distance "
        "to the validation digits) and record it in the checkpoints' manifest."))
    p.add_argument("--resume", default=None, metavar="RUN_FILE")
    p.add_argument("--epochs", type=arg_int(1), default=12)
    p.add_argument("--batch-size", type=arg_int(1), default=64)
    p.add_argument("--lr", type=arg_float(0, low_open=True), default=2e-4)
    p.add_argument("--k", type=arg_int(1), default=1, help="discriminator steps per generator step")
    p.add_argument("--loss", default="non-saturating", choices=gan.GENERATOR_LOSSES)
    p.add_argument("--latent", type=arg_int(1), default=64)
    p.add_argument("--width", type=arg_int(1), default=64)
    p.add_argument("--output", default="sigmoid", choices=("sigmoid", "bernoulli"))
    p.add_argument("--noise", type=arg_float(0), default=0.0, help="instance noise std on D's input")
    p.add_argument("--seed", type=arg_int(0), default=0)
    p.add_argument("--device", default=None)
    p.add_argument("--amp", action="store_true", help="bfloat16 autocast for both networks")
    p.add_argument("--threads", type=arg_int(1), default=os.cpu_count())
    p.add_argument("--max-minutes", type=arg_float(0, low_open=True), default=None)
    p.add_argument("--classifier", default=None,
                   help="classifier checkpoint for the scores (default: the shipped one)")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--out", default="checkpoints/dcgan.pt")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv) -> dict:
    from gm_helpers import digits
    from gm_helpers.data import load_binarized_mnist
    from gm_helpers.train import get_device, seed_everything

    argv = list(argv)
    args = parser().parse_args(argv)
    command = argv
    if args.resume:  # the stored command, with this call's --epochs / --max-minutes / ...
        try:
            command = load_run(args.resume)["argv"]
        except CheckpointError as err:
            parser().error(f"--resume: {err}")
        rest = [a for i, a in enumerate(argv) if a != "--resume" and argv[i - 1:i] != ["--resume"]]
        args = parser().parse_args(command + rest)
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    try:
        out = check_output_path(args.out)   # before any data are loaded or minutes spent
    except ValueError as err:
        parser().error(str(err))
    G = Generator(args.latent, args.width, args.output)
    D = InstanceNoise(Discriminator(args.width), args.noise)
    train = load_binarized_mnist("train", args.data_dir)
    snapshot_z = torch.randn(64, args.latent, generator=torch.Generator().manual_seed(1))
    print(f"training dcgan on {device} with {torch.get_num_threads()} thread(s)", flush=True)
    run = train_dcgan(
        G, D, train, args.epochs, args.batch_size, args.lr, args.k, args.loss, device, args.amp,
        not args.no_progress, run_path_for(out), args.resume is not None,
        {"argv": command}, args.max_minutes * 60 if args.max_minutes else None, snapshot_z,
        on_epoch_end=lambda e, r: print(
            f"epoch {e + 1}: D(x) {sum(r['history']['d_real'][-200:]) / 200:.3f} "
            f"D(G(z)) {sum(r['history']['d_fake'][-200:]) / 200:.3f} ({r['seconds'][-1]:.0f} s)",
            flush=True))
    classifier = (digits.load_classifier(args.classifier) if args.classifier
                  else digits.shipped_classifier())
    valid = load_binarized_mnist("valid", args.data_dir)
    samples = G.to("cpu").sample_binary(10_000, seed=0)
    scores = digits.score_samples(classifier, samples, valid)
    config = {"latent": args.latent, "width": args.width, "output": args.output}
    metrics = {"frechet": round(scores["frechet"], 4), "class_fractions": scores["class_fractions"]}
    # the samples over training (uint8, epochs x 64 digits) travel inside the checkpoint
    sha = save_checkpoint(out, G, "dcgan", config,
                          {**metrics, "snapshots": torch.stack(run["snapshots"])})
    entry = {"model": "dcgan", "config": config, "seed": args.seed, "epochs": run["epoch"],
             "instance_noise": args.noise,
             "command": "python -m gm_helpers.train dcgan " + shlex.join(command),
             **metrics, "hardware": hardware(), "wall_time_s": run["seconds"][-1],
             "torch": torch.__version__, "sha256": sha,
             "history": {key: [round(sum(v[i:i + 100]) / len(v[i:i + 100]), 4)
                               for i in range(0, len(v), 100)]  # means of 100 iterations
                         for key, v in run["history"].items()}}
    record_in_manifest(out, entry)
    print(json.dumps({k: v for k, v in entry.items() if k != "history"}, indent=2))
    return entry
