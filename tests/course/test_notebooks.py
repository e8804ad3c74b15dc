"""The notebook runner's one fix to nbclient's waiting: kernel messages are polled in slices."""
import asyncio
import time
from queue import Empty

import pytest
from jupyter_client.channels import AsyncZMQSocketChannel

from gm_helpers.course import notebooks


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
    msg = asyncio.run(AsyncZMQSocketChannel.get_msg(object(), timeout=600))
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
        asyncio.run(AsyncZMQSocketChannel.get_msg(object(), timeout=0.3))
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
