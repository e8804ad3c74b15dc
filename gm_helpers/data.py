"""Datasets for the lectures, loaded with no network at all when the files are present.

* Statically binarized MNIST (Salakhutdinov & Murray 2008), the 50k/10k/10k split of
  Larochelle & Murray 2011: the benchmark of NADE, MADE, PixelCNN and PixelRNN.
* The grayscale MNIST test set (LeCun, Cortes & Burges), with its labels; ``grayscale_digits``
  splits it 8,000 / 1,000 / 1,000 (seeded) for the multi-level PixelCNNs of lecture 04.
* The course's own prose, shipped in the package (no download): ``load_course_prose``, the
  text of lecture 02's character models.

Where the files live (first that applies): the ``data_dir`` argument, the environment variable
``GM_DATA_DIR``, the repository's ``data/`` folder when the package runs from a checkout where
that folder is writable, else a per-user cache folder (``~/.cache/gm_helpers`` on Linux or
``$XDG_CACHE_HOME/gm_helpers``, ``~/Library/Caches/gm_helpers`` on macOS,
``%LOCALAPPDATA%\\gm_helpers\\Cache`` on Windows), so an installed package (Colab, a wheel) never
writes into site-packages. The layout inside is::

    binarized_mnist.npz                   # keys train/valid/test, (N, 98) uint8, 8 pixels a byte
    mnist/t10k-images-idx3-ubyte.gz
    mnist/t10k-labels-idx1-ubyte.gz

A missing file is downloaded, trying its sources in order (tqdm progress bar, checksum
checked, written atomically); ``fetch_all`` downloads everything the lectures load. Offline, you
get an error naming the file, the folder to put it in and every source tried. Every load checks a
checksum, so a corrupt or truncated file is never used.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import re
import struct
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import platformdirs
import torch
from tqdm.auto import tqdm

from gm_helpers.checks import check_size

ENV_VAR = "GM_DATA_DIR"
SPLITS = {"train": 50_000, "valid": 10_000, "test": 10_000}

BINARIZED_FILE = "binarized_mnist.npz"
# sha256 of each unpacked (N, 784) uint8 array, C order (hashlib.sha256(x.tobytes()))
BINARIZED_SHA256 = {
    "train": "43490d4d6ac9002727af4426d8748609fdb7e4094fa65ad8d681ea60082a7a5a",
    "valid": "069b4f0beb389b776478c3e872b4df71c95ac4be64d7cbe6d32e24ebac8e6d5e",
    "test": "ca0294c3b8d984c7a1dc891015a8eea6f37bae59a34e35ea0fc8c47110a8dd86",
}
# Where the three splits come from, tried in order; each download must match BINARIZED_SHA256.
BINARIZED_SOURCES = [
    # Larochelle's original text files: one image a line, 784 space-separated 0/1
    ("https://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
     "binarized_mnist_{split}.amat", "amat"),
    # the same arrays as MATLAB v5 files (despite the .amat name: one variable X, (N, 784), zlib
    # compressed), committed with the ARM estimator's code (Yin & Zhou 2019) at a fixed commit;
    # all three match BINARIZED_SHA256 bit for bit
    ("https://raw.githubusercontent.com/mingzhang-yin/ARM-gradient/"
     "bac893cfcec486bbd00b755b12cf8402053b0e84/binarized_mnist_{split}.amat", "mat"),
]

MNIST_FILES = {  # name -> md5, the checksums torchvision's MNIST uses
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"]

# The binarized test split is the MNIST test set sorted by label (stable): 980 zeros, ...
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


class DataNotFoundError(FileNotFoundError):
    """A data file is absent and could not be downloaded."""


class DataCorruptError(ValueError):
    """A data file is present but truncated, corrupt or not the expected data."""


class DataPermissionError(PermissionError):
    """A data file or folder cannot be read or written for lack of permission (not corruption:
    the fix is the permissions, not deleting the file)."""


PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # the checkout, or site-packages


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data folder: ``path``, else ``$GM_DATA_DIR``, else ``default_data_dir()``: the
    repository's ``data/`` in a writable checkout, else a per-user cache folder.

    An empty ``path`` is an error, not the current folder (``""`` is almost always a variable
    that was never set)."""
    if path is not None:
        if not str(path).strip():
            raise ValueError("data_dir is an empty string: give a folder, or None for the default "
                             f"(${ENV_VAR}, else the repository's data/ folder)")
        return _folder(str(path), "data_dir")
    if os.environ.get(ENV_VAR):  # an empty variable counts as unset
        if not os.environ[ENV_VAR].strip():  # white space only: a slip, not "here"
            raise ValueError(f"${ENV_VAR} is set but blank: set it to the data folder, or unset "
                             f"it for the default ({default_data_dir()})")
        return _folder(os.environ[ENV_VAR], f"${ENV_VAR}")
    return default_data_dir()


