"""Ctrl-C in ``chronolake shell``: a real SIGINT to a shell process cancels the running
statement, and the shell goes on with the next one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("shell_child.py")
ENDLESS = (
    "SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 1000000000000000)) g WHERE SEQ8() < 0;\n"
)
SAFETY_TIMEOUT_S = 600.0  # a hung child fails the test; it never decides what is checked


def test_sigint_cancels_the_running_statement_and_the_shell_goes_on(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(tmp_path / "lake")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None and proc.stderr is not None
        proc.stdin.write(ENDLESS)
        proc.stdin.flush()
        seen = []
        for line in proc.stderr:  # wait until the statement is stoppable
            seen.append(line)
            if line == "RUNNING\n":
                break
        assert seen[-1:] == ["RUNNING\n"], seen
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate("SELECT 'after' AS x;\n", timeout=SAFETY_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Error: SQL execution canceled." in err
    assert "after" in out
