"""Checkpoints: reading and checking them safely, the shipped files and their manifest.

Two kinds of file:

* a **checkpoint** (``X.pt``): the model's registered name, its config (plain values), its
  weights (float32, or rounded to float16 to ship a large model in half the bytes) and its
  metrics, written by ``saving.save_checkpoint``. ``load_checkpoint`` rebuilds the float32 model
  from it. The shipped ones are listed in ``checkpoints/manifest.json`` with the command that
  trained them and their sha256.
* a **run file** (``X.run.pt``, written after every epoch): everything a training run needs to
  go on where it stopped: weights, optimizer state, random-number-generator states, the epoch,
  the learning curves, the best weights so far and the command line. ``python -m
  gm_helpers.train --resume X.run.pt`` continues it (``runs.py`` writes and reads them).

Every file is read with ``torch.load(..., weights_only=True)``: tensors and plain containers
only, never pickled code. Files are written atomically (``saving.atomic_save``: a temporary
file, then a rename), and so is the manifest (``record_in_manifest``, under a lock).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import platform
import tempfile
import zipfile
from pathlib import Path

try:  # POSIX: a lock file serialises manifest updates
    import fcntl
except ImportError:  # Windows: one writer at a time is the user's to ensure
    fcntl = None

import torch

from gm_helpers.data import unpack_bits
from gm_helpers.models.registry import MODELS, build_model
from gm_helpers.training.saving import is_learned_buffer

# The checkpoints shipped with the lectures, and their manifest (command, NLL, sha256, ...)
CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "checkpoints"


class CheckpointError(ValueError):
    """A checkpoint or run file that cannot be used: not a file of ours, damaged, tampered with,
    or describing a model this package cannot build. The message says which and what to do."""


# Far above the course's largest model (a few million numbers) and far below what would exhaust
# a laptop's memory: a config asking for more is refused before anything is allocated.
MAX_ELEMENTS = 200_000_000

PLAIN = (str, int, float, bool, type(None))


def _plain(value) -> bool:
    """Config values are plain: numbers, strings, None, and lists/dicts of them."""
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, PLAIN)


def read_file(path) -> dict:
    """``torch.load(path, weights_only=True)`` with every failure as a ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: {'a folder' if path.is_dir() else 'no such file'}, "
                              f"not a checkpoint")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is empty (0 bytes): an interrupted copy or save. Copy it "
                              f"again, or retrain it (the manifest has the command).")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # a zip archive (torch.save's format) whose pickle names Python objects: refused code;
        # anything else (random bytes can look like a pickle naming a "global"): not ours
        if zipfile.is_zipfile(path) and ("weights_only" in str(err) or "global" in str(err)):
            raise CheckpointError(
                f"{path} holds pickled Python objects besides tensors and plain values, and "
                f"loading them could run code, so it is refused. Do not retry with "
                f"weights_only=False unless you made the file yourself.") from None
        raise CheckpointError(f"{path} is not a PyTorch checkpoint, or it is damaged "
                              f"(unpickling failed: {err}).") from None
    except Exception as err:  # noqa: BLE001 - zip, EOF, unpickling of random bytes, ...
        raise CheckpointError(f"{path} is not a PyTorch checkpoint, or it is truncated or "
                              f"damaged ({type(err).__name__}: {str(err)[:200]}). Copy it again, "
                              f"or retrain it (the manifest has the command).") from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path} holds a {type(payload).__name__}, not a checkpoint "
                              f"(a dict with model, config and state_dict)")
    return payload


def _check_manifest_sha(path: Path, model: str | None = None) -> None:
    """If the folder's manifest has an entry for this file, the file must match its sha256."""
    entry = read_manifest(path.parent / "manifest.json").get(path.name)
    if entry is None:
        return
    if "model" in entry and model is not None and entry["model"] != model:
        raise CheckpointError(f"{path} says it is a {model!r}, but its entry in "
                              f"{path.parent / 'manifest.json'} says {entry['model']!r}: the file "
                              f"was tampered with or replaced")
    if not isinstance(entry.get("sha256"), str):
        raise CheckpointError(f"{path}: its entry in {path.parent / 'manifest.json'} has no sha256 "
                              f"string, so the file cannot be checked; fix the entry or move the file")
    if sha256_file(path) != entry["sha256"]:
        raise CheckpointError(f"{path} does not match the sha256 in {path.parent / 'manifest.json'}: "
                              f"it was changed or damaged after training. Copy it again, or retrain "
                              f"it with: {entry.get('command', 'the command in the manifest')}")