def default_data_dir(package_parent: Path = PACKAGE_PARENT) -> Path:
    """The repository's ``data/`` when the package runs from a checkout (its folder holds the
    project's pyproject.toml) and that folder is writable or can be made; otherwise the per-user
    cache folder (platformdirs: ``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches``
    on macOS, ``%LOCALAPPDATA%`` on Windows), so that an installed package never writes into
    site-packages."""
    repo_data = package_parent / "data"
    if _is_checkout(package_parent) and _could_write(repo_data):
        return repo_data
    return Path(platformdirs.user_cache_dir("gm_helpers", appauthor=False))


def _is_checkout(folder: Path) -> bool:
    """``folder`` holds this project's pyproject.toml (site-packages holds none)."""
    project = folder / "pyproject.toml"
    try:
        text = project.read_text(errors="replace") if project.is_file() else ""
    except OSError:
        return False
    return re.search(r"""^name\s*=\s*["']gm[_.-]helpers["']""", text, re.MULTILINE) is not None


def _could_write(folder: Path) -> bool:
    """``folder`` is writable, or it does not exist and its nearest existing parent is."""
    while not folder.exists():
        if folder.parent == folder:
            return False
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _folder(text: str, name: str) -> Path:
    """A folder named by the user: white space at either end is a copy-paste slip, refused
    rather than turned into a stray folder whose name ends in a space."""
    if text != text.strip():
        raise ValueError(f"{name} {text!r} begins or ends with white space: remove it "
                         f"({text.strip()!r})")
    return Path(text).expanduser()


# ----------------------------------------------------------------------------- downloading
def _download(url: str, progress: bool = True) -> bytes:
    """Fetch ``url`` into memory with a progress bar (the files are at most 100 MB)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        buf = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1],
                  disable=not progress) as bar:
            while chunk := response.read(1 << 20):
                buf.write(chunk)
                bar.update(len(chunk))
    return buf.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_writable(folder: Path) -> None:
    """Fail before a download if ``folder`` cannot be created or written to (a download of
    several minutes must not end in a PermissionError on its temporary file)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            raise PermissionError(f"no write permission on {folder}")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except PermissionError as err:
        raise DataPermissionError(
            f"cannot download into {folder}: it is not writable ({err}). Make it writable, or set "
            f"{ENV_VAR} (or pass data_dir=...) to a writable folder, or put the files there by "
            f"hand; nothing was downloaded.") from err


def _read_bytes(path: Path) -> bytes:
    """``path.read_bytes()``, with a permission problem named as one (never as corruption), and
    anything but a regular file (a FIFO would block forever, a folder fails) refused first."""
    if path.exists() and not path.is_file():
        raise DataCorruptError(f"{path} is not a regular file (a folder, pipe or device); put the "
                               f"data file itself there")
    try:
        return path.read_bytes()
    except PermissionError as err:
        raise DataPermissionError(f"cannot read {path}: permission denied. The file may be fine: "
                                  f"make it readable (chmod a+r) rather than deleting it.") from err


