"""The data: the right data, from the right folder, with clear errors and no network; patches, colour.

Every download here is served from ``file://`` URLs in a temporary folder, or refused by a
monkeypatched ``_download``: no test ever reaches the real sources.
"""
import gzip
import hashlib
import os
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from gm_helpers import data
from gm_helpers.data import (
    DataCorruptError,
    DataNotFoundError,
    binarized_test_labels,
    binary_patches,
    colour_digits,
    downsample_binary,
    grayscale_digits,
    load_binarized_mnist,
    load_mnist_test,
)
from tests.helpers import random_images as _digits

# The split sizes, pixel means and checksums of the static binarization, as published with the
# data files, typed in here so that the tests check the module's constants.
README_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}
README_MEANS = {"train": 0.13056, "valid": 0.13113, "test": 0.13251}
README_SHA256 = {
    "train": "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a",
    "valid": "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e",
    "test": "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86",
}
README_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture
def no_network(monkeypatch):
    """Every download fails as it would offline; the URLs asked for are recorded."""
    asked = []

    def refuse(url, progress=True):
        asked.append(url)
        raise urllib.error.URLError("network is unreachable (test)")

    monkeypatch.setattr(data, "_download", refuse)
    return asked


@pytest.fixture
def split(binarized_train, binarized_valid, binarized_test):
    return {"train": binarized_train, "valid": binarized_valid, "test": binarized_test}


# ----------------------------------------------------------------------------- the real data
@pytest.mark.parametrize("name", ["train", "valid", "test"])
def test_binarized_split_shape_dtype_values(name, split):
    """Each split is float32 (N, 1, 28, 28) of 0s and 1s, with the README's N."""
    x = split[name]
    assert x.dtype == torch.float32
    assert x.shape == (README_SIZES[name], 1, 28, 28)
    assert ((x == 0) | (x == 1)).all() and x.min() == 0 and x.max() == 1


@pytest.mark.parametrize("name", ["train", "valid", "test"])
def test_binarized_split_matches_readme(name, split):
    """Mean pixel and sha256 of the unpacked array are the README's: the very same data."""
    x = split[name]
    assert x.double().mean().item() == pytest.approx(README_MEANS[name], abs=1e-5)
    flat = x.reshape(len(x), 784).to(torch.uint8).numpy()  # (N, 784) raster order
    assert hashlib.sha256(flat.tobytes()).hexdigest() == README_SHA256[name]


def test_bad_split_is_a_value_error(real_data_dir):
    """A misspelt split names the valid ones."""
    with pytest.raises(ValueError, match="train"):
        load_binarized_mnist("training", real_data_dir)


def test_test_labels_counts():
    """binarized_test_labels is sorted and has the README's count of each digit."""
    y = binarized_test_labels()
    assert y.dtype == torch.int64 and y.shape == (10_000,)
    assert torch.bincount(y, minlength=10).tolist() == README_LABEL_COUNTS
    assert torch.all(y[1:] >= y[:-1])


def test_mnist_test_set(mnist_test):
    """Grayscale test set: (10000, 1, 28, 28) float32 in [0, 1], int64 labels 0..9."""
    x, y = mnist_test
    assert x.shape == (10_000, 1, 28, 28) and x.dtype == torch.float32
    assert x.min().item() == 0.0 and x.max().item() == 1.0
    assert y.shape == (10_000,) and y.dtype == torch.int64
    assert torch.bincount(y, minlength=10).tolist() == README_LABEL_COUNTS


def _consistent(binary: torch.Tensor, gray: torch.Tensor) -> torch.Tensor:
    """Per image: every binarized 1 is non-zero in gray, every 0 is below 255 (README check)."""
    ones_ok = ((binary == 1) <= (gray > 0)).flatten(1).all(1)
    zeros_ok = ((binary == 0) <= (gray < 1)).flatten(1).all(1)
    return ones_ok & zeros_ok


def test_binarized_test_split_is_mnist_test_sorted_by_label(binarized_test, mnist_test):
    """The binarized test split is the grayscale test set, stably sorted by label."""
    gray, labels = mnist_test
    order = torch.from_numpy(np.argsort(labels.numpy(), kind="stable"))
    assert torch.equal(labels[order], binarized_test_labels())
    assert _consistent(binarized_test, gray[order]).all()
    # the check has teeth: pairing each image with its neighbour's grayscale fails it
    assert _consistent(binarized_test, gray[order].roll(1, 0)).float().mean() < 0.05



