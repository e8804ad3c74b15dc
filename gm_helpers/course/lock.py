"""The lock files: exact versions for CI and Binder, so that nbval's comparisons do not drift with
upstream releases.

    make lock                                 # newest releases pyproject allows into .venv, then:
    python -m gm_helpers.course lock          # write both files from this environment
    python -m gm_helpers.course lock --check  # exit 1 if they differ from what it would write
    python -m gm_helpers.course lock --extras # pyproject's extras: dev,lab,...

``requirements/ci.txt``: every distribution that the package and all its extras need (the
dependency closure of pyproject.toml's lists, walked through the installed distributions' metadata;
whatever else is installed is left out), at the version installed here. ``make install`` (and so
CI) installs with it as a constraints file: ``pip install -e ".[dev,lab]" -c requirements/ci.txt``.

``binder/requirements.txt``: the closure of the runtime dependencies and the ``lab`` extra only, at
the same versions, with torch and torchvision as the PyTorch index's CPU builds (``X+cpu``: Binder
has no GPU, and the CPU wheels need none of the CUDA packages). repo2docker installs it, then
``binder/postBuild`` installs the package itself with ``--no-deps``.
"""
from __future__ import annotations

import argparse
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from gm_helpers.course import hosting

REPO = hosting.REPO
CI_LOCK = REPO / "requirements" / "ci.txt"
BINDER_LOCK = REPO / "binder" / "requirements.txt"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CPU_BUILDS = ("torch", "torchvision")  # locked as X+cpu for Binder
# what only torch's CUDA wheels require (Linux); the CPU wheels Binder installs need none of it
CUDA_ONLY = ("nvidia-", "cuda-", "triton")

CI_HEADER = """\
# Exact versions for CI: .ci/run -> make install -> pip install -e ".[dev,lab]" -c requirements/ci.txt
# (a constraints file: it pins whatever is installed, and installs nothing by itself).
# Written by `make lock` (python -m gm_helpers.course lock): the dependency closure of every list
# in pyproject.toml, at the versions installed when it ran; torch as PyPI serves it. To re-lock
# (a release you want, a new dependency): run `make lock`, run the tests, commit this file and
# binder/requirements.txt. Do not edit by hand; tests/course/test_lock.py keeps it within
# pyproject's ranges.
"""

BINDER_HEADER = f"""\
# mybinder.org builds the lectures' environment from this folder (repo2docker): this file, then
# postBuild, which installs the package itself (--no-deps: everything it needs is here) and
# downloads the data. No `-e .` here: it would make repo2docker copy the repository before this
# step and so reinstall torch on every commit.
# Exact versions, written by `make lock` (python -m gm_helpers.course lock) together with
# requirements/ci.txt: the closure of the runtime dependencies and the `lab` extra, at the
# versions CI tests, with the CPU builds of torch and torchvision (Binder has no GPU; the CUDA
# build is ~5 GB). For the same release, pip prefers the index's "+cpu" build.
--extra-index-url {CPU_INDEX}
"""


class LockError(RuntimeError):
    """The environment cannot be locked: a dependency is missing or outside pyproject's range."""


def pyproject_requirements(path: Path = REPO / "pyproject.toml") -> dict[str, list[str]]:
    """pyproject.toml's dependency lists: ``{"": runtime, "dev": [...], "lab": [...], ...}``."""
    project = tomllib.loads(Path(path).read_text())["project"]
    return {"": list(project.get("dependencies", [])),
            **{extra: list(reqs) for extra, reqs in project.get("optional-dependencies", {}).items()}}


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name
    return canonicalize_name(name)


def _applies(marker, extras) -> bool:
    return marker is None or any(marker.evaluate({"extra": extra}) for extra in ({""} | set(extras)))