def _offline_error(path: Path, source: str, err: Exception) -> DataNotFoundError:
    return DataNotFoundError(
        f"{path.name} is not in {path.parent} and could not be downloaded from {source} "
        f"({err}). Put the file at {path} (an offline copy works: set {ENV_VAR} to the folder "
        f"holding binarized_mnist.npz and mnist/), or pass data_dir=... to the loader.")


def _parse_amat(text: bytes) -> np.ndarray:
    x = np.array([line.split() for line in text.decode().splitlines() if line.strip()],
                 dtype=np.uint8)  # (N, 784)
    return x


_MAT_TYPES = {1: np.int8, 2: np.uint8, 3: np.int16, 4: np.uint16, 5: np.int32, 6: np.uint32,
              7: np.float32, 9: np.float64, 12: np.int64, 13: np.uint64}  # MAT v5 data types


def _mat_elements(buf: bytes, offset: int = 0):
    """The (type, bytes) data elements of a MAT v5 buffer; small elements pack into 8 bytes."""
    while offset + 8 <= len(buf):
        kind, size = struct.unpack_from("<II", buf, offset)
        if kind >> 16:  # small element: size and type in one word, data in the next four bytes
            yield kind & 0xFFFF, buf[offset + 4: offset + 4 + (kind >> 16)]
            offset += 8
            continue
        if offset + 8 + size > len(buf):
            raise ValueError("a data element runs past the end of the file (truncated)")
        yield kind, buf[offset + 8: offset + 8 + size]
        offset += 8 + size + (0 if kind == 15 else -size % 8)  # compressed elements are not padded


def _parse_mat(raw: bytes) -> np.ndarray:
    """The first 2-d numeric array of a little-endian MATLAB v5 file, as uint8 0/1, ``(N, 784)``
    (what scipy.io.loadmat reads, for the one layout needed here: no scipy dependency)."""
    if len(raw) < 128 or not raw.startswith(b"MATLAB") or raw[126:128] != b"IM":
        raise ValueError("not a little-endian MATLAB v5 file")
    for kind, body in _mat_elements(raw, 128):
        if kind == 15:  # miCOMPRESSED: one zlib-compressed element
            try:
                kind, body = next(_mat_elements(zlib.decompress(body)))
            except (zlib.error, StopIteration) as err:
                raise ValueError(f"a compressed element cannot be read: {err}") from None
        if kind != 14:  # miMATRIX
            continue
        parts = list(_mat_elements(body))  # flags, dimensions, name, real part
        if len(parts) < 4 or parts[3][0] not in _MAT_TYPES:
            continue
        dims = tuple(np.frombuffer(parts[1][1], np.int32))
        values = np.frombuffer(parts[3][1], _MAT_TYPES[parts[3][0]])
        if len(dims) != 2 or values.size != dims[0] * dims[1]:
            raise ValueError(f"an array of shape {dims} holds {values.size} values")
        x = values.reshape(dims[::-1]).T  # stored column by column
        if not np.isin(x, (0, 1)).all():
            raise ValueError("the array holds values other than 0 and 1")
        return np.ascontiguousarray(x, dtype=np.uint8)  # (N, 784)
    raise ValueError("no numeric matrix in the file")


_PARSERS = {"amat": _parse_amat, "mat": _parse_mat}


def _download_split(split: str, path: Path, progress: bool, dead: set) -> np.ndarray:
    """One split of binarized MNIST, ``(N, 784)`` uint8, from the first source that serves the
    right data. ``dead`` collects sources that could not be reached (not tried again)."""
    failures, corrupt = [], []
    for template, kind in BINARIZED_SOURCES:
        url = template.format(split=split)
        if template in dead:
            failures.append(f"{url}: not tried, unreachable for an earlier split")
            continue
        try:
            raw = _download(url, progress)
        except (urllib.error.URLError, OSError) as err:
            dead.add(template)
            failures.append(f"{url}: {err}")
            continue
        try:
            x = _PARSERS[kind](raw)
            _check_split(x, split, source=url)
        except (ValueError, OverflowError) as err:  # truncated, garbled or not the right data
            failures.append(f"{url}: not binarized MNIST's {split} split ({err})")
            corrupt.append(url)
            continue
        return x
    if len(corrupt) == len(BINARIZED_SOURCES):
        raise DataCorruptError(f"every source served a corrupt or wrong {split} split, so nothing "
                               f"was written: " + "; ".join(failures))
    sources = " or ".join(t.format(split=split) for t, _ in BINARIZED_SOURCES)
    raise _offline_error(path, sources, OSError("; ".join(failures)))