def test_grayscale_digits_split_the_test_set_into_disjoint_seeded_parts(real_data_dir, mnist_test):
    """8,000 / 1,000 / 1,000 images of the grayscale test set, its 8-bit levels exactly, every
    image in exactly one part; the split depends on the seed only."""
    train, valid, test = grayscale_digits(256, data_dir=real_data_dir, download=False, progress=False)
    assert (len(train), len(valid), len(test)) == (8000, 1000, 1000)
    x = torch.cat([train, valid, test])                                   # (10000, 1, 28, 28)
    assert x.dtype == torch.float32 and torch.equal(x, x.round()) and x.min() == 0 and x.max() == 255
    gray = (mnist_test[0] * 255).round()
    order = torch.randperm(10_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x, gray[order])                                     # every image once
    again = grayscale_digits(256, data_dir=real_data_dir, download=False, progress=False)
    assert all(torch.equal(a, b) for a, b in zip((train, valid, test), again))
    other = grayscale_digits(256, seed=1, data_dir=real_data_dir, download=False, progress=False)
    assert not torch.equal(other[2], test)


def test_grayscale_digits_with_fewer_levels_and_bad_levels(real_data_dir):
    train4 = grayscale_digits(4, data_dir=real_data_dir, download=False, progress=False)[0]
    train256 = grayscale_digits(256, data_dir=real_data_dir, download=False, progress=False)[0]
    assert set(train4.unique().tolist()) == {0.0, 1.0, 2.0, 3.0}
    assert torch.equal(train4, torch.div(train256, 64, rounding_mode="floor"))  # 4 equal bands
    for bad in (1, 257, 2.5, "256"):
        with pytest.raises(ValueError, match="levels must be an integer from 2 to 256"):
            grayscale_digits(bad, data_dir=real_data_dir, download=False, progress=False)


