"""Checkpoints: saved atomically and reproducibly, never trusted after unpickling, checked by sha256.

Every bad file gives one ``CheckpointError`` whose message says what is wrong and what to do;
nothing is allocated for a config before its sizes are checked; masks and orderings must be the
ones the config rebuilds; weights must be finite; a file must match its manifest entry's sha256.
"""
import hashlib
import json
import os
import time

import pytest
import torch

from gm_helpers.analysis.exact import total_probability
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.pixelcnn import PixelCNN
from gm_helpers.training import checkpoint
from gm_helpers.training.checkpoint import CheckpointError, load_checkpoint, sha256_file
from gm_helpers.training.runs import load_run, save_run
from gm_helpers.training.saving import atomic_save, save_checkpoint
from tests.helpers import markov_data


def test_checkpoint_round_trip(tmp_path):
    """Save then load gives the same model; the write is atomic; the sha256 is the file's."""
    order = torch.randperm(16).tolist()
    model = FVSBN(16, order=order)
    torch.nn.init.normal_(model.W)
    torch.nn.init.normal_(model.b)
    path = tmp_path / "ckpt" / "fvsbn.pt"
    sha = save_checkpoint(path, model, "fvsbn", {"D": 16, "order": order}, {"test_nll": 1.5})
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in path.parent.iterdir()) == ["fvsbn.pt"]  # no .part left
    loaded, info = load_checkpoint(path, return_info=True)
    assert isinstance(loaded, FVSBN) and not loaded.training
    assert info["metrics"] == {"test_nll": 1.5} and info["config"]["order"] == order
    x = markov_data(20)
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x), model.log_prob(x))


UNPICKLED = []


def _mark_unpickled():
    UNPICKLED.append(True)
    return "payload ran"


class Booby:
    """Unpickling this object runs code: what weights_only=True must refuse."""

    def __reduce__(self):
        return (_mark_unpickled, ())


def test_load_checkpoint_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    model = FVSBN(4)
    torch.save({"model": "fvsbn", "config": {"D": 4}, "state_dict": model.state_dict(),
                "metrics": {"note": Booby()}}, path)
    UNPICKLED.clear()
    with pytest.raises(CheckpointError, match="could run code.*Do not retry with weights_only=False"):
        load_checkpoint(path)
    assert UNPICKLED == []
    torch.load(path, weights_only=False)  # the file really does carry code (the test has teeth)
    assert UNPICKLED == [True]


def _fvsbn(tmp_path, D=16, name="f.pt"):
    torch.manual_seed(0)
    model = FVSBN(D)
    torch.nn.init.normal_(model.W, std=0.5)
    path = tmp_path / name
    save_checkpoint(path, model, "fvsbn", {"D": D})
    return model, path


