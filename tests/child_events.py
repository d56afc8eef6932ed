"""Lock-step control of a child process, for the tests that kill or race one.

The child reports each step as one JSON line on stdout and then waits for a line on stdin
(``step``); the parent reads the report (``Child.next_event``) and either lets the child go on
(``Child.resume``) or SIGKILLs it where it stands (``Child.kill``). The parent decides from the
reports alone, so where a child dies depends on a seed and never on how fast the machine is.

The only timer is ``SAFETY_TIMEOUT_S``: a child that reports nothing for that long has hung,
and the test fails saying so. It never decides what a test checks.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

SAFETY_TIMEOUT_S = 600.0
TESTS_DIR = Path(__file__).resolve().parent


# -- child side ----------------------------------------------------------------------------


def report(event: dict[str, Any]) -> None:
    """Print one event line (flushed) without waiting."""
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def step(event: dict[str, Any]) -> None:
    """Report ``event`` and wait until the parent resumes us (or kills us right here)."""
    report(event)
    if not sys.stdin.readline():
        raise SystemExit("the parent closed stdin")


# -- parent side ---------------------------------------------------------------------------


class Child:
    """A child script run with stdin/stdout pipes; its stderr goes to ``log``."""

    def __init__(self, script: Path, args: list[str], log: Path) -> None:
        self.log = log
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p
        )
        with log.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(script), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=env,
            )
        self._lines: queue.Queue[str | None] = queue.Queue()
        # a reader thread, so that waiting for a line can have a safety timeout
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _stderr(self) -> str:
        return self.log.read_text()[-3000:]

    def next_event(self) -> dict[str, Any]:
        """The next event the child reports; fails clearly if it exits or hangs instead."""
        try:
            line = self._lines.get(timeout=SAFETY_TIMEOUT_S)
        except queue.Empty:
            raise AssertionError(
                f"the child reported nothing for {SAFETY_TIMEOUT_S:.0f}s (hung?); "
                f"its stderr:\n{self._stderr()}"
            ) from None
        if line is None:
            rc = self.wait()
            raise AssertionError(
                f"the child exited (code {rc}) instead of reporting; its stderr:\n{self._stderr()}"
            )
        try:
            event: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"the child printed a line that is no event: {line!r}") from None
        return event

    def resume(self) -> None:
        self.send("")

    def send(self, command: str) -> None:
        """Write one line to the child (``resume`` sends an empty one)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL the child (paused where it last reported) and wait until it is gone."""
        self.proc.send_signal(signal.SIGKILL)
        rc = self.wait()
        assert rc == -signal.SIGKILL, (
            f"the child ended with {rc} before the kill:\n{self._stderr()}"
        )

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=SAFETY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the child did not exit within {SAFETY_TIMEOUT_S:.0f}s; "
                f"its stderr:\n{self._stderr()}"
            ) from None

    def close(self) -> None:
        """Make sure the child is gone and its pipes are closed (call in ``finally``)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(SAFETY_TIMEOUT_S)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MAX_EVENTS = 2000  # a child that never reaches its kill point is a bug in the test


def kill_at(
    script: Path,
    args: list[str],
    log: Path,
    target: tuple[str, str],
    skip: int,
    point: Callable[[dict[str, Any]], str],
) -> list[dict[str, Any]]:
    """Run ``script`` in lock step and SIGKILL it at the ``skip``+1-th step ``target`` =
    (kind of operation, ``point`` of the event) it reports; returns its events, the last one
    being where it died. An event with ``start`` names the kind of the operation it begins."""
    events: list[dict[str, Any]] = []
    kind = None
    with Child(script, args, log) as child:
        for _ in range(MAX_EVENTS):
            ev = child.next_event()
            events.append(ev)
            if "start" in ev:
                kind = ev["start"]["kind"]
            if (kind, point(ev)) == target:
                if skip == 0:
                    child.kill()
                    return events
                skip -= 1
            child.resume()
    raise AssertionError(f"{script.name} never reached {target} in {MAX_EVENTS} steps")