def check_state(path, name: str, config: dict, state: dict):
    """Build model ``name`` from ``config`` and load ``state`` into it, checking everything first:
    the config's sizes on the meta device (nothing allocated), the state's keys, shapes and
    finiteness, and that its masks and orderings are the ones the config rebuilds."""
    if name not in MODELS:
        raise CheckpointError(f"{path}: unknown model {name!r}; this package builds "
                              f"{sorted(MODELS)}")
    if not isinstance(config, dict) or not _plain(config):
        raise CheckpointError(f"{path}: the config must be a dict of plain values, got {config!r:.200}")
    try:
        with torch.device("meta"):   # shapes only: a config of absurd sizes allocates nothing
            shell = build_model(name, config)
    except Exception as err:  # noqa: BLE001 - the model's own validation message
        raise CheckpointError(f"{path}: its config {config} does not build a {name} "
                              f"({type(err).__name__}: {err})") from None
    expected = shell.state_dict()
    size = sum(t.numel() for t in expected.values() if torch.is_tensor(t))  # not extra state
    if size > MAX_ELEMENTS:
        raise CheckpointError(f"{path}: its config {config} asks for {size:,} numbers, more than "
                              f"{MAX_ELEMENTS:,}; refused before allocating them")
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: state_dict must map names to tensors")
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{path}: its weights do not fit a {name} with config {config} "
                              f"(missing {missing[:5]}, unexpected {extra[:5]})")
    for key, tensor in state.items():
        if not torch.is_tensor(expected[key]):   # a module's extra state (plain values)
            continue
        if not torch.is_tensor(tensor):
            raise CheckpointError(f"{path}: {key} should be a tensor, got {type(tensor).__name__}")
        if expected[key].is_floating_point() and not tensor.is_floating_point():
            raise CheckpointError(f"{path}: {key} holds {tensor.dtype} numbers where the model has "
                                  f"real ones ({expected[key].dtype}); the file was tampered with "
                                  f"or damaged")
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise CheckpointError(f"{path}: {key} has shape {tuple(tensor.shape)}, the config "
                                  f"gives {tuple(expected[key].shape)}")
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad = int((~torch.isfinite(tensor)).sum())
            raise CheckpointError(f"{path}: {key} has {bad} NaN or infinite value(s): the weights "
                                  f"are damaged (or training diverged); retrain it")
    model = build_model(name, config)
    fresh = dict(model.named_buffers())
    for key, buffer in fresh.items():
        if key in state and not is_learned_buffer(key) and not torch.equal(
                state[key].to(buffer.dtype), buffer):
            raise CheckpointError(f"{path}: the buffer {key} (a mask or ordering) differs from the "
                                  f"one its config rebuilds: the file was tampered with or "
                                  f"damaged, and the model would not be a valid distribution")
    try:
        model.load_state_dict(state)
    except Exception as err:  # noqa: BLE001 - e.g. a module's extra state of the wrong kind
        raise CheckpointError(f"{path}: its weights do not load into a {name} with config "
                              f"{config} ({type(err).__name__}: {str(err)[:200]}); the file was "
                              f"tampered with or damaged") from None
    return model


