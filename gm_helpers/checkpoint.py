"""Checkpoints: the registry of trainable models, saving, safe loading, and resumable runs.

Two kinds of file:

* a **checkpoint** (``X.pt``): the model's registered name, its config (plain values), its
  weights and its metrics. ``load_checkpoint`` rebuilds the model from it. The shipped ones are
  listed in ``checkpoints/manifest.json`` with the command that trained them and their sha256.
* a **run file** (``X.run.pt``, written after every epoch): everything a training run needs to
  go on where it stopped: weights, optimizer state, random-number-generator states, the epoch,
  the learning curves, the best weights so far and the command line. ``python -m
  gm_helpers.train --resume X.run.pt`` continues it.

Every file is read with ``torch.load(..., weights_only=True)``: tensors and plain containers
only, never pickled code. Files are written atomically (a temporary file, then a rename), with
the same bytes for the same contents, readable by every user of a shared folder.
"""
from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import platform
import random
import tempfile
from pathlib import Path

import numpy as np
import torch

# The checkpoints shipped with the lectures, and their manifest (command, NLL, sha256, ...)
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"

# name -> "module:Class". A lecture adds its model here; its config must be plain values.
MODELS = {
    "fvsbn": "gm_helpers.nade:FVSBN",
    "nade": "gm_helpers.nade:NADE",
    "made": "gm_helpers.nade:MADE",
    "pixelcnn": "gm_helpers.pixelcnn:PixelCNN",
    "gated_pixelcnn": "gm_helpers.pixelcnn:GatedPixelCNN",
    "row_lstm": "gm_helpers.pixelrnn:RowLSTM",
    "diagonal_bilstm": "gm_helpers.pixelrnn:DiagonalBiLSTM",
    "autoencoder": "gm_helpers.vae:Autoencoder",
    "vae": "gm_helpers.vae:VAE",
    "iwae": "gm_helpers.vae:IWAE",
    "dcgan": "gm_helpers.dcgan:Generator",  # trained by its own loop (Algorithm 1), not fit
    "digit_classifier": "gm_helpers.digits:DigitClassifier",
}
# trained by their own command line, ``python -m gm_helpers.train NAME``: module:function
OWN_LOOP = {"dcgan": "gm_helpers.dcgan:main", "digit_classifier": "gm_helpers.digits:main",
            "samples": "gm_helpers.digits:samples_main"}


def build_model(name: str, config: dict):
    """Instantiate the registered model ``name`` with keyword arguments ``config``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    module, cls = MODELS[name].split(":")
    return getattr(importlib.import_module(module), cls)(**config)


def atomic_save(obj, path) -> str:
    """``torch.save`` to ``path`` through a temporary file; returns the file's sha256.

    Saved through a buffer, so the archive's inner name is always the same and two identical
    objects give byte-identical files; mode 0644, not mkstemp's 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    data = buffer.getvalue()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()


def cpu_state_dict(model) -> dict:
    """A copy of ``model.state_dict()`` on the CPU (tensors copied, extra state kept as is)."""
    return {k: v.detach().to("cpu", copy=True) if torch.is_tensor(v) else v
            for k, v in model.state_dict().items()}


def save_checkpoint(path, model, name: str, config: dict, metrics: dict | None = None) -> str:
    """Write weights, config and metrics atomically; return the file's sha256."""
    payload = {"model": name, "config": config, "state_dict": cpu_state_dict(model),
               "metrics": metrics or {}}
    return atomic_save(payload, path)


def load_checkpoint(path, device="cpu", return_info=False):
    """Rebuild a model from a checkpoint (``weights_only=True``: no pickled code is run)."""
    payload = torch.load(path, map_location=device, weights_only=True)
    model = build_model(payload["model"], payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    return (model, payload) if return_info else model


def record_in_manifest(out, entry: dict) -> None:
    """Add ``entry`` under ``out``'s file name in the manifest beside it (atomic rewrite)."""
    manifest = Path(out).parent / "manifest.json"
    entries = json.loads(manifest.read_text()) if manifest.exists() else {}
    entries[Path(out).name] = entry
    tmp = manifest.with_name(manifest.name + ".part")
    tmp.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, manifest)


def shipped_manifest() -> dict:
    """The manifest of the shipped checkpoints: file name -> how it was trained and scored."""
    return json.loads((CHECKPOINT_DIR / "manifest.json").read_text())


def load_shipped(filename: str, device="cpu"):
    """A shipped checkpoint and its manifest entry, after checking the file's sha256."""
    entry = shipped_manifest()[filename]
    path = CHECKPOINT_DIR / filename
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"{path} does not match the sha256 in the manifest: re-download it "
                         f"or retrain it with: {entry['command']}")
    return load_checkpoint(path, device), entry


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    threads = torch.get_num_threads()
    return f"{platform.processor() or platform.machine()} CPU, {threads} thread{'s' * (threads > 1)}"


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
    """Write a run file: weights, optimizer, RNG states and ``run`` (epoch, history, best, ...)."""
    payload = {**run, "state_dict": cpu_state_dict(model), "optimizer": optimizer.state_dict(),
               "rng": rng_state()}
    return atomic_save(payload, path)


def load_run(path) -> dict:
    """Read a run file written by ``save_run`` (weights_only: tensors and plain values)."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    missing = {"state_dict", "optimizer", "rng", "epoch", "history"} - set(payload)
    if missing:
        raise ValueError(f"{path} is not a run file of gm_helpers.train (it lacks "
                         f"{sorted(missing)}); resume from the X.run.pt written beside X.pt")
    return payload
