"""A query runner in a child process, so a runaway query can be stopped from outside.

chronolake has no statement timeout yet, so the parent (:class:`Runner`) waits for each
answer at most ``timeout_s`` seconds and kills the child when it is late or when the disk's
free space falls below a floor (a query spilling to disk); the next query gets a fresh child.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Rows = list[tuple[Any, ...]]
STARTUP_S = 300


def vm_hwm(pid: int | str = "self") -> int:
    """Peak RSS (VmHWM) of process ``pid``, 0 when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _serve(conn: Any, opener: Callable[[], Any]) -> None:
    """Child: open an engine with ``opener``, then answer ``("query", sql)`` requests with
    ``("ok", seconds, rows)`` or ``("error", text)``; first says ``("ready",)``."""
    # the engine's progress bar (on stdout, not switchable in chronolake) would garble the report
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    engine = opener()
    conn.send(("ready",))
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            break
        try:
            t0 = time.perf_counter()
            rows = [tuple(r) for r in engine.execute(msg[1]).fetchall()]
            conn.send(("ok", time.perf_counter() - t0, rows))
        except Exception as e:  # reported to the parent, which records the query as failed
            conn.send(("error", f"{type(e).__name__}: {e}"))
    engine.close()


class Late(Exception):
    """The query did not answer in time (or was stopped before it filled the disk)."""


class Runner:
    """Runs queries in a child process opened with ``opener`` (a picklable callable)."""

    def __init__(
        self,
        opener: Callable[[], Any],
        timeout_s: float,
        watch: Path,
        min_free_bytes: int,
        spill_dirs: tuple[Path, ...] = (),
    ) -> None:
        self.opener = opener
        self.timeout_s = timeout_s
        self.watch = watch
        self.min_free = min_free_bytes
        self.spill_dirs = spill_dirs
        self.peak_rss = 0
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._conn: Any = None

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_serve, args=(child, self.opener), daemon=True)
        self._proc.start()
        self._conn = parent
        # the child's start (imports, opening the engine) is not the query's time
        try:
            ready = parent.poll(STARTUP_S) and parent.recv()[0] == "ready"
        except EOFError:  # the opener failed: the child is gone
            ready = False
        if not ready:
            self._kill()
            raise RuntimeError(f"the query process did not start within {STARTUP_S} s")

    def _kill(self) -> None:
        if self._proc is not None:
            self.peak_rss = max(self.peak_rss, vm_hwm(self._proc.pid))
            self._proc.kill()
            self._proc.join()
        self._proc = self._conn = None
        for d in self.spill_dirs:  # a killed engine leaves its spill files behind
            if d.exists():
                shutil.rmtree(d, ignore_errors=True)

    def _ask(self, msg: tuple[Any, ...], timeout_s: float) -> tuple[Any, ...]:
        if self._proc is None:
            self._start()
        self._conn.send(msg)
        deadline = time.monotonic() + timeout_s
        while not self._conn.poll(0.2):
            self.peak_rss = max(self.peak_rss, vm_hwm(self._proc.pid))
            if not self._proc.is_alive():
                self._proc = self._conn = None
                return ("error", "the query process died (out of memory?)")
            if shutil.disk_usage(self.watch).free < self.min_free:
                self._kill()
                raise Late("stopped: free disk space fell below the floor (spilling)")
            if time.monotonic() > deadline:
                self._kill()
                raise Late(f"timeout after {timeout_s:.0f} s")
        reply: tuple[Any, ...] = self._conn.recv()
        return reply

    def query(self, sql: str) -> tuple[float, Rows]:
        """Seconds and rows of ``sql``; raises :class:`Late` or ``RuntimeError`` (its error)."""
        reply = self._ask(("query", sql), self.timeout_s)
        if reply[0] == "error":
            raise RuntimeError(reply[1])
        return reply[1], reply[2]

    def close(self) -> None:
        if self._proc is not None:
            self.peak_rss = max(self.peak_rss, vm_hwm(self._proc.pid))
            self._conn.send(("stop",))
            self._proc.join(60)
            self._kill()