def _resave(path, change):
    """Load the payload without checks, change it, write it back (what a tamperer does)."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


BAD_BYTES = {
    "empty": (b"", "is empty"),
    "random bytes": (os.urandom(4096), "not a PyTorch checkpoint"),
    "text": (b"these are not the weights you are looking for\n" * 20, "not a PyTorch checkpoint"),
    "a zip cut in half": (None, "truncated or damaged"),
}


@pytest.mark.parametrize("case", sorted(BAD_BYTES))
def test_a_file_that_is_not_a_checkpoint_is_a_checkpoint_error(tmp_path, case):
    raw, message = BAD_BYTES[case]
    if raw is None:
        _, good = _fvsbn(tmp_path, name="good.pt")
        raw = good.read_bytes()[: good.stat().st_size // 2]
    path = tmp_path / "bad.pt"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
    with pytest.raises(CheckpointError):   # a run file read for --resume: the same answer
        load_run(path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pt")
    with pytest.raises(CheckpointError, match="a folder"):
        load_checkpoint(tmp_path)


def test_a_bare_state_dict_says_what_it_is(tmp_path):
    path = tmp_path / "sd.pt"
    torch.save(FVSBN(4).state_dict(), path)
    with pytest.raises(CheckpointError, match="bare state_dict.*load_state_dict"):
        load_checkpoint(path)


def test_a_run_file_is_not_a_checkpoint(tmp_path):
    model = FVSBN(4)
    optimizer = torch.optim.Adam(model.parameters())
    save_run(tmp_path / "x.run.pt", model, optimizer, {"epoch": 1, "history": {}})
    with pytest.raises(CheckpointError, match="is a run file.*--resume"):
        load_checkpoint(tmp_path / "x.run.pt")


def test_other_dicts_lacking_the_keys(tmp_path):
    path = tmp_path / "d.pt"
    torch.save({"weights": torch.zeros(3), "epoch": 4}, path)
    with pytest.raises(CheckpointError, match="lacks \\['config', 'model', 'state_dict'\\]"):
        load_checkpoint(path)
    torch.save([1, 2, 3], path)
    with pytest.raises(CheckpointError, match="holds a list"):
        load_checkpoint(path)


def test_nan_weights_are_refused(tmp_path):
    _, path = _fvsbn(tmp_path)
    _resave(path, lambda p: p["state_dict"]["W"].__setitem__((3, 1), float("nan")))
    with pytest.raises(CheckpointError, match="W has 1 NaN or infinite"):
        load_checkpoint(path)


def test_a_tampered_mask_is_refused_and_would_have_broken_normalisation(tmp_path):
    """A mask that lets pixel d see itself: torch loads it happily and the 'model' no longer
    sums to 1 over the 2^16 states; load_checkpoint refuses it."""
    _, path = _fvsbn(tmp_path)
    _resave(path, lambda p: p["state_dict"]["mask"].fill_(1.0))
    raw = FVSBN(16)                                   # what loading without checks gives
    raw.load_state_dict(torch.load(path, weights_only=True)["state_dict"])
    with torch.no_grad():
        total = total_probability(lambda x: raw.log_prob(x.float()), 16)
    assert abs(total - 1) > 0.1                       # the tampering matters (the test has teeth)
    with pytest.raises(CheckpointError, match="buffer mask.*differs.*config rebuilds"):
        load_checkpoint(path)


def test_a_tampered_ordering_and_pixelcnn_mask_are_refused(tmp_path):
    config = {"hidden": 4, "num_layers": 1, "image_size": 6}
    path = tmp_path / "p.pt"
    save_checkpoint(path, PixelCNN(**config), "pixelcnn", config)
    load_checkpoint(path)                              # the untouched file loads
    _resave(path, lambda p: p["state_dict"]["first.mask"].fill_(1.0))
    with pytest.raises(CheckpointError, match="first.mask"):
        load_checkpoint(path)
    _, path = _fvsbn(tmp_path, D=6)
    _resave(path, lambda p: p["state_dict"]["order"].copy_(torch.tensor([1, 0, 2, 3, 4, 5])))
    with pytest.raises(CheckpointError, match="order"):
        load_checkpoint(path)


def test_absurd_sizes_are_refused_before_anything_is_allocated(tmp_path):
    _, path = _fvsbn(tmp_path)
    _resave(path, lambda p: p["config"].__setitem__("D", 2_000_000))   # an 8e12-number mask and W
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match="asks for 8,000,004,000,000 numbers.*refused before"):
        load_checkpoint(path)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("change, message", [
    (lambda p: p["config"].__setitem__("D", 15), "W has shape \\(16, 16\\), the config gives \\(15, 15\\)"),
    (lambda p: p["config"].__setitem__("colour", 3), "does not build a fvsbn.*colour"),
    (lambda p: p["config"].__setitem__("D", -4), "does not build a fvsbn"),
    (lambda p: p.__setitem__("model", "fvsbn2"), "unknown model 'fvsbn2'"),
    (lambda p: p.__setitem__("config", "D=16"), "config must be a dict"),
    (lambda p: p["state_dict"].pop("b"), "missing \\['b'\\]"),
    (lambda p: p["state_dict"].__setitem__("extra", torch.zeros(1)), "unexpected \\['extra'\\]"),
])
def test_a_config_or_weights_that_do_not_fit(tmp_path, change, message):
    _, path = _fvsbn(tmp_path)
    _resave(path, change)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_flipped_bit_is_caught_by_the_manifest_sha256(tmp_path):
    model, path = _fvsbn(tmp_path)
    entry = {"sha256": sha256_file(path), "command": "python -m gm_helpers.train fvsbn --set D=16"}
    (tmp_path / "manifest.json").write_text(json.dumps({"f.pt": entry}))
    load_checkpoint(path)                              # matches: loads
    payload = torch.load(path, weights_only=True)
    w = payload["state_dict"]["W"]
    bits = w.view(torch.int32)
    bits[5, 2] ^= 1 << 3                               # one bit of one weight, still finite
    assert torch.isfinite(w).all()
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="does not match the sha256.*--set D=16"):
        load_checkpoint(path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not a valid manifest"):
        load_checkpoint(path)


def test_saving_is_reproducible_and_readable_by_others(tmp_path):
    """Two identical saves give byte-identical files (no temporary name inside the zip), mode
    0644 (another user of a shared folder can read it)."""
    model, a = _fvsbn(tmp_path, name="a.pt")
    b = tmp_path / "sub" / "b.pt"
    save_checkpoint(b, model, "fvsbn", {"D": 16})
    assert a.read_bytes() == b.read_bytes()
    assert (a.stat().st_mode & 0o777) == 0o644 == (b.stat().st_mode & 0o777)
    assert sha256_file(a) == atomic_save(torch.load(a, weights_only=True), tmp_path / "c.pt")


# ----------------------------------------------------------------------------- shipped checkpoints
def test_load_shipped_checks_the_sha256(tmp_path, monkeypatch):
    """A shipped checkpoint loads only if its bytes match the manifest; else it says how to retrain."""
    from gm_helpers.training.checkpoint import load_shipped
    monkeypatch.setattr(checkpoint, "CHECKPOINT_DIR", tmp_path)
    model = FVSBN(8)
    torch.nn.init.normal_(model.W)
    sha = save_checkpoint(tmp_path / "tiny.pt", model, "fvsbn", {"D": 8})
    entry = {"sha256": sha, "command": "python -m gm_helpers.train fvsbn --set D=8"}
    (tmp_path / "manifest.json").write_text(json.dumps({"tiny.pt": entry}))
    loaded, got = load_shipped("tiny.pt")
    assert got == entry and torch.equal(loaded.W, model.W)
    with open(tmp_path / "tiny.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="sha256.*--set D=8"):
        load_shipped("tiny.pt")


def test_complex_or_integer_weights_are_refused_not_truncated(tmp_path):
    """torch would copy a complex tensor into a real parameter and drop the imaginary part."""
    _, path = _fvsbn(tmp_path)
    for dtype in (torch.complex64, torch.int64):
        _resave(path, lambda p: p["state_dict"].__setitem__("W", p["state_dict"]["W"].to(dtype)))
        with pytest.raises(CheckpointError, match=f"W holds {dtype}"):
            load_checkpoint(path)
        _resave(path, lambda p: p["state_dict"].__setitem__("W", p["state_dict"]["W"].real.float()))


def test_half_precision_weights_load(tmp_path):
    """A wide model stored in half precision to save space (issue 24) loads, in the model's dtype."""
    _, path = _fvsbn(tmp_path)
    _resave(path, lambda p: p["state_dict"].__setitem__("W", p["state_dict"]["W"].half()))
    assert load_checkpoint(path).W.dtype == torch.float32


def test_tampered_extra_state_is_a_checkpoint_error(tmp_path):
    from gm_helpers.models.made import MADE
    path = tmp_path / "m.pt"
    save_checkpoint(path, MADE(16, [8], num_masks=2), "made", {"D": 16, "hidden": [8], "num_masks": 2})
    for bad in ({"mask_index": "x"}, {"other": 1}, [1, 2]):
        _resave(path, lambda p, bad=bad: p["state_dict"].__setitem__("_extra_state", bad))
        with pytest.raises(CheckpointError, match="do not load into a made"):
            load_checkpoint(path)


def test_a_checkpoint_claiming_another_model_than_its_manifest_entry_is_refused(tmp_path):
    model, path = _fvsbn(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(
        {path.name: {"model": "nade", "sha256": sha256_file(path)}}))
    with pytest.raises(CheckpointError, match="says it is a 'fvsbn'.*says 'nade'"):
        load_checkpoint(path)


@pytest.mark.parametrize("entry, message", [("a string", "not a valid manifest"),
                                            ({"command": "x"}, "no sha256 string"),
                                            ({"sha256": 5}, "no sha256 string")])
def test_odd_manifest_entries_are_named(tmp_path, entry, message):
    _, path = _fvsbn(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({path.name: entry}))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)
