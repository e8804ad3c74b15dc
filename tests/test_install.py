"""The package as Colab and pip users get it: a wheel, installed (not editable) into a fresh
virtual environment, imports from site-packages, ships its checkpoints and corpora, loads data
from GM_DATA_DIR, and by default keeps its data in the per-user cache, never in site-packages.

The fresh environment reuses this one's installed dependencies (torch, numpy, ...) through a
``.pth`` line instead of downloading them again: the wheel itself is installed with ``--no-deps``,
and its declared dependencies are checked from its metadata.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from gm_helpers.training.checkpoint import CHECKPOINT_DIR
from tests.helpers import REPO

CHECK = r'''
import json, os, sys
from pathlib import Path
import gm_helpers
from gm_helpers import data
from gm_helpers.training.checkpoint import CHECKPOINT_DIR, load_shipped
package = Path(gm_helpers.__file__).resolve().parent
model, entry = load_shipped("nade.pt")
out = {
    "package": str(package),
    "checkpoints": sorted(p.name for p in CHECKPOINT_DIR.iterdir()),
    "prose_chars": len(data.load_course_prose()),
    "nade_params": sum(p.numel() for p in model.parameters()),
    "nade_nll": entry["test_nll"],
    "default_data_dir": str(data.default_data_dir()),
}
os.environ.pop("GM_DATA_DIR", None)
out["data_dir"] = str(data.data_dir())
os.environ["GM_DATA_DIR"] = sys.argv[1]
out["test_shape"] = list(data.load_binarized_mnist("test", download=False, progress=False).shape)
print(json.dumps(out))
'''


@pytest.mark.slow  # about 40 s: a wheel of 40 MB of checkpoints, a fresh virtual environment
def test_a_wheel_installed_in_a_fresh_venv_works_outside_the_checkout(tmp_path, real_data_dir):
    # built from a copy of what the wheel is made of, so that the build writes nothing here
    source, wheels = tmp_path / "source", tmp_path / "wheels"
    shutil.copytree(REPO / "gm_helpers", source / "gm_helpers",
                    ignore=shutil.ignore_patterns("__pycache__", "*.run.pt"))
    for path in [REPO / "pyproject.toml", REPO / "README.md", *REPO.glob("LICENSE*")]:
        shutil.copy(path, source)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source)], check=True, cwd=tmp_path,
                   capture_output=True)
    (wheel,) = wheels.glob("gm_helpers-*.whl")

    # what pip would install on Colab: no JupyterLab, no kernel, unless the `lab` extra is asked for
    with zipfile.ZipFile(wheel) as z:
        meta = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()
        names = z.namelist()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines()
                if line.startswith("Requires-Dist:")]
    plain = [r for r in requires if "extra ==" not in r]
    assert not [r for r in plain if r.lower().startswith(("jupyterlab", "ipykernel", "pytest"))], plain
    assert any(r.startswith("jupyterlab") and 'extra == "lab"' in r for r in requires), requires
    assert "gm_helpers/corpora/course_prose.txt" in names and "gm_helpers/py.typed" in names
    assert not [n for n in names if n.endswith(".run.pt")]  # a run's resumable state stays out

    venv = tmp_path / "venv"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}  # no checkout
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, env=clean)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.run([str(python), "-c", purelib], check=True, capture_output=True,
                               text=True, env=clean).stdout.strip())
    # this environment's dependencies, appended after the new site-packages (its .pth files, the
    # editable install's finder among them, are not run: the checkout stays invisible)
    (site / "reuse_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, env=clean)

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([str(python), "-c", CHECK, str(real_data_dir)], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(got["package"]).is_relative_to(site.resolve())  # not the checkout
    shipped = sorted(p.name for p in CHECKPOINT_DIR.iterdir()
                     if p.suffix in (".pt", ".json") and not p.name.endswith(".run.pt"))
    assert got["checkpoints"] == shipped
    assert got["prose_chars"] == 149_194 and got["nade_params"] > 0 and got["nade_nll"] > 0
    cache = str(tmp_path / "cache" / "gm_helpers")
    assert got["default_data_dir"] == got["data_dir"] == cache  # the per-user cache folder ...
    assert not Path(cache).is_relative_to(site.resolve())        # ... not inside site-packages
    assert not (site / "data").exists()
    assert got["test_shape"] == [10_000, 1, 28, 28]              # GM_DATA_DIR still wins
