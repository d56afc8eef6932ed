"""A ``chronolake shell`` process for test_shell_cancel.py: the same shell, whose connection
also writes ``RUNNING`` on stderr whenever a statement becomes stoppable (the test's signal
that a SIGINT now lands on a running statement)."""

from __future__ import annotations

import os
import sys
from typing import Any

import chronolake
from chronolake.cli.main import cli

_connect = chronolake.connect


def _on_step(name: str) -> None:
    if name == "statement.run":
        os.write(2, b"RUNNING\n")


def _connect_with_hook(*args: Any, **kw: Any) -> chronolake.Connection:
    return _connect(*args, **kw, settings=chronolake.Settings(on_step=_on_step))


chronolake.connect = _connect_with_hook
cli(["shell", "--lake", sys.argv[1]])
