"""One validation of sizes, counts and command-line values, shared by every model and command.

A course's tools must never turn a bad input into a silent wrong result: a model that accepts a
size of 0, a sampler asked for -3 images, a learning rate of 0 or a gradient clip of -1 either
crash later with a message about torch's internals or, worse, produce numbers that look fine.
Every constructor, sampler and command line checks its inputs here, and the message names the
argument, what it got and what is allowed.

    check_size("hidden", hidden)                  # an int >= 1 (a NumPy integer is fine)
    check_size("num_layers", n, minimum=0)
    check_kernel("kernel_size", k)                # odd and >= 1: the centre must exist
    check_num_samples(num_samples)                # 0 <= n <= MAX_SAMPLES
    p.add_argument("--lr", type=arg_float(low=0, low_open=True))    # argparse types
"""
from __future__ import annotations

import argparse
import math
import operator
import os
import tempfile
from pathlib import Path

# A sampler asked for more than this many images at once is almost certainly a mistake (an
# exponent, a stray zero): 10^6 binary 28x28 images are 3 GB as float32.
MAX_SAMPLES = 1_000_000


class InvalidArgument(ValueError, TypeError):
    """A size, count or value out of its allowed range or of the wrong type. Both a ValueError
    and a TypeError, so ``except ValueError`` catches it whichever it is."""


def _allowed(minimum: int, maximum: int | None) -> str:
    return f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"


def check_size(name: str, value, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer size or count in ``[minimum, maximum]``: ints and NumPy/torch integers; not
    bools, floats or strings. Returns a plain ``int``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)      # int, numpy.int64, a 0-d integer tensor
    except TypeError:
        raise InvalidArgument(f"{name} must be an integer {_allowed(minimum, maximum)}, got "
                              f"{value!r} ({type(value).__name__})") from None
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidArgument(f"{name} must be an integer {_allowed(minimum, maximum)}, "
                              f"got {number}")
    return number


def check_sizes(name: str, values, minimum: int = 1, allow_empty: bool = False) -> list[int]:
    """A list of sizes (e.g. hidden layers), each ``>= minimum``."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InvalidArgument(f"{name} must be a list of integers, got {values!r}")
    values = [check_size(f"{name}[{i}]", v, minimum) for i, v in enumerate(values)]
    if not values and not allow_empty:
        raise InvalidArgument(f"{name} must not be empty")
    return values


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise InvalidArgument(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_kernel(name: str, value, minimum: int = 1) -> int:
    """An odd kernel size ``>= minimum``: a masked kernel needs a centre pixel."""
    value = check_size(name, value, minimum)
    if value % 2 == 0:
        raise InvalidArgument(f"{name} must be odd (a masked kernel needs a centre), got {value}")
    return value


def check_num_samples(value, name: str = "num_samples") -> int:
    """How many samples to draw: an integer from 0 to ``MAX_SAMPLES``."""
    return check_size(name, value, minimum=0, maximum=MAX_SAMPLES)


def check_no_nan(name: str, values):
    """``values`` (a tensor or array) without NaN, returned unchanged; a ValueError naming ``name``
    and the count otherwise. Infinities pass: log 0 = -inf is a legitimate log-probability."""
    import torch  # here, so that the command line's argument checks load without torch

    tensor = torch.as_tensor(values)
    count = int(tensor.isnan().sum()) if tensor.is_floating_point() else 0
    if count:
        raise InvalidArgument(f"{name} holds {count} NaN value(s): a NaN here means a bug upstream "
                              f"(a diverged model, a 0/0); find it rather than average it away")
    return values


def check_float(name: str, value, minimum: float | None = None, open_low: bool = False) -> float:
    """A finite real number (not a bool, not NaN or infinite), ``> minimum`` if ``open_low``
    else ``>= minimum``."""
    if isinstance(value, bool) or isinstance(value, (str, bytes)):
        raise InvalidArgument(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidArgument(f"{name} must be finite, got {number}")
    if minimum is not None and (number < minimum or (open_low and number == minimum)):
        raise InvalidArgument(f"{name} must be a number {'>' if open_low else '>='} {minimum}, "
                              f"got {number}")
    return number


# ----------------------------------------------------------------------------- argparse types
def arg_int(minimum: int = 1, maximum: int | None = None):
    """An argparse ``type``: an integer in ``[minimum, maximum]``, with a message that says so."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def arg_float(low: float | None = None, high: float | None = None, low_open: bool = False,
              high_open: bool = False):
    """An argparse ``type``: a finite number in the given interval."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bad = not math.isfinite(value) or (low is not None and (
            value < low or (low_open and value == low))) or (high is not None and (
                value > high or (high_open and value == high)))
        if bad:
            interval = (f"{'(' if low_open else '['}{'-inf' if low is None else low}, "
                        f"{'inf' if high is None else high}{')' if high_open else ']'}")
            raise argparse.ArgumentTypeError(f"must be a finite number in {interval}, got {text}")
        return value
    parse.__name__ = "number"
    return parse


def check_output_path(out) -> Path:
    """Before a run starts: ``out`` must be a file path whose folder can be created and written
    (a run of hours must not fail when it saves)."""
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name, e.g. {out / 'model.pt'}")
    if out.suffix != ".pt":
        raise ValueError(f"--out {out} should end in .pt (its run file is written beside it as "
                         f"{out.stem}.run.pt)")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out.parent):
            pass
    except OSError as err:
        raise ValueError(f"--out {out}: cannot write in {out.parent} ({err.strerror or err}); "
                         f"choose a writable folder") from None
    if out.exists() and not os.access(out, os.W_OK):
        raise ValueError(f"--out {out} exists and is not writable")
    return out