def load_checkpoint(path, device="cpu", return_info=False):
    """Rebuild a model from a checkpoint (``weights_only=True``: no pickled code is run).

    Weights stored in float16 (``save_checkpoint(..., half=True)``) load into the usual float32
    model. Every problem is a ``CheckpointError`` saying what to do: not a file, empty, random bytes,
    pickled code, a bare state_dict or a run file, a config that does not build a model or asks
    for absurd sizes, weights of the wrong shape or not finite, a mask or ordering that is not
    the config's, or a file that does not match its manifest entry's sha256.
    """
    path = Path(path)
    payload = read_file(path)
    if {"optimizer", "rng", "epoch"} <= set(payload):
        raise CheckpointError(f"{path} is a run file (for --resume), not a checkpoint: load the "
                              f"checkpoint X.pt written beside it, or resume the run with "
                              f"python -m gm_helpers.train --resume {path}")
    if payload and all(torch.is_tensor(v) for v in payload.values()):
        raise CheckpointError(f"{path} is a bare state_dict (weights without the model's name and "
                              f"config): build the model yourself and call load_state_dict, or "
                              f"save with gm_helpers.training.saving.save_checkpoint")
    missing = {"model", "config", "state_dict"} - set(payload)
    if missing:
        raise CheckpointError(f"{path} is not a gm_helpers checkpoint: it lacks {sorted(missing)}")
    _check_manifest_sha(path, payload["model"])
    model = check_state(path, payload["model"], payload["config"], payload["state_dict"])
    model.to(device).eval()
    return (model, payload) if return_info else model


def read_manifest(manifest) -> dict:
    """The entries of a manifest file ({} if there is none); a ``CheckpointError`` naming the file
    if it is not a JSON object of entries (each entry an object)."""
    manifest = Path(manifest)
    if not manifest.exists():
        return {}
    try:
        entries = json.loads(manifest.read_text())
    except (ValueError, OSError) as err:
        raise CheckpointError(f"{manifest} is not a valid manifest ({err}): fix or move it, or "
                              f"choose another --out folder") from None
    if not isinstance(entries, dict) or not all(isinstance(e, dict) for e in entries.values()):
        raise CheckpointError(f"{manifest} is not a valid manifest: it must map file names to "
                              f"objects; fix or move it, or choose another --out folder")
    return entries


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive POSIX ``flock`` on the checkpoint folder itself (no lock file is left
    behind): two runs that finish together in one folder update its manifest one after the
    other, never both from the same read."""
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def record_in_manifest(out, entry: dict) -> None:
    """Add ``entry`` under ``out``'s file name in the manifest beside it: read, change and
    rewrite under a lock, through a temporary file of its own, so that concurrent writers lose
    nothing and a reader never sees half a file."""
    manifest = Path(out).parent / "manifest.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(manifest.parent):
        entries = read_manifest(manifest)
        entries[Path(out).name] = entry
        fd, tmp = tempfile.mkstemp(dir=manifest.parent, prefix=".manifest.", suffix=".part")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(json.dumps(entries, indent=2, sort_keys=True) + "\n")
            os.chmod(tmp, 0o644)
            os.replace(tmp, manifest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def shipped_manifest() -> dict:
    """The manifest of the shipped checkpoints: file name -> how it was trained and scored."""
    return json.loads((CHECKPOINT_DIR / "manifest.json").read_text())


def load_shipped(filename: str, device="cpu"):
    """A shipped checkpoint and its manifest entry, after checking the file's sha256."""
    manifest = shipped_manifest()
    if filename not in manifest:
        raise CheckpointError(f"{filename} is not a shipped checkpoint; shipped: {sorted(manifest)}")
    return load_checkpoint(CHECKPOINT_DIR / filename, device), manifest[filename]


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    threads = torch.get_num_threads()
    return f"{platform.processor() or platform.machine()} CPU, {threads} thread{'s' * (threads > 1)}"


def load_shipped_samples(filename: str) -> torch.Tensor:
    """Shipped samples (N, C, H, W) as floats, after checking their sha256 against the manifest:
    binary digits (stored bit-packed) or levels 0..L-1 (stored as bytes)."""
    entry = shipped_manifest()[filename]
    if sha256_file(CHECKPOINT_DIR / filename) != entry["sha256"]:
        raise ValueError(f"{filename} does not match its sha256; redo: {entry['command']}")
    stored = torch.load(CHECKPOINT_DIR / filename, weights_only=True)
    if "packed" in stored:
        return unpack_bits(stored["packed"])
    return stored["samples"].float()