# ----------------------------------------------------------------------------- where the data is
def test_data_dir_resolution_order(monkeypatch, tmp_path):
    """The argument beats $GM_DATA_DIR, which beats the repository's data/ folder."""
    repo_data = Path(data.__file__).resolve().parent.parent / "data"
    monkeypatch.delenv("GM_DATA_DIR", raising=False)
    assert data.data_dir() == repo_data
    monkeypatch.setenv("GM_DATA_DIR", str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"
    assert data.data_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.setenv("GM_DATA_DIR", "")  # an empty variable counts as unset
    assert data.data_dir() == repo_data


def test_loader_uses_the_resolution_order(monkeypatch, tmp_path, real_data_dir):
    """The loader reads $GM_DATA_DIR, and an explicit data_dir overrides it."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("GM_DATA_DIR", str(empty))
    with pytest.raises(DataNotFoundError, match=str(empty)):
        load_binarized_mnist("test", download=False)
    x = load_binarized_mnist("test", real_data_dir, download=False)
    assert x.shape == (10_000, 1, 28, 28)
    monkeypatch.setenv("GM_DATA_DIR", str(real_data_dir))
    with pytest.raises(DataNotFoundError, match=str(empty)):
        load_binarized_mnist("test", empty, download=False)


def test_data_dir_that_is_a_file(tmp_path):
    """A file given as the data folder is refused by name."""
    f = tmp_path / "not_a_folder"
    f.write_text("x")
    with pytest.raises(NotADirectoryError, match="not_a_folder"):
        load_binarized_mnist("test", f)


# ----------------------------------------------------------------------------- missing files
def test_offline_missing_binarized_names_file_folder_and_env(tmp_path, no_network):
    """Offline, a missing file is a DataNotFoundError saying what to put where."""
    with pytest.raises(DataNotFoundError) as info:
        load_binarized_mnist("test", tmp_path, progress=False)
    message = str(info.value)
    assert "binarized_mnist.npz" in message
    assert str(tmp_path) in message
    assert "GM_DATA_DIR" in message
    assert no_network and not any(tmp_path.iterdir())  # it tried, and wrote nothing


def test_offline_binarized_error_names_every_source_tried(tmp_path, no_network):
    """Offline, each source is tried once (an unreachable one is not asked again for the next
    split), and the error names them all."""
    with pytest.raises(DataNotFoundError) as info:
        load_binarized_mnist("test", tmp_path, progress=False)
    urls = [template.format(split="train") for template, _ in data.BINARIZED_SOURCES]
    assert len(urls) >= 2 and no_network == urls
    assert all(url in str(info.value) for url in urls)


def test_offline_missing_mnist_names_file_folder_and_env(tmp_path, no_network):
    with pytest.raises(DataNotFoundError) as info:
        load_mnist_test(tmp_path, progress=False)
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "mnist") in message
    assert "GM_DATA_DIR" in message
    assert len(no_network) == len(data.MNIST_MIRRORS)  # every mirror was tried


def test_download_false_never_downloads(tmp_path, no_network):
    """download=False fails at once, without asking the network."""
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_binarized_mnist("valid", tmp_path, download=False)
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_mnist_test(tmp_path, download=False)
    assert no_network == []


# ----------------------------------------------------------------------------- corrupt files
def test_truncated_npz_is_corrupt(tmp_path, real_data_dir, no_network):
    """A truncated .npz is a DataCorruptError naming the file, never garbage data."""
    path = tmp_path / "binarized_mnist.npz"
    raw = (real_data_dir / "binarized_mnist.npz").read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataCorruptError, match="binarized_mnist.npz"):
        load_binarized_mnist("test", tmp_path)
    assert no_network == []  # a corrupt file is reported, not silently re-downloaded


def test_one_flipped_pixel_fails_the_checksum(tmp_path, real_data_dir):
    """A readable .npz with one pixel changed in the test split fails that split's checksum."""
    with np.load(real_data_dir / "binarized_mnist.npz") as npz:
        arrays = {k: npz[k] for k in ("train", "valid", "test")}
    test = np.unpackbits(arrays["test"], axis=1)[:, :784]  # (N, 784)
    test[123, 400] ^= 1
    arrays["test"] = np.packbits(test, axis=1)  # (N, 98)
    np.savez(tmp_path / "binarized_mnist.npz", **arrays)
    with pytest.raises(DataCorruptError, match="checksum"):
        load_binarized_mnist("test", tmp_path, download=False)
    # the other splits of the same file are intact and still load
    assert load_binarized_mnist("valid", tmp_path, download=False).shape == (10_000, 1, 28, 28)


def test_truncated_mnist_gz_is_corrupt(tmp_path, real_data_dir):
    (tmp_path / "mnist").mkdir()
    for name in data.MNIST_FILES:
        shutil.copy(real_data_dir / "mnist" / name, tmp_path / "mnist" / name)
    images = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:10_000])
    with pytest.raises(DataCorruptError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist_test(tmp_path, download=False)


# ----------------------------------------------------------------------------- downloading
@pytest.fixture
def fake_binarized_source(tmp_path, monkeypatch):
    """Tiny Larochelle-style .amat files behind a file:// URL, with their checksums."""
    rng = np.random.default_rng(0)
    sizes = {"train": 5, "valid": 3, "test": 2}
    arrays, src = {}, tmp_path / "source"
    src.mkdir()
    for split, n in sizes.items():
        x = (rng.random((n, 784)) < 0.3).astype(np.uint8)  # (n, 784)
        arrays[split] = x
        lines = "\n".join(" ".join(map(str, row)) for row in x) + "\n"
        (src / f"binarized_mnist_{split}.amat").write_text(lines)
    monkeypatch.setattr(data, "SPLITS", sizes)
    monkeypatch.setattr(data, "BINARIZED_SHA256", {
        split: hashlib.sha256(x.tobytes()).hexdigest() for split, x in arrays.items()})
    monkeypatch.setattr(data, "BINARIZED_SOURCES",
                        [(src.as_uri() + "/binarized_mnist_{split}.amat", "amat")])
    return arrays, src


def test_download_binarized_writes_atomically_and_loads(tmp_path, fake_binarized_source):
    """A missing file is downloaded, checked, written whole (no .part left) and loads back."""
    arrays, _ = fake_binarized_source
    root = tmp_path / "data"  # does not exist yet
    x = load_binarized_mnist("valid", root, progress=False)
    assert sorted(p.name for p in root.iterdir()) == ["binarized_mnist.npz"]
    assert not list(root.glob("*.part"))
    want = torch.from_numpy(arrays["valid"].astype(np.float32)).view(-1, 1, 28, 28)
    assert torch.equal(x, want)
    for split in ("train", "test"):  # one download stored all three splits
        got = load_binarized_mnist(split, root, download=False).reshape(-1, 784)
        assert np.array_equal(got.numpy().astype(np.uint8), arrays[split])


def test_download_checksum_mismatch_writes_nothing(tmp_path, fake_binarized_source,
                                                   monkeypatch):
    """A download that fails its checksum is a DataCorruptError and no file is written."""
    monkeypatch.setitem(data.BINARIZED_SHA256, "valid", "0" * 64)
    root = tmp_path / "data"
    with pytest.raises(DataCorruptError, match="valid"):
        load_binarized_mnist("test", root, progress=False)
    assert not root.exists() or not any(root.iterdir())


def test_truncated_download_is_corrupt(tmp_path, fake_binarized_source):
    """A download cut off mid-line is a DataCorruptError, not a raw numpy error."""
    _, src = fake_binarized_source
    amat = src / "binarized_mnist_train.amat"
    amat.write_text(amat.read_text()[:3000])
    root = tmp_path / "data"
    with pytest.raises(DataCorruptError, match="binarized_mnist_train.amat"):
        load_binarized_mnist("train", root, progress=False)
    assert not root.exists() or not any(root.iterdir())


def write_mat(path: Path, x: np.ndarray, name: str = "X") -> None:
    """A MATLAB v5 file laid out as the second source's: one zlib-compressed double matrix whose
    0/1 values are stored as uint8 (what MATLAB's save does), column by column."""
    import struct
    import zlib

    def element(kind: int, payload: bytes) -> bytes:
        if len(payload) <= 4:  # a small element
            return struct.pack("<HH", kind, len(payload)) + payload.ljust(4, b"\0")
        return struct.pack("<II", kind, len(payload)) + payload + b"\0" * (-len(payload) % 8)

    body = (element(6, struct.pack("<II", 6, 0))                       # flags: mxDOUBLE_CLASS
            + element(5, struct.pack("<ii", *x.shape))                 # dimensions
            + element(1, name.encode())                                # array name
            + element(2, np.asfortranarray(x).tobytes(order="F")))     # the values, miUINT8
    matrix = struct.pack("<II", 14, len(body)) + body
    packed = zlib.compress(matrix)
    header = b"MATLAB 5.0 MAT-file, written by the tests".ljust(116) + b"\0" * 8 + b"\x00\x01IM"
    path.write_bytes(header + struct.pack("<II", 15, len(packed)) + packed)


@pytest.fixture
def two_sources(tmp_path, fake_binarized_source, monkeypatch):
    """A first source (text .amat) and a second (MATLAB files) serving the same fake splits."""
    arrays, src = fake_binarized_source
    mat = tmp_path / "mat_source"
    mat.mkdir()
    for split, x in arrays.items():
        write_mat(mat / f"binarized_mnist_{split}.amat", x)
    monkeypatch.setattr(data, "BINARIZED_SOURCES",
                        [(src.as_uri() + "/binarized_mnist_{split}.amat", "amat"),
                         (mat.as_uri() + "/binarized_mnist_{split}.amat", "mat")])
    asked, real_download = [], data._download
    monkeypatch.setattr(data, "_download",
                        lambda url, progress=True: asked.append(url) or real_download(url, False))
    return arrays, src, mat, asked


def test_second_source_serves_when_the_first_is_down(tmp_path, two_sources):
    """With the first source unreachable, every split comes from the second (MATLAB files),
    checked against the same checksums; the dead source is asked once, not once per split."""
    arrays, src, mat, asked = two_sources
    for amat in src.iterdir():
        amat.unlink()
    root = tmp_path / "data"
    for split in ("train", "valid", "test"):
        got = load_binarized_mnist(split, root, progress=False).reshape(-1, 784)
        assert np.array_equal(got.numpy().astype(np.uint8), arrays[split])
    assert [url.split("/")[-2] for url in asked] == ["source", "mat_source", "mat_source", "mat_source"]


def test_second_source_serves_when_the_first_is_corrupt(tmp_path, two_sources):
    """A first source that serves the wrong data (one flipped pixel) is passed over per split."""
    arrays, src, mat, asked = two_sources
    flipped = arrays["valid"].copy()
    flipped[0, 0] ^= 1
    (src / "binarized_mnist_valid.amat").write_text(
        "\n".join(" ".join(map(str, row)) for row in flipped) + "\n")
    root = tmp_path / "data"
    x = load_binarized_mnist("valid", root, progress=False).reshape(-1, 784)
    assert np.array_equal(x.numpy().astype(np.uint8), arrays["valid"])
    assert [url.rsplit("/", 2)[-2:] for url in asked] == [
        ["source", "binarized_mnist_train.amat"], ["source", "binarized_mnist_valid.amat"],
        ["mat_source", "binarized_mnist_valid.amat"], ["source", "binarized_mnist_test.amat"]]


def test_every_source_corrupt_is_a_corrupt_error_naming_each(tmp_path, two_sources):
    arrays, src, mat, _ = two_sources
    (src / "binarized_mnist_test.amat").write_text("0 1 2\n")
    (mat / "binarized_mnist_test.amat").write_bytes(b"MATLAB 5.0 but cut short")
    root = tmp_path / "data"
    with pytest.raises(DataCorruptError, match="every source") as info:
        load_binarized_mnist("test", root, progress=False)
    assert str(src) in str(info.value) and str(mat) in str(info.value)
    assert not root.exists() or not any(root.iterdir())


def test_one_source_down_and_the_other_corrupt_is_not_found(tmp_path, two_sources):
    """Down plus corrupt: not found (the download may work later), naming both reasons."""
    _, src, mat, _ = two_sources
    (src / "binarized_mnist_train.amat").unlink()
    (mat / "binarized_mnist_train.amat").write_bytes(b"garbage")
    with pytest.raises(DataNotFoundError, match="not binarized MNIST's train split") as info:
        load_binarized_mnist("train", tmp_path / "data", progress=False)
    assert "GM_DATA_DIR" in str(info.value)


@pytest.mark.parametrize("damage, says", [
    (lambda raw: raw[:100], "not a little-endian MATLAB v5 file"),
    (lambda raw: raw[:-40], "cannot be read|truncated"),
    (lambda raw: raw[:126] + b"MI" + raw[128:], "little-endian"),
])
def test_mat_parser_refuses_damaged_files(tmp_path, damage, says):
    x = (np.random.default_rng(0).random((3, 784)) < 0.3).astype(np.uint8)
    write_mat(tmp_path / "x.mat", x)
    raw = (tmp_path / "x.mat").read_bytes()
    assert np.array_equal(data._parse_mat(raw), x)  # the intact file reads back exactly
    with pytest.raises(ValueError, match=says):
        data._parse_mat(damage(raw))


def test_mat_parser_refuses_values_other_than_0_and_1(tmp_path):
    write_mat(tmp_path / "x.mat", np.full((2, 784), 7, np.uint8))
    with pytest.raises(ValueError, match="other than 0 and 1"):
        data._parse_mat((tmp_path / "x.mat").read_bytes())


def test_fetch_all_downloads_everything_once(tmp_path, fake_binarized_source, real_data_dir,
                                             monkeypatch):
    """fetch_all (Colab's cell and Binder's build) leaves the three splits and the MNIST test
    files in the folder; run again, it downloads nothing."""
    mirror = tmp_path / "mirror"
    shutil.copytree(real_data_dir / "mnist", mirror)
    monkeypatch.setattr(data, "MNIST_MIRRORS", [mirror.as_uri() + "/"])
    asked, real_download = [], data._download
    monkeypatch.setattr(data, "_download",
                        lambda url, progress=True: asked.append(url) or real_download(url, False))
    root = tmp_path / "data"
    assert data.fetch_all(root, progress=False) == root
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "binarized_mnist.npz", "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"]
    assert len(asked) == 5
    data.fetch_all(root, progress=False)
    assert len(asked) == 5