def download_binarized_mnist(root: Path, progress: bool = True) -> Path:
    """Download the three splits (each from the first source in ``BINARIZED_SOURCES`` that
    serves it intact), check them, store them packed in one .npz."""
    path = root / BINARIZED_FILE
    _check_writable(root)
    packed, dead = {}, set()
    for split in SPLITS:
        x = _download_split(split, path, progress, dead)  # (N, 784), checksum verified
        packed[split] = np.packbits(x, axis=1)  # (N, 98)
    buf = io.BytesIO()
    np.savez_compressed(buf, **packed)
    _atomic_write(path, buf.getvalue())
    return path


def download_mnist_file(root: Path, name: str, progress: bool = True) -> Path:
    """Download one grayscale MNIST file, trying each mirror; keep it only if its md5 matches."""
    path = root / "mnist" / name
    _check_writable(path.parent)
    errors = []
    for mirror in MNIST_MIRRORS:
        try:
            raw = _download(mirror + name, progress)
        except (urllib.error.URLError, OSError) as err:
            errors.append(f"{mirror}: {err}")
            continue
        if hashlib.md5(raw).hexdigest() != MNIST_FILES[name]:
            errors.append(f"{mirror}: checksum mismatch")
            continue
        _atomic_write(path, raw)
        return path
    raise _offline_error(path, " and ".join(MNIST_MIRRORS), OSError("; ".join(errors)))


# ----------------------------------------------------------------------------- loading
def _check_split(x: np.ndarray, split: str, source: str | Path) -> None:
    n = SPLITS[split]
    if x.shape != (n, 784) or hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest() \
            != BINARIZED_SHA256[split]:
        raise DataCorruptError(
            f"the {split} split from {source} is not the expected binarized MNIST "
            f"(shape {x.shape}, expected ({n}, 784), or a checksum mismatch): the file is "
            f"corrupt or truncated. Delete it and load again to re-download it.")


def _load_split(path: Path, split: str) -> np.ndarray:
    raw = _read_bytes(path)
    try:
        with np.load(io.BytesIO(raw)) as npz:
            x = np.unpackbits(npz[split], axis=1)[:, :784]  # (N, 98) -> (N, 784)
    except Exception as err:  # zipfile.BadZipFile, EOFError, KeyError, zlib.error, ...
        raise DataCorruptError(
            f"{path} cannot be read ({type(err).__name__}: {err}): the file is corrupt or "
            f"truncated. Delete it and load again to re-download it.") from err
    _check_split(x, split, source=path)
    return x


