"""What the Makefile computes, on Linux, macOS and Windows alike: the test workers' thread count
(os.sched_getaffinity exists on Linux only). The notebook runner's memory measurement is tested
in tests/course/test_notebooks.py."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.helpers import REPO

THREADS = re.search(r'^THREADS := \$\(shell \$\(PYTHON\) -c "(.*)"\)$',
                    (REPO / "Makefile").read_text(), re.MULTILINE)


def threads_with(**os_functions) -> str:
    """The Makefile's THREADS expression, run in a fresh Python whose ``os`` module has only
    ``os_functions`` (name -> value returned), as a platform without the others would."""
    fake = "; ".join(f"fake.{name} = lambda *a: {value!r}" for name, value in os_functions.items())
    code = ("import sys, types\nfake = types.ModuleType('os')\n" + (fake or "pass") + "\n"
            "sys.modules['os'] = fake\n" + THREADS.group(1))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_makefile_computes_threads_in_one_python_expression():
    assert THREADS, "Makefile: THREADS := $(shell $(PYTHON) -c \"...\") not found"


@pytest.mark.parametrize("os_functions, threads", [
    ({"process_cpu_count": 6, "sched_getaffinity": {0, 1}, "cpu_count": 64}, "3"),  # Python 3.13+
    ({"sched_getaffinity": {0, 1, 2, 3}, "cpu_count": 64}, "2"),                   # Linux, 3.10-3.12
    ({"cpu_count": 8}, "4"),                                                       # macOS, Windows
    ({"cpu_count": 1}, "1"),
    ({"cpu_count": None}, "1"),                                                    # unknown: one
])
def test_threads_falls_back_where_the_platform_lacks_a_call(os_functions, threads):
    assert threads_with(**os_functions) == threads


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux: the cores this process may use")
def test_threads_here_is_half_the_usable_cores():
    code = THREADS.group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(max(1, len(os.sched_getaffinity(0)) // 2))


@pytest.mark.skipif(shutil.which("make") is None, reason="no make here")
def test_make_evaluates_threads(tmp_path):
    out = subprocess.run(["make", "-n", "-p", "-f", str(REPO / "Makefile"), "clean"], cwd=REPO,
                         capture_output=True, text=True, env={**os.environ, "PYTHON": sys.executable})
    assert re.search(r"^THREADS := [1-9]\d*$", out.stdout, re.MULTILINE), out.stderr[-2000:]
