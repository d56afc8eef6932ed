"""Child process of test_purge_crash.py: runs cleanup slowly until it is killed.

Usage: python cleaner.py LAKE NOW_ISO

Prints {"deleted": PATH} (flushed) after each file it removed from disk, then sleeps a little,
so the parent can SIGKILL it in the middle of a cleanup.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import chronolake
from chronolake.maintenance import cleanup as cleanup_module

mod = sys.modules["chronolake.maintenance.cleanup"]


def main() -> None:
    lake, now_iso = sys.argv[1], sys.argv[2]
    now = [dt.datetime.fromisoformat(now_iso)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(milliseconds=1)
        return now[0]

    real = mod._unlink

    def slow_unlink(path: Path) -> None:
        real(path)
        sys.stdout.write(json.dumps({"deleted": str(path)}) + "\n")
        sys.stdout.flush()
        time.sleep(0.3)

    mod._unlink = slow_unlink
    mod.BATCH = 2
    with chronolake.connect(lake, clock=clock) as con:
        cleanup_module(con)
    sys.stdout.write(json.dumps({"finished": True}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