def load_binarized_mnist(split: str, data_dir: str | os.PathLike | None = None,
                         download: bool = True, progress: bool = True) -> torch.Tensor:
    """Statically binarized MNIST as a float32 tensor ``(N, 1, 28, 28)`` of 0s and 1s.

    ``split`` is ``"train"`` (50,000), ``"valid"`` (10,000) or ``"test"`` (10,000).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {sorted(SPLITS)}, got {split!r}")
    root = _resolve(data_dir)
    path = root / BINARIZED_FILE
    if not path.exists():
        if not download:
            raise DataNotFoundError(f"{path} is missing and download=False")
        download_binarized_mnist(root, progress)
    x = _load_split(path, split)  # (N, 784) uint8, checksum verified
    return torch.from_numpy(x.astype(np.float32)).view(-1, 1, 28, 28)  # (N, 1, 28, 28)


def binarized_test_labels() -> torch.Tensor:
    """Digit labels of the binarized test split, ``(10000,)`` int64 (it is sorted by label)."""
    return torch.repeat_interleave(torch.arange(10), torch.tensor(TEST_LABEL_COUNTS))


# The course's own prose (lectures 01-06 at commit 201402c, MIT), one paragraph a line, written
# by gm_helpers.course.corpus: the text of lecture 02's character models. Shipped in the package.
PROSE_FILE = Path(__file__).resolve().parent / "corpora" / "course_prose.txt"
PROSE_SHA256 = "ee1be1320a6225d080426cfcfb867441de96b513e516d2cd710a5fe2ed17a5e1"
PROSE_SPLITS = {3: "valid", 8: "test"}  # paragraph i's split by i % 10; the other eight: train


def load_course_prose(split: str = "all") -> str:
    """The course's prose as one string, paragraphs separated by newlines (ASCII, 149,194 chars).

    ``split``: ``"all"``; ``"train"`` (8 paragraphs in 10); ``"valid"``, ``"test"`` (every tenth
    paragraph, at index 3 and 8 of each ten). Each split ends with a newline.
    """
    if split not in ("all", "train", "valid", "test"):
        raise ValueError(f"split must be 'all', 'train', 'valid' or 'test', got {split!r}")
    raw = PROSE_FILE.read_bytes()
    if hashlib.sha256(raw).hexdigest() != PROSE_SHA256:
        raise ValueError(f"{PROSE_FILE} does not match its checksum: restore it from the repository")
    text = raw.decode("ascii")
    if split == "all":
        return text
    paragraphs = text.splitlines()
    keep = [p for i, p in enumerate(paragraphs) if PROSE_SPLITS.get(i % 10, "train") == split]
    return "\n".join(keep) + "\n"


def _read_idx(path: Path, magic: int, download: bool, progress: bool) -> np.ndarray:
    if not path.exists():
        if not download:
            raise DataNotFoundError(f"{path} is missing and download=False")
        download_mnist_file(path.parent.parent, path.name, progress)
    raw = _read_bytes(path)
    if hashlib.md5(raw).hexdigest() != MNIST_FILES[path.name]:
        raise DataCorruptError(f"{path} fails its md5 check: it is corrupt or truncated. "
                               "Delete it and load again to re-download it.")
    data = gzip.decompress(raw)
    if int.from_bytes(data[:4], "big") != magic:
        raise DataCorruptError(f"{path} is not an IDX file of the expected kind")
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist_test(data_dir: str | os.PathLike | None = None, download: bool = True,
                    progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Grayscale MNIST test set: images ``(10000, 1, 28, 28)`` float32 in [0, 1], labels int64."""
    root = _resolve(data_dir) / "mnist"
    images = _read_idx(root / "t10k-images-idx3-ubyte.gz", 2051, download, progress)
    labels = _read_idx(root / "t10k-labels-idx1-ubyte.gz", 2049, download, progress)
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)  # (N, 1, 28, 28)
    return x, torch.from_numpy(labels.astype(np.int64))


def fetch_all(data_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Download (once) and check every dataset the lectures load: the three binarized MNIST
    splits and the grayscale MNIST test set. Returns the data folder. Colab's setup cell and
    Binder's build call it, so that a failed download shows at once, not halfway into a lecture."""
    root = _resolve(data_dir)
    for split in SPLITS:
        load_binarized_mnist(split, root, progress=progress)
    load_mnist_test(root, progress=progress)
    return root


def _resolve(path) -> Path:
    root = data_dir(path)
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"data_dir {root} is a file, not a folder")
    return root


