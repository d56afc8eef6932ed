"""``chronolake shell``: an interactive SQL prompt; a statement ends with ``;``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console

import chronolake

from .options import LakeTarget, client_session, format_option, lake_options
from .output import Format, make_console, print_cursor, print_error
from .statements import split_statements

PROMPT = "chronolake> "
CONTINUE = "->".rjust(len(PROMPT) - 1) + " "
HISTORY_FILE = Path("~/.chronolake_history")
LEAVE = {"exit", "quit", r"\q"}
CANCEL_REPEAT_S = 0.05  # how often Ctrl-C asks a statement that is not stoppable yet to stop


@click.command()
@lake_options
@format_option
def shell(lake: LakeTarget, fmt: Format) -> None:
    """Interactive SQL; end each statement with ';', leave with exit, quit or Ctrl-D. Ctrl-C
    cancels the running statement (or drops the one being typed). A transaction still open
    when the shell ends is rolled back."""
    console = make_console()
    interactive = sys.stdin.isatty()
    with client_session(lake) as con, _line_history(interactive):
        if interactive:
            console.print(
                f"chronolake shell on {lake.shown} (tenant {lake.tenant}). "
                "End statements with ';'.",
                markup=False,
            )
        buffer = ""
        while True:
            try:
                line = input(CONTINUE if buffer else PROMPT)
            except EOFError:
                click.echo()
                break
            except KeyboardInterrupt:
                # Ctrl-C drops the statement being typed, as in psql.
                click.echo()
                buffer = ""
                continue
            if not interactive:
                # Piped input: echo it after the prompt so the output reads as a session.
                click.echo(line)
            if not buffer and line.strip().rstrip(";").strip().lower() in LEAVE:
                break
            statements, buffer = split_statements(buffer + line + "\n")
            for statement in statements:
                _run(con, statement, fmt, console)
        if buffer.strip():
            _run(con, buffer.strip(), fmt, console)


def _run(con: chronolake.Connection, statement: str, fmt: Format, console: Console) -> None:
    """Run one statement; whatever goes wrong is printed and the shell goes on."""
    try:
        print_cursor(_execute(con, statement), fmt, console)
    except chronolake.Error as e:
        print_error(e)
    except KeyboardInterrupt:
        print_error("statement interrupted (Ctrl-C)")
    except Exception as e:  # a bug must not end the session: say so and go on
        print_error(f"internal error ({type(e).__name__}: {e}): please report it")


def _execute(con: chronolake.Connection, statement: str) -> chronolake.Cursor:
    """Run a statement on a worker thread, so that Ctrl-C (always delivered to the main
    thread, which waits here) cancels it instead of ending the shell."""
    done = threading.Event()
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append(con.execute(statement))
        except BaseException as e:  # handed to the main thread
            outcome.append(e)
        finally:
            done.set()

    worker = threading.Thread(target=work, name="chronolake-shell-statement", daemon=True)
    try:
        worker.start()
        done.wait()
    except KeyboardInterrupt:
        _cancel(con, done)
    worker.join()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return cast(chronolake.Cursor, outcome[0])


def _cancel(con: chronolake.Connection, done: threading.Event) -> None:
    """Cancel until the statement has ended: it may not be stoppable yet (still being
    parsed) or no longer (committing, which then finishes); a second Ctrl-C changes nothing."""
    while not done.is_set():
        try:
            con.cancel()
            done.wait(CANCEL_REPEAT_S)
        except KeyboardInterrupt:
            continue


@contextmanager
def _line_history(enabled: bool) -> Iterator[None]:
    """Keep input lines in ~/.chronolake_history across sessions (only on a terminal)."""
    if not enabled:
        yield
        return
    try:
        import readline
    except ImportError:  # not on every platform
        yield
        return
    path = HISTORY_FILE.expanduser()
    with suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)
    try:
        yield
    finally:
        with suppress(OSError):
            readline.write_history_file(path)