def closure(top: list[str], cpu: bool = False) -> dict[str, tuple[str, str]]:
    """``{canonical name: (name, installed version)}`` of every distribution that the requirement
    strings ``top`` need, here (markers evaluated for this interpreter and platform). ``cpu``: leave
    out what only torch's CUDA wheels require. Raises LockError when one is missing or its
    installed version is outside a range that asks for it."""
    from packaging.requirements import Requirement

    found: dict[str, tuple[str, str]] = {}
    extras: dict[str, set[str]] = {}
    queue = [(req, "pyproject.toml") for req in map(Requirement, top) if _applies(req.marker, ())]
    while queue:  # each requirement queued has a marker that holds (checked with its parent's extras)
        req, parent = queue.pop()
        name = _canonical(req.name)
        if name == "gm-helpers":
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise LockError(f"{req.name} (required by {parent}) is not installed here: install the "
                            f"package with all its extras first (make lock does)") from None
        if not req.specifier.contains(dist.version, prereleases=True):
            raise LockError(f"{req.name} {dist.version} is installed, but {parent} requires {req}")
        wanted = set(req.extras)
        if name in found and wanted <= extras[name]:
            continue
        found[name] = (dist.metadata["Name"], dist.version)
        extras.setdefault(name, set()).update(wanted)
        for line in dist.requires or []:
            sub = Requirement(line)
            if not _applies(sub.marker, extras[name]):
                continue
            if cpu and name == "torch" and _canonical(sub.name).startswith(CUDA_ONLY):
                continue
            queue.append((sub, f"{dist.metadata['Name']} {dist.version}"))
    return found


def _public(version: str) -> str:
    from packaging.version import Version
    return Version(version).public


def ci_text(lists: dict[str, list[str]] | None = None) -> str:
    lists = pyproject_requirements() if lists is None else lists
    locked = closure([req for reqs in lists.values() for req in reqs])
    return CI_HEADER + "".join(f"{name}=={version}\n" for _, (name, version) in sorted(locked.items()))


def binder_text(lists: dict[str, list[str]] | None = None) -> str:
    lists = pyproject_requirements() if lists is None else lists
    locked = closure(lists[""] + lists.get("lab", []), cpu=True)
    lines = []
    for key, (name, version) in sorted(locked.items()):
        version = _public(version) + "+cpu" if key in CPU_BUILDS else version
        lines.append(f"{name}=={version}\n")
    return BINDER_HEADER + "".join(lines)


def read_lock(text: str) -> dict[str, str]:
    """``{canonical name: version}`` of a lock file's ``name==version`` lines (options, comments
    and blank lines skipped); a line that is not an exact pin raises ValueError."""
    from packaging.version import InvalidVersion, Version

    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name, sep, version = line.partition("==")
        try:
            if not sep or any(c in name for c in "<>=!~;[ ") or version != version.strip():
                raise InvalidVersion
            Version(version)  # "2.4.0; python_version<'3.12'" is not one
        except InvalidVersion:
            raise ValueError(f"not an exact pin name==version: {line!r}") from None
        pins[_canonical(name)] = version
    return pins


def out_of_lock(requirements: list[str], pins: dict[str, str]) -> list[str]:
    """What is wrong between pyproject's requirement strings and a lock's pins: each requirement
    the lock lacks, or pins at a version outside the requirement's range ([] if none)."""
    from packaging.requirements import Requirement

    problems = []
    for line in requirements:
        req = Requirement(line)
        name = _canonical(req.name)
        if name not in pins:
            problems.append(f"{req.name}: not in the lock")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req.name}: locked at {pins[name]}, outside {req}")
    return problems


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course lock",
                                description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if a lock file differs from what it would write")
    p.add_argument("--extras", action="store_true",
                   help="print pyproject's extras, comma-separated (make lock installs them all)")
    args = p.parse_args(argv)
    if args.extras:
        print(",".join(extra for extra in pyproject_requirements() if extra))
        return
    try:
        texts = {CI_LOCK: ci_text(), BINDER_LOCK: binder_text()}
    except LockError as err:
        sys.exit(f"cannot lock: {err}")
    stale = [path for path, text in texts.items() if not path.exists() or path.read_text() != text]
    if args.check:
        if stale:
            sys.exit("stale against this environment: " + ", ".join(str(p.relative_to(REPO)) for p in stale)
                     + "\nrun: make lock (or python -m gm_helpers.course lock)")
        print("the lock files match this environment")
        return
    for path, text in texts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO)} ({sum(1 for _ in read_lock(text))} pins)")


if __name__ == "__main__":
    main()