# ----------------------------------------------------------------------------- small data
def binary_patches(x: torch.Tensor, size: int, num_patches: int, seed: int = 0,
                   margin: int = 4) -> torch.Tensor:
    """Random ``size x size`` crops of binary images, flattened in raster order.

    x: ``(N, 1, H, W)``. Crops start inside the central region (``margin`` pixels in from each
    edge), where the strokes are, so few patches are blank. Returns ``(num_patches, size*size)``
    uint8, small enough (size 3 or 4) to enumerate all ``2**(size*size)`` states.
    """
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"x must be (N, 1, H, W), got {tuple(x.shape)}")
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    N, _, H, W = x.shape
    hi_r, hi_c = H - margin - size, W - margin - size
    if hi_r < margin or hi_c < margin:
        raise ValueError(f"a {size}x{size} patch does not fit in {H}x{W} with margin {margin}")
    g = torch.Generator().manual_seed(seed)
    n = torch.randint(0, N, (num_patches,), generator=g)
    r = torch.randint(margin, hi_r + 1, (num_patches,), generator=g)
    c = torch.randint(margin, hi_c + 1, (num_patches,), generator=g)
    offsets = torch.arange(size)
    rows = (r[:, None] + offsets)[:, :, None]  # (P, size, 1)
    cols = (c[:, None] + offsets)[:, None, :]  # (P, 1, size)
    patches = x[n[:, None, None], 0, rows, cols]  # (P, size, size)
    return patches.reshape(num_patches, size * size).to(torch.uint8)  # (P, size*size)


def downsample_binary(x: torch.Tensor, size: int, threshold: float = 0.5) -> torch.Tensor:
    """Shrink binary images ``(N, 1, H, W)`` to ``(N, 1, size, size)``: average, then threshold."""
    pooled = torch.nn.functional.adaptive_avg_pool2d(x.float(), size)  # (N, 1, size, size)
    return (pooled > threshold).float()


def colour_digits(x: torch.Tensor, levels: int = 4, seed: int = 0) -> torch.Tensor:
    """Colour digits: each binary digit ``(N, 1, H, W)`` painted with its own random foreground
    and background colour, every channel one of ``levels`` values. Returns ``(N, 3, H, W)``
    float of integers in 0..levels-1, for a colour PixelCNN with p(R) p(G | R) p(B | R, G).

    The two colours of an image differ in at least one channel (else the digit would vanish);
    they may agree in the others, so one channel alone does not always show the digit.
    """
    if x.dim() != 4 or x.shape[1] != 1 or not ((x == 0) | (x == 1)).all():
        raise ValueError(f"x must be binary images (N, 1, H, W), got {tuple(x.shape)}")
    if not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an int >= 2, got {levels!r}")
    g = torch.Generator().manual_seed(seed)
    N = len(x)
    fg = torch.randint(0, levels, (N, 3), generator=g)  # (N, 3) foreground colour
    bg = torch.randint(0, levels, (N, 3), generator=g)  # (N, 3) background colour
    same = (fg == bg).all(1)
    while same.any():  # redraw the backgrounds that equal their foreground
        bg[same] = torch.randint(0, levels, (int(same.sum()), 3), generator=g)
        same = (fg == bg).all(1)
    fg, bg = fg.float()[:, :, None, None], bg.float()[:, :, None, None]  # float first: no int64 copy
    return torch.where(x.bool(), fg, bg)  # (N, 3, H, W)



GRAYSCALE_SPLIT = (8_000, 1_000, 1_000)  # train, valid, test of the 10,000 grayscale digits


