"""The notebook runner's one fix to nbclient's waiting: kernel messages are polled in slices."""
import asyncio
import concurrent.futures
import time
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from gm_helpers.course import notebooks


def run_coroutine(coroutine):
    """asyncio.run in a thread of its own: a test that ran before in this worker (a browser
    driven through Playwright's sync API) may have left an event loop running in this one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def fake_channel(monkeypatch):
    """AsyncZMQSocketChannel.get_msg replaced by a fake whose message is 'ready' only after
    three polls, however long each poll waits: what a missed wake-up looks like."""
    calls = []

    async def fake(self, timeout=None):
        calls.append(timeout)
        if len(calls) < 4:
            await asyncio.sleep(min(timeout, 0.01))
            raise Empty
        return {"msg_id": "reply"}

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", fake)
    monkeypatch.setattr(notebooks, "POLL_SLICE_S", 0.05)
    notebooks.poll_in_slices()
    return calls


def test_a_long_wait_is_polled_in_short_slices(fake_channel):
    """A 600-s wait (nbclient's cell timeout) becomes polls of one slice each: a message that a
    poll missed is picked up by the next one, not after ten minutes."""
    msg = run_coroutine(AsyncZMQSocketChannel.get_msg(object(), timeout=600))
    assert msg == {"msg_id": "reply"} and len(fake_channel) == 4
    assert all(t == 0.05 for t in fake_channel)


def test_the_timeout_still_ends_the_wait(monkeypatch):
    async def never(self, timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    monkeypatch.setattr(AsyncZMQSocketChannel, "get_msg", never)
    monkeypatch.setattr(notebooks, "POLL_SLICE_S", 0.05)
    notebooks.poll_in_slices()
    notebooks.poll_in_slices()   # applying it twice changes nothing
    start = time.monotonic()
    with pytest.raises(Empty):
        run_coroutine(AsyncZMQSocketChannel.get_msg(object(), timeout=0.3))
    assert 0.25 < time.monotonic() - start < 1.0


@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/status").exists(), reason="Linux only")
def test_trace_memory_names_the_cell_that_allocates(tmp_path):
    import nbformat
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("big = bytearray(300 * 2**20)  # 300 MiB\\n"
                                  "big[::4096] = b'x' * len(big[::4096])  # every page touched"),
        nbformat.v4.new_code_cell("y = 2")])
    nbformat.write(nb, tmp_path / "t.ipynb")
    result = notebooks.trace_memory(tmp_path / "t.ipynb", timeout=60)
    assert [r["cell"] for r in result["rises"] if r["rise_mb"] > 250] == [1]
    assert result["peak_mb"] > 300


# ----------------------------------------------------------------------------- portability
@pytest.mark.parametrize("platform, maxrss, mb", [("linux", 1_536 * 1024, 1536),   # KiB
                                                  ("darwin", 1_536 * 2**20, 1536),  # bytes
                                                  ("freebsd14", 512 * 1024, 512)])
def test_maxrss_is_read_in_the_platforms_unit(platform, maxrss, mb):
    assert notebooks.maxrss_mb(maxrss, platform) == mb


def test_usage_of_the_children_and_not_measured_without_getrusage():
    class FakeRusage:  # what resource.getrusage returns, on Linux: ru_maxrss in KiB
        RUSAGE_CHILDREN = -1

        @staticmethod
        def getrusage(who):
            assert who == -1
            return type("Usage", (), {"ru_utime": 1.25, "ru_stime": 0.5, "ru_maxrss": 2048 * 1024})

    assert notebooks.children_usage(FakeRusage) == {
        "cpu_s": 1.8, "peak_mb": notebooks.maxrss_mb(2048 * 1024)}  # 2048 on Linux
    assert notebooks.children_usage(None) == {"cpu_s": None, "peak_mb": None}


def test_the_runner_imports_and_reports_not_measured_where_there_is_no_resource_module():
    """Windows has no ``resource`` module: the runner still imports, and says "not measured"."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['resource'] = None\n"  # import resource -> ImportError
            "from gm_helpers.course import notebooks\n"
            "assert notebooks.resource is None\n"
            "print(notebooks.children_usage())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "{'cpu_s': None, 'peak_mb': None}"


def test_trace_memory_says_not_measured_without_proc(tmp_path, monkeypatch):
    import nbformat
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
                   tmp_path / "t.ipynb")
    monkeypatch.setattr(notebooks, "PROC", tmp_path / "no_proc")
    with pytest.raises(OSError, match="not measured"):
        notebooks.trace_memory(tmp_path / "t.ipynb", timeout=60)
    with pytest.raises(SystemExit, match="not measured"):
        notebooks.main(["--trace-memory", str(tmp_path / "t.ipynb")])
