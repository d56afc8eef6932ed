"""Child process of test_purge_crash.py: runs a cleanup, one deleted file at a time, until it
is killed.

Usage: python cleaner.py LAKE_SPEC NOW_ISO   (LAKE_SPEC: a lake_forms.LakeSpec as JSON)

Reports {"deleted": PATH} after each file it removed from disk and waits for a line on stdin
(child_events.step), so the parent kills it after exactly the deletions it chose. Marks are
recorded in the catalog two at a time (cleanup.BATCH), so a kill after an odd number of
deletions leaves one file deleted whose mark was not recorded.
"""

from __future__ import annotations

import datetime as dt
import sys

from child_events import report, step
from lake_forms import LakeSpec

from chronolake.maintenance import cleanup as cleanup_module

mod = sys.modules["chronolake.maintenance.cleanup"]


def main() -> None:
    lake, now_iso = sys.argv[1], sys.argv[2]
    now = [dt.datetime.fromisoformat(now_iso)]

    def clock() -> dt.datetime:
        now[0] += dt.timedelta(milliseconds=1)
        return now[0]

    mod.BATCH = 2
    with LakeSpec.from_arg(lake).connect(clock=clock) as con:
        cleanup_module(con, on_deleted=lambda path: step({"deleted": path}))
    report({"finished": True})


if __name__ == "__main__":
    main()