def grayscale_digits(levels: int = 256, seed: int = 0, data_dir=None, download: bool = True,
                     progress: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Multi-level digits: the grayscale MNIST test set (the only grayscale digits here), split
    by a seeded permutation into 8,000 training, 1,000 validation and 1,000 test images, each
    ``(N, 1, 28, 28)`` float of integer levels 0..levels-1 (256: the file's own 8-bit values;
    fewer: the 256 values in ``levels`` equal bands)."""
    levels = check_size("levels", levels, minimum=2, maximum=256)
    x, _ = load_mnist_test(data_dir, download, progress)  # (10000, 1, 28, 28) in [0, 1]
    x8 = torch.round(x * 255)  # the file's 8-bit values 0..255, exactly
    x = torch.div(x8 * levels, 256, rounding_mode="floor")  # 0..levels-1
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    n_train, n_valid, _ = GRAYSCALE_SPLIT
    return (x[order[:n_train]], x[order[n_train:n_train + n_valid]],
            x[order[n_train + n_valid:]])

def two_rings(num: int, noise: float = 0.08, seed: int = 0) -> torch.Tensor:
    """A small real-valued dataset: points on two concentric rings (radii 1 and 2), ``(num, 2)``.

    Given x_1, the conditional p(x_2 | x_1) has up to four separate modes (the rings cross each
    vertical line twice): a single Gaussian cannot fit it, a mixture can.
    """
    g = torch.Generator().manual_seed(seed)
    radius = 1.0 + torch.randint(0, 2, (num,), generator=g).float()  # (num,) 1 or 2
    angle = 2 * torch.pi * torch.rand(num, generator=g)
    x = torch.stack([radius * angle.cos(), radius * angle.sin()], 1)  # (num, 2)
    return x + noise * torch.randn(num, 2, generator=g)



def two_moons(num: int, noise: float = 0.1, seed: int = 0) -> torch.Tensor:
    """Two interleaved half-circles (scikit-learn's ``make_moons``), centred: ``(num, 2)``.

    The upper moon is the half-circle of radius 1 around (0, 0), the lower one the same turned
    over and moved to (1, 0.5); Gaussian noise of std ``noise`` is added, and the whole set is
    shifted by (-0.5, -0.25) so that it sits around the origin. A curved, two-part shape that no
    single affine map of a Gaussian can produce (lecture 07's first flow learns it live).
    """
    num = check_size("num", num)
    g = torch.Generator().manual_seed(seed)
    angle = torch.pi * torch.rand(num, generator=g)                    # (num,) along a moon
    lower = torch.randint(0, 2, (num,), generator=g).bool()            # which moon
    x = torch.stack([angle.cos(), angle.sin()], 1)                     # (num, 2) upper moon
    x = torch.where(lower[:, None], torch.stack([1 - x[:, 0], 0.5 - x[:, 1]], 1), x)
    return x + noise * torch.randn(num, 2, generator=g) - torch.tensor([0.5, 0.25])


def two_moons_log_prob(x: torch.Tensor, noise: float = 0.1, num_angles: int = 2000) -> torch.Tensor:
    """The exact density of ``two_moons`` data, log p(x), ``(N,)``, by quadrature over the angle:

        p(x) = 1/2 sum_moon (1/pi) int_0^pi N(x; c_moon(a), noise^2 I) da

    with the midpoint rule on ``num_angles`` angles per moon (the integrand is smooth: for the
    default noise the rule is exact to far below 1e-6 nats)."""
    num_angles = check_size("num_angles", num_angles)
    angle = torch.pi * (torch.arange(num_angles, dtype=x.dtype) + 0.5) / num_angles
    upper = torch.stack([angle.cos(), angle.sin()], 1)                 # (A, 2)
    centres = torch.cat([upper, torch.stack([1 - upper[:, 0], 0.5 - upper[:, 1]], 1)])
    centres = centres - torch.tensor([0.5, 0.25], dtype=x.dtype)       # (2A, 2)
    # log N(x; c, s^2 I) = -|x - c|^2 / (2 s^2) - log(2 pi s^2)
    out = torch.empty(len(x), dtype=x.dtype)
    for i in range(0, len(x), 1024):                                   # (1024, 2A) at a time
        log_n = -torch.cdist(x[i:i + 1024], centres).pow(2) / (2 * noise ** 2)
        out[i:i + 1024] = torch.logsumexp(log_n, 1)
    return out - math.log(2 * math.pi * noise ** 2) - math.log(2 * num_angles)

def pack_bits(x: torch.Tensor) -> torch.Tensor:
    """Binary images (N, 1, 28, 28) -> uint8 (N, 98), 8 pixels a byte (as the data file)."""
    return torch.from_numpy(np.packbits(x.view(len(x), -1).byte().numpy(), axis=1))


def unpack_bits(packed: torch.Tensor) -> torch.Tensor:
    bits = np.unpackbits(packed.numpy(), axis=1)[:, :784]
    return torch.from_numpy(bits.astype(np.float32)).view(-1, 1, 28, 28)

