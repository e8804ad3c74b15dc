"""Shared set-up for the unit tests: offline data, a headless plotting backend, small fixtures.

The tests never touch the network. The data come from ``$GM_DATA_DIR``, else the repository's
``data/`` folder; a test that needs them is skipped, saying so, when neither holds them.
"""
import os
import urllib.request
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from tests.helpers import REPO  # noqa: E402

# tiny models: one thread is fastest, and a busy 2-core machine makes thread pools crawl
torch.set_num_threads(1)


def _real_data_dir() -> Path:
    return Path(os.environ.get("GM_DATA_DIR") or REPO / "data")


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The folder holding the real offline data (skips the test when it is absent)."""
    root = _real_data_dir()
    if not (root / "binarized_mnist.npz").exists():
        pytest.skip(f"no offline data in {root}: set GM_DATA_DIR")
    return root


@pytest.fixture(scope="session")
def binarized_test(real_data_dir) -> torch.Tensor:
    """The binarized MNIST test split, (10000, 1, 28, 28) float32."""
    from gm_helpers.data import load_binarized_mnist
    return load_binarized_mnist("test", real_data_dir, download=False, progress=False)


@pytest.fixture(scope="session")
def binarized_valid(real_data_dir) -> torch.Tensor:
    from gm_helpers.data import load_binarized_mnist
    return load_binarized_mnist("valid", real_data_dir, download=False, progress=False)


@pytest.fixture(scope="session")
def binarized_train(real_data_dir) -> torch.Tensor:
    from gm_helpers.data import load_binarized_mnist
    return load_binarized_mnist("train", real_data_dir, download=False, progress=False)


@pytest.fixture(scope="session")
def mnist_test(real_data_dir):
    """Grayscale MNIST test images (10000, 1, 28, 28) in [0, 1] and their labels."""
    from gm_helpers.data import load_mnist_test
    return load_mnist_test(real_data_dir, download=False, progress=False)


@pytest.fixture(scope="session")
def train_images_subset(binarized_train) -> torch.Tensor:
    """5,000 training images: enough for patch statistics, cheap to crop."""
    return binarized_train[:5000]


@pytest.fixture(scope="session")
def test_images_subset(binarized_test) -> torch.Tensor:
    """Every fifth test image (the split is sorted by label, so this keeps all digits)."""
    return binarized_test[::5]


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test opened, so they do not pile up."""
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Tests never download: urlopen serves file:// URLs only and fails loudly on anything else."""
    real_urlopen = urllib.request.urlopen

    def local_only(url, *args, **kwargs):
        full = url if isinstance(url, str) else url.full_url
        # file:// URLs, and the browser suite's own JupyterLab on this machine, only
        if not full.startswith(("file:", "http://127.0.0.1:")):
            raise AssertionError(f"a test tried to reach the network: {full}")
        return real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)
