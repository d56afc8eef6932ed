"""Run the tests that kill or race child processes many times while every core is kept busy.

Usage: .venv/bin/python tests/flake_check.py [--runs 20] [--busy N] [pytest node ids ...]

Starts N busy-loop processes (default: one per core), runs the selected tests (default: the
kill and concurrency tests) ``--runs`` times in a row with pytest, stops at the first failure,
and always stops the busy processes it started. Prints one line per run and a summary; exits 1
if any run failed. See tests/README.md, "Flake check".
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TESTS = [
    "tests/crash/test_kill_writer.py",
    "tests/maintenance/test_kill_compaction.py",
    "tests/maintenance/test_purge_crash.py",
    "tests/maintenance/test_purge_orphans.py",
    "tests/maintenance/test_compaction_concurrency.py",
    "tests/maintenance/test_policy.py",
    "tests/concurrency/test_four_writers.py",
]
BUSY_LOOP = "while True: pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 2)
    parser.add_argument("tests", nargs="*", default=DEFAULT_TESTS)
    args = parser.parse_args()
    # SIGTERM unwinds through ``finally`` too, so the busy loops never outlive this process
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.busy)]
    print(f"busy loops: pids {[p.pid for p in busy]}", flush=True)
    failed = run = 0
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()  # reported only; nothing is decided by it
            res = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.tests],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            tail = res.stdout.strip().splitlines()[-1] if res.stdout.strip() else ""
            print(f"run {run}: exit {res.returncode} in {time.monotonic() - started:.0f}s: {tail}")
            sys.stdout.flush()
            if res.returncode != 0:
                failed += 1
                print(res.stdout[-5000:], res.stderr[-2000:])
                break
    finally:
        for p in busy:
            p.kill()
            p.wait()
        print(f"stopped busy loops {[p.pid for p in busy]}")
    print(f"{run - failed} of {run} runs passed" if failed else f"all {run} runs passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
