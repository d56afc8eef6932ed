"""Stopping a running statement: its timeout (STATEMENT_TIMEOUT_IN_SECONDS) or a cancel().

A connection's ``StatementGuard`` is active while one of its statements runs. It is
*interruptible* from the statement's start up to its commit point: the executor calls
``commit_point()`` just before the catalog commit, which raises if the statement was stopped
and otherwise makes it immune, so a catalog commit is never cut half-way (a deadline that
passes during the commit is ignored: the statement finishes).

One daemon thread per process (``_Watchdog``) waits for the nearest deadline of all running
statements. Stopping a statement records why and interrupts its DuckDB connection; DuckDB
forgets an interrupt that arrives between two of its queries, so the watchdog repeats it
every ``REPEAT_S`` seconds until the statement has stopped.
"""

from __future__ import annotations

import threading
import time

import duckdb

from chronolake.errors import StatementCanceled, StatementTimeout

REPEAT_S = 0.05  # how often an interrupt is repeated until the statement has stopped
MAX_TIMEOUT_S = 604_800  # Snowflake's largest STATEMENT_TIMEOUT_IN_SECONDS (7 days); 0 means it
CANCELED = "SQL execution canceled."


def timeout_message(seconds: int) -> str:
    return (
        f"Statement reached its statement or warehouse timeout of {seconds} second(s) and "
        "was canceled."
    )


class _Watchdog:
    """The thread that fires deadlines and repeats interrupts for every guard of the process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._guards: set[StatementGuard] = set()
        self._thread: threading.Thread | None = None
        self._wake = float("inf")  # when the thread wakes next (monotonic clock)

    def watch(self, guard: StatementGuard) -> None:
        with self._cond:
            self._guards.add(guard)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="chronolake-watchdog", daemon=True
                )
                self._thread.start()
            if guard.due_at < self._wake:  # most statements end long before anything is due
                self._cond.notify()

    def forget(self, guard: StatementGuard) -> None:
        with self._cond:
            self._guards.discard(guard)

    def poke(self) -> None:
        with self._cond:
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while True:
                self._cond.wait(self._tick())

    def _tick(self) -> float | None:
        """Fire what is due; the seconds to the next deadline (a function, so that the idle
        thread holds no guard, hence no engine, at interpreter exit)."""
        now = time.monotonic()
        for guard in list(self._guards):
            if guard.due_at <= now:
                guard.fire(now)
        wake = [g.due_at for g in self._guards if g.interruptible]
        self._wake = min(wake, default=float("inf"))
        return max(0.0, self._wake - now) if wake else None


_WATCHDOG = _Watchdog()


class StatementGuard:
    """Stops one connection's running statement, from a timer or from another thread."""

    def __init__(self, duck: duckdb.DuckDBPyConnection) -> None:
        self.duck = duck  # the session's engine (ALTER SESSION SET TIMEZONE sets a new one)
        self._lock = threading.Lock()
        self.active = False
        self.interruptible = False
        self.due_at = float("inf")
        self.reason: str | None = None  # "timeout" or "cancel" once the statement is stopped
        self.timeout_s = 0

    def start(self, timeout_s: int) -> None:
        """A statement starts: it stops after ``timeout_s`` seconds unless it ends first."""
        with self._lock:
            self.active = self.interruptible = True
            self.reason = None
            self.timeout_s = timeout_s
            self.due_at = time.monotonic() + timeout_s
        _WATCHDOG.watch(self)

    def cancel(self) -> bool:
        """Stop the running statement (from any thread); False if none is running."""
        with self._lock:
            if not (self.active and self.interruptible):
                return False
            if self.reason is None:
                self.reason = "cancel"
            self.due_at = time.monotonic()
        _WATCHDOG.poke()
        return True

    def fire(self, now: float) -> None:
        """The watchdog's call once ``due_at`` has passed: stop the statement (again)."""
        with self._lock:
            if not (self.active and self.interruptible):
                return
            if self.reason is None:
                self.reason = "timeout"
            self.due_at = now + REPEAT_S
            self.duck.interrupt()

    def error(self) -> StatementCanceled:
        if self.reason == "timeout":
            return StatementTimeout(timeout_message(self.timeout_s))
        return StatementCanceled(CANCELED)

    def stopped(self) -> StatementCanceled | None:
        """What a failed statement reports instead of its error if it was stopped (whatever
        the interrupt made fail): its timeout or cancel error; else None."""
        return None if self.reason is None else self.error()

    def commit_point(self) -> None:
        """From here on the statement is never interrupted; raises if it already was."""
        with self._lock:
            self.interruptible = False
            if self.reason is not None:
                raise self.error()

    def resume(self) -> None:
        """A commit lost a conflict and the statement runs again: interruptible again."""
        with self._lock:
            self.interruptible = self.active
        _WATCHDOG.poke()

    def finish(self) -> None:
        """The statement has ended (either way): nothing interrupts the engine any more."""
        with self._lock:
            self.active = self.interruptible = False
            self.due_at = float("inf")
        _WATCHDOG.forget(self)
