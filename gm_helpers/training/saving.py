"""Saving checkpoints: atomic writes, the same bytes for the same contents, weights in float32 or
rounded to float16.

A checkpoint (``X.pt``) holds the model's registered name, its config, its weights and its metrics
(``save_checkpoint``); ``checkpoint.load_checkpoint`` reads it back. Every file, checkpoint or run
file, is written by ``atomic_save``: a temporary file, then a rename, so that a reader never sees
half a file, readable by every user of a shared folder. A large model ships in half the bytes with
its weights rounded to float16 (``round_to_half``, then ``save_checkpoint(..., half=True)``); it
loads as the usual float32 model.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

import torch

# buffers that training changes (BatchNorm's running statistics); every other buffer (masks,
# orderings) is a function of the config and must equal the one the config rebuilds
LEARNED_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def is_learned_buffer(name: str) -> bool:
    return name.rsplit(".", 1)[-1] in LEARNED_BUFFERS


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


def save_checkpoint(path, model, name: str, config: dict, metrics: dict | None = None,
                    half: bool = False) -> str:
    """Write weights, config and metrics atomically; return the file's sha256. ``half``: store
    the weights in float16 (2 bytes a number, not 4), after ``round_to_half(model)``."""
    state = half_state_dict(model) if half else cpu_state_dict(model)
    payload = {"model": name, "config": config, "state_dict": state, "metrics": metrics or {}}
    return atomic_save(payload, path)


def _rounded_tensors(model) -> dict:
    """The tensors a float16 file stores rounded: parameters and learned buffers (by name)."""
    learned = {n: b for n, b in model.named_buffers() if is_learned_buffer(n) and b.is_floating_point()}
    return {**dict(model.named_parameters()), **learned}


@torch.no_grad()
def round_to_half(model):
    """Round every floating parameter (and BatchNorm statistic) of ``model``, in place, to the
    nearest float16 value, so that a file stored in float16 holds exactly the weights measured;
    the model stays float32. A value beyond float16's range (65,504) is a ValueError."""
    for name, t in _rounded_tensors(model).items():
        if t.is_floating_point():
            largest = t.abs().max().item() if t.numel() else 0.0
            if not largest <= torch.finfo(torch.float16).max:   # also NaN
                raise ValueError(f"{name} holds {largest:.4g}, beyond float16's range "
                                 f"(|x| <= 65504): this model cannot be stored in half precision")
            t.copy_(t.to(torch.float16))    # copy_ converts back to the tensor's own dtype
    return model


def half_state_dict(model) -> dict:
    """``cpu_state_dict(model)`` with its floating tensors as float16. Parameters must already be
    float16 values (``round_to_half``), else a ValueError; a fixed buffer (a mask) is stored in
    float16 when that is exact, else kept as it is."""
    rounded = set(_rounded_tensors(model))
    state = cpu_state_dict(model)
    for key, t in state.items():
        if torch.is_tensor(t) and t.is_floating_point():
            half = t.to(torch.float16)
            if torch.equal(half.to(t.dtype), t):
                state[key] = half
            elif key in rounded:
                raise ValueError(f"{key} holds values that float16 cannot represent: call "
                                 f"round_to_half(model) before saving it in half precision")
    return state
