"""The one timing method of the lectures: CPU time, one thread, the fastest of a few repeats."""
import time

import pytest
import torch

from gm_helpers.analysis.timing import cpu_time, one_thread


def test_cpu_time_is_the_fastest_repeat_of_processor_work():
    calls = []

    def busy():  # about 20 ms of work the first time, 5 ms after
        calls.append(1)
        end = time.process_time() + (0.02 if len(calls) == 1 else 0.005)
        while time.process_time() < end:
            pass

    t = cpu_time(busy, repeats=3)
    assert len(calls) == 3 and 0.004 <= t < 0.015


def test_cpu_time_does_not_count_waiting():
    assert cpu_time(lambda: time.sleep(0.05), repeats=1) < 0.02   # the clock ran, the CPU did not


def test_one_thread_restores_the_thread_count_even_after_an_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), one_thread():
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("fn, repeats, error", [(None, 3, TypeError), (lambda: 0, 0, ValueError),
                                                 (lambda: 0, 1.5, TypeError)])
def test_bad_arguments_are_named(fn, repeats, error):
    with pytest.raises(error, match="fn|repeats"):
        cpu_time(fn, repeats)
