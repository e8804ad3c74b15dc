"""The lock files: CI's and Binder's exact versions cover pyproject's dependencies, inside its ranges."""
from importlib import metadata

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from gm_helpers.course import lock

LISTS = lock.pyproject_requirements()
CI = lock.read_lock(lock.CI_LOCK.read_text())
BINDER = lock.read_lock(lock.BINDER_LOCK.read_text())


def test_ci_lock_covers_every_dependency_inside_its_range():
    """Every list of pyproject.toml (runtime and every extra) is pinned in requirements/ci.txt at
    a version its range admits."""
    assert lock.out_of_lock([req for reqs in LISTS.values() for req in reqs], CI) == []
    assert set(LISTS) >= {"", "dev", "lab"}


def test_binder_lock_is_the_runtime_and_lab_closure_with_cpu_torch():
    """Binder pins the runtime and `lab` lists inside their ranges, torch and torchvision as the
    CPU builds of the versions CI tests, no CUDA package, and every pin is at CI's version."""
    assert lock.out_of_lock(LISTS[""] + LISTS["lab"], BINDER) == []
    assert BINDER["torch"] == Version(CI["torch"]).public + "+cpu"
    assert BINDER["torchvision"] == Version(CI["torchvision"]).public + "+cpu"
    assert f"--extra-index-url {lock.CPU_INDEX}" in lock.BINDER_LOCK.read_text().splitlines()
    assert not [name for name in BINDER if name.startswith(lock.CUDA_ONLY)]
    assert {name: v for name, v in BINDER.items() if name not in lock.CPU_BUILDS} == \
        {name: CI[name] for name in BINDER if name not in lock.CPU_BUILDS}
    assert "pytest" not in BINDER and "ruff" not in BINDER  # the dev tools stay out


def test_the_lock_check_catches_a_missing_pin_and_a_version_out_of_range():
    pins = {"numpy": "1.26.4", "torch": "2.1.0"}
    assert lock.out_of_lock(["numpy>=1.24", "torch>=2.2", "tqdm>=4.60"], pins) == [
        "torch: locked at 2.1.0, outside torch>=2.2", "tqdm: not in the lock"]
    assert lock.out_of_lock(["ipykernel>=6.29,<7"], {"ipykernel": "7.0.1"}) == [
        "ipykernel: locked at 7.0.1, outside ipykernel<7,>=6.29"]


@pytest.mark.parametrize("line", ["numpy>=1.24", "numpy", "-e .", "torch==2.4.0; python_version<'3.12'"])
def test_a_lock_line_that_is_not_an_exact_pin_is_refused(line):
    text = f"# comment\n--extra-index-url https://example.org/simple\n{line}\n"
    if line.startswith("-"):
        assert lock.read_lock(text) == {}  # options are not pins, and are skipped
    else:
        with pytest.raises(ValueError, match="not an exact pin"):
            lock.read_lock(text)


def test_this_environment_has_the_locked_versions():
    """make install (and so CI) installs with requirements/ci.txt as constraints: whatever of the
    lock is installed here is at the locked version (a stale .venv: run make install)."""
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    drift = {name: (version, installed[name]) for name, version in CI.items()
             if name in installed and installed[name] != version}
    assert drift == {}, f"installed versions differ from requirements/ci.txt: {drift}"


def test_the_closure_follows_extras_and_markers_and_refuses_what_is_missing():
    """jupyter-events needs jsonschema[format-nongpl], whose extra pulls in webcolors; a missing
    distribution, or an installed one outside a range, is a LockError naming it."""
    found = lock.closure(["jupyter-events"])
    assert {"jsonschema", "webcolors", "rfc3987-syntax"} <= set(found)
    assert "rich" not in found  # jupyter-events[cli] was not asked for
    assert lock.closure(["colorama; sys_platform == 'nonexistent'"]) == {}
    with pytest.raises(lock.LockError, match="no-such-distribution-here"):
        lock.closure(["no-such-distribution-here>=1"])
    with pytest.raises(lock.LockError, match="numpy .* is installed, but pyproject.toml requires numpy<1"):
        lock.closure(["numpy<1"])


def test_the_lock_files_name_how_to_relock():
    for path in (lock.CI_LOCK, lock.BINDER_LOCK):
        assert "make lock" in path.read_text().split("\n\n")[0]