# ----------------------------------------------------------------------------- the default folder
def _checkout(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text('[project]\nname = "gm_helpers"\n')
    return folder


def test_default_folder_is_the_checkouts_data_when_writable(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = _checkout(tmp_path / "repo")
    assert data.default_data_dir(root) == root / "data"  # data/ need not exist yet
    (root / "data").mkdir()
    assert data.default_data_dir(root) == root / "data"


@pytest.mark.skipif(os.name != "posix" or os.uname().sysname != "Linux", reason="XDG is Linux's")
def test_default_folder_outside_a_checkout_is_the_user_cache(tmp_path, monkeypatch):
    """An installed package (site-packages holds no pyproject.toml) uses the per-user cache,
    never a data/ folder beside site-packages; so does a checkout whose data/ is read-only."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    site = tmp_path / "site-packages"
    site.mkdir()
    assert data.default_data_dir(site) == tmp_path / "cache" / "gm_helpers"
    (site / "pyproject.toml").write_text('[project]\nname = "someone_else"\n')
    assert data.default_data_dir(site) == tmp_path / "cache" / "gm_helpers"
    root = _checkout(tmp_path / "repo")
    (root / "data").mkdir()
    real_access = os.access
    monkeypatch.setattr(data.os, "access", lambda p, mode: False if Path(p) == root / "data"
                        else real_access(p, mode))
    assert data.default_data_dir(root) == tmp_path / "cache" / "gm_helpers"


def test_default_folder_is_what_data_dir_uses_and_gm_data_dir_wins(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "default_data_dir", lambda: tmp_path / "default")
    monkeypatch.delenv("GM_DATA_DIR", raising=False)
    assert data.data_dir() == tmp_path / "default"
    monkeypatch.setenv("GM_DATA_DIR", str(tmp_path / "env"))
    assert data.data_dir() == tmp_path / "env"


def test_mnist_download_falls_through_to_the_next_mirror(tmp_path, real_data_dir,
                                                         monkeypatch):
    """A dead first mirror is skipped; the file comes from the second and is md5-checked."""
    good = tmp_path / "mirror"
    shutil.copytree(real_data_dir / "mnist", good)
    dead = (tmp_path / "no_such_mirror").as_uri() + "/"
    monkeypatch.setattr(data, "MNIST_MIRRORS", [dead, good.as_uri() + "/"])
    asked, real_download = [], data._download
    monkeypatch.setattr(data, "_download",
                        lambda url, progress=True: asked.append(url) or real_download(url, False))
    root = tmp_path / "data"
    x, y = load_mnist_test(root, progress=False)
    assert x.shape == (10_000, 1, 28, 28) and y.shape == (10_000,)
    assert asked[0].startswith(dead) and asked[1].startswith(good.as_uri())
    written = sorted(p.name for p in (root / "mnist").iterdir())
    assert written == sorted(data.MNIST_FILES)  # both files, no .part leftovers


def test_mnist_md5_mismatch_on_every_mirror(tmp_path, monkeypatch):
    """When every mirror serves the wrong bytes: DataNotFoundError, nothing written."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in data.MNIST_FILES:
        (mirror / name).write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setattr(data, "MNIST_MIRRORS", [mirror.as_uri() + "/", mirror.as_uri() + "/"])
    root = tmp_path / "data"
    with pytest.raises(DataNotFoundError, match="checksum mismatch"):
        load_mnist_test(root, progress=False)
    assert not (root / "mnist").exists() or not any((root / "mnist").iterdir())


# ----------------------------------------------------------------------------- small data
def test_binary_patches_shape_dtype_and_binary(binarized_test):
    p = binary_patches(binarized_test, 3, 500, seed=0)
    assert p.shape == (500, 9) and p.dtype == torch.uint8
    assert set(torch.unique(p).tolist()) <= {0, 1}


def test_binary_patches_are_crops_in_raster_order():
    """Each patch is a real crop of one image, inside the margin, flattened row by row."""
    N, H, W, size, margin = 2, 10, 10, 3, 1
    # pixel value encodes (image, row, col): 100 i + 10 r + c < 256
    x = (100 * torch.arange(N)[:, None, None] + 10 * torch.arange(H)[:, None]
         + torch.arange(W)).view(N, 1, H, W).float()
    patches = binary_patches(x, size, 50, seed=3, margin=margin)
    for patch in patches.long():
        i, r, c = patch[0] // 100, patch[0] % 100 // 10, patch[0] % 10
        assert margin <= r <= H - margin - size and margin <= c <= W - margin - size
        assert torch.equal(patch, x[i, 0, r:r + size, c:c + size].flatten().long())


def test_binary_patches_reproducible(binarized_test):
    a = binary_patches(binarized_test, 4, 100, seed=7)
    assert torch.equal(a, binary_patches(binarized_test, 4, 100, seed=7))
    assert not torch.equal(a, binary_patches(binarized_test, 4, 100, seed=8))


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 0}, "size"),
    ({"size": 2.5}, "size"),
    ({"size": 21}, "does not fit"),
    ({"x": torch.zeros(5, 28, 28)}, r"\(N, 1, H, W\)"),
    ({"x": torch.zeros(5, 3, 28, 28)}, r"\(N, 1, H, W\)"),
])
def test_binary_patches_bad_inputs(kwargs, match):
    args = {"x": torch.zeros(5, 1, 28, 28), "size": 3, "num_patches": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        binary_patches(**args)


def test_downsample_binary(binarized_test):
    """Average pooling then a threshold: (N, 1, s, s), still 0s and 1s; all-ones stays ones."""
    y = downsample_binary(binarized_test[:50], 14)
    assert y.shape == (50, 1, 14, 14) and y.dtype == torch.float32
    assert set(torch.unique(y).tolist()) <= {0.0, 1.0}
    assert torch.equal(downsample_binary(torch.ones(2, 1, 28, 28), 7), torch.ones(2, 1, 7, 7))
    # 2x2 blocks: three ones (mean 0.75 > 0.5) -> 1, one one (0.25) -> 0, two (0.5) -> 0
    img = torch.tensor([[1., 1., 1., 0.],
                        [1., 0., 0., 0.],
                        [1., 1., 0., 0.],
                        [0., 0., 0., 0.]]).view(1, 1, 4, 4)
    assert downsample_binary(img, 2).flatten().tolist() == [1.0, 0.0, 0.0, 0.0]


# ----------------------------------------------------------------------------- colour digits
def test_colour_digits_paints_two_distinct_colours_per_image():
    x = _digits()
    x[0] = 0  # an empty image: only the background colour
    x[1] = 1  # a full image: only the foreground colour
    y = colour_digits(x, levels=4, seed=0)
    assert y.shape == (50, 3, 8, 8) and y.dtype == torch.float32
    assert ((y >= 0) & (y <= 3) & (y == y.round())).all()
    for image, digit in zip(y, x):
        fg = image[:, digit[0] == 1]  # (3, pixels of the digit)
        bg = image[:, digit[0] == 0]
        if fg.numel():
            assert (fg == fg[:, :1]).all(), "one foreground colour per image"
        if bg.numel():
            assert (bg == bg[:, :1]).all(), "one background colour per image"
        if fg.numel() and bg.numel():
            assert not torch.equal(fg[:, 0], bg[:, 0]), "the digit must not vanish"


def test_colour_digits_is_seeded_and_shows_the_digit():
    x = _digits()
    assert torch.equal(colour_digits(x, 4, seed=3), colour_digits(x, 4, seed=3))
    assert not torch.equal(colour_digits(x, 4, seed=3), colour_digits(x, 4, seed=4))
    y = colour_digits(x, levels=2, seed=0)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    # the digit is recoverable: the pixels that share the first foreground pixel's colour
    for image, digit in zip(y, x):
        if 0 < digit.sum() < digit.numel():
            r, c = torch.nonzero(digit[0])[0].tolist()
            same = (image == image[:, r:r + 1, c:c + 1]).all(0)
            assert torch.equal(same.float(), digit[0])


def test_colour_digits_colours_are_uniform_over_distinct_pairs():
    """fg uniform over the 64 colours, bg uniform over the 63 others: P(R equal) = 15/63."""
    y = colour_digits(torch.zeros(20000, 1, 1, 2).index_fill_(3, torch.tensor([0]), 1.0), 4, 0)
    fg, bg = y[:, :, 0, 0], y[:, :, 0, 1]  # (N, 3) each
    assert (fg != bg).any(1).all()
    assert (fg == bg)[:, 0].float().mean().item() == pytest.approx(15 / 63, abs=0.01)
    assert fg[:, 0].float().mean().item() == pytest.approx(1.5, abs=0.03)


@pytest.mark.parametrize("bad", [torch.full((2, 1, 4, 4), 0.5), torch.zeros(2, 3, 4, 4)])
def test_colour_digits_bad_inputs(bad):
    with pytest.raises(ValueError, match="binary images"):
        colour_digits(bad)
    with pytest.raises(ValueError, match="levels"):
        colour_digits(torch.zeros(2, 1, 4, 4), levels=1)


# ----------------------------------------------------------------------------- unusable folders and files
@pytest.mark.parametrize("empty", ["", "  "])
def test_empty_data_dir_is_an_error_not_the_current_folder(empty):
    with pytest.raises(ValueError, match="empty string"):
        load_binarized_mnist("test", empty, download=False)
    with pytest.raises(ValueError, match="empty string"):
        data.load_mnist_test(empty, download=False)


def test_an_unwritable_folder_fails_before_downloading(tmp_path, fake_binarized_source,
                                                      monkeypatch):
    """A data folder without write permission is reported before a single byte is fetched."""
    asked = []
    monkeypatch.setattr(data, "_download", lambda url, progress=True: asked.append(url))
    real_access = os.access
    root = tmp_path / "readonly"
    root.mkdir()
    monkeypatch.setattr(data.os, "access",
                        lambda p, mode: False if root in (Path(p), *Path(p).parents)
                        else real_access(p, mode))
    for load in (lambda: load_binarized_mnist("test", root, progress=False),
                 lambda: data.load_mnist_test(root, progress=False)):
        with pytest.raises(data.DataPermissionError, match="not writable.*nothing was downloaded"):
            load()
    assert asked == [] and not any(root.rglob("*.part"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_really_read_only_folder_fails_before_downloading(tmp_path, fake_binarized_source):
    root = tmp_path / "readonly"
    root.mkdir()
    root.chmod(0o555)
    try:
        with pytest.raises(data.DataPermissionError, match="not writable"):
            load_binarized_mnist("test", root, progress=False)
    finally:
        root.chmod(0o755)


def test_an_unreadable_file_is_a_permission_problem_not_corruption(tmp_path, real_data_dir,
                                                                   monkeypatch):
    """A file we may not read is never called corrupt (which would advise deleting it)."""
    (tmp_path / "mnist").mkdir()
    for name in ("binarized_mnist.npz", "mnist/t10k-images-idx3-ubyte.gz",
                 "mnist/t10k-labels-idx1-ubyte.gz"):
        (tmp_path / name).write_bytes((real_data_dir / name).read_bytes())

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(data.DataPermissionError, match="permission denied.*rather than deleting") as err:
        load_binarized_mnist("test", tmp_path, download=False)
    assert "corrupt" not in str(err.value)
    with pytest.raises(data.DataPermissionError, match="chmod a\\+r"):
        data.load_mnist_test(tmp_path, download=False)


# ----------------------------------------------------------------------------- the course's prose
def test_course_prose_splits_partition_the_paragraphs():
    """The snapshot is ASCII, its checksum holds, and train/valid/test split it by paragraph."""
    text = data.load_course_prose()
    assert len(text) == 149_194 and text.isascii() and text.endswith("\n")
    parts = {s: data.load_course_prose(s).splitlines() for s in ("train", "valid", "test")}
    assert sorted(sum(parts.values(), [])) == sorted(text.splitlines())
    assert len(parts["valid"]) == len(text.splitlines()[3::10])
    assert parts["test"] == text.splitlines()[8::10]


def test_course_prose_refuses_a_bad_split_and_an_edited_file(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="split must be"):
        data.load_course_prose("validation")
    edited = tmp_path / "course_prose.txt"
    edited.write_bytes(data.PROSE_FILE.read_bytes() + b"one more line\n")
    monkeypatch.setattr(data, "PROSE_FILE", edited)
    with pytest.raises(ValueError, match="checksum"):
        data.load_course_prose()


@pytest.mark.parametrize("value, says", [("   ", "set but blank"),
                                         ("/tmp/data ", "ends with white space"),
                                         (" /tmp/data", "begins or ends with white space")])
def test_a_blank_or_padded_data_dir_is_refused_not_created(tmp_path, monkeypatch, value, says):
    from gm_helpers.data import data_dir
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GM_DATA_DIR", value)
    with pytest.raises(ValueError, match=says):
        data_dir()
    with pytest.raises(ValueError):
        load_binarized_mnist("test", download=False)
    assert not list(tmp_path.iterdir())   # no stray folder


def test_a_fifo_in_place_of_a_data_file_fails_at_once(tmp_path):
    import os
    import threading
    os.mkfifo(tmp_path / "binarized_mnist.npz")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_try_load(tmp_path)), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome and "not a regular file" in outcome[0]


def _try_load(folder):
    try:
        load_binarized_mnist("test", folder, download=False)
    except Exception as err:  # noqa: BLE001 - the message is what the test reads
        return str(err)
    return "loaded"


# ----------------------------------------------------------------------------- two moons
def test_two_moons_shape_seed_and_bad_size():
    from gm_helpers.data import two_moons
    x = two_moons(1000, seed=3)
    assert x.shape == (1000, 2) and x.dtype == torch.float32
    assert torch.equal(x, two_moons(1000, seed=3)) and not torch.equal(x, two_moons(1000, seed=4))
    assert abs(x.mean(0)).max() < 0.1                       # centred
    clean = two_moons(2000, noise=0.0, seed=0) + torch.tensor([0.5, 0.25])
    # every point lies on the upper half of the unit circle, or on the lower half of the unit
    # circle around (1, 0.5), and both moons are drawn
    on_upper = ((clean.norm(dim=1) - 1).abs() < 1e-5) & (clean[:, 1] >= -1e-6)
    around = clean - torch.tensor([1.0, 0.5])
    on_lower = ((around.norm(dim=1) - 1).abs() < 1e-5) & (around[:, 1] <= 1e-6)
    assert (on_upper | on_lower).all() and 800 < on_upper.sum() < 1200
    with pytest.raises(ValueError, match="num"):
        two_moons(0)


def test_two_moons_log_prob_integrates_to_one_and_matches_the_samples():
    from gm_helpers.data import two_moons, two_moons_log_prob
    axis = torch.linspace(-3, 3, 301, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    assert (two_moons_log_prob(grid).exp().sum() * 0.02 ** 2).item() == pytest.approx(1, abs=1e-6)
    # a histogram of samples agrees with the formula where the density is high
    x = two_moons(200_000, seed=0).double()
    counts = torch.histogramdd(x, bins=[30, 30], range=[-2.0, 2.0, -1.5, 1.5]).hist
    middle = (torch.arange(30) + 0.5) / 30
    centres = torch.cartesian_prod(middle * 4 - 2, middle * 3 - 1.5)
    formula = two_moons_log_prob(centres.double()).exp().view(30, 30) * (4 / 30) * (3 / 30)
    busy = formula > 0.005
    assert torch.allclose(counts[busy] / len(x), formula[busy], rtol=0.15)
    # entropy: quadrature with 1000 and 4000 angles agree to 1e-6 nats
    h = [-two_moons_log_prob(x[:5000], num_angles=a).mean().item() for a in (1000, 4000)]
    assert h[0] == pytest.approx(h[1], abs=1e-6) and 0.95 < h[1] < 1.05
