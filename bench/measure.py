"""Timing, answer checks and machine facts."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

Rows = list[tuple[Any, ...]]


class Mismatch(AssertionError):
    """A system's answer differs from plain's: the benchmark fails."""


def timed(fn: Callable[[], Rows], reps: int) -> tuple[float, float, Rows]:
    """Median and max seconds of ``reps`` runs after one warm-up, and the answer."""
    answer = fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), answer


def timed_interleaved(fns: list[Callable[[], Rows]], reps: int) -> list[tuple[float, float, Rows]]:
    """:func:`timed` for several functions at once, their runs taking turns (a, b, a, b, ...),
    so a ratio between them does not move with the machine's load over time."""
    answers = [fn() for fn in fns]
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(reps):
        for fn, ts in zip(fns, times, strict=True):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
    return [(statistics.median(ts), max(ts), a) for ts, a in zip(times, answers, strict=True)]


def check(expected: Rows, got: Rows, what: str) -> None:
    """Equal row by row; floats equal to the cent."""
    if len(expected) != len(got):
        raise Mismatch(f"{what}: {len(got)} rows, plain has {len(expected)}")
    for e, g in zip(expected, got, strict=True):
        if len(e) != len(g):
            raise Mismatch(f"{what}: row {g} vs plain {e}")
        for a, b in zip(e, g, strict=True):
            if isinstance(a, float) or isinstance(b, float):
                if a is None or b is None or abs(float(a) - float(b)) >= 0.005:
                    raise Mismatch(f"{what}: {g} vs plain {e}")
            elif a != b:
                raise Mismatch(f"{what}: {g} vs plain {e}")


def peak_rss_bytes(children: bool = False) -> int:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss * 1024  # Linux reports KiB


def vm_hwm_bytes() -> int:
    """This process's own peak RSS (VmHWM), which, unlike getrusage, starts anew at exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return peak_rss_bytes()


def machine() -> dict[str, str]:
    import duckdb
    import pyarrow

    from bench.systems import deltalake_version

    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "?"
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": f"{os.cpu_count()} x {model}",
        "ram": ram,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
        "deltalake": deltalake_version() or "not installed",
    }
